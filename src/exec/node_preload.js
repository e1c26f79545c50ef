// Loaded by `awsguard exec` into Node.js programs through NODE_OPTIONS=--require.
//
// Node's https and http2 modules ignore HTTPS_PROXY, and so does the AWS SDK for JavaScript v3
// with its default handlers. This sends their TLS connections through the proxy named by
// HTTPS_PROXY (awsguard) with CONNECT, except for hosts NO_PROXY lists. Agents and sessions that
// bring their own connection function (a proxy agent, for one) are left alone.
'use strict';

(function awsguardPreload() {
  const net = require('net');
  const tls = require('tls');
  const https = require('https');
  const http2 = require('http2');
  const { Duplex } = require('stream');

  const raw = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!raw) return;
  let proxy;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch (_) {
    return;
  }
  if (proxy.protocol !== 'http:') return;
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(proxy.port || 80);

  const bypass = (process.env.NO_PROXY || process.env.no_proxy || '')
    .split(',')
    .map((e) => e.trim().toLowerCase().replace(/\.$/, '').replace(/^\*?\./, ''))
    .filter((e) => e.length > 0);

  function proxied(host) {
    const name = String(host || '').toLowerCase().replace(/\.$/, '');
    if (!name) return false;
    return !bypass.some((e) => e === '*' || name === e || name.endsWith(`.${e}`));
  }

  // A stream to host:port through the proxy, usable at once: writes wait for the proxy's 200,
  // and its answer head is never passed on.
  function tunnel(host, port) {
    const socket = net.connect(proxyPort, proxyHost);
    let ready = false;
    let pending = [];
    let head = Buffer.alloc(0);
    const stream = new Duplex({
      write(chunk, encoding, callback) {
        if (ready) socket.write(chunk, callback);
        else pending.push([chunk, callback]);
      },
      read() {
        socket.resume();
      },
      final(callback) {
        socket.end();
        callback();
      },
      destroy(error, callback) {
        socket.destroy();
        callback(error);
      },
    });
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    socket.setNoDelay(true);
    // `exec --attach` names its run in the proxy URL's user; the proxy reads it from here.
    const auth = proxy.username
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : '';
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    socket.on('data', (chunk) => {
      if (ready) {
        if (!stream.push(chunk)) socket.pause();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) stream.destroy(new Error('awsguard: proxy answer too large'));
        return;
      }
      const line = head.toString('latin1', 0, end).split('\r\n')[0];
      if (!/^HTTP\/1\.[01] 2\d\d/.test(line)) {
        stream.destroy(new Error(`awsguard: proxy refused CONNECT ${target}: ${line}`));
        return;
      }
      ready = true;
      const rest = head.subarray(end + 4);
      for (const [c, callback] of pending) socket.write(c, callback);
      pending = [];
      if (rest.length > 0 && !stream.push(rest)) socket.pause();
    });
    socket.on('end', () => stream.push(null));
    socket.on('error', (error) => stream.destroy(error));
    stream.proxySocket = socket;
    return stream;
  }

  // TLS over the tunnel. An agent unrefs its idle keep-alive sockets so the program can exit;
  // that must reach the proxy connection underneath, or the program waits for it to close.
  function secureTunnel(host, port, options) {
    const inner = tunnel(host, port);
    const secure = tls.connect({ ...options, socket: inner });
    const unref = secure.unref.bind(secure);
    const ref = secure.ref.bind(secure);
    secure.unref = () => {
      inner.proxySocket.unref();
      return unref();
    };
    secure.ref = () => {
      inner.proxySocket.ref();
      return ref();
    };
    return secure;
  }

  const originalCreateConnection = https.Agent.prototype.createConnection;
  https.Agent.prototype.createConnection = function createConnection(options, ...rest) {
    const opts = options && typeof options === 'object' ? options : null;
    const host = opts && (opts.host || opts.hostname);
    if (!opts || !proxied(host)) return originalCreateConnection.call(this, options, ...rest);
    const port = Number(opts.port || 443);
    const servername = opts.servername || (net.isIP(host) ? undefined : host);
    return secureTunnel(host, port, { ...opts, servername });
  };

  // A request that brings its own `createConnection` and no agent (the npm `ws` client does, to
  // open its TLS socket itself) never reaches the agent patched above: its own function still
  // makes the connection, given a tunnel through the proxy as the socket to run TLS over.
  const originalRequest = https.request;
  https.request = function request(...args) {
    const opts = args.find((a) => a && typeof a === 'object' && !(a instanceof URL));
    const host = opts && (opts.host || opts.hostname);
    if (opts && typeof opts.createConnection === 'function' && opts.agent == null && proxied(host)) {
      const own = opts.createConnection;
      const port = Number(opts.port || 443);
      opts.createConnection = (options, ...rest) =>
        own({ ...options, socket: tunnel(host, port) }, ...rest);
    }
    return originalRequest.apply(this, args);
  };

  const originalConnect = http2.connect;
  http2.connect = function connect(authority, options, listener) {
    if (typeof options === 'function') {
      listener = options;
      options = {};
    }
    options = options || {};
    let url;
    try {
      url = typeof authority === 'string' || authority instanceof URL
        ? new URL(authority)
        : new URL(`${authority.protocol || 'https:'}//${authority.host || authority.hostname}:${authority.port || 443}`);
    } catch (_) {
      return originalConnect.call(this, authority, options, listener);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.protocol !== 'https:' || options.createConnection || !proxied(host)) {
      return originalConnect.call(this, authority, options, listener);
    }
    const port = Number(url.port || 443);
    const servername = options.servername || (net.isIP(host) ? undefined : host);
    const createConnection = () =>
      secureTunnel(host, port, { ...options, servername, ALPNProtocols: ['h2'] });
    return originalConnect.call(this, authority, { ...options, createConnection }, listener);
  };

  // ES modules importing { connect } from 'http2' see the patched functions too.
  require('module').syncBuiltinESMExports();
})();

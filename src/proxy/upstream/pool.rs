//! Idle upstream connections, kept per route (host, port) so that later requests, and later
//! client connections, reuse them instead of paying for a new TLS handshake.
//!
//! An intercepted client connection looks its route up once, when it starts; its requests then
//! check a connection out of the route and back in when the response body ends: two uncontended
//! lock/unlock pairs on a short list, no hashing, no per-request task. Keeping a connection
//! pinned to one client connection instead would cost a whole upstream connection for every idle
//! client connection, and keep it from the others.
//!
//! Bounds: at most `max_idle` idle connections per route (a surplus one is closed); none is handed
//! out after `idle_timeout` idle, and a sweeper task, every `idle_timeout`, closes those and
//! forgets unused routes (so nothing stays open past twice that). The sweeper runs only while
//! there are routes, and stops at once when the pool is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::connect::{Conn, H2Conn};

/// How many connections may wait, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    pub(crate) idle_timeout: Duration,
    pub(crate) max_idle: usize,
}

/// The routes with their idle connections, shared by all client connections.
pub(crate) struct Pool {
    limits: PoolLimits,
    routes: Mutex<Routes>,
    /// Never sent on: the sweeper sees it closed when the pool is dropped, and stops.
    alive: watch::Sender<()>,
}

struct Routes {
    map: HashMap<(String, u16), Arc<Route>>,
    sweeping: bool,
}

/// One upstream host and port, and its idle connections (most recently used last).
pub(crate) struct Route {
    host: String,
    port: u16,
    limits: PoolLimits,
    idle: Mutex<Vec<Idle>>,
    /// The route's HTTP/2 connection, shared by all its calls, and when a call last took it.
    h2: Mutex<Option<(H2Conn, Instant)>>,
    /// What the upstream chose by ALPN on the last dial: [`PROTOCOL_UNKNOWN`], `_HTTP1`, `_HTTP2`.
    protocol: AtomicU8,
    /// Held while dialing a route that may speak HTTP/2, so a burst of calls opens one shared
    /// connection rather than one each.
    dialing: tokio::sync::Mutex<()>,
}

/// No dial yet: whether the upstream speaks HTTP/2 is not known.
pub(crate) const PROTOCOL_UNKNOWN: u8 = 0;
/// The upstream chose HTTP/1.1: calls dial their own connections concurrently.
pub(crate) const PROTOCOL_HTTP1: u8 = 1;
/// The upstream chose HTTP/2: calls share one connection.
pub(crate) const PROTOCOL_HTTP2: u8 = 2;

struct Idle {
    conn: Conn,
    since: Instant,
}

/// A poisoned lock only means another thread panicked mid-update of a plain list: keep going.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    pub(crate) fn new(limits: PoolLimits) -> Arc<Pool> {
        Arc::new(Pool {
            limits,
            routes: Mutex::new(Routes {
                map: HashMap::new(),
                sweeping: false,
            }),
            alive: watch::Sender::new(()),
        })
    }

    /// The route to `host:port`, created if needed. Called once per client connection.
    pub(crate) fn route(self: &Arc<Self>, host: &str, port: u16) -> Arc<Route> {
        let mut routes = lock(&self.routes);
        let route = routes
            .map
            .entry((host.to_owned(), port))
            .or_insert_with(|| {
                Arc::new(Route {
                    host: host.to_owned(),
                    port,
                    limits: self.limits,
                    idle: Mutex::new(Vec::new()),
                    h2: Mutex::new(None),
                    protocol: AtomicU8::new(PROTOCOL_UNKNOWN),
                    dialing: tokio::sync::Mutex::new(()),
                })
            })
            .clone();
        if !routes.sweeping {
            if let Ok(runtime) = Handle::try_current() {
                routes.sweeping = true;
                let interval = self.limits.idle_timeout.max(Duration::from_millis(10));
                runtime.spawn(sweeper(
                    Arc::downgrade(self),
                    self.alive.subscribe(),
                    interval,
                ));
            }
        }
        route
    }

    /// Closes expired idle connections and forgets routes nobody uses; says whether any route is
    /// left (the sweeper stops when none is).
    fn sweep(&self) -> bool {
        let now = Instant::now();
        let mut routes = lock(&self.routes);
        routes.map.retain(|_, route| {
            let idle = route.expire(now);
            idle > 0 || Arc::strong_count(route) > 1
        });
        routes.sweeping = !routes.map.is_empty();
        routes.sweeping
    }
}

async fn sweeper(pool: Weak<Pool>, mut alive: watch::Receiver<()>, interval: Duration) {
    loop {
        tokio::select! {
            // Nothing is ever sent: this resolves when the pool is dropped.
            _ = alive.changed() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match pool.upgrade() {
            Some(pool) if pool.sweep() => {}
            _ => return,
        }
    }
}

impl Route {
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The most recently used idle connection that can take a request now, if any.
    /// The shared HTTP/2 connection, if one is open and not idle past the timeout.
    pub(crate) fn shared_h2(&self) -> Option<H2Conn> {
        let mut h2 = lock(&self.h2);
        match h2.as_mut() {
            Some((conn, used))
                if !conn.sender.is_closed() && used.elapsed() < self.limits.idle_timeout =>
            {
                *used = Instant::now();
                Some(conn.clone())
            }
            _ => {
                *h2 = None;
                None
            }
        }
    }

    /// What the last dial negotiated.
    pub(crate) fn protocol(&self) -> u8 {
        self.protocol.load(AtomicOrdering::Acquire)
    }

    /// Notes what a dial negotiated.
    pub(crate) fn set_protocol(&self, protocol: u8) {
        self.protocol.store(protocol, AtomicOrdering::Release);
    }

    /// The lock a dial that may share its connection takes.
    pub(crate) fn dialing(&self) -> &tokio::sync::Mutex<()> {
        &self.dialing
    }

    /// Makes `conn` the route's shared HTTP/2 connection.
    pub(crate) fn share_h2(&self, conn: H2Conn) {
        *lock(&self.h2) = Some((conn, Instant::now()));
    }

    pub(crate) fn checkout(&self) -> Option<Conn> {
        let mut idle = lock(&self.idle);
        while let Some(entry) = idle.pop() {
            if entry.since.elapsed() >= self.limits.idle_timeout {
                // Most recent last: the ones below have waited longer still.
                idle.clear();
                return None;
            }
            if entry.conn.sender.is_ready() {
                return Some(entry.conn);
            }
        }
        None
    }

    /// Takes back a connection whose response has ended. One still finishing its exchange (the
    /// rest of a request body an early response did not wait for) is watched by a task until it
    /// is ready or closed; a closed one is dropped.
    pub(crate) fn check_in(self: Arc<Self>, mut conn: Conn) {
        if conn.sender.is_ready() {
            return self.push(conn);
        }
        if conn.sender.is_closed() {
            return;
        }
        if let Ok(runtime) = Handle::try_current() {
            runtime.spawn(async move {
                if conn.sender.ready().await.is_ok() {
                    self.push(conn);
                }
            });
        }
    }

    fn push(&self, conn: Conn) {
        let since = Instant::now();
        let mut idle = lock(&self.idle);
        if idle.len() < self.limits.max_idle {
            idle.push(Idle { conn, since });
        }
    }

    /// Drops idle connections that waited too long or closed; returns how many are left.
    fn expire(&self, now: Instant) -> usize {
        let mut h2 = lock(&self.h2);
        if h2.as_ref().is_some_and(|(conn, used)| {
            conn.sender.is_closed() || now.duration_since(*used) >= self.limits.idle_timeout
        }) {
            *h2 = None;
        }
        let shared = usize::from(h2.is_some());
        drop(h2);
        let mut idle = lock(&self.idle);
        idle.retain(|entry| {
            now.duration_since(entry.since) < self.limits.idle_timeout
                && !entry.conn.sender.is_closed()
        });
        idle.len() + shared
    }
}

/// Routes are named in logs and `ConnInfo`'s `Debug`; their connections are not.
impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::Empty;
    use hyper_util::rt::TokioIo;
    use tokio::task::JoinHandle;

    use super::*;
    use crate::proxy::upstream::UpstreamTls;

    /// A ready connection over `client`, one end of an in-memory pipe, said to use TLS `version`.
    pub(in crate::proxy::upstream) async fn ready_conn(
        client: tokio::io::DuplexStream,
        version: &str,
    ) -> Conn {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(client))
            .await
            .unwrap();
        tokio::spawn(connection);
        sender.ready().await.unwrap();
        let tls = Arc::new(UpstreamTls {
            version: version.into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
        });
        Conn { sender, tls }
    }

    /// A ready connection to an in-memory HTTP/1.1 server, and the server's task (abort it to
    /// close the connection from the server side).
    async fn conn() -> (Conn, JoinHandle<()>) {
        let (client, server) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            let service = hyper::service::service_fn(|_| async {
                Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new()))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server), service)
                .await;
        });
        (ready_conn(client, "TLSv1.3").await, server)
    }

    fn limits(idle_timeout: Duration, max_idle: usize) -> PoolLimits {
        PoolLimits {
            idle_timeout,
            max_idle,
        }
    }

    fn idle_count(route: &Route) -> usize {
        lock(&route.idle).len()
    }

    fn alive_tasks() -> usize {
        Handle::current().metrics().num_alive_tasks()
    }

    /// Yields until `done`, for at most two seconds.
    async fn until(mut done: impl FnMut() -> bool) {
        for _ in 0..200 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test]
    async fn one_route_per_host_and_port() {
        let pool = Pool::new(limits(Duration::from_secs(60), 4));
        let a = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let b = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let c = pool.route("sqs.us-east-1.amazonaws.com", 8443);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!((c.host(), c.port()), ("sqs.us-east-1.amazonaws.com", 8443));
    }

    #[tokio::test]
    async fn idle_connections_beyond_the_bound_are_closed() {
        let pool = Pool::new(limits(Duration::from_secs(60), 2));
        let route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let mut servers = Vec::new();
        for _ in 0..3 {
            let (conn, server) = conn().await;
            route.clone().check_in(conn);
            servers.push(server);
        }
        assert_eq!(idle_count(&route), 2);
        // The surplus connection was dropped: its server saw the connection end.
        until(|| servers[2].is_finished()).await;
        assert!(route.checkout().is_some());
        assert!(route.checkout().is_some());
        assert!(route.checkout().is_none());
    }

    #[tokio::test]
    async fn expired_idle_connections_are_not_handed_out() {
        let pool = Pool::new(limits(Duration::from_millis(50), 4));
        let route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let (conn, _server) = conn().await;
        route.clone().check_in(conn);
        std::thread::sleep(Duration::from_millis(60));
        assert!(route.checkout().is_none());
        assert_eq!(idle_count(&route), 0);
    }

    #[tokio::test]
    async fn idle_connections_the_server_closed_are_skipped() {
        let pool = Pool::new(limits(Duration::from_secs(60), 4));
        let route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let (open, _server) = conn().await;
        route.clone().check_in(open);
        let (closing, server) = conn().await;
        route.clone().check_in(closing);
        server.abort();
        let last_closed = || {
            lock(&route.idle)
                .last()
                .is_some_and(|i| i.conn.sender.is_closed())
        };
        until(last_closed).await;
        // The closed one was checked in last, so it is tried first, and passed over.
        assert!(route.checkout().is_some());
        assert!(route.checkout().is_none());
    }

    #[tokio::test]
    async fn the_sweeper_closes_expired_connections_forgets_unused_routes_and_stops() {
        let before = alive_tasks();
        let pool = Pool::new(limits(Duration::from_millis(30), 4));
        let route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        let (conn, server) = conn().await;
        route.check_in(conn);
        // A client connection, a server connection and the sweeper.
        assert_eq!(alive_tasks(), before + 3);
        until(|| lock(&pool.routes).map.is_empty()).await;
        until(|| server.is_finished()).await;
        until(|| alive_tasks() == before).await;
        assert!(!lock(&pool.routes).sweeping);
        // A new route starts a new sweeper.
        let _route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        assert!(lock(&pool.routes).sweeping);
        assert_eq!(alive_tasks(), before + 1);
    }

    #[tokio::test]
    async fn the_sweeper_stops_when_the_pool_is_dropped() {
        let before = alive_tasks();
        let pool = Pool::new(limits(Duration::from_secs(3600), 4));
        let route = pool.route("sqs.us-east-1.amazonaws.com", 443);
        assert_eq!(alive_tasks(), before + 1);
        drop(route);
        drop(pool);
        until(|| alive_tasks() == before).await;
    }
}

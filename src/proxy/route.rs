//! The routing decision: intercept, tunnel blind, or refuse, from the CONNECT target and what
//! the ClientHello says. Pure (no I/O), so every rule is tested as a table.
//!
//! It is asked twice per CONNECT: once with the target alone (a tunnel is dialled before the
//! client gets its 200, so a failure can still be a 502), and, when that says intercept, again
//! with the peeked ClientHello, before any TLS is terminated.

use std::fmt;

use crate::config::HostPattern;
use crate::tls::{ClientHello, MinTls};

/// Application protocols awsguard can serve once it terminates TLS.
const HTTP_ALPN: [&str; 2] = ["h2", "http/1.1"];

/// What the client's first bytes were, as far as routing cares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hello<'a> {
    /// Not read yet (the CONNECT is being answered).
    Pending,
    /// A complete ClientHello.
    Seen(&'a ClientHello),
    /// Bytes that are not a TLS ClientHello.
    NotTls,
}

/// The settings the decision reads.
pub(crate) struct Rules<'a> {
    /// Whether the CA may sign for a host (its Name Constraints).
    pub(crate) permits: &'a dyn Fn(&str) -> bool,
    /// Ports intercepted for AWS hosts.
    pub(crate) intercept_ports: &'a [u16],
    /// Hosts the user wants tunnelled.
    pub(crate) passthrough: &'a [HostPattern],
    /// The lowest TLS version the client leg accepts.
    pub(crate) min_tls: MinTls,
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// Terminate TLS and serve HTTP. With [`Hello::Pending`]: read the ClientHello and ask again.
    Intercept,
    /// Copy bytes both ways, never decrypted.
    Tunnel { reason: TunnelReason },
    /// Close the connection, recorded.
    Refuse { reason: RefuseReason },
}

/// Why a connection is tunnelled blind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TunnelReason {
    /// The CONNECT target is not a host the CA may sign for.
    NotAws,
    /// The SNI names a host the CA may not sign for.
    SniNotAws(String),
    /// A port other than the intercepted ones (MQTT on 8883, for one).
    Port(u16),
    /// The client offered an application protocol that is not HTTP (IoT's `x-amzn-mqtt-ca`).
    NonHttpAlpn(String),
    /// The host authenticates clients with certificates, which awsguard cannot present.
    ClientCertificate,
    /// The user listed the host (`passthrough`).
    Passthrough(String),
}

impl TunnelReason {
    /// The `connection.reason` code in events.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            TunnelReason::NotAws => "not-aws",
            TunnelReason::SniNotAws(_) => "sni-not-aws",
            TunnelReason::Port(_) => "port",
            TunnelReason::NonHttpAlpn(_) => "non-http-alpn",
            TunnelReason::ClientCertificate => "client-certificate",
            TunnelReason::Passthrough(_) => "passthrough",
        }
    }
}

impl fmt::Display for TunnelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TunnelReason::NotAws => f.write_str("not an AWS host: tunnelled blind"),
            TunnelReason::SniNotAws(sni) => {
                write!(f, "SNI {sni} is not an AWS host: tunnelled blind")
            }
            TunnelReason::Port(port) => write!(
                f,
                "port {port} is not intercepted (intercept-ports): tunnelled blind"
            ),
            TunnelReason::NonHttpAlpn(alpn) => write!(
                f,
                "the client offered ALPN {alpn}, not HTTP: tunnelled blind"
            ),
            TunnelReason::ClientCertificate => {
                f.write_str("the host authenticates clients with certificates: tunnelled blind")
            }
            TunnelReason::Passthrough(pattern) => {
                write!(f, "listed in passthrough ({pattern}): tunnelled blind")
            }
        }
    }
}

/// Why an intercepted connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefuseReason {
    /// The client sent something other than a ClientHello to an AWS host.
    NotTls,
    /// The client offered only TLS versions below the minimum.
    TlsVersion,
}

/// Hosts that authenticate clients with certificates: the IoT credentials provider
/// (`<id>.credentials.iot.<region>.amazonaws.com`, and the China partition's).
fn wants_client_certificate(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Some((prefix, rest)) = host.split_once(".credentials.iot.") else {
        return false;
    };
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    !prefix.is_empty() && region.is_some_and(|r| !r.is_empty() && !r.contains('.'))
}

/// Decides where a connection to `host:port` goes, given what its client has sent so far.
pub(crate) fn decide(host: &str, port: u16, hello: Hello<'_>, rules: &Rules<'_>) -> Route {
    let sni = match hello {
        Hello::Seen(hello) => hello.server_name.as_deref(),
        Hello::Pending | Hello::NotTls => None,
    };
    let names = || std::iter::once(host).chain(sni);
    if let Some(pattern) = rules
        .passthrough
        .iter()
        .find(|p| names().any(|name| p.matches(name)))
    {
        return tunnel(TunnelReason::Passthrough(pattern.as_str().to_owned()));
    }
    if !(rules.permits)(host) {
        return tunnel(TunnelReason::NotAws);
    }
    if !rules.intercept_ports.contains(&port) {
        return tunnel(TunnelReason::Port(port));
    }
    if names().any(wants_client_certificate) {
        return tunnel(TunnelReason::ClientCertificate);
    }
    match hello {
        Hello::Pending => Route::Intercept,
        Hello::NotTls => Route::Refuse {
            reason: RefuseReason::NotTls,
        },
        Hello::Seen(hello) => {
            if let Some(sni) = sni.filter(|sni| !(rules.permits)(sni)) {
                return tunnel(TunnelReason::SniNotAws(sni.to_owned()));
            }
            if let Some(alpn) = hello.alpn.iter().find(|p| !HTTP_ALPN.contains(&p.as_str())) {
                return tunnel(TunnelReason::NonHttpAlpn(alpn.clone()));
            }
            if !rules.min_tls.accepts(hello) {
                return Route::Refuse {
                    reason: RefuseReason::TlsVersion,
                };
            }
            Route::Intercept
        }
    }
}

fn tunnel(reason: TunnelReason) -> Route {
    Route::Tunnel { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::WireVersion;

    const TLS12: WireVersion = WireVersion(0x0303);
    const TLS13: WireVersion = WireVersion(0x0304);
    const TLS11: WireVersion = WireVersion(0x0302);

    fn aws(host: &str) -> bool {
        let host = host.trim_end_matches('.');
        host.ends_with("amazonaws.com") || host.ends_with("amazonaws.com.cn")
    }

    fn hello(sni: Option<&str>, alpn: &[&str], versions: &[WireVersion]) -> ClientHello {
        ClientHello {
            server_name: sni.map(str::to_owned),
            versions: versions.to_vec(),
            alpn: alpn.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn with(passthrough: &[&str], ports: &[u16], host: &str, port: u16, hello: Hello<'_>) -> Route {
        let patterns: Vec<HostPattern> = passthrough
            .iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .collect();
        let rules = Rules {
            permits: &aws,
            intercept_ports: ports,
            passthrough: &patterns,
            min_tls: MinTls::Tls12,
        };
        decide(host, port, hello, &rules)
    }

    fn tunnelled(reason: TunnelReason) -> Route {
        Route::Tunnel { reason }
    }

    /// Passthrough patterns, intercepted ports, CONNECT host and port, expected route.
    type Case = (
        &'static [&'static str],
        &'static [u16],
        &'static str,
        u16,
        Route,
    );

    #[test]
    fn connect_targets_alone() {
        let iot = "abc-ats.iot.us-east-1.amazonaws.com";
        let creds = "c2abc.credentials.iot.eu-west-1.amazonaws.com";
        let table: &[Case] = &[
            (&[], &[443], "sts.amazonaws.com", 443, Route::Intercept),
            (
                &[],
                &[443],
                "example.com",
                443,
                tunnelled(TunnelReason::NotAws),
            ),
            (&[], &[443], iot, 8883, tunnelled(TunnelReason::Port(8883))),
            (&[], &[443, 8443], iot, 8443, Route::Intercept),
            (
                &[],
                &[443],
                "example.com",
                8883,
                tunnelled(TunnelReason::NotAws),
            ),
            (
                &[],
                &[443],
                creds,
                443,
                tunnelled(TunnelReason::ClientCertificate),
            ),
            (
                &[],
                &[443],
                "CREDS.credentials.iot.cn-north-1.amazonaws.com.cn.",
                443,
                tunnelled(TunnelReason::ClientCertificate),
            ),
            (
                &[],
                &[443],
                "credentials.iot.us-east-1.amazonaws.com",
                443,
                Route::Intercept,
            ),
            (
                &["*.iot.us-east-1.amazonaws.com"],
                &[443],
                iot,
                443,
                tunnelled(TunnelReason::Passthrough(
                    "*.iot.us-east-1.amazonaws.com".into(),
                )),
            ),
            (
                &["sts.amazonaws.com"],
                &[443],
                "STS.amazonaws.com.",
                443,
                tunnelled(TunnelReason::Passthrough("sts.amazonaws.com".into())),
            ),
            (
                &["*.sts.amazonaws.com"],
                &[443],
                "sts.amazonaws.com",
                443,
                Route::Intercept,
            ),
        ];
        for (passthrough, ports, host, port, want) in table {
            assert_eq!(
                &with(passthrough, ports, host, *port, Hello::Pending),
                want,
                "{host}:{port} passthrough {passthrough:?}"
            );
        }
    }

    #[test]
    fn client_hellos() {
        let host = "abc-ats.iot.us-east-1.amazonaws.com";
        let table: &[(ClientHello, Route)] = &[
            (
                hello(Some(host), &["h2", "http/1.1"], &[TLS13, TLS12]),
                Route::Intercept,
            ),
            (hello(None, &[], &[TLS12]), Route::Intercept),
            (
                hello(Some(host), &["x-amzn-mqtt-ca"], &[TLS13]),
                tunnelled(TunnelReason::NonHttpAlpn("x-amzn-mqtt-ca".into())),
            ),
            (
                hello(Some(host), &["http/1.1", "x-amzn-http-ca"], &[TLS12]),
                tunnelled(TunnelReason::NonHttpAlpn("x-amzn-http-ca".into())),
            ),
            (
                hello(Some("example.com"), &["h2"], &[TLS13]),
                tunnelled(TunnelReason::SniNotAws("example.com".into())),
            ),
            (
                hello(
                    Some("x.credentials.iot.us-east-1.amazonaws.com"),
                    &[],
                    &[TLS13],
                ),
                tunnelled(TunnelReason::ClientCertificate),
            ),
            (
                hello(Some(host), &["h2"], &[TLS11]),
                Route::Refuse {
                    reason: RefuseReason::TlsVersion,
                },
            ),
            // A non-HTTP protocol is tunnelled before the version check: its TLS is not ours.
            (
                hello(Some(host), &["x-amzn-mqtt-ca"], &[TLS11]),
                tunnelled(TunnelReason::NonHttpAlpn("x-amzn-mqtt-ca".into())),
            ),
        ];
        for (hello, want) in table {
            assert_eq!(
                &with(&[], &[443], host, 443, Hello::Seen(hello)),
                want,
                "{hello:?}"
            );
        }
        assert_eq!(
            with(&[], &[443], host, 443, Hello::NotTls),
            Route::Refuse {
                reason: RefuseReason::NotTls
            }
        );
        // The user's list matches the SNI too.
        let sni = hello(Some("s3.amazonaws.com"), &["h2"], &[TLS13]);
        assert_eq!(
            with(&["s3.amazonaws.com"], &[443], host, 443, Hello::Seen(&sni)),
            tunnelled(TunnelReason::Passthrough("s3.amazonaws.com".into()))
        );
    }

    #[test]
    fn reasons_have_stable_codes() {
        let codes: Vec<&str> = [
            TunnelReason::NotAws,
            TunnelReason::SniNotAws(String::new()),
            TunnelReason::Port(8883),
            TunnelReason::NonHttpAlpn(String::new()),
            TunnelReason::ClientCertificate,
            TunnelReason::Passthrough(String::new()),
        ]
        .iter()
        .map(TunnelReason::code)
        .collect();
        assert_eq!(
            codes,
            [
                "not-aws",
                "sni-not-aws",
                "port",
                "non-http-alpn",
                "client-certificate",
                "passthrough"
            ]
        );
    }
}

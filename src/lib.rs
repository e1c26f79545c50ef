//! awsguard: a local HTTPS audit proxy for AWS API traffic.
//!
//! # The API
//! The items re-exported here are the supported surface: the test [`harness`] ([`Guard`]),
//! [`config`] ([`Config`], [`Settings`]), the [`events`] a proxy records ([`Event`],
//! [`Recorder`]), offline inspection ([`Engine`] over a [`CapturedRequest`] from
//! [`parse_file`]), the proxy itself ([`Proxy`]) and the exports ([`export`], [`report`]).
//!
//! # Layout
//! - [`aws`]: which AWS call a request is (service, operation, region, protocol), FIPS catalogue.
//! - [`inspect`]: fields a request carries and the findings detectors raise on them.
//! - [`ca`]: the local name-constrained CA and the leaf certificates it issues.
//! - [`tls`]: TLS policy for both legs and the ClientHello reader.
//! - [`config`]: settings from flags and the TOML file, validated before anything binds.
//! - [`engine`]: the pure per-request pipeline (identify, decode, inspect, decide).
//! - `policy` (private): allow/block decisions and AWS-shaped error responses.
//! - [`proxy`]: listener, CONNECT, tunnels, interception, upstream client.
//! - [`events`]: the event record and where it is written.
//! - [`exec`]: `awsguard exec`: run a command through a private proxy, summarise, SARIF.
//! - [`harness`]: a proxy on an ephemeral port for Rust integration tests.
//! - [`capture`]: raw HTTP/1.1 and HAR captures for offline `awsguard inspect`.
//! - [`export`]: `awsguard export --ocsf` and `--events-format ocsf`: events as OCSF 1.1.0;
//!   with the `parquet` feature, Parquet in Amazon Security Lake's layout.
//! - [`report`]: `awsguard report`: events files read back, one self-contained HTML report.
//!
//! [`aws`], [`tls`] and [`proxy`] are public for the fuzz targets, benches and integration
//! tests that drive their parsers directly; they are hidden from the documentation and are not
//! a stable interface.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

#[doc(hidden)]
pub mod aws;
pub mod ca;
pub mod capture;
pub mod config;
pub mod engine;
pub mod events;
pub mod exec;
pub mod export;
pub mod harness;
pub mod inspect;
mod policy;
#[doc(hidden)]
pub mod proxy;
pub mod report;
#[doc(hidden)]
pub mod tls;

pub use capture::{parse_file, CapturedRequest};
pub use config::{Config, ConfigError, FipsMissing, FipsMode, Mode, Settings};
pub use engine::Engine;
pub use events::{Decision, Event, EventType, Recorder};
pub use export::EventsFormat;
pub use harness::Guard;
pub use inspect::{Finding, Severity};
pub use proxy::Proxy;

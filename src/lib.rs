//! awsguard: a local HTTPS audit proxy for AWS API traffic.
//!
//! # Layout
//! - [`aws`]: which AWS call a request is (service, operation, region, protocol), FIPS catalogue.
//! - [`inspect`]: fields a request carries and the findings detectors raise on them.
//! - [`ca`]: the local name-constrained CA and the leaf certificates it issues.
//! - [`tls`]: TLS policy for both legs and the ClientHello reader.
//! - [`config`]: settings from flags and the TOML file, validated before anything binds.
//! - [`engine`]: the pure per-request pipeline (identify, decode, inspect, decide).
//! - [`policy`]: allow/block decisions and AWS-shaped error responses.
//! - [`proxy`]: listener, CONNECT, tunnels, interception, upstream client.
//! - [`events`]: the event record and where it is written.
//! - [`exec`]: `awsguard exec`: run a command through a private proxy, summarise, SARIF.
//! - [`harness`]: a proxy on an ephemeral port for Rust integration tests.
//! - [`capture`]: raw HTTP/1.1 and HAR captures for offline `awsguard inspect`.
//! - [`export`]: `awsguard export --ocsf` and `--events-format ocsf`: events as OCSF 1.1.0.
//! - [`report`]: `awsguard report`: events files read back, one self-contained HTML report.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

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
pub mod policy;
pub mod proxy;
pub mod report;
pub mod tls;

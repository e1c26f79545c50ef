//! awsguard: a local HTTPS audit proxy for AWS API traffic.
//!
//! # Layout
//! - [`aws`]: which AWS call a request is (service, operation, region, protocol), FIPS catalogue.
//! - [`inspect`]: fields a request carries and the findings detectors raise on them.
//! - [`ca`]: the local name-constrained CA and the leaf certificates it issues.
//! - [`tls`]: TLS policy for both legs and the ClientHello reader.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod aws;
pub mod ca;
pub mod inspect;
pub mod tls;

//! awsguard: a local HTTPS audit proxy for AWS API traffic.
//!
//! # Layout
//! - [`aws`]: which AWS call a request is (service, operation, region, protocol), FIPS catalogue.
//! - [`inspect`]: fields a request carries and the findings detectors raise on them.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod aws;
pub mod inspect;

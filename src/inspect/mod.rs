//! Inspection: the fields a request carries, and the findings detectors raise on them.
//!
//! Data flows one way: decoders turn a request into [`Field`]s, detectors turn fields into
//! [`Finding`]s, the policy turns findings into a decision. Nothing here does I/O.

pub mod decode;
mod field;
mod finding;

pub use field::{Field, FieldKind, FieldRef, Location};
pub use finding::{Category, Finding, Severity};
mod detect;
pub mod redact;
pub mod rule_doc;
mod rules;
mod scan;

pub use rules::{
    rule_info, CustomIdentifier, Enforcement, RuleInfo, RuleMode, RuleOverride, RuleSettings,
    RulesConfig, RulesError, Suppression, CLEARTEXT, NON_FIPS_ENDPOINT, RULES, TLS_VERSION,
    UNINSPECTABLE_BODY,
};
pub use scan::{ScanContext, Scanner};

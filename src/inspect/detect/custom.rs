//! `custom:<name>`: user-defined identifiers with Amazon Macie custom data identifier semantics.
//!
//! Built by the scanner from `[[identifiers]]`; run on content fields. A match counts when no
//! keywords are configured, or when a keyword (case-insensitive) ends at most `max_distance`
//! characters before it, or appears in the tag key / location. A match containing an ignore word
//! (case-sensitive) is dropped.

use regex::{Regex, RegexBuilder};

use super::{floor_boundary, Hit};
use crate::inspect::{redact, CustomIdentifier, RulesError};

/// Upper bound on a compiled pattern, so a config cannot make the scanner huge.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// At most this many matches per identifier per value.
const MAX_MATCHES: usize = 64;
const MAX_DISTANCE: usize = 1000;

/// A compiled custom identifier.
#[derive(Debug)]
pub(crate) struct Identifier {
    /// `custom:<name>`.
    pub(crate) rule: String,
    /// Keywords, lower-cased.
    pub(crate) keywords: Vec<String>,
    regex: Regex,
    max_distance: usize,
    ignore_words: Vec<String>,
}

impl Identifier {
    /// Validate and compile `[[identifiers]]` entry number `index`.
    pub(crate) fn new(index: usize, def: &CustomIdentifier) -> Result<Identifier, RulesError> {
        let bad = |reason: &str| RulesError::Identifier {
            index,
            reason: reason.to_string(),
        };
        let name_ok = def
            .name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        if def.name.is_empty() || !name_ok {
            return Err(bad("name must be letters, digits, '-' or '_'"));
        }
        if def.max_distance > MAX_DISTANCE {
            return Err(bad("max_distance must be at most 1000"));
        }
        if def
            .keywords
            .iter()
            .chain(&def.ignore_words)
            .any(String::is_empty)
        {
            return Err(bad("keywords and ignore_words must not be empty strings"));
        }
        let regex = RegexBuilder::new(&def.regex)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|source| RulesError::Regex {
                entry: format!("identifiers[{index}] ({})", def.name),
                source,
            })?;
        Ok(Identifier {
            rule: format!("custom:{}", def.name),
            keywords: def
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            regex,
            max_distance: def.max_distance,
            ignore_words: def.ignore_words.clone(),
        })
    }

    /// Every counted match in `value`; `keyed` says a keyword sits in the tag key or location.
    pub(crate) fn find(&self, value: &str, keyed: bool, out: &mut Vec<Hit>) {
        for m in self.regex.find_iter(value).take(MAX_MATCHES) {
            if m.as_str().is_empty()
                || self
                    .ignore_words
                    .iter()
                    .any(|w| m.as_str().contains(w.as_str()))
            {
                continue;
            }
            if self.keywords.is_empty() || keyed || self.keyword_near(value, m.start()) {
                out.push(Hit::new(
                    &self.rule,
                    m.start(),
                    m.end(),
                    redact::ends(m.as_str(), 2, 2),
                ));
            }
        }
    }

    /// A keyword ending within `max_distance` characters before `start`.
    fn keyword_near(&self, value: &str, start: usize) -> bool {
        let longest = self.keywords.iter().map(String::len).max().unwrap_or(0);
        let from = floor_boundary(value, start.saturating_sub(self.max_distance + longest));
        let Some(window) = value.get(from..start) else {
            return false;
        };
        let window = window.to_ascii_lowercase();
        let limit = window.len().saturating_sub(self.max_distance);
        self.keywords.iter().any(|k| {
            window
                .match_indices(k.as_str())
                .any(|(i, _)| i + k.len() >= limit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Severity;

    fn ident(keywords: &[&str], ignore: &[&str], distance: usize) -> Identifier {
        let def = CustomIdentifier {
            name: "employee-id".to_string(),
            regex: "EMP-[0-9]{6}".to_string(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            max_distance: distance,
            ignore_words: ignore.iter().map(|s| s.to_string()).collect(),
            severity: Severity::High,
        };
        Identifier::new(0, &def).unwrap()
    }

    fn excerpts(id: &Identifier, v: &str, keyed: bool) -> Vec<String> {
        let mut out = Vec::new();
        id.find(v, keyed, &mut out);
        assert!(out.iter().all(|h| h.rule == "custom:employee-id"));
        out.into_iter().map(|h| h.excerpt).collect()
    }

    #[test]
    fn matches_without_keywords() {
        assert_eq!(
            excerpts(&ident(&[], &[], 50), "id EMP-123456", false),
            ["EM…56"]
        );
    }

    #[test]
    fn keywords_must_precede_within_distance() {
        let id = ident(&["Employee"], &[], 10);
        assert_eq!(excerpts(&id, "employee: EMP-123456", false), ["EM…56"]);
        assert_eq!(excerpts(&id, "EMP-123456", true), ["EM…56"]);
        assert!(excerpts(&id, "employee, and then more text: EMP-123456", false).is_empty());
        assert!(excerpts(&id, "EMP-123456 employee", false).is_empty());
    }

    #[test]
    fn ignore_words_drop_matches() {
        let id = ident(&[], &["000000"], 50);
        assert!(excerpts(&id, "EMP-000000", false).is_empty());
        assert_eq!(excerpts(&id, "EMP-000001", false), ["EM…01"]);
    }

    #[test]
    fn invalid_definitions_are_refused_with_their_entry() {
        let mut def = CustomIdentifier {
            name: "x".to_string(),
            regex: "(".to_string(),
            keywords: vec![],
            max_distance: 50,
            ignore_words: vec![],
            severity: Severity::Low,
        };
        let err = Identifier::new(3, &def).unwrap_err().to_string();
        assert_eq!(err, "identifiers[3] (x): invalid regex");
        def.regex = "a".to_string();
        def.name = "bad name".to_string();
        let err = Identifier::new(1, &def).unwrap_err().to_string();
        assert_eq!(
            err,
            "identifiers[1]: name must be letters, digits, '-' or '_'"
        );
    }
}

//! The prefilter: one Aho-Corasick pass over a value finds the trigger strings (`@`, `://`,
//! `AKIA`, `-----BEGIN `, `eyJ`, keywords, …) that decide which detectors are worth running.
//!
//! Built by the scanner from the built-in triggers and the custom identifiers' keywords. Both
//! passes report overlapping matches, so no trigger string hides another (`nas://`, `smssn`).
//! The built-in pass also notes where the phone detector's keywords occur: the phone detector
//! needs them for every number in a free-text field, and one pass over the text is half the
//! cost of two.

use aho_corasick::automaton::Automaton;
use aho_corasick::automaton::StateID;
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, MatchKind};

use super::{phone, saas};

/// What a trigger string tells the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Trigger {
    /// `@`: email.
    At = 1,
    /// `://` or `%3A%2F%2F`: URL rules.
    Url = 1 << 1,
    /// `AKIA`, `ASIA`, …: access key ids.
    KeyPrefix = 1 << 2,
    /// `-----BEGIN `, `PuTTY-User-Key-File-`: private keys.
    Pem = 1 << 3,
    /// `eyJ`: JSON web tokens.
    Jwt = 1 << 4,
    /// `secret`: secret access keys.
    Secret = 1 << 5,
    /// `ssn`, `social`: SSNs.
    Ssn = 1 << 6,
    /// Phone keywords (every one of the phone detector's, in every language it knows).
    Phone = 1 << 7,
    /// `+`: international phone numbers.
    Plus = 1 << 8,
    /// A national-identifier keyword ([`super::national::keywords::TRIGGERS`]).
    National = 1 << 9,
    /// A SaaS token prefix (`ghp_`, `xoxb-`, `sk_live_`, `AIza`, `sig=`, …).
    Token = 1 << 10,
    /// A vendor keyword for prefix-less SaaS keys (`twilio`, `datadog`, `AccountKey`, …).
    Vendor = 1 << 11,
}

/// The built-in trigger strings (matched ASCII case-insensitively).
const TRIGGERS: &[(&str, Trigger)] = &[
    ("@", Trigger::At),
    ("://", Trigger::Url),
    ("%3a%2f%2f", Trigger::Url),
    ("akia", Trigger::KeyPrefix),
    ("asia", Trigger::KeyPrefix),
    ("abia", Trigger::KeyPrefix),
    ("acca", Trigger::KeyPrefix),
    ("-----begin ", Trigger::Pem),
    ("putty-user-key-file-", Trigger::Pem),
    ("eyj", Trigger::Jwt),
    ("secret", Trigger::Secret),
    ("ssn", Trigger::Ssn),
    ("social", Trigger::Ssn),
    ("ss#", Trigger::Ssn),
    ("ss #", Trigger::Ssn),
    ("ss no", Trigger::Ssn),
    ("ss num", Trigger::Ssn),
    ("ss-no", Trigger::Ssn),
    ("ss nr", Trigger::Ssn),
    ("soc", Trigger::Ssn),
    ("phone", Trigger::Phone),
    ("mobil", Trigger::Phone),
    ("whatsapp", Trigger::Phone),
    ("telefon", Trigger::Phone),
    ("teléfon", Trigger::Phone),
    ("téléfon", Trigger::Phone),
    ("telèfon", Trigger::Phone),
    ("telefoon", Trigger::Phone),
    ("handy", Trigger::Phone),
    ("celular", Trigger::Phone),
    ("cellulare", Trigger::Phone),
    ("móvil", Trigger::Phone),
    ("movil", Trigger::Phone),
    ("móvel", Trigger::Phone),
    ("movel", Trigger::Phone),
    ("portable", Trigger::Phone),
    ("komórk", Trigger::Phone),
    ("komork", Trigger::Phone),
    ("puhelin", Trigger::Phone),
    ("matkapuhelin", Trigger::Phone),
    ("gsm", Trigger::Phone),
    ("elefon", Trigger::Phone),
    ("τηλ", Trigger::Phone),
    ("Τηλ", Trigger::Phone),
    ("ΤΗΛ", Trigger::Phone),
    ("κινητ", Trigger::Phone),
    ("Κινητ", Trigger::Phone),
    ("елефон", Trigger::Phone),
    ("тел.", Trigger::Phone),
    ("тел:", Trigger::Phone),
    ("Тел.", Trigger::Phone),
    ("Тел:", Trigger::Phone),
    ("ТЕЛ.", Trigger::Phone),
    ("моб", Trigger::Phone),
    ("Моб", Trigger::Phone),
    ("мобіл", Trigger::Phone),
    ("电话", Trigger::Phone),
    ("電話", Trigger::Phone),
    ("手机", Trigger::Phone),
    ("手機", Trigger::Phone),
    ("携帯", Trigger::Phone),
    ("전화", Trigger::Phone),
    ("휴대폰", Trigger::Phone),
    ("핸드폰", Trigger::Phone),
    ("연락처", Trigger::Phone),
    ("טלפון", Trigger::Phone),
    ("هاتف", Trigger::Phone),
    ("جوال", Trigger::Phone),
    ("โทร", Trigger::Phone),
    ("điện thoại", Trigger::Phone),
    ("dien thoai", Trigger::Phone),
    ("nomor hp", Trigger::Phone),
    ("no hp", Trigger::Phone),
    ("tel", Trigger::Phone),
    ("tél", Trigger::Phone),
    ("cell", Trigger::Phone),
    ("fax", Trigger::Phone),
    ("msisdn", Trigger::Phone),
    ("sms", Trigger::Phone),
    ("tlf", Trigger::Phone),
    ("mob", Trigger::Phone),
    ("cel", Trigger::Phone),
    ("+", Trigger::Plus),
];

/// Every built-in trigger string: [`TRIGGERS`], the SaaS token prefixes and vendor keywords,
/// the national-identifier keywords (short ones followed by each separator they may stand
/// before), then the phone detector's keywords, from the returned index on.
fn builtin_patterns() -> (Vec<(String, Trigger)>, usize) {
    use super::national::keywords::{SHORT_ENDS, SHORT_TRIGGERS, TRIGGERS as NATIONAL};
    let mut all: Vec<(String, Trigger)> = TRIGGERS
        .iter()
        .map(|(w, t)| ((*w).to_string(), *t))
        .chain(
            saas::TOKEN_TRIGGERS
                .iter()
                .map(|w| ((*w).to_string(), Trigger::Token)),
        )
        .chain(
            saas::KEYWORD_TRIGGERS
                .iter()
                .map(|w| ((*w).to_string(), Trigger::Vendor)),
        )
        .collect();
    // Multi-word keywords also as tag keys write them (`tax_file_number`, `tax-id`,
    // `TaxFileNumber`).
    for w in NATIONAL {
        let mut spellings = vec![(*w).to_string()];
        if w.contains([' ', '-']) {
            for sep in [" ", "_", "-", ""] {
                spellings.push(w.replace([' ', '-'], sep));
            }
            spellings.dedup();
        }
        all.extend(spellings.into_iter().map(|w| (w, Trigger::National)));
    }
    for w in SHORT_TRIGGERS {
        all.extend(
            SHORT_ENDS
                .iter()
                .map(|e| (format!("{w}{e}"), Trigger::National)),
        );
    }
    let phone_from = all.len();
    all.extend(
        phone::KEYWORDS
            .iter()
            .chain(phone::SHORT_KEYWORDS)
            .map(|w| ((*w).to_string(), Trigger::Phone)),
    );
    (all, phone_from)
}

/// Identifiers past this index are not prefiltered: they always run.
const MAX_CUSTOM_BITS: usize = 64;

/// What the prefilter saw in one string.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Signals {
    builtin: u32,
    custom: u64,
}

impl Signals {
    /// Whether trigger `t` occurred.
    pub(crate) fn has(self, t: Trigger) -> bool {
        self.builtin & (t as u32) != 0
    }

    /// Whether a keyword of custom identifier `i` occurred.
    pub(crate) fn custom(self, i: usize) -> bool {
        i >= MAX_CUSTOM_BITS || self.custom & (1 << i) != 0
    }
}

/// The compiled trigger automata.
#[derive(Debug)]
pub(crate) struct Prefilter {
    /// Stepped byte by byte in [`Prefilter::signals`]: most values are short, and the
    /// automaton's own search set-up costs more than stepping through them.
    builtin: DFA,
    /// The trigger of each pattern of `builtin`.
    kinds: Vec<Trigger>,
    /// Patterns of `builtin` from this index on are the phone detector's keywords.
    phone_from: usize,
    custom: Option<AhoCorasick>,
    /// Identifier index of each custom pattern.
    owners: Vec<usize>,
}

impl Prefilter {
    /// Compile the built-in triggers and `keywords[i]` of every custom identifier `i`.
    pub(crate) fn new(keywords: &[&[String]]) -> Result<Prefilter, aho_corasick::BuildError> {
        let (patterns, phone_from) = builtin_patterns();
        let builtin = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .build(patterns.iter().map(|(w, _)| w))?;
        let kinds = patterns.into_iter().map(|(_, t)| t).collect();
        let mut words = Vec::new();
        let mut owners = Vec::new();
        for (i, list) in keywords.iter().enumerate() {
            for k in list.iter() {
                words.push(k.as_str());
                owners.push(i);
            }
        }
        let custom = if words.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&words)?;
            Some(ac)
        };
        Ok(Prefilter {
            builtin,
            kinds,
            phone_from,
            custom,
            owners,
        })
    }

    /// Whether any custom identifier has keywords (so tag keys and locations must be searched).
    pub(crate) fn has_custom_keywords(&self) -> bool {
        self.custom.is_some()
    }

    /// Whether `text` holds a [`Trigger::Url`] string: the same answer as
    /// `signals(text).has(Trigger::Url)`, for fields where no other trigger matters, without the
    /// automaton's set-up cost (most such fields are short).
    pub(crate) fn has_url_trigger(text: &str) -> bool {
        let bytes = text.as_bytes();
        bytes.windows(3).any(|w| w == b"://")
            || bytes
                .windows(9)
                .any(|w| w.eq_ignore_ascii_case(b"%3a%2f%2f"))
    }

    /// The built-in triggers `text` holds, as `find_overlapping_iter` reports them; `phone` gets
    /// the span of every phone-keyword occurrence. The automaton is unanchored and has no empty
    /// pattern, so it has no dead state and its start state is no match.
    fn builtin_triggers(&self, text: &str, mut phone: impl FnMut(usize, usize)) -> u32 {
        let dfa = &self.builtin;
        let Ok(start) = dfa.start_state(Anchored::No) else {
            // Unreachable: an unanchored automaton has an unanchored start state.
            return 0;
        };
        let bytes = text.as_bytes();
        let mut found = 0;
        let mut sid = start;
        let mut at = 0;
        while let Some(end) = next_match(dfa, &mut sid, bytes, at) {
            for i in 0..dfa.match_len(sid) {
                let pattern = dfa.match_pattern(sid, i);
                if let Some(t) = self.kinds.get(pattern.as_usize()) {
                    found |= *t as u32;
                }
                if pattern.as_usize() >= self.phone_from {
                    phone(end - dfa.pattern_len(pattern), end);
                }
            }
            at = end;
        }
        found
    }

    /// The triggers present in `text`.
    pub(crate) fn signals(&self, text: &str) -> Signals {
        self.signals_with(text, |_, _| ())
    }

    /// The triggers present in `text`, and the spans of the phone keywords in it (in the order
    /// their ends occur) pushed to `phone_keywords`.
    pub(crate) fn signals_and_phone_keywords(
        &self,
        text: &str,
        phone_keywords: &mut Vec<(usize, usize)>,
    ) -> Signals {
        self.signals_with(text, |start, end| phone_keywords.push((start, end)))
    }

    fn signals_with(&self, text: &str, phone: impl FnMut(usize, usize)) -> Signals {
        let mut s = Signals {
            builtin: self.builtin_triggers(text, phone),
            custom: 0,
        };
        if let Some(ac) = &self.custom {
            for m in ac.find_overlapping_iter(text) {
                if let Some(i) = self.owners.get(m.pattern().as_usize()) {
                    if *i < MAX_CUSTOM_BITS {
                        s.custom |= 1 << i;
                    }
                }
            }
        }
        s
    }
}

/// Steps `dfa` from `*sid` through `bytes[at..]` and stops after the first byte that reaches a
/// match state, returning the position after it (`None` at the end of `bytes`). A loop of its
/// own: with the match handling in the same loop, the state is kept on the stack, and every
/// byte waits for it to be stored and loaded again.
#[inline(always)]
fn next_match(dfa: &DFA, sid: &mut StateID, bytes: &[u8], at: usize) -> Option<usize> {
    let mut state = *sid;
    let rest = bytes.get(at..)?;
    for (i, &byte) in rest.iter().enumerate() {
        state = dfa.next_state(Anchored::No, state, byte);
        if dfa.is_match(state) {
            *sid = state;
            return Some(at + i + 1);
        }
    }
    *sid = state;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_builtin_triggers_case_insensitively() {
        let p = Prefilter::new(&[]).unwrap();
        let s = p.signals("Mail a@b.c, key AKIA…, see HTTPS://x, Telephone +1");
        for t in [
            Trigger::At,
            Trigger::KeyPrefix,
            Trigger::Url,
            Trigger::Phone,
            Trigger::Plus,
        ] {
            assert!(s.has(t), "{t:?}");
        }
        for t in [Trigger::Pem, Trigger::Jwt, Trigger::Secret, Trigger::Ssn] {
            assert!(!s.has(t), "{t:?}");
        }
        assert!(!p.has_custom_keywords());
    }

    #[test]
    fn url_trigger_agrees_with_the_automaton() {
        let p = Prefilter::new(&[]).unwrap();
        for text in [
            "",
            "https://x",
            "http:/x",
            "a%3A%2f%2Fb",
            "%3a%2f%2",
            "tel://x",
            "akia%3a%2f%2f",
            "acc%3a%2f%2f",
            "ssn:// secret",
            "://",
            ":/",
        ] {
            assert_eq!(
                Prefilter::has_url_trigger(text),
                p.signals(text).has(Trigger::Url),
                "{text}"
            );
        }
    }

    /// What `find_overlapping_iter` of the same automaton reports (triggers, and phone keyword
    /// spans by start): the stepped search must agree.
    fn overlapping_triggers(text: &str) -> (u32, Vec<(usize, usize)>) {
        let (patterns, phone_from) = builtin_patterns();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(patterns.iter().map(|(w, _)| w))
            .unwrap();
        let mut phone = Vec::new();
        let mut all = 0;
        for m in ac.find_overlapping_iter(text) {
            all |= patterns[m.pattern().as_usize()].1 as u32;
            if m.pattern().as_usize() >= phone_from {
                phone.push((m.start(), m.end()));
            }
        }
        phone.sort_unstable();
        (all, phone)
    }

    fn stepped(p: &Prefilter, text: &str) -> (u32, Vec<(usize, usize)>) {
        let mut phone = Vec::new();
        let s = p.signals_and_phone_keywords(text, &mut phone);
        phone.sort_unstable();
        (s.builtin, phone)
    }

    #[test]
    fn a_url_right_after_a_short_national_keyword_is_still_seen() {
        let p = Prefilter::new(&[]).unwrap();
        for text in [
            "nas://admin:pw@10.0.0.5/share",
            "x sin:// y",
            "cpf/://a:b@c",
        ] {
            assert!(p.signals(text).has(Trigger::Url), "{text}");
        }
    }

    #[test]
    fn stepped_search_reports_overlaps_like_find_overlapping_iter() {
        let p = Prefilter::new(&[]).unwrap();
        for text in [
            "smssn",
            "telefonssn",
            "sms",
            "ssms+",
            "",
            "xx@",
            "SECRET",
            "é@ü",
            "Telefon: mobile Телефон",
        ] {
            assert_eq!(stepped(&p, text), overlapping_triggers(text), "{text}");
        }
        let sig = p.signals("smssn");
        assert!(sig.has(Trigger::Phone) && sig.has(Trigger::Ssn));
        let mut phone = Vec::new();
        p.signals_and_phone_keywords("x telefon y", &mut phone);
        phone.sort_unstable();
        assert_eq!(phone, [(2, 5), (2, 9), (3, 9)]);
    }

    proptest::proptest! {
        #[test]
        fn stepped_search_agrees_with_find_overlapping_iter(
            text in "([a-zA-Z:/%23@+ _.=-]|tel|akia|acca|ssn|sms|eyj|cell|fax|phone|social|secret|msisdn|mobile|whatsapp|telefon|-----begin |putty-user-key-file-|://|%3[aA]%2[fF]%2[fF]|é|ghp_|xox|sk-|sk_live_|sg\\.|sig=|aiza|twilio|dd_ap|azure){0,32}"
        ) {
            let p = Prefilter::new(&[]).unwrap();
            proptest::prop_assert_eq!(stepped(&p, &text), overlapping_triggers(&text));
        }

        #[test]
        fn url_trigger_agrees_on_shaped_strings(
            text in "([:/%23aAfFcCkKiIsS@+-]|tel|akia|acca|ssn|sms|eyj|://|%3[aA]%2[fF]%2[fF]){0,24}"
        ) {
            let p = Prefilter::new(&[]).unwrap();
            proptest::prop_assert_eq!(
                Prefilter::has_url_trigger(&text),
                p.signals(&text).has(Trigger::Url)
            );
        }
    }

    #[test]
    fn every_phone_and_ssn_keyword_triggers() {
        let p = Prefilter::new(&[]).unwrap();
        let phone = super::super::phone::KEYWORDS
            .iter()
            .chain(super::super::phone::SHORT_KEYWORDS);
        for k in phone {
            assert!(p.signals(&format!("x {k} 1")).has(Trigger::Phone), "{k}");
        }
        for k in ["SS# 1", "Soc. Sec. # 1", "social security no. 1", "ss no 1"] {
            assert!(p.signals(k).has(Trigger::Ssn), "{k}");
        }
    }

    /// Every spelling of every national keyword fires the trigger, alone and next to every
    /// other built-in trigger, and hides none of them.
    #[test]
    fn every_national_keyword_triggers() {
        let p = Prefilter::new(&[]).unwrap();
        for table in super::super::national::keywords::TABLES {
            for k in table.iter() {
                let plain: String = super::super::national::keywords::fold_for_test(k);
                let spellings = [
                    k.to_string(),
                    k.to_uppercase(),
                    plain.clone(),
                    plain.to_uppercase(),
                    plain.replace(' ', "_"),
                    plain.replace(' ', "-"),
                    plain.replace(' ', ""),
                ];
                for s in spellings {
                    let text = format!("x {s} 1");
                    assert!(p.signals(&text).has(Trigger::National), "{text}");
                    for (w, t) in TRIGGERS {
                        for text in [format!("{s} {w}"), format!("{w} {s} 1")] {
                            let sig = p.signals(&text);
                            assert!(sig.has(Trigger::National) && sig.has(*t), "{text}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn custom_keywords_are_not_shadowed() {
        let a = vec!["social_id".to_string()];
        let b = vec!["employee".to_string()];
        let p = Prefilter::new(&[&a, &b]).unwrap();
        let s = p.signals("my SOCIAL_ID is 1");
        assert!(s.custom(0));
        assert!(!s.custom(1));
        assert!(s.has(Trigger::Ssn));
        assert!(s.custom(64));
    }
}

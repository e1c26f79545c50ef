//! Keyword tables of the national identifiers (Amazon Macie's keyword-proximity model) and the
//! one folded search that finds them.
//!
//! Each identifier has one table, in the languages of its locale and English, written as people
//! write them (accents, native scripts). A field is folded once — lower case, accents dropped,
//! `_` and `-` read as spaces, typographic apostrophes as `'` — and one Aho-Corasick pass over the
//! folded text finds every keyword of every identifier, so matching is case- and
//! accent-insensitive for all tables at the cost of one pass. Called by [`super::find`] only on
//! fields the scanner's prefilter flagged ([`TRIGGERS`]).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

pub(super) const UK_NINO: &[&str] = &[
    "national insurance",
    "nino",
    "ni number",
    "ni no",
    "ni#",
    "nat ins",
];
pub(super) const CA_SIN: &[&str] = &[
    "sin",
    "sin#",
    "social insurance",
    "numéro d'assurance sociale",
    "assurance sociale",
    "nas",
];
pub(super) const FR_NIR: &[&str] = &[
    "nir",
    "insee",
    "numéro de sécurité sociale",
    "sécurité sociale",
    "carte vitale",
    "social security",
];
pub(super) const DE_TAX_ID: &[&str] = &[
    "steuer-id",
    "steuerid",
    "steueridentifikationsnummer",
    "steuer-identifikationsnummer",
    "identifikationsnummer",
    "steuernummer",
    "steuer-nr",
    "idnr",
    "tax id",
    "tax identification",
];
pub(super) const IT_CODICE_FISCALE: &[&str] = &[
    "codice fiscale",
    "cod. fisc",
    "cod fisc",
    "cf",
    "c.f.",
    "tessera sanitaria",
    "fiscal code",
    "tax code",
];
pub(super) const ES_DNI: &[&str] = &[
    "dni",
    "nie",
    "nif",
    "documento nacional de identidad",
    "número de identidad",
    "número de identificación",
    "identidad de extranjero",
    "national identity",
];
pub(super) const BR_CPF: &[&str] = &["cpf", "cadastro de pessoa", "cadastro de pessoas"];
pub(super) const BR_CNPJ: &[&str] = &["cnpj", "pessoa jurídica", "pessoas jurídicas"];
pub(super) const IN_AADHAAR: &[&str] = &["aadhaar", "aadhar", "adhaar", "uidai", "आधार"];
pub(super) const IN_PAN: &[&str] = &["pan", "pan#", "permanent account number", "पैन"];
pub(super) const CN_RESIDENT_ID: &[&str] = &[
    "身份证",
    "身份證",
    "居民身份证",
    "公民身份号码",
    "resident id",
    "resident identity",
    "identity card",
    "id card",
    "shenfenzheng",
];
pub(super) const JP_MY_NUMBER: &[&str] = &[
    "マイナンバー",
    "個人番号",
    "my number",
    "mynumber",
    "individual number",
    "kojin bango",
];
pub(super) const KR_RRN: &[&str] = &[
    "주민등록번호",
    "주민번호",
    "주민등록",
    "rrn",
    "resident registration",
];
pub(super) const AU_TFN: &[&str] = &["tfn", "tax file number", "tax file no"];
pub(super) const MX_CURP: &[&str] = &[
    "curp",
    "clave única de registro",
    "clave unica",
    "clave única",
];
pub(super) const NL_BSN: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "burger service nummer",
    "sofinummer",
    "sofi-nummer",
    "citizen service number",
];
pub(super) const SE_PERSONNUMMER: &[&str] = &[
    "personnummer",
    "personnr",
    "person-nr",
    "pnr",
    "samordningsnummer",
    "personal identity number",
];
pub(super) const PL_PESEL: &[&str] = &["pesel", "numer ewidencyjny"];
pub(super) const US_ITIN: &[&str] = &[
    "itin",
    "individual taxpayer",
    "taxpayer identification",
    "tax id",
];
pub(super) const PASSPORT: &[&str] = &[
    "passport",
    "passeport",
    "reisepass",
    "pasaporte",
    "passaporto",
    "passaporte",
    "paspoort",
    "paszport",
    "pasaport",
    "паспорт",
    "护照",
    "護照",
    "旅券",
    "パスポート",
    "여권",
];
pub(super) const DRIVERS_LICENSE: &[&str] = &[
    "driver's license",
    "drivers license",
    "driver license",
    "driver's licence",
    "drivers licence",
    "driver licence",
    "driving licence",
    "driving license",
    "dl#",
    "dl no",
    "führerschein",
    "fuehrerschein",
    "permis de conduire",
    "licencia de conducir",
    "permiso de conducir",
    "carnet de conducir",
    "carteira de motorista",
    "carteira nacional de habilitação",
    "patente di guida",
    "rijbewijs",
    "prawo jazdy",
    "prawa jazdy",
    "cnh",
    "körkort",
    "運転免許",
    "驾驶证",
    "駕駛執照",
    "운전면허",
];

/// Prefilter strings (matched ASCII case-insensitively on the raw value, tag key and location):
/// for every keyword above, in any case and with or without its accents, one of these occurs. A
/// short keyword is a trigger only when a separator follows it, so `sin` fires on `SIN: …` and
/// `customer_sin` but not on `business`. None of them hides another trigger of the prefilter
/// (a unit test of the prefilter checks every keyword in all its spellings).
pub(crate) const TRIGGERS: &[&str] = &[
    "insurance",
    "nino",
    "ni number",
    "ni no",
    "ni#",
    "nat ins",
    "assurance",
    "insee",
    "curit",
    "vitale",
    "steuer",
    "identifikation",
    "idnr",
    "tax id",
    "tax identification",
    "fiscal",
    "fisc",
    "sanitaria",
    "tax code",
    "identidad",
    "identifica",
    "national identity",
    "cadastro",
    "pessoa",
    "aadhaar",
    "aadhar",
    "adhaar",
    "uidai",
    "आधार",
    "account number",
    "पैन",
    "身份",
    "resident",
    "identity card",
    "id card",
    "shenfenzheng",
    "マイナンバー",
    "個人番号",
    "my number",
    "mynumber",
    "individual number",
    "kojin bango",
    "주민",
    "tax file",
    "clave",
    "burger",
    "sofi",
    "citizen service",
    "personnummer",
    "personnr",
    "person-nr",
    "samordningsnummer",
    "personal identity",
    "pesel",
    "ewidencyjny",
    "taxpayer",
    "passport",
    "passeport",
    "reisepass",
    "pasaporte",
    "passaporto",
    "passaporte",
    "paspoort",
    "paszport",
    "pasaport",
    "паспорт",
    "ПАСПОРТ",
    "Паспорт",
    "护照",
    "護照",
    "旅券",
    "パスポート",
    "여권",
    "license",
    "licence",
    "dl#",
    "dl no",
    "hrerschein",
    "fuehrerschein",
    "permis de conduire",
    "licencia",
    "permiso de conducir",
    "carnet de conducir",
    "motorista",
    "habilita",
    "patente di guida",
    "rijbewijs",
    "prawo jazdy",
    "prawa jazdy",
    "rkort",
    "運転免許",
    "驾驶证",
    "駕駛執照",
    "운전면허",
];

/// Short keywords (see [`TRIGGERS`]): each is a trigger when one of [`SHORT_ENDS`] follows it.
pub(crate) const SHORT_TRIGGERS: &[&str] = &[
    "sin", "nas", "nir", "cf", "c.f", "dni", "nie", "nif", "cpf", "cnpj", "pan", "rrn", "tfn",
    "curp", "bsn", "pnr", "itin", "cnh",
];
/// What may follow a short keyword (see [`SHORT_TRIGGERS`]).
pub(crate) const SHORT_ENDS: &[&str] = &[
    " ", ":", "#", "-", "_", ".", "=", "\"", "/", "(", ",", "\t", "\n",
];

/// A keyword of [`TABLES`] this many bytes long or shorter (folded) must stand alone: no letter
/// or digit right before it and no letter right after it (`sin`, not `business`).
const SHORT: usize = 5;

/// The folded text of one field and, for each of its bytes, where the character it came from
/// ends in the original.
pub(super) struct Folded {
    text: String,
    ends: Vec<usize>,
}

/// Lower-case, accent-free, separator-normalized copy of `s` (one character per character).
pub(super) fn fold(s: &str) -> Folded {
    let mut text = String::with_capacity(s.len());
    let mut ends = Vec::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let f = fold_char(c);
        text.push(f);
        ends.extend(std::iter::repeat_n(i + c.len_utf8(), f.len_utf8()));
    }
    Folded { text, ends }
}

/// Base letters of U+00C0..=U+00FF (characters without one map to themselves).
const LATIN1: &str = concat!(
    "aaaaaaaceeeeiiii",
    "dnooooo×ouuuuyþß",
    "aaaaaaaceeeeiiii",
    "dnooooo÷ouuuuyþy"
);
/// Base letters of U+0100..=U+017F.
const LATIN_EXT_A: &str = concat!(
    "aaaaaaccccccccdd",
    "ddeeeeeeeeeegggg",
    "gggghhhhiiiiiiii",
    "iiiijjkkklllllll",
    "lllnnnnnnnnnoooo",
    "oooorrrrrrssssss",
    "ssttttttuuuuuuuu",
    "uuuuwwyyyzzzzzzs"
);

fn fold_char(c: char) -> char {
    match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        '_' | '-' => ' ',
        '\u{2018}' | '\u{2019}' | '`' | '\u{b4}' => '\'',
        '\u{c0}'..='\u{ff}' => nth(LATIN1, c as usize - 0xc0).unwrap_or(c),
        '\u{100}'..='\u{17f}' => nth(LATIN_EXT_A, c as usize - 0x100).unwrap_or(c),
        '\u{218}' | '\u{219}' => 's',
        '\u{21a}' | '\u{21b}' => 't',
        c if c.is_ascii() => c,
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// The folded text of `s`, for the prefilter's tests.
#[cfg(test)]
pub(crate) fn fold_for_test(s: &str) -> String {
    fold(s).text
}

fn nth(table: &str, i: usize) -> Option<char> {
    table.chars().nth(i)
}

/// Every table, in [`super::SPECS`] order.
pub(crate) const TABLES: &[&[&str]] = &[
    UK_NINO,
    CA_SIN,
    FR_NIR,
    DE_TAX_ID,
    IT_CODICE_FISCALE,
    ES_DNI,
    BR_CPF,
    BR_CNPJ,
    IN_AADHAAR,
    IN_PAN,
    CN_RESIDENT_ID,
    JP_MY_NUMBER,
    KR_RRN,
    AU_TFN,
    MX_CURP,
    NL_BSN,
    SE_PERSONNUMMER,
    PL_PESEL,
    US_ITIN,
    PASSPORT,
    DRIVERS_LICENSE,
];

/// The folded keywords of all tables and, per pattern, its identifier and whether it is short.
struct Matcher {
    ac: AhoCorasick,
    owners: Vec<(usize, bool)>,
}

static MATCHER: LazyLock<Option<Matcher>> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut owners = Vec::new();
    for (id, table) in TABLES.iter().enumerate() {
        for k in table.iter() {
            let folded = fold(k).text;
            // Run together too, as camel-case tag keys read once lower-cased
            // (`TaxFileNumber`).
            let joined = folded.replace(' ', "");
            if joined != folded && joined.len() >= SHORT {
                owners.push((id, false));
                words.push(joined);
            }
            owners.push((id, folded.len() <= SHORT));
            words.push(folded);
        }
    }
    // Built from the constant tables above; a unit test checks it compiles.
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(&words)
        .ok()?;
    Some(Matcher { ac, owners })
});

/// The keywords found in one field's value: identifier index and where the keyword ends in the
/// original value, in the order they end.
pub(super) fn in_value(value: &str) -> Vec<(usize, usize)> {
    let folded = fold(value);
    let mut out = Vec::new();
    each_keyword(&folded.text, |id, end| {
        if let Some(e) = folded.ends.get(end.wrapping_sub(1)) {
            out.push((id, *e));
        }
    });
    out.sort_by_key(|k| k.1);
    out
}

/// The identifiers one of whose keywords occurs in `keys` (tag key and location).
pub(super) fn in_keys(keys: &str) -> u32 {
    let mut mask = 0;
    each_keyword(&fold(keys).text, |id, _| mask |= 1 << id);
    mask
}

fn each_keyword(text: &str, mut found: impl FnMut(usize, usize)) {
    let Some(m) = MATCHER.as_ref() else {
        return;
    };
    let b = text.as_bytes();
    for hit in m.ac.find_overlapping_iter(text) {
        let Some(&(id, short)) = m.owners.get(hit.pattern().as_usize()) else {
            continue;
        };
        let alone = || {
            let before = hit.start() == 0 || !b[hit.start() - 1].is_ascii_alphanumeric();
            let after = b.get(hit.end()).is_none_or(|c| !c.is_ascii_alphabetic());
            before && after
        };
        if !short || alone() {
            found(id, hit.end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_separators() {
        assert_eq!(
            fold("Numéro d’Assurance_SOCIALE").text,
            "numero d'assurance sociale"
        );
        assert_eq!(fold("FÜHRERSCHEIN-Nr").text, "fuhrerschein nr");
        assert_eq!(fold("Łódź żółć ŞĞ Ș").text, "lodz zolc sg s");
        assert_eq!(fold("身份证 ПАСПОРТ").text, "身份证 паспорт");
        assert_eq!(LATIN1.chars().count(), 64);
        assert_eq!(LATIN_EXT_A.chars().count(), 128);
        let f = fold("é1");
        assert_eq!(f.ends, [2, 3]);
    }

    #[test]
    fn every_table_is_compiled() {
        assert!(MATCHER.is_some());
        assert_eq!(TABLES.len(), super::super::SPECS.len());
    }

    #[test]
    fn finds_keywords_in_any_case_and_accent() {
        let ca = 1;
        for text in [
            "Numéro d'assurance sociale",
            "NUMERO D’ASSURANCE SOCIALE",
            "SIN: x",
            "customer_sin",
        ] {
            assert!(in_value(text).iter().any(|(id, _)| *id == ca), "{text}");
        }
        assert_eq!(in_keys("business using basin"), 0);
        assert_eq!(in_keys("身份证号码") & (1 << 10), 1 << 10);
        assert_eq!(in_value("SIN 1"), [(ca, 3)]);
        assert_eq!(in_value("é sin 1"), [(ca, 6)]);
    }
}

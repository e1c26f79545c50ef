//! `private-key`: PEM (`-----BEGIN … PRIVATE KEY-----`), OpenSSH, PGP and PuTTY private keys.
//!
//! Called by the scanner on content fields holding `-----BEGIN` or `PuTTY-User-Key-File-`. A
//! header alone (documentation, `-----BEGIN RSA PRIVATE KEY-----\n...`) is not a key: some key
//! material (a run of base64) must follow within a few lines.

use super::Hit;

/// Rule id.
pub(crate) const RULE: &str = "private-key";
const PEM: &str = "-----BEGIN ";
const PUTTY: &str = "PuTTY-User-Key-File-";
const MAX_LABEL: usize = 40;
const BODY_WINDOW: usize = 400;
const MIN_BODY_RUN: usize = 16;
/// PuTTY algorithm names (`ssh-ed25519`, `ecdsa-sha2-nistp256`) are short; a longer run is not one.
const MAX_ALG: usize = 32;

/// Every private key block in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    for (start, _) in value.match_indices(PEM) {
        if let Some((end, label)) = pem_header(value, start) {
            if has_key_material(value, end) {
                let excerpt = format!("-----BEGIN {label}-----…");
                out.push(Hit::new(RULE, start, end, excerpt));
            }
        }
    }
    for (start, _) in value.match_indices(PUTTY) {
        if let Some(end) = putty_header(value, start) {
            if has_key_material(value, end) {
                let excerpt = value.get(start..end).unwrap_or(PUTTY).to_string() + "…";
                out.push(Hit::new(RULE, start, end, excerpt));
            }
        }
    }
}

/// `-----BEGIN <label>-----` where the label names a private key; returns its end and label.
fn pem_header(value: &str, start: usize) -> Option<(usize, &str)> {
    let label_start = start + PEM.len();
    // Look for the closing dashes only within the longest label: linear over many headers.
    let head = value.as_bytes().get(label_start..)?;
    let head = head.get(..head.len().min(MAX_LABEL + 5))?;
    let len = head.windows(5).position(|w| w == b"-----")?;
    let label = value.get(label_start..label_start + len)?;
    let private = label.ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK";
    let clean = label.bytes().all(|c| c.is_ascii_uppercase() || c == b' ');
    (private && clean).then_some((label_start + len + 5, label))
}

/// `PuTTY-User-Key-File-2: ssh-rsa`: version digit, colon, algorithm name.
fn putty_header(value: &str, start: usize) -> Option<usize> {
    let b = value.as_bytes();
    let mut i = start + PUTTY.len();
    if !b.get(i)?.is_ascii_digit() || b.get(i + 1) != Some(&b':') {
        return None;
    }
    i += 2;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let alg_start = i;
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
    {
        i += 1;
    }
    (i > alg_start && i - alg_start <= MAX_ALG).then_some(i)
}

/// A run of base64 characters within the window after the header.
fn has_key_material(value: &str, from: usize) -> bool {
    let b = value.as_bytes();
    let to = (from + BODY_WINDOW).min(b.len());
    let mut run = 0;
    for c in b.get(from..to).unwrap_or(&[]) {
        if c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/' {
            run += 1;
            if run >= MIN_BODY_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, out))
    }

    const BODY: &str = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";

    #[test]
    fn finds_private_keys() {
        let rsa = format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}\n-----END RSA PRIVATE KEY-----");
        assert_eq!(excerpts(&rsa), ["-----BEGIN RSA PRIVATE KEY-----…"]);
        let ssh = format!("-----BEGIN OPENSSH PRIVATE KEY-----\\n{BODY}");
        assert_eq!(excerpts(&ssh), ["-----BEGIN OPENSSH PRIVATE KEY-----…"]);
        let pgp = format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{BODY}");
        assert_eq!(excerpts(&pgp), ["-----BEGIN PGP PRIVATE KEY BLOCK-----…"]);
        let putty = format!("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n{BODY}");
        assert_eq!(excerpts(&putty), ["PuTTY-User-Key-File-3: ssh-ed25519…"]);
    }

    #[test]
    fn rejects_headers_without_keys() {
        for v in [
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            &format!("-----BEGIN CERTIFICATE-----\n{BODY}"),
            &format!("-----BEGIN PUBLIC KEY-----\n{BODY}"),
            "paste -----BEGIN PRIVATE KEY----- here",
            "PuTTY-User-Key-File-: x",
            "-----BEGIN ",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }
}

//! The combined CA bundle: the system's trusted roots plus the awsguard CA, as one PEM file.
//!
//! `AWS_CA_BUNDLE`, `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE` and `CURL_CA_BUNDLE` *replace* a
//! client's trust store, so a bundle holding only the awsguard CA would break every non-AWS TLS
//! call the client makes. Used by [`crate::exec`], [`crate::harness`] and `awsguard ca bundle`.
//! [`bundle_pem`] is pure; the loaders and writers around it do the I/O.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Where Debian-family systems keep the roots, read when the platform loader finds none.
pub const FALLBACK_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Why the bundle could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Neither the platform store nor the fallback file had any certificate.
    #[error("no system root certificates found (platform store and {FALLBACK_BUNDLE} are empty)")]
    NoRoots,
    /// Writing the bundle failed.
    #[error("cannot write CA bundle {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The system's trusted roots (platform store, else [`FALLBACK_BUNDLE`]).
pub fn system_roots() -> Result<Vec<CertificateDer<'static>>, BundleError> {
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.certs.is_empty() {
        return Ok(loaded.certs);
    }
    let fallback: Vec<_> = CertificateDer::pem_file_iter(FALLBACK_BUNDLE)
        .map(|iter| iter.filter_map(Result::ok).collect())
        .unwrap_or_default();
    if fallback.is_empty() {
        return Err(BundleError::NoRoots);
    }
    Ok(fallback)
}

/// PEM text of `roots` followed by `ca`, with a comment naming the awsguard CA. Certificates
/// equal to `ca` are not repeated (a bundle built inside another `exec` already holds it).
pub fn bundle_pem(roots: &[CertificateDer<'_>], ca: &CertificateDer<'_>) -> String {
    let mut out = String::new();
    for cert in roots.iter().filter(|c| c.as_ref() != ca.as_ref()) {
        push_pem(&mut out, cert);
    }
    out.push_str("# awsguard local CA (name-constrained to AWS domains)\n");
    push_pem(&mut out, ca);
    out
}

fn push_pem(out: &mut String, cert: &CertificateDer<'_>) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

/// Writes the combined bundle to `path`; returns how many certificates it holds.
pub fn write_bundle(path: &Path, ca: &CertificateDer<'_>) -> Result<usize, BundleError> {
    let roots = system_roots()?;
    let pem = bundle_pem(&roots, ca);
    std::fs::write(path, pem.as_bytes()).map_err(|source| BundleError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(count_certs(&pem))
}

/// Writes the combined bundle of `roots` and `ca` to a new temporary file, deleted when the
/// handle drops.
pub fn temp_bundle(
    roots: &[CertificateDer<'_>],
    ca: &CertificateDer<'_>,
) -> Result<tempfile::NamedTempFile, BundleError> {
    let pem = bundle_pem(roots, ca);
    let io = |source| BundleError::Write {
        path: std::env::temp_dir(),
        source,
    };
    let mut file = tempfile::Builder::new()
        .prefix("awsguard-bundle-")
        .suffix(".pem")
        .tempfile()
        .map_err(io)?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(file)
}

/// How many PEM certificates `pem` holds.
pub fn count_certs(pem: &str) -> usize {
    pem.matches("-----BEGIN CERTIFICATE-----").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(bytes: &[u8]) -> CertificateDer<'static> {
        CertificateDer::from(bytes.to_vec())
    }

    #[test]
    fn roots_come_first_then_the_ca_once() {
        let ca = cert(&[9; 50]);
        let pem = bundle_pem(&[cert(&[1, 2, 3]), ca.clone()], &ca);
        let expected_ca_b64 =
            "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJ\nCQk=\n";
        assert_eq!(
            pem,
            format!(
                "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n\
                 # awsguard local CA (name-constrained to AWS domains)\n\
                 -----BEGIN CERTIFICATE-----\n{expected_ca_b64}-----END CERTIFICATE-----\n"
            )
        );
        assert_eq!(count_certs(&pem), 2);
    }

    #[test]
    fn the_pem_parses_back_to_the_same_certificates() {
        let ca = cert(&[7; 200]);
        let roots = vec![cert(&[1; 100]), cert(&[2; 65])];
        let pem = bundle_pem(&roots, &ca);
        let back: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, vec![roots[0].clone(), roots[1].clone(), ca]);
    }

    #[test]
    fn this_machine_has_system_roots() {
        assert!(system_roots().unwrap().len() > 100);
    }
}

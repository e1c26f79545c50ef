//! Java programs under `exec`: the JDK ignores `HTTPS_PROXY` and `SSL_CERT_FILE`, but reads
//! system properties from `JAVA_TOOL_OPTIONS` in every JVM it starts (Maven, Gradle and their
//! forks included). `exec` sets there the proxy (`https.proxyHost`/`https.proxyPort`, honoured
//! by `HttpsURLConnection`, `java.net.http.HttpClient`'s default proxy selector and the AWS SDK
//! for Java v2's HTTP clients) and a trust store holding the system roots plus the awsguard CA.
//!
//! The trust store is written in the JKS format, which every JDK reads (Java 9 and later load
//! it whatever `keystore.type` says): it is a few dozen lines here, pure and deterministic,
//! where a PKCS#12 store would need either a JVM start (`keytool`, about a second per `exec`)
//! or a stack of new crates, and PKCS#12 certificate-only entries are trusted by Java only when
//! they carry Oracle's private trust attribute.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use rustls_pki_types::CertificateDer;

/// The trust store's password. It protects nothing (the store holds public certificates only);
/// Java checks the file's integrity digest with it.
pub const TRUSTSTORE_PASSWORD: &str = "changeit";

/// JKS file magic and version (the only version that records the certificate type).
const JKS_MAGIC: u32 = 0xFEED_FEED;
const JKS_VERSION: u32 = 2;
/// Tag of a trusted-certificate entry.
const JKS_TRUSTED_CERT: u32 = 2;
/// Salt the JKS integrity digest appends to the password (fixed by the format).
const JKS_DIGEST_SALT: &[u8] = b"Mighty Aphrodite";

/// A JKS trust store of `roots` followed by the awsguard `ca` (alias `awsguard-ca`), each a
/// trusted-certificate entry dated `created_ms` (milliseconds since the Unix epoch), sealed with
/// [`TRUSTSTORE_PASSWORD`]. Roots equal to `ca` are not repeated.
pub fn jks_truststore(
    roots: &[CertificateDer<'_>],
    ca: &CertificateDer<'_>,
    created_ms: i64,
) -> Vec<u8> {
    let entries: Vec<(String, &[u8])> = roots
        .iter()
        .filter(|c| c.as_ref() != ca.as_ref())
        .enumerate()
        .map(|(i, cert)| (format!("root-{i}"), cert.as_ref()))
        .chain(std::iter::once(("awsguard-ca".to_owned(), ca.as_ref())))
        .collect();
    let mut out = Vec::new();
    out.extend_from_slice(&JKS_MAGIC.to_be_bytes());
    out.extend_from_slice(&JKS_VERSION.to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(entries.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (alias, der) in entries {
        out.extend_from_slice(&JKS_TRUSTED_CERT.to_be_bytes());
        push_utf(&mut out, &alias);
        out.extend_from_slice(&created_ms.to_be_bytes());
        push_utf(&mut out, "X.509");
        out.extend_from_slice(&u32::try_from(der.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(der);
    }
    let digest = jks_digest(TRUSTSTORE_PASSWORD, &out);
    out.extend_from_slice(digest.as_ref());
    out
}

/// Java's `DataOutput.writeUTF` for ASCII text (every alias and type written here is ASCII).
fn push_utf(out: &mut Vec<u8>, text: &str) {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes().get(..usize::from(len)).unwrap_or_default());
}

/// SHA-1 over the password's UTF-16BE code units, the format's salt and the store's bytes.
fn jks_digest(password: &str, body: &[u8]) -> ring::digest::Digest {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for unit in password.encode_utf16() {
        ctx.update(&unit.to_be_bytes());
    }
    ctx.update(JKS_DIGEST_SALT);
    ctx.update(body);
    ctx.finish()
}

/// Writes the trust store to a new temporary file, deleted when the handle drops.
pub fn temp_truststore(
    roots: &[CertificateDer<'_>],
    ca: &CertificateDer<'_>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut file = tempfile::Builder::new()
        .prefix("awsguard-truststore-")
        .suffix(".jks")
        .tempfile()?;
    file.write_all(&jks_truststore(roots, ca, now_ms))?;
    file.flush()?;
    Ok(file)
}

/// `JAVA_TOOL_OPTIONS` for the child: what it had, then the proxy for `https` and `http`, the
/// hosts that bypass it (`no_proxy`, the `NO_PROXY` list exec keeps, in Java's `|` syntax), and
/// the trust store.
pub fn java_tool_options(
    existing: Option<&str>,
    proxy: SocketAddr,
    truststore: &Path,
    no_proxy: &str,
) -> String {
    let host = proxy.ip();
    let port = proxy.port();
    let mut options = vec![
        format!("-Dhttps.proxyHost={host}"),
        format!("-Dhttps.proxyPort={port}"),
        format!("-Dhttp.proxyHost={host}"),
        format!("-Dhttp.proxyPort={port}"),
    ];
    let bypass = non_proxy_hosts(no_proxy);
    if !bypass.is_empty() {
        options.push(quoted(&format!("-Dhttp.nonProxyHosts={bypass}")));
    }
    options.push(quoted(&format!(
        "-Djavax.net.ssl.trustStore={}",
        truststore.display()
    )));
    options.push("-Djavax.net.ssl.trustStoreType=JKS".to_owned());
    options.push(format!(
        "-Djavax.net.ssl.trustStorePassword={TRUSTSTORE_PASSWORD}"
    ));
    let ours = options.join(" ");
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(existing) => format!("{existing} {ours}"),
        None => ours,
    }
}

/// A `NO_PROXY` list as `http.nonProxyHosts`: `|`-separated, `.suffix` as `*.suffix`; entries
/// Java cannot express (address ranges, ports) are left out.
fn non_proxy_hosts(no_proxy: &str) -> String {
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.contains('/') && !e.contains('|'))
        .filter(|e| !e.contains(':') || e.starts_with('['))
        .map(|e| match e.strip_prefix('.') {
            Some(suffix) => format!("*.{suffix}"),
            None => e.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// One option, in double quotes when it holds whitespace (the JVM splits the variable on
/// whitespace outside quotes).
fn quoted(option: &str) -> String {
    if option.chars().any(char::is_whitespace) {
        format!("\"{option}\"")
    } else {
        option.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(bytes: &[u8]) -> CertificateDer<'static> {
        CertificateDer::from(bytes.to_vec())
    }

    #[test]
    fn the_trust_store_is_byte_exact_jks() {
        let ca = cert(&[0xCA; 3]);
        let store = jks_truststore(&[cert(&[1, 2]), ca.clone()], &ca, 0x0102);
        let mut expected = vec![0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 2];
        // root-0: tag, alias, date, type, length, DER.
        expected.extend_from_slice(&[0, 0, 0, 2, 0, 6]);
        expected.extend_from_slice(b"root-0");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2, 0, 5]);
        expected.extend_from_slice(b"X.509");
        expected.extend_from_slice(&[0, 0, 0, 2, 1, 2]);
        // The CA, once, last.
        expected.extend_from_slice(&[0, 0, 0, 2, 0, 11]);
        expected.extend_from_slice(b"awsguard-ca");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2, 0, 5]);
        expected.extend_from_slice(b"X.509");
        expected.extend_from_slice(&[0, 0, 0, 3, 0xCA, 0xCA, 0xCA]);
        assert_eq!(&store[..store.len() - 20], expected.as_slice());
        // The digest: SHA-1 of "changeit" in UTF-16BE, the salt, then the body.
        let mut seal = Vec::new();
        for b in "changeit".bytes() {
            seal.extend_from_slice(&[0, b]);
        }
        seal.extend_from_slice(b"Mighty Aphrodite");
        seal.extend_from_slice(&expected);
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &seal);
        assert_eq!(&store[store.len() - 20..], digest.as_ref());
    }

    #[test]
    fn options_name_the_proxy_the_bypass_list_and_the_store_after_existing_ones() {
        let addr: SocketAddr = "127.0.0.1:4123".parse().unwrap();
        let store = Path::new("/tmp/awsguard-truststore-x.jks");
        assert_eq!(
            java_tool_options(
                Some(" -Xmx1g "),
                addr,
                store,
                "localhost,.internal.test,10.0.0.0/8"
            ),
            "-Xmx1g -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=4123 \
             -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4123 \
             -Dhttp.nonProxyHosts=localhost|*.internal.test \
             -Djavax.net.ssl.trustStore=/tmp/awsguard-truststore-x.jks \
             -Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword=changeit"
        );
        let spaced = java_tool_options(None, addr, Path::new("/tmp/a b.jks"), "");
        assert!(
            spaced.starts_with("-Dhttps.proxyHost=127.0.0.1 "),
            "{spaced}"
        );
        assert!(
            spaced.contains(" \"-Djavax.net.ssl.trustStore=/tmp/a b.jks\" "),
            "{spaced}"
        );
        assert!(!spaced.contains("nonProxyHosts"), "{spaced}");
    }
}

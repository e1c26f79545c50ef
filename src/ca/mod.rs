//! The local certificate authority: created once (`awsguard ca init`), loaded by the proxy.
//!
//! The CA carries a critical Name Constraints extension permitting only the AWS partition DNS
//! suffixes (plus domains the user adds with `--permit`) and excluding every IP address, so a stolen
//! key cannot impersonate any other site. Its key is created with mode 0600 in a temporary file in
//! the same directory and renamed into place: it never exists with wider permissions. The directory
//! is created 0700. A key others can read, or a certificate without name constraints, is refused
//! unless the user explicitly allows it ([`LoadPolicy`]).

mod leaf;

pub(crate) use leaf::FixedCert;
pub use leaf::LeafIssuer;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, GeneralSubtree,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// File name of the CA certificate inside the CA directory.
pub const CERT_FILE: &str = "awsguard-ca.pem";
/// File name of the CA private key inside the CA directory.
pub const KEY_FILE: &str = "awsguard-ca.key";

const CA_VALIDITY: Duration = Duration::days(730);

/// Why the CA could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// `init` without `--force` over an existing CA.
    #[error("a CA already exists at {0} (use --force to replace it)")]
    Exists(PathBuf),
    /// No CA at the expected place.
    #[error("no CA at {0} (run `awsguard ca init`)")]
    Missing(PathBuf),
    /// Reading or writing a CA file failed.
    #[error("cannot access {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificate or key file does not parse.
    #[error("invalid CA file {0}")]
    Invalid(PathBuf),
    /// A `--permit` domain is not a DNS name.
    #[error("invalid permitted domain {0:?}")]
    BadDomain(String),
    /// Certificate generation failed.
    #[error("certificate generation failed")]
    Generate(#[from] rcgen::Error),
    /// The key file may be read by other users (refused without `--allow-open-key`).
    #[error("CA key {path} is readable by other users (mode {mode:o}): run `chmod 600` on it, or pass --allow-open-key")]
    OpenKey {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The certificate has no name constraints (refused without `--allow-unconstrained-ca`).
    #[error("CA certificate {0} has no name constraints: a leaked key could impersonate any site; create one with `awsguard ca init --force`, or pass --allow-unconstrained-ca")]
    Unconstrained(PathBuf),
}

/// What a loaded CA may be despite the usual refusals (each loudly warned about).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadPolicy {
    /// Load a key file other users can read.
    pub allow_open_key: bool,
    /// Load a certificate without name constraints.
    pub allow_unconstrained: bool,
}

/// How long a process that lost the race to create a CA waits for the winner's files.
const RACE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where a CA lives on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaPaths {
    /// The certificate (PEM), for clients.
    pub cert: PathBuf,
    /// The private key (PEM, mode 0600).
    pub key: PathBuf,
}

impl CaPaths {
    /// The two files inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        CaPaths {
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
        }
    }

    fn exist(&self) -> bool {
        self.cert.exists() || self.key.exists()
    }
}

/// A loaded CA: signs leaf certificates for intercepted hosts.
pub struct Ca {
    paths: CaPaths,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    permitted: Vec<String>,
    not_after: OffsetDateTime,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("paths", &self.paths)
            .field("permitted", &self.permitted)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Creates a new CA in `dir` permitting `permitted` DNS suffixes. Refuses to replace an existing
    /// one unless `force`.
    pub fn init(
        dir: &Path,
        permitted: &[String],
        force: bool,
        now: OffsetDateTime,
    ) -> Result<Ca, CaError> {
        let paths = CaPaths::in_dir(dir);
        if paths.exist() && !force {
            return Err(CaError::Exists(dir.to_path_buf()));
        }
        for domain in permitted {
            validate_domain(domain)?;
        }
        create_private_dir(dir)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let params = ca_params(permitted, now)?;
        let cert = params.self_signed(&key)?;
        // The certificate is created first and never replaced without `force`: whoever creates
        // it owns this CA and writes the key next; a concurrent `init` fails here, before it
        // has written anything, and can load this one (see `load_or_init`).
        write_atomic(&paths.cert, cert.pem().as_bytes(), 0o644, force)?;
        write_atomic(&paths.key, key.serialize_pem().as_bytes(), 0o600, force)?;
        Ca::load(dir)
    }

    /// Loads the CA from `dir`, refusing an open key or an unconstrained certificate.
    pub fn load(dir: &Path) -> Result<Ca, CaError> {
        Ca::load_with(dir, LoadPolicy::default())
    }

    /// Loads the CA from `dir`; `policy` says which refusals are only warnings.
    pub fn load_with(dir: &Path, policy: LoadPolicy) -> Result<Ca, CaError> {
        let paths = CaPaths::in_dir(dir);
        if !paths.cert.exists() || !paths.key.exists() {
            return Err(CaError::Missing(dir.to_path_buf()));
        }
        check_key_mode(&paths.key, policy.allow_open_key)?;
        let cert_pem = fs::read_to_string(&paths.cert).map_err(|e| io_err(&paths.cert, e))?;
        let key_pem = fs::read_to_string(&paths.key).map_err(|e| io_err(&paths.key, e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|_| CaError::Invalid(paths.key.clone()))?;
        let der = pem_to_der(&cert_pem).ok_or_else(|| CaError::Invalid(paths.cert.clone()))?;
        let (permitted, not_after) =
            read_constraints(&der).ok_or_else(|| CaError::Invalid(paths.cert.clone()))?;
        if permitted.is_empty() {
            let error = CaError::Unconstrained(paths.cert.clone());
            if !policy.allow_unconstrained {
                return Err(error);
            }
            warn_loudly(&error);
        }
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .map_err(|_| CaError::Invalid(paths.cert.clone()))?;
        Ok(Ca {
            paths,
            cert_der: der,
            issuer,
            permitted,
            not_after,
        })
    }

    /// Loads the CA from `dir`, creating it first when there is none (`awsguard run`).
    pub fn load_or_init(
        dir: &Path,
        permitted: &[String],
        now: OffsetDateTime,
    ) -> Result<Ca, CaError> {
        Ca::load_or_init_with(dir, permitted, now, LoadPolicy::default())
    }

    /// [`Ca::load_or_init`] with a load policy. Safe when several processes start at once on an
    /// empty directory: one creates the CA, the others wait for its files and load it.
    pub fn load_or_init_with(
        dir: &Path,
        permitted: &[String],
        now: OffsetDateTime,
        policy: LoadPolicy,
    ) -> Result<Ca, CaError> {
        match Ca::load_with(dir, policy) {
            Err(CaError::Missing(_)) if !CaPaths::in_dir(dir).exist() => {
                match Ca::init(dir, permitted, false, now) {
                    Err(CaError::Exists(_)) => Ca::await_other(dir, policy),
                    Err(CaError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists =>
                    {
                        Ca::await_other(dir, policy)
                    }
                    other => other,
                }
            }
            Err(CaError::Missing(_)) => Ca::await_other(dir, policy),
            other => other,
        }
    }

    /// Another process is creating the CA in `dir`: loads it once both files are there.
    fn await_other(dir: &Path, policy: LoadPolicy) -> Result<Ca, CaError> {
        let deadline = std::time::Instant::now() + RACE_WAIT;
        loop {
            match Ca::load_with(dir, policy) {
                Err(CaError::Missing(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// File locations.
    pub fn paths(&self) -> &CaPaths {
        &self.paths
    }

    /// The DNS suffixes the CA may sign for (its Name Constraints).
    pub fn permitted(&self) -> &[String] {
        &self.permitted
    }

    /// Whether a host is inside the CA's permitted subtrees (and so may be intercepted).
    pub fn permits(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.permitted
            .iter()
            .any(|suffix| host == *suffix || host.ends_with(&format!(".{suffix}")))
    }

    /// The certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// When the CA certificate expires.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// SHA-256 fingerprint of the certificate, colon-separated upper-case hex.
    pub fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.cert_der);
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
}

/// The default permitted suffixes: every AWS partition plus the user's own.
pub fn default_permitted(extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = crate::aws::partition_dns_suffixes()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for domain in extra {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    out
}

fn ca_params(permitted: &[String], now: OffsetDateTime) -> Result<CertificateParams, CaError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "awsguard local CA");
    dn.push(DnType::OrganizationName, "awsguard");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + CA_VALIDITY;
    params.serial_number = Some(random_serial()?);
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted
            .iter()
            .map(|d| GeneralSubtree::DnsName(d.clone()))
            .collect(),
        excluded_subtrees: vec![
            GeneralSubtree::IpAddress(CidrSubnet::V4([0; 4], [0; 4])),
            GeneralSubtree::IpAddress(CidrSubnet::V6([0; 16], [0; 16])),
        ],
    });
    Ok(params)
}

/// A random positive 128-bit serial: leaves share one key, so serials must not derive from it.
pub(crate) fn random_serial() -> Result<SerialNumber, CaError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CaError::Generate(rcgen::Error::RingUnspecified))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

fn validate_domain(domain: &str) -> Result<(), CaError> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(CaError::BadDomain(domain.to_owned()))
    }
}

/// Writes `bytes` to a temporary file created with `mode` in the target's directory, then renames
/// it into place, so the file never exists partially written or with wider permissions.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<(), CaError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".awsguard-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))?;
    // The mode given at creation passes through the umask: set it exactly.
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| io_err(path, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| io_err(path, e))?;
    let persisted = if replace {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| io_err(path, e.error))
}

/// Creates `dir` (and its parents) and makes `dir` itself 0700 if this call created it: the
/// umask must not leave the key's directory open to others.
fn create_private_dir(dir: &Path) -> Result<(), CaError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| io_err(dir, e))
        }
        // Created by a concurrent first run: it sets the mode.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err(dir, e)),
    }
}

/// Refuses (or, when allowed, warns about) a key file that group or others may access.
fn check_key_mode(key: &Path, allow: bool) -> Result<(), CaError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(key)
        .map_err(|e| io_err(key, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let error = CaError::OpenKey {
        path: key.to_path_buf(),
        mode,
    };
    if !allow {
        return Err(error);
    }
    warn_loudly(&error);
    Ok(())
}

/// A refusal the user overrode: said on stderr whatever the log level.
fn warn_loudly(error: &CaError) {
    eprintln!("awsguard: WARNING: {error} (loaded anyway as asked)");
    tracing::warn!(%error, "CA loaded despite a refusal");
}

fn io_err(path: &Path, source: std::io::Error) -> CaError {
    CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).ok()
}

/// The permitted DNS subtrees and expiry written in a CA certificate.
fn read_constraints(der: &[u8]) -> Option<(Vec<String>, OffsetDateTime)> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut permitted = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() {
            for subtree in nc.permitted_subtrees.iter().flatten() {
                if let GeneralName::DNSName(name) = subtree.base {
                    permitted.push(name.to_ascii_lowercase());
                }
            }
        }
    }
    Some((permitted, cert.validity().not_after.to_datetime()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn init_writes_key_0600_and_constraints() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::init(
            dir.path(),
            &default_permitted(&["example.test".into()]),
            false,
            now(),
        )
        .unwrap();
        let mode = fs::metadata(&ca.paths().key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(ca.permitted().contains(&"amazonaws.com".to_owned()));
        assert!(ca.permitted().contains(&"example.test".to_owned()));
        assert!(ca.permits("sqs.us-east-1.amazonaws.com"));
        assert!(ca.permits("SQS.US-EAST-1.AMAZONAWS.COM."));
        assert!(!ca.permits("evilamazonaws.com"));
        assert!(!ca.permits("example.com"));
        assert_eq!(ca.fingerprint().len(), 32 * 3 - 1);
    }

    #[test]
    fn init_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let first = Ca::init(dir.path(), &default_permitted(&[]), false, now()).unwrap();
        let err = Ca::init(dir.path(), &default_permitted(&[]), false, now()).unwrap_err();
        assert!(matches!(err, CaError::Exists(_)));
        let second = Ca::init(dir.path(), &default_permitted(&[]), true, now()).unwrap();
        assert_ne!(first.fingerprint(), second.fingerprint());
    }

    #[test]
    fn load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let made = Ca::init(dir.path(), &default_permitted(&[]), false, now()).unwrap();
        let loaded = Ca::load(dir.path()).unwrap();
        assert_eq!(made.fingerprint(), loaded.fingerprint());
        assert_eq!(made.permitted(), loaded.permitted());
    }

    #[test]
    fn a_key_others_can_read_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let made = Ca::init(dir.path(), &default_permitted(&[]), false, now()).unwrap();
        fs::set_permissions(&made.paths().key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Ca::load(dir.path()).unwrap_err();
        assert!(matches!(err, CaError::OpenKey { mode: 0o644, .. }), "{err}");
        let policy = LoadPolicy {
            allow_open_key: true,
            ..LoadPolicy::default()
        };
        assert_eq!(
            Ca::load_with(dir.path(), policy).unwrap().fingerprint(),
            made.fingerprint()
        );
    }

    #[test]
    fn a_ca_without_name_constraints_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let made = Ca::init(dir.path(), &default_permitted(&[]), false, now()).unwrap();
        let key = KeyPair::from_pem(&fs::read_to_string(&made.paths().key).unwrap()).unwrap();
        let mut params = ca_params(&[], now()).unwrap();
        params.name_constraints = None;
        let open = params.self_signed(&key).unwrap();
        fs::write(&made.paths().cert, open.pem()).unwrap();
        let err = Ca::load(dir.path()).unwrap_err();
        assert!(matches!(err, CaError::Unconstrained(_)), "{err}");
        let policy = LoadPolicy {
            allow_unconstrained: true,
            ..LoadPolicy::default()
        };
        assert!(Ca::load_with(dir.path(), policy).is_ok());
    }

    #[test]
    fn a_new_ca_directory_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("home").join("ca");
        Ca::init(&ca_dir, &default_permitted(&[]), false, now()).unwrap();
        let mode = fs::metadata(&ca_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn concurrent_first_loads_share_one_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let permitted = default_permitted(&[]);
        let fingerprints: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| scope.spawn(|| Ca::load_or_init(&ca_dir, &permitted, now())))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap().fingerprint())
                .collect()
        });
        assert!(fingerprints.iter().all(|f| *f == fingerprints[0]));
    }

    #[test]
    fn missing_and_bad_domains_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Ca::load(dir.path()), Err(CaError::Missing(_))));
        let err = Ca::init(dir.path(), &["bad domain".into()], false, now()).unwrap_err();
        assert_eq!(err.to_string(), "invalid permitted domain \"bad domain\"");
    }
}

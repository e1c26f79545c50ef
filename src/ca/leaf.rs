//! Leaf certificates for intercepted hosts, signed by the CA, cached in a bounded LRU.
//!
//! Used as the rustls certificate resolver of the client-facing TLS leg. All leaves share one
//! process-lifetime ECDSA P-256 key that is not the CA key: issuing a leaf is then one signature,
//! and the CA key signs certificates only. Leaves are short-lived and re-issued at half-life.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::{random_serial, Ca, CaError};

const LEAF_VALIDITY: Duration = Duration::days(2);

/// Issues and caches leaf certificates; the TLS resolver of intercepted connections.
pub struct LeafIssuer {
    ca: Arc<Ca>,
    key: KeyPair,
    signing_key: Arc<dyn rustls::sign::SigningKey>,
    cache: Mutex<LruCache<String, CachedLeaf>>,
    clock: fn() -> OffsetDateTime,
}

#[derive(Clone)]
struct CachedLeaf {
    certified: Arc<CertifiedKey>,
    renew_after: OffsetDateTime,
}

impl std::fmt::Debug for LeafIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafIssuer").finish_non_exhaustive()
    }
}

impl LeafIssuer {
    /// A new issuer with a fresh leaf key and a cache of at most `capacity` hosts.
    pub fn new(ca: Arc<Ca>, capacity: NonZeroUsize) -> Result<Self, CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing_key = rustls::crypto::ring::sign::any_ecdsa_type(&der)
            .map_err(|_| CaError::Generate(rcgen::Error::RingUnspecified))?;
        Ok(LeafIssuer {
            ca,
            key,
            signing_key,
            cache: Mutex::new(LruCache::new(capacity)),
            clock: OffsetDateTime::now_utc,
        })
    }

    /// The certificate and key to present for `host`, from the cache or freshly issued.
    pub fn certified(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let now = (self.clock)();
        if let Some(hit) = self.lookup(&host, now) {
            return Ok(hit);
        }
        let certified = Arc::new(self.issue(&host, now)?);
        let entry = CachedLeaf {
            certified: certified.clone(),
            renew_after: now + LEAF_VALIDITY / 2,
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.put(host, entry);
        }
        Ok(certified)
    }

    fn lookup(&self, host: &str, now: OffsetDateTime) -> Option<Arc<CertifiedKey>> {
        let mut cache = self.cache.lock().ok()?;
        let hit = cache.get(host)?;
        (hit.renew_after > now).then(|| hit.certified.clone())
    }

    fn issue(&self, host: &str, now: OffsetDateTime) -> Result<CertifiedKey, CaError> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, host.to_owned());
        let san = host
            .to_owned()
            .try_into()
            .map_err(|_| CaError::BadDomain(host.to_owned()))?;
        params.subject_alt_names = vec![SanType::DnsName(san)];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + LEAF_VALIDITY;
        params.serial_number = Some(random_serial()?);
        let cert = params.signed_by(&self.key, self.ca.issuer())?;
        Ok(CertifiedKey::new(
            vec![cert.der().clone()],
            self.signing_key.clone(),
        ))
    }
}

impl ResolvesServerCert for LeafIssuer {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = client_hello.server_name()?;
        match self.certified(host) {
            Ok(certified) => Some(certified),
            Err(error) => {
                tracing::warn!(%error, "cannot issue a leaf certificate");
                None
            }
        }
    }
}

/// Presents one fixed certificate: for clients that send no SNI (the CONNECT host is used).
#[derive(Debug)]
pub(crate) struct FixedCert(pub(crate) Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(capacity: usize) -> (tempfile::TempDir, LeafIssuer) {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::init(
            dir.path(),
            &super::super::default_permitted(&[]),
            false,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        let issuer = LeafIssuer::new(Arc::new(ca), NonZeroUsize::new(capacity).unwrap()).unwrap();
        (dir, issuer)
    }

    #[test]
    fn leaves_are_cached_per_host() {
        let (_dir, issuer) = issuer(2);
        let a = issuer.certified("sqs.us-east-1.amazonaws.com").unwrap();
        let again = issuer.certified("SQS.us-east-1.amazonaws.com.").unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let b = issuer.certified("sts.amazonaws.com").unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn cache_is_bounded() {
        let (_dir, issuer) = issuer(2);
        let a = issuer.certified("a.amazonaws.com").unwrap();
        issuer.certified("b.amazonaws.com").unwrap();
        issuer.certified("c.amazonaws.com").unwrap();
        assert_eq!(issuer.cache.lock().unwrap().len(), 2);
        let a2 = issuer.certified("a.amazonaws.com").unwrap();
        assert!(!Arc::ptr_eq(&a, &a2));
    }

    #[test]
    fn leaf_names_the_host_and_not_the_ca_key() {
        let (_dir, issuer) = issuer(4);
        let leaf = issuer.certified("s3.us-west-2.amazonaws.com").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf.cert[0]).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            format!("{:?}", san.value.general_names),
            "[DNSName(\"s3.us-west-2.amazonaws.com\")]"
        );
        let (_, ca) = x509_parser::parse_x509_certificate(issuer.ca.cert_der()).unwrap();
        assert_ne!(cert.public_key().raw, ca.public_key().raw);
    }
}

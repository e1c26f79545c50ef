//! `awsguard ca trust`: how to trust the awsguard CA on each platform, as text to read.
//!
//! Called by `main.rs`. Pure: awsguard never changes the system trust store itself; trusting a
//! CA system-wide is the user's decision, and `awsguard exec` / `ca bundle` usually avoid it.

use std::path::Path;

/// Per-platform instructions for trusting the CA certificate at `cert`.
pub fn instructions(cert: &Path) -> String {
    let c = cert.display();
    format!(
        "\
The awsguard CA ({c}) is name-constrained: it can only vouch for AWS domains (and any
--permit domains), never for IP addresses or other sites. Trusting it system-wide is still
a choice; usually you do not need to:
  - `awsguard exec -- CMD` gives CMD a combined bundle (system roots + this CA) by itself;
  - `awsguard ca bundle --out FILE` writes that bundle for AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE /
    SSL_CERT_FILE (these replace the system roots, so never point them at the CA alone);
  - Node.js adds certificates with NODE_EXTRA_CA_CERTS={c}

To trust it system-wide:

Debian / Ubuntu
  sudo cp {c} /usr/local/share/ca-certificates/awsguard-ca.crt
  sudo update-ca-certificates
  (undo: remove the file, then sudo update-ca-certificates --fresh)

Fedora / RHEL / Amazon Linux
  sudo cp {c} /etc/pki/ca-trust/source/anchors/awsguard-ca.pem
  sudo update-ca-trust
  (undo: remove the file, then sudo update-ca-trust)

macOS
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {c}
  (undo: sudo security remove-trusted-cert -d {c})

Windows (PowerShell as administrator)
  Import-Certificate -FilePath {c} -CertStoreLocation Cert:\\LocalMachine\\Root

Java (per JDK)
  keytool -importcert -cacerts -alias awsguard -file {c}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_names_the_certificate() {
        let text = instructions(Path::new("/home/u/certs/awsguard-ca.pem"));
        for needle in [
            "update-ca-certificates",
            "update-ca-trust",
            "security add-trusted-cert",
            "Import-Certificate -FilePath /home/u/certs/awsguard-ca.pem",
            "keytool -importcert -cacerts -alias awsguard -file /home/u/certs/awsguard-ca.pem",
            "NODE_EXTRA_CA_CERTS=/home/u/certs/awsguard-ca.pem",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        assert_eq!(text.matches("/home/u/certs/awsguard-ca.pem").count(), 8);
    }
}

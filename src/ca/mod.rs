//! The cluster's certificate authority, node certificates, join tokens and unlock keys.
//!
//! The root CA (ECDSA P-256, CN `swarm-ca`) signs one certificate per node: CN = node ID,
//! OU = `swarm-manager` or `swarm-worker`, O = cluster ID, as swarm's are. A join token names
//! the CA it trusts: `SWMTKN-1-<digest of the CA certificate>-<secret>`.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sha2::{Digest, Sha256};

/// 20 years, like swarm's root CA.
const ROOT_VALIDITY_DAYS: i64 = 20 * 365;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("stored certificate is not valid: {0}")]
    Parse(String),
}

/// A root CA: certificate and private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCa {
    pub cert_pem: String,
    pub key_pem: String,
}

/// What `TLSInfo` shows about the root CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustInfo {
    pub trust_root: String,
    /// base64 of the DER subject of the root certificate.
    pub cert_issuer_subject: String,
    /// base64 of the DER SubjectPublicKeyInfo of the root certificate.
    pub cert_issuer_public_key: String,
}

/// A node's certificate and key, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

impl RootCa {
    /// Creates a new self-signed root CA.
    pub fn generate() -> Result<Self, CaError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut name = DistinguishedName::new();
        // PrintableString, as swarm's root names itself (not rcgen's default UTF8String).
        let common_name =
            rcgen::string::PrintableString::try_from("swarm-ca").map_err(CaError::Generate)?;
        name.push(
            DnType::CommonName,
            rcgen::DnValue::PrintableString(common_name),
        );
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(ROOT_VALIDITY_DAYS);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    fn cert_der(&self) -> Result<Vec<u8>, CaError> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(self.cert_pem.as_bytes())
            .map_err(|e| CaError::Parse(e.to_string()))?;
        Ok(pem.contents)
    }

    /// The `TLSInfo` fields for this root.
    pub fn trust_info(&self) -> Result<TrustInfo, CaError> {
        let der = self.cert_der()?;
        let (_, cert) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| CaError::Parse(e.to_string()))?;
        Ok(TrustInfo {
            trust_root: self.cert_pem.clone(),
            cert_issuer_subject: STANDARD.encode(cert.tbs_certificate.subject.as_raw()),
            cert_issuer_public_key: STANDARD.encode(cert.tbs_certificate.subject_pki.raw),
        })
    }

    /// The CA part of join tokens: sha256 of the certificate in base36, 50 characters.
    pub fn digest(&self) -> Result<String, CaError> {
        let hash = Sha256::digest(self.cert_der()?);
        Ok(base36_padded(&hash, 50))
    }

    /// Signs a certificate for a node.
    pub fn issue(
        &self,
        node_id: &str,
        role: NodeRole,
        cluster_id: &str,
        validity: std::time::Duration,
    ) -> Result<NodeCertificate, CaError> {
        let ca_key = KeyPair::from_pem(&self.key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, ca_key)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![role.organizational_unit().to_string()])?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, node_id);
        name.push(DnType::OrganizationalUnitName, role.organizational_unit());
        name.push(DnType::OrganizationName, cluster_id);
        params.distinguished_name = name;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + validity;
        let cert = params.signed_by(&key, &issuer)?;
        Ok(NodeCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The role written into a node certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    Manager,
    Worker,
}

impl NodeRole {
    pub fn organizational_unit(self) -> &'static str {
        match self {
            NodeRole::Manager => "swarm-manager",
            NodeRole::Worker => "swarm-worker",
        }
    }
}

/// A join token for `role`: `SWMTKN-1-<ca digest>-<25 random base36 characters>`.
pub fn join_token(ca_digest: &str) -> String {
    let mut secret = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut secret);
    format!("SWMTKN-1-{ca_digest}-{}", base36_padded(&secret, 25))
}

/// A new autolock key: `SWMKEY-1-` and 32 random bytes in base64 (no padding).
pub fn unlock_key() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("SWMKEY-1-{}", STANDARD_NO_PAD.encode(key))
}

/// Whether `key` has the shape of an unlock key.
pub fn is_unlock_key(key: &str) -> bool {
    key.strip_prefix("SWMKEY-1-")
        .and_then(|rest| STANDARD_NO_PAD.decode(rest).ok())
        .is_some_and(|bytes| bytes.len() == 32)
}

/// `bytes` as a big-endian number in base36, left-padded with zeros to `width`.
fn base36_padded(bytes: &[u8], width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut number: Vec<u8> = bytes.to_vec();
    let mut out = Vec::new();
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 36) as u8;
            remainder = value % 36;
        }
        out.push(DIGITS[remainder as usize]);
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_ca_and_tokens_have_swarms_shapes() {
        let ca = RootCa::generate().unwrap();
        let info = ca.trust_info().unwrap();
        assert!(info.trust_root.starts_with("-----BEGIN CERTIFICATE-----"));
        // DER of "CN=swarm-ca", as the engine shows it.
        assert_eq!(info.cert_issuer_subject, "MBMxETAPBgNVBAMTCHN3YXJtLWNh");
        let digest = ca.digest().unwrap();
        assert_eq!(digest.len(), 50);
        let token = join_token(&digest);
        assert!(token.starts_with(&format!("SWMTKN-1-{digest}-")));
        assert_eq!(token.len(), "SWMTKN-1-".len() + 50 + 1 + 25);
        assert_ne!(join_token(&digest), token);
    }

    #[test]
    fn node_certificates_name_the_node() {
        let ca = RootCa::generate().unwrap();
        let cert = ca
            .issue(
                "node1",
                NodeRole::Manager,
                "cluster1",
                std::time::Duration::from_secs(3600),
            )
            .unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert.cert_pem.as_bytes()).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&pem.contents).unwrap();
        let subject = parsed.subject().to_string();
        assert!(subject.contains("CN=node1"), "{subject}");
        assert!(subject.contains("OU=swarm-manager"), "{subject}");
        assert!(subject.contains("O=cluster1"), "{subject}");
    }

    #[test]
    fn unlock_keys_round_trip_their_shape() {
        let key = unlock_key();
        assert!(is_unlock_key(&key), "{key}");
        assert!(!is_unlock_key("SWMKEY-1-notreal"));
        assert!(!is_unlock_key("nope"));
    }

    #[test]
    fn base36_pads() {
        assert_eq!(base36_padded(&[0], 3), "000");
        assert_eq!(base36_padded(&[36], 3), "010");
        assert_eq!(base36_padded(&[1, 0], 2), "74");
    }
}

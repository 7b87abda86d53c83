//! MSP identities: X.509 certificates chained to an organization's root CAs, and ECDSA P-256
//! signatures with Fabric's low-S rule.

use der::asn1::ObjectIdentifier;
use der::{Decode, DecodePem, Encode};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::Certificate;

use super::proto::{FabricMspConfig, SerializedIdentity};
use super::{
    bound, decode_bounded, FabricError, MAX_CERTS_PER_MSP, MAX_IDENTITY_BYTES, MAX_ID_LEN,
    MAX_INTERMEDIATE_DEPTH,
};

/// `ecdsa-with-SHA256`.
pub const OID_ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `id-ecPublicKey`.
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1` (P-256).
pub const OID_SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `id-ce-basicConstraints`.
pub const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// One certificate authority of an MSP with its P-256 key.
#[derive(Clone, Debug)]
struct Ca {
    cert: Certificate,
    key: VerifyingKey,
}

/// An organization's membership service provider: its id and the CAs whose certificates it
/// accepts (roots, and intermediates that chain to a root).
#[derive(Clone, Debug)]
pub struct Msp {
    id: String,
    cas: Vec<Ca>,
}

impl Msp {
    /// Build from PEM or DER root and intermediate certificates. Intermediates that do not
    /// chain to a root (within [`MAX_INTERMEDIATE_DEPTH`]) are dropped, as Fabric's MSP
    /// setup would refuse them.
    pub fn new(
        id: &str,
        roots: &[Vec<u8>],
        intermediates: &[Vec<u8>],
    ) -> Result<Self, FabricError> {
        bound("MSP id", id.len(), MAX_ID_LEN)?;
        if id.is_empty() {
            return Err(FabricError::MissingField { what: "MSP id" });
        }
        bound(
            "MSP certificates",
            roots.len().saturating_add(intermediates.len()),
            MAX_CERTS_PER_MSP,
        )?;
        if roots.is_empty() {
            return Err(FabricError::MissingField {
                what: "MSP root certificates",
            });
        }
        let mut cas = Vec::with_capacity(roots.len().saturating_add(intermediates.len()));
        for r in roots {
            let cert = parse_certificate(r)?;
            let key = certificate_key(&cert)?;
            cas.push(Ca { cert, key });
        }
        let mut pending = Vec::with_capacity(intermediates.len());
        for i in intermediates {
            let cert = parse_certificate(i)?;
            let key = certificate_key(&cert)?;
            pending.push(Ca { cert, key });
        }
        // Each round admits the intermediates issued by an already admitted CA.
        for _ in 0..MAX_INTERMEDIATE_DEPTH {
            let before = pending.len();
            let mut rest = Vec::with_capacity(before);
            for ca in pending {
                if issued_by_any(&ca.cert, &cas) {
                    cas.push(ca);
                } else {
                    rest.push(ca);
                }
            }
            pending = rest;
            if pending.len() == before {
                break;
            }
        }
        Ok(Self {
            id: id.to_string(),
            cas,
        })
    }

    /// Build from a channel config's `FabricMSPConfig`.
    pub fn from_fabric_config(cfg: &FabricMspConfig) -> Result<Self, FabricError> {
        Self::new(&cfg.name, &cfg.root_certs, &cfg.intermediate_certs)
    }

    /// The MSP id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Number of accepted CAs (roots plus chained intermediates).
    pub fn ca_count(&self) -> usize {
        self.cas.len()
    }

    /// Check that `cert` is an end-entity certificate issued by one of this MSP's CAs.
    ///
    /// Validity dates are not compared with a clock (the verifier has none and Fabric's MSP
    /// also validates chains at the certificate's own `notBefore`); revocation lists are not
    /// consulted (see the module docs).
    pub fn validate(&self, cert: &Certificate) -> Result<(), FabricError> {
        if is_ca(cert)? {
            return Err(FabricError::CertIsCa);
        }
        if issued_by_any(cert, &self.cas) {
            Ok(())
        } else {
            Err(FabricError::CertNotChained {
                mspid: self.id.clone(),
            })
        }
    }
}

fn issued_by_any(cert: &Certificate, cas: &[Ca]) -> bool {
    cas.iter().any(|ca| {
        ca.cert.tbs_certificate.subject == cert.tbs_certificate.issuer
            && verify_cert_signature(cert, &ca.key).is_ok()
    })
}

/// Verify the CA signature on `cert`. Certificate signatures are checked without the low-S
/// rule: Go's x509 (which Fabric uses for chains) accepts either S, and CAs sign with it.
pub fn verify_cert_signature(cert: &Certificate, issuer: &VerifyingKey) -> Result<(), FabricError> {
    if cert.signature_algorithm.oid != OID_ECDSA_WITH_SHA256
        || cert.tbs_certificate.signature.oid != OID_ECDSA_WITH_SHA256
    {
        return Err(FabricError::UnsupportedAlgorithm {
            what: "certificate signature",
        });
    }
    let sig_bytes = cert
        .signature
        .as_bytes()
        .ok_or(FabricError::BadSignatureEncoding)?;
    let sig = Signature::from_der(sig_bytes).map_err(|_| FabricError::BadSignatureEncoding)?;
    let sig = sig.normalize_s().unwrap_or(sig);
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|_| FabricError::BadCertificate)?;
    issuer
        .verify(&tbs, &sig)
        .map_err(|_| FabricError::InvalidSignature {
            what: "certificate",
        })
}

/// Whether the certificate's basic constraints mark it as a CA.
fn is_ca(cert: &Certificate) -> Result<bool, FabricError> {
    let Some(exts) = &cert.tbs_certificate.extensions else {
        return Ok(false);
    };
    for ext in exts {
        if ext.extn_id == OID_BASIC_CONSTRAINTS {
            let bc = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|_| FabricError::BadCertificate)?;
            return Ok(bc.ca);
        }
    }
    Ok(false)
}

/// Parse a certificate given as PEM (as Fabric stores them) or DER.
pub fn parse_certificate(bytes: &[u8]) -> Result<Certificate, FabricError> {
    bound("certificate bytes", bytes.len(), MAX_IDENTITY_BYTES)?;
    let cert = if bytes.starts_with(b"-----BEGIN") {
        Certificate::from_pem(bytes)
    } else {
        Certificate::from_der(bytes)
    };
    cert.map_err(|_| FabricError::BadCertificate)
}

/// The certificate's subject key, which must be an EC P-256 key.
pub fn certificate_key(cert: &Certificate) -> Result<VerifyingKey, FabricError> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
        return Err(FabricError::UnsupportedAlgorithm { what: "public key" });
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    if curve != Some(OID_SECP256R1) {
        return Err(FabricError::UnsupportedAlgorithm {
            what: "public key curve",
        });
    }
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or(FabricError::BadCertificate)?;
    VerifyingKey::from_sec1_bytes(point).map_err(|_| FabricError::BadCertificate)
}

/// Verify an ECDSA P-256 / SHA-256 DER signature over `msg`, refusing high-S signatures as
/// Fabric's BCCSP does (a high-S twin of a valid signature is a malleated copy).
pub fn verify_low_s(
    key: &VerifyingKey,
    msg: &[u8],
    sig_der: &[u8],
    what: &'static str,
) -> Result<(), FabricError> {
    let sig = Signature::from_der(sig_der).map_err(|_| FabricError::BadSignatureEncoding)?;
    if sig.normalize_s().is_some() {
        return Err(FabricError::HighS);
    }
    key.verify(msg, &sig)
        .map_err(|_| FabricError::InvalidSignature { what })
}

/// A decoded signing identity: MSP id, certificate and key.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The MSP the identity claims.
    pub mspid: String,
    /// The signer's certificate.
    pub cert: Certificate,
    /// The certificate's P-256 key.
    pub key: VerifyingKey,
}

/// Decode a serialized `msp.SerializedIdentity` (MSP id + PEM certificate).
pub fn parse_identity(bytes: &[u8]) -> Result<Identity, FabricError> {
    let sid: SerializedIdentity = decode_bounded(bytes, "serialized identity", MAX_IDENTITY_BYTES)?;
    bound("MSP id", sid.mspid.len(), MAX_ID_LEN)?;
    if sid.mspid.is_empty() {
        return Err(FabricError::MissingField {
            what: "identity MSP id",
        });
    }
    let cert = parse_certificate(&sid.id_bytes)?;
    let key = certificate_key(&cert)?;
    Ok(Identity {
        mspid: sid.mspid,
        cert,
        key,
    })
}

/// Decode `identity`, find its MSP among `msps` (the `role` section of the channel config),
/// check the certificate chain and the low-S signature over `msg`. Returns the MSP id.
pub fn verify_signed_by_member<'a>(
    msps: &'a std::collections::BTreeMap<String, Msp>,
    role: &'static str,
    identity: &[u8],
    msg: &[u8],
    sig_der: &[u8],
    what: &'static str,
) -> Result<&'a str, FabricError> {
    let id = parse_identity(identity)?;
    let msp = msps.get(&id.mspid).ok_or_else(|| FabricError::UnknownMsp {
        mspid: id.mspid.clone(),
        role,
    })?;
    msp.validate(&id.cert)?;
    verify_low_s(&id.key, msg, sig_der, what)?;
    Ok(msp.id())
}

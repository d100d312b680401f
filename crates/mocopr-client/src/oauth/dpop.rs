//! DPoP (RFC 9449): access tokens bound to a key the client holds, each request carrying a
//! fresh proof signed with it. The key is an ES256 pair made by aws-lc-rs for one endpoint's
//! client and kept in memory only; proofs are JWTs signed by jsonwebtoken.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType, Jwk,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::http::refused;
use super::registration::random_text;
use crate::error::ClientError;

/// The one proof algorithm this client signs with.
pub(crate) const ALGORITHM: &str = "ES256";

/// A DPoP key pair: the private half to sign proofs, the public half (a JWK) to put in them.
#[derive(Clone)]
pub(crate) struct DpopKey {
    signing: EncodingKey,
    public: Jwk,
}

impl DpopKey {
    /// A new P-256 key pair.
    pub(crate) fn generate() -> Result<Self, ClientError> {
        let failed = |_| refused("no DPoP key could be made");
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
        // The public key is the uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(refused("the DPoP public key is not an uncompressed P-256 point"));
        }
        let public = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: URL_SAFE_NO_PAD.encode(&point[33..]),
            }),
        };
        Ok(DpopKey { signing: EncodingKey::from_ec_der(pkcs8.as_ref()), public })
    }

    /// A proof for a `method` request to `url` (its query and fragment are left out), with
    /// the server's `nonce` when it gave one and, for a resource request, the hash of the
    /// `access_token` it carries.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &url::Url,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, ClientError> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut claims = json!({"jti": random_text(16)?, "htm": method, "htu": htu.as_str(), "iat": now});
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.public.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| refused(format!("the DPoP proof could not be signed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    #[test]
    fn a_proof_verifies_with_the_key_it_names() {
        let key = DpopKey::generate().unwrap();
        let url = url::Url::parse("https://mcp.example.com/mcp?x=1#f").unwrap();
        let proof = key.proof("POST", &url, Some("n-1"), Some("token")).unwrap();
        let header = jsonwebtoken::decode_header(&proof).unwrap();
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        let public = DecodingKey::from_jwk(header.jwk.as_ref().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_required_spec_claims::<&str>(&[]);
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(&proof, &public, &validation).unwrap().claims;
        assert_eq!(claims["htu"], "https://mcp.example.com/mcp");
        assert_eq!((claims["htm"].as_str(), claims["nonce"].as_str()), (Some("POST"), Some("n-1")));
        assert_eq!(claims["ath"], URL_SAFE_NO_PAD.encode(Sha256::digest(b"token")));
        assert_ne!(
            key.proof("POST", &url, None, None).unwrap(),
            key.proof("POST", &url, None, None).unwrap(),
            "a fresh jti each time"
        );
    }
}

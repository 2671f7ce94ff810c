//! Web Push: the message encryption of RFC 8291 (aes128gcm, RFC 8188) and the VAPID
//! authorization of RFC 8292 (an ES256 JWT), both with ring. The server's VAPID key pair is a
//! P-256 PKCS#8 document in `DATA_DIR/keys/vapid.key`, created on first use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("VAPID key: {0}")]
    Key(String),
    #[error("subscription keys are malformed")]
    Subscription,
    #[error("crypto failure")]
    Crypto,
    #[error("endpoint is not an https (or local http) URL")]
    Endpoint,
}

/// The server's VAPID key pair.
pub struct Vapid {
    pair: EcdsaKeyPair,
}

impl Vapid {
    pub fn load(data_dir: &std::path::Path) -> Result<Vapid, PushError> {
        let rng = SystemRandom::new();
        let doc = crate::platform::keys::load_or_create_with(data_dir, "vapid", || {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .ok()
                .map(|d| d.as_ref().to_vec())
        })
        .map_err(|e| PushError::Key(e.to_string()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &doc, &rng)
            .map_err(|e| PushError::Key(e.to_string()))?;
        Ok(Vapid { pair })
    }

    /// The uncompressed public point (65 bytes), base64url: the page's `applicationServerKey`.
    pub fn public_key(&self) -> String {
        B64.encode(self.pair.public_key().as_ref())
    }

    /// `Authorization: vapid t=<JWT>, k=<public key>` for a push to `endpoint`; the JWT's
    /// audience is the endpoint's origin and it expires in 12 hours (RFC 8292 allows 24).
    pub fn authorization(&self, endpoint: &str, now_unix: i64) -> Result<String, PushError> {
        let aud = origin(endpoint).ok_or(PushError::Endpoint)?;
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64.encode(
            serde_json::json!({"aud": aud, "exp": now_unix + 12 * 3600, "sub": SUBJECT})
                .to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let sig = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| PushError::Crypto)?;
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            B64.encode(sig.as_ref()),
            self.public_key()
        ))
    }
}

/// Whom a push service may contact about this sender's messages.
const SUBJECT: &str = "mailto:security@qorgau.invalid";

/// `scheme://host[:port]` of a URL; https, or http for a local test service.
pub fn origin(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "https" | "http") || u.host_str().is_none() {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

struct Len(usize);
impl ring::hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) -> Result<(), PushError> {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt).extract(ikm);
    prk.expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| PushError::Crypto)
}

/// The content-encryption key and nonce of RFC 8291 section 3.4 from the ECDH secret.
pub fn derive(
    ecdh_secret: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> Result<([u8; 16], [u8; 12]), PushError> {
    let mut ikm = [0u8; 32];
    hkdf(
        auth,
        ecdh_secret,
        &[b"WebPush: info\0", ua_public, as_public],
        &mut ikm,
    )?;
    let mut cek = [0u8; 16];
    hkdf(salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], &mut cek)?;
    let mut nonce = [0u8; 12];
    hkdf(salt, &ikm, &[b"Content-Encoding: nonce\0"], &mut nonce)?;
    Ok((cek, nonce))
}

/// Encrypts `plaintext` for one subscription (its `p256dh` and `auth`, base64url) as a single
/// aes128gcm record: header (salt, record size, the sender's ephemeral public key), then the
/// ciphertext of the text with its 0x02 delimiter.
pub fn encrypt(p256dh: &str, auth: &str, plaintext: &[u8]) -> Result<Vec<u8>, PushError> {
    let ua_public = B64
        .decode(p256dh.trim_end_matches('='))
        .map_err(|_| PushError::Subscription)?;
    let auth = B64
        .decode(auth.trim_end_matches('='))
        .map_err(|_| PushError::Subscription)?;
    if ua_public.len() != 65 || auth.len() != 16 {
        return Err(PushError::Subscription);
    }
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&rng, &mut salt).map_err(|_| PushError::Crypto)?;
    let ephemeral =
        ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
            .map_err(|_| PushError::Crypto)?;
    let as_public = ephemeral
        .compute_public_key()
        .map_err(|_| PushError::Crypto)?;
    let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, &ua_public);
    let (cek, nonce) = ring::agreement::agree_ephemeral(ephemeral, &peer, |secret| {
        derive(secret, &auth, &ua_public, as_public.as_ref(), &salt)
    })
    .map_err(|_| PushError::Subscription)??;
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &cek)
            .map_err(|_| PushError::Crypto)?,
    );
    let mut record = plaintext.to_vec();
    record.push(2);
    key.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(nonce),
        ring::aead::Aad::empty(),
        &mut record,
    )
    .map_err(|_| PushError::Crypto)?;
    let mut out = Vec::with_capacity(86 + record.len());
    out.extend_from_slice(&salt);
    // One record holds everything: its size is the whole record, at least 18.
    let rs = u32::try_from(record.len())
        .map_err(|_| PushError::Crypto)?
        .max(18);
    out.extend_from_slice(&rs.to_be_bytes());
    out.push(65);
    out.extend_from_slice(as_public.as_ref());
    out.extend_from_slice(&record);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://fcm.googleapis.com/fcm/send/abc").as_deref(),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:4000/p/1").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(origin("ftp://x/"), None);
        assert_eq!(origin("not a url"), None);
    }

    /// RFC 8291 appendix A: the keys, salt and secret given there produce its CEK and nonce.
    #[test]
    fn derivation_matches_rfc_8291_appendix_a() {
        let d = |s: &str| B64.decode(s).expect("b64");
        let ua_public = d(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        );
        let as_public = d(
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
        );
        let auth = d("BTBZMqHH6r4Tts7J_aSIgg");
        let salt = d("DGv6ra1nlYgDCS1FRnbzlw");
        let ecdh = d("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs");
        let (cek, nonce) = derive(&ecdh, &auth, &ua_public, &as_public, &salt).expect("derive");
        assert_eq!(B64.encode(cek), "oIhVW04MRdy2XN9CiKLxTg");
        assert_eq!(B64.encode(nonce), "4h_95klXJ5E_qnoN");
    }

    #[test]
    fn the_vapid_jwt_verifies_with_the_public_key() {
        let d = tempfile::tempdir().expect("tempdir");
        let v = Vapid::load(d.path()).expect("key");
        assert_eq!(
            Vapid::load(d.path()).expect("again").public_key(),
            v.public_key()
        );
        let h = v
            .authorization("https://push.example/x/y", 1_700_000_000)
            .expect("auth");
        let jwt = h
            .strip_prefix("vapid t=")
            .and_then(|s| s.split(", k=").next())
            .expect("jwt");
        let (input, sig) = jwt.rsplit_once('.').expect("sig");
        let key = B64.decode(v.public_key()).expect("key");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
            .verify(input.as_bytes(), &B64.decode(sig).expect("b64"))
            .expect("verifies");
        let claims: serde_json::Value = serde_json::from_slice(
            &B64.decode(input.split('.').nth(1).expect("claims"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(claims["aud"], "https://push.example");
    }
}

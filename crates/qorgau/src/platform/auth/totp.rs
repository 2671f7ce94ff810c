//! RFC 6238 one-time codes (SHA-1, 6 digits, 30 s), the form every authenticator app reads.

use totp_rs::{Secret, Totp};

pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_skew(1)
        .with_account_name(account.to_owned())
        .with_issuer(Some("Qorgau"))
        .build()
        .ok()
}

/// The time step the code belongs to, if it is valid now (one step of clock skew allowed).
pub fn check(secret_b32: &str, code: &str) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_b32, "x")?.check_current(&code)
}

pub fn current(secret_b32: &str) -> Option<String> {
    Some(totp(secret_b32, "x")?.generate_current().to_string())
}

/// `otpauth://` URL for an authenticator app.
pub fn url(secret_b32: &str, account: &str) -> Option<String> {
    totp(secret_b32, account)?.to_url().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_code_checks_and_garbage_does_not() {
        let s = new_secret();
        let code = current(&s).expect("code");
        assert!(check(&s, &code).is_some());
        assert!(check(&s, "abcdef").is_none());
        assert!(check(&s, "").is_none());
        assert!(check("!!not base32!!", "123456").is_none());
    }
}

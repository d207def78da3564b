//! Client-credentials tokens, one per seller account, kept until shortly
//! before they expire and dropped when the catalogue refuses them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use secrecy::SecretString;

/// A token is renewed this long before its stated expiry.
pub const RENEW_BEFORE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Token {
    pub value: SecretString,
    pub expires: Instant,
}

/// Tokens by seller id.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: HashMap<String, Token>,
}

impl TokenCache {
    /// A token still good for a while, if one is held.
    pub fn get(&self, seller: &str, now: Instant) -> Option<SecretString> {
        self.tokens.get(seller).filter(|t| t.expires > now + RENEW_BEFORE).map(|t| t.value.clone())
    }

    pub fn put(&mut self, seller: &str, value: SecretString, expires_in: Duration, now: Instant) {
        self.tokens.insert(seller.to_owned(), Token { value, expires: now + expires_in });
    }

    /// Forgets a seller's token (the catalogue refused it).
    pub fn forget(&mut self, seller: &str) {
        self.tokens.remove(seller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn tokens_are_kept_until_shortly_before_expiry_and_forgotten_on_refusal() {
        let now = Instant::now();
        let mut c = TokenCache::default();
        c.put("P1", SecretString::from("t1"), Duration::from_secs(3_600), now);
        assert_eq!(c.get("P1", now).unwrap().expose_secret(), "t1");
        assert!(c.get("P2", now).is_none(), "per seller");
        assert!(c.get("P1", now + Duration::from_secs(3_600 - 30)).is_none(), "renewed before it expires");
        c.forget("P1");
        assert!(c.get("P1", now).is_none());
    }
}

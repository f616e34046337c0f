//! CSRF tokens, as Pyramid makes them: 40 lowercase hex characters from
//! 20 random bytes, stored under `"_csrft_"` and compared in constant time.

use subtle::ConstantTimeEq as _;

use super::{Session, from_raw, lifecycle::Loaded};
use crate::codec::{ascii_string, signed_serialize::push_hex};

const CSRF_KEY: &str = "_csrft_";

impl Session {
    /// Makes, stores and returns a new CSRF token: 40 lowercase hex
    /// characters from 20 random bytes, under `"_csrft_"`.
    ///
    /// The token is stored without the size check of
    /// [`insert`](Self::insert): if it pushes the session over
    /// [`MAX_COOKIE_VALUE_LEN`](crate::MAX_COOKIE_VALUE_LEN), the response keeps the previous cookie
    /// (reported by the `tracing` feature).
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails, which no
    /// supported platform does once booted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// let token = session.new_csrf_token();
    /// assert_eq!(token.len(), 40);
    /// assert_eq!(session.get_csrf_token(), token);
    /// ```
    #[must_use = "the token is what the form must send back"]
    pub fn new_csrf_token(&self) -> String {
        self.with(Loaded::new_csrf_token)
    }

    /// The session's CSRF token, made (as by
    /// [`new_csrf_token`](Self::new_csrf_token)) on first use.
    ///
    /// # Panics
    ///
    /// As [`new_csrf_token`](Self::new_csrf_token).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// let token = session.get_csrf_token();
    /// assert_eq!(session.get_csrf_token(), token, "stable within a session");
    /// ```
    #[must_use = "the token is what the form must send back"]
    pub fn get_csrf_token(&self) -> String {
        // One lock for the look-up and the store, so that clones of the
        // session on other threads cannot each make a different token.
        self.with(|loaded| {
            if let Some(Ok(token)) = loaded.state.get(CSRF_KEY).map(from_raw::<String>) {
                return token;
            }
            loaded.new_csrf_token()
        })
    }

    /// Whether `token` equals the session's CSRF token, compared in
    /// constant time. Without a stored token it returns `false` and stores
    /// nothing.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// assert!(!session.check_csrf_token("anything"));
    /// let token = session.get_csrf_token();
    /// assert!(session.check_csrf_token(&token));
    /// assert!(!session.check_csrf_token("0000000000000000000000000000000000000000"));
    /// ```
    #[must_use]
    pub fn check_csrf_token(&self, token: &str) -> bool {
        match self.get::<String>(CSRF_KEY) {
            Ok(Some(stored)) => bool::from(stored.as_bytes().ct_eq(token.as_bytes())),
            _ => false,
        }
    }
}

impl Loaded {
    /// Stores and returns a new CSRF token. A token is 42 bytes of JSON;
    /// if it no longer fits, the response keeps the old cookie and reports
    /// it (see `cookie_action`).
    pub(super) fn new_csrf_token(&mut self) -> String {
        let token = random_hex_token();
        // A hex string needs no escaping as JSON.
        self.state
            .insert(CSRF_KEY.to_owned(), format!("\"{token}\""));
        self.changed = true;
        token
    }
}

fn random_hex_token() -> String {
    let bytes = crate::random::bytes::<20>();
    let mut token = Vec::with_capacity(40);
    push_hex(&bytes, &mut token);
    ascii_string(&token)
}

#[cfg(test)]
mod tests {
    use crate::Session;

    #[test]
    fn csrf_tokens_are_40_lowercase_hex_and_differ() {
        let s = Session::detached();
        let a = s.new_csrf_token();
        let b = s.new_csrf_token();
        assert_ne!(a, b);
        for t in [&a, &b] {
            assert_eq!(t.len(), 40);
            assert!(
                t.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
        }
        assert!(s.check_csrf_token(&b));
        assert!(!s.check_csrf_token(&a));
        assert!(!s.check_csrf_token(&b[..39]));
        assert_eq!(
            s.get_value("_csrft_").unwrap().unwrap(),
            serde_json::Value::String(b)
        );
    }
}

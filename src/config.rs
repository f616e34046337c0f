//! The configuration a [`SessionLayer`](crate::SessionLayer) builds, and
//! its validation.

use std::{
    fmt,
    sync::{Arc, OnceLock},
    time::Duration,
};

use cookie::SameSite;

use crate::{
    codec::Codec,
    error::ConfigError,
    format::Format,
    revocation::{Revocations, Revoker, WhenUnavailable},
};

/// Shortest secret accepted, in bytes.
///
/// 32 random bytes are as strong as HMAC-SHA1 can use; shorter or
/// human-chosen secrets can be guessed offline from a single cookie.
///
/// ```
/// assert_eq!(tower_cookie_session::MIN_SECRET_LEN, 32);
/// ```
pub const MIN_SECRET_LEN: usize = 32;

/// A signing secret, kept so that a later [`Format`] can key it. Its
/// `Debug` shows no bytes.
#[derive(Clone)]
pub(crate) struct Secret(Box<[u8]>);

impl Secret {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.len())
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) secret: Secret,
    pub(crate) fallback_secrets: Vec<Secret>,
    pub(crate) cookie_name: String,
    pub(crate) timeout: Option<Duration>,
    /// `None`: a tenth of the session's timeout (see `Expiry`); `Some(x)`:
    /// set explicitly.
    pub(crate) reissue_time: Option<Option<Duration>>,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) partitioned: bool,
    pub(crate) cookie_on_exception: bool,
    /// Where revocations are kept; `None`: revocation is off.
    pub(crate) revocation: Option<Arc<dyn Revocations>>,
    pub(crate) when_unavailable: WhenUnavailable,
    pub(crate) format: Format,
    /// The format with the secrets keyed for it; see [`Config::rekey`].
    pub(crate) codec: Codec,
    /// The verdict of [`Config::validate`], computed once per configuration.
    pub(crate) verdict: OnceLock<Result<(), ConfigError>>,
    /// The `Set-Cookie` attributes after the value, formatted once per
    /// configuration by the response future.
    pub(crate) set_cookie_attributes: OnceLock<String>,
}

impl Config {
    pub(crate) fn new(secret: &[u8]) -> Self {
        let format = Format::default();
        Self {
            codec: Codec::new(&format, secret, []),
            format,
            secret: Secret::new(secret),
            fallback_secrets: Vec::new(),
            cookie_name: "session".to_owned(),
            timeout: Some(Duration::from_secs(1200)),
            reissue_time: None,
            max_lifetime: None,
            max_age: None,
            path: "/".to_owned(),
            domain: None,
            secure: false,
            http_only: true,
            same_site: SameSite::Lax,
            partitioned: false,
            cookie_on_exception: true,
            revocation: None,
            when_unavailable: WhenUnavailable::default(),
            verdict: OnceLock::new(),
            set_cookie_attributes: OnceLock::new(),
        }
    }

    /// Keys the secrets for the format again; the builder calls it after
    /// changing either, so that requests never key a secret.
    pub(crate) fn rekey(&mut self) {
        self.codec = Codec::new(
            &self.format,
            &self.secret.0,
            self.fallback_secrets.iter().map(|s| &*s.0),
        );
    }

    /// What records revocations, when revocation is on and bounded.
    pub(crate) fn revoker(&self) -> Option<Revoker> {
        Some(Revoker::new(
            Arc::clone(self.revocation.as_ref()?),
            self.max_lifetime?,
        ))
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.verdict.get_or_init(|| self.check()).clone()
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort {
                len: self.secret.len(),
                fallback: None,
            });
        }
        if let Some((i, s)) = self
            .fallback_secrets
            .iter()
            .enumerate()
            .find(|(_, s)| s.len() < MIN_SECRET_LEN)
        {
            return Err(ConfigError::SecretTooShort {
                len: s.len(),
                fallback: Some(i),
            });
        }
        if self.cookie_name.is_empty() || !self.cookie_name.bytes().all(is_token_byte) {
            return Err(ConfigError::InvalidCookieName {
                name: self.cookie_name.clone(),
            });
        }
        if !is_attribute_value(&self.path) {
            return Err(ConfigError::InvalidAttribute { attribute: "path" });
        }
        if self
            .domain
            .as_deref()
            .is_some_and(|d| !is_attribute_value(d))
        {
            return Err(ConfigError::InvalidAttribute {
                attribute: "domain",
            });
        }
        // Browsers match the prefixes case-insensitively.
        let lower = self.cookie_name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            let requirement = if !self.secure {
                Some("`.secure(true)`")
            } else if self.path != "/" {
                Some("`.path(\"/\")`")
            } else if self.domain.is_some() {
                Some("`.domain(None)`")
            } else {
                None
            };
            if let Some(requirement) = requirement {
                return Err(ConfigError::HostPrefix { requirement });
            }
        }
        if lower.starts_with("__secure-") && !self.secure {
            return Err(ConfigError::SecurePrefixWithoutSecure);
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::PartitionedWithoutSecure);
        }
        if let (Some(Some(reissue_time)), Some(timeout)) = (self.reissue_time, self.timeout)
            && reissue_time >= timeout
        {
            return Err(ConfigError::ReissueTimeNotBelowTimeout {
                reissue_time,
                timeout,
            });
        }
        // A revocation record must outlive every cookie it covers, and an
        // active session's cookie is renewed for as long as it is used.
        if self.revocation.is_some() && self.max_lifetime.is_none() {
            return Err(ConfigError::RevocationWithoutMaxLifetime);
        }
        Ok(())
    }
}

/// RFC 6265 `cookie-name`: an RFC 2616 token.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 6265 `av-octet`s: any visible character or space but `;`.
fn is_attribute_value(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(&[7; 32])
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let c = Config::new(b"0123456789abcdef0123456789abcdef-very-secret");
        let debug = format!("{c:?}");
        assert!(debug.contains("redacted"));
        assert!(!debug.contains("very-secret"));
        assert!(!debug.contains("48, 49"), "no byte list: {debug}");
    }

    #[test]
    fn cookie_names_must_be_tokens() {
        for name in ["", "a b", "a;b", "a=b", "é", "a\"b", "a,b", "a\tb"] {
            let c = Config {
                cookie_name: name.to_owned(),
                ..config()
            };
            assert!(
                matches!(c.validate(), Err(ConfigError::InvalidCookieName { .. })),
                "{name:?}"
            );
        }
    }

    #[test]
    fn attributes_may_not_break_the_header() {
        let c = Config {
            path: "/a;b".to_owned(),
            ..config()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::InvalidAttribute { attribute: "path" })
        );
        let c = Config {
            domain: Some("a\nb".to_owned()),
            ..config()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::InvalidAttribute {
                attribute: "domain"
            })
        );
    }
}

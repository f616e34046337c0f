//! Sessions kept in HMAC-signed cookies, as a [tower] middleware for axum,
//! hyper and tonic; the Rust heir of Pyramid's
//! `UnencryptedCookieSessionFactoryConfig`.
//!
//! [`SessionLayer`] wraps any service. Each request gets a [`Session`] in
//! its extensions (and, with the `axum` feature, as an extractor); the
//! cookie is verified only when a handler first uses the session, and
//! written back only when the session changed, is new and holds
//! something, was signed with a fallback secret, or is due for reissue.
//!
//! By default the cookie is **signed, not encrypted**: users can read what
//! is in it, but cannot change it. Keep secrets out of the session, or
//! select the sealed format (feature `sealed`), which encrypts it.
//!
//! # Example
//!
//! With the `axum` feature, [`Session`] is an extractor:
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{routing::get, Router};
//! use tower_cookie_session::{Session, SessionLayer};
//!
//! async fn handler(session: Session) -> String {
//!     let n: u64 = session.get("count").unwrap().unwrap_or(0);
//!     session.insert("count", n + 1).unwrap();
//!     format!("{n}")
//! }
//!
//! # fn secret() -> Vec<u8> { vec![7; 32] }
//! let app: Router = Router::new()
//!     .route("/", get(handler))
//!     .layer(SessionLayer::new(secret())); // secret: >= 32 random bytes
//! # }
//! ```
//!
//! Without it, the session is in the request extensions, for any tower
//! service (hyper, tonic):
//!
//! ```
//! use http::{Request, Response};
//! use std::convert::Infallible;
//! use tower::{service_fn, Layer};
//! use tower_cookie_session::{Session, SessionLayer};
//!
//! let service = SessionLayer::new([7; 32]).layer(service_fn(|req: Request<String>| async move {
//!     let session = req.extensions().get::<Session>().expect("the layer puts it there");
//!     let n: u64 = session.get("count").ok().flatten().unwrap_or(0);
//!     let _ = session.insert("count", n + 1);
//!     Ok::<_, Infallible>(Response::new(format!("{n}")))
//! }));
//! ```
//!
//! # A customised layer
//!
//! ```
//! use std::time::Duration;
//! use tower_cookie_session::{SameSite, SessionLayer};
//!
//! # let (secret, old_secret) = ([1u8; 32], [2u8; 32]);
//! let layer = SessionLayer::new(secret)
//!     .cookie_name("__Host-session")
//!     .secure(true)                          // HTTPS only
//!     .same_site(SameSite::Strict)
//!     .timeout(Some(Duration::from_secs(3600)))
//!     .max_lifetime(Some(Duration::from_secs(7 * 86_400)))
//!     .fallback_secrets([old_secret])        // key rotation
//!     .cookie_on_exception(false);           // 5xx responses save nothing
//! layer.validate()?;                         // refuse bad settings at start-up
//! # Ok::<(), tower_cookie_session::ConfigError>(())
//! ```
//!
//! # Wire formats
//!
//! The default is Pyramid's `signed_serialize` with JSON in place of
//! pickle; with the `pyramid2` feature, [`SessionLayer::format`] can select
//! the cookies of Pyramid 2's `SignedCookieSessionFactory`, so that a Rust
//! service and a Pyramid app sharing the secret share their sessions.
//! [`Format`] describes each format's bytes. A cookie that fails in any
//! way (bad signature, bad encoding, wrong shape, expired) gives a fresh,
//! empty session: never an error response, never a panic.
//!
//! ```
//! # #[cfg(feature = "pyramid2")] {
//! use tower_cookie_session::{Format, HashAlg, SessionLayer};
//!
//! // SignedCookieSessionFactory(secret) in the Pyramid app:
//! let layer = SessionLayer::new(b"the secret the Pyramid app is configured with")
//!     .format(Format::pyramid2());
//! // SignedCookieSessionFactory(secret, hashalg='sha256', salt='my.salt.'):
//! let layer = SessionLayer::new(b"the secret the Pyramid app is configured with")
//!     .format(Format::pyramid2_with(HashAlg::Sha256, "my.salt."));
//! # }
//! ```
//!
//! # Revocation ("log out everywhere")
//!
//! A cookie cannot be recalled by itself; with
//! [`SessionLayer::revocation`] a small server-side record can:
//! [`Session::invalidate`] then ends every copy of the cookie, and a
//! [`Revoker`] ends every session of a user, on every instance that shares
//! the store ([`MemoryRevocations`], or `RedisRevocations` with the `redis`
//! feature).
//!
//! ```
//! use std::time::Duration;
//! use tower_cookie_session::{MemoryRevocations, SessionLayer};
//!
//! let layer = SessionLayer::new([7; 32])
//!     .max_lifetime(Duration::from_secs(30 * 86_400)) // records expire after it
//!     .revocation(MemoryRevocations::new());
//! layer.validate()?;
//! # Ok::<(), tower_cookie_session::ConfigError>(())
//! ```
//!
//! # Features
//!
//! - `axum`: [`Session`] as an extractor (`FromRequestParts` and
//!   `OptionalFromRequestParts`).
//! - `pyramid2`: `Format::pyramid2()` and `HashAlg`, Pyramid 2's
//!   `SignedCookieSessionFactory` cookie format (brings `sha2`).
//! - `sealed`: `Format::sealed()`, sessions encrypted with
//!   XChaCha20-Poly1305 and bound to their cookie name (brings `ring`,
//!   `rand`, `rand_chacha`, `hkdf` and `sha2`).
//! - `redis`: `RedisRevocations`, revocation records shared through Redis
//!   (brings `redis` and `tokio`).
//! - `tracing`: a `debug!` event saying why a cookie was refused, an
//!   `error!` when a session no longer fits its cookie, a `warn!` when the
//!   revocation store cannot answer. Never the secret, never the cookie
//!   value.
//!
//! [tower]: https://docs.rs/tower

#![cfg_attr(docsrs, feature(doc_cfg))]
// Cookies are attacker-controlled: nothing on the request path may panic.
// The few deliberate panics (bad configuration, a failed OS random source)
// each carry an `allow` with its reason; see SECURITY.md.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable
)]
// In unit tests a panic is a failed test, not a crashed server.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable
    )
)]

mod codec;
mod config;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod format;
mod future;
mod layer;
mod random;
mod rare;
mod revocation;
mod service;
mod session;

pub use codec::{
    MAX_COOKIE_VALUE_LEN,
    signed_serialize::{signed_deserialize, signed_serialize},
};
pub use config::MIN_SECRET_LEN;
pub use cookie::SameSite;
pub use error::{ConfigError, DecodeError, SessionError};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::MissingSessionLayer;
pub use format::Format;
#[cfg(feature = "pyramid2")]
#[cfg_attr(docsrs, doc(cfg(feature = "pyramid2")))]
pub use format::HashAlg;
pub use future::ResponseFuture;
pub use layer::SessionLayer;
#[cfg(feature = "redis")]
pub use revocation::RedisRevocations;
pub use revocation::{
    MemoryRevocations, RevocationError, RevocationFuture, Revocations, Revoker, SessionIdentity,
    WhenUnavailable,
};
pub use service::SessionService;
pub use session::{Expiry, MAX_CLOCK_SKEW, Session};

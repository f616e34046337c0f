//! Wire formats: how a session becomes a cookie value and back.
//!
//! The codec knows nothing of HTTP. [`signed`] is Pyramid's
//! `signed_serialize` / `signed_deserialize` (hex HMAC-SHA1 followed by
//! standard base64); [`payload`] is the JSON the session cookie signs,
//! `[accessed, created, {state}]`.

pub(crate) mod payload;
pub(crate) mod signed;

/// The longest cookie value the layer writes, in bytes (Pyramid's limit).
///
/// Browsers guarantee at least 4096 bytes for the name, value and
/// attributes together; this leaves room for the name and attributes.
///
/// ```
/// assert_eq!(tower_cookie_session::MAX_COOKIE_VALUE_LEN, 4064);
/// ```
pub const MAX_COOKIE_VALUE_LEN: usize = 4064;

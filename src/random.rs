//! Random bytes from the operating system, for CSRF tokens, session ids
//! and the seeds of the sealed format's nonce generators.

/// `N` random bytes.
///
/// # Panics
///
/// If the operating system's random source fails: no token, id or nonce
/// may be made without it (sealing without a fresh nonce would give away
/// the key stream: better no response than that; see SECURITY.md).
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    #[allow(
        clippy::panic,
        reason = "documented: the OS random source failing is fatal"
    )]
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random number generator failed: {e}");
    }
    bytes
}

//! Ours with revocation on, its records in this process's memory
//! (`MemoryRevocations`), `max_lifetime` 30 days as the demo sets it;
//! every other setting, handler and state as `ours`. A request with a
//! cookie is checked before the handler (its id and subject looked up),
//! whether or not the handler uses the session, so `revocation-memory`
//! minus `ours` is the price of the check, and of the id and subject the
//! cookie carries. The store holds the records of other sessions and
//! subjects, as a store in use does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use http::HeaderValue;
use tower_cookie_session::{
    Format, MemoryRevocations, RevocationError, Revocations, SessionIdentity, SessionLayer,
};

use super::ours;
use crate::common::{Scenario, drive::block_on};

/// The demo's longest session life with revocation on.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// Other sessions and subjects the store holds revoked.
const OTHER_SESSIONS: usize = 1_000;
const OTHER_SUBJECTS: usize = 100;

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let store = MemoryRevocations::new();
    block_on(revoke_others(&store)).expect("the memory store answers");
    ours::http_with(&layer(store), scenario)
}

/// Ours' layer with revocation on, kept in `store`.
pub(super) fn layer(store: impl Revocations) -> SessionLayer {
    let layer = ours::layer(&Format::default())
        .max_lifetime(MAX_LIFETIME)
        .revocation(store);
    layer.validate().expect("valid settings");
    layer
}

/// Records other sessions and subjects as revoked in `store`.
pub(super) async fn revoke_others(store: &dyn Revocations) -> Result<(), RevocationError> {
    let now = SystemTime::now();
    let millis = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    for i in 0..OTHER_SESSIONS {
        let id = format!("{millis}.other-session-{i:06}");
        let session = SessionIdentity::new(Some(id), Some(format!("other-{i}")), now);
        store.revoke_session(&session, MAX_LIFETIME).await?;
    }
    for i in 0..OTHER_SUBJECTS {
        let subject = format!("other-{i}");
        store.revoke_subject(&subject, now, MAX_LIFETIME).await?;
    }
    Ok(())
}

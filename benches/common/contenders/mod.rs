//! Who handles the request: a file per contender. Each HTTP contender
//! builds its router for a scenario and the `Cookie` header its requests
//! carry, made through its own write path.

mod axum_extra;
mod axum_extra_private;
mod bare;
mod cookie_store;
mod cookie_store_private;
mod handle;
mod ours;
mod primitives;
#[cfg(feature = "sealed")]
mod sealed;
mod tower_sessions;

use axum::{
    Router,
    routing::{MethodRouter, get},
};
use http::HeaderValue;

pub(super) use primitives::Primitives;

use super::Scenario;

/// Who handles the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contender {
    /// The floor: the same router and Cookie header, a no-op layer holding
    /// an `Arc` in the session layer's place, and a handler that ignores
    /// the cookie.
    Bare,
    /// The least any session layer must do (DESIGN.md §7): bare, but the
    /// layer puts a fresh `Arc` handle into each request's extensions.
    Handle,
    /// `tower_cookie_session::SessionLayer`, default settings but the
    /// timeout (see `ours::layer`).
    Ours,
    /// Ours with `Format::sealed()` (XChaCha20-Poly1305); only with the
    /// crate's `sealed` feature.
    #[cfg(feature = "sealed")]
    Sealed,
    /// `tower-sessions` with its `MemoryStore`.
    TowerSessions,
    /// `tower-sessions-cookie-store`, signed cookies.
    CookieStore,
    /// `tower-sessions-cookie-store`, private (encrypted) cookies.
    CookieStorePrivate,
    /// `axum-extra`'s `SignedCookieJar` holding a JSON object.
    AxumExtra,
    /// `axum-extra`'s `PrivateCookieJar` (encrypted) holding a JSON object.
    AxumExtraPrivate,
    /// HMAC-SHA1, base64 and `serde_json::Value` alone, no HTTP: the floor
    /// for the codec work. No case for `untouched`, which needs none.
    Primitives,
}

impl Contender {
    /// Every contender this build has, in the order of the tables'
    /// columns: `sealed` needs the crate's feature of the same name.
    pub(crate) const ALL: [Self; Self::COUNT] = [
        Self::Bare,
        Self::Handle,
        Self::Primitives,
        Self::Ours,
        #[cfg(feature = "sealed")]
        Self::Sealed,
        Self::TowerSessions,
        Self::CookieStore,
        Self::CookieStorePrivate,
        Self::AxumExtra,
        Self::AxumExtraPrivate,
    ];
    const COUNT: usize = if cfg!(feature = "sealed") { 10 } else { 9 };

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Handle => "handle",
            Self::Ours => "ours",
            #[cfg(feature = "sealed")]
            Self::Sealed => "sealed",
            Self::TowerSessions => "tower-sessions",
            Self::CookieStore => "cookie-store",
            Self::CookieStorePrivate => "cookie-store-private",
            Self::AxumExtra => "axum-extra",
            Self::AxumExtraPrivate => "axum-extra-private",
            Self::Primitives => "primitives",
        }
    }

    /// Whether the handler leaves the session alone whatever the
    /// scenario: it answers "ok" and never sets a cookie.
    pub(super) fn ignores_session(self) -> bool {
        matches!(self, Self::Bare | Self::Handle)
    }

    /// The router and the `Cookie` header of an HTTP contender.
    pub(super) fn http(self, scenario: Scenario) -> (Router, Option<HeaderValue>) {
        match self {
            Self::Bare => bare::http(scenario),
            Self::Handle => handle::http(scenario),
            Self::Ours => ours::http(scenario),
            #[cfg(feature = "sealed")]
            Self::Sealed => sealed::http(scenario),
            Self::TowerSessions => tower_sessions::http(scenario),
            Self::CookieStore => cookie_store::http(scenario),
            Self::CookieStorePrivate => cookie_store_private::http(scenario),
            Self::AxumExtra => axum_extra::http(scenario),
            Self::AxumExtraPrivate => axum_extra_private::http(scenario),
            Self::Primitives => unreachable!("not over HTTP"),
        }
    }
}

/// The key the peers sign (or encrypt) their cookies with.
const COOKIE_KEY: [u8; 64] = [42; 64];

/// The handler of `untouched`, and of bare and handle whatever the
/// scenario.
async fn ignore() -> String {
    "ok".to_owned()
}

/// The route of `scenario`, given a contender's handlers for it: the
/// untouched scenario ignores the session in every contender.
fn route<S: Clone + Send + Sync + 'static>(
    scenario: Scenario,
    read: MethodRouter<S>,
    write: MethodRouter<S>,
    new: MethodRouter<S>,
) -> MethodRouter<S> {
    match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => read,
        Scenario::Write | Scenario::Write3k => write,
        Scenario::New => new,
    }
}

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
mod revocation_memory;
#[cfg(feature = "redis")]
mod revocation_redis;
#[cfg(feature = "sealed")]
mod sealed;
mod tower_sessions;

use axum::{
    Router,
    routing::{MethodRouter, get},
};
use http::HeaderValue;

pub(super) use primitives::Primitives;

use super::{Scenario, drive::Runtime};

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
    /// Ours with revocation on, kept in `MemoryRevocations`.
    RevocationMemory,
    /// Ours with revocation on, kept in a Redis on loopback; only with
    /// the crate's `redis` feature, and `redis-server` installed.
    #[cfg(feature = "redis")]
    RevocationRedis,
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
        Self::RevocationMemory,
        #[cfg(feature = "redis")]
        Self::RevocationRedis,
        Self::TowerSessions,
        Self::CookieStore,
        Self::CookieStorePrivate,
        Self::AxumExtra,
        Self::AxumExtraPrivate,
    ];
    const COUNT: usize = 10
        + if cfg!(feature = "sealed") { 1 } else { 0 }
        + if cfg!(feature = "redis") { 1 } else { 0 };

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Handle => "handle",
            Self::Ours => "ours",
            #[cfg(feature = "sealed")]
            Self::Sealed => "sealed",
            Self::RevocationMemory => "revocation-memory",
            #[cfg(feature = "redis")]
            Self::RevocationRedis => "revocation-redis",
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

    /// Whether this machine can run the contender: `revocation-redis`
    /// needs `redis-server`.
    pub(super) fn available(self) -> bool {
        match self {
            #[cfg(feature = "redis")]
            Self::RevocationRedis => revocation_redis::available(),
            _ => true,
        }
    }

    /// The router, the `Cookie` header and the runtime, if any, of an
    /// HTTP contender.
    pub(super) fn http(self, scenario: Scenario) -> Http {
        match self {
            Self::Bare => bare::http(scenario).into(),
            Self::Handle => handle::http(scenario).into(),
            Self::Ours => ours::http(scenario).into(),
            #[cfg(feature = "sealed")]
            Self::Sealed => sealed::http(scenario).into(),
            Self::RevocationMemory => revocation_memory::http(scenario).into(),
            #[cfg(feature = "redis")]
            Self::RevocationRedis => revocation_redis::http(scenario),
            Self::TowerSessions => tower_sessions::http(scenario).into(),
            Self::CookieStore => cookie_store::http(scenario).into(),
            Self::CookieStorePrivate => cookie_store_private::http(scenario).into(),
            Self::AxumExtra => axum_extra::http(scenario).into(),
            Self::AxumExtraPrivate => axum_extra_private::http(scenario).into(),
            Self::Primitives => unreachable!("not over HTTP"),
        }
    }
}

/// What an HTTP contender's requests go through: its router, the
/// `Cookie` header they carry, and, for a contender whose requests wait
/// on a socket, the runtime that drives them (every other one completes
/// in one poll, with none).
pub(super) struct Http {
    pub(super) router: Router,
    pub(super) cookie: Option<HeaderValue>,
    pub(super) runtime: Option<Runtime>,
}

impl From<(Router, Option<HeaderValue>)> for Http {
    fn from((router, cookie): (Router, Option<HeaderValue>)) -> Self {
        Self {
            router,
            cookie,
            runtime: None,
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

//! The scenarios: what the handler does with the session, the state the
//! request's cookie carries, and what a correct answer looks like.

use serde_json::{Map, Value, json};

/// The key `read` reads, and its value.
pub(super) const READ_KEY: &str = "user_id";
/// The counter `write` increments (41 in the fixtures, so 42 is written).
pub(super) const COUNTER: &str = "count";
/// The key `new` inserts, and its value.
pub(super) const NEW_KEY: &str = "user_id";
pub(super) const NEW_VALUE: u64 = 42;

/// What the handler does with the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// A valid cookie arrives; the handler ignores the session.
    Untouched,
    /// A ~200-byte session; the handler reads one key.
    Read,
    /// The same session; the handler increments a counter.
    Write,
    /// The same with ~3 KB of state.
    Write3k,
    /// No cookie; the handler inserts one key.
    New,
}

impl Scenario {
    pub(crate) const ALL: [Self; 5] = [
        Self::Untouched,
        Self::Read,
        Self::Write,
        Self::Write3k,
        Self::New,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Untouched => "untouched",
            Self::Read => "read",
            Self::Write => "write",
            Self::Write3k => "write_3k",
            Self::New => "new",
        }
    }

    /// The state the request's cookie carries, if it carries one.
    pub(super) fn state(self) -> Option<Map<String, Value>> {
        match self {
            Self::New => None,
            Self::Untouched | Self::Read | Self::Write => Some(small_state()),
            Self::Write3k => Some(large_state()),
        }
    }

    /// What the handler answers.
    pub(super) fn expected_body(self) -> &'static str {
        match self {
            Self::Untouched => "ok",
            Self::Read => "12345",
            Self::Write | Self::Write3k | Self::New => "42",
        }
    }

    /// Whether the response must carry `Set-Cookie`; when `false`, it must
    /// not.
    pub(super) fn writes(self) -> bool {
        matches!(self, Self::Write | Self::Write3k | Self::New)
    }
}

/// About 200 bytes of JSON: who is logged in, preferences, a CSRF token.
fn small_state() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "user_id": 12345,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "roles": ["admin", "editor"],
        "theme": "dark",
        "locale": "en-GB",
        "count": 41,
        "_csrft_": "0123456789abcdef0123456789abcdef01234567",
    }) else {
        unreachable!()
    };
    map
}

/// About 2.9 KB of JSON: the small state plus a cart and a history, as
/// large as a session cookie of ours can be with room to spare.
fn large_state() -> Map<String, Value> {
    let mut map = small_state();
    let cart: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "sku": format!("SKU-{:06}", 1000 + i),
                "name": format!("Item number {i}"),
                "qty": i % 3 + 1,
                "price_cents": 1299 + i * 10,
            })
        })
        .collect();
    let history: Vec<Value> = (0..14)
        .map(|i| Value::String(format!("/catalogue/category/{i}/page/{}", i * 7)))
        .collect();
    map.insert("cart".into(), Value::Array(cart));
    map.insert("history".into(), Value::Array(history));
    map
}

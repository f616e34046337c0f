//! With feature `tracing`, a refused cookie is reported with the reason,
//! and never with the cookie value or the secret.
#![cfg(feature = "tracing")]

mod common;

use std::{
    fmt::Write as _,
    sync::{Arc, Mutex},
};

use tower_cookie_session::SessionLayer;
use tracing::{
    Event, Metadata, Subscriber,
    field::{Field, Visit},
    span,
};

use common::{
    cookies::{cookie_at, now},
    service::call,
};

const SECRET: &[u8] = b"a secret of thirty-two bytes or more, TOPSECRET";

/// Records every event as `LEVEL message field=value ...`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

async fn use_session_with_cookie(cookie: &str) {
    call(
        &SessionLayer::new(SECRET),
        Some(cookie.as_bytes()),
        |session| {
            let _ = session.is_new();
        },
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn refused_cookie_is_reported_with_its_reason_only() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let forged = cookie_at(
        1,
        1,
        serde_json::json!({"user": "mallory"}),
        &b"x".repeat(32),
    );
    use_session_with_cookie(&format!("session={forged}")).await;

    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("DEBUG"), "{line}");
    assert!(line.contains("signature does not match"), "{line}");
    assert!(
        !line.contains(&forged[..40]) && !line.contains(&forged[40..]),
        "{line}"
    );
    assert!(!line.contains("TOPSECRET"), "{line}");
}

#[tokio::test(flavor = "current_thread")]
async fn expired_cookie_is_reported_as_timed_out() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let old = cookie_at(1_000, 1_000, serde_json::json!({}), SECRET);
    use_session_with_cookie(&format!("session={old}")).await;
    let lines = recorder.0.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.contains("timed out")), "{lines:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn many_refused_cookies_are_one_event() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let header = "session=;".repeat(10_000);
    use_session_with_cookie(&header).await;
    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{:?}", &lines[..lines.len().min(3)]);
    assert!(lines[0].contains("refused=10000"), "{}", lines[0]);
    assert!(
        lines[0].contains("shorter than its signature"),
        "the first reason: {}",
        lines[0]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_value_that_does_not_fit_its_type_is_never_logged() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let value = cookie_at(
        now(),
        now(),
        serde_json::json!({"pin": "hunter2-private"}),
        SECRET,
    );
    let cookie = format!("session={value}");
    let (err, _) = call(&SessionLayer::new(SECRET), Some(cookie.as_bytes()), |s| {
        s.get::<u32>("pin").unwrap_err()
    })
    .await;
    // serde_json's message quotes the stored string: the handler sees it,
    // no log line does.
    assert!(err.to_string().contains("hunter2-private"), "{err}");
    let lines = recorder.0.lock().unwrap().clone();
    assert!(lines.iter().all(|l| !l.contains("hunter2")), "{lines:?}");
}

/// A revocation store that cannot be reached.
#[derive(Debug)]
struct Down;

impl tower_cookie_session::Revocations for Down {
    fn is_revoked(
        &self,
        _: &tower_cookie_session::SessionIdentity,
    ) -> tower_cookie_session::RevocationFuture<bool> {
        Box::pin(async {
            Err(tower_cookie_session::RevocationError::TimedOut(
                std::time::Duration::from_millis(100),
            ))
        })
    }
    fn revoke_session(
        &self,
        _: &tower_cookie_session::SessionIdentity,
        _: std::time::Duration,
    ) -> tower_cookie_session::RevocationFuture<()> {
        Box::pin(async { Ok(()) })
    }
    fn revoke_subject(
        &self,
        _: &str,
        _: std::time::SystemTime,
        _: std::time::Duration,
    ) -> tower_cookie_session::RevocationFuture<()> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_revocation_store_is_reported_with_the_outcome() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let layer = SessionLayer::new(SECRET)
        .max_lifetime(std::time::Duration::from_secs(3600))
        .revocation(Down);
    let cookie = cookie_at(
        now(),
        now(),
        serde_json::json!({"_id_": "1.abc", "user": "ada"}),
        SECRET,
    );
    let (user, _) = call(&layer, Some(format!("session={cookie}").as_bytes()), |s| {
        s.get::<String>("user").unwrap()
    })
    .await;
    assert_eq!(user, None, "treated as revoked by default");
    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("WARN"), "{lines:?}");
    assert!(
        lines[0].contains("revocation store unavailable"),
        "{lines:?}"
    );
    assert!(lines[0].contains("treated_as=Revoked"), "{lines:?}");
    assert!(!lines[0].contains(&cookie), "no cookie value: {lines:?}");
}

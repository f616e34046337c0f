//! End-to-end tests of the axum example (`examples/axum/`): the app runs on
//! a real server on a free loopback port, driven by `reqwest` clients with
//! their own cookie jars, the way browsers drive it.

#![cfg(feature = "axum")]

#[path = "../examples/axum/app.rs"]
pub mod app;

mod common;

use cookie::SameSite;
use reqwest::{StatusCode, header::VARY};

use common::{
    client::{Browser, csrf_token},
    server::serve,
};

const SECRET: &[u8] = b"a test secret that is long enough for the layer";

/// Serves the example app on a free port; returns its base URL.
async fn spawn_app() -> String {
    format!("http://{}", serve(app::app(SECRET)).await)
}

#[tokio::test]
async fn counter_counts_each_browsers_visits() {
    let base = spawn_app().await;
    let alice = Browser::new(&base);
    let bob = Browser::new(&base);

    for expected in 1..=3 {
        let page = alice.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.visits(), expected);
        assert!(page.body.contains(&format!(
            "You have visited this page <strong>{expected}</strong>"
        )));
    }
    assert_eq!(
        bob.get("/").await.visits(),
        1,
        "a new cookie jar starts at 1"
    );
    assert_eq!(alice.get("/").await.visits(), 4);
}

#[tokio::test]
async fn login_with_the_csrf_token_signs_in_and_welcomes_once() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    assert!(browser.get("/").await.is_anonymous());

    let answer = browser.log_in("ada", "secret").await;
    let home = browser.follow(&answer, "/").await;
    assert!(home.body.contains("Signed in as <strong>ada</strong>"));
    assert_eq!(home.body.matches("Welcome, ada!").count(), 1);
    assert_eq!(home.visits(), 2, "the counter survives the new session");

    let again = browser.get("/").await;
    assert!(again.body.contains("Signed in as <strong>ada</strong>"));
    assert!(!again.body.contains("Welcome"), "a flash is shown once");
    assert_eq!(again.visits(), 3);
}

#[tokio::test]
async fn login_replaces_the_session_cookie() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    let form = browser.get("/login").await;
    let before = form.set_cookies();
    assert_eq!(before.len(), 1, "the CSRF token starts a session");

    let answer = browser.log_in("ada", "secret").await;
    let after = answer.set_cookies();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].name(), "session");
    assert_ne!(after[0].value(), before[0].value());
    assert_eq!(
        after[0].max_age(),
        None,
        "not kept signed in: a browser-session cookie"
    );
    assert!(
        !browser
            .get("/")
            .await
            .body
            .contains(&csrf_token(&form.body)),
        "the pre-login CSRF token died with the old session"
    );
}

#[tokio::test]
async fn login_with_a_wrong_or_missing_csrf_token_is_refused_and_changes_nothing() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    browser.get("/").await;
    browser.get("/").await;
    let token = csrf_token(&browser.get("/login").await.body);

    let wrong = "0".repeat(40);
    let attempts: [&[(&str, &str)]; 3] = [
        &[
            ("username", "mallory"),
            ("password", "secret"),
            ("csrf_token", &wrong),
        ],
        &[("username", "mallory"), ("password", "secret")],
        &[
            ("username", "mallory"),
            ("password", "secret"),
            ("csrf_token", &token[..39]),
        ],
    ];
    for fields in attempts {
        let page = browser.post("/login", fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(page.body.contains("Invalid or missing CSRF token"));
        assert!(page.body.contains("Nothing was changed"));
        assert!(
            page.set_cookies().is_empty(),
            "no cookie written: {fields:?}"
        );
    }

    let home = browser.get("/").await;
    assert!(home.is_anonymous());
    assert_eq!(home.visits(), 3, "the counter went on from where it was");
    assert_eq!(csrf_token(&browser.get("/login").await.body), token);
}

#[tokio::test]
async fn login_without_any_session_is_refused() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    let page = browser
        .post(
            "/login",
            &[
                ("username", "mallory"),
                ("password", "secret"),
                ("csrf_token", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The layer may save the brand-new session it made for the check, but
    // nothing may be in it: no user, no CSRF token.
    for cookie in page.set_cookies() {
        let (_, _, state): (f64, f64, serde_json::Map<String, serde_json::Value>) =
            tower_cookie_session::signed_deserialize(cookie.value(), SECRET).unwrap();
        assert!(state.is_empty(), "{state:?}");
    }
    assert!(browser.get("/").await.is_anonymous());
}

#[tokio::test]
async fn wrong_password_flashes_an_error_on_the_login_page_once() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    let answer = browser.log_in("ada", "guess").await;
    let form = browser.follow(&answer, "/login").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(
            r#"<div class="flash error" role="status">Wrong username or password.</div>"#
        )
    );

    assert!(!browser.get("/login").await.body.contains("Wrong username"));
    assert!(browser.get("/").await.is_anonymous());
}

#[tokio::test]
async fn user_text_is_escaped() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    let answer = browser.log_in("<b>\"ada\"</b>", "secret").await;
    let home = browser.follow(&answer, "/").await;
    assert!(
        home.body
            .contains("Signed in as <strong>&lt;b&gt;&quot;ada&quot;&lt;/b&gt;</strong>")
    );
    assert!(
        home.body
            .contains("Welcome, &lt;b&gt;&quot;ada&quot;&lt;/b&gt;!")
    );
    assert!(!home.body.contains("<b>"));
}

#[tokio::test]
async fn logout_removes_the_session_cookie() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    browser.log_in("ada", "secret").await;
    let home = browser.get("/").await;
    assert!(home.body.contains("Signed in as"));
    assert!(home.visits() >= 1);

    let answer = browser
        .post("/logout", &[("csrf_token", &csrf_token(&home.body))])
        .await;
    let cookies = answer.set_cookies();
    assert_eq!(cookies.len(), 1, "{:?}", answer.headers);
    assert_eq!(cookies[0].name(), "session");
    assert_eq!(cookies[0].value(), "");
    assert_eq!(cookies[0].max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(cookies[0].path(), Some("/"));

    let after = browser.follow(&answer, "/?logged_out=1").await;
    assert!(after.body.contains("You have been logged out."));
    assert!(after.is_anonymous());
    assert_eq!(after.visits(), 1, "the counter restarts with a new session");
}

#[tokio::test]
async fn logout_without_the_csrf_token_is_refused() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);
    browser.log_in("ada", "secret").await;

    let page = browser.post("/logout", &[("csrf_token", "nope")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.set_cookies().is_empty());
    assert!(
        browser
            .get("/")
            .await
            .body
            .contains("Signed in as <strong>ada</strong>")
    );
}

#[tokio::test]
async fn session_cookie_is_http_only_lax_site_wide_and_varies_on_cookie() {
    let base = spawn_app().await;
    let browser = Browser::new(&base);

    let home = browser.get("/").await;
    let cookies = home.set_cookies();
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert_eq!(cookie.name(), "session");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.max_age(), None, "a browser-session cookie");
    assert_eq!(cookie.secure(), None, "the demo runs over plain HTTP");

    for page in [home, browser.get("/login").await, browser.get("/").await] {
        let vary: Vec<_> = page.headers.get_all(VARY).iter().collect();
        assert_eq!(vary, ["cookie"]);
    }
}

//! The axum example (`examples/axum/`) in a real browser: headless
//! Chromium, driven through WebDriver, against the app served on a free
//! loopback port.
//!
//! These tests check what only a browser can show: that it keeps the
//! cookie across pages, honours `HttpOnly`, shows a flash once after a
//! redirect, refuses forms with a bad CSRF token without touching the
//! session, forgets the cookie at logout, keeps a session across a
//! server restart with the same secret but not with a new one, keeps a
//! cookie 30 days for "Keep me signed in" and only until the browser
//! closes without it, does not take a cookie whose name has Unicode
//! whitespace before the session's (another cookie to the browser) for
//! the session's own, and (feature `sealed`) runs the whole login flow
//! with sealed cookies whose values give away nothing the session holds,
//! and, with revocation on, signs a user out of a second browser (its own
//! cookies) when the first clicks "Log out everywhere".
//!
//! They need Debian's `chromium` and `chromium-driver` packages
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`): `.ci/run` installs them,
//! and so does the first test that finds them missing when it runs as root
//! with `apt-get` (otherwise it says what to install). Each test starts its own chromedriver on a free port and stops
//! it, and the browser with it, when done, failed or not. A failing test
//! saves a screenshot and the page source under
//! `target/browser-failure/<test>/` and names both in its panic message.

#![cfg(feature = "axum")]

#[path = "../examples/axum/app.rs"]
pub mod app;
mod common;
#[path = "../examples/axum/settings.rs"]
pub mod settings;

use std::{
    any::Any,
    ffi::OsString,
    future::Future,
    io::{Read, Write},
    net::{SocketAddr, TcpListener as StdTcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use axum::{Router, extract::Request, http::header::COOKIE};
#[cfg(feature = "sealed")]
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
};
use cookie::{Cookie, SameSite};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower::util::MapRequestLayer;
#[cfg(feature = "sealed")]
use tower_cookie_session::Format;
use tower_cookie_session::SessionLayer;

use common::target::target_dir;

const SECRET: &[u8] = b"a test secret that is long enough for the layer";
const NEW_SECRET: &[u8] = b"another secret, as after a careless redeploy";

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The longest wait for chromedriver, a page or an element: generous,
/// because the machine may be busy with other builds.
const WAIT: Duration = Duration::from_secs(15);
/// The longest a whole test may take once the browser is up.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(25);

#[tokio::test]
async fn counter_counts_every_reload_and_survives_other_pages() {
    in_browser(
        "counter_counts_every_reload_and_survives_other_pages",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("first visit");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.visits().await, 1);

            browser.step("reloads");
            for expected in 2..=4 {
                browser.reload().await;
                assert_eq!(browser.visits().await, expected, "after a reload");
            }

            browser.step("to the login page and back by links");
            browser.click_through("a[href='/login']").await;
            assert_eq!(browser.heading().await, "Log in");
            browser.click_through("a[href='/']").await;
            assert_eq!(browser.heading().await, "Session demo");
            assert_eq!(browser.visits().await, 5);
        },
    )
    .await;
}

#[tokio::test]
async fn session_cookie_is_hidden_from_scripts_yet_sent_with_every_request() {
    in_browser(
        "session_cookie_is_hidden_from_scripts_yet_sent_with_every_request",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("first visit");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.visits().await, 1);

            browser.step("document.cookie does not show the session cookie");
            // A cookie set by the page itself shows that document.cookie
            // works here, so its silence about the session means something.
            browser
                .script("document.cookie = 'probe=visible; path=/'")
                .await;
            let seen = browser.document_cookie().await;
            assert!(seen.contains("probe=visible"), "document.cookie: {seen:?}");
            assert!(
                !seen.contains("session"),
                "scripts can read the session cookie: document.cookie is {seen:?}"
            );

            browser.step("yet the browser keeps it, HttpOnly");
            let cookie = browser
                .session_cookie()
                .await
                .expect("the browser keeps a `session` cookie");
            assert_eq!(
                cookie.http_only(),
                Some(true),
                "the session cookie is not HttpOnly: {cookie}"
            );
            assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{cookie}");
            assert_eq!(cookie.path(), Some("/"), "{cookie}");

            browser.step("and sends it");
            browser.reload().await;
            assert_eq!(browser.visits().await, 2, "the cookie was not sent");
        },
    )
    .await;
}

#[tokio::test]
async fn logging_in_through_the_form_shows_the_welcome_flash_once() {
    in_browser(
        "logging_in_through_the_form_shows_the_welcome_flash_once",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("anonymous start page");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await, None);
            assert!(browser.flashes().await.is_empty());

            browser.step("type into the login form and submit it");
            browser.click_through("a[href='/login']").await;
            assert_eq!(browser.heading().await, "Log in");
            browser.type_into("input[name='username']", "ada").await;
            browser.type_into("input[name='password']", "secret").await;
            browser
                .click_through("form.login button[type='submit']")
                .await;

            browser.step("the flash after the redirect");
            assert_eq!(browser.path().await, "/");
            assert_eq!(browser.flashes().await, ["Welcome, ada!"]);
            let banner = browser.find(".flash.info").await;
            assert!(banner.is_displayed().await.unwrap(), "the flash is hidden");
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 2, "the counter survives login");

            browser.step("no flash on the reloaded page");
            browser.reload().await;
            browser.assert_no_flash().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 3);

            browser.step("no flash on the pages after");
            browser.goto(&server.url("/login")).await;
            browser.assert_no_flash().await;
            browser.goto(&server.url("/")).await;
            browser.assert_no_flash().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
        },
    )
    .await;
}

#[tokio::test]
async fn a_wrong_password_shows_an_error_on_the_login_page_once() {
    in_browser(
        "a_wrong_password_shows_an_error_on_the_login_page_once",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in with a wrong password");
            browser.log_in(&server, "ada", "guess").await;
            assert_eq!(browser.path().await, "/login");
            assert_eq!(browser.flashes().await, ["Wrong username or password."]);
            assert!(
                browser
                    .find(".flash.error")
                    .await
                    .is_displayed()
                    .await
                    .unwrap()
            );

            browser.step("the error is gone after a reload");
            browser.reload().await;
            browser.assert_no_flash().await;

            browser.step("still anonymous");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await, None);
        },
    )
    .await;
}

#[tokio::test]
async fn forms_with_a_wrong_or_missing_csrf_token_are_refused_and_change_nothing() {
    in_browser(
        "forms_with_a_wrong_or_missing_csrf_token_are_refused_and_change_nothing",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("two visits");
            browser.goto(&server.url("/")).await;
            browser.reload().await;
            assert_eq!(browser.visits().await, 2);

            browser.step("login with a tampered token");
            browser.goto(&server.url("/login")).await;
            let cookie = browser.session_cookie_value().await;
            browser
                .script(
                    "document.querySelector(\"form.login input[name='csrf_token']\")\
                     .value = '0'.repeat(40)",
                )
                .await;
            browser.fill_in_login("mallory", "secret").await;
            browser
                .click_through("form.login button[type='submit']")
                .await;
            browser.assert_refused_for_csrf().await;
            assert_eq!(browser.session_cookie_value().await, cookie);

            browser.step("login without a token");
            browser.goto(&server.url("/login")).await;
            browser
                .script("document.querySelector(\"form.login input[name='csrf_token']\").remove()")
                .await;
            browser.fill_in_login("mallory", "secret").await;
            browser
                .click_through("form.login button[type='submit']")
                .await;
            browser.assert_refused_for_csrf().await;
            assert_eq!(browser.session_cookie_value().await, cookie);

            browser.step("still anonymous, the counter where it was");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await, None);
            assert_eq!(browser.visits().await, 3);

            browser.step("logout with a tampered token");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            let cookie = browser.session_cookie_value().await;
            browser
                .script(
                    "document.querySelector(\"form[action='/logout'] input[name='csrf_token']\")\
                     .value = 'nope'",
                )
                .await;
            browser
                .click_through("form[action='/logout'] button[type='submit']")
                .await;
            browser.assert_refused_for_csrf().await;
            assert_eq!(browser.session_cookie_value().await, cookie);

            browser.step("still signed in");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 5);
        },
    )
    .await;
}

#[tokio::test]
async fn logging_out_removes_the_cookie_and_shows_the_anonymous_page() {
    in_browser(
        "logging_out_removes_the_cookie_and_shows_the_anonymous_page",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in");
            browser.log_in(&server, "ada", "secret").await;
            browser.reload().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 2);
            let signed_in = browser.session_cookie_value().await;

            browser.step("click Log out");
            browser.log_out("/logout").await;
            assert_eq!(browser.visits().await, 1, "a fresh session counts anew");
            assert_ne!(
                browser.session_cookie_value().await,
                signed_in,
                "the signed-in cookie is gone"
            );

            browser.step("the logout answer itself removes the cookie");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            // Posted by fetch without following the redirect, so that the
            // start page it leads to does not set a new cookie before the
            // jar is looked at.
            let answer = browser
                .script(
                    "const form = document.querySelector(\"form[action='/logout']\");
                     return fetch(form.action, {
                         method: 'POST',
                         body: new URLSearchParams(new FormData(form)),
                         redirect: 'manual',
                     }).then(answer => answer.type);",
                )
                .await;
            assert_eq!(answer, "opaqueredirect", "the logout answer is a redirect");
            assert_eq!(browser.session_cookie().await, None);

            browser.step("the next page is anonymous");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await, None);
            assert_eq!(browser.visits().await, 1);
        },
    )
    .await;
}

#[tokio::test]
async fn a_restart_keeps_the_session_with_the_same_secret_and_starts_afresh_with_a_new_one() {
    in_browser(
        "a_restart_keeps_the_session_with_the_same_secret_and_starts_afresh_with_a_new_one",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 1);

            browser.step("restart with the same secret");
            let server = server.restart(SECRET).await;
            browser.reload().await;
            assert_eq!(browser.status().await, 200);
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 2);
            let old = browser.session_cookie_value().await;

            browser.step("restart with a new secret");
            let server = server.restart(NEW_SECRET).await;
            browser.reload().await;
            assert_eq!(browser.status().await, 200, "no error page");
            assert_eq!(browser.heading().await, "Session demo");
            browser.assert_no_flash().await;
            assert_eq!(browser.signed_in_as().await, None);
            assert_eq!(browser.visits().await, 1, "a fresh session");
            assert_ne!(browser.session_cookie_value().await, old);

            browser.step("the fresh session works");
            browser.log_in(&server, "grace", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("grace"));
        },
    )
    .await;
}

/// The example app as `SESSION_REVOCATION=memory` configures it: one
/// instance, revocations kept in its memory.
fn app_with_revocation() -> Router {
    let secret = std::str::from_utf8(SECRET).unwrap();
    let env = [("SESSION_SECRET", secret), ("SESSION_REVOCATION", "memory")];
    let layer = settings::session_layer(|name| {
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| OsString::from(v))
    })
    .unwrap();
    app::app_with(layer)
}

#[tokio::test]
async fn logging_out_everywhere_signs_the_user_out_of_every_browser() {
    in_browser(
        "logging_out_everywhere_signs_the_user_out_of_every_browser",
        |browser| async move {
            let server = Server::start_app(app_with_revocation()).await;
            browser.step("browser 1 logs in as ada");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));

            browser.step("browser 2, with cookies of its own, logs in as ada too");
            let (driver, second) = browser.another().await;
            second.goto(&server.url("/")).await;
            assert_eq!(second.signed_in_as().await, None, "cookies shared");
            second.log_in(&server, "ada", "secret").await;
            assert_eq!(second.signed_in_as().await.as_deref(), Some("ada"));
            second.reload().await;
            assert_eq!(second.signed_in_as().await.as_deref(), Some("ada"));
            let visits = second.visits().await;
            assert_ne!(
                second.session_cookie_value().await,
                browser.session_cookie_value().await
            );

            browser.step("browser 1 clicks Log out everywhere");
            browser.reload().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            browser.log_out("/logout-everywhere").await;

            browser.step("browser 2 reloads, signed out by browser 1");
            second.reload().await;
            assert_eq!(second.status().await, 200);
            assert_eq!(
                second.signed_in_as().await,
                None,
                "browser 2 is still signed in"
            );
            assert!(visits > 1);
            assert_eq!(second.visits().await, 1, "not a fresh session");

            browser.step("browser 1 stays signed out");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await, None);

            browser.step("browser 2 logs in again");
            second.log_in(&server, "ada", "secret").await;
            assert_eq!(second.signed_in_as().await.as_deref(), Some("ada"));
            second.reload().await;
            assert_eq!(second.signed_in_as().await.as_deref(), Some("ada"));

            browser.step("browser 1 is still signed out");
            browser.reload().await;
            assert_eq!(browser.signed_in_as().await, None);

            second.close(driver).await;
        },
    )
    .await;
}

/// How long "Keep me signed in" keeps the demo's users signed in.
const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);

#[tokio::test]
async fn keeping_me_signed_in_gives_a_30_day_cookie_that_survives_a_restart() {
    in_browser(
        "keeping_me_signed_in_gives_a_30_day_cookie_that_survives_a_restart",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in with the box ticked");
            browser
                .log_in_kept_signed_in(&server, "ada", "secret")
                .await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            browser.assert_session_cookie_expires_in(THIRTY_DAYS).await;
            let before = browser.session_cookie_value().await;

            browser.step("restart with the same secret");
            let _server = server.restart(SECRET).await;
            browser.reload().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 2);
            // A new value: the restarted app wrote this cookie, and its
            // expiry, from the session alone.
            assert_ne!(browser.session_cookie_value().await, before);
            browser.assert_session_cookie_expires_in(THIRTY_DAYS).await;
        },
    )
    .await;
}

#[tokio::test]
async fn without_the_box_the_cookie_ends_with_the_browser_and_survives_a_restart() {
    in_browser(
        "without_the_box_the_cookie_ends_with_the_browser_and_survives_a_restart",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in without ticking the box");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            browser.assert_session_cookie_ends_with_the_browser().await;
            let before = browser.session_cookie_value().await;

            browser.step("restart with the same secret");
            let _server = server.restart(SECRET).await;
            browser.reload().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            assert_eq!(browser.visits().await, 2);
            assert_ne!(browser.session_cookie_value().await, before);
            browser.assert_session_cookie_ends_with_the_browser().await;
        },
    )
    .await;
}

#[tokio::test]
async fn logging_in_again_without_the_box_ends_the_30_days() {
    in_browser(
        "logging_in_again_without_the_box_ends_the_30_days",
        |browser| async move {
            let server = Server::start(SECRET).await;
            browser.step("log in with the box ticked");
            browser
                .log_in_kept_signed_in(&server, "ada", "secret")
                .await;
            browser.assert_session_cookie_expires_in(THIRTY_DAYS).await;

            browser.step("log in again, as someone else, without it");
            browser.log_in(&server, "grace", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("grace"));
            browser.assert_session_cookie_ends_with_the_browser().await;
        },
    )
    .await;
}

/// A user name long enough that neither it nor any of its base64
/// fragments turns up by chance in a sealed cookie's random-looking
/// value.
#[cfg(feature = "sealed")]
const LONG_USER: &str = "ada_lovelace";

#[cfg(feature = "sealed")]
#[tokio::test]
async fn the_whole_login_flow_works_sealed_and_the_cookie_hides_the_user_name() {
    in_browser(
        "the_whole_login_flow_works_sealed_and_the_cookie_hides_the_user_name",
        |browser| async move {
            let layer = SessionLayer::new(SECRET).format(Format::sealed());
            let server = Server::start_app(app::app_with(layer)).await;
            let welcome = format!("Welcome, {LONG_USER}!");

            browser.step("the counter counts");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.visits().await, 1);
            browser.reload().await;
            browser.reload().await;
            assert_eq!(browser.visits().await, 3);

            browser.step("type into the login form and submit it");
            browser.click_through("a[href='/login']").await;
            assert_eq!(browser.heading().await, "Log in");
            browser.type_into("input[name='username']", LONG_USER).await;
            browser.type_into("input[name='password']", "secret").await;
            browser
                .click_through("form.login button[type='submit']")
                .await;

            browser.step("the welcome flash after the redirect");
            assert_eq!(browser.path().await, "/");
            assert_eq!(browser.flashes().await, [welcome.as_str()]);
            assert_eq!(browser.signed_in_as().await.as_deref(), Some(LONG_USER));
            assert_eq!(browser.visits().await, 4, "the counter survives login");

            browser.step("the signed-in cookie hides the user name");
            assert_sealed(&browser.session_cookie_value().await, &[LONG_USER]);

            browser.step("no flash on the reloaded page");
            browser.reload().await;
            browser.assert_no_flash().await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some(LONG_USER));
            assert_eq!(browser.visits().await, 5);

            browser.step("logout with a forged token");
            let cookie = browser.session_cookie_value().await;
            assert_sealed(&cookie, &[LONG_USER]);
            browser
                .script(
                    "document.querySelector(\"form[action='/logout'] input[name='csrf_token']\")\
                     .value = '0'.repeat(40)",
                )
                .await;
            browser
                .click_through("form[action='/logout'] button[type='submit']")
                .await;
            browser.assert_refused_for_csrf().await;
            assert_eq!(browser.session_cookie_value().await, cookie);

            browser.step("still signed in");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some(LONG_USER));
            assert_eq!(browser.visits().await, 6);

            browser.step("click Log out");
            browser.log_out("/logout").await;
            assert_eq!(browser.visits().await, 1, "a fresh session counts anew");
            assert_sealed(&browser.session_cookie_value().await, &[LONG_USER]);

            // The flash lives in the cookie only between the login answer
            // and the page it redirects to, which a click follows at once:
            // so the form is posted by fetch, without following the
            // redirect, and the jar looked at in between.
            browser.step("log in again, stopping at the redirect");
            browser.goto(&server.url("/login")).await;
            browser.fill_in_login(LONG_USER, "secret").await;
            let answer = browser
                .script(
                    "const form = document.querySelector('form.login');
                     return fetch(form.action, {
                         method: 'POST',
                         body: new URLSearchParams(new FormData(form)),
                         redirect: 'manual',
                     }).then(answer => answer.type);",
                )
                .await;
            assert_eq!(answer, "opaqueredirect", "the login answer is a redirect");

            browser.step("the cookie holding the welcome flash hides it");
            assert_sealed(
                &browser.session_cookie_value().await,
                &[LONG_USER, &welcome],
            );

            browser.step("the flash is there, once");
            browser.goto(&server.url("/")).await;
            assert_eq!(browser.flashes().await, [welcome.as_str()]);
            assert_eq!(browser.signed_in_as().await.as_deref(), Some(LONG_USER));
            assert_eq!(browser.visits().await, 2);
            browser.reload().await;
            browser.assert_no_flash().await;
        },
    )
    .await;
}

/// `value` is a sealed cookie's: it holds none of `hidden`, neither as
/// text nor in base64 (either alphabet, any alignment), and decodes
/// (base64url) to the format version 0x01, a 24-byte nonce and at least a
/// 16-byte tag. A signed cookie fails the first check, since its payload
/// is base64 of the session's JSON.
#[cfg(feature = "sealed")]
fn assert_sealed(value: &str, hidden: &[&str]) {
    for text in hidden {
        assert!(
            !value.contains(text),
            "the cookie shows {text:?} as it is: {value}"
        );
        for fragment in base64_fragments(text.as_bytes()) {
            assert!(
                !value.contains(&fragment),
                "the cookie shows {text:?} in base64 ({fragment:?}): {value}"
            );
        }
    }
    let raw = URL_SAFE_NO_PAD
        .decode(value)
        .unwrap_or_else(|e| panic!("the cookie is not unpadded base64url ({e}): {value}"));
    assert_eq!(
        raw.first(),
        Some(&0x01),
        "the cookie does not start with the sealed format's version: {value}"
    );
    assert!(
        raw.len() >= 1 + 24 + 16,
        "{} bytes, too short for a version, nonce and tag: {value}",
        raw.len()
    );
}

/// The base64 characters that encode `bytes` wherever they start in a
/// longer input, in the standard and the URL-safe alphabet: for each of
/// the three alignments, those characters whose 6 bits all come from
/// `bytes`.
#[cfg(feature = "sealed")]
fn base64_fragments(bytes: &[u8]) -> Vec<String> {
    let mut fragments = Vec::new();
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        for skip in 0..3 {
            let mut input = vec![0; skip];
            input.extend_from_slice(bytes);
            let encoded = engine.encode(&input);
            let (start, end) = (8 * skip, 8 * input.len());
            let fragment: String = encoded
                .chars()
                .enumerate()
                .filter(|&(i, _)| 6 * i >= start && 6 * i + 6 <= end)
                .map(|(_, c)| c)
                .collect();
            fragments.push(fragment);
        }
    }
    fragments
}

/// A `__Host-` session cookie, as an app behind HTTPS would name it.
const HOST_COOKIE: &str = "__Host-session";

/// Characters that Rust's `str::trim` strips from around a cookie's name
/// but a browser keeps in it, so that a cookie named, say,
/// `"\u{2000}__Host-session"` is another cookie to the browser: free of the
/// `__Host-` prefix's rules, set by any page script, plain HTTP or a
/// sibling subdomain. Chromium stores and sends each of these (and the
/// other non-ASCII ones: U+1680, U+2001 to U+2009, U+2028, U+2029,
/// U+202F, U+205F); it refuses names with ASCII controls such as U+000B.
const SPACES_BEFORE_THE_NAME: [char; 5] = ['\u{2000}', '\u{a0}', '\u{85}', '\u{3000}', '\u{200a}'];

#[tokio::test]
async fn a_cookie_named_behind_unicode_whitespace_cannot_replace_the_session() {
    in_browser(
        "a_cookie_named_behind_unicode_whitespace_cannot_replace_the_session",
        |browser| async move {
            // http://127.0.0.1 is a secure context to Chromium: it keeps
            // and sends `Secure` cookies there, `__Host-` ones included.
            let layer = SessionLayer::new(SECRET)
                .cookie_name(HOST_COOKIE)
                .secure(true);
            let sent = SentCookies::default();
            let server = Server::start_app(sent.log(app::app_with(layer))).await;

            // In this browser, whose cookies are then cleared: as in the
            // attacker's own.
            browser.step("the attacker logs in and keeps their cookie");
            browser.log_in(&server, "mallory", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("mallory"));
            let cookie = browser
                .cookie(HOST_COOKIE)
                .await
                .unwrap_or_else(|| panic!("the browser keeps no `{HOST_COOKIE}` cookie"));
            assert_eq!(cookie.secure(), Some(true), "{cookie}");
            let attackers = cookie.value().to_owned();
            browser.client.delete_all_cookies().await.unwrap();

            browser.step("the victim logs in");
            browser.log_in(&server, "ada", "secret").await;
            assert_eq!(browser.signed_in_as().await.as_deref(), Some("ada"));
            let mut visits = browser.visits().await;

            for space in SPACES_BEFORE_THE_NAME {
                let code = format!("U+{:04X}", u32::from(space));
                let name = format!("{space}{HOST_COOKIE}");
                let planted = format!("{name}={attackers}");

                browser.step(&format!(
                    "a script plants the attacker's cookie behind {code}"
                ));
                browser
                    .script_with("document.cookie = arguments[0] + '; path=/'", &[&planted])
                    .await;
                let seen = browser.document_cookie().await;
                assert!(
                    seen.contains(&planted),
                    "Chromium did not keep the cookie named behind {code}: {seen:?}"
                );

                browser.step(&format!("the victim browses on, sent the {code} cookie"));
                sent.take(); // only the visits below
                for _ in 0..3 {
                    browser.reload().await;
                    visits += 1;
                    assert_eq!(
                        browser.signed_in_as().await.as_deref(),
                        Some("ada"),
                        "the cookie named behind {code} replaced the session"
                    );
                    assert_eq!(browser.visits().await, visits, "behind {code}");
                }
                // Chromium sends the cookies of one path oldest first, and
                // the session's own is set anew at each visit: so from the
                // second visit on the planted one went first, where a reader
                // that takes the first cookie of its name would take it.
                let headers = sent.take();
                assert!(
                    headers.len() == 3 && headers.iter().all(|header| header.contains(&planted)),
                    "the cookie named behind {code} was not sent with each visit: {headers:#?}"
                );
                assert!(
                    headers.iter().any(|header| header.starts_with(&planted)),
                    "the cookie named behind {code} was never sent first: {headers:#?}"
                );

                browser.step(&format!("the {code} cookie is removed"));
                browser
                    .script_with(
                        "document.cookie = arguments[0] + '=; path=/; max-age=0'",
                        &[&name],
                    )
                    .await;
                assert!(!browser.document_cookie().await.contains(&name));
            }
        },
    )
    .await;
}

/// The example app on a loopback port, stoppable, so that a restart can
/// be tested.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(secret: &[u8]) -> Self {
        Self::start_app(app::app(secret)).await
    }

    /// Serves `app` on a free loopback port.
    async fn start_app(app: Router) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), app).await
    }

    async fn start_on(addr: SocketAddr, app: Router) -> Self {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self { addr, stop, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Starts the app again on the same port, once the old server has
    /// closed every connection: the browser's kept-alive ones included,
    /// so that nothing of the old app can answer any more.
    async fn restart(self, secret: &[u8]) -> Self {
        let addr = self.addr;
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap_or_else(|_| panic!("the server on {addr} did not stop within {WAIT:?}"))
            .unwrap();
        Self::start_on(addr, app::app(secret)).await
    }
}

/// The `Cookie` headers of the requests for `/` that an app received, in
/// order: what the browser really sent.
#[derive(Clone, Default)]
struct SentCookies(Arc<Mutex<Vec<String>>>);

impl SentCookies {
    /// `app`, noting the `Cookie` headers of its requests for `/` here.
    fn log(&self, app: Router) -> Router {
        let sent = self.clone();
        app.layer(MapRequestLayer::new(move |request: Request| {
            if request.uri().path() == "/" {
                let header = request
                    .headers()
                    .get_all(COOKIE)
                    .iter()
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                    .collect::<Vec<_>>()
                    .join("; ");
                sent.lock().push(header);
            }
            request
        }))
    }

    /// The headers noted since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes sure Chromium and chromedriver are there, installing Debian's
/// packages once if they are not and this process may (root, apt-get).
fn chromium_installed() -> Result<(), String> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            common::apt::ensure(
                &[CHROMIUM, CHROMEDRIVER],
                &["chromium", "chromium-driver"],
                "the browser tests",
            )
        })
        .clone()
}

/// chromedriver on a free port; dropping it stops chromedriver and the
/// browser it started, so that not even a failing test leaves one behind.
struct ChromeDriver {
    process: Child,
    port: u16,
    /// Chromium's profile, new for each test; removed after chromedriver
    /// has stopped (fields drop after `Drop::drop`).
    profile: tempfile::TempDir,
}

impl ChromeDriver {
    async fn start() -> Self {
        if let Err(why) = chromium_installed() {
            panic!("{why}");
        }
        let profile = tempfile::tempdir().unwrap();
        let port = free_port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Self {
            process,
            port,
            profile,
        };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = driver.process.try_wait().unwrap() {
                panic!("{CHROMEDRIVER} exited at start-up: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{CHROMEDRIVER} did not listen on port {port} within {WAIT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
        driver
    }

    /// Starts headless Chromium, with the flags this machine needs: no
    /// sandbox as root, and none of the background connections that a
    /// closed network refuses.
    async fn open_browser(&self) -> Client {
        let profile = format!("--user-data-dir={}", self.profile.path().display());
        let wait_ms = WAIT.as_secs() * 1000;
        let Value::Object(capabilities) = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1024,768",
                    profile,
                ],
            },
            "timeouts": { "implicit": 0, "pageLoad": wait_ms, "script": wait_ms },
        }) else {
            unreachable!("a JSON object")
        };
        ClientBuilder::rustls()
            .expect("a WebDriver client")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start {CHROMIUM}: {e}"))
    }

    /// Asks chromedriver to quit, closing its browsers; a plain kill
    /// would leave Chromium running.
    fn shut_down(&self) -> std::io::Result<()> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        stream.read_to_end(&mut Vec::new())?;
        Ok(())
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        if self.shut_down().is_ok() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.process.try_wait() {
                    return;
                }
                std::thread::sleep(POLL);
            }
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
}

/// Runs `test` in a new headless Chromium. On a failure (a panic or the
/// time running out) saves a screenshot and the page source of the step it
/// was at, and panics with where they are.
async fn in_browser<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let artefacts = target_dir().join("browser-failure").join(name);
    // Only this run's failure is left to look at.
    let _ = std::fs::remove_dir_all(&artefacts);

    let driver = ChromeDriver::start().await;
    let client = driver.open_browser().await;
    let step = Arc::new(Mutex::new("start".to_owned()));
    let browser = Browser {
        client: client.clone(),
        step: Arc::clone(&step),
    };
    let mut run = tokio::spawn(test(browser));
    let failure = match tokio::time::timeout(TEST_TIMEOUT, &mut run).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(match e.try_into_panic() {
            Ok(payload) => panic_message(&*payload),
            Err(e) => e.to_string(),
        }),
        Err(_) => {
            run.abort();
            Some(format!("not done within {TEST_TIMEOUT:?}"))
        }
    };
    let Some(message) = failure else {
        client
            .close()
            .await
            .expect("chromedriver closes the browser");
        return;
    };
    let step = step.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let saved = save_page(&client, &artefacts, &step).await;
    let _ = tokio::time::timeout(WAIT, client.close()).await;
    drop(driver);
    panic!("{name} failed at step \"{step}\": {message}\n{saved}");
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Saves a screenshot and the source of the page shown, as
/// `<dir>/<step>.png` and `.html`; says what it saved, or why not.
async fn save_page(client: &Client, dir: &Path, step: &str) -> String {
    let stem: String = step
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut report = Vec::new();
    if let Err(e) = std::fs::create_dir_all(dir) {
        return format!("cannot create {}: {e}", dir.display());
    }
    let url = tokio::time::timeout(WAIT, client.current_url()).await;
    report.push(match url {
        Ok(Ok(url)) => format!("page:        {url}"),
        Ok(Err(e)) => format!("page:        unknown ({e})"),
        Err(_) => "page:        unknown (the browser does not answer)".to_owned(),
    });
    let screenshot = tokio::time::timeout(WAIT, client.screenshot()).await;
    report.push(save(
        "screenshot: ",
        &dir.join(format!("{stem}.png")),
        screenshot,
    ));
    let source = tokio::time::timeout(WAIT, client.source()).await;
    report.push(save(
        "page source:",
        &dir.join(format!("{stem}.html")),
        source.map(|source| source.map(String::into_bytes)),
    ));
    report.join("\n")
}

fn save(
    what: &str,
    path: &Path,
    content: Result<Result<Vec<u8>, fantoccini::error::CmdError>, tokio::time::error::Elapsed>,
) -> String {
    match content {
        Ok(Ok(bytes)) => match std::fs::write(path, bytes) {
            Ok(()) => format!("{what} {}", path.display()),
            Err(e) => format!("{what} not saved to {}: {e}", path.display()),
        },
        Ok(Err(e)) => format!("{what} none ({e})"),
        Err(_) => format!("{what} none (the browser does not answer)"),
    }
}

/// The browser as a test drives it, with the name of the step the test is
/// at, for the failure report.
struct Browser {
    client: Client,
    step: Arc<Mutex<String>>,
}

impl Browser {
    /// Another browser, for a test that needs two: its own chromedriver
    /// and profile, so its own cookies. Its steps are named in the same
    /// failure report, whose screenshot and page source are the first
    /// browser's. Dropping the chromedriver, as a failing test does,
    /// closes it; [`close`](Self::close) does it gracefully.
    async fn another(&self) -> (ChromeDriver, Self) {
        let driver = ChromeDriver::start().await;
        let client = driver.open_browser().await;
        let browser = Self {
            client,
            step: Arc::clone(&self.step),
        };
        (driver, browser)
    }

    /// Closes a browser that [`another`](Self::another) opened, and its
    /// chromedriver.
    async fn close(self, driver: ChromeDriver) {
        self.client
            .close()
            .await
            .expect("chromedriver closes the browser");
        drop(driver);
    }

    /// Names what the test does next.
    fn step(&self, name: &str) {
        *self.step.lock().unwrap_or_else(PoisonError::into_inner) = name.to_owned();
    }

    /// Opens `url` and waits for it to load.
    async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    async fn reload(&self) {
        self.client
            .refresh()
            .await
            .unwrap_or_else(|e| panic!("cannot reload: {e}"));
    }

    /// The path and query of the page shown.
    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The first element matching `css`, once there is one.
    async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {} within {WAIT:?}: {e}", self.path().await),
        }
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn heading(&self) -> String {
        self.text("h1").await
    }

    async fn body_text(&self) -> String {
        self.text("body").await
    }

    /// The texts of the flash banners on the page shown.
    async fn flashes(&self) -> Vec<String> {
        let mut texts = Vec::new();
        for banner in self.client.find_all(Locator::Css(".flash")).await.unwrap() {
            texts.push(banner.text().await.unwrap());
        }
        texts
    }

    /// The page shown has no flash banner: each flash is shown once.
    async fn assert_no_flash(&self) {
        let flashes = self.flashes().await;
        assert!(
            flashes.is_empty(),
            "flash banners on the page, though each flash is shown once: {flashes:?}"
        );
    }

    /// The visit counter on the start page.
    async fn visits(&self) -> u64 {
        let text = self.text(".counter strong").await;
        text.parse()
            .unwrap_or_else(|_| panic!("the counter shows {text:?}"))
    }

    /// Who the start page says is signed in, if it says anyone is.
    async fn signed_in_as(&self) -> Option<String> {
        let text = self.body_text().await;
        if let Some((_, rest)) = text.split_once("Signed in as ") {
            assert!(!text.contains("not signed in"), "{text}");
            let (user, _) = rest.split_once(".\n").unwrap_or((rest, ""));
            Some(user.to_owned())
        } else {
            assert!(text.contains("You are not signed in."), "{text}");
            None
        }
    }

    async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The HTTP status of the page shown, as the browser received it.
    async fn status(&self) -> u64 {
        let status = self
            .script("return performance.getEntriesByType('navigation')[0].responseStatus")
            .await;
        status
            .as_u64()
            .unwrap_or_else(|| panic!("no status: {status}"))
    }

    /// Runs `script` with `args` as its `arguments`.
    async fn script_with(&self, script: &str, args: &[&str]) -> Value {
        let args = args.iter().map(|arg| json!(arg)).collect();
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn document_cookie(&self) -> String {
        match self.script("return document.cookie").await {
            Value::String(cookies) => cookies,
            other => panic!("document.cookie is {other}"),
        }
    }

    /// The session cookie in the browser's jar, as WebDriver sees it:
    /// `HttpOnly` cookies included.
    async fn session_cookie(&self) -> Option<Cookie<'static>> {
        self.cookie("session").await
    }

    /// The cookie named `name` in the browser's jar, as WebDriver sees it.
    async fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.client
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|cookie| cookie.name() == name)
    }

    async fn session_cookie_value(&self) -> String {
        self.session_cookie()
            .await
            .expect("the browser keeps a `session` cookie")
            .value()
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into `{css}`: {e}"));
    }

    /// Clicks the element matching `css`, which makes the browser load
    /// a page, and waits until that page has loaded.
    async fn click_through(&self, css: &str) {
        // The mark goes with the old page, so its absence tells a new page
        // from the old one, even at the same address.
        self.script("window.oldPage = true").await;
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.oldPage === undefined && document.readyState === 'complete'",
                    Vec::new(),
                )
                .await;
            // An error means the browser is between pages: look again.
            if let Ok(Value::Bool(true)) = loaded {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new page within {WAIT:?} of clicking `{css}`"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn fill_in_login(&self, username: &str, password: &str) {
        self.type_into("form.login input[name='username']", username)
            .await;
        self.type_into("form.login input[name='password']", password)
            .await;
    }

    /// Logs in through the login form, as a person would.
    async fn log_in(&self, server: &Server, username: &str, password: &str) {
        self.goto(&server.url("/login")).await;
        self.fill_in_login(username, password).await;
        self.click_through("form.login button[type='submit']").await;
    }

    /// Clicks the button of the form posted to `action`, a logout, and
    /// checks the page it leads to: the start page, anonymous, saying so.
    async fn log_out(&self, action: &str) {
        self.click_through(&format!("form[action='{action}'] button[type='submit']"))
            .await;
        assert_eq!(self.path().await, "/?logged_out=1");
        assert_eq!(self.flashes().await, ["You have been logged out."]);
        assert_eq!(self.signed_in_as().await, None);
    }

    /// Logs in through the login form with "Keep me signed in" ticked.
    async fn log_in_kept_signed_in(&self, server: &Server, username: &str, password: &str) {
        self.goto(&server.url("/login")).await;
        self.fill_in_login(username, password).await;
        let remember = self.find("form.login input[name='remember']").await;
        remember.click().await.unwrap();
        assert!(
            remember.is_selected().await.unwrap(),
            "the box is not ticked"
        );
        self.click_through("form.login button[type='submit']").await;
    }

    /// The session cookie expires `lifetime` from now, give or take a
    /// minute for a busy machine: a persistent cookie.
    async fn assert_session_cookie_expires_in(&self, lifetime: Duration) {
        let cookie = self
            .session_cookie()
            .await
            .expect("the browser keeps a `session` cookie");
        let expires = cookie
            .expires_datetime()
            .unwrap_or_else(|| panic!("a browser-session cookie, with no expiry: {cookie}"));
        let expected = cookie::time::OffsetDateTime::now_utc() + lifetime;
        let off = expires.unix_timestamp() - expected.unix_timestamp();
        assert!(
            off.abs() <= 60,
            "the cookie expires {off} s off {lifetime:?} from now: {cookie}"
        );
    }

    /// The session cookie has no expiry: it ends with the browser.
    async fn assert_session_cookie_ends_with_the_browser(&self) {
        let cookie = self
            .session_cookie()
            .await
            .expect("the browser keeps a `session` cookie");
        assert_eq!(
            cookie.expires(),
            None,
            "not a browser-session cookie: {cookie}"
        );
    }

    /// The page shown is the app's refusal of a form without a valid token.
    async fn assert_refused_for_csrf(&self) {
        assert_eq!(self.status().await, 403);
        assert_eq!(self.heading().await, "Forbidden");
        assert_eq!(self.flashes().await, ["Invalid or missing CSRF token."]);
        let text = self.body_text().await;
        assert!(text.contains("Nothing was changed."), "{text}");
    }
}

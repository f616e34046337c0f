//! The demo app: a visit counter, a login form protected by a CSRF token
//! with a "Keep me signed in" box, flash messages and logout, all kept in
//! a signed session cookie.
//!
//! [`app`] builds the router; `main.rs` serves it, and
//! `tests/example_axum.rs` drives it with a real HTTP client.

use std::time::Duration;

use axum::{
    Form, Router,
    extract::Query,
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_cookie_session::{Expiry, Session, SessionError, SessionLayer};

/// The only password the demo accepts.
const PASSWORD: &str = "secret";

/// Longer names would only make the cookie grow towards its 4 KB limit.
const MAX_USERNAME_CHARS: usize = 64;

/// The demo's router, with its sessions signed by `secret`.
///
/// # Panics
///
/// If the session configuration is invalid (e.g. `secret` is shorter than
/// 32 bytes), with a message saying what to fix: better at start-up than
/// on the first request.
pub fn app(secret: &[u8]) -> Router {
    // Behind HTTPS, add `.secure(true)` (and consider a `__Host-` name).
    let layer = match SessionLayer::try_new(secret).and_then(|layer| {
        layer.validate()?;
        Ok(layer)
    }) {
        Ok(layer) => layer,
        Err(e) => panic!("invalid session configuration: {e}"),
    };
    app_with(layer)
}

/// The demo's router with sessions configured by `layer` (e.g. in
/// Pyramid 2's cookie format, to share sessions with a Pyramid app).
///
/// # Panics
///
/// If `layer`'s configuration is invalid, with its message.
pub fn app_with(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .layer(layer)
}

#[derive(Deserialize)]
struct IndexQuery {
    logged_out: Option<String>,
}

async fn index(
    session: Session,
    Query(query): Query<IndexQuery>,
) -> Result<Html<String>, AppError> {
    let visits = session.get::<u64>("visits")?.unwrap_or(0).saturating_add(1);
    session.insert("visits", visits)?;

    let mut banners = String::new();
    if query.logged_out.is_some() {
        banners.push_str(&banner("notice", "You have been logged out."));
    }
    banners.push_str(&flashes(&session, "", "info")?);

    let times = if visits == 1 { "time" } else { "times" };
    let account = match session.get::<String>("user")? {
        Some(user) => {
            let token = escape(&session.get_csrf_token());
            // Only with revocation on (SESSION_REVOCATION): every device.
            let everywhere = if session.revoker().is_some() {
                format!(
                    r#"
<form method="post" action="/logout-everywhere">
  <input type="hidden" name="csrf_token" value="{token}">
  <button type="submit">Log out everywhere</button>
</form>"#
                )
            } else {
                String::new()
            };
            format!(
                r#"<p>Signed in as <strong>{user}</strong>.</p>
<form method="post" action="/logout">
  <input type="hidden" name="csrf_token" value="{token}">
  <button type="submit">Log out</button>
</form>{everywhere}"#,
                user = escape(&user),
            )
        }
        None => {
            r#"<p>You are not signed in. <a class="button" href="/login">Log in</a></p>"#.to_owned()
        }
    };
    let body = format!(
        r#"<p class="counter">You have visited this page <strong>{visits}</strong> {times}.</p>
{account}"#
    );
    Ok(page("Session demo", &banners, &body))
}

async fn login_page(session: Session) -> Result<Html<String>, AppError> {
    let banners = flashes(&session, "error", "error")?;
    let signed_in = match session.get::<String>("user")? {
        Some(user) => format!(
            "<p>You are already signed in as <strong>{}</strong>; logging in again \
             replaces that session.</p>",
            escape(&user)
        ),
        None => String::new(),
    };
    let body = format!(
        r#"{signed_in}<form method="post" action="/login" class="login">
  <input type="hidden" name="csrf_token" value="{token}">
  <label>Username <input name="username" autocomplete="username" required maxlength="{MAX_USERNAME_CHARS}" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <label class="check"><input name="remember" type="checkbox"> Keep me signed in</label>
  <button type="submit">Log in</button>
</form>
<p class="hint">This is a demo: any username works, with the password <code>{PASSWORD}</code>.
With <em>Keep me signed in</em>, you stay signed in until 30 days after your
last visit, even if you close the browser.</p>
<p><a href="/">Back to the counter</a></p>"#,
        token = escape(&session.get_csrf_token()),
    );
    Ok(page("Log in", &banners, &body))
}

/// Missing fields are empty strings, so a form without a token gets the
/// CSRF page rather than axum's generic 422.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
    /// The "Keep me signed in" box: sent (as `on`) only when ticked.
    remember: Option<String>,
}

/// Signs the user in, in a new session. Ticking "Keep me signed in" makes
/// it last 30 days, across browser restarts (a cookie with `Max-Age`, and
/// 30 days of inactivity allowed); otherwise the layer's defaults hold: a
/// cookie that ends with the browser, and a 20-minute inactivity timeout.
async fn login(session: Session, Form(form): Form<LoginForm>) -> Result<Response, AppError> {
    if !session.check_csrf_token(&form.csrf_token) {
        return Ok(csrf_failure());
    }
    let username = form.username.trim();
    if username.is_empty() || username.chars().count() > MAX_USERNAME_CHARS {
        session.flash_to(
            "error",
            format!("Please enter a username of 1 to {MAX_USERNAME_CHARS} characters."),
            false,
        )?;
        return Ok(Redirect::to("/login").into_response());
    }
    if form.password != PASSWORD {
        session.flash_to("error", "Wrong username or password.", false)?;
        return Ok(Redirect::to("/login").into_response());
    }
    // A new session at login, so that a cookie planted before it (session
    // fixation) is worthless; the counter is not sensitive, so it is kept.
    let visits = session.get::<u64>("visits")?;
    session.invalidate();
    // The subject lets "Log out everywhere" end every session of this user
    // (with revocation on; without it, it is only stored).
    session.set_subject(username)?;
    session.insert("user", username)?;
    if form.remember.is_some() {
        session.set_expiry(Expiry::Persistent(Duration::from_secs(30 * 86_400)))?;
    }
    if let Some(visits) = visits {
        session.insert("visits", visits)?;
    }
    session.flash(format!("Welcome, {username}!"))?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

async fn logout(session: Session, Form(form): Form<LogoutForm>) -> Response {
    if !session.check_csrf_token(&form.csrf_token) {
        return csrf_failure();
    }
    // With nothing inserted afterwards, the layer removes the cookie. A
    // flash here would start a new session, so the message travels in the
    // query string instead.
    session.invalidate();
    Redirect::to("/?logged_out=1").into_response()
}

/// Ends every session of the signed-in user, on every device and every
/// instance that shares the revocation store, then this one.
async fn logout_everywhere(session: Session, Form(form): Form<LogoutForm>) -> Response {
    if !session.check_csrf_token(&form.csrf_token) {
        return csrf_failure();
    }
    if let (Some(revoker), Some(user)) = (session.revoker(), session.subject())
        && let Err(e) = revoker.revoke_subject(&user).await
    {
        let body = format!(
            "<p>The other sessions could not be ended ({}); you are still signed in. \
                 Please try again.</p>",
            escape(&e.to_string())
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            page("Try again", "", &body),
        )
            .into_response();
    }
    session.invalidate();
    Redirect::to("/?logged_out=1").into_response()
}

fn csrf_failure() -> Response {
    let body = r#"<p>Invalid or missing CSRF token: the form may have expired, or it
was sent from another site. Nothing was changed.</p>
<p><a class="button" href="/login">Back to the login page</a></p>"#;
    (
        StatusCode::FORBIDDEN,
        page(
            "Forbidden",
            &banner("error", "Invalid or missing CSRF token."),
            body,
        ),
    )
        .into_response()
}

/// Pops the flash queue `queue` and renders it as banners of class `class`.
fn flashes(session: &Session, queue: &str, class: &str) -> Result<String, SessionError> {
    Ok(session
        .pop_flash::<String>(queue)?
        .iter()
        .map(|message| banner(class, message))
        .collect())
}

fn banner(class: &str, message: &str) -> String {
    format!(
        r#"<div class="flash {class}" role="status">{}</div>"#,
        escape(message)
    )
}

/// A session operation failed: answer with a page that says why.
struct AppError(SessionError);

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        Self(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = format!(
            r#"<p>The session could not be used: {}</p>
<p><a class="button" href="/">Back to the start page</a></p>"#,
            escape(&self.0.to_string())
        );
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            page(
                "Something went wrong",
                &banner("error", "Session error"),
                &body,
            ),
        )
            .into_response()
    }
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*, *::before, *::after { box-sizing: border-box; }
body {
  margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2933; background: linear-gradient(160deg, #eef2f7, #dde4ee);
}
main {
  width: min(34rem, calc(100% - 2rem)); margin: 2rem auto; padding: 2rem 2.25rem;
  background: #fff; border-radius: 14px; box-shadow: 0 10px 30px rgba(31, 41, 51, .12);
}
h1 { margin: 0 0 1.25rem; font-size: 1.6rem; }
.flash {
  margin: 0 0 1rem; padding: .75rem 1rem; border-radius: 8px; border-left: 5px solid;
  font-weight: 600;
}
.flash.info { background: #e3f6e8; border-color: #2f9e55; color: #17602f; }
.flash.error { background: #fde8e8; border-color: #d64545; color: #8a1c1c; }
.flash.notice { background: #e4eefc; border-color: #3b74d9; color: #1d4384; }
.counter { font-size: 1.15rem; }
form { margin: 1rem 0; }
form.login { display: grid; gap: .9rem; }
label { display: grid; gap: .3rem; font-weight: 600; }
label.check { display: flex; align-items: center; gap: .5rem; font-weight: 400; }
input {
  font: inherit; padding: .55rem .7rem; border: 1px solid #c3ccd8; border-radius: 8px;
}
input:focus { outline: 2px solid #3b74d9; outline-offset: 1px; }
input[type="checkbox"] { width: 1.1rem; height: 1.1rem; margin: 0; accent-color: #3b74d9; }
button, .button {
  display: inline-block; font: inherit; font-weight: 600; padding: .55rem 1.2rem;
  color: #fff; background: #3b74d9; border: 0; border-radius: 8px; cursor: pointer;
  text-decoration: none;
}
button:hover, .button:hover { background: #2c5fb8; }
.hint { color: #52606d; font-size: .95rem; }
code { background: #eef2f7; padding: .1rem .35rem; border-radius: 4px; }
a { color: #2c5fb8; }
footer { margin-top: 1.5rem; color: #7b8794; font-size: .85rem; }
"#;

/// A whole page; `banners` and `body` are HTML, already escaped.
fn page(title: &str, banners: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>{title}</h1>
{banners}
{body}
<footer>Kept in a signed cookie by tower-cookie-session: the browser can read it, not change it.</footer>
</main>
</body>
</html>
"#,
        title = escape(title),
    ))
}

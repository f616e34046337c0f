//! A client of the example app on a real server, as a browser uses it:
//! its own cookie jar, forms with their CSRF token, redirects one at a
//! time.

use reqwest::{
    Client, StatusCode,
    header::{CONTENT_TYPE, LOCATION},
};

use super::pages::{self, Page, cookie_jar_client};

/// A client with its own cookie jar that does not follow redirects, so
/// each 303 and its `Set-Cookie` can be checked.
pub(crate) struct Browser {
    pub(crate) client: Client,
    pub(crate) base: String,
}

impl Browser {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            client: cookie_jar_client(),
            base: base.to_owned(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Page::read(response).await
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_urlencode(fields))
            .send()
            .await
            .unwrap();
        Page::read(response).await
    }

    /// Follows `page`, which must be a 303 to `location`.
    pub(crate) async fn follow(&self, page: &Page, location: &str) -> Page {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.header(LOCATION.as_str()), Some(location));
        self.get(location).await
    }

    /// Logs in as `username` through the login form; returns the answer
    /// to the POST.
    pub(crate) async fn log_in(&self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let token = csrf_token(&form.body);
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }
}

impl Page {
    /// The counter shown on the start page.
    pub(crate) fn visits(&self) -> u64 {
        pages::visits(&self.body)
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        self.body.contains("You are not signed in") && !self.body.contains("Signed in as")
    }
}

/// The hidden `csrf_token` field of the first form in `html`, which the
/// app makes 40 characters long.
pub(crate) fn csrf_token(html: &str) -> String {
    let token = pages::csrf_token(html);
    assert_eq!(token.len(), 40, "{token}");
    token
}

pub(crate) fn form_urlencode(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

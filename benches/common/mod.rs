//! The scenarios and contenders that `sessions` times and `allocations`
//! counts, built the same way for both.
//!
//! Every HTTP contender is an axum `Router` with one route, driven in
//! process with `ServiceExt::oneshot` on a clone, as `axum::serve` would
//! call it (`with_state` first, so layers are applied once, not per
//! request). Each contender makes its own cookie through its own write
//! path, and [`Case::check`] proves the timed path does what it claims
//! before (and after) it is timed.
//!
//! - `scenario`: what the handler does, and the state the cookie carries;
//! - `contenders/`: who handles the request, one file each;
//! - `drive`: requests built and polled in process, cookies seeded;
//! - `args`, `results`: what the bench binaries share besides the cases
//!   (each binary uses only some of them).

#[allow(dead_code, reason = "`sessions` takes its arguments from criterion")]
pub(crate) mod args;
mod contenders;
mod drive;
#[allow(dead_code, reason = "`profile` prints no table")]
pub(crate) mod results;
mod scenario;

use axum::Router;
use http::{HeaderValue, header::SET_COOKIE};
use tower::ServiceExt;

pub(crate) use contenders::Contender;
use contenders::Primitives;
use drive::{Runtime, body_text, call, drive, request};
pub(crate) use scenario::Scenario;

/// One request (or, for [`Contender::Primitives`], the codec work of one),
/// set up and checked, ready to be timed.
pub(crate) enum Case {
    Http {
        router: Router,
        cookie: Option<HeaderValue>,
        /// For a contender whose requests wait on a socket.
        runtime: Option<Runtime>,
        scenario: Scenario,
        contender: Contender,
    },
    Primitives(Primitives),
}

impl Case {
    /// Whether the contender has anything to do in the scenario, and
    /// can run on this machine.
    pub(crate) fn applies(scenario: Scenario, contender: Contender) -> bool {
        !(scenario == Scenario::Untouched && contender == Contender::Primitives)
            && contender.available()
    }

    /// Builds the case and checks it once; `None` if the contender has
    /// nothing to do in this scenario.
    ///
    /// # Panics
    ///
    /// If the contender's path does not do what the scenario says.
    pub(crate) fn new(scenario: Scenario, contender: Contender) -> Option<Self> {
        if !Self::applies(scenario, contender) {
            return None;
        }
        let mut case = match contender {
            Contender::Primitives => Self::Primitives(Primitives::new(scenario)),
            _ => {
                let http = contender.http(scenario);
                Self::Http {
                    router: http.router,
                    cookie: http.cookie,
                    runtime: http.runtime,
                    scenario,
                    contender,
                }
            }
        };
        case.check();
        Some(case)
    }

    /// One request; returns something of the response so that the work
    /// cannot be optimised away.
    #[inline]
    pub(crate) fn run(&mut self) -> usize {
        match self {
            Self::Http {
                router,
                cookie,
                runtime,
                ..
            } => {
                let future = router.clone().oneshot(request(cookie.as_ref()));
                let response = drive(runtime.as_ref(), future);
                match response {
                    Ok(response) => response.headers().len(),
                    Err(infallible) => match infallible {},
                }
            }
            Self::Primitives(p) => p.run(),
        }
    }

    /// Runs the path once and checks what it answers.
    ///
    /// # Panics
    ///
    /// If the read does not return the value, the write produces no
    /// `Set-Cookie`, or an untouched or read-only request writes one.
    pub(crate) fn check(&mut self) {
        match self {
            Self::Http {
                router,
                cookie,
                runtime,
                scenario,
                contender,
            } => {
                let what = format!("{}/{}", scenario.name(), contender.name());
                let response = call(router, cookie.as_ref(), runtime.as_ref());
                assert_eq!(response.status(), 200, "{what}");
                let writes = response.headers().contains_key(SET_COOKIE);
                let body = body_text(response);
                if contender.ignores_session() {
                    assert_eq!(body, "ok", "{what}");
                    assert!(!writes, "{what}: wrote a cookie");
                    return;
                }
                // tower-sessions keeps the counter on the server, so every
                // request counts one higher.
                if scenario.writes()
                    && *scenario != Scenario::New
                    && *contender == Contender::TowerSessions
                {
                    assert!(body.parse::<u64>().is_ok_and(|n| n >= 42), "{what}: {body}");
                } else {
                    assert_eq!(body, scenario.expected_body(), "{what}");
                }
                assert_eq!(writes, scenario.writes(), "{what}: Set-Cookie");
            }
            Self::Primitives(p) => p.check(),
        }
    }
}

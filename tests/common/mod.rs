//! What several test files share: the plumbing, one concern a module; what
//! is checked stays in the tests.
//!
//! Each file under `tests/` is a crate of its own that uses some of these
//! helpers and not others; in that crate the others would be reported as
//! dead code, though another crate uses them.
#![allow(dead_code)]

pub(crate) mod apt;
pub(crate) mod client;
pub(crate) mod cookies;
pub(crate) mod pages;
pub(crate) mod python;
pub(crate) mod redis;
pub(crate) mod server;
pub(crate) mod service;
pub(crate) mod target;

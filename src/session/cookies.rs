//! The request's cookies: its `Cookie` header values, kept undecoded until
//! the session is first used, and the values of the cookies of one name
//! in a header.

use http::{HeaderMap, HeaderValue, header::COOKIE};

/// The request's `Cookie` header values, kept undecoded.
pub(super) enum RequestCookies {
    None,
    One(HeaderValue),
    Many(Vec<HeaderValue>),
}

impl RequestCookies {
    #[inline]
    pub(super) fn new(headers: &HeaderMap) -> Self {
        // No name has a second value (the usual request): one look-up.
        if headers.len() == headers.keys_len() {
            return headers
                .get(&COOKIE)
                .map_or(Self::None, |one| Self::One(one.clone()));
        }
        let mut values = headers.get_all(&COOKIE).iter();
        match (values.next(), values.next()) {
            (None, _) => Self::None,
            (Some(one), None) => Self::One(one.clone()),
            (Some(first), Some(second)) => {
                Self::Many([first, second].into_iter().chain(values).cloned().collect())
            }
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &HeaderValue> {
        let (one, many): (Option<&HeaderValue>, &[HeaderValue]) = match self {
            Self::None => (None, &[]),
            Self::One(v) => (Some(v), &[]),
            Self::Many(v) => (None, v),
        };
        one.into_iter().chain(many)
    }
}

/// The values of the cookies named `name` in one `Cookie` header, in
/// order. A cookie is ours only when its name is `name` byte for byte:
/// only spaces and tabs around a pair are trimmed (RFC 6265bis), so that
/// a name behind other whitespace (U+2000, U+00A0: another cookie to a
/// browser, free of the `__Host-` prefix's rules) is not taken for ours.
/// RFC 6265 allows a value in double quotes; WebOb strips them.
pub(super) fn cookie_values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    const SP_HTAB: [char; 2] = [' ', '\t'];
    header.split(';').filter_map(move |pair| {
        let (n, v) = pair.split_once('=')?;
        if n.trim_matches(SP_HTAB) != name {
            return None;
        }
        let v = v.trim_matches(SP_HTAB);
        Some(
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(headers: &[(&'static str, &'static str)]) -> Vec<String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_static(value));
        }
        let cookies = RequestCookies::new(&map);
        let found = cookies
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let kind = match cookies {
            RequestCookies::None => 0,
            RequestCookies::One(_) => 1,
            RequestCookies::Many(_) => 2,
        };
        assert_eq!(
            kind,
            headers
                .iter()
                .filter(|(n, _)| *n == "cookie")
                .count()
                .min(2)
        );
        found
    }

    #[test]
    fn every_cookie_header_is_kept_in_order() {
        assert!(cookies(&[]).is_empty());
        assert!(cookies(&[("accept", "a"), ("accept", "b")]).is_empty());
        assert_eq!(cookies(&[("cookie", "a=1")]), ["a=1"]);
        // Another name with two values: the map has extra values, but the
        // cookie has one.
        assert_eq!(
            cookies(&[("accept", "a"), ("cookie", "a=1"), ("accept", "b")]),
            ["a=1"]
        );
        assert_eq!(
            cookies(&[
                ("cookie", "a=1"),
                ("accept", "a"),
                ("cookie", "b=2"),
                ("cookie", "c=3")
            ]),
            ["a=1", "b=2", "c=3"]
        );
    }
}

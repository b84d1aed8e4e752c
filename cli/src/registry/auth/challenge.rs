//! Parsing `WWW-Authenticate` (RFC 7235) as registries send it: `Basic realm="..."` or
//! `Bearer realm="...",service="...",scope="..."`. Hand-written: the needed grammar is a scheme
//! plus comma-separated `key=value` / `key="quoted"` pairs, and no small maintained crate
//! parses exactly this.

use std::collections::BTreeMap;

/// What the registry asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// No authentication needed (`/v2/` answered 200).
    Anonymous,
    /// HTTP Basic on every request.
    Basic,
    /// The Docker token flow.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// `service` parameter to pass along.
        service: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value. Unknown schemes give `None`.
pub fn parse(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
        })
    } else {
        None
    }
}

/// `key=value, key="quoted, with comma"` -> map (keys lowercased).
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
        }
        out.insert(key.trim().to_ascii_lowercase(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer() {
        let c = parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into())
            })
        );
    }

    #[test]
    fn basic_and_unknown() {
        assert_eq!(parse(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse("basic"), Some(Challenge::Basic));
        assert_eq!(parse("Negotiate abc"), None);
        assert_eq!(parse(r#"Bearer service="x""#), None, "bearer without realm");
    }

    #[test]
    fn unquoted_and_escaped() {
        let p = parse_params(r#"realm=http://x/t, service="a\"b", scope="c,d""#);
        assert_eq!(p["realm"], "http://x/t");
        assert_eq!(p["service"], "a\"b");
        assert_eq!(p["scope"], "c,d");
    }
}

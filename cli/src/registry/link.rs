//! `Link` header pagination (RFC 8288) as used by `tags/list` and `_catalog`: the registry
//! answers a page and names the next one with `rel="next"`. Hand-written because the grammar
//! needed here is one small production and no maintained crate parses just this.

/// The target of the `rel="next"` link in a `Link` header value, if any. The target may be
/// relative (`/v2/_catalog?last=x&n=100`); the caller resolves it against the request URL.
pub fn next_link(header: &str) -> Option<String> {
    split_links(header).into_iter().find_map(|link| {
        let (target, params) = parse_link(link)?;
        params
            .split(';')
            .filter_map(|p| p.split_once('='))
            .any(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
            .then(|| target.to_string())
    })
}

/// Splits a header value into links at commas outside `<...>` and quotes.
fn split_links(header: &str) -> Vec<&str> {
    let (mut parts, mut start, mut in_angle, mut in_quote) = (Vec::new(), 0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            '"' if !in_angle => in_quote = !in_quote,
            ',' if !in_angle && !in_quote => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// `<target>; params` -> (target, params).
fn parse_link(link: &str) -> Option<(&str, &str)> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((&rest[..end], &rest[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://r.example/a?x=1,2>; rel="prev", <https://r.example/b>; rel=next"#)
                .as_deref(),
            Some("https://r.example/b")
        );
        assert_eq!(next_link(r#"</p>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}

//! Grammar checks for the names a manifest holds: registry names, image (repository path) names,
//! digests and tags.
//!
//! Written by hand rather than with the regex crate: these run on every one of ~1M strings of a
//! Kubernetes-scale set, and a regex engine would add a third of the wasm module's size.

/// Prefix of a registry name that denotes a local OCI image layout directory (`oci:./path`).
pub const OCI_LAYOUT_PREFIX: &str = "oci:";

/// True for `sha256:` followed by 64 lowercase hex digits (the Go promoter's rule).
pub fn is_valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(is_lower_hex))
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// True for tags matching `^\w[\w.-]{0,127}$` with ASCII `\w` (the OCI and Go promoter rule).
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(&bytes[0])
        && bytes[1..].iter().all(|b| word(b) || *b == b'.' || *b == b'-')
}

/// Why a tag is invalid, as a help text, or `None` when it is valid.
pub fn tag_problem(tag: &str) -> Option<String> {
    if is_valid_tag(tag) {
        return None;
    }
    let chars = tag.chars().count();
    Some(if tag.is_empty() {
        "a tag cannot be empty; use [] to promote a digest without tags".to_owned()
    } else if chars > 128 {
        format!("a tag has at most 128 characters; this one has {chars}")
    } else if let Some(bad) =
        tag.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        format!("`{bad}` cannot appear in a tag: use ASCII letters, digits, `_`, `.` and `-`")
    } else {
        "a tag starts with a letter, a digit or `_`".to_owned()
    })
}

/// True for a repository path: `/`-separated components of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub fn is_valid_image_name(name: &str) -> bool {
    !name.is_empty() && name.split('/').all(is_valid_path_component)
}

/// Why an image name is not a repository path, as a help text, or `None` when it is valid.
pub fn image_name_problem(name: &str) -> Option<String> {
    if is_valid_image_name(name) {
        return None;
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(format!("repository names are lowercase: `{}`", name.to_ascii_lowercase()));
    }
    if let Some(bad) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(*c)))
    {
        return Some(format!(
            "`{bad}` cannot appear in a repository name: use lowercase letters, digits, `.`, `_`, `-` and `/`"
        ));
    }
    if name.split('/').any(str::is_empty) {
        return Some("a repository name has no empty components: no leading, trailing or double `/`".into());
    }
    Some("each `/`-separated component starts and ends with a letter or digit, and separators are `.`, `_`, `__` or dashes".into())
}

fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|b| !alnum(**b)).count();
        let sep = &component[i..i + run];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
        i += run;
    }
    true
}

/// Why a registry name is not `host[:port][/path]`, or `None` when it is valid.
pub fn registry_name_problem(name: &str) -> Option<&'static str> {
    if let Some(path) = name.strip_prefix(OCI_LAYOUT_PREFIX) {
        return path.is_empty().then_some("an OCI layout registry needs a directory after `oci:`");
    }
    if name.contains("://") {
        return Some("a registry name has no scheme: drop `https://`");
    }
    let (host_port, path) = name.split_once('/').map_or((name, None), |(h, p)| (h, Some(p)));
    if let Some(problem) = host_port_problem(host_port) {
        return Some(problem);
    }
    match path {
        Some(p) if !is_valid_image_name(p) => {
            Some("the path after the host must be lowercase components separated by `/`")
        }
        _ => None,
    }
}

fn host_port_problem(host_port: &str) -> Option<&'static str> {
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        // Bracketed IPv6 literal.
        let Some((inside, after)) = rest.split_once(']') else { return Some("unclosed `[` in the host") };
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Some("the bracketed host is not an IPv6 address");
        }
        (None, after.strip_prefix(':').map(Some).unwrap_or(if after.is_empty() { None } else { Some("") }))
    } else {
        let (h, p) = host_port.split_once(':').map_or((host_port, None), |(h, p)| (h, Some(p)));
        (Some(h), p)
    };
    if let Some(host) = host {
        if host.is_empty() {
            return Some("the registry host is empty");
        }
        if !host.split('.').all(is_dns_label) {
            return Some("the host must be DNS labels (letters, digits, `-`) separated by `.`");
        }
        // Image references name a registry host only by a first component with a `.` or a
        // `:port`, or `localhost`; anything else is the start of a Docker Hub path.
        if port.is_none() && !host.contains('.') && host != "localhost" {
            return Some(
                "a first component without a `.` or a `:port` (other than `localhost`) is not a registry host: image references read it as a Docker Hub path (`docker.io/<it>/...`); write the registry's full host name, e.g. `gcr.io`",
            );
        }
    }
    match port {
        Some(p)
            if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || p.parse::<u16>().map_or(true, |n| n == 0) =>
        {
            Some("the port must be a number from 1 to 65535")
        }
        _ => None,
    }
}

fn is_dns_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert!(is_valid_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_valid_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_valid_digest(&format!("sha256:{}", "a".repeat(63))));
        assert!(!is_valid_digest(&format!("sha512:{}", "a".repeat(64))));
    }

    #[test]
    fn tags() {
        for ok in ["v1.0", "1.10", "_x", "3.5.0-beta.3-1", &"a".repeat(128)] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"a".repeat(129), "é"] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn tag_problems() {
        assert_eq!(tag_problem("v1.0"), None);
        assert!(tag_problem("").unwrap().contains("empty"));
        assert!(tag_problem(&"a".repeat(129)).unwrap().contains("129"));
        assert!(tag_problem("a/b").unwrap().contains("`/`"));
        assert!(tag_problem(".x").unwrap().contains("starts with"));
    }

    #[test]
    fn image_name_problems() {
        assert_eq!(image_name_problem("foo/bar"), None);
        assert!(image_name_problem("Foo").unwrap().contains("`foo`"));
        assert!(image_name_problem("a b").unwrap().contains("` `"));
        assert!(image_name_problem("a//b").unwrap().contains("empty"));
        assert!(image_name_problem("a-").unwrap().contains("component"));
    }

    #[test]
    fn image_names() {
        for ok in ["foo", "charts/lws", "python_runtime_sandbox", "a__b", "a--b", "a.b/c-d"] {
            assert!(is_valid_image_name(ok), "{ok}");
        }
        for bad in ["", "Foo", "a//b", "a/", "-a", "a_-b", "a___b", "a b"] {
            assert!(!is_valid_image_name(bad), "{bad}");
        }
    }

    #[test]
    fn registry_names() {
        for ok in [
            "gcr.io",
            "gcr.io/k8s-staging-foo",
            "localhost:5000/x",
            "127.0.0.1:5000",
            "[::1]:5000/a",
            "localhost",
            "localhost/prod",
            "myhost:5000/prod",
            "oci:./prod",
        ] {
            assert_eq!(registry_name_problem(ok), None, "{ok}");
        }
        for dotless in ["gcrio/img", "gcrio", "registry/prod"] {
            assert!(registry_name_problem(dotless).unwrap().contains("Docker Hub"), "{dotless}");
        }
        for bad in ["", "https://gcr.io", "gcr.io/Foo", "gcr.io:0", "gcr.io:x", "-a.io", "oci:", "a..io"] {
            assert!(registry_name_problem(bad).is_some(), "{bad}");
        }
    }
}

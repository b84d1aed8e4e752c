//! Registry host names: splitting a full repository path into host and repository name,
//! recognising loopback and Google hosts, and Docker Hub's API host.

/// A full repository path split into the registry host (with port) and the repository name
/// the Distribution API uses (`gcr.io/foo/bar` -> `gcr.io`, `foo/bar`).
pub(crate) fn split_repository(full: &str) -> (&str, &str) {
    full.split_once('/').unwrap_or((full, ""))
}

/// The host the API is actually served from. Docker Hub's image names use `docker.io`, its API
/// lives elsewhere.
pub(crate) fn api_host(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// The host name without a port (`[::1]:5000` -> `[::1]`, `localhost:5000` -> `localhost`).
pub(crate) fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Loopback hosts may use plain HTTP without being marked insecure: they never leave the machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = host_name(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Google registry hosts (Container Registry and Artifact Registry). Only these may ask
/// gcp_auth for credentials: without credentials it would fall back to a metadata server that
/// is not on loopback.
pub(crate) fn is_google(host: &str) -> bool {
    let name = host_name(host).to_ascii_lowercase();
    name == "gcr.io" || name.ends_with(".gcr.io") || name.ends_with("-docker.pkg.dev")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_classifies() {
        assert_eq!(split_repository("gcr.io/a/b"), ("gcr.io", "a/b"));
        assert_eq!(split_repository("127.0.0.1:5000/x"), ("127.0.0.1:5000", "x"));
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:1"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(is_google("gcr.io"));
        assert!(is_google("us.gcr.io"));
        assert!(is_google("us-docker.pkg.dev"));
        assert!(is_google("fake.gcr.io:8080"));
        assert!(!is_google("gcr.io.evil.example"));
        assert!(!is_google("docker.pkg.dev"));
        assert!(!is_google("127.0.0.1:5000"));
    }
}

//! Where credentials come from, in order: explicit per-registry settings (flags / environment),
//! then Docker's `config.json` (`$DOCKER_CONFIG`, including `credHelpers` and `credsStore`, read
//! by the docker_credential crate). Google hosts are handled separately (see `google`).

use std::path::{Path, PathBuf};

use super::super::secret::Secret;

/// A registry credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// Username and password (or a token used as password).
    Basic {
        /// User name (not secret).
        username: String,
        /// Password.
        password: Secret,
    },
    /// A refresh ("identity") token from `docker login` against an OAuth2 registry.
    IdentityToken(Secret),
}

impl Credential {
    /// Parses `USER:PASSWORD` (as stored in an environment variable).
    pub(crate) fn from_user_colon_password(value: &str) -> Option<Self> {
        let (user, pass) = value.split_once(':')?;
        Some(Credential::Basic { username: user.to_string(), password: Secret::new(pass) })
    }
}

/// Docker's configuration directory: `$DOCKER_CONFIG`, else `~/.docker`.
pub(crate) fn default_docker_config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
}

/// Looks `host` up in `dir/config.json`. `Ok(None)` when there is no config or no entry.
pub(crate) fn from_docker_config(dir: &Path, host: &str) -> Result<Option<Credential>, String> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let mut keys = vec![host.to_string(), format!("https://{host}")];
    if matches!(host, "docker.io" | "index.docker.io" | "registry-1.docker.io") {
        keys.insert(0, "https://index.docker.io/v1/".to_string());
    }
    for key in keys {
        let file = match std::fs::File::open(dir.join("config.json")) {
            Ok(file) => file,
            Err(_) => return Ok(None),
        };
        match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), &key) {
            Ok(DockerCredential::UsernamePassword(username, password)) => {
                return Ok(Some(Credential::Basic { username, password: Secret::new(password) }));
            }
            Ok(DockerCredential::IdentityToken(token)) => {
                return Ok(Some(Credential::IdentityToken(Secret::new(token))));
            }
            Err(E::NoCredentialConfigured | E::ConfigNotFound) => {}
            Err(E::ConfigReadError) => {
                return Err(format!("{} is not valid", dir.join("config.json").display()));
            }
            // A helper's output might contain secrets: report only which helper failed.
            Err(E::HelperFailure { helper, .. }) => {
                return Err(format!("Docker credential helper `{helper}` failed for {host}"));
            }
            Err(other) => return Err(format!("Docker config entry for {host}: {other}")),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_colon_password() {
        let c = Credential::from_user_colon_password("bob:pa:ss").unwrap();
        assert_eq!(c, Credential::Basic { username: "bob".into(), password: Secret::new("pa:ss") });
        assert!(!format!("{c:?}").contains("pa:ss"));
        assert!(Credential::from_user_colon_password("nobody").is_none());
    }

    #[test]
    fn docker_config_auths() {
        let dir = tempfile::tempdir().unwrap();
        // "alice:s3cret" in base64.
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"registry.example:5000":{"auth":"YWxpY2U6czNjcmV0"}}}"#,
        )
        .unwrap();
        let c = from_docker_config(dir.path(), "registry.example:5000").unwrap().unwrap();
        assert_eq!(c, Credential::Basic { username: "alice".into(), password: Secret::new("s3cret") });
        assert_eq!(from_docker_config(dir.path(), "other.example").unwrap(), None);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(from_docker_config(empty.path(), "registry.example:5000").unwrap(), None);
    }
}

//! Launcher for the real CNCF distribution registry on loopback.
//!
//! The binary comes from the Debian package `docker-registry` (CI installs it with
//! `apt-get install -y docker-registry`); set `CIP_TEST_REGISTRY_BIN` to use another binary. Each
//! [`Registry`] gets a random free port on 127.0.0.1, its own temporary storage and config, deletes
//! disabled (cip never deletes), and writes its access log (Apache combined format, one line per request)
//! to a file that [`Registry::request_log`] parses. The process is killed when the value is dropped;
//! [`Registry::stop`] and [`Registry::restart`] take it down and bring it back on the same port with
//! the same storage (a registry restart, an outage).

use crate::client::{Client, Credentials};
use crate::error::Error;
use crate::token::TokenServer;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_BIN: &str = "/usr/bin/docker-registry";
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Port races (another process grabbing the port between probe and bind) are retried this often.
const START_ATTEMPTS: usize = 3;

/// How clients authenticate to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No authentication.
    Open,
    /// HTTP Basic against an htpasswd file (bcrypt) holding this one user.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// The Docker token flow: the registry answers `Bearer realm=...` and trusts JWTs signed by an
    /// in-process token server, which grants every requested scope to this user (Basic to the realm).
    Token {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// Options for [`Registry::start_with`].
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Authentication mode.
    pub auth: Auth,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions { auth: Auth::Open }
    }
}

/// One line of the registry's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method (`GET`, `HEAD`, `PUT`...).
    pub method: String,
    /// Request target as sent, including any query string.
    pub path: String,
    /// Response status code.
    pub status: u16,
    /// Unix time in whole seconds (the access log has second resolution).
    pub unix_second: i64,
}

/// A running registry process; killed on drop.
pub struct Registry {
    child: Child,
    port: u16,
    auth: Auth,
    dir: tempfile::TempDir,
    token_server: Option<TokenServer>,
}

impl Registry {
    /// Starts an open (no auth) registry.
    pub async fn start() -> Result<Registry, Error> {
        Self::start_with(RegistryOptions::default()).await
    }

    /// Starts a registry with htpasswd Basic auth for one user.
    pub async fn start_basic(user: &str, password: &str) -> Result<Registry, Error> {
        let auth = Auth::Basic { user: user.into(), password: password.into() };
        Self::start_with(RegistryOptions { auth }).await
    }

    /// Starts a registry with Docker token auth served by an in-process token server.
    pub async fn start_token(user: &str, password: &str) -> Result<Registry, Error> {
        let auth = Auth::Token { user: user.into(), password: password.into() };
        Self::start_with(RegistryOptions { auth }).await
    }

    /// Starts a registry with the given options and waits until `/v2/` answers.
    pub async fn start_with(options: RegistryOptions) -> Result<Registry, Error> {
        let bin = registry_binary()?;
        let mut last_error = Error::msg("registry did not start");
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&bin, &options).await {
                Ok(registry) => return Ok(registry),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    async fn try_start(bin: &Path, options: &RegistryOptions) -> Result<Registry, Error> {
        let dir = tempfile::Builder::new().prefix("cip-registry-").tempdir()?;
        let port = free_port()?;
        let token_server = match &options.auth {
            Auth::Token { user, password } => Some(TokenServer::start(user, password, dir.path()).await?),
            _ => None,
        };
        let auth_yaml = auth_config(&options.auth, dir.path(), token_server.as_ref())?;
        let config = registry_config(port, &dir.path().join("storage"), &auth_yaml);
        fs::write(dir.path().join("config.yml"), config)?;
        let child = spawn(bin, dir.path())?;
        let mut registry = Registry { child, port, auth: options.auth.clone(), dir, token_server };
        registry.wait_ready().await?;
        Ok(registry)
    }

    /// Stops the registry process (SIGKILL, like a crash or a pod eviction), keeping its port,
    /// configuration and storage: clients get "connection refused" until [`Registry::restart`].
    /// Stopping a stopped registry does nothing.
    pub fn stop(&mut self) -> Result<(), Error> {
        if self.child.try_wait()?.is_none() {
            self.child.kill()?;
            self.child.wait()?;
        }
        Ok(())
    }

    /// Starts the registry again after [`Registry::stop`]: the same port, configuration and
    /// storage (everything pushed before is there), logs appended; waits until `/v2/` answers.
    /// Fails if another process took the port meanwhile.
    pub async fn restart(&mut self) -> Result<(), Error> {
        self.stop()?;
        self.child = spawn(&registry_binary()?, self.dir.path())?;
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> Result<(), Error> {
        let http = reqwest::Client::builder().timeout(Duration::from_millis(500)).build()?;
        let deadline = Instant::now() + START_TIMEOUT;
        let url = format!("{}/v2/", self.url());
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error(format!("registry exited with {status}: {}", self.app_log_tail())));
            }
            if let Ok(response) = http.get(&url).send().await {
                // 401 also proves the registry is serving (auth modes).
                if matches!(response.status().as_u16(), 200 | 401) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Error(format!(
            "registry on port {} not ready after {START_TIMEOUT:?}: {}",
            self.port,
            self.app_log_tail()
        )))
    }

    /// `127.0.0.1:PORT`, the registry host as it appears in image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The auth mode this registry was started with.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The credentials a client needs (none for an open registry).
    pub fn credentials(&self) -> Option<Credentials> {
        match &self.auth {
            Auth::Open => None,
            Auth::Basic { user, password } | Auth::Token { user, password } => {
                Some(Credentials { user: user.clone(), password: password.clone() })
            }
        }
    }

    /// A push/read client for this registry, authenticated when needed.
    pub fn client(&self) -> Client {
        Client::new(&self.url(), self.credentials())
    }

    /// The registry's storage root (filesystem driver).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The temporary directory holding config, logs and storage.
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Base URL of the in-process token server (token auth only).
    pub fn token_realm(&self) -> Option<String> {
        self.token_server.as_ref().map(TokenServer::realm)
    }

    /// Every token the in-process token server issued (token auth only; empty otherwise).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.token_server.as_ref().map(TokenServer::issued_tokens).unwrap_or_default()
    }

    /// Every request the registry has logged so far, in order.
    ///
    /// The registry writes a line after the response is sent, so this first waits (at most 2 s) until
    /// the log stops growing for 100 ms; counts taken right after a request are then complete.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        let path = self.dir.path().join("access.log");
        wait_until_stable(&path);
        fs::read_to_string(&path).unwrap_or_default().lines().filter_map(parse_access_line).collect()
    }

    /// The registry's own (application) log, for debugging failed tests.
    pub fn app_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn app_log_tail(&self) -> String {
        let log = self.app_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bin serve DIR/config.yml`, appending the access log (stdout) to `DIR/access.log` and the
/// application log (stderr) to `DIR/registry.log`.
fn spawn(bin: &Path, dir: &Path) -> Result<Child, Error> {
    let log = |name: &str| fs::OpenOptions::new().create(true).append(true).open(dir.join(name));
    Command::new(bin)
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdin(Stdio::null())
        .stdout(log("access.log")?)
        .stderr(log("registry.log")?)
        .spawn()
        .map_err(|e| Error(format!("cannot run {}: {e}", bin.display())))
}

fn registry_binary() -> Result<PathBuf, Error> {
    let bin = std::env::var_os("CIP_TEST_REGISTRY_BIN").map(PathBuf::from).unwrap_or(DEFAULT_BIN.into());
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error(format!(
            "registry binary {} not found: install the Debian package with \
             `apt-get install -y docker-registry` (or set CIP_TEST_REGISTRY_BIN)",
            bin.display()
        )))
    }
}

/// Asks the kernel for a free loopback port. The listener is closed before the registry binds, hence
/// the retry in [`Registry::start_with`].
fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn registry_config(port: u16, storage: &Path, auth_yaml: &str) -> String {
    format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: false\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: cip-testkit-not-secret\n\
         {auth_yaml}",
        storage = storage.display()
    )
}

fn auth_config(auth: &Auth, dir: &Path, token: Option<&TokenServer>) -> Result<String, Error> {
    match (auth, token) {
        (Auth::Open, _) => Ok(String::new()),
        (Auth::Basic { user, password }, _) => {
            let path = dir.join("htpasswd");
            fs::write(&path, htpasswd_line(user, password)?)?;
            Ok(format!("auth:\n  htpasswd:\n    realm: cip-testkit\n    path: {}\n", path.display()))
        }
        (Auth::Token { .. }, Some(server)) => Ok(format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            server.realm(),
            crate::token::SERVICE,
            crate::token::ISSUER,
            server.cert_path().display()
        )),
        (Auth::Token { .. }, None) => Err(Error::msg("token auth without a token server")),
    }
}

/// One htpasswd line with a bcrypt hash. Cost 4 (the minimum) keeps registry auth fast in tests.
fn htpasswd_line(user: &str, password: &str) -> Result<String, Error> {
    let hash = bcrypt::hash_with_result(password, 4).map_err(|e| Error(format!("bcrypt: {e}")))?;
    Ok(format!("{user}:{}\n", hash.format_for_version(bcrypt::Version::TwoY)))
}

fn wait_until_stable(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let now = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if now == last {
            return;
        }
        last = now;
    }
}

/// Parses `127.0.0.1 - user [27/Nov/2026:18:40:00 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "ua"`.
pub(crate) fn parse_access_line(line: &str) -> Option<LoggedRequest> {
    let time_start = line.find('[')? + 1;
    let time_end = time_start + line[time_start..].find(']')?;
    let unix_second = parse_clf_time(&line[time_start..time_end])?;
    let req_start = time_end + line[time_end..].find('"')? + 1;
    let req_end = req_start + line[req_start..].find('"')?;
    let mut request = line[req_start..req_end].split(' ');
    let method = request.next()?.to_string();
    let path = request.next()?.to_string();
    let status = line[req_end + 1..].split_whitespace().next()?.parse().ok()?;
    Some(LoggedRequest { method, path, status, unix_second })
}

/// `27/Nov/2026:18:40:00 +0000` to Unix seconds.
fn parse_clf_time(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (stamp, zone) = text.split_once(' ')?;
    let mut date = stamp.splitn(3, '/');
    let day: i64 = date.next()?.parse().ok()?;
    let month_name = date.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let clock: Vec<i64> = date.next()?.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [year, h, m, s] = clock[..] else { return None };
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let zone_h: i64 = zone.get(1..3)?.parse().ok()?;
    let zone_m: i64 = zone.get(3..5)?.parse().ok()?;
    let local = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    Some(local - sign * (zone_h * 3600 + zone_m * 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_log_line() {
        let line = r#"127.0.0.1 - - [01/Jan/2000:00:00:01 +0000] "HEAD /v2/a/b/manifests/v1 HTTP/1.1" 404 96 "" "cip/0.1""#;
        let parsed = parse_access_line(line).expect("parsed");
        assert_eq!(parsed.method, "HEAD");
        assert_eq!(parsed.path, "/v2/a/b/manifests/v1");
        assert_eq!(parsed.status, 404);
        assert_eq!(parsed.unix_second, 946_684_801);
    }

    #[test]
    fn parses_zone_offsets() {
        assert_eq!(parse_clf_time("01/Jan/2000:01:00:01 +0100"), Some(946_684_801));
        assert_eq!(parse_clf_time("27/Nov/2026:18:49:25 +0000"), Some(1_795_805_365));
    }
}

//! In-process issuer for the Docker token flow, so the real registry can run with `auth: token`.
//!
//! The registry (distribution 2.8) trusts a JWT when the certificate chain in its `x5c` header verifies
//! against `rootcertbundle`. We generate a self-signed P-256 certificate with rcgen, write it as the
//! bundle, and sign ES256 tokens with jsonwebtoken. The server answers `GET /token?service=..&scope=..`
//! on 127.0.0.1: valid Basic credentials get every requested action, no credentials get a token with no
//! access (like anonymous users on real registries), wrong credentials get 401.

use crate::error::Error;
use crate::http1::{self, query_pairs};
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// `service` the registry expects in tokens (`aud`).
pub(crate) const SERVICE: &str = "cip-testkit-registry";
/// `iss` the registry expects in tokens.
pub(crate) const ISSUER: &str = "cip-testkit-issuer";
const TOKEN_LIFETIME_SECS: u64 = 300;

struct Issuer {
    user: String,
    password: String,
    key: jsonwebtoken::EncodingKey,
    cert_b64: String,
    issued: AtomicU64,
    /// Every token handed out, so secret-leak tests can search outputs for them.
    tokens: Mutex<Vec<String>>,
}

/// A running token server; its accept loop stops when dropped.
pub(crate) struct TokenServer {
    port: u16,
    cert_path: PathBuf,
    task: JoinHandle<()>,
    issuer: Arc<Issuer>,
}

impl TokenServer {
    /// Generates a key and certificate in `dir` and starts serving on a free loopback port.
    pub async fn start(user: &str, password: &str, dir: &Path) -> Result<TokenServer, Error> {
        let certified = rcgen::generate_simple_self_signed(vec!["cip-testkit-issuer".to_string()])
            .map_err(|e| Error(format!("rcgen: {e}")))?;
        let cert_path = dir.join("token-issuer.pem");
        std::fs::write(&cert_path, certified.cert.pem())?;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(certified.signing_key.serialize_pem().as_bytes())
            .map_err(|e| Error(format!("jwt key: {e}")))?;
        let cert_b64 = base64::engine::general_purpose::STANDARD.encode(certified.cert.der());
        let issuer = Arc::new(Issuer {
            user: user.into(),
            password: password.into(),
            key,
            cert_b64,
            issued: AtomicU64::new(0),
            tokens: Mutex::default(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let shared = issuer.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let issuer = issuer.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), serve(stream, &issuer)).await;
                });
            }
        });
        Ok(TokenServer { port, cert_path, task, issuer: shared })
    }

    /// The realm URL the registry advertises.
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// Every token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issuer.tokens.lock().expect("tokens").clone()
    }

    /// The PEM certificate bundle the registry trusts.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, issuer: &Issuer) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let Some(head) = http1::read_head(&mut reader).await? else { return Ok(()) };
    let (status, body) = match check_basic(head.header("authorization"), issuer) {
        Some(false) => {
            (401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#.to_string())
        }
        granted => {
            let pairs = query_pairs(head.target());
            let scopes: Vec<&str> =
                pairs.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.as_str()).collect();
            let access = if granted == Some(true) { access_claims(&scopes) } else { Vec::new() };
            match sign(issuer, access) {
                Ok(token) => (
                    200,
                    serde_json::json!({"token": token, "access_token": token,
                    "expires_in": TOKEN_LIFETIME_SECS})
                    .to_string(),
                ),
                Err(e) => (500, format!("{{\"error\":\"{e}\"}}")),
            }
        }
    };
    let response = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        if status == 200 { "OK" } else { "Error" },
        body.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// `None` without credentials, `Some(valid)` with Basic credentials.
fn check_basic(header: Option<&str>, issuer: &Issuer) -> Option<bool> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok();
    let text = decoded.and_then(|d| String::from_utf8(d).ok()).unwrap_or_default();
    Some(text.split_once(':') == Some((issuer.user.as_str(), issuer.password.as_str())))
}

/// `repository:team/app:pull,push` scopes to the `access` claim.
fn access_claims(scopes: &[&str]) -> Vec<serde_json::Value> {
    scopes
        .iter()
        .flat_map(|s| s.split(' '))
        .filter_map(|scope| {
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<&str> = actions.split(',').collect();
            Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect()
}

fn sign(issuer: &Issuer, access: Vec<serde_json::Value>) -> Result<String, Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let jti = issuer.issued.fetch_add(1, Ordering::Relaxed);
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": issuer.user, "aud": SERVICE,
        // Backdated so a registry clock a little behind ours still accepts the token.
        "iat": now - 60, "nbf": now - 60, "exp": now + TOKEN_LIFETIME_SECS,
        "jti": format!("cip-testkit-{jti}"), "access": access,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.x5c = Some(vec![issuer.cert_b64.clone()]);
    let token =
        jsonwebtoken::encode(&header, &claims, &issuer.key).map_err(|e| Error(format!("jwt sign: {e}")))?;
    issuer.tokens.lock().expect("tokens").push(token.clone());
    Ok(token)
}

//! Shared helpers of the registry tests: clients aimed at loopback servers with fast retries,
//! a Google service-account key for the token flows, and a tracing capture for the redaction checks.

#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::collections::BTreeMap;

use cip::read::RepoNeeds;
use cip::registry::{ClientConfig, RegistryClient, RetryPolicy};
use cip::{Connection, ReadOutcome};

/// A config for loopback test servers: fast retries, no Docker config, no rate limit.
pub fn config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        default_rate: Some(0.0),
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            budget: Duration::from_secs(20),
        },
        docker_config_dir: None,
        ..ClientConfig::default()
    }
}

/// A client with [`config`].
pub fn client() -> RegistryClient {
    RegistryClient::new(config()).expect("client")
}

/// Reads exactly `request` (full repository paths) through the engine's reader, over `client`.
pub async fn read(client: &RegistryClient, request: &BTreeMap<String, RepoNeeds>) -> ReadOutcome {
    let hosts = request.keys().map(|r| r.split('/').next().unwrap_or_default().to_string()).collect();
    Connection::with_client(hosts, client.clone()).read_repositories(request.clone()).await
}

/// Reads every repository under `target` (`host[/prefix]`) through the engine's reader.
pub async fn read_prefix(client: &RegistryClient, target: &str) -> ReadOutcome {
    Connection::with_client(vec![target.to_string()], client.clone())
        .read_registries(&[target.to_string()])
        .await
}

/// Reads what planning `set` needs, as `cip plan` does, over `client`.
pub async fn read_for_plan(client: &RegistryClient, set: &cip_core::ManifestSet) -> ReadOutcome {
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
    Connection::with_client(names, client.clone()).read_for_plan(set).await
}

/// `host:port` of a wiremock server.
pub fn host_of(server: &wiremock::MockServer) -> String {
    server.address().to_string()
}

/// A Google service-account key whose token endpoint is `token_uri` (RSA, made by rcgen): a
/// loopback server, so gcp_auth never looks for other credentials.
pub fn service_account_key(token_uri: &str) -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    serde_json::json!({
        "type": "service_account",
        "project_id": "cip-test",
        "private_key_id": "test",
        "private_key": key.serialize_pem(),
        "client_email": "promoter@cip-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    })
    .to_string()
}

/// Captures everything tracing writes (all levels) into a buffer.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// The captured text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// One process-wide TRACE subscriber writing into a shared [`Capture`]. Secret checks use it
/// rather than a per-thread default: with tests running in parallel, tracing's per-callsite
/// interest cache can hide a thread-local subscriber's events (a flaky "nothing captured").
/// Other tests' logs land in the same buffer, which only makes the secret checks stricter.
#[allow(dead_code)]
pub fn global_capture() -> Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(capture.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
            capture
        })
        .clone()
}

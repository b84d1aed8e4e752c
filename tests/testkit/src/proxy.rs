//! Fault-injection proxy: HTTP/1.1 on 127.0.0.1 in front of a registry, faults at a seeded rate.
//!
//! Determinism: whether a request is faulted, and how, is a pure function of the seed, the method, the
//! normalised path (upload session ids replaced by `*`, query dropped) and how many times that same
//! request was seen before. So the same logical run gets the same faults whatever the scheduling, and a
//! retry is an independent draw. After `max_faults_per_request` faults on one request it always passes,
//! which bounds every test.
//!
//! Fault semantics (each counted per kind):
//! * `Status500/502/503`, `TooManyRequests*`: answered by the proxy, the registry never sees the request.
//! * `ResetBeforeResponse`: the request IS forwarded (the registry acts on it), the response is dropped
//!   and the client connection reset (RST). This is the nastiest case for idempotency.
//! * `ResetMidBody` / `TruncatedBody`: head and half of the body, then RST / a clean close (FIN).
//! * `Stall`: nothing is answered for `stall` (set it above the client's timeout), then the socket closes.
//! * `Trickle`: the body arrives in `trickle_steps` pieces `trickle_delay` apart.
//!
//! Bodies shorter than 2 bytes cannot be cut: a body fault on them becomes `ResetBeforeResponse`.
//!
//! Throttling ([`FaultProxyConfig::with_throttle`]): a registry with a request quota. Above N
//! requests in any one-second window the proxy answers `429` with `Retry-After` itself (the
//! registry never sees the request), counted by [`FaultProxy::throttled`] and as
//! `TooManyRequestsSeconds`. The log records every request with the body bytes sent, so tests
//! and benchmarks can count what a registry served ([`FaultProxy::body_bytes`]).

use crate::data::splitmix64;
use crate::error::Error;
use crate::http1::{self, Framing, Head};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Bound on any single upstream exchange, so a wedged registry never hangs a test.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

/// A kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// `500 Internal Server Error`.
    Status500,
    /// `502 Bad Gateway`.
    Status502,
    /// `503 Service Unavailable`.
    Status503,
    /// `429` with `Retry-After: <seconds>`.
    TooManyRequestsSeconds,
    /// `429` with `Retry-After: <HTTP date>`.
    TooManyRequestsDate,
    /// Request forwarded, then the connection reset before any response byte.
    ResetBeforeResponse,
    /// Response head and half the body, then a reset.
    ResetMidBody,
    /// Response head and half the body, then a clean close.
    TruncatedBody,
    /// No answer for [`FaultProxyConfig::stall`], then close.
    Stall,
    /// Body delivered slowly in pieces.
    Trickle,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::TooManyRequestsSeconds,
        FaultKind::TooManyRequestsDate,
        FaultKind::ResetBeforeResponse,
        FaultKind::ResetMidBody,
        FaultKind::TruncatedBody,
        FaultKind::Stall,
        FaultKind::Trickle,
    ];
}

/// What the proxy does and to which requests.
#[derive(Debug, Clone)]
pub struct FaultProxyConfig {
    /// `127.0.0.1:PORT` of the registry.
    pub upstream: String,
    /// Seed of every decision.
    pub seed: u64,
    /// Probability in `[0, 1]` that an eligible request is faulted.
    pub rate: f64,
    /// Kinds to choose from (uniformly). Default: all.
    pub kinds: Vec<FaultKind>,
    /// Eligible methods (upper case); empty = all.
    pub methods: Vec<String>,
    /// A request is eligible when its path contains one of these; empty = all. `/v2/` alone never is.
    pub path_contains: Vec<String>,
    /// A request faulted this many times passes unharmed afterwards.
    pub max_faults_per_request: u32,
    /// How long a stall lasts (make it longer than the client's request timeout).
    pub stall: Duration,
    /// `Retry-After` value, in seconds, for both 429 forms.
    pub retry_after_secs: u64,
    /// Pieces of a trickled body.
    pub trickle_steps: usize,
    /// Pause between trickled pieces.
    pub trickle_delay: Duration,
    /// Requests per one-second window served; more are answered `429` (`None`: no quota).
    pub throttle: Option<u32>,
}

impl FaultProxyConfig {
    /// All kinds at `rate`, defaults elsewhere (stall 30 s, Retry-After 1 s, trickle 10 x 100 ms).
    pub fn new(upstream: impl Into<String>, seed: u64, rate: f64) -> FaultProxyConfig {
        FaultProxyConfig {
            upstream: upstream.into(),
            seed,
            rate,
            kinds: FaultKind::ALL.to_vec(),
            methods: Vec::new(),
            path_contains: Vec::new(),
            max_faults_per_request: 3,
            stall: Duration::from_secs(30),
            retry_after_secs: 1,
            trickle_steps: 10,
            trickle_delay: Duration::from_millis(100),
            throttle: None,
        }
    }

    /// A transparent, recording proxy: no faults (a counter of requests and bytes).
    pub fn transparent(upstream: impl Into<String>) -> FaultProxyConfig {
        FaultProxyConfig::new(upstream, 0, 0.0).with_kinds(&[])
    }

    /// Answers `429` (with `Retry-After`) to requests beyond `per_second` in any one-second
    /// window, like a registry with a quota.
    pub fn with_throttle(mut self, per_second: u32) -> Self {
        self.throttle = Some(per_second);
        self
    }

    /// Replaces the kinds to choose from.
    pub fn with_kinds(mut self, kinds: &[FaultKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    /// Restricts faults to these methods.
    pub fn with_methods(mut self, methods: &[&str]) -> Self {
        self.methods = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        self
    }

    /// Restricts faults to paths containing one of these fragments (e.g. `/blobs/`, `/manifests/`).
    pub fn with_paths(mut self, fragments: &[&str]) -> Self {
        self.path_contains = fragments.iter().map(|p| p.to_string()).collect();
        self
    }

    /// Sets the stall duration.
    pub fn with_stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }
}

/// One request as seen by the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// Method.
    pub method: String,
    /// Request target (with query).
    pub path: String,
    /// Status sent to the client (the registry's or the injected one); 0 when none was sent.
    pub status: u16,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
    /// Milliseconds since the proxy started, when the request head arrived.
    pub at_ms: u64,
    /// Response body bytes sent to the client.
    pub bytes: u64,
}

struct Shared {
    config: FaultProxyConfig,
    enabled: AtomicBool,
    started: Instant,
    attempts: Mutex<HashMap<String, u32>>,
    faults_by_key: Mutex<HashMap<String, u32>>,
    counts: Mutex<BTreeMap<FaultKind, u64>>,
    log: Mutex<Vec<ProxiedRequest>>,
    /// Arrival times of the requests served within the last second (throttling).
    window: Mutex<std::collections::VecDeque<Instant>>,
    throttled: std::sync::atomic::AtomicU64,
}

/// A running proxy; stops (closing every connection) when dropped.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts the proxy on a free loopback port.
    pub async fn start(config: FaultProxyConfig) -> Result<FaultProxy, Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            config,
            enabled: AtomicBool::new(true),
            started: Instant::now(),
            attempts: Mutex::default(),
            faults_by_key: Mutex::default(),
            counts: Mutex::default(),
            log: Mutex::default(),
            window: Mutex::default(),
            throttled: std::sync::atomic::AtomicU64::new(0),
        });
        let (shutdown, watcher) = watch::channel(false);
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                let mut stop = watcher.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serve_connection(client, &shared) => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        });
        Ok(FaultProxy { port, shared, shutdown, task })
    }

    /// `127.0.0.1:PORT`: use it as the registry host in place of the real one.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Turns injection on or off (off: a transparent, recording proxy).
    pub fn set_enabled(&self, enabled: bool) {
        self.shared.enabled.store(enabled, Ordering::SeqCst);
    }

    /// Faults injected so far, per kind (kinds never injected are absent).
    pub fn fault_counts(&self) -> BTreeMap<FaultKind, u64> {
        self.shared.counts.lock().expect("counts").clone()
    }

    /// Total faults injected so far.
    pub fn total_faults(&self) -> u64 {
        self.fault_counts().values().sum()
    }

    /// Requests answered `429` by the quota ([`FaultProxyConfig::with_throttle`]).
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Response body bytes sent for requests whose method is `method` and whose path contains
    /// `fragment` (e.g. `GET`, `/blobs/`: blob bytes served).
    pub fn body_bytes(&self, method: &str, fragment: &str) -> u64 {
        let log = self.shared.log.lock().expect("log");
        log.iter().filter(|r| r.method == method && r.path.contains(fragment)).map(|r| r.bytes).sum()
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.shared.log.lock().expect("log").clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

/// Serves one client connection (keep-alive) until either side closes or a fault ends it.
async fn serve_connection(client: TcpStream, shared: &Shared) {
    let _ = client.set_nodelay(true);
    let mut client = BufReader::new(client);
    let mut upstream: Option<BufReader<TcpStream>> = None;
    loop {
        let head = match http1::read_head(&mut client).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                // Answer garbage (e.g. a TLS probe) at once, as a real server does, so clients fall back.
                let bad = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                let _ = client.get_mut().write_all(bad).await;
                return;
            }
            Err(_) => return,
        };
        let at_ms = shared.started.elapsed().as_millis() as u64;
        let Ok(body) = http1::read_body(&mut client, head.request_framing()).await else { return };
        let fault = shared.over_quota().or_else(|| shared.decide(&head));
        let mut record = ProxiedRequest {
            method: head.method().to_string(),
            path: head.target().to_string(),
            status: 0,
            fault,
            at_ms,
            bytes: 0,
        };
        if fault == Some(FaultKind::Stall) {
            // Recorded before the stall so counts are visible while the client is still waiting.
            shared.record(record);
            tokio::time::sleep(shared.config.stall).await;
            return;
        }
        let outcome = handle(&mut client, &mut upstream, shared, &head, &body, fault).await;
        let keep_going = match outcome {
            Ok((status, applied, keep, bytes)) => {
                record.status = status;
                record.fault = applied;
                record.bytes = bytes;
                keep
            }
            Err(_) => false,
        };
        shared.record(record);
        if !keep_going {
            return;
        }
    }
}

/// Returns (status sent, fault actually applied, keep the connection, body bytes sent).
async fn handle(
    client: &mut BufReader<TcpStream>,
    upstream: &mut Option<BufReader<TcpStream>>,
    shared: &Shared,
    head: &Head,
    body: &[u8],
    fault: Option<FaultKind>,
) -> std::io::Result<(u16, Option<FaultKind>, bool, u64)> {
    let config = &shared.config;
    if let Some((status, extra)) = fault.and_then(|kind| synthetic(kind, config.retry_after_secs)) {
        let text = format!(
            "HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\n{extra}Content-Length: 2\r\n\r\n{{}}"
        );
        client.get_mut().write_all(text.as_bytes()).await?;
        return Ok((status, fault, true, 2));
    }
    let (response_head, response_body) = forward(upstream, &config.upstream, head, body).await?;
    let status = response_head.status();
    let framing = response_head.response_framing(head.method());
    let keep = !(response_head.wants_close() || head.wants_close() || framing == Framing::UntilClose);
    let out = client.get_mut();
    match fault {
        None => {
            out.write_all(&response_head.raw).await?;
            out.write_all(&response_body).await?;
            Ok((status, None, keep, response_body.len() as u64))
        }
        Some(FaultKind::ResetBeforeResponse) => reset(out, 0, FaultKind::ResetBeforeResponse),
        Some(kind @ (FaultKind::ResetMidBody | FaultKind::TruncatedBody)) if response_body.len() >= 2 => {
            out.write_all(&response_head.raw).await?;
            out.write_all(&response_body[..response_body.len() / 2]).await?;
            out.flush().await?;
            if kind == FaultKind::ResetMidBody {
                return reset(out, status, kind);
            }
            out.shutdown().await?;
            Ok((status, fault, false, response_body.len() as u64 / 2))
        }
        Some(FaultKind::Trickle) if response_body.len() >= 2 => {
            out.write_all(&response_head.raw).await?;
            let step = response_body.len().div_ceil(config.trickle_steps.max(1));
            for piece in response_body.chunks(step) {
                out.flush().await?;
                tokio::time::sleep(config.trickle_delay).await;
                out.write_all(piece).await?;
            }
            Ok((status, fault, keep, response_body.len() as u64))
        }
        // Body too short to cut or trickle (stalls never get here): degrade to a reset, still a fault.
        Some(_) => reset(out, 0, FaultKind::ResetBeforeResponse),
    }
}

/// Status and extra headers of proxy-generated answers.
fn synthetic(kind: FaultKind, retry_after: u64) -> Option<(u16, String)> {
    match kind {
        FaultKind::Status500 => Some((500, String::new())),
        FaultKind::Status502 => Some((502, String::new())),
        FaultKind::Status503 => Some((503, String::new())),
        FaultKind::TooManyRequestsSeconds => Some((429, format!("Retry-After: {retry_after}\r\n"))),
        FaultKind::TooManyRequestsDate => {
            // HTTP dates have whole seconds: round up so the wait is never shorter than intended.
            let when = SystemTime::now() + Duration::from_secs(retry_after + 1);
            Some((429, format!("Retry-After: {}\r\n", httpdate::fmt_http_date(when))))
        }
        _ => None,
    }
}

/// Resets the client connection (RST, not FIN) by lingering zero seconds on close.
fn reset(
    out: &mut TcpStream,
    status: u16,
    kind: FaultKind,
) -> std::io::Result<(u16, Option<FaultKind>, bool, u64)> {
    // SO_LINGER 0 is deprecated in tokio because a non-zero linger blocks on drop; zero never blocks.
    #[allow(deprecated)]
    out.set_linger(Some(Duration::ZERO))?;
    Ok((status, Some(kind), false, 0))
}

/// Sends the request upstream (reusing the connection when possible) and reads the whole response.
async fn forward(
    upstream: &mut Option<BufReader<TcpStream>>,
    address: &str,
    head: &Head,
    body: &[u8],
) -> std::io::Result<(Head, Vec<u8>)> {
    // A reused connection may have been closed by the registry; one fresh retry covers that.
    for fresh in [false, true] {
        if fresh || upstream.is_none() {
            let addr: SocketAddr =
                address.parse().map_err(|_| std::io::Error::other(format!("bad upstream {address}")))?;
            let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await??;
            let _ = stream.set_nodelay(true);
            *upstream = Some(BufReader::new(stream));
        }
        let connection = upstream.as_mut().expect("connected above");
        let exchange = async {
            connection.get_mut().write_all(&head.raw).await?;
            connection.get_mut().write_all(body).await?;
            let response = http1::read_head(connection)
                .await?
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "upstream closed"))?;
            let response_body =
                http1::read_body(connection, response.response_framing(head.method())).await?;
            Ok::<_, std::io::Error>((response, response_body))
        };
        match tokio::time::timeout(UPSTREAM_TIMEOUT, exchange).await {
            Ok(Ok(result)) => {
                if result.0.wants_close() {
                    *upstream = None;
                }
                return Ok(result);
            }
            Ok(Err(_)) if !fresh => *upstream = None,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out")),
        }
    }
    unreachable!("the fresh attempt always returns")
}

impl Shared {
    fn record(&self, request: ProxiedRequest) {
        if let Some(kind) = request.fault {
            *self.counts.lock().expect("counts").entry(kind).or_default() += 1;
        }
        self.log.lock().expect("log").push(request);
    }

    /// `429` when the quota of this second is spent (the request is not served, nor counted).
    fn over_quota(&self) -> Option<FaultKind> {
        let limit = self.config.throttle? as usize;
        let now = Instant::now();
        let mut window = self.window.lock().expect("window");
        while window.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        if window.len() >= limit {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return Some(FaultKind::TooManyRequestsSeconds);
        }
        window.push_back(now);
        None
    }

    /// The seeded decision for this request (see the module docs).
    fn decide(&self, head: &Head) -> Option<FaultKind> {
        let config = &self.config;
        if !self.enabled.load(Ordering::SeqCst) || config.kinds.is_empty() || !self.eligible(head) {
            return None;
        }
        let key = format!("{} {}", head.method(), normalise(head.target()));
        let attempt = {
            let mut attempts = self.attempts.lock().expect("attempts");
            let n = attempts.entry(key.clone()).or_default();
            *n += 1;
            *n
        };
        let mut faults = self.faults_by_key.lock().expect("faults");
        let faulted = faults.entry(key.clone()).or_default();
        if *faulted >= config.max_faults_per_request {
            return None;
        }
        let mut state = config.seed ^ fnv1a(key.as_bytes()) ^ u64::from(attempt).wrapping_mul(0x9e37_79b9);
        let draw = (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        if draw >= config.rate {
            return None;
        }
        *faulted += 1;
        Some(config.kinds[(splitmix64(&mut state) % config.kinds.len() as u64) as usize])
    }

    fn eligible(&self, head: &Head) -> bool {
        let config = &self.config;
        let path = head.target();
        let method_ok = config.methods.is_empty() || config.methods.iter().any(|m| m == head.method());
        let path_ok =
            config.path_contains.is_empty() || config.path_contains.iter().any(|p| path.contains(p));
        // The `/v2/` ping decides auth; faulting it tests nothing the other requests do not.
        method_ok && path_ok && path.split('?').next() != Some("/v2/")
    }
}

/// Drops the query and replaces upload session ids so retries of one logical request share a key.
fn normalise(target: &str) -> String {
    let path = target.split('?').next().unwrap_or("");
    match path.split_once("/blobs/uploads/") {
        Some((repo, rest)) if !rest.is_empty() => format!("{repo}/blobs/uploads/*"),
        _ => path.to_string(),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_upload_sessions() {
        assert_eq!(normalise("/v2/a/b/blobs/uploads/1234-abcd?_state=x&digest=y"), "/v2/a/b/blobs/uploads/*");
        assert_eq!(normalise("/v2/a/b/blobs/uploads/"), "/v2/a/b/blobs/uploads/");
        assert_eq!(normalise("/v2/a/manifests/v1"), "/v2/a/manifests/v1");
    }
}

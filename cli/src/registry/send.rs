//! The one send loop. Every request the engine makes (pings, token fetches, listings, manifests,
//! blobs, uploads) goes through [`RegistryClient::send`]: the host's rate and concurrency limits
//! (a `429`, or a `503` with `Retry-After`, cuts that host's adaptive rate), counting, and retries of transient trouble (connection errors, timeouts, 408, 429, 5xx) with
//! exponential backoff and jitter, honouring `Retry-After`, within the host's time budget (see
//! [`super::retry`]). Above it, [`RegistryClient::execute`] adds authentication (one
//! re-authentication on 401) and [`RegistryClient::fetch`] reads a small body, retrying a body
//! cut off mid-way as it retries a reset connection.
//!
//! Kept by hand rather than built on `backon`: the budget belongs to the host and is shared by
//! every request of the run (an outage clock, reset by any answer), which backon's per-call
//! backoff iterators do not model; the loop itself is twenty lines.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::{debug, info};

use super::client::{Call, HostState, RegistryClient};
use super::error::{ErrorKind, Operation, RegistryError};
use super::response::{read_limited, request_error};
use super::retry;

/// How the send loop treats one request.
pub(crate) struct SendSpec<'a> {
    /// The host whose limits, counters and budget apply (a token realm's host for token fetches).
    pub(crate) host: &'a str,
    /// What the request is, for logs.
    pub(crate) what: &'a str,
    /// Send once: a streamed body cannot be replayed.
    pub(crate) once: bool,
    /// Transport errors for which the caller wants the error at once instead of retries (the
    /// ping probing schemes: a refused HTTPS handshake means "try plain HTTP", not "wait").
    pub(crate) give_up: &'a (dyn Fn(&reqwest::Error) -> bool + Sync),
}

/// Why the send loop returned no response.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The request could not be sent and the caller asked not to retry that (`give_up`, `once`).
    Unsent(String),
    /// Retries ran out.
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// Time spent by this request.
        elapsed: Duration,
        /// The last problem.
        last: String,
        /// What the last problem was.
        cause: Cause,
    },
}

/// What the last failed attempt of a request met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A retryable status (408, 429, 5xx).
    Status,
    /// No connection, or one lost.
    Connect,
    /// No answer within the time limit.
    Timeout,
}

impl SendError {
    /// The error kind a caller reports; `timeout` is the request's time limit.
    pub(crate) fn into_kind(self, timeout: Duration) -> ErrorKind {
        match self {
            SendError::Unsent(message) => ErrorKind::Connect(message),
            SendError::Exhausted { cause: Cause::Timeout, .. } => ErrorKind::Timeout(timeout),
            SendError::Exhausted { attempts, last, cause: Cause::Connect, .. } => {
                ErrorKind::Connect(format!("{last} ({attempts} attempts)"))
            }
            SendError::Exhausted { attempts, elapsed, last, cause: Cause::Status } => {
                ErrorKind::RetriesExhausted { attempts, elapsed, last }
            }
        }
    }
}

impl RegistryClient {
    /// Sends the request `build` makes (called again for every attempt) and returns the first
    /// answer that is not worth retrying, whatever its status.
    pub(crate) async fn send(
        &self,
        how: &SendSpec<'_>,
        mut build: impl FnMut() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        let state = self.host_state(how.host);
        let started = Instant::now();
        let mut first_failure: Option<Instant> = None;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let request = build();
            let sent = {
                let _permit = state.limiter.admit().await;
                request.send().await
            };
            let (hint, problem, cause) = match sent {
                Ok(response) => {
                    self.inner.stats.request(how.host);
                    let status = response.status().as_u16();
                    debug!(
                        registry = how.host,
                        status,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "request {}",
                        how.what
                    );
                    let hint = retry_after(response.headers());
                    // The host asks to slow down: only its own rate is cut (see super::ratelimit).
                    if status == 429 || (status == 503 && hint.is_some()) {
                        state.limiter.throttled();
                        self.inner.stats.throttled();
                    } else if status < 500 {
                        state.limiter.succeeded();
                    }
                    if how.once || !retry::is_retryable_status(status) {
                        state.answered();
                        return Ok(response);
                    }
                    (hint, format!("HTTP {status}"), Cause::Status)
                }
                Err(e) => {
                    let unsent = how.once || (how.give_up)(&e);
                    let cause = if e.is_timeout() { Cause::Timeout } else { Cause::Connect };
                    let message = request_error(e);
                    if unsent {
                        return Err(SendError::Unsent(message));
                    }
                    (None, message, cause)
                }
            };
            // An outage is when the host answers nothing since this request first failed.
            let first_failure = *first_failure.get_or_insert_with(Instant::now);
            let own_failure = cause == Cause::Timeout || state.answered_since(first_failure);
            match self.next_delay(&state, attempts, hint, !own_failure) {
                Some(delay) => {
                    self.inner.stats.retry();
                    info!(registry = how.host, "{}: {problem}; retry {attempts} in {delay:?}", how.what);
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(SendError::Exhausted {
                        attempts,
                        elapsed: started.elapsed(),
                        last: problem,
                        cause,
                    });
                }
            }
        }
    }

    /// The pause before the next attempt, or `None` when the host's budget is spent. A host that
    /// answered earlier in the run gets the whole budget, counted from the start of its current
    /// outage and shared by every request; a host never reached gets `max_attempts` only.
    fn next_delay(
        &self,
        state: &HostState,
        attempts: u32,
        hint: Option<Duration>,
        outage: bool,
    ) -> Option<Duration> {
        let policy = &self.inner.config.retry;
        let delay = hint.unwrap_or_else(|| retry::backoff(policy, attempts.saturating_sub(1)));
        let since = *state.outage.lock().expect("outage lock").get_or_insert_with(Instant::now);
        let outage = outage && state.reached.load(Ordering::Relaxed);
        retry::may_retry(policy, outage, attempts, since.elapsed(), delay).then_some(delay)
    }

    /// Sends a call with authentication and the send loop. Returns the final response whatever
    /// its status, except 401 (after one re-authentication), which is an error; `stream` is a
    /// body that cannot be replayed (sent once; the caller authenticates first with a cheap
    /// call on the same scopes).
    pub(crate) async fn execute(
        &self,
        call: &Call<'_>,
        mut stream: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, RegistryError> {
        let fail = |kind| self.error(call.host, call.repository, call.operation, kind);
        let endpoint = self.endpoint(call.host).await?;
        let state = self.host_state(call.host);
        let client = if endpoint.unverified { &self.inner.http_unverified } else { &self.inner.http };
        let url = if call.target.starts_with('/') {
            format!("{}{}", endpoint.base, call.target)
        } else {
            call.target.clone()
        };
        // Credentials go only to the registry itself, never to another origin a `Location`
        // or `Link` header names.
        let same_origin = url.starts_with(&format!("{}/", endpoint.base));
        // Another origin's URL may be pre-signed: its query is not logged.
        let shown = if same_origin { url.as_str() } else { url.split('?').next().unwrap_or_default() };
        let what = format!("{} {} {shown}", call.operation, call.method);
        let never = |_: &reqwest::Error| false;
        let mut reauthenticated = false;
        loop {
            let challenge = state
                .late_challenge
                .lock()
                .expect("challenge lock")
                .clone()
                .unwrap_or(endpoint.challenge.clone());
            let (authorization, identity) = if same_origin {
                self.authorization(&state, call, &challenge, reauthenticated)
                    .await
                    .map_err(|k| self.error(call.host, call.repository, Operation::Authenticate, k))?
            } else {
                (None, None)
            };
            let auth_value = match &authorization {
                Some(value) => {
                    let mut v = HeaderValue::from_str(value.expose()).map_err(|_| {
                        fail(ErrorKind::Credentials(
                            "credential contains characters not allowed in a header".into(),
                        ))
                    })?;
                    v.set_sensitive(true);
                    Some(v)
                }
                None => None,
            };
            let mut body = stream.take();
            let how = SendSpec { host: call.host, what: &what, once: body.is_some(), give_up: &never };
            let build = || {
                let mut request = client.request(call.method.clone(), &url).headers(call.headers.clone());
                if let Some(v) = &auth_value {
                    request = request.header(header::AUTHORIZATION, v.clone());
                }
                if let Some(b) = body.take() {
                    request = request.body(b);
                } else if let Some(b) = &call.body {
                    request = request.body(b.clone());
                }
                if let Some(t) = call.timeout {
                    request = request.timeout(t);
                }
                request
            };
            let limit = call.timeout.unwrap_or(self.inner.config.timeout);
            let response = self.send(&how, build).await.map_err(|e| fail(e.into_kind(limit)))?;
            if response.status() == StatusCode::UNAUTHORIZED {
                if reauthenticated || how.once {
                    if let Some(identity) = identity.filter(|_| !call.probe) {
                        state.refused.lock().expect("refused lock").insert(identity);
                    }
                    return Err(fail(ErrorKind::AuthRefused { status: 401 }));
                }
                // Once: the token may have expired, or an open `/v2/` hides a protected
                // repository. A second 401 is final (no retry storm).
                self.learn_challenge(&state, &endpoint, response.headers());
                reauthenticated = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// A small document: executes `call` and reads its body (bounded), retrying a body cut off
    /// mid-way like a reset connection, within the same budget. `Ok(None)` on 404.
    pub(crate) async fn fetch(&self, call: &Call<'_>) -> Result<Option<Fetched>, RegistryError> {
        let fail = |kind| self.error(call.host, call.repository, call.operation, kind);
        let state = self.host_state(call.host);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let response = self.execute(call, None).await?;
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                let text = super::response::body_text(response).await;
                return Err(fail(super::response::status_kind(status.as_u16(), &text)));
            }
            let headers = response.headers().clone();
            let url = response.url().clone();
            match read_limited(response).await {
                Ok(bytes) => return Ok(Some(Fetched { headers, url, bytes })),
                Err(kind @ ErrorKind::Interrupted(_)) => match self.next_delay(&state, attempts, None, false)
                {
                    Some(delay) => {
                        self.inner.stats.retry();
                        info!(
                            registry = call.host,
                            "{}: {kind}; retry {attempts} in {delay:?}", call.operation
                        );
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(fail(kind)),
                },
                Err(kind) => return Err(fail(kind)),
            }
        }
    }
}

/// A small document read by [`RegistryClient::fetch`].
pub(crate) struct Fetched {
    /// Response headers.
    pub(crate) headers: HeaderMap,
    /// The URL that answered (after redirects), for resolving `Link` targets.
    pub(crate) url: reqwest::Url,
    /// The body.
    pub(crate) bytes: Vec<u8>,
}

impl HostState {
    /// Records an answer from the host: it is reachable, and any outage is over.
    pub(crate) fn answered(&self) {
        self.reached.store(true, Ordering::Relaxed);
        *self.outage.lock().expect("outage lock") = None;
        *self.last_answer.lock().expect("answer lock") = Some(Instant::now());
    }

    /// True when the host answered some request after `instant`.
    fn answered_since(&self, instant: Instant) -> bool {
        self.last_answer.lock().expect("answer lock").is_some_and(|at| at > instant)
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    retry::parse_retry_after(value, SystemTime::now())
}

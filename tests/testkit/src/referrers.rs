//! An OCI 1.1 registry for tests of the referrers API: an in-process front (hyper, on
//! `127.0.0.1`) over a real distribution registry that adds what distribution 2.8 lacks.
//!
//! Why in-process: the only registry installable here, the Debian `docker-registry` package
//! (CNCF distribution 2.8), predates OCI 1.1 and has no `GET /v2/<name>/referrers/<digest>`
//! (it answers `404`); no OCI 1.1 registry (distribution 3, zot, Harbor) is packaged for this
//! machine. So everything else — blobs, manifests, tags, uploads — stays the real registry's
//! (requests are forwarded unchanged), and the front only:
//!
//! * remembers every manifest `PUT` through it whose body has a `subject`, and answers that
//!   `PUT` with the `OCI-Subject` header, as an OCI 1.1 registry does;
//! * serves `GET /v2/<name>/referrers/<digest>`: an image index of those manifests'
//!   descriptors (with `artifactType` and annotations), filtered by `?artifactType=` (saying so
//!   in `OCI-Filters-Applied`), in pages of [`ReferrersFront::start`]'s `page_size` linked with
//!   `Link: <...>; rel="next"`.
//!
//! Every request is logged ([`ReferrersFront::requests`]) so tests can count referrers calls.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::Error;

/// The running front; stops on drop.
pub struct ReferrersFront {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

struct State {
    upstream: String,
    front: String,
    http: reqwest::Client,
    page_size: usize,
    /// (repository, subject digest) -> referrer descriptors, in push order.
    referrers: Mutex<BTreeMap<(String, String), Vec<Value>>>,
    /// (method, target) of every request served.
    log: Mutex<Vec<(String, String)>>,
}

impl ReferrersFront {
    /// Starts a front for the registry at `upstream` (`http://127.0.0.1:PORT`), answering
    /// referrers lists in pages of `page_size`.
    pub async fn start(upstream: &str, page_size: usize) -> Result<ReferrersFront, Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            front: format!("http://{addr}"),
            http,
            page_size: page_size.max(1),
            referrers: Mutex::default(),
            log: Mutex::default(),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(ReferrersFront { addr, state, task })
    }

    /// `127.0.0.1:PORT`, as cip names the registry.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.state.front.clone()
    }

    /// (method, target) of every request served so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.state.log.lock().expect("log lock").clone()
    }
}

impl Drop for ReferrersFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    state.log.lock().expect("log lock").push((req.method().to_string(), target.clone()));
    if req.method() == hyper::Method::GET
        && let Some((name, rest)) = target.strip_prefix("/v2/").and_then(|t| t.split_once("/referrers/"))
    {
        return Ok(referrers(&state, name, rest));
    }
    Ok(forward(&state, req, &target).await.unwrap_or_else(|e| {
        let mut r = Response::new(Full::new(Bytes::from(e.0)));
        *r.status_mut() = StatusCode::BAD_GATEWAY;
        r
    }))
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=T][&page=N]`.
fn referrers(state: &State, name: &str, rest: &str) -> Reply {
    let (digest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params: BTreeMap<String, String> = reqwest::Url::parse(&format!("x:/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let all = state
        .referrers
        .lock()
        .expect("referrers lock")
        .get(&(name.to_string(), digest.to_string()))
        .cloned()
        .unwrap_or_default();
    let filter = params.get("artifactType");
    let listed: Vec<Value> =
        all.into_iter().filter(|d| filter.is_none_or(|t| d["artifactType"].as_str() == Some(t))).collect();
    let page: usize = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let start = (page * state.page_size).min(listed.len());
    let end = (start + state.page_size).min(listed.len());
    let body = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": listed[start..end],
    });
    let mut reply = Response::new(Full::new(Bytes::from(serde_json::to_vec(&body).expect("json"))));
    let headers = reply.headers_mut();
    headers.insert("content-type", "application/vnd.oci.image.index.v1+json".parse().expect("header"));
    if filter.is_some() {
        headers.insert("oci-filters-applied", "artifactType".parse().expect("header"));
    }
    if end < listed.len() {
        let mut next = reqwest::Url::parse("x:/").expect("url");
        {
            let mut q = next.query_pairs_mut();
            if let Some(t) = filter {
                q.append_pair("artifactType", t);
            }
            q.append_pair("page", &(page + 1).to_string());
        }
        let link = format!("</v2/{name}/referrers/{digest}?{}>; rel=\"next\"", next.query().unwrap_or(""));
        headers.insert("link", link.parse().expect("header"));
    }
    reply
}

/// Forwards a request to the real registry; remembers referrers among manifest `PUT`s.
async fn forward(state: &State, req: Request<Incoming>, target: &str) -> Result<Reply, Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| Error(format!("front: {e}")))?.to_bytes();
    let mut out = state.http.request(parts.method.clone(), format!("{}{target}", state.upstream));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            out = out.header(name, value);
        }
    }
    let response = out.body(body.clone()).send().await?;
    let status = response.status();
    let mut headers = response.headers().clone();
    let answer = response.bytes().await?;
    let manifest_put = parts.method == hyper::Method::PUT && target.contains("/manifests/");
    if manifest_put
        && status.is_success()
        && let Some((name, subject, descriptor)) = referrer_of(target, &parts.headers, &body)
    {
        headers.insert("oci-subject", subject.parse().map_err(|_| Error("bad subject".into()))?);
        let mut known = state.referrers.lock().expect("referrers lock");
        let list = known.entry((name, subject)).or_default();
        if !list.iter().any(|d| d["digest"] == descriptor["digest"]) {
            list.push(descriptor);
        }
    }
    // Upload locations name the registry; the client must come back through the front.
    if let Some(location) = headers.get("location").and_then(|v| v.to_str().ok()) {
        let rewritten = location.replace(&state.upstream, &state.front);
        headers.insert("location", rewritten.parse().map_err(|_| Error("bad location".into()))?);
    }
    let mut reply = Response::new(Full::new(answer));
    *reply.status_mut() = status;
    *reply.headers_mut() = headers;
    Ok(reply)
}

/// (repository, subject digest, descriptor) of a manifest body with a `subject`.
fn referrer_of(target: &str, headers: &hyper::HeaderMap, body: &[u8]) -> Option<(String, String, Value)> {
    let name = target.strip_prefix("/v2/")?.split("/manifests/").next()?.to_string();
    let doc: Value = serde_json::from_slice(body).ok()?;
    let subject = doc.get("subject")?.get("digest")?.as_str()?.to_string();
    let media_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| doc["mediaType"].as_str().map(str::to_owned))?;
    let mut descriptor = json!({
        "mediaType": media_type,
        "digest": crate::data::Digest::of(body).0,
        "size": body.len(),
    });
    let artifact_type =
        doc.get("artifactType").or_else(|| doc.get("config").and_then(|c| c.get("mediaType")));
    if let Some(t) = artifact_type {
        descriptor["artifactType"] = t.clone();
    }
    if let Some(a) = doc.get("annotations") {
        descriptor["annotations"] = a.clone();
    }
    Some((name, subject, descriptor))
}

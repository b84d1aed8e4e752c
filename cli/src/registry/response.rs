//! Reading registry responses: bounded bodies, media types, status codes to error kinds, and
//! error texts with pre-signed URL queries removed.

use reqwest::header::{self, HeaderMap};

use super::error::ErrorKind;
use super::media;

/// Largest manifest or listing body cip accepts (manifests are small; this bounds memory).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| media::essence(v).to_string())
        .filter(|v| !v.is_empty())
}

/// Reads a whole (small) response body, refusing more than [`MAX_DOCUMENT_BYTES`]. A connection
/// lost mid-body is [`ErrorKind::Interrupted`] (worth another try); an oversized body is not.
pub(crate) async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ErrorKind::Interrupted(request_error(e)))? {
        if out.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(ErrorKind::Invalid(format!("body larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A short, single-line excerpt of an error body for messages.
pub(crate) async fn body_text(response: reqwest::Response) -> String {
    let text =
        read_limited(response).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(300).collect()
}

/// The error a final non-success status means.
pub(crate) fn status_kind(status: u16, message: &str) -> ErrorKind {
    match status {
        401 => ErrorKind::AuthRefused { status },
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound(if message.is_empty() { "HTTP 404".into() } else { message.to_string() }),
        _ => ErrorKind::Status { status, message: message.to_string() },
    }
}

/// A failed request's error chain with the URL's query removed: a redirect target or upload
/// `Location` may be a pre-signed URL whose query is a credential of its own, and error messages
/// must never carry one. The path still says which object failed.
pub(crate) fn request_error(mut error: reqwest::Error) -> String {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
    }
    error_chain(&error)
}

/// An error and its causes on one line (reqwest's own message is terse). cip's own URLs never
/// carry secrets (tokens travel in headers only); URLs a registry hands out may, see
/// [`request_error`].
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

pub(crate) fn looks_like_tls(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "corrupt message", "invalidcontenttype", "received corrupt"]
        .iter()
        .any(|needle| m.contains(needle))
}

pub(crate) fn looks_like_certificate(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("certificate") || m.contains("unknownissuer") || m.contains("invalid peer")
}

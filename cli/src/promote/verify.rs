//! Digest verification while streaming: a blob's bytes are hashed as they pass from source to
//! destination, and the destination never sees the end of a stream whose bytes do not match.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use crate::registry::digest::{StreamDigest, sha256_digest};
use crate::registry::error::found;
use crate::store::{BlobStream, ByteStream, ErrorKind, Operation, RawManifest, RegistryError};

/// Checks a manifest read from a store against the digest it was asked for.
pub(crate) fn check_manifest(
    manifest: &RawManifest,
    expected: &str,
    registry: &str,
    repo: &str,
) -> Result<(), RegistryError> {
    let actual = sha256_digest(&manifest.bytes);
    if actual == expected {
        return Ok(());
    }
    let kind = ErrorKind::Integrity { object: format!("manifest {expected}"), found: found(&actual, None) };
    Err(RegistryError::new(registry, repo, Operation::GetManifest, kind))
}

/// Why a verified stream stopped, kept for the executor: the destination only sees that its
/// upload was abandoned, while the cause (an integrity failure, final; or a source cut off,
/// worth another try) is the source's.
#[derive(Clone, Default)]
pub(crate) struct SourceFailure(Arc<Mutex<Option<RegistryError>>>);

impl SourceFailure {
    /// The source's failure, if the stream stopped because of one.
    pub(crate) fn take(&self) -> Option<RegistryError> {
        self.0.lock().expect("source failure lock").take()
    }

    fn set(&self, error: RegistryError) {
        *self.0.lock().expect("source failure lock") = Some(error);
    }
}

/// Wraps a source blob so that it is verified while it streams. The previous chunk is held back
/// until the next one arrives: the last chunk is released only after the digest and size matched,
/// so a destination reading this stream never receives a complete mismatching body (it sees an
/// `Err` item instead and must abandon the upload). `on_bytes` is told of every chunk (progress).
/// Fewer bytes than announced is a cut-off source (transient); more bytes, or the announced
/// number of bytes with another digest, is an integrity failure (final).
pub(crate) fn verifying(
    blob: BlobStream,
    expected: &str,
    registry: &str,
    repo: &str,
    on_bytes: impl Fn(u64) + Send + 'static,
) -> (BlobStream, SourceFailure) {
    let size = blob.size;
    let failure = SourceFailure::default();
    let stream = Verifying {
        inner: blob.stream,
        hasher: StreamDigest::default(),
        expected: expected.to_owned(),
        size,
        seen: 0,
        held: None,
        done: false,
        registry: registry.to_owned(),
        repo: repo.to_owned(),
        on_bytes: Box::new(on_bytes),
        failure: failure.clone(),
    };
    (BlobStream { size, stream: Box::pin(stream) }, failure)
}

struct Verifying {
    inner: ByteStream,
    hasher: StreamDigest,
    expected: String,
    size: u64,
    seen: u64,
    held: Option<Bytes>,
    done: bool,
    registry: String,
    repo: String,
    on_bytes: Box<dyn Fn(u64) + Send>,
    failure: SourceFailure,
}

impl Verifying {
    fn fail(&mut self, error: RegistryError) -> Poll<Option<Result<Bytes, RegistryError>>> {
        self.done = true;
        self.held = None;
        self.failure.set(error.clone());
        Poll::Ready(Some(Err(error)))
    }

    fn error(&self, kind: ErrorKind) -> RegistryError {
        RegistryError::new(&self.registry, &self.repo, Operation::GetBlob, kind)
    }

    fn integrity(&self, actual: String) -> RegistryError {
        let sizes = (self.seen != self.size).then_some((self.size, self.seen));
        self.error(ErrorKind::Integrity {
            object: format!("blob {}", self.expected),
            found: found(&actual, sizes),
        })
    }
}

impl Stream for Verifying {
    type Item = Result<Bytes, RegistryError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(self.held.take().map(Ok));
        }
        loop {
            match self.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return self.fail(e),
                Poll::Ready(Some(Ok(chunk))) => {
                    self.hasher.update(&chunk);
                    self.seen += chunk.len() as u64;
                    (self.on_bytes)(chunk.len() as u64);
                    if self.seen > self.size {
                        let error =
                            self.integrity("(not all read: more bytes than the descriptor's size)".into());
                        return self.fail(error);
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    if let Some(previous) = self.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Poll::Ready(None) => {
                    if self.seen < self.size {
                        let message = format!("the source sent {} of {} bytes", self.seen, self.size);
                        let error = self.error(ErrorKind::Interrupted(message));
                        return self.fail(error);
                    }
                    let actual = std::mem::take(&mut self.hasher).finish();
                    if actual != self.expected {
                        let error = self.integrity(actual);
                        return self.fail(error);
                    }
                    self.done = true;
                    return Poll::Ready(self.held.take().map(Ok));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn blob(chunks: &[&'static [u8]]) -> BlobStream {
        let size = chunks.iter().map(|c| c.len() as u64).sum();
        let items: Vec<Result<Bytes, RegistryError>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        BlobStream { size, stream: Box::pin(futures_util::stream::iter(items)) }
    }

    async fn collect(stream: BlobStream) -> Vec<Result<Bytes, String>> {
        stream.stream.map(|r| r.map_err(|e| e.to_string())).collect().await
    }

    #[tokio::test]
    async fn matching_bytes_pass_through() {
        let digest = sha256_digest(b"hello world");
        let out = collect(verifying(blob(&[b"hello ", b"world"]), &digest, "r", "x", |_| {}).0).await;
        let bytes: Vec<u8> = out.into_iter().flat_map(|c| c.unwrap().to_vec()).collect();
        assert_eq!(bytes, b"hello world");
    }

    #[tokio::test]
    async fn mismatch_withholds_the_last_chunk() {
        let digest = sha256_digest(b"hello world");
        let (stream, failure) = verifying(blob(&[b"hello ", b"WORLD"]), &digest, "r", "x", |_| {});
        let out = collect(stream).await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_deref().unwrap(), b"hello ");
        assert!(out[1].as_ref().unwrap_err().contains("integrity: blob sha256:"));
        let kept = failure.take().expect("the cause is kept for the executor");
        assert!(!kept.kind.is_transient(), "an integrity failure is final");
    }

    #[tokio::test]
    async fn oversize_is_refused_early() {
        let digest = sha256_digest(b"ab");
        let mut b = blob(&[b"a", b"b", b"c"]);
        b.size = 2;
        let out = collect(verifying(b, &digest, "r", "x", |_| {}).0).await;
        assert!(out.last().unwrap().as_ref().unwrap_err().contains("more bytes than the descriptor"));
    }

    #[tokio::test]
    async fn a_short_source_is_worth_another_try() {
        let digest = sha256_digest(b"abc");
        let mut b = blob(&[b"a", b"b"]);
        b.size = 3;
        let (stream, failure) = verifying(b, &digest, "r", "x", |_| {});
        let out = collect(stream).await;
        assert!(out.last().unwrap().is_err());
        assert!(failure.take().expect("kept").kind.is_transient());
    }
}

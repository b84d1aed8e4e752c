//! Digest verification while streaming: a blob's bytes are hashed as they pass from source to
//! destination, and the destination never sees the end of a stream whose bytes do not match.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest as _, Sha256};

use crate::store::{BlobStream, ByteStream, ErrorKind, Operation, RawManifest, StoreError};

/// Hex sha256 digest string of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Checks a manifest read from a store against the digest it was asked for.
pub fn check_manifest(
    manifest: &RawManifest,
    expected: &str,
    registry: &str,
    repo: &str,
) -> Result<(), StoreError> {
    let actual = sha256_digest(&manifest.bytes);
    if actual == expected {
        return Ok(());
    }
    let kind = ErrorKind::DigestMismatch { expected: expected.to_owned(), actual };
    Err(StoreError::new(registry, repo, Operation::GetManifest, kind))
}

/// Wraps a source blob so that it is verified while it streams. The previous chunk is held back
/// until the next one arrives: the last chunk is released only after the digest and size matched,
/// so a destination reading this stream never receives a complete mismatching body (it sees an
/// `Err` item instead and must abandon the upload). `on_bytes` is told of every chunk (progress).
pub fn verifying(
    blob: BlobStream,
    expected: &str,
    registry: &str,
    repo: &str,
    on_bytes: impl Fn(u64) + Send + 'static,
) -> BlobStream {
    let size = blob.size;
    let stream = Verifying {
        inner: blob.stream,
        hasher: Sha256::new(),
        expected: expected.to_owned(),
        size,
        seen: 0,
        held: None,
        done: false,
        registry: registry.to_owned(),
        repo: repo.to_owned(),
        on_bytes: Box::new(on_bytes),
    };
    BlobStream { size, stream: Box::pin(stream) }
}

struct Verifying {
    inner: ByteStream,
    hasher: Sha256,
    expected: String,
    size: u64,
    seen: u64,
    held: Option<Bytes>,
    done: bool,
    registry: String,
    repo: String,
    on_bytes: Box<dyn Fn(u64) + Send>,
}

impl Verifying {
    fn fail(&mut self, kind: ErrorKind) -> Poll<Option<Result<Bytes, StoreError>>> {
        self.done = true;
        self.held = None;
        Poll::Ready(Some(Err(StoreError::new(&self.registry, &self.repo, Operation::GetBlob, kind))))
    }
}

impl Stream for Verifying {
    type Item = Result<Bytes, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(self.held.take().map(Ok));
        }
        loop {
            match self.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return self.fail(ErrorKind::Aborted(e.to_string())),
                Poll::Ready(Some(Ok(chunk))) => {
                    self.hasher.update(&chunk);
                    self.seen += chunk.len() as u64;
                    (self.on_bytes)(chunk.len() as u64);
                    if self.seen > self.size {
                        let (expected, actual) = (self.size, self.seen);
                        return self.fail(ErrorKind::SizeMismatch { expected, actual });
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    if let Some(previous) = self.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Poll::Ready(None) => {
                    let actual = format!("sha256:{:x}", std::mem::take(&mut self.hasher).finalize());
                    if actual != self.expected {
                        let expected = self.expected.clone();
                        return self.fail(ErrorKind::DigestMismatch { expected, actual });
                    }
                    if self.seen != self.size {
                        let (expected, actual) = (self.size, self.seen);
                        return self.fail(ErrorKind::SizeMismatch { expected, actual });
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
        let items: Vec<Result<Bytes, StoreError>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        BlobStream { size, stream: Box::pin(futures_util::stream::iter(items)) }
    }

    async fn collect(stream: BlobStream) -> Vec<Result<Bytes, String>> {
        stream.stream.map(|r| r.map_err(|e| e.to_string())).collect().await
    }

    #[tokio::test]
    async fn matching_bytes_pass_through() {
        let digest = sha256_digest(b"hello world");
        let out = collect(verifying(blob(&[b"hello ", b"world"]), &digest, "r", "x", |_| {})).await;
        let bytes: Vec<u8> = out.into_iter().flat_map(|c| c.unwrap().to_vec()).collect();
        assert_eq!(bytes, b"hello world");
    }

    #[tokio::test]
    async fn mismatch_withholds_the_last_chunk() {
        let digest = sha256_digest(b"hello world");
        let out = collect(verifying(blob(&[b"hello ", b"WORLD"]), &digest, "r", "x", |_| {})).await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_deref().unwrap(), b"hello ");
        assert!(out[1].as_ref().unwrap_err().contains("digest mismatch"));
    }

    #[tokio::test]
    async fn oversize_is_refused_early() {
        let digest = sha256_digest(b"ab");
        let mut b = blob(&[b"a", b"b", b"c"]);
        b.size = 2;
        let out = collect(verifying(b, &digest, "r", "x", |_| {})).await;
        assert!(out.last().unwrap().as_ref().unwrap_err().contains("size mismatch"));
    }
}

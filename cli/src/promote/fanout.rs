//! Fan-out: when one run copies from a source registry (or layout) to several destination
//! registries, each blob is read from the source once and fed to all of them, and each source
//! manifest is read once.
//!
//! # How
//!
//! The first destination that needs a blob starts one source read (a task of its own, so no
//! destination owns it) that verifies the digest while it streams and writes the bytes to a
//! *spool*, a temporary file. Every destination, the first included, uploads from the spool at
//! its own pace, reading what has been written so far and waiting for more. Because the
//! verifying stream holds the blob's last bytes back until the digest matched, and the spool
//! only ever exposes bytes already written, a destination can never receive a complete body
//! that did not verify: if the source turns out corrupt or is cut off, every reader gets an
//! error instead of its last bytes and abandons its upload (nothing is committed), and the spool
//! is forgotten so the next try reads the source afresh.
//!
//! # Why a spool file, not memory or separate reads
//!
//! Memory shared between destinations must either wait for the slowest one (a stalled mirror
//! would stall the others) or grow without limit. Letting a slow destination fall back to its own
//! source read keeps memory bounded but costs exactly the source egress fan-out exists to save,
//! and deciding *when* a destination is "slow" is guesswork. A file decouples them completely:
//! the source is read at its own speed, each destination reads the file at its own speed, and the
//! process holds only one read buffer per reader (the page cache does the rest). A destination
//! that fails and is retried reads the spool again, not the source.
//!
//! # Bounds
//!
//! Spool files together stay under a byte budget ([`super::Limits::spool_bytes`]). A finished
//! spool no destination is reading stays for the destinations still to come (and for retries)
//! until the budget needs its room: then it is deleted, least recently used first. Every spool is
//! deleted when the run ends (a process killed with `kill -9` leaves its `cip-spool-*` files in
//! the temporary directory). A blob that does not fit (larger than the budget, or the budget is
//! held by spools still being read) is read from the source by each destination, as without
//! fan-out. A destination arriving after its blob's spool was deleted reads the source again
//! (for itself only).
//!
//! Manifests are small: a run keeps the manifests it read from sources, up to
//! [`MANIFEST_CACHE_BYTES`], so that the twenty destinations of an image cost one `GET`.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::verify::verifying;
use crate::store::{BlobStream, ErrorKind, Location, Operation, RawManifest, RegistryError};

/// Bytes written to (or read from) a spool per system call: the memory one writer or reader holds.
const CHUNK: usize = 256 * 1024;

/// Bytes of source manifests a run keeps (oldest dropped first).
pub(crate) const MANIFEST_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// How far a spool's source read got.
#[derive(Clone, Debug)]
enum Written {
    /// This many bytes are in the file (never the blob's last bytes before it verified).
    Partial(u64),
    /// The whole blob is in the file and matched its digest.
    Done,
    /// The source read failed; nothing more will come.
    Failed(RegistryError),
}

/// One blob being (or having been) read from a source into a temporary file.
pub(crate) struct Spool {
    size: u64,
    /// Deleted when the last reader and the cache drop the spool.
    path: tempfile::TempPath,
    state: watch::Receiver<Written>,
    /// For returning the bytes to the budget on drop.
    shared: Arc<Shared>,
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.shared.used.fetch_sub(self.size, Ordering::Relaxed);
    }
}

impl Spool {
    /// The source's failure, if its read failed: the cause to report when an upload from this
    /// spool was abandoned.
    pub(crate) fn failure(&self) -> Option<RegistryError> {
        match &*self.state.borrow() {
            Written::Failed(error) => Some(error.clone()),
            _ => None,
        }
    }
}

type Key = (String, String);

#[derive(Default)]
struct Entries {
    /// Each spool with the tick of its last use (for evicting the least recently used).
    spools: HashMap<Key, (Arc<Spool>, u64)>,
    tick: u64,
}

#[derive(Default)]
struct Shared {
    entries: Mutex<Entries>,
    /// Bytes of spool files alive (reserved when a spool is made).
    used: AtomicU64,
}

/// The spools and source manifests of one run.
pub(crate) struct Fanout {
    budget: u64,
    shared: Arc<Shared>,
    manifests: Mutex<ManifestCache>,
    /// Source reads started into spools (for tests and the benchmark).
    reads: AtomicU64,
}

impl Fanout {
    /// Spools together at most `budget` bytes.
    pub(crate) fn new(budget: u64) -> Self {
        Fanout {
            budget,
            shared: Arc::new(Shared::default()),
            manifests: Mutex::new(ManifestCache::default()),
            reads: AtomicU64::new(0),
        }
    }

    /// Source reads started into spools so far.
    #[cfg(test)]
    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// A reader of blob `digest` (`size` bytes, as its descriptor says) of `src`, fed by the one
    /// source read of this run, started here if none is under way or kept; `on_bytes` is told of
    /// every chunk read. `None` when the blob does not fit the budget: the caller reads the
    /// source itself.
    pub(crate) fn open(
        &self,
        src: &Location,
        digest: &str,
        size: u64,
        on_bytes: impl Fn(u64) + Send + 'static,
    ) -> Option<(BlobStream, Arc<Spool>)> {
        let spool = self.spool(src, digest, size)?;
        Some((reader(spool.clone(), on_bytes), spool))
    }

    fn spool(&self, src: &Location, digest: &str, size: u64) -> Option<Arc<Spool>> {
        let key = (src.key.clone(), digest.to_owned());
        let mut entries = self.shared.entries.lock().expect("spool lock");
        entries.tick += 1;
        let tick = entries.tick;
        if let Some((spool, used)) = entries.spools.get_mut(&key) {
            if spool.failure().is_none() {
                *used = tick;
                return Some(spool.clone());
            }
            entries.spools.remove(&key);
        }
        if size > self.budget {
            return None;
        }
        self.make_room(&mut entries, size);
        if self.shared.used.load(Ordering::Relaxed) + size > self.budget {
            return None;
        }
        let (file, path) = match tempfile::Builder::new().prefix("cip-spool-").tempfile() {
            Ok(file) => file.into_parts(),
            // No room for a spool: the caller reads the source directly.
            Err(_) => return None,
        };
        self.shared.used.fetch_add(size, Ordering::Relaxed);
        let (tx, rx) = watch::channel(Written::Partial(0));
        let spool = Arc::new(Spool { size, path, state: rx, shared: self.shared.clone() });
        entries.spools.insert(key.clone(), (spool.clone(), tick));
        drop(entries);
        self.reads.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(fill(src.clone(), digest.to_owned(), size, file, tx, self.shared.clone(), key));
        Some(spool)
    }

    /// Forgets finished spools no destination is reading, least recently used first, until
    /// `size` more bytes fit the budget (a forgotten spool's file is deleted with it).
    fn make_room(&self, entries: &mut Entries, size: u64) {
        if self.shared.used.load(Ordering::Relaxed) + size <= self.budget {
            return;
        }
        let mut idle: Vec<(u64, Key)> = entries
            .spools
            .iter()
            .filter(|(_, (spool, _))| Arc::strong_count(spool) == 1 && finished(spool))
            .map(|(key, (_, tick))| (*tick, key.clone()))
            .collect();
        idle.sort();
        for (_, key) in idle {
            if self.shared.used.load(Ordering::Relaxed) + size <= self.budget {
                return;
            }
            entries.spools.remove(&key);
        }
    }

    /// A source manifest by digest, read once for every destination (concurrent callers wait
    /// for the one `read`; a failed read is not kept, so the next caller tries afresh).
    pub(crate) async fn manifest<Fut>(
        &self,
        src: &Location,
        digest: &str,
        read: impl FnOnce() -> Fut,
    ) -> Result<RawManifest, RegistryError>
    where
        Fut: std::future::Future<Output = Result<RawManifest, RegistryError>>,
    {
        let key = (src.key.clone(), src.repo.clone(), digest.to_owned());
        let cell = self.manifests.lock().expect("manifest cache lock").cell(&key);
        let fresh = std::sync::atomic::AtomicBool::new(false);
        let raw = cell
            .get_or_try_init(|| {
                fresh.store(true, Ordering::Relaxed);
                read()
            })
            .await?
            .clone();
        if fresh.load(Ordering::Relaxed) {
            self.manifests.lock().expect("manifest cache lock").account(raw.bytes.len());
        }
        Ok(raw)
    }
}

fn finished(spool: &Spool) -> bool {
    matches!(&*spool.state.borrow(), Written::Done | Written::Failed(_))
}

/// Opens a source blob, holding it to the size its manifest gives.
pub(crate) async fn open_source(
    src: &Location,
    digest: &str,
    size: u64,
) -> Result<BlobStream, RegistryError> {
    let mut blob = src.store.get_blob(&src.repo, digest).await?;
    // A source that did not announce a length (0) is held to the descriptor's size.
    if blob.size == 0 {
        blob.size = size;
    }
    if blob.size != size {
        let kind = ErrorKind::Integrity {
            object: format!("blob {digest}"),
            found: format!("the source announces {} bytes where the manifest says {size}", blob.size),
        };
        return Err(RegistryError::new(src.store.name(), &src.repo, Operation::GetBlob, kind));
    }
    Ok(blob)
}

/// The one source read of a spool: verified while it streams, written in [`CHUNK`]s, each
/// announced once it is in the file.
async fn fill(
    src: Location,
    digest: String,
    size: u64,
    file: std::fs::File,
    tx: watch::Sender<Written>,
    shared: Arc<Shared>,
    key: Key,
) {
    let result = copy_verified(&src, &digest, size, file, &tx).await;
    if let Err(error) = result {
        tx.send_replace(Written::Failed(error));
        // Forget it, so that a retry reads the source afresh (readers keep their Arc).
        let mut entries = shared.entries.lock().expect("spool lock");
        if entries.spools.get(&key).is_some_and(|(s, _)| s.failure().is_some()) {
            entries.spools.remove(&key);
        }
        return;
    }
    tx.send_replace(Written::Done);
}

async fn copy_verified(
    src: &Location,
    digest: &str,
    size: u64,
    mut file: std::fs::File,
    tx: &watch::Sender<Written>,
) -> Result<(), RegistryError> {
    let blob = open_source(src, digest, size).await?;
    let (mut verified, source_failure) = verifying(blob, digest, src.store.name(), &src.repo, |_| {});
    let mut buffer = Vec::with_capacity(CHUNK);
    let mut written = 0u64;
    let io = |e: std::io::Error| {
        let kind = ErrorKind::Io(format!("spool file for blob {digest}: {e}"));
        RegistryError::new(src.store.name(), &src.repo, Operation::GetBlob, kind)
    };
    loop {
        let next = verified.stream.next().await;
        let end = next.is_none();
        if let Some(chunk) = next {
            buffer.extend_from_slice(&chunk.map_err(|e| source_failure.take().unwrap_or(e))?);
        }
        if buffer.len() >= CHUNK || (end && !buffer.is_empty()) {
            let n = buffer.len() as u64;
            (file, buffer) = tokio::task::spawn_blocking(move || {
                file.write_all(&buffer)?;
                buffer.clear();
                Ok::<_, std::io::Error>((file, buffer))
            })
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)?;
            written += n;
            tx.send_replace(Written::Partial(written));
        }
        if end {
            return Ok(());
        }
    }
}

/// Where one reader of a spool is.
struct Reading {
    spool: Arc<Spool>,
    state: watch::Receiver<Written>,
    file: Option<std::fs::File>,
    pos: u64,
    ended: bool,
    on_bytes: Box<dyn Fn(u64) + Send>,
}

/// A stream of the spool's bytes: what is written so far, then waits for more; an `Err` item
/// (and nothing after it) when the source read failed.
fn reader(spool: Arc<Spool>, on_bytes: impl Fn(u64) + Send + 'static) -> BlobStream {
    let size = spool.size;
    let state = spool.state.clone();
    let start = Reading { spool, state, file: None, pos: 0, ended: false, on_bytes: Box::new(on_bytes) };
    let stream = futures_util::stream::unfold(start, |mut r| async move {
        if r.ended {
            return None;
        }
        loop {
            let written = r.state.borrow_and_update().clone();
            let available = match written {
                Written::Partial(n) => n,
                Written::Done => r.spool.size,
                Written::Failed(error) => {
                    r.ended = true;
                    return Some((Err(error), r));
                }
            };
            if r.pos < available {
                let want = (available - r.pos).min(CHUNK as u64) as usize;
                return match read_at(&mut r, want).await {
                    Ok(bytes) => {
                        r.pos += bytes.len() as u64;
                        (r.on_bytes)(bytes.len() as u64);
                        Some((Ok(bytes), r))
                    }
                    Err(error) => {
                        r.ended = true;
                        Some((Err(error), r))
                    }
                };
            }
            if matches!(written, Written::Done) {
                return None;
            }
            if r.state.changed().await.is_err() && !finished(&r.spool) {
                // The source read stopped without a verdict (the runtime is shutting down).
                r.ended = true;
                let kind = ErrorKind::Interrupted("the source read of a shared blob stopped".into());
                return Some((Err(RegistryError::new("spool", "", Operation::GetBlob, kind)), r));
            }
        }
    });
    BlobStream { size, stream: stream.boxed() }
}

async fn read_at(r: &mut Reading, want: usize) -> Result<Bytes, RegistryError> {
    let path: PathBuf = r.spool.path.to_path_buf();
    let file = r.file.take();
    let pos = r.pos;
    let (file, bytes) = tokio::task::spawn_blocking(move || {
        let mut file = match file {
            Some(file) => file,
            None => std::fs::File::open(&path)?,
        };
        file.seek(SeekFrom::Start(pos))?;
        let mut buffer = vec![0; want];
        // Only bytes announced as written are asked for: a short file is a damaged spool.
        file.read_exact(&mut buffer)?;
        Ok::<_, std::io::Error>((file, Bytes::from(buffer)))
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r)
    .map_err(|e| {
        let kind = ErrorKind::Io(format!("spool file: {e}"));
        RegistryError::new("spool", "", Operation::GetBlob, kind)
    })?;
    r.file = Some(file);
    Ok(bytes)
}

type ManifestKey = (String, String, String);

/// Source manifests of a run, oldest dropped first beyond [`MANIFEST_CACHE_BYTES`].
#[derive(Default)]
struct ManifestCache {
    map: HashMap<ManifestKey, Arc<tokio::sync::OnceCell<RawManifest>>>,
    order: VecDeque<ManifestKey>,
    bytes: usize,
}

impl ManifestCache {
    /// The one cell of `key` (made empty on first use).
    fn cell(&mut self, key: &ManifestKey) -> Arc<tokio::sync::OnceCell<RawManifest>> {
        if let Some(cell) = self.map.get(key) {
            return cell.clone();
        }
        let cell = Arc::new(tokio::sync::OnceCell::new());
        self.map.insert(key.clone(), cell.clone());
        self.order.push_back(key.clone());
        cell
    }

    /// Counts a manifest just read, dropping the oldest beyond the budget.
    fn account(&mut self, bytes: usize) {
        self.bytes += bytes;
        while self.bytes > MANIFEST_CACHE_BYTES {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(raw) = self.map.remove(&old).and_then(|cell| cell.get().cloned()) {
                self.bytes = self.bytes.saturating_sub(raw.bytes.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures_util::future::join_all;

    use super::*;
    use crate::registry::digest::sha256_digest;
    use crate::store::{Layout, Store};

    /// A layout as the source: a real store, no network.
    async fn source_with(dir: &std::path::Path, content: &[u8]) -> (Location, String) {
        let name = format!("oci:{}", dir.display());
        let layout = Layout::open(&name).expect("layout");
        let digest = sha256_digest(content);
        let bytes = Bytes::copy_from_slice(content);
        let items: Vec<Result<Bytes, RegistryError>> = vec![Ok(bytes)];
        let blob =
            BlobStream { size: content.len() as u64, stream: futures_util::stream::iter(items).boxed() };
        layout.put_blob("app", &digest, blob).await.expect("stored");
        let store: Arc<dyn Store> = Arc::new(layout);
        (Location { store, key: name, repo: "app".into() }, digest)
    }

    async fn drain(stream: BlobStream) -> Result<Vec<u8>, RegistryError> {
        let mut out = Vec::new();
        let mut s = stream.stream;
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn one_source_read_feeds_every_reader() {
        let dir = tempfile::tempdir().expect("dir");
        let content: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        let (src, digest) = source_with(dir.path(), &content).await;
        let fanout = Fanout::new(1 << 30);
        let seen = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..5)
            .map(|_| {
                let seen = seen.clone();
                let on = move |n: u64| {
                    seen.fetch_add(n as usize, Ordering::Relaxed);
                };
                fanout.open(&src, &digest, content.len() as u64, on).expect("fits").0
            })
            .collect();
        for out in join_all(readers.into_iter().map(drain)).await {
            assert_eq!(out.expect("read"), content);
        }
        assert_eq!(fanout.reads(), 1, "one source read for five readers");
        assert_eq!(seen.load(Ordering::Relaxed), 5 * content.len());
        // A later reader (a retry) is served from the spool too.
        let again = fanout.open(&src, &digest, content.len() as u64, |_| {}).expect("kept").0;
        assert_eq!(drain(again).await.expect("read"), content);
        assert_eq!(fanout.reads(), 1);
    }

    #[tokio::test]
    async fn a_stalled_reader_does_not_hold_up_the_others() {
        let dir = tempfile::tempdir().expect("dir");
        let content: Vec<u8> = (0..(4 * CHUNK)).map(|i| (i % 241) as u8).collect();
        let (src, digest) = source_with(dir.path(), &content).await;
        let fanout = Fanout::new(1 << 30);
        // A destination that never reads (a stalled upload) holds its reader.
        let (stalled, _) = fanout.open(&src, &digest, content.len() as u64, |_| {}).expect("fits");
        let (other, _) = fanout.open(&src, &digest, content.len() as u64, |_| {}).expect("fits");
        let bounded = std::time::Duration::from_secs(30);
        let out = tokio::time::timeout(bounded, drain(other)).await.expect("not held up by the stalled one");
        assert_eq!(out.expect("read"), content);
        assert_eq!(drain(stalled).await.expect("it can still finish later"), content);
    }

    #[tokio::test]
    async fn corrupt_source_never_yields_the_whole_body_and_is_read_again() {
        let dir = tempfile::tempdir().expect("dir");
        let content = vec![7u8; CHUNK + 5];
        let (src, _) = source_with(dir.path(), &content).await;
        // Ask for a digest the bytes do not have: the layout serves them under the file name
        // of the real digest, so point the wanted digest's file at those bytes.
        let wrong = sha256_digest(b"something else");
        let blobs = dir.path().join("blobs/sha256");
        std::fs::write(blobs.join(wrong.trim_start_matches("sha256:")), &content).expect("planted");
        let fanout = Fanout::new(1 << 30);
        let (stream, spool) = fanout.open(&src, &wrong, content.len() as u64, |_| {}).expect("fits");
        let mut s = stream.stream;
        let mut got = 0usize;
        let mut failed = None;
        while let Some(chunk) = s.next().await {
            match chunk {
                Ok(b) => got += b.len(),
                Err(e) => failed = Some(e),
            }
        }
        assert!(got < content.len(), "the last bytes are withheld: {got}");
        let error = failed.expect("an error item ends the stream");
        assert!(matches!(error.kind, ErrorKind::Integrity { .. }), "{error}");
        assert!(matches!(spool.failure().map(|e| e.kind), Some(ErrorKind::Integrity { .. })));
        // The failed spool is forgotten: the next reader starts a new source read.
        let _ = fanout.open(&src, &wrong, content.len() as u64, |_| {}).expect("fits");
        assert_eq!(fanout.reads(), 2);
    }

    #[tokio::test]
    async fn budget_bounds_spools_and_idle_ones_are_deleted() {
        let dir = tempfile::tempdir().expect("dir");
        let a = vec![1u8; 1000];
        let b = vec![2u8; 1000];
        let (src, da) = source_with(dir.path(), &a).await;
        let db = sha256_digest(&b);
        let blob = BlobStream {
            size: 1000,
            stream: futures_util::stream::iter(vec![Ok::<_, RegistryError>(Bytes::from(b.clone()))]).boxed(),
        };
        src.store.put_blob("app", &db, blob).await.expect("stored");
        let fanout = Fanout::new(1500);
        assert!(fanout.open(&src, &da, 2000, |_| {}).is_none(), "larger than the budget: read directly");
        let (reading_a, spool_a) = fanout.open(&src, &da, 1000, |_| {}).expect("fits");
        // A is still being read: B does not fit next to it.
        assert!(fanout.open(&src, &db, 1000, |_| {}).is_none());
        assert_eq!(drain(reading_a).await.expect("read"), a);
        let path = spool_a.path.to_path_buf();
        drop(spool_a);
        // A is idle now: B takes its room and A's file is gone.
        let (reading_b, _spool_b) = fanout.open(&src, &db, 1000, |_| {}).expect("room made");
        assert_eq!(drain(reading_b).await.expect("read"), b);
        assert!(!path.exists(), "the idle spool's file was deleted");
        assert!(fanout.shared.used.load(Ordering::Relaxed) <= 1500);
    }
}

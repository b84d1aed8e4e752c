//! A local OCI image layout directory as a [`Store`] (registry names `oci:DIR`).
//!
//! # Mapping
//!
//! One layout per registry name: `oci:DIR` is one directory holding `oci-layout`, `index.json` and
//! `blobs/sha256/<hex>`, shared by every repository in it, so blobs are stored once and "mounting"
//! across repositories is free. Repositories are name spaces inside `index.json`:
//! - a tag `v1` of repository `foo/bar` is a descriptor annotated
//!   `org.opencontainers.image.ref.name: foo/bar:v1`, which is what `skopeo inspect oci:DIR:foo/bar:v1`
//!   looks up;
//! - a manifest stored by digest in `foo/bar` is a descriptor annotated
//!   `dev.cip.repository: foo/bar` (no ref name), so every manifest cip writes is referenced from
//!   the index and repository membership stays exact.
//!
//! Relative directories are resolved against the working directory, as skopeo does.
//!
//! # Atomicity
//!
//! Blobs are written to a temporary file in `blobs/sha256/`, hashed while written, and renamed to
//! their digest only when the bytes match; `index.json` is rewritten to a temporary file and
//! renamed. A killed run leaves at worst a stray temporary file, never a tag pointing at a missing
//! or partial manifest (the executor sets tags only after the digest is complete). Writers within
//! one process are serialized by a mutex; two cip processes writing one layout at once are not
//! supported (the last `index.json` rename wins).
//!
//! # Stray temporary files
//!
//! Temporary files are named `.tmp-<pid>-<n>-<name>` (in the layout directory for `index.json`
//! and `oci-layout`, in `blobs/sha256/` for blobs). A killed run (`kill -9`, a crash, a power
//! cut) leaves the ones it was writing. The first write of the next run removes every such file
//! that cannot belong to a writer still at work: one last modified before this layout was opened
//! and written by another process (its pid is not ours), or last modified before this process
//! first opened any layout (a previous run with the same pid, as in a container where cip is
//! always pid 1); "before" with 2 s of slack for file-time granularity. A temporary file of this
//! process's own writers, or one another process modified after the layout was opened, is left
//! alone. Reading a layout never deletes anything.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use cip_core::inventory::{ManifestInfo, Repository};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, OnceCell};

use super::{
    BlobStream, ErrorKind, Listing, ManifestHead, MountOutcome, Operation, RawManifest, RegistryError, Store,
};
use crate::registry::digest::{StreamDigest, sha256_digest};
use crate::registry::error::found;
use crate::registry::media;

/// Annotation holding `repo:tag` (OCI image spec, read by skopeo and others).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation recording the repository of a manifest stored by digest.
pub const REPOSITORY: &str = "dev.cip.repository";

const READ_CHUNK: usize = 256 * 1024;

/// An OCI image layout directory.
#[derive(Debug)]
pub struct Layout {
    name: String,
    root: PathBuf,
    /// Serializes `index.json` read-modify-write cycles.
    index_lock: Mutex<()>,
    /// When this layout was opened: older temporary files of other processes are stale.
    opened: SystemTime,
    /// Stray temporary files are removed once, at the first write.
    swept: OnceCell<()>,
}

/// When this process first opened a layout: temporary files older than that are stale whatever
/// the pid in their name.
static FIRST_OPENED: OnceLock<SystemTime> = OnceLock::new();

/// Prefix of every temporary file a layout writes.
const TEMP_PREFIX: &str = ".tmp-";

/// File times come from a coarser clock than `SystemTime::now()`: a file must be this much older
/// than a moment to count as written before it.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// `index.json`: unknown fields are kept so layouts written by other tools survive a rewrite.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    annotations: Map<String, Value>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl Descriptor {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).and_then(Value::as_str)
    }

    /// The tag this descriptor gives `repo`, if any.
    fn tag_of(&self, repo: &str) -> Option<&str> {
        let name = self.annotation(REF_NAME)?;
        let (r, tag) = name.rsplit_once(':')?;
        (r == repo && !tag.contains('/')).then_some(tag)
    }

    fn belongs_to(&self, repo: &str) -> bool {
        self.annotation(REPOSITORY) == Some(repo) || self.tag_of(repo).is_some()
    }
}

impl Layout {
    /// Opens (lazily: nothing is created until the first write) the layout of a registry name
    /// `oci:DIR`.
    pub fn open(registry_name: &str) -> Option<Self> {
        let dir = registry_name.strip_prefix(cip_core::reference::OCI_LAYOUT_PREFIX)?;
        let opened = SystemTime::now();
        FIRST_OPENED.get_or_init(|| opened);
        Some(Layout {
            name: registry_name.to_owned(),
            root: PathBuf::from(dir),
            index_lock: Mutex::new(()),
            opened,
            swept: OnceCell::new(),
        })
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn err(&self, repo: &str, op: Operation, kind: ErrorKind) -> RegistryError {
        RegistryError::new(&self.name, repo, op, kind)
    }

    /// A file system error, naming the path.
    fn io(&self, repo: &str, op: Operation, path: &Path, error: std::io::Error) -> RegistryError {
        self.err(repo, op, ErrorKind::Io(format!("{}: {error}", path.display())))
    }

    fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join("blobs").join("sha256").join(hex))
    }

    fn checked_blob_path(&self, repo: &str, op: Operation, digest: &str) -> Result<PathBuf, RegistryError> {
        self.blob_path(digest).ok_or_else(|| {
            self.err(repo, op, ErrorKind::Invalid(format!("`{digest}` is not a sha256 digest")))
        })
    }

    async fn read_index(&self, repo: &str, op: Operation) -> Result<Index, RegistryError> {
        match tokio::fs::read(self.root.join("index.json")).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                self.err(repo, op, ErrorKind::Invalid(format!("{}/index.json: {e}", self.root.display())))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Index { schema_version: 2, media_type: Some(media::OCI_INDEX.into()), ..Index::default() })
            }
            Err(e) => Err(self.io(repo, op, &self.root.join("index.json"), e)),
        }
    }

    /// Creates `oci-layout` and `blobs/sha256` when missing; the first time, removes the stray
    /// temporary files of killed runs.
    async fn ensure_layout(&self) -> std::io::Result<()> {
        let blobs = self.root.join("blobs").join("sha256");
        tokio::fs::create_dir_all(&blobs).await?;
        self.swept
            .get_or_init(|| async {
                for dir in [&self.root, &blobs] {
                    self.sweep(dir).await;
                }
            })
            .await;
        let marker = self.root.join("oci-layout");
        if !tokio::fs::try_exists(&marker).await? {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).await?;
        }
        Ok(())
    }

    /// Removes the stale temporary files of `dir` (see the module documentation). Best effort:
    /// a file that cannot be removed is left for the next run.
    async fn sweep(&self, dir: &Path) {
        let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return };
        let before = |at: SystemTime| at.checked_sub(CLOCK_SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
        let (opened, first_opened) = (before(self.opened), before(*FIRST_OPENED.get_or_init(|| self.opened)));
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_pid) else { continue };
            let Ok(modified) = entry.metadata().await.and_then(|m| m.modified()) else { continue };
            let stale = (pid != std::process::id() && modified < opened) || modified < first_opened;
            if stale {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => {
                        tracing::debug!(path = %entry.path().display(), "removed a stale temporary file")
                    }
                    Err(e) => tracing::debug!(path = %entry.path().display(), "cannot remove: {e}"),
                }
            }
        }
    }

    /// Adds or replaces an index entry under the index lock.
    async fn record(
        &self,
        repo: &str,
        descriptor: Descriptor,
        replaces: impl Fn(&Descriptor) -> bool,
    ) -> Result<(), RegistryError> {
        let _guard = self.index_lock.lock().await;
        let mut index = self.read_index(repo, Operation::PutManifest).await?;
        index.manifests.retain(|d| !replaces(d));
        index.manifests.push(descriptor);
        let mut text = serde_json::to_vec_pretty(&index).expect("index serializes");
        text.push(b'\n');
        write_atomic(&self.root.join("index.json"), &text)
            .await
            .map_err(|e| self.io(repo, Operation::PutManifest, &self.root.join("index.json"), e))
    }

    /// The media type of a stored manifest: from an index entry, else from its own `mediaType`
    /// field, else guessed from its shape (OCI manifests may omit the field).
    fn media_type_of(index: &Index, digest: &str, bytes: &[u8]) -> String {
        if let Some(d) = index.manifests.iter().find(|d| d.digest == digest) {
            return d.media_type.clone();
        }
        media::media_type_of(bytes)
    }

    async fn resolve(
        &self,
        repo: &str,
        reference: &str,
        op: Operation,
    ) -> Result<Option<(Index, String)>, RegistryError> {
        let index = self.read_index(repo, op).await?;
        let digest = if reference.starts_with("sha256:") {
            let path = self.checked_blob_path(repo, op, reference)?;
            if !tokio::fs::try_exists(&path).await.map_err(|e| self.io(repo, op, &path, e))? {
                return Ok(None);
            }
            // A digest is in `repo` when the index names it for `repo`, or when the layout has no
            // cip repository annotations at all (written by another tool: one repository).
            let member = index.manifests.iter().any(|d| d.digest == reference && d.belongs_to(repo))
                || self.is_child_in(&index, repo, reference).await
                || !index.manifests.iter().any(|d| d.annotation(REPOSITORY).is_some());
            if !member {
                return Ok(None);
            }
            reference.to_owned()
        } else {
            match index.manifests.iter().rev().find(|d| d.tag_of(repo) == Some(reference)) {
                Some(d) => d.digest.clone(),
                None => return Ok(None),
            }
        };
        Ok(Some((index, digest)))
    }

    /// True when `digest` is a child of an index that belongs to `repo` (children of indexes
    /// written by other tools have no index entry of their own).
    async fn is_child_in(&self, index: &Index, repo: &str, digest: &str) -> bool {
        for parent in index.manifests.iter().filter(|d| d.belongs_to(repo) && d.media_type.contains("index"))
        {
            let Some(path) = self.blob_path(&parent.digest) else { continue };
            let Ok(bytes) = tokio::fs::read(path).await else { continue };
            let Ok((children, _)) = media::index_children(&bytes) else { continue };
            if children.iter().any(|d| d == digest) {
                return true;
            }
        }
        false
    }
}

/// Writes `bytes` to a temporary sibling and renames it over `path`.
async fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_sibling(path);
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

fn temp_sibling(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{TEMP_PREFIX}{}-{n}-{name}", std::process::id()))
}

/// The pid in a temporary file's name (`.tmp-<pid>-<n>-<name>`); `None` for any other file.
fn temp_pid(name: &str) -> Option<u32> {
    let (pid, rest) = name.strip_prefix(TEMP_PREFIX)?.split_once('-')?;
    let (n, _) = rest.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

#[async_trait]
impl Store for Layout {
    fn name(&self) -> &str {
        &self.name
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest, RegistryError> {
        let op = Operation::GetManifest;
        let Some((index, digest)) = self.resolve(repo, reference, op).await? else {
            return Err(self.err(repo, op, ErrorKind::NotFound(format!("manifest {reference}"))));
        };
        let path = self.checked_blob_path(repo, op, &digest)?;
        let bytes = tokio::fs::read(&path).await.map_err(|e| self.io(repo, op, &path, e))?;
        let media_type = Self::media_type_of(&index, &digest, &bytes);
        Ok(RawManifest { bytes: Bytes::from(bytes), media_type, digest })
    }

    async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let op = Operation::HeadManifest;
        let Some((index, digest)) = self.resolve(repo, reference, op).await? else { return Ok(None) };
        let path = self.checked_blob_path(repo, op, &digest)?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(repo, op, &path, e)),
        };
        let media_type = Self::media_type_of(&index, &digest, &bytes);
        Ok(Some(ManifestHead { digest, media_type, size: bytes.len() as u64 }))
    }

    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), RegistryError> {
        let op = Operation::PutManifest;
        let actual = sha256_digest(&manifest.bytes);
        if actual != manifest.digest {
            let kind = ErrorKind::Integrity {
                object: format!("manifest {}", manifest.digest),
                found: found(&actual, None),
            };
            return Err(self.err(repo, op, kind));
        }
        self.ensure_layout().await.map_err(|e| self.io(repo, op, &self.root, e))?;
        let path = self.checked_blob_path(repo, op, &manifest.digest)?;
        if !tokio::fs::try_exists(&path).await.map_err(|e| self.io(repo, op, &path, e))? {
            write_atomic(&path, &manifest.bytes).await.map_err(|e| self.io(repo, op, &path, e))?;
        }
        let mut annotations = Map::new();
        let replaces: Box<dyn Fn(&Descriptor) -> bool + Send + Sync> = if reference.starts_with("sha256:") {
            if reference != manifest.digest {
                let kind = ErrorKind::Invalid(format!("reference {reference} is not the manifest's digest"));
                return Err(self.err(repo, op, kind));
            }
            annotations.insert(REPOSITORY.into(), Value::String(repo.to_owned()));
            let (repo, digest) = (repo.to_owned(), manifest.digest.clone());
            Box::new(move |d: &Descriptor| {
                d.digest == digest && d.annotation(REPOSITORY) == Some(repo.as_str())
            })
        } else {
            let name = format!("{repo}:{reference}");
            annotations.insert(REF_NAME.into(), Value::String(name.clone()));
            Box::new(move |d: &Descriptor| d.annotation(REF_NAME) == Some(name.as_str()))
        };
        let descriptor = Descriptor {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.clone(),
            size: manifest.bytes.len() as u64,
            annotations,
            rest: Map::new(),
        };
        self.record(repo, descriptor, replaces).await
    }

    async fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool, RegistryError> {
        let path = self.checked_blob_path(repo, Operation::HeadBlob, digest)?;
        tokio::fs::try_exists(&path).await.map_err(|e| self.io(repo, Operation::HeadBlob, &path, e))
    }

    async fn get_blob(&self, repo: &str, digest: &str) -> Result<BlobStream, RegistryError> {
        let op = Operation::GetBlob;
        let path = self.checked_blob_path(repo, op, digest)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(self.err(repo, op, ErrorKind::NotFound(format!("blob {digest}"))));
            }
            Err(e) => return Err(self.io(repo, op, &path, e)),
        };
        let size = file.metadata().await.map_err(|e| self.io(repo, op, &path, e))?.len();
        let (name, repo_owned) = (self.name.clone(), repo.to_owned());
        // Hand-written rather than tokio-util's ReaderStream: one small loop, no extra dependency.
        let stream = futures_util::stream::unfold(Some(file), move |file| {
            let (name, repo) = (name.clone(), repo_owned.clone());
            async move {
                let mut file = file?;
                let mut buf = vec![0u8; READ_CHUNK];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), Some(file)))
                    }
                    Err(e) => {
                        Some((Err(RegistryError::new(&name, &repo, op, ErrorKind::Io(e.to_string()))), None))
                    }
                }
            }
        });
        Ok(BlobStream { size, stream: Box::pin(stream) })
    }

    async fn put_blob(&self, repo: &str, digest: &str, blob: BlobStream) -> Result<(), RegistryError> {
        let op = Operation::PutBlob;
        let path = self.checked_blob_path(repo, op, digest)?;
        self.ensure_layout().await.map_err(|e| self.io(repo, op, &self.root, e))?;
        let tmp = temp_sibling(&path);
        let result = self.write_blob(repo, digest, &tmp, blob).await;
        match result {
            Ok(()) => tokio::fs::rename(&tmp, &path).await.map_err(|e| self.io(repo, op, &path, e)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn mount_blob(
        &self,
        repo: &str,
        _from_repo: &str,
        digest: &str,
    ) -> Result<MountOutcome, RegistryError> {
        // Blobs are shared by every repository of a layout: present means mounted.
        Ok(if self.blob_exists(repo, digest).await? {
            MountOutcome::Mounted
        } else {
            MountOutcome::NotMounted
        })
    }

    async fn list(&self, repo: &str) -> Result<Listing, RegistryError> {
        let index = self.read_index(repo, Operation::ListTags).await?;
        let foreign = !index.manifests.iter().any(|d| d.annotation(REPOSITORY).is_some());
        let mut repository = Repository::new();
        for d in index
            .manifests
            .iter()
            .filter(|d| d.belongs_to(repo) || (foreign && d.annotation(REF_NAME).is_none()))
        {
            let info = repository.entry(d.digest.clone()).or_insert_with(|| ManifestInfo {
                tags: Vec::new(),
                media_type: Some(d.media_type.clone()),
                ..ManifestInfo::default()
            });
            if let Some(tag) = d.tag_of(repo) {
                info.tags.push(tag.to_owned());
                info.tags.sort();
                info.tags.dedup();
            }
        }
        Ok(if repository.is_empty() { Listing::Missing } else { Listing::Full(repository) })
    }

    fn lists_fully(&self) -> Option<bool> {
        Some(true)
    }

    async fn catalog(&self, prefix: &str) -> Result<Vec<(String, Option<Listing>)>, RegistryError> {
        // Listing a layout that is not there is a mistake (a wrong path), not an empty registry;
        // a destination layout that does not exist yet is still read as empty by `list`.
        if !tokio::fs::try_exists(self.root.join("index.json")).await.unwrap_or(false) {
            let kind = ErrorKind::NotFound(self.root.join("index.json").display().to_string());
            return Err(self.err(prefix, Operation::Catalog, kind));
        }
        let index = self.read_index(prefix, Operation::Catalog).await?;
        let prefix = prefix.trim_matches('/');
        let mut repos: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| {
                d.annotation(REPOSITORY).map(str::to_owned).or_else(|| {
                    d.annotation(REF_NAME).and_then(|n| n.rsplit_once(':')).map(|(r, _)| r.to_owned())
                })
            })
            .filter(|r| prefix.is_empty() || r == prefix || r.starts_with(&format!("{prefix}/")))
            .collect();
        repos.sort();
        repos.dedup();
        Ok(repos.into_iter().map(|r| (r, None)).collect())
    }
}

impl Layout {
    /// Streams a blob into `tmp`, hashing and counting; errors if the stream fails or the bytes
    /// do not match `digest` and the announced size.
    async fn write_blob(
        &self,
        repo: &str,
        digest: &str,
        tmp: &Path,
        blob: BlobStream,
    ) -> Result<(), RegistryError> {
        let op = Operation::PutBlob;
        let mut file = tokio::fs::File::create(tmp).await.map_err(|e| self.io(repo, op, tmp, e))?;
        let mut hasher = StreamDigest::default();
        let mut written = 0u64;
        let mut stream = blob.stream;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.err(repo, op, ErrorKind::Aborted(e.to_string())))?;
            hasher.update(&chunk);
            written += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| self.io(repo, op, tmp, e))?;
        }
        file.flush().await.map_err(|e| self.io(repo, op, tmp, e))?;
        let actual = hasher.finish();
        if actual != digest || written != blob.size {
            let sizes = (written != blob.size).then_some((blob.size, written));
            let kind =
                ErrorKind::Integrity { object: format!("blob {digest}"), found: found(&actual, sizes) };
            return Err(self.err(repo, op, kind));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(dir: &tempfile::TempDir) -> Layout {
        Layout::open(&format!("oci:{}", dir.path().join("l").display())).expect("layout")
    }

    fn stream(chunks: Vec<Result<Bytes, RegistryError>>, size: u64) -> BlobStream {
        BlobStream { size, stream: Box::pin(futures_util::stream::iter(chunks)) }
    }

    #[tokio::test]
    async fn blobs_commit_only_when_complete_and_matching() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = layout(&dir);
        let digest = sha256_digest(b"layer");
        let aborted = vec![
            Ok(Bytes::from_static(b"lay")),
            Err(RegistryError::new("src", "r", Operation::GetBlob, ErrorKind::Aborted("bad".into()))),
        ];
        assert!(l.put_blob("r", &digest, stream(aborted, 5)).await.is_err());
        let wrong = vec![Ok(Bytes::from_static(b"LAYER"))];
        assert!(l.put_blob("r", &digest, stream(wrong, 5)).await.is_err());
        assert!(!l.blob_exists("r", &digest).await.expect("exists"));
        let leftovers = std::fs::read_dir(dir.path().join("l/blobs/sha256")).expect("dir").count();
        assert_eq!(leftovers, 0, "no temporary file survives a failed upload");
        l.put_blob("r", &digest, stream(vec![Ok(Bytes::from_static(b"layer"))], 5)).await.expect("put");
        assert!(l.blob_exists("other/repo", &digest).await.expect("exists"), "blobs are layout-wide");
    }

    #[test]
    fn temporary_names() {
        let tmp = temp_sibling(Path::new("/l/blobs/sha256/abc"));
        let name = tmp.file_name().and_then(|n| n.to_str()).expect("name");
        assert_eq!(temp_pid(name), Some(std::process::id()));
        assert_eq!(temp_pid(".tmp-12-0-index.json"), Some(12));
        for other in ["abc", ".tmp-x-0-a", ".tmp-12-a", ".tmp-12-", ".tmp-"] {
            assert_eq!(temp_pid(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn manifests_by_digest_and_tag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = layout(&dir);
        let bytes = Bytes::from_static(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
        );
        let digest = sha256_digest(&bytes);
        let m = RawManifest { bytes, media_type: media::OCI_MANIFEST.into(), digest: digest.clone() };
        let forged = RawManifest { digest: sha256_digest(b"x"), ..m.clone() };
        assert!(l.put_manifest("a/b", &forged.digest, &forged).await.is_err(), "bytes must match the digest");
        l.put_manifest("a/b", &digest, &m).await.expect("by digest");
        assert!(l.head_manifest("a/b", "v1").await.expect("head").is_none());
        assert!(l.head_manifest("c", &digest).await.expect("head").is_none(), "other repository");
        l.put_manifest("a/b", "v1", &m).await.expect("tag");
        l.put_manifest("a/b", "v1", &m).await.expect("tag again is idempotent");
        let Listing::Full(listed) = l.list("a/b").await.expect("list") else { panic!("a/b is listed") };
        assert_eq!(listed[&digest].tags, ["v1"]);
        assert_eq!(l.list("a").await.expect("list"), Listing::Missing);
        let catalog: Vec<String> =
            l.catalog("").await.expect("catalog").into_iter().map(|(r, _)| r).collect();
        assert_eq!(catalog, ["a/b"]);
        let got = l.get_manifest("a/b", "v1").await.expect("get");
        assert_eq!((got.digest.as_str(), got.media_type.as_str()), (digest.as_str(), media::OCI_MANIFEST));
        let index: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("l/index.json")).expect("index"))
                .expect("json");
        assert_eq!(index["manifests"].as_array().map(Vec::len), Some(2));
        assert_eq!(index["manifests"][1]["annotations"][REF_NAME], "a/b:v1");
    }
}

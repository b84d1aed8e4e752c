//! Executes a plan's actions against stores.
//!
//! Order inside one action: an index's children (recursively) before the index; an image's config
//! and layers before its manifest; the manifest by digest before any tag. A manifest already in the
//! destination is complete by construction (it was only ever written after its content), so it
//! is skipped with its whole subtree. Every manifest and blob read from a source is verified
//! against its digest (blobs while streaming, see [`super::verify`]); any failure aborts the
//! action before its tags are set, and other actions carry on.
//!
//! Retries: the HTTP store retries single requests, but a streamed upload or a body cut off after
//! a `200` cannot be replayed by it. So an action that fails for a transient reason (see
//! [`ErrorKind::is_transient`]) is run again from the start, a few times with backoff; what it
//! already completed is found present and skipped. Shared steps remember successes only, so a
//! retry (or another image sharing a blob) tries a failed step afresh.
//!
//! Fan-out ([`super::fanout`]): when a source store feeds two or more destination stores, each
//! source blob is read once into a spool that every destination uploads from, and each source
//! manifest is read once; actions run grouped by source image so that its destinations are
//! served together. With one destination, blobs stream straight from the source.
//!
//! Blobs: one transfer per (destination store, digest) per run. The first repository that needs
//! a blob checks the destination (HEAD), then mounts it from the source repository when source and
//! destination are one store, else streams it; later repositories mount from that repository,
//! and upload only when the store declines.
//!
//! What is verified when: every manifest read from a source (index children included) is hashed
//! before it is used; every streamed blob is hashed on its way and never committed when it does
//! not match. Two kinds of blob are not read, because no bytes move: a blob the destination
//! repository already holds (HEAD), and a blob mounted from the source repository of the same
//! store. The store holds those bytes under that digest already, and reading them to check costs
//! exactly the source egress a mount saves. With [`Executor::verify_mounts`] (`cip promote
//! --verify-mounts`), a same-store copy reads and hashes every blob from the source before it is
//! mounted or counted present (a mismatch is an integrity failure of the image; nothing of it is
//! tagged).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use cip_core::plan::{Action, ActionKind};
use futures_util::future::{BoxFuture, FutureExt, try_join_all};
use futures_util::{StreamExt, stream};
use tokio::sync::{OnceCell, Semaphore};

// Attach actions (issue 13) live beside this file but inside the executor, whose per-run
// state (written manifests, blobs) they share.
#[path = "attach.rs"]
mod attach;
// Signing (crate::sign) writes `.sig` unions and referrers-index entries the same way.
pub(crate) use attach::{add_to_referrers_index, union};

use super::fanout::{Fanout, open_source};
use super::precondition;
use super::progress::Progress;
use super::report::{ActionReport, Counters, Outcome};
use super::verify::{check_manifest, verifying};
use crate::registry::media::References;
use crate::registry::retry::{RetryPolicy, backoff};
use crate::store::{ErrorKind, Location, MountOutcome, Operation, RawManifest, RegistryError, Stores};

/// Parallelism bounds.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Actions (images) in flight.
    pub jobs: usize,
    /// Blob transfers in flight, all registries together.
    pub blobs: usize,
    /// Blob transfers in flight per destination registry.
    pub blob_jobs: usize,
    /// Bytes of spool files (fan-out to several destination registries) alive at once; a blob
    /// that does not fit is read from the source by each destination.
    pub spool_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { jobs: 16, blobs: 24, blob_jobs: 12, spool_bytes: 2 << 30 }
    }
}

/// A step done once per run; only a success is remembered.
type Shared<T> = Arc<OnceCell<T>>;

/// Attempts per action when failures are transient (one try and this many retries).
const RETRIES: u32 = 5;

/// State shared by every action of a run.
pub(crate) struct Executor<'s> {
    stores: &'s Stores,
    limits: Limits,
    global: Semaphore,
    per_registry: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// (destination store, digest) -> repository that holds the blob after its first transfer.
    blobs: Mutex<HashMap<(String, String), Shared<String>>>,
    /// (destination store, repository, digest) -> blob made present in that repository. Each
    /// repository gets a blob once per run: besides saving requests, this matters because the
    /// distribution registry rewrites a repository's blob link on every mount, and a manifest
    /// `PUT` of another image racing that rewrite is refused (`BLOB_UNKNOWN`).
    repo_blobs: Mutex<HashMap<(String, String, String), Shared<()>>>,
    /// (destination store, repository, digest) -> manifest written.
    manifests: Mutex<HashMap<(String, String, String), Shared<()>>>,
    progress: Arc<Progress>,
    /// Told about every finished action (done or failed), with its index in the plan.
    on_action: Option<&'s ActionHook<'s>>,
    /// Read and hash blobs of a same-store copy before mounting them (see the module docs).
    verify_mounts: bool,
    /// Spools and source manifests shared by the destinations of one source.
    fanout: Fanout,
    /// Source stores that feed two or more destination stores in this run (set by `run`).
    fan_sources: OnceLock<HashSet<String>>,
    /// One writer per referrers tag-schema index (attach actions).
    index_locks: attach::IndexLocks,
}

/// Called once per finished action: its index in the plan and its record.
pub(crate) type ActionHook<'a> = dyn Fn(usize, &ActionReport) + Sync + 'a;

fn shared<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, Shared<T>>>, key: K) -> Shared<T> {
    map.lock().expect("executor map lock").entry(key).or_default().clone()
}

impl<'s> Executor<'s> {
    /// An executor over `stores`.
    pub(crate) fn new(stores: &'s Stores, limits: Limits, progress: Arc<Progress>) -> Self {
        let fanout = Fanout::new(limits.spool_bytes);
        Executor {
            stores,
            global: Semaphore::new(limits.blobs.max(1)),
            limits,
            per_registry: Mutex::new(HashMap::new()),
            blobs: Mutex::new(HashMap::new()),
            repo_blobs: Mutex::new(HashMap::new()),
            manifests: Mutex::new(HashMap::new()),
            progress,
            on_action: None,
            verify_mounts: false,
            fanout,
            fan_sources: OnceLock::new(),
            index_locks: attach::IndexLocks::default(),
        }
    }

    /// With `on`, a copy within one store reads and hashes each blob from the source before
    /// mounting it (or counting it present), instead of taking the store's word for it.
    pub(crate) fn verify_mounts(mut self, on: bool) -> Self {
        self.verify_mounts = on;
        self
    }

    /// Calls `hook` as each action finishes (after its retries), in completion order.
    pub(crate) fn on_action(mut self, hook: &'s ActionHook<'s>) -> Self {
        self.on_action = Some(hook);
        self
    }

    /// Runs every action (in parallel, bounded) and returns their records in plan order.
    pub(crate) async fn run(&self, actions: &[Action]) -> Vec<ActionReport> {
        self.progress.images_total.store(actions.len() as u64, Ordering::Relaxed);
        let _ = self.fan_sources.set(self.fan_sources_of(actions));
        let mut reports: Vec<(usize, ActionReport)> = Vec::with_capacity(actions.len());
        // Copies and tags first; attachments after them, each after its subject (`attach`).
        for wave in attach::waves(actions) {
            // The destinations of one source image run side by side, so that they share its
            // source reads while its spools are fresh (the plan lists actions by destination).
            let mut order: Vec<(usize, &Action)> = wave.into_iter().map(|i| (i, &actions[i])).collect();
            order.sort_by(|(_, a), (_, b)| (&a.src, &a.digest).cmp(&(&b.src, &b.digest)));
            let done: Vec<(usize, ActionReport)> = stream::iter(order)
                .map(|(i, action)| async move {
                    let report = self.run_action(action).await;
                    if let Some(hook) = self.on_action {
                        hook(i, &report);
                    }
                    (i, report)
                })
                .buffer_unordered(self.limits.jobs.max(1))
                .collect()
                .await;
            reports.extend(done);
        }
        reports.sort_by_key(|(i, _)| *i);
        reports.into_iter().map(|(_, r)| r).collect()
    }

    /// Source stores that feed two or more destination stores (other than themselves).
    fn fan_sources_of(&self, actions: &[Action]) -> HashSet<String> {
        let mut destinations: HashMap<String, BTreeSet<String>> = HashMap::new();
        for action in actions.iter().filter(|a| a.action == ActionKind::Copy) {
            let src_repo = action.src.rsplit_once('@').map_or(action.src.as_str(), |(r, _)| r);
            let (Ok(src), Ok(dst)) = (self.stores.locate(src_repo), self.stores.locate(&action.dst)) else {
                continue;
            };
            if src.key != dst.key {
                destinations.entry(src.key).or_default().insert(dst.key);
            }
        }
        destinations.into_iter().filter(|(_, d)| d.len() >= 2).map(|(s, _)| s).collect()
    }

    fn fans_out(&self, src: &Location) -> bool {
        self.fan_sources.get().is_some_and(|s| s.contains(&src.key))
    }

    /// Reads a source manifest by digest, once per run for all destinations when fanning out.
    async fn source_manifest(&self, src: &Location, digest: &str) -> Result<RawManifest, RegistryError> {
        if !self.fans_out(src) {
            return read_manifest(src, digest).await;
        }
        self.fanout.manifest(src, digest, || read_manifest(src, digest)).await
    }

    async fn run_action(&self, action: &Action) -> ActionReport {
        let started = Instant::now();
        let counters = Counters::default();
        let mut result = self.action(action, &counters).await;
        let mut attempt = 0;
        while let Err(error) = &result {
            if attempt >= RETRIES || !error.kind.is_transient() {
                break;
            }
            attempt += 1;
            self.progress.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff(&RetryPolicy::default(), attempt - 1)).await;
            result = self.action(action, &counters).await;
        }
        self.progress.images_done.fetch_add(1, Ordering::Relaxed);
        let (result, error) = match result {
            Ok(()) => (Outcome::Done, None),
            Err(e) => {
                self.progress.failures.fetch_add(1, Ordering::Relaxed);
                (Outcome::Failed, Some(e.to_string()))
            }
        };
        let report = ActionReport {
            action: action.action,
            src: action.src.clone(),
            dst: action.dst.clone(),
            digest: action.digest.clone(),
            tags: action.tags.clone(),
            result,
            error,
            millis: started.elapsed().as_millis() as u64,
            manifests: 0,
            blobs_uploaded: 0,
            blobs_mounted: 0,
            blobs_present: 0,
            bytes: 0,
            refused: Vec::new(),
        };
        report.with_counters(&counters)
    }

    async fn action(&self, action: &Action, counters: &Counters) -> Result<(), RegistryError> {
        let dst = self.stores.locate(&action.dst)?;
        let raw = match action.action {
            // Attachments: copied after their subject, tag-scheme tags by union (`attach`).
            ActionKind::Attach => return self.attach(action, counters).await,
            ActionKind::Copy => {
                let src_repo = action.src.rsplit_once('@').map_or(action.src.as_str(), |(r, _)| r);
                let src = self.stores.locate(src_repo)?;
                // A source digest that vanished since planning is `lost` (preconditions).
                let Some(raw) =
                    precondition::present(self.source_manifest(&src, &action.digest).await, counters)?
                else {
                    return Ok(());
                };
                self.ensure_manifest(&src, &dst, &raw, counters).await?;
                raw
            }
            // The digest is already in the destination: its bytes come from there.
            ActionKind::Tag => {
                let Some(raw) = precondition::present(read_manifest(&dst, &action.digest).await, counters)?
                else {
                    return Ok(());
                };
                raw
            }
        };
        for tag in &action.tags {
            // Re-checked just before the write: a tag moved since planning is refused, never moved.
            if precondition::tag_needs_write(&dst, tag, &action.digest, counters).await? {
                dst.store.put_manifest(&dst.repo, tag, &raw).await?;
            }
        }
        Ok(())
    }

    /// Writes `raw` (and everything it references) to `dst` by digest, once per run.
    async fn ensure_manifest(
        &self,
        src: &Location,
        dst: &Location,
        raw: &RawManifest,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        let key = (dst.key.clone(), dst.repo.clone(), raw.digest.clone());
        let cell = shared(&self.manifests, key);
        cell.get_or_try_init(|| self.write_manifest(src, dst, raw, counters, 0)).await?;
        Ok(())
    }

    fn write_manifest<'a>(
        &'a self,
        src: &'a Location,
        dst: &'a Location,
        raw: &'a RawManifest,
        counters: &'a Counters,
        depth: usize,
    ) -> BoxFuture<'a, Result<(), RegistryError>> {
        async move {
            let content =
                References::of(&raw.bytes, &raw.digest).map_err(|m| wrap(src, Operation::GetManifest, m))?;
            if depth > 4 && !content.children.is_empty() {
                return Err(wrap(src, Operation::GetManifest, "indexes nested too deeply".into()));
            }
            // An index may list a child more than once (a hostile one, thousands of times):
            // each distinct child is copied once, and once per run across every index.
            let distinct: std::collections::BTreeSet<&String> = content.children.iter().collect();
            let children = distinct.into_iter().map(|child| self.child(src, dst, child, counters, depth));
            try_join_all(children).await?;
            let blobs = content.blobs.iter().map(|(d, size)| self.blob(src, dst, d, *size, counters));
            try_join_all(blobs).await?;
            dst.store.put_manifest(&dst.repo, &raw.digest, raw).await?;
            Counters::bump(&counters.manifests);
            Ok(())
        }
        .boxed()
    }

    /// Copies an index child unless the destination already has it.
    async fn child(
        &self,
        src: &Location,
        dst: &Location,
        digest: &str,
        counters: &Counters,
        depth: usize,
    ) -> Result<(), RegistryError> {
        // The same per-run cell as whole actions: a child shared by several indexes (or also
        // promoted on its own) is written once, and never by two concurrent PUTs.
        let cell = shared(&self.manifests, (dst.key.clone(), dst.repo.clone(), digest.to_owned()));
        cell.get_or_try_init(|| async {
            if dst.store.head_manifest(&dst.repo, digest).await?.is_some() {
                return Ok(());
            }
            let raw = self.source_manifest(src, digest).await?;
            self.write_manifest(src, dst, &raw, counters, depth + 1).await
        })
        .await?;
        Ok(())
    }

    fn permit_pool(&self, key: &str) -> Arc<Semaphore> {
        let mut pools = self.per_registry.lock().expect("semaphore map lock");
        pools
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.limits.blob_jobs.max(1))))
            .clone()
    }

    /// Makes one blob present in `dst`, once per repository and run.
    async fn blob(
        &self,
        src: &Location,
        dst: &Location,
        digest: &str,
        size: u64,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        let cell = shared(&self.repo_blobs, (dst.key.clone(), dst.repo.clone(), digest.to_owned()));
        cell.get_or_try_init(|| self.blob_in_repo(src, dst, digest, size, counters)).await?;
        Ok(())
    }

    /// Makes one blob present in `dst`: at most one transfer per destination store and digest.
    async fn blob_in_repo(
        &self,
        src: &Location,
        dst: &Location,
        digest: &str,
        size: u64,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        let cell = shared(&self.blobs, (dst.key.clone(), digest.to_owned()));
        let holder = cell
            .get_or_try_init(|| async {
                self.first_transfer(src, dst, digest, size, counters).await.map(|()| dst.repo.clone())
            })
            .await?
            .clone();
        if holder == dst.repo {
            return Ok(());
        }
        let pool = self.permit_pool(&dst.key);
        let _permits = (pool.acquire().await, self.global.acquire().await);
        if dst.store.mount_blob(&dst.repo, &holder, digest).await? == MountOutcome::Mounted {
            Counters::bump(&counters.mounted);
            return Ok(());
        }
        self.upload(src, dst, digest, size, counters).await
    }

    async fn first_transfer(
        &self,
        src: &Location,
        dst: &Location,
        digest: &str,
        size: u64,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        let pool = self.permit_pool(&dst.key);
        let _permits = (pool.acquire().await, self.global.acquire().await);
        let same_store = src.key == dst.key;
        if same_store && self.verify_mounts {
            // In one store the destination's copy is the source's bytes (a registry keeps one
            // blob per digest; a layout one file): check those bytes before relying on them.
            self.read_verified(src, digest, size).await?;
        }
        if dst.store.blob_exists(&dst.repo, digest).await? {
            Counters::bump(&counters.present);
            return Ok(());
        }
        if same_store && dst.store.mount_blob(&dst.repo, &src.repo, digest).await? == MountOutcome::Mounted {
            Counters::bump(&counters.mounted);
            return Ok(());
        }
        self.upload(src, dst, digest, size, counters).await
    }

    /// Reads a source blob to its end and checks it against its digest (`--verify-mounts`).
    async fn read_verified(&self, src: &Location, digest: &str, size: u64) -> Result<(), RegistryError> {
        let blob = open_source(src, digest, size).await?;
        let (mut verified, source_failure) = verifying(blob, digest, src.store.name(), &src.repo, |_| {});
        while let Some(chunk) = verified.stream.next().await {
            if let Err(error) = chunk {
                return Err(source_failure.take().unwrap_or(error));
            }
        }
        Ok(())
    }

    /// Streams a blob from the source to the destination, verified on the way.
    async fn upload(
        &self,
        src: &Location,
        dst: &Location,
        digest: &str,
        size: u64,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        if self.fans_out(src) {
            let progress = self.progress.clone();
            let on_bytes = move |n| {
                progress.bytes.fetch_add(n, Ordering::Relaxed);
            };
            if let Some((shared, spool)) = self.fanout.open(src, digest, size, on_bytes) {
                // An upload abandoned because the source read failed reports the source's cause.
                if let Err(error) = dst.store.put_blob(&dst.repo, digest, shared).await {
                    return Err(spool.failure().unwrap_or(error));
                }
                Counters::bump(&counters.uploaded);
                counters.bytes.fetch_add(size, Ordering::Relaxed);
                return Ok(());
            }
        }
        let blob = open_source(src, digest, size).await?;
        let progress = self.progress.clone();
        let (verified, source_failure) = verifying(blob, digest, src.store.name(), &src.repo, move |n| {
            progress.bytes.fetch_add(n, Ordering::Relaxed);
        });
        // When the upload stops because the source failed, the source's error is the cause (an
        // integrity failure is final; a source cut off is worth another try).
        if let Err(error) = dst.store.put_blob(&dst.repo, digest, verified).await {
            return Err(source_failure.take().unwrap_or(error));
        }
        Counters::bump(&counters.uploaded);
        counters.bytes.fetch_add(size, Ordering::Relaxed);
        Ok(())
    }
}

/// Reads a manifest by digest and checks its bytes.
async fn read_manifest(at: &Location, digest: &str) -> Result<RawManifest, RegistryError> {
    let raw = at.store.get_manifest(&at.repo, digest).await?;
    check_manifest(&raw, digest, at.store.name(), &at.repo)?;
    Ok(RawManifest { digest: digest.to_owned(), ..raw })
}

fn wrap(at: &Location, operation: Operation, message: String) -> RegistryError {
    RegistryError::new(at.store.name(), &at.repo, operation, ErrorKind::Invalid(message))
}

//! Plan files: a reviewed plan written once (`cip plan --out plan.json`) and executed later,
//! possibly by many workers (`cip apply plan.json --shard I/N`), without planning again.
//!
//! A plan file wraps the [`Plan`] unchanged (its JSON is exactly `cip plan --format json`'s) with
//! what an executor needs to trust it: a format name and version, the sha256 of every manifest
//! file the plan came from (so `cip apply --check PATH` can refuse a plan whose manifests have
//! changed since review), the registries of those manifests (so an executor reaches the same
//! stores, `oci:DIR` layouts included, with the same service accounts), and per action the
//! registry state the planner assumed ([`Preconditions`]), which the executor re-checks just
//! before each tag write.
//!
//! Pure, like the rest of the core: the caller reads the files and hashes them (the core has no
//! file system); the bytes written are a function of the plan and those digests only.

pub mod shard;

use serde::{Deserialize, Serialize};

use crate::plan::{Action, ActionKind, Plan};

/// The `format` field of every plan file.
pub const FORMAT: &str = "cip-plan";

/// The plan file layout this build reads and writes. A file of another version is refused (its
/// fields may mean something else), never guessed at.
pub const VERSION: u32 = 1;

/// A manifest file the plan was made from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestDigest {
    /// The path as given on the command line (a file, or a file under a thin directory).
    pub path: String,
    /// `sha256:<64 hex>` of the file's bytes.
    pub sha256: String,
}

/// A registry named by the manifests.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryEntry {
    /// Registry name as in the manifest (`host[:port][/path]` or `oci:DIR`).
    pub name: String,
    /// The Google service account the manifest says to act as for it.
    #[serde(default)]
    pub service_account: Option<String>,
}

/// What the planner assumed about the registries for one action; the executor re-checks these
/// just before writing tags (`tag-move` when a tag now points elsewhere, `lost` when the digest
/// to copy has vanished).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preconditions {
    /// `<repo>@<digest>` that must still exist in the source (copy actions).
    pub source_present: Option<String>,
    /// `<repo>@<digest>` that must still exist in the destination (tag actions, whose bytes are
    /// read there).
    pub destination_present: Option<String>,
    /// Tags that must be absent from the destination or already point at the action's digest.
    pub tags_absent_or_at_digest: Vec<String>,
}

impl Preconditions {
    /// The preconditions the planner assumed for `action`: a copy needs its source, a tag
    /// action its digest in the destination; every tag it sets was absent when planned (a tag
    /// at another digest is blocked as `tag-move`, one at this digest is already present).
    pub fn of(action: &Action) -> Self {
        let (source_present, destination_present) = match action.action {
            ActionKind::Copy | ActionKind::Attach => (Some(action.src.clone()), None),
            ActionKind::Tag => (None, Some(format!("{}@{}", action.dst, action.digest))),
        };
        // A merging attach rewrites a tag held by another manifest (adding layers only): that
        // tag is expected to be taken.
        let merging = action.attachment.as_ref().is_some_and(|a| a.merge);
        let tags_absent_or_at_digest = if merging { Vec::new() } else { action.tags.clone() };
        Preconditions { source_present, destination_present, tags_absent_or_at_digest }
    }
}

/// A plan with everything needed to execute it later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written by this build.
    pub version: u32,
    /// The manifest files the plan came from, sorted by path.
    pub manifests: Vec<ManifestDigest>,
    /// Every registry the manifests name, sorted by name.
    pub registries: Vec<RegistryEntry>,
    /// The plan, exactly as `cip plan --format json` prints it.
    pub plan: Plan,
    /// One entry per `plan.actions` entry, in the same order.
    pub preconditions: Vec<Preconditions>,
}

/// Why a plan file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON, or not a plan file's shape.
    #[error("{line}:{column}: {message} (write plan files with `cip plan --out FILE`)")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// JSON of something else (a `cip plan --format json` output, a report).
    #[error(
        "not a cip plan file (\"format\" is {found:?}, expected \"cip-plan\"; write one with `cip plan --out FILE`)"
    )]
    Format {
        /// The `format` value found, if any.
        found: Option<String>,
    },
    /// Written by a build with another plan file layout.
    #[error(
        "plan file format version {found}, this cip reads version {VERSION}: plan again with this cip (`cip plan --out FILE`) or apply with the cip that wrote it"
    )]
    Version {
        /// The version found.
        found: u64,
    },
    /// The parts of the file do not agree (edited by hand?).
    #[error("inconsistent plan file: {0}")]
    Inconsistent(String),
}

/// Manifest files that differ from those a plan was made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestMismatch {
    /// Paths whose bytes changed.
    pub changed: Vec<String>,
    /// Paths given now that the plan was not made from.
    pub added: Vec<String>,
    /// Paths the plan was made from that are not given now.
    pub missing: Vec<String>,
}

impl std::fmt::Display for ManifestMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (what, paths) in [
            ("changed since planning", &self.changed),
            ("not planned from", &self.added),
            ("missing", &self.missing),
        ] {
            if !paths.is_empty() {
                parts.push(format!("{what}: {}", paths.join(", ")));
            }
        }
        write!(f, "the manifests do not match the plan file ({}); plan again and review", parts.join("; "))
    }
}

impl PlanFile {
    /// Wraps a plan. `manifests` are the digests of the files it was made from, `registries`
    /// the registries their manifests name (both sorted and deduplicated here).
    pub fn new(plan: Plan, mut manifests: Vec<ManifestDigest>, mut registries: Vec<RegistryEntry>) -> Self {
        manifests.sort();
        manifests.dedup();
        registries.sort();
        registries.dedup();
        let preconditions = plan.actions.iter().map(Preconditions::of).collect();
        PlanFile { format: FORMAT.to_owned(), version: VERSION, manifests, registries, plan, preconditions }
    }

    /// The file's bytes: pretty JSON with a final newline, the same bytes for the same inputs.
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }

    /// Reads a plan file: the format and version are checked before anything else, so a file
    /// of another version is refused as such rather than as a shape error.
    pub fn from_json(text: &str) -> Result<Self, PlanFileError> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<serde_json::Value>,
            version: Option<serde_json::Value>,
        }
        let header: Header = serde_json::from_str(text).map_err(syntax)?;
        let format = header.format.as_ref().and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err(PlanFileError::Format { found: format.map(str::to_owned) });
        }
        match header.version.as_ref().and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(found) => return Err(PlanFileError::Version { found }),
            None => {
                return Err(PlanFileError::Syntax {
                    line: 1,
                    column: 1,
                    message: "\"version\" is missing or not a number".to_owned(),
                });
            }
        }
        let file: PlanFile = serde_json::from_str(text).map_err(syntax)?;
        if file.preconditions.len() != file.plan.actions.len() {
            return Err(PlanFileError::Inconsistent(format!(
                "{} actions but {} preconditions",
                file.plan.actions.len(),
                file.preconditions.len()
            )));
        }
        if let Some(i) = (0..file.plan.actions.len())
            .find(|&i| file.preconditions[i] != Preconditions::of(&file.plan.actions[i]))
        {
            return Err(PlanFileError::Inconsistent(format!(
                "the preconditions of action {i} do not match the action"
            )));
        }
        Ok(file)
    }

    /// The plan's actions split into `count` shards ([`shard::partition_by`], by action count):
    /// the copies of one image to every destination registry form one group, so a worker reads
    /// each source image once for all its mirrors. The image is the destination repository
    /// below its registry's name (`us.example/prod/foo` of registry `us.example/prod` is `foo`).
    pub fn partition(&self, count: usize) -> Vec<Vec<usize>> {
        shard::partition_by(&self.plan.actions, count, |a| self.image_of(&a.dst).to_owned(), |_| 1)
    }

    /// The image path of a destination repository: below the longest registry name it starts
    /// with, or the whole path when none does.
    fn image_of<'a>(&self, repository: &'a str) -> &'a str {
        self.registries
            .iter()
            .filter_map(|r| repository.strip_prefix(r.name.as_str()).and_then(|rest| rest.strip_prefix('/')))
            .min_by_key(|rest| rest.len())
            .unwrap_or(repository)
    }

    /// Compares the plan's manifest digests with those of the files given now.
    pub fn check_manifests(&self, current: &[ManifestDigest]) -> Result<(), ManifestMismatch> {
        let planned: std::collections::BTreeMap<&str, &str> =
            self.manifests.iter().map(|m| (m.path.as_str(), m.sha256.as_str())).collect();
        let now: std::collections::BTreeMap<&str, &str> =
            current.iter().map(|m| (m.path.as_str(), m.sha256.as_str())).collect();
        let mut mismatch = ManifestMismatch::default();
        for (path, digest) in &now {
            match planned.get(path) {
                None => mismatch.added.push((*path).to_owned()),
                Some(d) if d != digest => mismatch.changed.push((*path).to_owned()),
                Some(_) => {}
            }
        }
        mismatch.missing =
            planned.keys().filter(|p| !now.contains_key(*p)).map(|p| (*p).to_owned()).collect();
        if mismatch == ManifestMismatch::default() { Ok(()) } else { Err(mismatch) }
    }
}

fn syntax(e: serde_json::Error) -> PlanFileError {
    PlanFileError::Syntax { line: e.line(), column: e.column(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(kind: ActionKind, dst: &str, digest: &str, tags: &[&str]) -> Action {
        Action {
            action: kind,
            src: format!("src.example/stage/x@{digest}"),
            dst: dst.to_owned(),
            digest: digest.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            media_type: None,
            attachment: None,
        }
    }

    fn sample() -> PlanFile {
        let plan = Plan {
            actions: vec![
                action(ActionKind::Copy, "prod.example/x", "sha256:aa", &["1.0", "latest"]),
                action(ActionKind::Tag, "prod.example/y", "sha256:bb", &["2.0"]),
            ],
            ..Plan::default()
        };
        let manifests = vec![
            ManifestDigest { path: "b.yaml".into(), sha256: "sha256:02".into() },
            ManifestDigest { path: "a.yaml".into(), sha256: "sha256:01".into() },
        ];
        PlanFile::new(
            plan,
            manifests,
            vec![RegistryEntry { name: "prod.example".into(), service_account: None }],
        )
    }

    #[test]
    fn round_trips_with_sorted_manifests_and_one_precondition_per_action() {
        let file = sample();
        assert_eq!(file.manifests[0].path, "a.yaml");
        assert_eq!(file.preconditions[0].source_present.as_deref(), Some("src.example/stage/x@sha256:aa"));
        assert_eq!(file.preconditions[1].destination_present.as_deref(), Some("prod.example/y@sha256:bb"));
        let text = file.to_json();
        assert_eq!(PlanFile::from_json(&text).unwrap(), file);
        assert_eq!(PlanFile::from_json(&text).unwrap().to_json(), text);
    }

    #[test]
    fn another_version_or_format_is_refused_by_name() {
        let text = sample().to_json().replace("\"version\": 1", "\"version\": 2");
        assert_eq!(PlanFile::from_json(&text), Err(PlanFileError::Version { found: 2 }));
        let plain = sample().plan.to_json();
        assert_eq!(PlanFile::from_json(&plain), Err(PlanFileError::Format { found: None }));
        let error =
            PlanFile::from_json("{\"format\": \"cip-plan\",\n  \"version\": 1,\n  \"plan\": 3}").unwrap_err();
        assert!(matches!(error, PlanFileError::Syntax { line: 3, .. }), "{error:?}");
    }

    #[test]
    fn edited_preconditions_are_inconsistent() {
        let mut file = sample();
        file.preconditions[0].tags_absent_or_at_digest.push("extra".into());
        assert!(matches!(PlanFile::from_json(&file.to_json()), Err(PlanFileError::Inconsistent(_))));
        file.preconditions.pop();
        assert!(matches!(PlanFile::from_json(&file.to_json()), Err(PlanFileError::Inconsistent(_))));
    }

    #[test]
    fn the_copies_of_one_image_to_every_mirror_share_a_shard() {
        let mut actions = Vec::new();
        for (i, image) in ["foo", "bar", "baz", "qux"].iter().enumerate() {
            for mirror in ["us.example/prod", "eu.example/prod", "eu.example/prod/extra"] {
                actions.push(action(
                    ActionKind::Copy,
                    &format!("{mirror}/{image}"),
                    &format!("sha256:{i}"),
                    &[],
                ));
            }
        }
        let registries = ["us.example/prod", "eu.example/prod", "eu.example/prod/extra"]
            .map(|name| RegistryEntry { name: name.into(), service_account: None })
            .to_vec();
        let file = PlanFile::new(Plan { actions, ..Plan::default() }, Vec::new(), registries);
        let shards = file.partition(2);
        assert_eq!(shards.iter().map(Vec::len).collect::<Vec<_>>(), [6, 6]);
        for shard in &shards {
            let images: std::collections::BTreeSet<&str> =
                shard.iter().map(|&i| file.image_of(&file.plan.actions[i].dst)).collect();
            assert_eq!(images.len(), 2, "{images:?}");
        }
    }

    #[test]
    fn manifest_check_names_changed_added_and_missing_files() {
        let file = sample();
        let now = vec![
            ManifestDigest { path: "a.yaml".into(), sha256: "sha256:01".into() },
            ManifestDigest { path: "b.yaml".into(), sha256: "sha256:ff".into() },
            ManifestDigest { path: "c.yaml".into(), sha256: "sha256:03".into() },
        ];
        let mismatch = file.check_manifests(&now).unwrap_err();
        assert_eq!(mismatch.changed, ["b.yaml"]);
        assert_eq!(mismatch.added, ["c.yaml"]);
        assert!(mismatch.missing.is_empty());
        assert!(file.check_manifests(&now[..1]).unwrap_err().missing == ["b.yaml"]);
        assert_eq!(file.check_manifests(&file.manifests.clone()), Ok(()));
    }
}

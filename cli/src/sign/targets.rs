//! Which digests to sign, as whom, and where: every (digest, destination repository) edge the
//! manifests name, grouped by (digest, identity). An edge is left out when the plan blocked it or
//! its action failed (its digest or tags are not in place), and so are digests whose only tags
//! are cosign's own (`.sig`, `.att`, `.sbom`), as in the Go promoter. Targets come from the
//! manifests rather than from the run's actions, so a re-run signs what an earlier run's failed
//! signing left out even when there is nothing left to copy.

use std::collections::{BTreeMap, BTreeSet};

use cip_core::{ManifestSet, Plan};

use crate::promote::{Outcome, Report};

/// One destination repository of a target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Destination {
    /// The destination repository (`registry/image`).
    pub(crate) dst: String,
    /// The source reference it was promoted from (`repo@digest`), for attestations.
    pub(crate) src: String,
}

/// One signing: a digest under one identity, and every destination it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The digest.
    pub(crate) digest: String,
    /// The `docker-reference` signed.
    pub(crate) identity: String,
    /// Where the signature is written.
    pub(crate) destinations: Vec<Destination>,
}

/// The targets of `set` after `plan` ran (`report`: `None` when nothing was executed), with the
/// identity rewritten under `signing_identity` when given.
pub(crate) fn targets(
    set: &ManifestSet,
    plan: &Plan,
    report: Option<&Report>,
    signing_identity: Option<&str>,
) -> Vec<Target> {
    let blocked: BTreeSet<(&str, &str)> =
        plan.blocked.iter().map(|b| (b.dst.as_str(), b.digest.as_str())).collect();
    let failed: BTreeSet<(&str, &str)> = report
        .iter()
        .flat_map(|r| &r.actions)
        .filter(|a| a.action != cip_core::plan::ActionKind::Attach && a.result == Outcome::Failed)
        .map(|a| (a.dst.as_str(), a.digest.as_str()))
        .collect();
    let mut grouped: BTreeMap<(String, String), BTreeSet<Destination>> = BTreeMap::new();
    for manifest in &set.manifests {
        let Some(source) = manifest.source() else { continue };
        for registry in manifest.registries.iter().filter(|r| !r.src) {
            for image in &manifest.images {
                let name = image.name.value.as_str();
                let dst = format!("{}/{name}", registry.name.value);
                for entry in &image.dmap {
                    let digest = entry.digest.value.as_str();
                    let cosign_only = !entry.tags.is_empty()
                        && entry
                            .tags
                            .iter()
                            .all(|t| [".sig", ".att", ".sbom"].iter().any(|s| t.value.ends_with(s)));
                    let key = (dst.as_str(), digest);
                    if cosign_only || blocked.contains(&key) || failed.contains(&key) {
                        continue;
                    }
                    let identity = signing_identity
                        .map_or_else(|| dst.clone(), |p| format!("{}/{name}", p.trim_end_matches('/')));
                    let src = format!("{}/{name}@{digest}", source.name.value);
                    grouped
                        .entry((digest.to_owned(), identity))
                        .or_default()
                        .insert(Destination { dst: dst.clone(), src });
                }
            }
        }
    }
    grouped
        .into_iter()
        .map(|((digest, identity), destinations)| Target {
            digest,
            identity,
            destinations: destinations.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cip_core::{Input, SourceFile};

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn set() -> ManifestSet {
        let yaml = format!(
            "registries:\n- name: s.io/stage\n  src: true\n- name: a.io/prod\n- name: b.io/prod\nimages:\n\
             - name: app\n  dmap:\n    \"{D}\": [\"v1\"]\n"
        );
        cip_core::load(Input { files: vec![SourceFile::new("m.yaml", &yaml)], thin_dirs: None })
    }

    #[test]
    fn one_target_per_mirror_or_one_for_a_canonical_identity() {
        let set = set();
        let plan = Plan::default();
        let each = targets(&set, &plan, None, None);
        assert_eq!(each.len(), 2);
        assert_eq!(each[0].identity, "a.io/prod/app");
        assert_eq!(each[0].destinations[0].src, format!("s.io/stage/app@{D}"));
        let one = targets(&set, &plan, None, Some("registry.example.io/"));
        assert_eq!(one.len(), 1, "{one:?}");
        assert_eq!(one[0].identity, "registry.example.io/app");
        let dsts: Vec<&str> = one[0].destinations.iter().map(|d| d.dst.as_str()).collect();
        assert_eq!(dsts, ["a.io/prod/app", "b.io/prod/app"]);
    }

    #[test]
    fn blocked_edges_are_not_signed() {
        let set = set();
        let mut plan = Plan::default();
        plan.blocked.push(cip_core::plan::Blocked {
            src: None,
            dst: "a.io/prod/app".into(),
            digest: D.into(),
            tags: vec![],
            reasons: vec!["lost".into()],
        });
        let left = targets(&set, &plan, None, Some("r.io"));
        let dsts: Vec<&str> = left[0].destinations.iter().map(|d| d.dst.as_str()).collect();
        assert_eq!(dsts, ["b.io/prod/app"]);
    }
}

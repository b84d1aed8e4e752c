//! The trust gate (issue 14): before a digest is promoted, the signatures and attestations it
//! carries in its source repository are verified ([`crate::trust::check`]) against the policy
//! of [`PlanOptions::trust`](super::PlanOptions::trust) (`--require-signature`, `--verify-key`,
//! the keyless identity constraints, `--require-attestation`). Without a policy a signature that
//! is present but does not verify is still `signature-invalid`, as the Go promoter's staging
//! check did.
//!
//! The gate is a source check, asked in the Go promoter's order: after "already present" and
//! "lost", before the destination's tag. So only digests with work to do are verified (an image
//! promoted long ago is not re-judged on every run), each distinct (source repository, digest)
//! once, however many destinations and manifests name it. A failure blocks that digest's edges
//! (blast radius) and every attachment action of it (no signature of an untrusted digest is
//! copied), and is reported once per manifest entry, at the digest as written.
//!
//! The evidence comes from the inventory: the `signedLayers` the reader recorded on the
//! digest's `.sig` and `.att` manifests and Sigstore-bundle referrers (found with the
//! attachment walk's [`Lookup`], whatever `--attachments` lets travel).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::inventory::CompactInventory;
use crate::rules::Code;
use crate::trust::{self, Evidence, EvidenceKind, Policy, Problem, TrustError, TrustOptions};

use super::attach::{Filter, Lookup};
use super::edge::{Edge, NONE, Site};
use super::{AttachmentFilter, AttachmentKind};

/// Verdicts of the gate over one plan, and where to report them.
pub(crate) struct Gate<'a> {
    /// The compiled policy; `Ok(None)` without trust options. A policy that does not compile
    /// (front ends check it first, so only a caller skipping that gets here) fails every digest
    /// checked: the gate never opens on options it cannot read.
    policy: Result<Option<Policy>, TrustError>,
    /// Whether checking can find anything: a policy is given, or some manifest is an attachment.
    active: bool,
    lookup: Lookup<'a>,
    /// (source repository, inventory digest id) -> index into `problems`.
    verdicts: HashMap<(&'a str, u32), usize>,
    /// The problems of each distinct verdict, and their codes (sorted, deduplicated).
    problems: Vec<(Vec<Problem>, Vec<Code>)>,
    /// Digest site (tag `NONE`) -> (source repository, verdict), for [`Gate::report`].
    sites: BTreeMap<Site, (&'a str, usize)>,
}

impl<'a> Gate<'a> {
    /// The gate of a plan against `inventory` with the trust options `options`.
    pub(crate) fn new(inventory: &'a CompactInventory, options: &TrustOptions) -> Self {
        let policy =
            if *options == TrustOptions::default() { Ok(None) } else { Policy::new(options).map(Some) };
        let active = !matches!(policy, Ok(None)) || inventory.has_attachments();
        Gate {
            policy,
            active,
            lookup: Lookup::new(inventory),
            verdicts: HashMap::default(),
            problems: Vec::new(),
            sites: BTreeMap::new(),
        }
    }

    /// Verifies digest `digest` (an inventory id) of source repository `src` for the
    /// declarations in `group`: the codes blocking them, or `None` when it passes.
    pub(crate) fn check(&mut self, group: &[Edge], src: &'a str, digest: u32) -> Option<Vec<Code>> {
        if !self.active {
            return None;
        }
        let verdict = match self.verdicts.get(&(src, digest)) {
            Some(&v) => v,
            None => {
                let problems = self.verify(src, digest);
                let mut codes: Vec<Code> = problems.iter().map(|p| p.code).collect();
                codes.sort();
                codes.dedup();
                self.problems.push((problems, codes));
                let v = self.problems.len() - 1;
                self.verdicts.insert((src, digest), v);
                v
            }
        };
        let codes = &self.problems[verdict].1;
        if codes.is_empty() {
            return None;
        }
        for g in group {
            self.sites.insert(Site { tag: NONE, ..g.site }, (src, verdict));
        }
        Some(codes.clone())
    }

    /// The codes of a digest the gate refused, if it did (`None` when it passed or was never
    /// asked: a digest present everywhere).
    pub(crate) fn refused(&self, src: &'a str, digest: u32) -> Option<&[Code]> {
        let &v = self.verdicts.get(&(src, digest))?;
        let codes = &self.problems[v].1;
        (!codes.is_empty()).then_some(codes.as_slice())
    }

    /// True when some digest was refused.
    pub(crate) fn refused_any(&self) -> bool {
        !self.sites.is_empty()
    }

    /// The evidence of `digest` in `src`, checked against the policy.
    fn verify(&mut self, src: &'a str, digest: u32) -> Vec<Problem> {
        let inventory = self.lookup.inventory;
        let everything = Filter::new(AttachmentFilter::All, &[]);
        let found = self.lookup.attachments(src, digest, &everything);
        let repo = self.lookup.repo(src);
        let policy = match &self.policy {
            Ok(policy) => policy.as_ref(),
            Err(error) => {
                return vec![Problem {
                    code: Code::SignatureInvalid,
                    message: format!("the trust options cannot be used ({error}), so nothing verifies"),
                }];
            }
        };
        let mut attachments = Vec::new();
        for f in &found {
            let layers = repo.map_or(&[][..], |r| r.signed_layers(f.entry));
            let kind = match f.kind {
                AttachmentKind::Sig => EvidenceKind::Signature,
                AttachmentKind::Att => EvidenceKind::Attestation,
                AttachmentKind::Sbom => continue,
                AttachmentKind::Referrer => {
                    let artifact_type =
                        repo.and_then(|r| r.artifact_type(f.entry)).map(|t| inventory.name(t));
                    let bundle = artifact_type.is_some_and(trust::is_bundle_type)
                        || layers.iter().any(|l| l.media_type == trust::BUNDLE_MEDIA_TYPE);
                    if !bundle {
                        continue;
                    }
                    EvidenceKind::Bundle
                }
            };
            attachments.push((kind, layers));
        }
        let evidence = Evidence { digest: inventory.digest(digest), attachments };
        trust::check(policy, &evidence)
    }

    /// Emits the findings, one per problem per manifest entry, at the digest as written.
    pub(crate) fn report(self, set: &ManifestSet, out: &mut Vec<Diagnostic>) {
        for (site, (src, verdict)) in self.sites {
            let digest = site.digest(set);
            for problem in &self.problems[verdict].0 {
                out.push(
                    Diagnostic::new(
                        problem.code,
                        set.files.locate(digest.file, digest.span),
                        format!("{} in {src}: {}", digest.value, problem.message),
                    )
                    .with_help(help(problem.code)),
                );
            }
        }
    }
}

/// What to do about a finding of the gate.
fn help(code: Code) -> &'static str {
    match code {
        Code::SignatureMissing => {
            "sign the image in its source repository with a key or identity the policy accepts, then plan again; other entries are still promoted"
        }
        Code::AttestationMissing => {
            "attest the image in its source repository (a signed in-toto statement of the required predicate type), then plan again; other entries are still promoted"
        }
        Code::AttestationInvalid => {
            "remove or replace the attestation that does not verify in the source repository; other entries are still promoted"
        }
        _ => {
            "remove or replace the signature that does not verify in the source repository (or check --verify-key and the identity flags); other entries are still promoted"
        }
    }
}

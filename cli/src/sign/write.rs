//! Writing signatures where the digest was promoted, once signed:
//!
//! - legacy: the destination's `sha256-<hex>.sig` gets the union of its layers and the new
//!   simple-signing layer (the executor's union rule: existing signatures are never dropped);
//!   blobs first, then the manifest under the tag;
//! - bundle: an OCI 1.1 referrer (artifactType [`BUNDLE_MEDIA_TYPE`], the empty config, the
//!   bundle as its one layer, `subject` = the image) pushed by digest; where the registry keeps
//!   no referrers list itself, its descriptor is merged into the referrers tag-schema index
//!   (the executor's code);
//! - promotion attestation: a Sigstore bundle (DSSE in-toto statement) referrer likewise, with
//!   annotations naming its predicate type, source and destination, so an equivalent one is
//!   recognised from the referrers list alone.
//!
//! Before signing, each destination's existing signatures are read: a signature whose payload
//! is the one this run would sign and that passes [`trust::check`] under this run's own policy
//! (key, or keyless identity) means the destination is done (skipped unless `resign`). Only when
//! some destination needs it is the digest signed, once, and the result written to each.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use cip_core::trust::{self, BUNDLE_MEDIA_TYPE, EvidenceKind, SIMPLE_SIGNING_MEDIA_TYPE, SignedLayer};
use futures_util::StreamExt;
use futures_util::future::join_all;
use serde_json::Value;

use super::report::{SignOutcome, SignedDestination, SignedDigest};
use super::signer::Signer;
use super::targets::{Destination, Target};
use super::{SignOptions, SignatureFormat};
use crate::promote::execute::{add_to_referrers_index, union};
use crate::registry::RegistryClient;
use crate::registry::digest::sha256_digest;
use crate::registry::referrers::{Referrer, parse_list, schema_tag};
use crate::store::{BlobStream, Location, RawManifest, RegistryError, Stores};

/// The referrer annotation naming a bundle's predicate type (what the Go promoter and cosign
/// write).
use trust::manifest::BUNDLE_PREDICATE_TYPE_ANNOTATION as PREDICATE_TYPE_ANNOTATION;
/// The referrer annotation naming a promotion attestation's source reference.
pub(crate) const SOURCE_ANNOTATION: &str = "dev.cip.promotion.source";
/// The referrer annotation naming a promotion attestation's destination reference.
pub(crate) const DESTINATION_ANNOTATION: &str = "dev.cip.promotion.destination";
/// Largest signature or bundle layer read back when checking what a destination holds.
const MAX_LAYER_BYTES: u64 = 1 << 20;

/// Writes one run's signatures.
pub(crate) struct Writer<'a> {
    client: &'a RegistryClient,
    stores: &'a Stores,
    options: &'a SignOptions,
    signer: Arc<Signer>,
}

/// What a destination holds of this run's signature and attestation.
struct Held {
    signed: bool,
    attested: bool,
    /// The `.sig` manifest as read (legacy): the one the new layer is merged into.
    sig: Option<RawManifest>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        client: &'a RegistryClient,
        stores: &'a Stores,
        options: &'a SignOptions,
        signer: Arc<Signer>,
    ) -> Self {
        Writer { client, stores, options, signer }
    }

    /// Signs one target and writes it to each of its destinations that needs it. The
    /// destinations are checked, then written, side by side (the registry client bounds the
    /// requests in flight per host).
    pub(crate) async fn sign_target(&self, target: &Target) -> SignedDigest {
        let attest = self.options.attest_promotion;
        let mut rows: Vec<SignedDestination> = Vec::new();
        // (destination, its location, needs the signature, needs the attestation, its `.sig`)
        let mut pending: Vec<(&Destination, Location, bool, bool, Option<RawManifest>)> = Vec::new();
        let checks = target.destinations.iter().map(|d| async move {
            let located = self.stores.locate(&d.dst);
            let held = match &located {
                Ok(at) => self.held(at, target, d).await,
                Err(e) => Err(e.clone()),
            };
            (d, located, held)
        });
        for (d, located, held) in join_all(checks).await {
            match (located, held) {
                (Ok(at), Ok(held)) => {
                    let sign = self.options.resign || !held.signed;
                    let attest_here = attest && (self.options.resign || !held.attested);
                    rows.push(SignedDestination {
                        dst: d.dst.clone(),
                        signature: if sign { SignOutcome::Written } else { SignOutcome::Skipped },
                        attestation: attest.then_some(if attest_here {
                            SignOutcome::Written
                        } else {
                            SignOutcome::Skipped
                        }),
                        error: None,
                    });
                    if sign || attest_here {
                        pending.push((d, at, sign, attest_here, held.sig));
                    }
                }
                (_, Err(e)) | (Err(e), _) => rows.push(failed(&d.dst, attest, e.to_string())),
            }
        }
        let needs_signature = pending.iter().any(|p| p.2);
        let needs_attestation = pending.iter().any(|p| p.3);
        let signature =
            if needs_signature { Some(self.signature(target, &pending[0].1).await) } else { None };
        let attestation =
            if needs_attestation { Some(self.attestation(target, &pending[0].1).await) } else { None };
        let (signature, attestation) = (&signature, &attestation);
        let writes = pending.iter().map(|(d, at, sign, attest_here, sig)| async move {
            let mut errors = Vec::new();
            let (mut signature_failed, mut attestation_failed) = (false, false);
            if *sign {
                let written = match signature {
                    Some(Ok(made)) => self.write(at, made, sig.as_ref()).await.map_err(|e| e.to_string()),
                    Some(Err(e)) => Err(e.clone()),
                    None => Ok(()),
                };
                if let Err(e) = written {
                    signature_failed = true;
                    errors.push(e);
                }
            }
            if *attest_here {
                let written = match attestation {
                    Some(Ok(made)) => self.write(at, made, None).await.map_err(|e| e.to_string()),
                    Some(Err(e)) => Err(e.clone()),
                    None => Ok(()),
                };
                if let Err(e) = written {
                    attestation_failed = true;
                    errors.push(format!("promotion attestation: {e}"));
                }
            }
            (d.dst.as_str(), signature_failed, attestation_failed, errors)
        });
        for (dst, signature_failed, attestation_failed, errors) in join_all(writes).await {
            let row = rows.iter_mut().find(|r| r.dst == dst).expect("row of a pending destination");
            if signature_failed {
                row.signature = SignOutcome::Failed;
            }
            if attestation_failed {
                row.attestation = Some(SignOutcome::Failed);
            }
            if !errors.is_empty() {
                row.error = Some(errors.join("; "));
            }
        }
        SignedDigest { digest: target.digest.clone(), identity: target.identity.clone(), destinations: rows }
    }

    /// Reads what `at` holds of this run's signature (and attestation) for the target.
    async fn held(&self, at: &Location, target: &Target, d: &Destination) -> Result<Held, RegistryError> {
        let attest = self.options.attest_promotion;
        let referrers = if self.options.format == SignatureFormat::Bundle || attest {
            self.referrers(at, &target.digest).await?
        } else {
            Vec::new()
        };
        let (signed, sig) = match self.options.format {
            SignatureFormat::Legacy => self.holds_legacy(at, target).await?,
            SignatureFormat::Bundle => (self.holds_bundle(at, target, &referrers).await?, None),
        };
        let attested = attest
            && referrers.iter().any(|r| {
                let annotations = r.descriptor.get("annotations");
                let text = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_str);
                text(PREDICATE_TYPE_ANNOTATION) == Some(trust::PROMOTION_PREDICATE_TYPE)
                    && text(SOURCE_ANNOTATION) == Some(d.src.as_str())
                    && text(DESTINATION_ANNOTATION) == Some(target.identity.as_str())
            });
        Ok(Held { signed, attested, sig })
    }

    /// Whether the `.sig` of the digest in `at` has a layer with this run's payload whose
    /// signature is valid under this run's policy; and the `.sig` as read.
    async fn holds_legacy(
        &self,
        at: &Location,
        target: &Target,
    ) -> Result<(bool, Option<RawManifest>), RegistryError> {
        let tag = format!("{}.sig", schema_tag(&target.digest));
        let manifest = match at.store.get_manifest(&at.repo, &tag).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok((false, None)),
            Err(e) => return Err(e),
        };
        let payload = trust::simple_signing_payload(&target.identity, &target.digest);
        let ours = sha256_digest(&payload);
        let doc: Value = serde_json::from_slice(&manifest.bytes).unwrap_or(Value::Null);
        let layers = doc.get("layers").and_then(Value::as_array).cloned().unwrap_or_default();
        for layer in layers {
            if layer.get("digest").and_then(Value::as_str) != Some(ours.as_str()) {
                continue;
            }
            // Content-addressed: a layer with this digest holds exactly this payload.
            let signed = SignedLayer {
                media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
                digest: ours.clone(),
                annotations: annotations_of(&layer),
                data: trust::encoding::b64(&payload),
            };
            if self.signer.accepts(&target.digest, EvidenceKind::Signature, &signed) {
                return Ok((true, Some(manifest)));
            }
        }
        Ok((false, Some(manifest)))
    }

    /// Whether a bundle referrer of the digest in `at` is a valid signature of this run's
    /// identity under this run's policy.
    async fn holds_bundle(
        &self,
        at: &Location,
        target: &Target,
        referrers: &[Referrer],
    ) -> Result<bool, RegistryError> {
        for r in referrers.iter().filter(|r| r.artifact_type.as_deref() == Some(BUNDLE_MEDIA_TYPE)) {
            let annotations = r.descriptor.get("annotations");
            let predicate =
                annotations.and_then(|a| a.get(PREDICATE_TYPE_ANNOTATION)).and_then(Value::as_str);
            if predicate == Some(trust::PROMOTION_PREDICATE_TYPE) {
                continue;
            }
            let manifest = match at.store.get_manifest(&at.repo, &r.digest).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let doc: Value = serde_json::from_slice(&manifest.bytes).unwrap_or(Value::Null);
            let Some(layer) = doc.get("layers").and_then(Value::as_array).and_then(|l| l.first()) else {
                continue;
            };
            let (Some(digest), size) =
                (layer.get("digest").and_then(Value::as_str), layer.get("size").and_then(Value::as_u64))
            else {
                continue;
            };
            if size.is_none_or(|s| s > MAX_LAYER_BYTES) {
                continue;
            }
            let bytes = read_blob(at, digest).await?;
            if !self.signer.names_identity(&bytes, &target.identity) {
                continue;
            }
            let signed = SignedLayer {
                media_type: BUNDLE_MEDIA_TYPE.to_owned(),
                digest: digest.to_owned(),
                annotations: annotations_of(layer),
                data: trust::encoding::b64(&bytes),
            };
            if self.signer.accepts(&target.digest, EvidenceKind::Bundle, &signed) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The referrers of `digest` in `at`: the registry's API where it has one, else the
    /// referrers tag-schema index.
    async fn referrers(&self, at: &Location, digest: &str) -> Result<Vec<Referrer>, RegistryError> {
        if let Some(list) = at.store.referrers(&at.repo, digest, &[]).await? {
            return Ok(list);
        }
        match at.store.get_manifest(&at.repo, &schema_tag(digest)).await {
            Ok(index) => Ok(parse_list(&index.bytes).unwrap_or_default()),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Signs the target's digest as its identity, once, in the run's format.
    async fn signature(&self, target: &Target, first: &Location) -> Result<Made, String> {
        let payload = trust::simple_signing_payload(&target.identity, &target.digest);
        match self.options.format {
            SignatureFormat::Legacy => {
                let layer = self.signer.legacy_layer(self.client, &payload).await?;
                let (manifest, config) = trust::manifest::signature_manifest(std::slice::from_ref(&layer))
                    .map_err(|e| e.to_string())?;
                let payload = Bytes::from(payload);
                Ok(Made::Tagged {
                    tag: format!("{}.sig", schema_tag(&target.digest)),
                    manifest: raw(manifest, crate::registry::media::OCI_MANIFEST),
                    blobs: vec![
                        (layer.digest.clone(), payload, false),
                        (sha256_digest(&config), Bytes::from(config), false),
                    ],
                })
            }
            SignatureFormat::Bundle => {
                let bundle = self.signer.image_bundle(self.client, &target.identity, &target.digest).await?;
                self.referrer(first, &target.digest, &bundle, BTreeMap::new()).await
            }
        }
    }

    /// The promotion attestation of the target, signed once.
    async fn attestation(&self, target: &Target, first: &Location) -> Result<Made, String> {
        let src = target.destinations.first().map(|d| d.src.as_str()).unwrap_or_default();
        let time = now_rfc3339();
        let statement = trust::payload::promotion_statement(&trust::payload::Promotion {
            subject_name: &target.identity,
            source: src,
            destination: &format!("{}@{}", target.identity, target.digest),
            digest: &target.digest,
            time: &time,
            version: &self.options.promoter_version,
        });
        let bundle = self.signer.dsse_bundle(self.client, &statement).await?;
        let annotations = BTreeMap::from([
            (SOURCE_ANNOTATION.to_owned(), src.to_owned()),
            (DESTINATION_ANNOTATION.to_owned(), target.identity.clone()),
        ]);
        self.referrer(first, &target.digest, &bundle, annotations).await
    }

    /// A referrer of `digest` holding `bundle` with cosign v3's annotations (content, predicate
    /// type) and `extra` ones, its subject descriptor read from `first`. No creation time: a
    /// key-based referrer is then byte-identical across runs.
    async fn referrer(
        &self,
        first: &Location,
        digest: &str,
        bundle: &trust::Bundle,
        extra: BTreeMap<String, String>,
    ) -> Result<Made, String> {
        let mut annotations = trust::manifest::bundle_referrer_annotations(bundle, None);
        annotations.extend(extra);
        let bundle = bundle.to_json();
        let head = first
            .store
            .head_manifest(&first.repo, digest)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{digest} is not in {}/{}", first.store.name(), first.repo))?;
        let subject = trust::manifest::Descriptor {
            media_type: head.media_type.clone(),
            digest: digest.to_owned(),
            size: head.size,
        };
        let (manifest, config) = trust::manifest::referrer_manifest(
            BUNDLE_MEDIA_TYPE,
            BUNDLE_MEDIA_TYPE,
            &bundle,
            &subject,
            &annotations,
        );
        let bundle = Bytes::from(bundle);
        Ok(Made::Referrer {
            subject: digest.to_owned(),
            manifest: raw(manifest, crate::registry::media::OCI_MANIFEST),
            blobs: vec![
                (sha256_digest(&bundle), bundle, false),
                (sha256_digest(&config), Bytes::from(config), true),
            ],
        })
    }

    /// Writes what was made to one destination: blobs, then the manifest (a `.sig` merged with
    /// `current`, what the tag held when read; a referrer added to the referrers index where the
    /// registry keeps none).
    async fn write(
        &self,
        at: &Location,
        made: &Made,
        current: Option<&RawManifest>,
    ) -> Result<(), RegistryError> {
        let (Made::Tagged { blobs, .. } | Made::Referrer { blobs, .. }) = made;
        for (digest, bytes, shared) in blobs {
            put_blob(at, digest, bytes, *shared).await?;
        }
        match made {
            Made::Tagged { tag, manifest, .. } => {
                let write = match current {
                    None => manifest.clone(),
                    Some(theirs) => match union(&manifest.bytes, &theirs.bytes) {
                        Ok(Some(bytes)) => raw(bytes, &manifest.media_type),
                        Ok(None) => return Ok(()),
                        Err(m) => {
                            return Err(RegistryError::new(
                                at.store.name(),
                                &at.repo,
                                crate::store::Operation::GetManifest,
                                crate::store::ErrorKind::Invalid(format!("{tag}: {m}")),
                            ));
                        }
                    },
                };
                at.store.put_manifest(&at.repo, tag, &write).await
            }
            Made::Referrer { subject, manifest, .. } => {
                at.store.put_manifest(&at.repo, &manifest.digest, manifest).await?;
                if !at.store.maintains_referrers() {
                    add_to_referrers_index(at, subject, manifest).await?;
                }
                Ok(())
            }
        }
    }
}

/// A blob to write: digest, bytes, and whether other signatures share it (the empty config of
/// referrers), so that it is worth asking for before uploading.
type Blob = (String, Bytes, bool);

/// A signature or attestation ready to write: its blobs and manifest.
enum Made {
    /// A tag-scheme manifest (`.sig`), merged with what the tag holds.
    Tagged { tag: String, manifest: RawManifest, blobs: Vec<Blob> },
    /// A referrer of `subject`, pushed by digest.
    Referrer { subject: String, manifest: RawManifest, blobs: Vec<Blob> },
}

fn raw(bytes: Vec<u8>, media_type: &str) -> RawManifest {
    RawManifest { digest: sha256_digest(&bytes), bytes: bytes.into(), media_type: media_type.to_owned() }
}

fn failed(dst: &str, attest: bool, error: String) -> SignedDestination {
    SignedDestination {
        dst: dst.to_owned(),
        signature: SignOutcome::Failed,
        attestation: attest.then_some(SignOutcome::Failed),
        error: Some(error),
    }
}

fn annotations_of(layer: &Value) -> BTreeMap<String, String> {
    layer
        .get("annotations")
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// Uploads a small blob. Only a `shared` one is looked for first: a new signature's own blobs
/// are absent, and asking would cost a request for nothing.
async fn put_blob(at: &Location, digest: &str, bytes: &Bytes, shared: bool) -> Result<(), RegistryError> {
    if shared && at.store.blob_exists(&at.repo, digest).await? {
        return Ok(());
    }
    let chunk = bytes.clone();
    let stream = futures_util::stream::once(async move { Ok(chunk) }).boxed();
    at.store.put_blob(&at.repo, digest, BlobStream { size: bytes.len() as u64, stream }).await
}

/// Reads a small blob whole (a bundle layer), checking it against its digest.
async fn read_blob(at: &Location, digest: &str) -> Result<Vec<u8>, RegistryError> {
    let mut blob = at.store.get_blob(&at.repo, digest).await?;
    let mut out = Vec::new();
    while let Some(chunk) = blob.stream.next().await {
        out.extend_from_slice(&chunk?);
        if out.len() as u64 > MAX_LAYER_BYTES {
            break;
        }
    }
    if sha256_digest(&out) != digest {
        return Err(RegistryError::new(
            at.store.name(),
            &at.repo,
            crate::store::Operation::GetBlob,
            crate::store::ErrorKind::Integrity {
                object: format!("blob {digest}"),
                found: format!("the bytes hash to {}", sha256_digest(&out)),
            },
        ));
    }
    Ok(out)
}

/// Now as RFC 3339 UTC (`2026-12-01T12:00:00Z`), for the attestation's `time`.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

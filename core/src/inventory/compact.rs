//! The inventory as the planner reads it: every digest, tag and media type stored once and
//! each (repository, digest) entry as a few integers.
//!
//! An inventory of the Kubernetes shape (45,000 digests in a staging repository and 20 mirrors)
//! has about a million entries; as an [`Inventory`] (two levels of `BTreeMap` keyed by `String`,
//! a `Vec<String>` of tags per entry) that is about 300 MiB, and reading it from a file held the
//! whole 130 MB text besides. [`CompactInventory`] takes about 24 bytes per entry (plus
//! each distinct string once), and [`CompactInventory::from_json_reader`] builds it while the
//! JSON streams in, with the same checks and messages as [`Inventory::from_json`], so neither
//! the text nor the typed tree is ever held. It is read-only: front ends that edit or print an
//! inventory keep [`Inventory`].

use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Inventory, InventoryError, ManifestInfo};
use crate::reference::is_valid_digest;
use crate::trust::SignedLayer;

/// "No value" for an id (an entry without a media type, a digest or tag no entry has).
pub(crate) const NONE: u32 = u32::MAX;

/// Strings interned to dense ids, each stored once (shared by the table and the map).
#[derive(Clone, Debug, Default)]
struct Strings {
    table: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Strings {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.table.len() as u32;
        let shared: Arc<str> = Arc::from(text);
        self.table.push(shared.clone());
        self.ids.insert(shared, id);
        id
    }

    fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }
}

/// What one repository holds under one digest: ids into the tables of [`CompactInventory`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// Digest id.
    pub digest: u32,
    /// Media type id, or [`NONE`].
    pub media_type: u32,
    /// Start of this entry's tag ids, followed by its children's digest ids, in `lists`.
    list: u32,
    tags: u32,
    children: u32,
    /// Index of the entry's attachment fields in `extras`, or [`NONE`]: few manifests are
    /// attachments, so their fields live aside and an image's entry stays small.
    extra: u32,
}

/// What a referrer or tag-scheme attachment records besides an image's fields.
#[derive(Clone, Copy, Debug)]
struct Extra {
    /// Subject digest id, or [`NONE`].
    subject: u32,
    /// Artifact type name id, or [`NONE`].
    artifact_type: u32,
    /// Start of the layer digest ids in `lists`, and their number.
    layers: u32,
    count: u32,
    /// Index of the entry's signed layers in `signed`, or [`NONE`].
    signed: u32,
}

/// A repository: its full path and the range of its entries (sorted by digest id).
#[derive(Clone, Debug)]
struct Repo {
    path: Box<str>,
    start: u32,
    end: u32,
}

/// A read-only inventory for planning, with every string stored once. Build it from an
/// [`Inventory`] (`CompactInventory::from(&inventory)`) or straight from JSON with
/// [`CompactInventory::from_json_reader`].
#[derive(Clone, Debug, Default)]
pub struct CompactInventory {
    /// Sorted by path.
    repos: Vec<Repo>,
    entries: Vec<Entry>,
    digests: Strings,
    /// Tags and media types.
    names: Strings,
    /// Tag ids and child digest ids of every entry (see [`Entry`]), and layer digest ids.
    lists: Vec<u32>,
    /// Attachment fields of the entries that have any.
    extras: Vec<Extra>,
    /// Signed layers (with their bytes) of the attachment entries that recorded any: a side
    /// table, as only signature and attestation manifests have them.
    signed: Vec<Box<[SignedLayer]>>,
    /// Some entry is an attachment (has attachment fields or a cosign tag-scheme tag): the
    /// planner follows attachments only then.
    attachments: bool,
}

/// One repository of a [`CompactInventory`], as the planner looks at it.
#[derive(Clone, Copy)]
pub(crate) struct RepoView<'a> {
    inventory: &'a CompactInventory,
    entries: &'a [Entry],
}

impl<'a> RepoView<'a> {
    /// The entry of digest id `digest`.
    pub fn get(self, digest: u32) -> Option<&'a Entry> {
        if digest == NONE {
            return None;
        }
        self.entries.binary_search_by_key(&digest, |e| e.digest).ok().map(|i| &self.entries[i])
    }

    /// Every entry, in no particular order.
    pub fn entries(self) -> &'a [Entry] {
        self.entries
    }

    /// Tag ids of an entry.
    pub fn tags(self, entry: &Entry) -> &'a [u32] {
        let start = entry.list as usize;
        &self.inventory.lists[start..start + entry.tags as usize]
    }

    /// Digest ids of the children of an entry (an index's manifests).
    pub fn children(self, entry: &Entry) -> &'a [u32] {
        let start = entry.list as usize + entry.tags as usize;
        &self.inventory.lists[start..start + entry.children as usize]
    }

    fn extra(self, entry: &Entry) -> Option<&'a Extra> {
        (entry.extra != NONE).then(|| &self.inventory.extras[entry.extra as usize])
    }

    /// Digest id of the entry's `subject` (a referrer's), if any.
    pub fn subject(self, entry: &Entry) -> Option<u32> {
        self.extra(entry).map(|x| x.subject).filter(|&s| s != NONE)
    }

    /// Name id of the entry's `artifactType`, if any.
    pub fn artifact_type(self, entry: &Entry) -> Option<u32> {
        self.extra(entry).map(|x| x.artifact_type).filter(|&t| t != NONE)
    }

    /// Digest ids of the entry's recorded layers (tag-scheme attachments).
    pub fn layers(self, entry: &Entry) -> &'a [u32] {
        self.extra(entry)
            .map_or(&[], |x| &self.inventory.lists[x.layers as usize..(x.layers + x.count) as usize])
    }

    /// The entry's signed layers (signature and attestation manifests), with their bytes.
    pub fn signed_layers(self, entry: &Entry) -> &'a [SignedLayer] {
        self.extra(entry)
            .filter(|x| x.signed != NONE)
            .map_or(&[], |x| &self.inventory.signed[x.signed as usize])
    }
}

impl CompactInventory {
    /// Reads the JSON form from `reader` as it streams in (wrap a file in a `BufReader`): the
    /// same document, checks and error positions as [`Inventory::from_json`].
    ///
    /// # Errors
    ///
    /// As [`Inventory::from_json`]; an error of `reader` itself comes out as an
    /// [`InventoryError`] at the position reached.
    pub fn from_json_reader(reader: impl std::io::Read) -> Result<Self, InventoryError> {
        let mut de = serde_json::Deserializer::from_reader(reader);
        let inventory = Document.deserialize(&mut de).and_then(|b| de.end().map(|()| b));
        inventory.map_err(InventoryError::from_json)
    }

    /// Parses the JSON form held in memory (see [`Self::from_json_reader`]).
    ///
    /// # Errors
    ///
    /// As [`Inventory::from_json`].
    pub fn from_json(text: &str) -> Result<Self, InventoryError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let inventory = Document.deserialize(&mut de).and_then(|b| de.end().map(|()| b));
        inventory.map_err(InventoryError::from_json)
    }

    /// Number of repositories.
    pub fn len(&self) -> usize {
        self.repos.len()
    }

    /// True when no repository was read.
    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// True when some entry is an attachment (a referrer, or a manifest under a cosign
    /// `sha256-<hex>.sig|.att|.sbom` tag).
    pub(crate) fn has_attachments(&self) -> bool {
        self.attachments
    }

    /// The repository at this exact full path, if it was read.
    pub(crate) fn repository(&self, path: &str) -> Option<RepoView<'_>> {
        let i = self.repos.binary_search_by(|r| (*r.path).cmp(path)).ok()?;
        let r = &self.repos[i];
        Some(RepoView { inventory: self, entries: &self.entries[r.start as usize..r.end as usize] })
    }

    /// The id of a digest text, or [`NONE`] when no entry has it.
    pub(crate) fn digest_id(&self, digest: &str) -> u32 {
        self.digests.get(digest).unwrap_or(NONE)
    }

    /// The id of a tag (or media type) text, or [`NONE`] when no entry has it.
    pub(crate) fn name_id(&self, name: &str) -> u32 {
        self.names.get(name).unwrap_or(NONE)
    }

    /// The text of a digest id.
    pub(crate) fn digest(&self, id: u32) -> &str {
        &self.digests.table[id as usize]
    }

    /// The text of a tag or media type id.
    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names.table[id as usize]
    }
}

/// Collects repositories as they are read; [`Builder::finish`] sorts them.
#[derive(Default)]
struct Builder {
    inventory: CompactInventory,
}

impl Builder {
    /// Adds one entry of the repository being read (its entries are `entries[start..]`), with
    /// its signed layers (taken out of `info` by the caller, so their bytes are not copied).
    fn entry(&mut self, digest: &str, info: &ManifestInfo, signed: Vec<SignedLayer>) {
        let inv = &mut self.inventory;
        let digest = inv.digests.id(digest);
        let media_type = info.media_type.as_deref().map_or(NONE, |m| inv.names.id(m));
        let list = inv.lists.len() as u32;
        for tag in &info.tags {
            let id = inv.names.id(tag);
            inv.lists.push(id);
        }
        for child in &info.children {
            let id = inv.digests.id(child);
            inv.lists.push(id);
        }
        let plain = info.subject.is_none() && info.artifact_type.is_none() && info.layers.is_empty();
        let extra = if plain && signed.is_empty() {
            NONE
        } else {
            let layers = inv.lists.len() as u32;
            for layer in &info.layers {
                let id = inv.digests.id(layer);
                inv.lists.push(id);
            }
            inv.extras.push(Extra {
                subject: info.subject.as_deref().map_or(NONE, |s| inv.digests.id(s)),
                artifact_type: info.artifact_type.as_deref().map_or(NONE, |t| inv.names.id(t)),
                layers,
                count: info.layers.len() as u32,
                signed: if signed.is_empty() {
                    NONE
                } else {
                    inv.signed.push(signed.into_boxed_slice());
                    (inv.signed.len() - 1) as u32
                },
            });
            (inv.extras.len() - 1) as u32
        };
        if !inv.attachments {
            inv.attachments = extra != NONE || info.tags.iter().any(|t| crate::plan::is_attachment_tag(t));
        }
        inv.entries.push(Entry {
            digest,
            media_type,
            list,
            tags: info.tags.len() as u32,
            children: info.children.len() as u32,
            extra,
        });
    }

    /// Ends a repository whose entries are `entries[start..]`: sorted by digest id, and, as in a
    /// map, a digest listed twice keeps its last entry.
    fn repository(&mut self, path: String, start: usize) {
        let inv = &mut self.inventory;
        let entries = &mut inv.entries[start..];
        // Stable: of two entries of one digest, the later stays later.
        entries.sort_by_key(|e| e.digest);
        let mut kept = start;
        for i in start..inv.entries.len() {
            let last_of_digest =
                inv.entries.get(i + 1).is_none_or(|next| next.digest != inv.entries[i].digest);
            if last_of_digest {
                inv.entries[kept] = inv.entries[i];
                kept += 1;
            }
        }
        inv.entries.truncate(kept);
        inv.repos.push(Repo { path: path.into(), start: start as u32, end: kept as u32 });
    }

    /// Sorts the repositories by path; as in a map, a path listed twice keeps its last
    /// repository (the entries of the earlier one stay unused in `entries`).
    fn finish(mut self) -> CompactInventory {
        let repos = &mut self.inventory.repos;
        repos.sort_by(|a, b| a.path.cmp(&b.path));
        let mut kept: Vec<Repo> = Vec::with_capacity(repos.len());
        for repo in repos.drain(..) {
            match kept.last_mut() {
                Some(last) if last.path == repo.path => *last = repo,
                _ => kept.push(repo),
            }
        }
        *repos = kept;
        self.inventory.lists.shrink_to_fit();
        self.inventory.entries.shrink_to_fit();
        self.inventory.extras.shrink_to_fit();
        self.inventory.signed.shrink_to_fit();
        self.inventory
    }
}

impl From<&Inventory> for CompactInventory {
    fn from(inventory: &Inventory) -> Self {
        let mut builder = Builder::default();
        for (path, repo) in &inventory.repositories {
            let start = builder.inventory.entries.len();
            for (digest, info) in repo {
                builder.entry(digest, info, info.signed_layers.clone());
            }
            builder.repository(path.clone(), start);
        }
        builder.finish()
    }
}

// Streaming deserialization. Each level mirrors what `#[derive(Deserialize)]` and serde's
// `BTreeMap` impl do for `Inventory` (the same `expecting` texts, field errors and
// last-key-wins maps), so a bad document fails with the same message at the same position.
// Entries themselves are read with `ManifestInfo`'s own `Deserialize`.

/// The top level: `{"repositories": {...}}` (`struct Inventory` with one field).
struct Document;

impl<'de> DeserializeSeed<'de> for Document {
    type Value = CompactInventory;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CompactInventory, D::Error> {
        d.deserialize_struct("Inventory", &["repositories"], self)
    }
}

/// The field names of the top level, as serde derives them (`deny_unknown_fields`).
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Repositories,
}

impl<'de> Visitor<'de> for Document {
    type Value = CompactInventory;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Inventory")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CompactInventory, A::Error> {
        let mut builder = Builder::default();
        match seq.next_element_seed(Repositories(&mut builder))? {
            Some(()) => Ok(builder.finish()),
            None => Err(de::Error::invalid_length(0, &"struct Inventory with 1 element")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CompactInventory, A::Error> {
        let mut builder = Builder::default();
        let mut seen = false;
        while let Some(Field::Repositories) = map.next_key()? {
            if seen {
                return Err(de::Error::duplicate_field("repositories"));
            }
            map.next_value_seed(Repositories(&mut builder))?;
            seen = true;
        }
        if !seen {
            return Err(de::Error::missing_field("repositories"));
        }
        Ok(builder.finish())
    }
}

/// `repositories`: path -> repository.
struct Repositories<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for Repositories<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Repositories<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(path) = map.next_key::<String>()? {
            let start = self.0.inventory.entries.len();
            map.next_value_seed(Repository(&mut *self.0))?;
            self.0.repository(path, start);
        }
        Ok(())
    }
}

/// One repository: digest -> manifest info.
struct Repository<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for Repository<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Repository<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut digest = String::new();
        while map.next_key_seed(DigestKey(&mut digest))?.is_some() {
            let mut info: ManifestInfo = map.next_value()?;
            let signed = std::mem::take(&mut info.signed_layers);
            self.0.entry(&digest, &info, signed);
        }
        Ok(())
    }
}

/// A digest key, checked as [`super::valid`] checks it, read into a reused buffer.
struct DigestKey<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for DigestKey<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_string(self)
    }
}

impl Visitor<'_> for DigestKey<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        if !is_valid_digest(text) {
            return Err(super::valid::invalid_digest(text));
        }
        self.0.clear();
        self.0.push_str(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// The compact form holds what the typed form holds: per repository, per digest, the
    /// tags, media type and children.
    fn same(compact: &CompactInventory, typed: &Inventory) {
        assert_eq!(compact.len(), typed.repositories.len());
        for (path, repo) in &typed.repositories {
            let view = compact.repository(path).expect("repository");
            assert_eq!(view.entries().len(), repo.len(), "{path}");
            for (digest, info) in repo {
                let entry = view.get(compact.digest_id(digest)).expect("entry");
                let tags: Vec<&str> = view.tags(entry).iter().map(|&t| compact.name(t)).collect();
                assert_eq!(tags, info.tags, "{path}@{digest}");
                let children: Vec<&str> = view.children(entry).iter().map(|&c| compact.digest(c)).collect();
                assert_eq!(children, info.children);
                let media = (entry.media_type != NONE).then(|| compact.name(entry.media_type));
                assert_eq!(media, info.media_type.as_deref());
                let subject = view.subject(entry).map(|s| compact.digest(s));
                assert_eq!(subject, info.subject.as_deref());
                let artifact = view.artifact_type(entry).map(|t| compact.name(t));
                assert_eq!(artifact, info.artifact_type.as_deref());
                let layers: Vec<&str> = view.layers(entry).iter().map(|&l| compact.digest(l)).collect();
                assert_eq!(layers, info.layers);
                assert_eq!(view.signed_layers(entry), info.signed_layers.as_slice());
            }
        }
    }

    #[test]
    fn streamed_json_and_typed_inventory_agree() {
        let b_hex = &B[7..];
        let text = format!(
            r#"{{"repositories": {{
                "r.io/b": {{"{B}": {{"tags": ["1.0", "latest"]}}, "{A}": {{}}}},
                "r.io/s": {{"{A}": {{"tags": ["sha256-{b_hex}.sig"], "layers": ["{B}", "{A}"],
                                     "signedLayers": [{{"mediaType": "m", "digest": "{B}", "data": "e30=",
                                                       "annotations": {{"k": "v"}}}}]}},
                            "{B}": {{"subject": "{A}", "artifactType": "application/spdx+json"}}}},
                "r.io/a": {{"{A}": {{"mediaType": "application/vnd.oci.image.index.v1+json", "children": ["{B}"]}}}},
                "r.io/empty": {{}}
            }}}}"#
        );
        let typed = Inventory::from_json(&text).expect("typed");
        let streamed = CompactInventory::from_json_reader(text.as_bytes()).expect("streamed");
        same(&streamed, &typed);
        same(&CompactInventory::from(&typed), &typed);
        assert!(streamed.repository("r.io").is_none());
        assert!(streamed.repository("r.io/empty").is_some_and(|r| r.entries().is_empty()));
    }

    #[test]
    fn a_key_listed_twice_keeps_its_last_value_as_in_a_map() {
        let text = format!(
            r#"{{"repositories": {{
                "r.io/x": {{"{A}": {{"tags": ["old"]}}, "{B}": {{}}, "{A}": {{"tags": ["new"]}}}},
                "r.io/y": {{"{A}": {{}}}},
                "r.io/x": {{"{B}": {{"tags": ["b"]}}, "{A}": {{"tags": ["newest"]}}}}
            }}}}"#
        );
        let typed = Inventory::from_json(&text).expect("typed");
        same(&CompactInventory::from_json(&text).expect("compact"), &typed);
        assert_eq!(typed.repositories["r.io/x"][A].tags, ["newest"]);
    }

    #[test]
    fn errors_are_the_typed_readers_errors() {
        let digest = "sha256:".to_owned() + &"a".repeat(64);
        let bad = [
            String::new(),
            "{\"repositories\": {}\n".to_owned(),
            "[]".to_owned(),
            "{}".to_owned(),
            "{\"repositories\": {}, \"repositories\": {}}".to_owned(),
            "{\"repositories\": {}, \"extra\": 1}".to_owned(),
            "{\"repositories\": []}".to_owned(),
            "{\"repositories\": {\"a\": []}}".to_owned(),
            "{\"repositories\": {\"a\": {\"sha256:600d\": {}}}}".to_owned(),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"tagz\": []}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"tags\": [\"a\", \"a\"]}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"tags\": [\"bad tag\"]}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"children\": [\"x\"]}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"subject\": \"latest\"}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"layers\": [\"sha256:ab\"]}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"artifactType\": 1}}}}}}}}"),
            format!(
                "{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"signedLayers\": [{{\"x\": 1}}]}}}}}}}}"
            ),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": {{\"signedLayers\": {{}}}}}}}}}}"),
            format!("{{\"repositories\": {{\"a\": {{\"{digest}\": 3}}}}}}"),
            "{\"repositories\": {}} trailing".to_owned(),
            "[{}, 1]".to_owned(),
        ];
        for text in bad {
            let typed = Inventory::from_json(&text).expect_err(&text);
            let compact = CompactInventory::from_json(&text).expect_err(&text);
            assert_eq!(
                (compact.line, compact.column, &compact.message),
                (typed.line, typed.column, &typed.message),
                "{text}"
            );
            // serde_json's streaming reader counts a byte it only peeked at, so its column can be
            // one further (callers wanting the exact column re-read the text on error).
            let streamed = CompactInventory::from_json_reader(text.as_bytes()).expect_err(&text);
            assert_eq!((streamed.line, &streamed.message), (typed.line, &typed.message), "{text}");
            assert!(streamed.column - typed.column <= 1, "{text}");
        }
        // A document the typed reader accepts as an array is accepted alike.
        let text = format!("[{{\"a\": {{\"{digest}\": {{}}}}}}]");
        same(
            &CompactInventory::from_json(&text).expect("compact"),
            &Inventory::from_json(&text).expect("typed"),
        );
    }
}

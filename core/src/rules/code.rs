//! [`Code`]: every finding code cip emits, in one enum. The wire form (JSON `code`, SARIF
//! `ruleId`, plan `blocked[].reasons`) is the kebab-case name, e.g. `tag-move`; it is stable, and
//! the README's code tables list exactly these names (a test in this module checks both ways).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Severity;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $severity:ident;)*) => {
        /// A stable finding code. Each has one severity ([`Code::severity`]); [`Code::ALL`] lists
        /// them in the order of the README's tables. Ordering and comparison follow the kebab-case
        /// name, so sorted codes read the same as sorted strings (findings and plan reasons are
        /// sorted that way).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Code {
            /// Every code, in the order of the README's tables.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The kebab-case name: the JSON form, e.g. `"tag-move"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The severity of every finding with this code. Warnings are what the Go promoter
            /// accepts and promotes as written, and what is reported but never acted on (a
            /// removal since the base).
            pub const fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

// One line per code: variant, wire name, severity. The enum, `ALL`, `as_str` and `severity` are
// generated from this list, so they cannot disagree.
codes! {
    /// The file is not valid YAML.
    YamlSyntax = "yaml-syntax", Error;
    /// The file is over the size limit ([`crate::yaml::MAX_FILE_BYTES`]).
    YamlTooLarge = "yaml-too-large", Error;
    /// Collections nest deeper than [`crate::yaml::MAX_DEPTH`].
    YamlTooDeep = "yaml-too-deep", Error;
    /// Alias expansion makes the document larger than [`crate::yaml::MAX_NODES`].
    YamlTooManyNodes = "yaml-too-many-nodes", Error;
    /// A second `---` document in one file.
    YamlMultipleDocuments = "yaml-multiple-documents", Error;
    /// A key the schema does not have.
    UnknownKey = "unknown-key", Error;
    /// A value of the wrong type.
    WrongType = "wrong-type", Error;
    /// A key written twice in one mapping.
    DuplicateKey = "duplicate-key", Error;
    /// A digest written twice in one `dmap`.
    DigestDuplicate = "digest-duplicate", Error;
    /// The manifest has no `registries` key.
    RegistriesMissing = "registries-missing", Error;
    /// `registries` is an empty list.
    RegistriesEmpty = "registries-empty", Error;
    /// A registry entry without `name`.
    RegistryNameMissing = "registry-name-missing", Error;
    /// An image entry without `name`.
    ImageNameMissing = "image-name-missing", Error;
    /// An image entry without `dmap`.
    DmapMissing = "dmap-missing", Error;
    /// An empty `dmap`.
    DmapEmpty = "dmap-empty", Error;
    /// No registry is marked `src: true`.
    SourceRegistryMissing = "source-registry-missing", Error;
    /// More than one registry is marked `src: true`.
    SourceRegistryMultiple = "source-registry-multiple", Error;
    /// The original schema's `src-registry` names a registry `registries` does not list.
    SrcRegistryUnknown = "src-registry-unknown", Error;
    /// The original schema's `src-registry` disagrees with a `src: true` entry.
    SrcRegistryConflict = "src-registry-conflict", Error;
    /// The original schema's `src-registry`: accepted, the current form suggested.
    SrcRegistryLegacy = "src-registry-legacy", Warning;
    /// A registry name that is not `host[:port][/path]` (or `oci:DIR`).
    RegistryNameInvalid = "registry-name-invalid", Error;
    /// A registry listed twice in one manifest.
    RegistryRepeated = "registry-repeated", Warning;
    /// An image name that is not a repository path.
    ImageNameInvalid = "image-name-invalid", Error;
    /// A digest that is not `sha256:` + 64 lowercase hex digits.
    DigestInvalid = "digest-invalid", Error;
    /// A tag that is not `^\w[\w.-]{0,127}$`.
    TagInvalid = "tag-invalid", Error;
    /// One tag given to two digests of one image.
    TagConflict = "tag-conflict", Error;
    /// Different digests promoted to one destination `registry/image:tag`.
    DestinationOverlap = "destination-overlap", Error;
    /// The same image name listed twice in one file.
    ImageRepeated = "image-repeated", Warning;
    /// The same tag twice in one digest's list.
    TagRepeated = "tag-repeated", Warning;
    /// An unquoted tag a YAML reader may turn into a number or boolean.
    TagUnquoted = "tag-unquoted", Warning;
    /// A source registry but no destination.
    NoDestinations = "no-destinations", Warning;
    /// A thin directory without `manifests/`.
    ThinManifestsDirMissing = "thin-manifests-dir-missing", Error;
    /// A thin directory without `images/`.
    ThinImagesDirMissing = "thin-images-dir-missing", Error;
    /// A `promoter-manifest.yaml` under `manifests/` at the wrong depth.
    ThinManifestMisplaced = "thin-manifest-misplaced", Error;
    /// A `promoter-manifest.yaml` under `images/`: never read, as in the Go promoter.
    ThinManifestInImages = "thin-manifest-in-images", Warning;
    /// A thin manifest without its `images/<x>/images.yaml`.
    ThinImagesFileMissing = "thin-images-file-missing", Error;
    /// A thin directory with no manifests.
    ThinNoManifests = "thin-no-manifests", Error;
    /// An `images.yaml` no manifest reads.
    ThinImagesOrphan = "thin-images-orphan", Warning;
    /// A `manifests/<x>/` folder without its `promoter-manifest.yaml`.
    ThinManifestMissing = "thin-manifest-missing", Warning;
    /// A `promoter-manifest.yaml` outside `manifests/` and `images/`.
    ThinManifestIgnored = "thin-manifest-ignored", Warning;
    /// `imagesPath` pointing elsewhere than where the images are read from.
    ImagesPathIgnored = "images-path-ignored", Warning;
    /// A PATH argument that cannot be read (missing, not text, a directory where a file is
    /// needed). Made by the front ends that read files, so that their JSON output always has
    /// the report's shape.
    ReadError = "read-error", Error;
    /// Planning: the digest is not in the source repository.
    Lost = "lost", Error;
    /// Planning: the destination tag points at another digest.
    TagMove = "tag-move", Error;
    /// Planning: a repository the plan needs is not in the inventory.
    InventoryMissing = "inventory-missing", Error;
    /// Delta planning: an entry removed since the base.
    EntryRemoved = "entry-removed", Warning;
    /// Delta planning: a tag removed since the base.
    TagRemoved = "tag-removed", Warning;
    /// Planning: attachments of attachments nest deeper than cip follows
    /// ([`crate::plan::MAX_ATTACHMENT_DEPTH`]); the deeper ones are not promoted.
    AttachmentTooDeep = "attachment-too-deep", Warning;
    /// Attachment audit: a source attachment of a promoted digest is not in a destination.
    AttachmentMissing = "attachment-missing", Error;
    /// Trust gate: a source signature is present but does not verify (payload digest, signature,
    /// certificate chain, log entry or policy identity); blocks that digest's edges.
    SignatureInvalid = "signature-invalid", Error;
    /// Trust gate (`--require-signature`): the source digest has no signature; blocks its edges.
    SignatureMissing = "signature-missing", Error;
    /// Trust gate: a source attestation is present but does not verify; blocks its edges.
    AttestationInvalid = "attestation-invalid", Error;
    /// Trust gate (`--require-attestation`): no verified attestation of a required predicate type.
    AttestationMissing = "attestation-missing", Error;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The name is not a finding code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding code `{0}`")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    /// Parses a kebab-case name (`"tag-move"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

// Ordered by name, not by declaration: findings are sorted by code, and the output must stay what
// it was when codes were strings.
impl Ord for Code {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

// `d.code == "tag-move"` keeps working for callers that compared strings.
impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_wire_form_is_the_name() {
        for &code in Code::ALL {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<Code>(&format!("\"{code}\"")).unwrap(), code);
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
        }
        assert!("strict".parse::<Code>().is_err());
    }

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')), "{names:?}");
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn codes_sort_as_their_names() {
        let mut codes = Code::ALL.to_vec();
        codes.sort();
        let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    /// The README's code tables (under "### Diagnostics" and the plan's findings) and this enum
    /// agree: every code is listed, every listed code exists, and the severities match.
    #[test]
    fn readme_tables_match_the_enum() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        let listed = readme_codes(readme);
        assert!(!listed.is_empty(), "no code tables found in README.md");
        for &code in Code::ALL {
            let Some(severities) = listed.get(code.as_str()) else {
                panic!("README.md's code tables do not list `{code}`");
            };
            for severity in severities {
                assert_eq!(*severity, code.severity(), "README.md gives `{code}` another severity");
            }
        }
        for name in listed.keys() {
            assert!(name.parse::<Code>().is_ok(), "README.md lists `{name}`, which is not a Code");
        }
    }

    /// Code name -> severities given in README tables whose header is `| code | severity | ... |`.
    fn readme_codes(readme: &str) -> BTreeMap<String, Vec<Severity>> {
        let mut out: BTreeMap<String, Vec<Severity>> = BTreeMap::new();
        let mut in_table = false;
        for line in readme.lines() {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            if !line.trim_start().starts_with('|') {
                in_table = false;
                continue;
            }
            if cells.len() >= 2 && cells[0] == "code" && cells[1] == "severity" {
                in_table = true;
                continue;
            }
            if !in_table || cells.len() < 2 || cells[0].starts_with("---") {
                continue;
            }
            let severity = match cells[1].split_whitespace().next() {
                Some("error") => Severity::Error,
                Some("warning") => Severity::Warning,
                other => panic!("README.md: unknown severity {other:?} in: {line}"),
            };
            for name in cells[0].split('`').skip(1).step_by(2) {
                out.entry(name.to_owned()).or_default().push(severity);
            }
        }
        out
    }
}

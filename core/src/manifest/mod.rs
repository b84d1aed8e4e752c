//! The manifest model: registries (one source, the rest destinations) and images, each image a
//! name and a `dmap` of digest to tags. Every value keeps the file and span it was read from, so
//! any later finding (lint, plan) can point at it.

mod read;
pub(crate) mod thin;

pub use read::read_plain;
pub(crate) use read::{Reader, other_reading, yaml_bool};
pub use thin::{ThinDir, infer_thin_dirs, thin_layout};

use crate::files::FileId;
use crate::source::Span;

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// The file it was read from.
    pub file: FileId,
    /// Its byte span in that file.
    pub span: Span,
}

/// One entry of `registries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port][/path]`, or `oci:DIR` for a local OCI image layout.
    pub name: Spanned<String>,
    /// True for the source (staging) registry.
    pub src: bool,
    /// The account to act as for this registry (Google service account e-mail).
    pub service_account: Option<Spanned<String>>,
}

/// One digest of an image and the tags it should carry (empty: promote by digest only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestEntry {
    /// `sha256:<64 hex>`.
    pub digest: Spanned<String>,
    /// Tags, exactly as written.
    pub tags: Vec<Spanned<String>>,
}

/// One entry of `images`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Repository path relative to each registry name.
    pub name: Spanned<String>,
    /// Digests in source order.
    pub dmap: Vec<DigestEntry>,
}

/// One manifest: a plain file, or a thin pair (registries file + images file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The file holding `registries`.
    pub file: FileId,
    /// The file holding `images` when it is a separate one (thin layout).
    pub images_file: Option<FileId>,
    /// The `registries` key in `file` (empty at the file start when the key is missing), where
    /// findings about the registry list as a whole point.
    pub registries_span: Span,
    /// Registries in source order.
    pub registries: Vec<Registry>,
    /// The original schema's top-level `src-registry: NAME`, when the file has one (the named
    /// registry, if listed, is marked `src`).
    pub src_registry: Option<Spanned<String>>,
    /// Images in source order.
    pub images: Vec<Image>,
}

impl Manifest {
    /// The single source registry, or `None` when there is none or more than one (a finding).
    pub fn source(&self) -> Option<&Registry> {
        let mut sources = self.registries.iter().filter(|r| r.src);
        let first = sources.next()?;
        sources.next().is_none().then_some(first)
    }

    /// Every registry that is not the source.
    pub fn destinations(&self) -> impl Iterator<Item = &Registry> {
        self.registries.iter().filter(|r| !r.src)
    }
}

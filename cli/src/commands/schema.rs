//! `cip schema [plain|thin-manifest|thin-images]`: prints the JSON Schema (draft 2020-12) of one
//! kind of manifest file, for yaml-language-server (completion and hover in editors) and
//! SchemaStore. The schemas are files in the repository (`core/schema/*.schema.json`, checked
//! against every lint vector by `tests/schema/validate.py` with Python `jsonschema`), embedded
//! here unchanged so the printed text is exactly the published file.

use std::io::Write;

use anyhow::Context;

use super::ExitStatus;

/// Which manifest file the schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SchemaKind {
    /// A plain manifest file (`registries` and `images` in one file).
    Plain,
    /// A thin directory's `manifests/<x>/promoter-manifest.yaml` (registries only).
    ThinManifest,
    /// A thin directory's `images/<x>/images.yaml` (a bare list of images).
    ThinImages,
}

impl SchemaKind {
    /// The schema's text, as committed in `core/schema/`.
    pub(crate) fn text(self) -> &'static str {
        match self {
            SchemaKind::Plain => include_str!("../../../core/schema/plain-manifest.schema.json"),
            SchemaKind::ThinManifest => include_str!("../../../core/schema/thin-manifest.schema.json"),
            SchemaKind::ThinImages => include_str!("../../../core/schema/thin-images.schema.json"),
        }
    }
}

/// Arguments of `cip schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    /// The file kind. Point yaml-language-server at the result with a first line
    /// `# yaml-language-server: $schema=PATH-OR-URL`.
    #[arg(value_enum, default_value = "plain")]
    kind: SchemaKind,
}

/// Prints the schema on stdout.
pub(crate) fn run(args: SchemaArgs) -> anyhow::Result<ExitStatus> {
    std::io::stdout().lock().write_all(args.kind.text().as_bytes()).context("writing output")?;
    Ok(ExitStatus::Clean)
}

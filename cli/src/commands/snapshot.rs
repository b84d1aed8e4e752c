//! `cip snapshot`: the `images:` list of a registry in the Go promoter's format, from an
//! inventory (`--inventory FILE REGISTRY`) or from manifests (`--from-manifests DEST PATH...`).

use std::io::Write;

use crate::planning;
use anyhow::{Context, bail};
use cip_core::snapshot::SnapshotOptions;
use cip_core::wire::SnapshotFormat;

use super::ExitStatus;

/// Arguments of `cip snapshot`.
#[derive(Debug, clap::Args)]
pub(crate) struct SnapshotArgs {
    /// Registry state as an inventory JSON document.
    #[arg(long, value_name = "FILE", conflicts_with = "from_manifests")]
    inventory: Option<String>,
    /// Snapshot what the manifests (the PATH arguments) would place in this destination.
    #[arg(long, value_name = "DEST")]
    from_manifests: Option<String>,
    /// Output format.
    #[arg(long, default_value = "yaml", value_parser = output_format())]
    output: SnapshotFormat,
    /// Leave out untagged digests that an index lists (not with --from-manifests: manifests do not
    /// say which digests are index children).
    #[arg(long)]
    minimal: bool,
    /// Keep only digests carrying this tag.
    #[arg(long, value_name = "T")]
    snapshot_tag: Option<String>,
    /// With `--inventory`: the registry to snapshot. With `--from-manifests`: manifest files and
    /// thin manifest directories. With neither: the registry (`REGISTRY[/PREFIX]`) is read.
    #[arg(required = true, value_name = "REGISTRY|PATH")]
    targets: Vec<String>,
    #[command(flatten)]
    online: super::online::OnlineArgs,
}

/// Runs `cip snapshot`.
pub(crate) fn run(args: SnapshotArgs) -> anyhow::Result<ExitStatus> {
    let options = SnapshotOptions { minimal: args.minimal, snapshot_tag: args.snapshot_tag.clone() };
    let (snapshot, status) = match (&args.inventory, &args.from_manifests) {
        (Some(file), None) => {
            let [registry] = args.targets.as_slice() else {
                bail!("cip snapshot --inventory FILE takes exactly one REGISTRY, got {}", args.targets.len());
            };
            let inventory = planning::read_inventory(file)?;
            (cip_core::snapshot::snapshot(&inventory, registry, &options), ExitStatus::Clean)
        }
        (None, Some(dest)) => {
            if args.minimal {
                bail!(
                    "--minimal cannot be used with --from-manifests: manifests do not say which digests are index children, so nothing could be left out; snapshot the registry itself (`cip snapshot --minimal REGISTRY`, or `--inventory FILE`)"
                );
            }
            let set = planning::load_paths(&args.targets).context("reading manifests")?;
            let snapshot = cip_core::snapshot::snapshot_manifests(&set, dest, &options);
            let errors = set.has_errors();
            if !set.diagnostics.is_empty() {
                let text = crate::render::diagnostics_human(&set.diagnostics, &set.files, false);
                std::io::stderr().lock().write_all(text.as_bytes()).context("writing findings")?;
            }
            (snapshot, if errors { ExitStatus::Findings } else { ExitStatus::Clean })
        }
        (None, None) => {
            let [registry] = args.targets.as_slice() else {
                bail!(
                    "cip snapshot REGISTRY[/PREFIX] takes exactly one registry, got {}",
                    args.targets.len()
                );
            };
            let inventory = super::online::read(&args.online, super::online::Read::Prefix(registry))?;
            (
                cip_core::snapshot::snapshot(&inventory, registry.trim_end_matches('/'), &options),
                ExitStatus::Clean,
            )
        }
        _ => bail!("cip snapshot needs either --inventory FILE REGISTRY or --from-manifests DEST PATH..."),
    };
    let text = args.output.render(&snapshot);
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
    Ok(status)
}

/// The `--output` values: the formats every front end names alike (`cip_core::wire`).
fn output_format() -> impl clap::builder::TypedValueParser<Value = SnapshotFormat> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(SnapshotFormat::NAMES)
        .map(|name| name.parse::<SnapshotFormat>().expect("one of the names"))
}

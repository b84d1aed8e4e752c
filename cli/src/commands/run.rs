//! `cip run`: the Go promoter's invocation (`kpromo cip ...`, `cip run ...`), mapped onto cip's
//! own commands so an existing CI job switches by changing the binary name.
//!
//! | Go promoter | cip |
//! |---|---|
//! | `--manifest F` / `--thin-manifest-dir D` [`--confirm`] | `cip promote [--confirm] F\|D` |
//! | `--parse-only` | `cip lint F\|D` |
//! | `--snapshot R [--snapshot-tag T] [--minimal-snapshot] [--output O]` | `cip snapshot ... R` |
//! | `--manifest-based-snapshot-of R` + manifests | `cip snapshot --from-manifests R ...` |
//!
//! Flags are parsed by hand rather than with clap because Go's `flag`/cobra syntax differs:
//! single-dash long flags (`-manifest`), and booleans written `--confirm=false`. Flags of the Go
//! promoter that cip does not implement (signing, vulnerability checks, manifest diffs, service
//! account switches) are refused with a message, never silently ignored.

use anyhow::{Context, bail};
use clap::Parser;

use super::{Cli, ExitStatus};

/// Arguments of `cip run` (Go promoter flags, taken verbatim).
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The Go promoter's flags: --manifest, --thin-manifest-dir, --confirm, --parse-only,
    /// --snapshot, --snapshot-tag, --minimal-snapshot, --output, --manifest-based-snapshot-of.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO-FLAGS")]
    flags: Vec<String>,
}

/// Flags that take a value.
const VALUE_FLAGS: &[&str] =
    &["manifest", "thin-manifest-dir", "snapshot", "snapshot-tag", "output", "manifest-based-snapshot-of"];
/// Boolean flags cip implements.
const BOOL_FLAGS: &[&str] = &["confirm", "parse-only", "minimal-snapshot"];
/// Flags accepted and reported as having no effect (they change nothing in the Go promoter either,
/// or only its log verbosity).
const NO_EFFECT: &[&str] = &["max-image-size", "log-level"];

/// Go promoter flags cip refuses, with why / what to do instead.
const REFUSED: &[(&str, &str)] = &[
    ("sign", "cip does not sign images; sign with cosign after promotion (--sign=false is accepted)"),
    ("signer-account", "cip does not sign images"),
    ("certificate-identity", "cip does not sign or verify signatures"),
    ("certificate-identity-regexp", "cip does not sign or verify signatures"),
    ("certificate-oidc-issuer", "cip does not sign or verify signatures"),
    ("certificate-oidc-issuer-regexp", "cip does not sign or verify signatures"),
    ("max-signature-ops", "cip does not sign images"),
    ("max-signature-copies", "cip does not copy signatures"),
    ("vuln-severity-threshold", "cip does not scan for vulnerabilities"),
    ("use-prow-manifest-diff", "plan the delta with `cip plan --base PATH` instead"),
    ("manifest-diff-since", "use `cip plan --base PATH` with the manifests of that date instead"),
    ("threads", "cip bounds parallelism itself; use `cip promote --jobs N`"),
    ("json-log-summary", "use `cip promote --format json`"),
    ("use-service-account", "cip honours each registry's service-account field from the manifest"),
    ("key-files", "use Google application default credentials (GOOGLE_APPLICATION_CREDENTIALS)"),
    ("snapshot-service-account", "use Google application default credentials"),
    ("dry-run", "cip is a dry run unless --confirm is given"),
    ("audit", "use `cip audit PATH...`"),
];

/// A parsed Go flag set.
#[derive(Debug, Default, PartialEq, Eq)]
struct GoFlags {
    values: std::collections::BTreeMap<String, String>,
    bools: std::collections::BTreeMap<String, bool>,
    notes: Vec<String>,
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" | "t" | "T" | "TRUE" | "True" => Ok(true),
        "false" | "0" | "f" | "F" | "FALSE" | "False" => Ok(false),
        other => bail!("--{name}={other}: expected true or false"),
    }
}

fn parse(flags: &[String]) -> anyhow::Result<GoFlags> {
    let mut out = GoFlags::default();
    let mut args = flags.iter();
    while let Some(arg) = args.next() {
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            bail!(
                "unexpected argument `{arg}`: the Go promoter takes manifests through --manifest or --thin-manifest-dir"
            );
        };
        let (name, inline) = body.split_once('=').map_or((body, None), |(n, v)| (n, Some(v)));
        if VALUE_FLAGS.contains(&name) || NO_EFFECT.contains(&name) {
            let value = match inline {
                Some(v) => v.to_owned(),
                None => args.next().with_context(|| format!("--{name} needs a value"))?.clone(),
            };
            if NO_EFFECT.contains(&name) {
                out.notes.push(format!("--{name} has no effect in cip (ignored)"));
            } else {
                out.values.insert(name.to_owned(), value);
            }
        } else if BOOL_FLAGS.contains(&name) {
            out.bools.insert(name.to_owned(), inline.map_or(Ok(true), |v| parse_bool(name, v))?);
        } else if name == "sign" && inline.map(|v| parse_bool(name, v)).transpose()? == Some(false) {
            // Not signing is what cip does anyway.
        } else if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
            bail!("--{name} is a Go promoter flag that cip does not implement: {why}");
        } else {
            bail!("unknown flag --{name} (cip run accepts the Go promoter's flags; see `cip run --help`)");
        }
    }
    Ok(out)
}

/// The cip command line equivalent to a Go promoter invocation.
fn translate(go: &GoFlags) -> anyhow::Result<Vec<String>> {
    let flag = |n: &str| go.bools.get(n).copied().unwrap_or(false);
    let value = |n: &str| go.values.get(n).cloned();
    let mut paths: Vec<String> = Vec::new();
    paths.extend(value("manifest"));
    paths.extend(value("thin-manifest-dir"));
    let mut argv = vec!["cip".to_owned()];
    let snapshot_options = |argv: &mut Vec<String>| {
        if let Some(tag) = value("snapshot-tag") {
            argv.extend(["--snapshot-tag".to_owned(), tag]);
        }
        if flag("minimal-snapshot") {
            argv.push("--minimal".to_owned());
        }
        argv.extend(["--output".to_owned(), value("output").unwrap_or_else(|| "yaml".to_owned())]);
    };
    if let Some(registry) = value("snapshot") {
        argv.push("snapshot".to_owned());
        snapshot_options(&mut argv);
        argv.push(registry);
    } else if let Some(registry) = value("manifest-based-snapshot-of") {
        if paths.is_empty() {
            bail!("--manifest-based-snapshot-of needs --manifest or --thin-manifest-dir");
        }
        argv.extend(["snapshot".to_owned(), "--from-manifests".to_owned(), registry]);
        snapshot_options(&mut argv);
        argv.extend(paths);
    } else {
        if paths.is_empty() {
            bail!("cip run needs --manifest FILE or --thin-manifest-dir DIR (or --snapshot REGISTRY)");
        }
        if flag("parse-only") {
            argv.push("lint".to_owned());
        } else {
            argv.push("promote".to_owned());
            if flag("confirm") {
                argv.push("--confirm".to_owned());
            }
        }
        argv.extend(paths);
    }
    Ok(argv)
}

/// Runs `cip run`.
pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitStatus> {
    let go = parse(&args.flags)?;
    for note in &go.notes {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("cip: note: {note}");
        }
    }
    let argv = translate(&go)?;
    let cli = Cli::try_parse_from(&argv).with_context(|| format!("mapping onto `{}`", argv.join(" ")))?;
    super::run(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cip(args: &[&str]) -> anyhow::Result<String> {
        let flags: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        Ok(translate(&parse(&flags)?)?.join(" "))
    }

    #[test]
    fn promotion_flags_map_onto_promote() {
        assert_eq!(
            cip(&["--thin-manifest-dir=k8s.gcr.io", "--confirm"]).unwrap(),
            "cip promote --confirm k8s.gcr.io"
        );
        assert_eq!(cip(&["-manifest", "m.yaml"]).unwrap(), "cip promote m.yaml");
        assert_eq!(cip(&["--manifest", "m.yaml", "--confirm=false"]).unwrap(), "cip promote m.yaml");
        assert_eq!(cip(&["--manifest=m.yaml", "--parse-only"]).unwrap(), "cip lint m.yaml");
        assert_eq!(cip(&["--manifest=m.yaml", "--sign=false"]).unwrap(), "cip promote m.yaml");
    }

    #[test]
    fn snapshot_flags_map_onto_snapshot() {
        assert_eq!(
            cip(&["--snapshot", "gcr.io/foo", "--minimal-snapshot", "--output=csv"]).unwrap(),
            "cip snapshot --minimal --output csv gcr.io/foo"
        );
        assert_eq!(
            cip(&["--manifest-based-snapshot-of=gcr.io/p", "--manifest", "m.yaml", "--snapshot-tag", "v1"])
                .unwrap(),
            "cip snapshot --from-manifests gcr.io/p --snapshot-tag v1 --output yaml m.yaml"
        );
    }

    #[test]
    fn unimplemented_flags_are_refused() {
        for refused in ["--sign", "--vuln-severity-threshold=2", "--threads=10", "--use-prow-manifest-diff"] {
            let err = cip(&["--manifest=m.yaml", refused]).unwrap_err().to_string();
            assert!(err.contains("does not implement"), "{refused}: {err}");
        }
        assert!(cip(&["--bogus"]).unwrap_err().to_string().contains("unknown flag"));
        assert!(cip(&["--confirm"]).is_err(), "no manifest");
    }
}

//! `cip run`: the Go promoter's invocation (`kpromo cip ...`, `cip run ...`), mapped onto cip's
//! own commands so an existing CI job switches by changing the binary name.
//!
//! | Go promoter | cip |
//! |---|---|
//! | `--manifest F` / `--thin-manifest-dir D` [`--confirm`] | `cip promote [--confirm] F\|D` |
//! | `--parse-only` | `cip lint F\|D` |
//! | `--snapshot R [--snapshot-tag T] [--minimal-snapshot] [--output O]` | `cip snapshot ... R` |
//! | `--manifest-based-snapshot-of R` + manifests | `cip snapshot --from-manifests R ...` |
//! | `--use-prow-manifest-diff`, `--manifest-diff-since=D` | `cip promote --base-rev REV ...` |
//! | `--sign`, `--signer-account SA`, `--max-signature-ops N` | `cip promote --sign --signature-format legacy --signer-account SA --max-signature-ops N` |
//! | `--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]` | the same `cip promote` flags (staging signatures verified before promoting) |
//!
//! Signing follows the Go promoter's default (`--sign` on) when signing credentials are there: a
//! `--signer-account`, an `--identity-token` or `--sign-key` (cip's own flags, accepted here
//! too), or GitHub Actions' ambient ID token. Otherwise a confirmed promotion says once that
//! images are promoted unsigned; an explicit `--sign` without credentials is an error. The
//! format is the Go promoter's (cosign's legacy `.sig` tags) unless `--signature-format` says
//! otherwise.
//!
//! Flags are parsed by hand rather than with clap because Go's `flag`/cobra syntax differs:
//! single-dash long flags (`-manifest`), and booleans written `--confirm=false`. Flags of the Go
//! promoter that cip does not implement (vulnerability checks, service account switches) are
//! refused with a message, never silently ignored.

use anyhow::{Context, bail};
use clap::Parser;

use super::{Cli, ExitStatus};

/// Arguments of `cip run` (Go promoter flags, taken verbatim).
#[derive(Debug, clap::Args)]
#[command(after_help = GO_FLAGS_HELP)]
pub(crate) struct RunArgs {
    /// The Go promoter's flags: --manifest, --thin-manifest-dir, --confirm, --parse-only,
    /// --snapshot, --snapshot-tag, --minimal-snapshot, --output, --manifest-based-snapshot-of.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "GO-FLAGS")]
    flags: Vec<String>,
}

/// Flags that take a value (`output-format` is the 2019-2020 spelling of `output`; `verbosity` and
/// `v` are the old Go log levels).
const VALUE_FLAGS: &[&str] = &[
    "manifest",
    "thin-manifest-dir",
    "snapshot",
    "snapshot-tag",
    "output",
    "output-format",
    "manifest-based-snapshot-of",
    "manifest-diff-since",
    "verbosity",
    "v",
    "threads",
    "signer-account",
    "certificate-identity",
    "certificate-identity-regexp",
    "certificate-oidc-issuer",
    "certificate-oidc-issuer-regexp",
    "max-signature-ops",
    // cip's own signing and verification flags, accepted here too.
    "identity-token",
    "sign-key",
    "trusted-root",
    "fulcio-url",
    "rekor-url",
    "signing-identity",
    "signature-format",
];
/// Boolean flags cip implements (`dry-run` is checked against `--confirm`).
const BOOL_FLAGS: &[&str] = &[
    "confirm",
    "parse-only",
    "minimal-snapshot",
    "strict",
    "dry-run",
    "use-prow-manifest-diff",
    "sign",
    "attest-promotion",
];
/// Refused flags whose value can mean "off" (what cip does anyway): booleans set to false, and
/// these value flags at their off value.
const REFUSED_BOOLS: &[&str] = &["use-service-account", "json-log-summary", "audit"];
/// Whether a flag's value means "off".
type IsOff = fn(&str) -> bool;
/// Refused value flags and whether a value is their "off" value.
const REFUSED_VALUES: &[(&str, IsOff)] = &[
    ("vuln-severity-threshold", |v| v.trim().parse::<i64>().is_ok_and(|n| n < 0)),
    ("key-files", str::is_empty),
    ("snapshot-service-account", str::is_empty),
];
/// Every Go promoter flag `cip run` knows, so a Go-style command line without a subcommand
/// (`cip -manifest=m.yaml`) is recognised as one.
pub(crate) fn is_go_flag(arg: &str) -> bool {
    let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else { return false };
    let name = body.split_once('=').map_or(body, |(n, _)| n);
    VALUE_FLAGS.contains(&name)
        || BOOL_FLAGS.contains(&name)
        || NO_EFFECT.contains(&name)
        || REFUSED.iter().any(|(n, _)| *n == name)
}

/// What `cip run --help` says about every Go promoter flag.
pub(crate) const GO_FLAGS_HELP: &str = "\
Go promoter flags (single or double dash; booleans as --flag or --flag=true|false):
  --manifest F                 promote (dry run) the manifest file F: `cip promote F`
  --thin-manifest-dir D        promote the thin manifest directory D: `cip promote D`;
                               with --manifest too, only --manifest is used (as in Go), with a warning
  --confirm                    promote for real: `cip promote --confirm` (signed when credentials are there)
  --dry-run[=true]             what cip does without --confirm (accepted); --dry-run=false needs --confirm
  --parse-only                 `cip lint`
  --strict                     `cip promote --strict`: any error blocks every action
  --snapshot R                 `cip snapshot R`
  --snapshot-tag T             `cip snapshot --snapshot-tag T`
  --minimal-snapshot           `cip snapshot --minimal` (refused with --manifest-based-snapshot-of)
  --output yaml|csv            `cip snapshot --output` (any case); -output-format is the old spelling
  --manifest-based-snapshot-of R  `cip snapshot --from-manifests R`
  -verbosity N, -v N           log level: -verbosity 2 is -v, 3 is -vvv; -v N gives N times -v (up to 3)
  --max-image-size, --log-level, --max-signature-copies  accepted, no effect
  --use-service-account=false, --json-log-summary=false, --audit=false,
  --vuln-severity-threshold=-1 (any negative), --key-files=, --snapshot-service-account=
                               off: what cip does anyway (accepted)
  --sign[=true|false]          sign after promoting (`cip promote --sign --signature-format legacy`);
                               default: on when credentials are there (--signer-account,
                               --identity-token, --sign-key, GitHub Actions' ID token), else
                               images are promoted unsigned (said once); --sign without them fails
  --signer-account SA          keyless signing as this Google service account (IAM generateIdToken)
  --max-signature-ops N        `cip promote --max-signature-ops N` (digests signed in parallel)
  --certificate-identity, --certificate-oidc-issuer, --certificate-identity-regexp,
  --certificate-oidc-issuer-regexp
                               staging signatures must verify for this identity (the same
                               `cip promote` flags; need --trusted-root FILE); empty: unset
  --identity-token, --sign-key, --trusted-root, --fulcio-url, --rekor-url, --signing-identity,
  --signature-format, --attest-promotion
                               cip's own `cip promote` flags, passed through
  --vuln-severity-threshold N  refused for N >= 0: cip does not scan for vulnerabilities
  --use-prow-manifest-diff      `cip promote --base-rev REV`: REV is $PULL_BASE_SHA when $JOB_TYPE is
                               presubmit or batch, HEAD^ when postsubmit (needs git)
  --manifest-diff-since D      `cip promote --base-rev REV`: REV is the parent of the oldest commit
                               newer than D (`14 days`, 14d, 36h); no commit: no base (needs git)
  --threads N                  `cip promote --jobs N` (images promoted in parallel)
  --json-log-summary           refused: use `cip promote --format json`
  --use-service-account, --key-files, --snapshot-service-account  refused: credentials come from
                               application default credentials and the manifests' service-account
  --audit                      refused: use `cip audit PATH...`
  -manifest-dir D              refused: removed from the Go promoter in 2020; use --thin-manifest-dir
                               or pass each promoter-manifest.yaml to `cip promote`
A Go-style command line without a subcommand (`cip -verbosity=3 -manifest=m.yaml`) runs as `cip run ...`.";
/// Flags accepted and reported as having no effect (they change nothing in the Go promoter either,
/// or only its log verbosity).
const NO_EFFECT: &[&str] = &["max-image-size", "log-level", "max-signature-copies"];

/// Go promoter flags cip refuses, with why / what to do instead.
const REFUSED: &[(&str, &str)] = &[
    ("vuln-severity-threshold", "cip does not scan for vulnerabilities"),
    ("json-log-summary", "use `cip promote --format json`"),
    ("use-service-account", "cip honours each registry's service-account field from the manifest"),
    ("key-files", "use Google application default credentials (GOOGLE_APPLICATION_CREDENTIALS)"),
    ("snapshot-service-account", "use Google application default credentials"),
    ("audit", "use `cip audit PATH...`"),
    (
        "manifest-dir",
        "it was removed from the Go promoter in 2020; use --thin-manifest-dir, or pass each promoter-manifest.yaml to `cip promote`",
    ),
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
        } else if REFUSED_BOOLS.contains(&name)
            && inline.map(|v| parse_bool(name, v)).transpose()? == Some(false)
        {
            // Off: not signing, not switching accounts, ... is what cip does anyway.
        } else if let Some((_, is_off)) = REFUSED_VALUES.iter().find(|(n, _)| *n == name) {
            let value = match inline {
                Some(v) => v.to_owned(),
                None => args.next().with_context(|| format!("--{name} needs a value"))?.clone(),
            };
            if !is_off(&value) {
                let why = REFUSED.iter().find(|(n, _)| *n == name).map_or("", |(_, w)| w);
                bail!("--{name}={value} is a Go promoter flag that cip does not implement: {why}");
            }
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
    // As in Go, --manifest wins over --thin-manifest-dir (`warnings` says so).
    paths.extend(value("manifest").or_else(|| value("thin-manifest-dir")));
    let output = value("output").or_else(|| value("output-format"));
    // Go lowercases the value (`YAML`, `CSV` were the documented spellings in 2019-2020).
    let output = output.map_or_else(|| "yaml".to_owned(), |o| o.to_ascii_lowercase());
    let verbose = verbosity(go)?;
    // An explicit --sign without credentials fails whatever the mode.
    signing(go)?;
    if flag("dry-run") && flag("confirm") {
        bail!("--dry-run and --confirm contradict each other: cip promotes only with --confirm");
    }
    if go.bools.get("dry-run") == Some(&false) && !flag("confirm") {
        bail!(
            "--dry-run=false asks for a real promotion, which cip does only with --confirm: add --confirm (and drop --dry-run)"
        );
    }
    let mut argv = vec!["cip".to_owned()];
    let snapshot_options = |argv: &mut Vec<String>| {
        if let Some(tag) = value("snapshot-tag") {
            argv.extend(["--snapshot-tag".to_owned(), tag]);
        }
        if flag("minimal-snapshot") {
            argv.push("--minimal".to_owned());
        }
        argv.extend(["--output".to_owned(), output.clone()]);
        argv.extend(verbose.clone());
    };
    if let Some(registry) = value("snapshot") {
        argv.push("snapshot".to_owned());
        snapshot_options(&mut argv);
        argv.push(registry);
    } else if let Some(registry) = value("manifest-based-snapshot-of") {
        if paths.is_empty() {
            bail!("--manifest-based-snapshot-of needs --manifest or --thin-manifest-dir");
        }
        if flag("minimal-snapshot") {
            bail!(
                "--minimal-snapshot cannot be used with --manifest-based-snapshot-of: manifests do not say which digests are index children (the Go promoter reads the registry for that); use `cip snapshot --minimal REGISTRY` to snapshot the registry itself"
            );
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
            if flag("strict") {
                argv.push("--strict".to_owned());
            }
            if let Some(threads) = value("threads") {
                // The Go promoter's worker count; cip's is images in parallel.
                argv.extend(["--jobs".to_owned(), threads]);
            }
            if let Some(rev) = manifest_diff_base(go, &paths)? {
                argv.extend(["--base-rev".to_owned(), rev]);
            }
            argv.extend(trust_flags(go));
            if flag("confirm") && signing(go)? {
                argv.extend(sign_flags(go));
            }
            argv.extend(verbose);
        }
        argv.extend(paths);
    }
    Ok(argv)
}

/// Whether a promotion signs: `--sign=false` never; otherwise when signing credentials are there
/// (the Go promoter signs by default). An explicit `--sign` without credentials is an error.
fn signing(go: &GoFlags) -> anyhow::Result<bool> {
    let given = |n: &str| go.values.get(n).is_some_and(|v| !v.trim().is_empty());
    let credentials = given("signer-account")
        || given("identity-token")
        || given("sign-key")
        || super::sign_args::ambient_credentials();
    match go.bools.get("sign") {
        Some(false) => Ok(false),
        Some(true) if !credentials => bail!(
            "--sign needs signing credentials: --signer-account EMAIL (Google IAM generateIdToken, as the Go \
             promoter's jobs), --identity-token FILE, --sign-key FILE, or GitHub Actions' ID token \
             (ACTIONS_ID_TOKEN_REQUEST_URL); --sign=false promotes unsigned"
        ),
        _ => Ok(credentials),
    }
}

/// `cip promote`'s signing flags for a Go invocation: the Go promoter's format unless
/// `--signature-format` says otherwise, and every signing value given.
fn sign_flags(go: &GoFlags) -> Vec<String> {
    let format = go.values.get("signature-format").map_or("legacy", String::as_str);
    let mut out = vec!["--sign".to_owned(), "--signature-format".to_owned(), format.to_owned()];
    for name in [
        "sign-key",
        "identity-token",
        "signer-account",
        "fulcio-url",
        "rekor-url",
        "signing-identity",
        "max-signature-ops",
    ] {
        if let Some(v) = go.values.get(name).filter(|v| !v.trim().is_empty()) {
            out.extend([format!("--{name}"), v.clone()]);
        }
    }
    if go.bools.get("attest-promotion") == Some(&true) {
        out.push("--attest-promotion".to_owned());
    }
    out
}

/// `cip promote`'s verification flags for a Go invocation (empty values are unset, as in Go).
fn trust_flags(go: &GoFlags) -> Vec<String> {
    let mut out = Vec::new();
    for name in [
        "certificate-identity",
        "certificate-identity-regexp",
        "certificate-oidc-issuer",
        "certificate-oidc-issuer-regexp",
        "trusted-root",
    ] {
        if let Some(v) = go.values.get(name).filter(|v| !v.trim().is_empty()) {
            out.extend([format!("--{name}"), v.clone()]);
        }
    }
    out
}

/// The git revision `--use-prow-manifest-diff` or `--manifest-diff-since` diffs against (as the Go
/// promoter does): Prow's `PULL_BASE_SHA` for presubmit and batch jobs, `HEAD^` for postsubmit;
/// the parent of the oldest commit newer than the duration. `None`: no delta (everything).
fn manifest_diff_base(go: &GoFlags, paths: &[String]) -> anyhow::Result<Option<String>> {
    let prow = go.bools.get("use-prow-manifest-diff").copied().unwrap_or(false);
    let since = go.values.get("manifest-diff-since");
    if prow && since.is_some() {
        bail!("--use-prow-manifest-diff and --manifest-diff-since both choose the diff base: give one");
    }
    if prow {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        return match env("JOB_TYPE").as_deref() {
            Some("presubmit" | "batch") => match env("PULL_BASE_SHA") {
                Some(sha) => Ok(Some(sha.trim().to_owned())),
                None => bail!(
                    "--use-prow-manifest-diff in a presubmit or batch job needs PULL_BASE_SHA (set by Prow) to diff against; set it, or use `cip promote --base-rev REV`"
                ),
            },
            Some("postsubmit") => Ok(Some("HEAD^".to_owned())),
            Some(other) => bail!(
                "--use-prow-manifest-diff: JOB_TYPE={other} is not presubmit, batch or postsubmit; use `cip promote --base-rev REV` outside Prow"
            ),
            None => bail!(
                "--use-prow-manifest-diff needs JOB_TYPE (presubmit, batch or postsubmit; set by Prow) to choose the diff base; outside Prow use `cip promote --base-rev REV`"
            ),
        };
    }
    match (since, paths.first()) {
        (Some(since), Some(path)) => crate::git::rev_since(path, since),
        _ => Ok(None),
    }
}

/// `-verbosity=N` (Go, until 2020: 0 fatal only ... 2 default ... 3 everything) and klog's `-v=N`
/// as cip's `-v` / `-vv` / `-vvv`.
fn verbosity(go: &GoFlags) -> anyhow::Result<Vec<String>> {
    let level = |name: &str| -> anyhow::Result<Option<u8>> {
        go.values
            .get(name)
            .map(|v| v.trim().parse::<u8>().with_context(|| format!("-{name}={v}: expected a number 0 to 3")))
            .transpose()
    };
    let from_verbosity = level("verbosity")?.map(|n| match n {
        0..=1 => 0,
        2 => 1,
        _ => 3,
    });
    let from_v = level("v")?.map(|n| n.min(3));
    let n = from_verbosity.into_iter().chain(from_v).max().unwrap_or(0);
    Ok(if n == 0 { Vec::new() } else { vec![format!("-{}", "v".repeat(n.into()))] })
}

/// What a Go invocation does differently in cip, said on stderr before running.
fn warnings(go: &GoFlags) -> Vec<String> {
    let flag = |n: &str| go.bools.get(n).copied().unwrap_or(false);
    let mut out = Vec::new();
    if let (Some(m), Some(d)) = (go.values.get("manifest"), go.values.get("thin-manifest-dir")) {
        out.push(format!(
            "warning: both --manifest and --thin-manifest-dir given: only --manifest {m} is used, as the Go promoter does ({d} is not read)"
        ));
    }
    let promoting = !go.values.contains_key("snapshot")
        && !go.values.contains_key("manifest-based-snapshot-of")
        && !flag("parse-only");
    if promoting && flag("confirm") && signing(go).unwrap_or(false) {
        let format = go.values.get("signature-format").map_or("legacy", String::as_str);
        out.push(format!(
            "note: promoted images are signed afterwards ({format} format, as the Go promoter signs by default)"
        ));
    }
    if promoting && flag("confirm") && !signing(go).unwrap_or(false) {
        out.push(if go.bools.get("sign") == Some(&false) {
            "note: images are promoted unsigned (--sign=false)".to_owned()
        } else {
            "note: images are promoted unsigned: no signing credentials (--signer-account, \
             --identity-token, --sign-key, or GitHub Actions' ID token); --sign=false silences this"
                .to_owned()
        });
    }
    if !promoting && flag("strict") {
        out.push("note: --strict applies to promotions only (ignored here)".to_owned());
    }
    if !promoting && (flag("use-prow-manifest-diff") || go.values.contains_key("manifest-diff-since")) {
        out.push("note: the manifest-diff flags apply to promotions only (ignored here)".to_owned());
    }
    if flag("parse-only") && (go.values.contains_key("verbosity") || go.values.contains_key("v")) {
        out.push("note: --parse-only logs nothing, so the log level has no effect".to_owned());
    }
    out
}

/// Runs `cip run`.
pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitStatus> {
    let go = parse(&args.flags)?;
    let argv = translate(&go)?;
    let notes = go.notes.iter().map(|n| format!("note: {n}")).chain(warnings(&go));
    for note in notes {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("cip: {note}");
        }
    }
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
    fn signing_flags_map_onto_promote_when_credentials_are_there() {
        assert_eq!(
            cip(&["--manifest=m.yaml", "--confirm", "--signer-account=s@p.iam.gserviceaccount.com"]).unwrap(),
            "cip promote --confirm --sign --signature-format legacy --signer-account \
             s@p.iam.gserviceaccount.com m.yaml"
        );
        assert_eq!(
            cip(&["--manifest=m.yaml", "--confirm", "--sign", "--sign-key=k.pem", "--max-signature-ops=50"])
                .unwrap(),
            "cip promote --confirm --sign --signature-format legacy --sign-key k.pem --max-signature-ops 50 m.yaml"
        );
        assert_eq!(
            cip(&["--manifest=m.yaml", "--confirm", "--sign=false", "--signer-account=s@p"]).unwrap(),
            "cip promote --confirm m.yaml",
            "--sign=false wins"
        );
        assert_eq!(
            cip(&["--manifest=m.yaml", "--signer-account=s@p"]).unwrap(),
            "cip promote m.yaml",
            "a dry run signs nothing"
        );
        assert_eq!(
            cip(&[
                "--manifest=m.yaml",
                "--certificate-identity=a@b",
                "--certificate-oidc-issuer=https://i",
                "--certificate-identity-regexp="
            ])
            .unwrap(),
            "cip promote --certificate-identity a@b --certificate-oidc-issuer https://i m.yaml"
        );
        assert_eq!(cip(&["--manifest=m.yaml", "--max-signature-copies=50"]).unwrap(), "cip promote m.yaml");
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
        for refused in ["--vuln-severity-threshold=2", "--use-service-account"] {
            let err = cip(&["--manifest=m.yaml", refused]).unwrap_err().to_string();
            assert!(err.contains("does not implement"), "{refused}: {err}");
        }
        if !crate::commands::sign_args::ambient_credentials() {
            let err = cip(&["--manifest=m.yaml", "--sign"]).unwrap_err().to_string();
            assert!(err.contains("--sign needs signing credentials"), "{err}");
        }
        assert!(cip(&["--bogus"]).unwrap_err().to_string().contains("unknown flag"));
        assert!(cip(&["--confirm"]).is_err(), "no manifest");
    }

    #[test]
    fn go_spellings_map_onto_cip() {
        assert_eq!(cip(&["-verbosity=3", "-manifest=m.yaml"]).unwrap(), "cip promote -vvv m.yaml");
        assert_eq!(cip(&["-verbosity=2", "-manifest=m.yaml"]).unwrap(), "cip promote -v m.yaml");
        assert_eq!(cip(&["-verbosity=1", "-manifest=m.yaml"]).unwrap(), "cip promote m.yaml");
        assert_eq!(cip(&["-v=2", "-manifest=m.yaml", "-strict"]).unwrap(), "cip promote --strict -vv m.yaml");
        assert_eq!(cip(&["-manifest=m.yaml", "-threads=10"]).unwrap(), "cip promote --jobs 10 m.yaml");
        assert_eq!(
            cip(&["--manifest=m.yaml", "--thin-manifest-dir=d", "--dry-run"]).unwrap(),
            "cip promote m.yaml"
        );
        assert_eq!(
            cip(&["--snapshot=gcr.io/p", "-output-format=CSV"]).unwrap(),
            "cip snapshot --output csv gcr.io/p"
        );
        assert!(is_go_flag("-manifest=m.yaml") && is_go_flag("-verbosity") && is_go_flag("--sign=false"));
        assert!(!is_go_flag("--version") && !is_go_flag("-h") && !is_go_flag("lint"));
    }
}

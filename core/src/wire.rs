//! What every front end (the CLI, the wasm package, the Node addon) must print and accept the same
//! way, written once: the bytes of a JSON result, the snapshot output formats and their names, the
//! path a lone manifest text is linted under, and the option objects of the pure functions with
//! their JavaScript names.
//!
//! It exists so that no front end keeps its own copy of these details: before it, "pretty JSON
//! plus a newline" was written in eight places, each front end had its own snapshot format enum
//! and its own `"manifest.yaml"`, and the wasm and Node shells each decoded the plan and snapshot
//! options by hand. A shell now decodes its JavaScript value into [`PlanArgs`] or
//! [`SnapshotArgs`] with serde (`serde_wasm_bindgen::from_value`, napi's `Env::from_js_value`)
//! and hands the parts to the core; the CLI parses `--output` with [`SnapshotFormat`]'s
//! [`FromStr`] and prints with [`pretty_json`].
//!
//! JavaScript names are the CLI's flag words in camelCase (`--snapshot-tag` is `snapshotTag`).
//! Their TypeScript declarations are `wasm/core.d.ts` (`PlanOptions`, `SnapshotTextOptions`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::snapshot::{Snapshot, SnapshotOptions};
use crate::{Input, PlanOptions, SourceFile};

/// The path a lone manifest text is linted under: a single string has no name of its own. The
/// wasm package exports it to the browser page as `defaultFileName()`.
pub const DEFAULT_FILE_NAME: &str = "manifest.yaml";

/// Pretty JSON (two-space indent) with a trailing newline: the bytes every front end prints for
/// `--format json` and returns from the `…Json` functions.
///
/// # Panics
///
/// When `value` cannot be written as JSON: a map with non-string keys, or a `Serialize` impl that
/// fails. Neither happens with cip's result types, so this is a bug, not an input error.
pub fn pretty_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("cip results serialize to JSON");
    text.push('\n');
    text
}

/// A text format of a snapshot (`cip snapshot --output`, `snapshotText({output})`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SnapshotFormat {
    /// The Go promoter's YAML: `- name: foo` / `  dmap:` / `    "sha256:...": ["1.0"]`.
    #[default]
    Yaml,
    /// `name@digest,name:tag` lines (`-` when untagged).
    Csv,
    /// `{"images": [{"name", "dmap"}]}`, pretty, with a trailing newline.
    Json,
}

impl SnapshotFormat {
    /// Every format, the default first.
    pub const ALL: [Self; 3] = [Self::Yaml, Self::Csv, Self::Json];

    /// The names [`FromStr`] accepts, in the order of [`ALL`](Self::ALL).
    pub const NAMES: [&'static str; 3] = ["yaml", "csv", "json"];

    /// The name on the command line and in JavaScript (`"yaml"`, `"csv"`, `"json"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Yaml => "yaml",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// One line for `--help`.
    pub const fn help(self) -> &'static str {
        match self {
            Self::Yaml => {
                "the Go promoter's YAML (`- name: foo` / `  dmap:` / `    \"sha256:...\": [\"1.0\"]`)"
            }
            Self::Csv => "`name@digest,name:tag` lines (`-` when untagged)",
            Self::Json => "`{\"images\": [{\"name\", \"dmap\"}]}`",
        }
    }

    /// The snapshot as text in this format.
    pub fn render(self, snapshot: &Snapshot) -> String {
        match self {
            Self::Yaml => snapshot.to_yaml(),
            Self::Csv => snapshot.to_csv(),
            Self::Json => snapshot.to_json(),
        }
    }
}

impl fmt::Display for SnapshotFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A snapshot format name that is not one of [`SnapshotFormat::NAMES`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown snapshot format {0:?}: expected \"yaml\", \"csv\" or \"json\"")]
pub struct UnknownSnapshotFormat(pub String);

impl FromStr for SnapshotFormat {
    type Err = UnknownSnapshotFormat;

    /// Exact, lowercase names only, as clap's value enums match them.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| UnknownSnapshotFormat(name.to_owned()))
    }
}

impl Serialize for SnapshotFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SnapshotFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = SnapshotFormat;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"yaml\", \"csv\" or \"json\"")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<SnapshotFormat, E> {
                // Named after the knob (`--output`, `{output}`): serde does not say which field failed.
                name.parse().map_err(|_| {
                    E::custom(format_args!("output must be \"yaml\", \"csv\" or \"json\", not {name:?}"))
                })
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Manifest files as JavaScript callers give them: one manifest text (linted as
/// [`DEFAULT_FILE_NAME`]) or `{path: text}`. The `files` argument of every JS function, `base`
/// of [`PlanArgs`], `manifests` of Node's `readInventory`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilesArg {
    /// One manifest text.
    Text(String),
    /// Path -> text. Sorted, so the caller's key order never changes a result (the CLI reads
    /// directories in sorted order too).
    Map(BTreeMap<String, String>),
}

impl FilesArg {
    /// The core input; thin directories are inferred from the paths.
    pub fn into_input(self) -> Input {
        let files = match self {
            Self::Text(text) => vec![SourceFile::new(DEFAULT_FILE_NAME, text)],
            Self::Map(map) => map.into_iter().map(|(path, text)| SourceFile::new(path, text)).collect(),
        };
        Input { files, thin_dirs: None }
    }
}

impl From<FilesArg> for Input {
    fn from(files: FilesArg) -> Self {
        files.into_input()
    }
}

impl<'de> Deserialize<'de> for FilesArg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Files;
        impl<'de> Visitor<'de> for Files {
            type Value = FilesArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a manifest text (string) or an object mapping file paths to manifest texts")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<FilesArg, E> {
                Ok(FilesArg::Text(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<FilesArg, E> {
                Ok(FilesArg::Text(text))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<FilesArg, A::Error> {
                let mut map = BTreeMap::new();
                while let Some(path) = access.next_key::<String>()? {
                    // Any value, so that the message names the path and says what was expected in
                    // the same words through every deserializer (JS values, JSON).
                    let text = match access.next_value::<serde_json::Value>()? {
                        serde_json::Value::String(text) => text,
                        other => {
                            return Err(de::Error::custom(format_args!(
                                "[{path:?}]: expected the text of a manifest file (a string); got {}",
                                json_kind(&other)
                            )));
                        }
                    };
                    map.insert(path, text);
                }
                Ok(FilesArg::Map(map))
            }
        }
        deserializer.deserialize_any(Files)
    }
}

/// What a JSON value is, for messages ("got a number").
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The `options` of `plan`/`planJson`/`planAsync` (`cip plan`'s flags): `{strict?, base?,
/// attachments?, attachmentType?}` and the trust gate's `{requireSignature?, verifyKey?,
/// certificateIdentity?, certificateIdentityRegexp?, certificateOidcIssuer?,
/// certificateOidcIssuerRegexp?, trustedRoot?, requireAttestation?}`, flat as the flags are.
/// Where the CLI takes a file (`--verify-key FILE`, `--trusted-root FILE`), JavaScript gives its
/// text (the PEM key, the `trusted_root.json` document): the wasm package has no files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanArgs {
    /// `--strict`: any error blocks every action, not only the edges it concerns.
    #[serde(default)]
    pub strict: bool,
    /// `--base`: the manifests as of the last promotion; only what changed since is planned.
    #[serde(default)]
    pub base: Option<FilesArg>,
    /// `--attachments all|signatures|none` (default `all`).
    #[serde(default)]
    pub attachments: crate::plan::AttachmentFilter,
    /// `--attachment-type TYPE` (repeatable): only referrers of these `artifactType`s travel.
    /// A string or an array of strings.
    #[serde(default, deserialize_with = "one_or_many")]
    pub attachment_type: Vec<String>,
    /// `--require-signature`: a digest without a verified signature is `signature-missing`.
    #[serde(default)]
    pub require_signature: bool,
    /// `--verify-key`: the PEM public key's text.
    #[serde(default)]
    pub verify_key: Option<String>,
    /// `--certificate-identity`.
    #[serde(default)]
    pub certificate_identity: Option<String>,
    /// `--certificate-identity-regexp`.
    #[serde(default)]
    pub certificate_identity_regexp: Option<String>,
    /// `--certificate-oidc-issuer`.
    #[serde(default)]
    pub certificate_oidc_issuer: Option<String>,
    /// `--certificate-oidc-issuer-regexp`.
    #[serde(default)]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// `--trusted-root`: the `trusted_root.json` document's text.
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// `--require-attestation PREDICATE_TYPE` (repeatable): a string or an array of strings.
    #[serde(default, deserialize_with = "one_or_many")]
    pub require_attestation: Vec<String>,
}

/// Trust options that cannot be used (a key or trusted root that does not parse, a bad regexp,
/// identity constraints without a trusted root): the caller's error, named in JavaScript's words
/// (`options.verifyKey: ...`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("options.{option}: {message}")]
pub struct TrustArgError {
    /// The option's JavaScript name (`verifyKey`).
    pub option: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl From<crate::trust::TrustError> for TrustArgError {
    fn from(e: crate::trust::TrustError) -> Self {
        // `--verify-key` -> `verifyKey`.
        let mut option = String::new();
        let mut upper = false;
        for c in e.option.trim_start_matches('-').chars() {
            if c == '-' {
                upper = true;
            } else if upper {
                option.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                option.push(c);
            }
        }
        TrustArgError { option, message: e.message }
    }
}

/// Trust options from JavaScript, checked by compiling their policy once
/// ([`crate::trust::Policy::new`]): a key or root that does not parse is the caller's error, not a
/// plan of refusals. No options at all compile nothing. Used by `plan` here and the Node engine.
///
/// # Errors
///
/// Trust options that cannot be used.
pub fn checked_trust(trust: crate::trust::TrustOptions) -> Result<crate::trust::TrustOptions, TrustArgError> {
    if trust != crate::trust::TrustOptions::default() {
        crate::trust::Policy::new(&trust)?;
    }
    Ok(trust)
}

/// A string or an array of strings (a repeatable flag given once or several times); also the
/// Node engine's `attachmentType`.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a string or an array of strings")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl PlanArgs {
    /// The core's plan options and the base input, the trust options checked
    /// ([`crate::trust::Policy::new`]) so a bad key is the caller's error, not a plan of refusals.
    ///
    /// # Errors
    ///
    /// Trust options that cannot be used.
    pub fn into_parts(self) -> Result<(PlanOptions, Option<Input>), TrustArgError> {
        // Struct literals, not `..Default::default()`: a new core option fails to compile here
        // until it has its JavaScript name.
        let trust = crate::trust::TrustOptions {
            require_signature: self.require_signature,
            verify_key: self.verify_key,
            certificate_identity: self.certificate_identity,
            certificate_identity_regexp: self.certificate_identity_regexp,
            certificate_oidc_issuer: self.certificate_oidc_issuer,
            certificate_oidc_issuer_regexp: self.certificate_oidc_issuer_regexp,
            trusted_root: self.trusted_root,
            require_attestation: self.require_attestation,
        };
        let trust = checked_trust(trust)?;
        let options = PlanOptions {
            strict: self.strict,
            attachments: self.attachments,
            attachment_types: self.attachment_type,
            trust,
        };
        Ok((options, self.base.map(FilesArg::into_input)))
    }
}

/// The `options` of `snapshot`/`snapshotText`/`snapshotAsync` (`cip snapshot`'s flags):
/// `{minimal?, snapshotTag?, output?}`. `output` only matters to `snapshotText`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotArgs {
    /// `--minimal`: leave out untagged digests that an index of the same repository lists.
    #[serde(default)]
    pub minimal: bool,
    /// `--snapshot-tag`: keep only digests carrying this tag.
    #[serde(default)]
    pub snapshot_tag: Option<String>,
    /// `--output`: the text format (default YAML).
    #[serde(default)]
    pub output: Option<SnapshotFormat>,
}

impl SnapshotArgs {
    /// The core's snapshot options and the text format.
    pub fn into_parts(self) -> (SnapshotOptions, SnapshotFormat) {
        // A struct literal on purpose, as in `PlanArgs::into_parts`.
        let options = SnapshotOptions { minimal: self.minimal, snapshot_tag: self.snapshot_tag };
        (options, self.output.unwrap_or_default())
    }
}

/// A SARIF 2.1.0 log with one run: what `cip lint --format sarif` prints and the browser linter
/// downloads, for code-scanning tools. Help texts follow the message after `help: `; labels are
/// related locations; columns are Unicode code points.
pub fn sarif(diagnostics: &[crate::Diagnostic]) -> String {
    use serde_json::json;
    let mut rules: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message = format!("{message}\nhelp: {help}");
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": match d.severity { crate::Severity::Error => "error", crate::Severity::Warning => "warning" },
                "message": { "text": message },
                "locations": [sarif_location(&d.location, None)],
                "relatedLocations": d.labels.iter().enumerate()
                    .map(|(i, l)| { let mut v = sarif_location(&l.location, Some(&l.message)); v["id"] = json!(i); v })
                    .collect::<Vec<_>>(),
            });
            if !d.fixes.is_empty() {
                result["fixes"] = d.fixes.iter().map(crate::fix::Fix::to_sarif).collect();
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cip",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({ "id": r, "shortDescription": { "text": r } })).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    pretty_json(&log)
}

fn sarif_location(at: &crate::Location, message: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "physicalLocation": {
            "artifactLocation": { "uri": at.file },
            "region": {
                "startLine": at.line,
                "startColumn": at.column,
                "endLine": at.end_line,
                "endColumn": at.end_column.max(at.column + u32::from(at.end_line == at.line && at.end_column == at.column)),
            },
        },
    });
    if let Some(m) = message {
        v["message"] = serde_json::json!({ "text": m });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_is_two_space_indent_and_a_newline() {
        assert_eq!(pretty_json(&serde_json::json!({"a": [1]})), "{\n  \"a\": [\n    1\n  ]\n}\n");
    }

    #[test]
    fn snapshot_format_names_round_trip() {
        for (format, name) in SnapshotFormat::ALL.into_iter().zip(SnapshotFormat::NAMES) {
            assert_eq!(format.name(), name);
            assert_eq!(format.to_string(), name);
            assert_eq!(name.parse::<SnapshotFormat>(), Ok(format));
            assert_eq!(serde_json::to_string(&format).unwrap(), format!("{name:?}"));
            assert_eq!(serde_json::from_str::<SnapshotFormat>(&format!("{name:?}")).unwrap(), format);
        }
        assert_eq!(SnapshotFormat::default(), SnapshotFormat::Yaml);
        let err = "YAML".parse::<SnapshotFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown snapshot format \"YAML\": expected \"yaml\", \"csv\" or \"json\""
        );
    }

    #[test]
    fn files_arg_text_and_map() {
        let one: FilesArg = serde_json::from_str("\"images: []\\n\"").unwrap();
        let input = one.into_input();
        assert_eq!(input.files.len(), 1);
        assert_eq!(input.files[0].path, DEFAULT_FILE_NAME);
        let map: FilesArg = serde_json::from_str(r#"{"b.yaml": "", "a.yaml": "x"}"#).unwrap();
        let paths: Vec<_> = map.into_input().files.into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["a.yaml", "b.yaml"]);
        let err = serde_json::from_str::<FilesArg>(r#"{"a.yaml": 3}"#).unwrap_err().to_string();
        assert!(
            err.starts_with("[\"a.yaml\"]: expected the text of a manifest file (a string); got a number"),
            "{err}"
        );
        let err = serde_json::from_str::<FilesArg>("3").unwrap_err().to_string();
        assert!(err.contains("a manifest text (string) or an object"), "{err}");
    }

    #[test]
    fn plan_args_use_the_cli_words() {
        let args: PlanArgs = serde_json::from_str(r#"{"strict": true, "base": {"a.yaml": ""}}"#).unwrap();
        let (options, base) = args.into_parts().unwrap();
        assert!(options.strict);
        assert_eq!(base.unwrap().files[0].path, "a.yaml");
        assert_eq!(serde_json::from_str::<PlanArgs>("{}").unwrap(), PlanArgs::default());
        assert_eq!(serde_json::from_str::<PlanArgs>(r#"{"base": null}"#).unwrap(), PlanArgs::default());
        let err = serde_json::from_str::<PlanArgs>(r#"{"sttrict": true}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `sttrict`"), "{err}");
        let key = include_str!("../../tests/vectors/plan/trust-keyed-gate/key.pub");
        let args = serde_json::json!({
            "requireSignature": true,
            "verifyKey": key,
            "requireAttestation": "https://slsa.dev/provenance/v1",
        });
        let (options, _) = serde_json::from_value::<PlanArgs>(args).unwrap().into_parts().unwrap();
        assert!(options.trust.require_signature);
        assert_eq!(options.trust.verify_key.as_deref(), Some(key));
        assert_eq!(options.trust.require_attestation, ["https://slsa.dev/provenance/v1"]);
        let bad: PlanArgs = serde_json::from_str(r#"{"verifyKey": "not a key"}"#).unwrap();
        let err = bad.into_parts().unwrap_err();
        assert_eq!(err.option, "verifyKey");
        assert!(err.to_string().starts_with("options.verifyKey: "), "{err}");
    }

    #[test]
    fn snapshot_args_use_the_cli_words() {
        let args: SnapshotArgs =
            serde_json::from_str(r#"{"minimal": true, "snapshotTag": "v1", "output": "csv"}"#).unwrap();
        let (options, format) = args.into_parts();
        assert_eq!(options, SnapshotOptions { minimal: true, snapshot_tag: Some("v1".into()) });
        assert_eq!(format, SnapshotFormat::Csv);
        let (_, format) = serde_json::from_str::<SnapshotArgs>(r#"{"output": null}"#).unwrap().into_parts();
        assert_eq!(format, SnapshotFormat::Yaml);
        let err = serde_json::from_str::<SnapshotArgs>(r#"{"output": "xml"}"#).unwrap_err().to_string();
        assert!(err.contains("output must be \"yaml\", \"csv\" or \"json\", not \"xml\""), "{err}");
    }
}

//! `cip lsp` driven by a scripted client over stdio: the real binary, framed JSON-RPC on its
//! stdin/stdout, a workspace of manifests in a temporary directory (a thin directory and a plain
//! file). Covers initialize (position encoding negotiation), diagnostics from disk and on open and
//! change (related information, UTF-16 columns, a cross-file overlap appearing after an edit in
//! one `images.yaml`), quick fixes, hover on a digest and on a finding, formatting, document
//! symbols, shutdown and exit.

mod lsp_client;

use serde_json::{Value, json};

use lsp_client::{Client, uri};

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const REGISTRIES: &str = "registries:\n- name: gcr.io/staging\n  src: true\n- name: r.example.com/prod\n";

fn images(entries: &[(&str, &str)]) -> String {
    let mut text = String::from("- name: foo\n  dmap:\n");
    for (digest, tags) in entries {
        text.push_str(&format!("    \"{digest}\": {tags}\n"));
    }
    text
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("k8s/manifests/a/promoter-manifest.yaml", REGISTRIES);
    write("k8s/images/a/images.yaml", &images(&[(A, r#"["1.0"]"#)]));
    write("k8s/manifests/b/promoter-manifest.yaml", REGISTRIES);
    write("k8s/images/b/images.yaml", &images(&[(A, r#"["1.0"]"#)]));
    // Not a manifest: never linted.
    write(".github/workflows/ci.yaml", "on: push\njobs: {}\n");
    dir
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

#[test]
fn a_scripted_editor_session() {
    let dir = workspace();
    let root = dir.path().canonicalize().unwrap();
    let (mut client, init) = Client::start(env!("CARGO_BIN_EXE_cip"), &root, &["utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["serverInfo"]["name"], "cip");
    let log = client.expect("the lint time log line", |m| m["method"] == "window/logMessage");
    let line = log["params"]["message"].as_str().unwrap();
    assert!(line.starts_with("cip: linted 4 files (2 digests) after 0 changed in "), "{line}");
    assert!(line.contains(" ms CPU), 0 findings"), "{line}");

    // Open b's images with an unquoted tag after a tag outside the BMP: the UTF-16 column counts
    // the surrogate pair as two.
    let b = "k8s/images/b/images.yaml";
    let b_uri = uri(&root.join(b));
    let text = images(&[(A, r#"["1.0"]"#), (B, r#"["𝄞", 1.10]"#)]);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": b_uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let found = client.diagnostics(&root, b);
    assert_eq!(codes(&found), ["tag-invalid", "tag-unquoted"], "{found:#?}");
    let unquoted = &found[1];
    let line = text.lines().nth(3).unwrap();
    let chars = line[..line.find("1.10").unwrap()].chars().count() as u64;
    assert_eq!(unquoted["range"]["start"], json!({"line": 3, "character": chars + 1}));
    assert_eq!(unquoted["range"]["end"], json!({"line": 3, "character": chars + 5}));
    assert_eq!(unquoted["severity"], 2);
    assert_eq!(unquoted["source"], "cip");

    // The quick fix quotes the tag.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": b_uri}, "range": unquoted["range"], "context": {"diagnostics": [unquoted]}}),
    );
    let quick: Vec<&Value> = actions.as_array().unwrap().iter().filter(|a| a["kind"] == "quickfix").collect();
    assert_eq!(quick.len(), 1, "{actions:#}");
    assert_eq!(quick[0]["title"], "quote the tag");
    assert_eq!(quick[0]["isPreferred"], true);
    let edits = &quick[0]["edit"]["changes"][&b_uri];
    assert_eq!(edits[0]["newText"], "\"1.10\"");
    assert_eq!(edits[0]["range"], unquoted["range"]);
    assert!(actions.as_array().unwrap().iter().any(|a| a["kind"] == "source.fixAll.cip"), "{actions:#}");

    // Hover on the finding: the README's meaning of its code.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": b_uri}, "position": unquoted["range"]["start"]}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.contains("`tag-unquoted`** (warning): an unquoted tag a YAML reader may turn into a number"),
        "{shown}"
    );
    assert!(shown.contains(&format!("foo@{B}")), "{shown}");

    // Apply the fix as the editor would (an incremental change), then retag A in b: a cross-file
    // overlap with a's images.yaml, which is not open (named as related information).
    let range = unquoted["range"].clone();
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": b_uri, "version": 2}, "contentChanges": [{"range": range, "text": "\"1.10\""}]}),
    );
    let found = client.diagnostics(&root, b);
    assert_eq!(codes(&found), ["tag-invalid"], "{found:#?}");
    // Lines 2 and 3 (A's and B's entries) become one entry: B tagged 1.0.
    let a_line = json!({"start": {"line": 2, "character": 4}, "end": {"line": 4, "character": 0}});
    let new_line = format!("\"{B}\": [\"1.0\"]\n");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": b_uri, "version": 3}, "contentChanges": [{"range": a_line, "text": new_line}]}),
    );
    let found = client.diagnostics(&root, b);
    assert_eq!(codes(&found), ["destination-overlap"], "{found:#?}");
    let related = &found[0]["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], uri(&root.join("k8s/images/a/images.yaml")), "{found:#?}");
    assert_eq!(related["location"]["range"]["start"], json!({"line": 2, "character": 80}), "{found:#?}");

    // Hover on a digest: its tags, destination and the other place promoting it.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&root.join("k8s/images/a/images.yaml"))}, "position": {"line": 2, "character": 10}}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains(&format!("**foo@{A}**")), "{shown}");
    assert!(shown.contains("tags: `1.0`"), "{shown}");
    assert!(shown.contains("`r.example.com/prod/foo`"), "{shown}");

    // Document symbols of a thin manifest: the registries and their roles.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri(&root.join("k8s/manifests/a/promoter-manifest.yaml"))}}),
    );
    assert_eq!(symbols[0]["name"], "registries", "{symbols:#}");
    let children = symbols[0]["children"].as_array().unwrap();
    assert_eq!(children[0]["name"], "gcr.io/staging");
    assert_eq!(children[0]["detail"], "source");
    assert_eq!(children[1]["detail"], "destination");
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": b_uri}}));
    assert_eq!(symbols[0]["name"], "foo", "{symbols:#}");
    assert_eq!(symbols[0]["detail"], "1 digest");

    // Formatting: cip fmt's layout of the open text (digests sorted), as one edit.
    let unsorted = images(&[(B, r#"["2.0"]"#), (A, r#"['1.0']"#)]);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": b_uri, "version": 4}, "contentChanges": [{"text": unsorted}]}),
    );
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": b_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let want = cip_core::format::format(&cip_core::SourceFile::new(b, unsorted.clone())).unwrap();
    assert_ne!(want, unsorted);
    assert_eq!(edits[0]["newText"], want, "{edits:#}");
    assert_eq!(edits[0]["range"]["end"], json!({"line": 4, "character": 0}));

    // A workflow file is not a manifest: opening it publishes nothing for it.
    let workflow = uri(&root.join(".github/workflows/ci.yaml"));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": workflow, "languageId": "yaml", "version": 1, "text": "on: push\n"}}),
    );
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": workflow}}));
    assert_eq!(symbols, Value::Null);
    assert!(!client.seen.iter().any(|m| m["params"]["uri"] == workflow), "{:#?}", client.seen);

    assert_eq!(client.request("shutdown", Value::Null), Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn utf8_positions_and_files_changed_on_disk() {
    let dir = workspace();
    let root = dir.path().canonicalize().unwrap();
    let (mut client, init) = Client::start(env!("CARGO_BIN_EXE_cip"), &root, &["utf-8", "utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let b = "k8s/images/b/images.yaml";
    let text = images(&[(A, r#"["é", 1.10]"#)]);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&root.join(b)), "languageId": "yaml", "version": 1, "text": text}}),
    );
    let found = client.diagnostics(&root, b);
    let unquoted = found.iter().find(|d| d["code"] == "tag-unquoted").unwrap();
    let line = text.lines().nth(2).unwrap();
    let bytes = line.find("1.10").unwrap() as u64;
    assert_eq!(unquoted["range"]["start"], json!({"line": 2, "character": bytes}));

    // The server asked to watch YAML files; a file created on disk (an images.yaml without its
    // manifest) joins the workspace, and deleting it clears its finding.
    let register = client.expect("registerCapability", |m| m["method"] == "client/registerCapability");
    assert_eq!(register["params"]["registrations"][0]["method"], "workspace/didChangeWatchedFiles");
    let orphan = "k8s/images/c/images.yaml";
    std::fs::create_dir_all(root.join("k8s/images/c")).unwrap();
    std::fs::write(root.join(orphan), images(&[(B, r#"["2.0"]"#)])).unwrap();
    let created = json!({"changes": [{"uri": uri(&root.join(orphan)), "type": 1}]});
    client.notify("workspace/didChangeWatchedFiles", created);
    assert_eq!(codes(&client.diagnostics(&root, orphan)), ["thin-images-orphan"]);
    std::fs::remove_file(root.join(orphan)).unwrap();
    let deleted = json!({"changes": [{"uri": uri(&root.join(orphan)), "type": 3}]});
    client.notify("workspace/didChangeWatchedFiles", deleted);
    assert_eq!(codes(&client.diagnostics(&root, orphan)), Vec::<&str>::new());
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert!(client.child.wait().unwrap().success());
}

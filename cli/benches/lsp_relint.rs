//! `cip lsp` re-lint time after a one-line edit in a Kubernetes-scale workspace (the synthetic
//! set of `tests/gen/synth.rs`: 100 thin manifests x 20 destinations, 45,000 digests, written to
//! a temporary directory). The real binary is driven over stdio by the scripted client of the LSP
//! test; the time is the server's own (its `cip: linted ... in N ms` log line: applying the edit,
//! re-reading the edited file, the rules over every manifest, and converting and publishing the
//! findings), so client and pipe overheads and the debounce pause are not in it; wall clock, and
//! the server thread's CPU time (steadier on a loaded machine). Target: <= 50 ms.
//!
//! ```text
//! cargo bench -p cip --bench lsp_relint        # or bench/lsp.sh
//! ```

#![allow(missing_docs, clippy::print_stdout)]

#[path = "../tests/lsp_client/mod.rs"]
mod lsp_client;
#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Instant;

use lsp_client::{Client, uri};
use serde_json::{Value, json};

const EDITS: usize = 30;

/// `(lint ms, lint + publish ms, CPU ms)` from the server's log line.
fn server_time(message: &Value) -> (f64, f64, f64) {
    let text = message["params"]["message"].as_str().unwrap();
    let number = |after: &str| -> f64 {
        let rest = &text[text.find(after).unwrap() + after.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    (number(" changed in "), number(" ms ("), number("with publishing; "))
}

fn log_line(client: &mut Client) -> Value {
    client.expect("the lint log line", |m| m["method"] == "window/logMessage")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let files = synth::generate(synth::Params::scaled(1.0));
    let digests = synth::count_digests(&files);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (path, text) in &files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let started = Instant::now();
    let (mut client, _) = Client::start(env!("CARGO_BIN_EXE_cip"), &root, &["utf-16"]);
    let (first_lint, _, first_cpu) = server_time(&log_line(&mut client));
    let startup = started.elapsed().as_secs_f64() * 1e3;

    // The largest images.yaml and one of median size.
    let mut images: Vec<&(String, String)> =
        files.iter().filter(|(p, _)| p.ends_with("images.yaml")).collect();
    images.sort_by_key(|(_, text)| text.matches("sha256:").count());
    let picks = [("median", images[images.len() / 2]), ("largest", images[images.len() - 1])];

    println!("cip lsp re-lint after a one-line edit: {} files, {digests} digests", files.len());
    println!(
        "startup (spawn, read from disk, first lint): {startup:.0} ms wall; first lint {first_lint:.1} ms server time ({first_cpu:.1} ms CPU)\n"
    );
    println!(
        "| edited file | digests in it | edits | lint median | lint p90 | with publishing median | p90 | max | CPU median | CPU p90 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, (path, text)) in picks {
        let file_uri = uri(&root.join(path));
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": file_uri, "languageId": "yaml", "version": 0, "text": text}}),
        );
        log_line(&mut client);
        // Retag one digest, line by line: a tag value replaced by a new unique one.
        let lines: Vec<(usize, &str)> =
            text.lines().enumerate().filter(|(_, l)| l.contains("sha256:") && l.contains("[\"")).collect();
        let (mut lint, mut total, mut cpu) = (Vec::new(), Vec::new(), Vec::new());
        for edit in 0..EDITS {
            let (line, content) = lines[(edit * 37) % lines.len()];
            let start = content.find("[\"").unwrap() + 2;
            let end = start + content[start..].find('"').unwrap();
            let range =
                json!({"start": {"line": line, "character": start}, "end": {"line": line, "character": end}});
            client.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": file_uri, "version": edit + 1},
                       "contentChanges": [{"range": range, "text": format!("bench-{edit}")}]}),
            );
            let (l, t, c) = server_time(&log_line(&mut client));
            lint.push(l);
            total.push(t);
            cpu.push(c);
        }
        lint.sort_by(f64::total_cmp);
        total.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        println!(
            "| {label} `{path}` | {} | {EDITS} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            text.matches("sha256:").count(),
            percentile(&lint, 0.5),
            percentile(&lint, 0.9),
            percentile(&total, 0.5),
            percentile(&total, 0.9),
            total[total.len() - 1],
            percentile(&cpu, 0.5),
            percentile(&cpu, 0.9),
        );
    }
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    client.child.wait().unwrap();
}

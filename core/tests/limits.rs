//! Resource limits: inputs built to hang or exhaust a parser get one clear finding instead. The
//! 100 MB case is generated here rather than stored with the vectors.

use cip_core::{Input, SourceFile};

fn lint_one(text: String) -> cip_core::LintReport {
    cip_core::lint(Input { files: vec![SourceFile::new("big.yaml", text)], thin_dirs: None })
}

fn codes(report: &cip_core::LintReport) -> Vec<&str> {
    report.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn a_100_mb_manifest_is_refused_with_one_finding() {
    let entry = format!("    \"sha256:{}\": [\"v1.0.0\"]\n", "ab".repeat(32));
    let mut text = String::from(
        "registries:\n- name: gcr.io/x\n  src: true\n- name: gcr.io/y\nimages:\n- name: foo\n  dmap:\n",
    );
    while text.len() < 100 * 1024 * 1024 {
        text.push_str(&entry);
    }
    let report = lint_one(text);
    assert_eq!(codes(&report), ["yaml-too-large"]);
    let finding = &report.diagnostics[0];
    assert_eq!(
        (finding.location.file.as_str(), finding.location.line, finding.location.column),
        ("big.yaml", 1, 1)
    );
    assert!(finding.message.contains("bytes") && finding.help.is_some(), "{finding:?}");
}

#[test]
fn deep_block_nesting_is_refused() {
    // Flow nesting is a vector (`yaml-deep-nesting`). Compact block sequences nest on one line;
    // indented block mappings need 2 more spaces per level (10,000 levels would be 100 MB).
    assert_eq!(codes(&lint_one(format!("{}x\n", "- ".repeat(10_000)))), ["yaml-too-deep"]);
    let mut text = String::new();
    for depth in 0..1_000 {
        text.push_str(&" ".repeat(depth * 2));
        text.push_str("a:\n");
    }
    assert_eq!(codes(&lint_one(text)), ["yaml-too-deep"]);
}

#[test]
fn a_billion_laughs_alias_bomb_is_refused() {
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=12 {
        let prev = if i == 1 { "a".to_owned() } else { format!("b{}", i - 1) };
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("b{i}: &b{i} [{refs}]\n"));
    }
    assert_eq!(codes(&lint_one(text)), ["yaml-too-many-nodes"]);
}

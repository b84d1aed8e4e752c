//! `cip completions`, `cip man` and `cip schema` through the real binary: the bash script is
//! sourced by a real bash and completes a subcommand, the man page renders with `man -l` (man-db,
//! installed by tests/run-all.sh) and names every subcommand, each schema is the committed file,
//! and a promotion draws its progress bar on a terminal (`script` from util-linux gives it one)
//! and nothing through a pipe.

use std::process::Command;

fn cip(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cip")).args(args).output().unwrap();
    assert!(out.status.success(), "cip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const SUBCOMMANDS: &[&str] =
    &["lint", "plan", "snapshot", "audit", "promote", "run", "lsp", "schema", "completions", "man"];

#[test]
fn bash_completion_sources_and_completes_subcommands() {
    let script = cip(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cip.bash");
    std::fs::write(&path, &script).unwrap();
    // Source the script, then ask its completion function what follows `cip l`.
    let probe = format!(
        "set -e; source '{}'; COMP_WORDS=(cip l); COMP_CWORD=1; COMP_LINE='cip l'; COMP_POINT=5; _cip cip l cip; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let replies = String::from_utf8(out.stdout).unwrap();
    let replies: Vec<&str> = replies.lines().collect();
    assert!(replies.contains(&"lint") && replies.contains(&"lsp"), "{replies:?}");
    for sub in SUBCOMMANDS {
        assert!(script.contains(sub), "{sub} missing from the bash script");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(cip(&["completions", shell]).contains("lint"), "{shell}");
    }
}

#[test]
fn man_page_names_every_subcommand_and_renders() {
    let page = cip(&["man"]);
    assert!(page.contains("\n.TH cip 1 "), "{}", &page[..80.min(page.len())]);
    for sub in SUBCOMMANDS {
        assert!(page.contains(&format!(".SH \"CIP {}\"", sub.to_uppercase())), "no section for {sub}");
    }
    assert!(page.contains("\\-\\-format"), "lint's options are listed");
    // man-db is installed by tests/run-all.sh.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cip.1");
    std::fs::write(&path, &page).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CIP LINT") && text.contains("CIP LSP"), "{text}");
}

#[test]
fn schemas_are_the_committed_files() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/schema/");
    for (kind, file) in [
        ("plain", "plain-manifest.schema.json"),
        ("thin-manifest", "thin-manifest.schema.json"),
        ("thin-images", "thin-images.schema.json"),
    ] {
        let printed = cip(&["schema", kind]);
        assert_eq!(printed, std::fs::read_to_string(format!("{root}{file}")).unwrap(), "{kind}");
        let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
    assert_eq!(cip(&["schema"]), cip(&["schema", "plain"]));
}

/// The promotion progress bar (indicatif) on a terminal: `cip promote --confirm` of the shipped
/// staging layout run under `script` (util-linux, part of every Debian system), which gives it a
/// pseudo-terminal; without one (a pipe, as in CI logs) no bar is drawn.
#[test]
fn promotion_progress_bar_on_a_terminal_only() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let run = |terminal: bool| {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("examples");
        std::fs::create_dir_all(&work).unwrap();
        cip_testkit::copy_dir(&std::path::Path::new(examples).join("staging"), &work.join("staging"));
        std::fs::copy(format!("{examples}/promote.yaml"), work.join("promote.yaml")).unwrap();
        let cip = env!("CARGO_BIN_EXE_cip");
        let out = if terminal {
            let command = format!("{cip} promote --confirm examples/promote.yaml");
            Command::new("script").args(["-qec", &command, "/dev/null"]).current_dir(dir.path()).output()
        } else {
            Command::new(cip)
                .args(["promote", "--confirm", "examples/promote.yaml"])
                .current_dir(dir.path())
                .output()
        }
        .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let piped = run(false);
    assert!(!piped.contains("ETA"), "{piped}");
    let shown = run(true);
    assert!(shown.contains("2/2 images") && shown.contains("ETA") && shown.contains("copied"), "{shown}");
}

//! Stray temporary files in an `oci:` layout: a promotion killed with `kill -9` while writing
//! leaves `blobs/sha256/.tmp-<pid>-<n>-<name>` (and `.tmp-*-index.json`) behind; the next
//! promotion into that layout removes the stale ones at its first write and leaves alone those a
//! writer may still be working on (see the `store::layout` module documentation for the rule).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use cip::promote::{self, PromoteOptions, Quiet};
use cip::{Connection, Layout, RegistryOptions};
use cip_core::{Input, SourceFile};
use cip_testkit::{layout_promotion, staging_layout};

const HELLO: &str = cip_testkit::STAGING_HELLO;
/// A pid that is not this test's (Linux pids stay below 2^22).
const OTHER_PID: u32 = 4_194_400;

/// A copy of `examples/staging`, a manifest promoting it into `prod`, and `prod/blobs/sha256/`
/// created (the state a killed first promotion leaves).
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    staging_layout(dir.path());
    let yaml = layout_promotion(dir.path(), "\"v1\"");
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(&manifest, yaml).expect("write manifest");
    std::fs::create_dir_all(dir.path().join("prod/blobs/sha256")).expect("mkdir");
    (dir, manifest)
}

/// Writes a temporary file as a writer would, last modified at `modified`.
fn temp_file(dir: &Path, pid: u32, n: u32, name: &str, modified: SystemTime) -> PathBuf {
    let path = dir.join(format!(".tmp-{pid}-{n}-{name}"));
    std::fs::write(&path, b"partial bytes").expect("write temp");
    let file = std::fs::File::options().write(true).open(&path).expect("open temp");
    file.set_modified(modified).expect("set mtime");
    path
}

async fn promote_in_process(manifest: &Path) {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let set = cip_core::load(Input {
        files: vec![SourceFile::new(manifest.display().to_string(), text)],
        thin_dirs: None,
    });
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
    let connection = Connection::open(names, Some(&set), &RegistryOptions::default()).expect("connection");
    let options = PromoteOptions { confirm: true, ..PromoteOptions::default() };
    let outcome = promote::run_on(&connection, set, &options, &Quiet).await.expect("promotion");
    let report = outcome.report.expect("executed");
    assert!(!report.has_failures(), "{}", report.to_human());
}

/// Proves the cleaning rule inside one process (as the Node addon runs promotions): the next
/// promotion removes a temporary file of another pid older than its run, and one of this pid
/// older than this process's first layout (a previous run with a recycled pid, as in a
/// container where cip is always pid 1), in `blobs/sha256/` and beside `index.json`; it keeps a
/// temporary file this process wrote after it first opened a layout (a concurrent run's), and
/// one another process modified after the run started. Without the cleaning, the stale files
/// stay forever.
#[tokio::test]
async fn the_next_promotion_removes_stale_temporaries_and_keeps_live_ones() {
    let (dir, manifest) = fixture();
    // This process has opened a layout before (as a long-lived Node process has).
    drop(Layout::open(&format!("oci:{}", dir.path().join("elsewhere").display())));
    let blobs = dir.path().join("prod/blobs/sha256");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let me = std::process::id();
    let stale = [
        temp_file(&blobs, OTHER_PID, 0, &"a".repeat(64), hour_ago),
        temp_file(&blobs, me, 1, &"b".repeat(64), hour_ago),
        temp_file(&dir.path().join("prod"), OTHER_PID, 2, "index.json", hour_ago),
    ];
    let live = [
        temp_file(&blobs, me, 3, &"c".repeat(64), SystemTime::now()),
        temp_file(&blobs, OTHER_PID, 4, &"d".repeat(64), SystemTime::now() + Duration::from_secs(600)),
    ];
    let unrelated = blobs.join(".tmp-notes");
    std::fs::write(&unrelated, b"not cip's").expect("write");
    std::fs::File::options()
        .write(true)
        .open(&unrelated)
        .expect("open")
        .set_modified(hour_ago)
        .expect("mtime");

    promote_in_process(&manifest).await;

    for path in &stale {
        assert!(!path.exists(), "stale temporary file removed: {}", path.display());
    }
    for path in &live {
        assert!(path.exists(), "a writer's live temporary file is kept: {}", path.display());
    }
    assert!(unrelated.exists(), "only cip's temporary names are touched");
    assert!(blobs.join(HELLO.trim_start_matches("sha256:")).exists(), "the promotion itself completed");
}

/// Through the binary, the situation `kill -9` leaves: a temporary file of a process that is
/// gone, older than the run. A dry run (reading only) leaves it; `cip promote --confirm` removes
/// it and promotes.
#[test]
fn cip_promote_removes_what_a_killed_run_left() {
    let (dir, manifest) = fixture();
    let blobs = dir.path().join("prod/blobs/sha256");
    let stale = temp_file(
        &blobs,
        std::process::id(),
        0,
        &"e".repeat(64),
        SystemTime::now() - Duration::from_secs(60),
    );
    let cip = |args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_cip")).args(args).arg(&manifest).output().expect("run cip");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    cip(&["promote"]);
    assert!(stale.exists(), "a dry run deletes nothing");
    cip(&["promote", "--confirm"]);
    assert!(!stale.exists(), "removed by the next promotion");
    let left: Vec<_> = std::fs::read_dir(&blobs)
        .expect("blobs")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");
}

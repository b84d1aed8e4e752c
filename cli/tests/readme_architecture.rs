//! The README's architecture table names real files: every backticked path in it exists. A name
//! is taken from the repository root, or else relative to the row's first directory
//! (`cli/src/registry/` then `ping.rs`, `auth/`, ...). Without this, the table a newcomer relies on
//! to find a rule or a registry operation would silently drift from the tree.

use std::path::Path;

#[test]
fn every_path_in_the_architecture_table_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let start = readme.find("## Architecture").expect("an Architecture section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').collect();
        let first = cells[1].split('`').nth(1).expect("a path in the first column");
        let base = if first.ends_with('/') {
            first.to_string()
        } else {
            first.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"))
        };
        let named = cells[1].split('`').skip(1).step_by(2);
        let described =
            cells[2].split('`').skip(1).step_by(2).filter(|n| n.ends_with(".rs") || n.ends_with('/'));
        for name in named.chain(described) {
            let path = if root.join(name).exists() { name.to_string() } else { format!("{base}{name}") };
            assert!(
                root.join(&path).exists(),
                "README architecture names {name} (in {base}), which does not exist"
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "the table names the engine's files ({checked} checked)");
}

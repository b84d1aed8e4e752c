//! Manifests as of a git revision (`--base-rev REV`): the delta base read from the repository
//! that holds the manifests, in the same [`Input`] shape [`crate::input`] builds from disk (same
//! shown paths, so diagnostics and base pairing work unchanged).
//!
//! This runs the `git` binary (`git -C <dir> show REV:./<path>` for a file; for a thin directory
//! `git ls-tree -r -z REV` and one `git cat-file --batch` for its manifests) rather
//! than linking `gix`: no new heavy dependency in the binary, `git` is what CI jobs (Prow, GitHub
//! Actions) already have, and revisions (`HEAD^`, `origin/main`, abbreviated SHAs, `@{1}`) mean
//! exactly what they mean to the user's own git, with the same configuration and worktrees.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use cip_core::{Input, SourceFile, ThinDir};

/// File names of the thin layout that are read (as [`crate::input`] does).
const THIN_FILES: &[&str] = &["promoter-manifest.yaml", "images.yaml"];

/// Runs git in `dir`; the inner `Err` (git's stderr) when git ran and failed.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<Result<Vec<u8>, String>> {
    let output =
        Command::new("git").arg("-C").arg(dir).args(args).env("GIT_TERMINAL_PROMPT", "0").output().context(
            "running `git` (--base-rev and the manifest-diff flags need git installed and on PATH)",
        )?;
    if output.status.success() {
        Ok(Ok(output.stdout))
    } else {
        Ok(Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()))
    }
}

/// The directory git runs in for `path`: the path itself when it is a directory, else its
/// parent (a file may have been deleted since REV; its folder still tells the repository).
fn locate(path: &str) -> anyhow::Result<(PathBuf, Option<String>)> {
    let p = Path::new(path);
    if p.is_dir() {
        return Ok((p.to_path_buf(), None));
    }
    let parent = match p.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = p.file_name().with_context(|| format!("{path}: not a file or directory path"))?;
    if !parent.is_dir() {
        bail!("cannot read {path} at a git revision: its folder {} does not exist", parent.display());
    }
    Ok((parent, Some(name.to_string_lossy().into_owned())))
}

/// Checks that `dir` is inside a git work tree and that `rev` names a commit there.
fn check(dir: &Path, path: &str, rev: &str) -> anyhow::Result<()> {
    if git(dir, &["rev-parse", "--is-inside-work-tree"])?.is_err() {
        bail!(
            "{path} is not inside a git repository: --base-rev (and --use-prow-manifest-diff, --manifest-diff-since) read the base manifests from git history; run from a clone, or give the base manifests as files with --base PATH"
        );
    }
    let spec = format!("{rev}^{{commit}}");
    if git(dir, &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec])?.is_err() {
        bail!(
            "revision `{rev}` does not exist in the git repository holding {path}: give a commit, branch or tag that exists there (a shallow clone may lack it: fetch more history, e.g. `git fetch --deepen=1`)"
        );
    }
    Ok(())
}

/// What `REV:./name` is in `dir`: a blob, a tree, or nothing (did not exist at REV).
fn kind(dir: &Path, rev: &str, name: &str) -> anyhow::Result<Option<String>> {
    let object = format!("{rev}:./{name}");
    Ok(git(dir, &["cat-file", "-t", &object])?.ok().map(|t| String::from_utf8_lossy(&t).trim().to_owned()))
}

fn show(dir: &Path, rev: &str, rel: &str, shown: &str) -> anyhow::Result<SourceFile> {
    let object = format!("{rev}:./{rel}");
    let bytes = git(dir, &["show", &object])?
        .map_err(|e| anyhow::anyhow!("cannot read {shown} at revision {rev}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("{shown} at revision {rev} is not UTF-8 text; manifests are YAML text files")
    })?;
    Ok(SourceFile::new(shown, text))
}

/// Reads blobs by object id with one `git cat-file --batch` (a thin directory of the Kubernetes
/// size has hundreds of files: one process, not one per file), as files shown at the given paths.
fn blobs(dir: &Path, rev: &str, wanted: &[(String, String)]) -> anyhow::Result<Vec<SourceFile>> {
    use std::io::Write;
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running `git cat-file --batch`")?;
    let mut stdin = child.stdin.take().context("git cat-file stdin")?;
    let ids: String = wanted.iter().map(|(oid, _)| format!("{oid}\n")).collect();
    // Written from a thread so a large output cannot deadlock against a full input pipe.
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let output = child.wait_with_output().context("reading `git cat-file --batch`")?;
    let _ = writer.join();
    if !output.status.success() {
        bail!(
            "git cat-file --batch failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut rest = output.stdout.as_slice();
    let mut files = Vec::with_capacity(wanted.len());
    for (oid, shown) in wanted {
        let bad = || anyhow::anyhow!("cannot read {shown} ({oid}) at revision {rev} from git");
        let newline = rest.iter().position(|b| *b == b'\n').ok_or_else(bad)?;
        let header = String::from_utf8_lossy(&rest[..newline]).into_owned();
        let size: usize = match header.split(' ').collect::<Vec<_>>()[..] {
            [id, "blob", size] if id == oid => size.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        let body = rest.get(newline + 1..newline + 1 + size).ok_or_else(bad)?;
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            anyhow::anyhow!("{shown} at revision {rev} is not UTF-8 text; manifests are YAML text files")
        })?;
        files.push(SourceFile::new(shown, text));
        rest = rest.get(newline + 2 + size..).unwrap_or_default();
    }
    Ok(files)
}

/// Reads the PATH arguments as they were at git revision `rev`. A path that did not exist at
/// `rev` contributes nothing (an empty base: everything in it is new).
pub(crate) fn read_paths_at<P: AsRef<str>>(rev: &str, paths: &[P]) -> anyhow::Result<Input> {
    let mut files = Vec::new();
    let mut thin_dirs = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let (dir, name) = locate(path)?;
        check(&dir, path, rev)?;
        match name {
            Some(name) => {
                if kind(&dir, rev, &name)?.as_deref() == Some("blob") {
                    files.push(show(&dir, rev, &name, path)?);
                }
            }
            None => {
                let root = path.trim_end_matches('/');
                let mut dirs = std::collections::BTreeSet::new();
                let mut wanted = Vec::new();
                if kind(&dir, rev, "")?.as_deref() == Some("tree") {
                    let listing = git(&dir, &["ls-tree", "-r", "-z", rev, "--", "."])?
                        .map_err(|e| anyhow::anyhow!("cannot list {path} at revision {rev}: {e}"))?;
                    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
                        let record = String::from_utf8_lossy(record);
                        let Some((meta, rel)) = record.split_once('\t') else { continue };
                        let oid = meta.rsplit(' ').next().unwrap_or_default().to_owned();
                        // Regular files only (100644/100755): symlinks and submodules are skipped.
                        if !meta.starts_with("100") || !meta.contains(" blob ") {
                            continue;
                        }
                        let mut parts: Vec<&str> = rel.split('/').collect();
                        let file = parts.pop().unwrap_or_default();
                        for depth in 1..=parts.len() {
                            dirs.insert(parts[..depth].join("/"));
                        }
                        if THIN_FILES.contains(&file) {
                            wanted.push((oid, format!("{root}/{rel}")));
                        }
                    }
                }
                files.extend(blobs(&dir, rev, &wanted)?);
                thin_dirs.push(ThinDir { root: path.to_owned(), dirs: dirs.into_iter().collect() });
            }
        }
    }
    Ok(Input { files, thin_dirs: Some(thin_dirs) })
}

/// The base revision for `--manifest-diff-since=DURATION`: the parent of the oldest commit newer
/// than DURATION on HEAD, or `None` (no base: everything) when there is no such commit or it
/// has no parent.
pub(crate) fn rev_since(path: &str, since: &str) -> anyhow::Result<Option<String>> {
    let seconds = parse_duration(since)?;
    let (dir, _) = locate(path)?;
    check(&dir, path, "HEAD")?;
    let since = format!("--since={seconds} seconds ago");
    let list = git(&dir, &["rev-list", &since, "HEAD"])?
        .map_err(|e| anyhow::anyhow!("git rev-list {since} failed in {}: {e}", dir.display()))?;
    let list = String::from_utf8_lossy(&list);
    let Some(oldest) = list.lines().rfind(|l| !l.is_empty()) else { return Ok(None) };
    let parent = format!("{oldest}^");
    let spec = format!("{parent}^{{commit}}");
    Ok(git(&dir, &["rev-parse", "--verify", "--quiet", &spec])?.ok().map(|_| oldest.to_owned() + "^"))
}

/// `14 days`, `14d`, `36h`, `2 weeks`, `90m`, `30s` (also `14 days ago`) as seconds.
pub(crate) fn parse_duration(text: &str) -> anyhow::Result<u64> {
    let bad = || {
        anyhow::anyhow!(
            "--manifest-diff-since={text}: expected a duration such as \"14 days\", 14d, 36h, 2w or 90m"
        )
    };
    let t = text.trim().trim_end_matches("ago").trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let unit = match unit.trim().trim_start_matches('.') {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(unit).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("14 days").unwrap(), 14 * 86_400);
        assert_eq!(parse_duration("14d").unwrap(), 14 * 86_400);
        assert_eq!(parse_duration("36h").unwrap(), 36 * 3600);
        assert_eq!(parse_duration("2 weeks ago").unwrap(), 14 * 86_400);
        assert!(
            parse_duration("soon").is_err() && parse_duration("14").is_err() && parse_duration("").is_err()
        );
    }
}

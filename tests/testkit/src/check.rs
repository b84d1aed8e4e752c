//! Invariant checks used by end-to-end and fault tests.

use crate::client::Client;
use crate::data::Digest;
use std::collections::BTreeSet;
use std::time::Duration;

/// Maximum nesting of indexes followed; deeper means a cycle or a hostile registry.
const MAX_DEPTH: usize = 8;

/// Checks the crash-safety invariant for `repo`: every tag points at a manifest whose children
/// (recursively), config and layers all exist in the repository. Returns every problem found, sorted.
pub async fn check_complete(client: &Client, repo: &str) -> Result<(), String> {
    let tags = client.list_tags(repo).await.map_err(|e| e.to_string())?;
    let mut problems = BTreeSet::new();
    let mut checked = BTreeSet::new();
    for tag in &tags {
        match client.get_manifest(repo, tag).await {
            Ok(Some(manifest)) => {
                check_manifest(client, repo, &manifest.digest, &mut checked, &mut problems, 0).await;
            }
            Ok(None) => {
                problems.insert(format!("{repo}:{tag}: tag listed but manifest missing"));
            }
            Err(e) => {
                problems.insert(format!("{repo}:{tag}: {e}"));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.into_iter().collect::<Vec<_>>().join("\n")) }
}

/// Checks one manifest and everything it references; boxed because it recurses through indexes.
fn check_manifest<'a>(
    client: &'a Client,
    repo: &'a str,
    digest: &'a Digest,
    checked: &'a mut BTreeSet<Digest>,
    problems: &'a mut BTreeSet<String>,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        if !checked.insert(digest.clone()) {
            return;
        }
        if depth > MAX_DEPTH {
            problems.insert(format!("{repo}@{digest}: indexes nested deeper than {MAX_DEPTH}"));
            return;
        }
        let manifest = match client.get_manifest(repo, digest.as_str()).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                problems.insert(format!("{repo}@{digest}: manifest missing"));
                return;
            }
            Err(e) => {
                problems.insert(format!("{repo}@{digest}: {e}"));
                return;
            }
        };
        for child in manifest.children() {
            check_manifest(client, repo, &child, checked, problems, depth + 1).await;
        }
        for blob in manifest.blobs() {
            match client.blob_exists(repo, &blob).await {
                Ok(true) => {}
                Ok(false) => {
                    problems.insert(format!("{repo}@{digest}: blob {blob} missing"));
                }
                Err(e) => {
                    problems.insert(format!("{repo}@{digest}: blob {blob}: {e}"));
                }
            }
        }
    })
}

/// The largest number of events within any window of length `window` (events need not be sorted).
///
/// With access-log seconds use `Duration::from_secs(1)` on `unix_second * 1000` millisecond stamps;
/// with [`crate::FaultProxy::requests`] use the proxy's millisecond stamps directly.
pub fn max_in_window(mut stamps_ms: Vec<u64>, window: Duration) -> usize {
    stamps_ms.sort_unstable();
    let width = window.as_millis() as u64;
    let mut best = 0;
    let mut start = 0;
    for end in 0..stamps_ms.len() {
        while stamps_ms[end] - stamps_ms[start] >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts() {
        assert_eq!(max_in_window(vec![], Duration::from_secs(1)), 0);
        assert_eq!(max_in_window(vec![0, 500, 999, 1000, 1999], Duration::from_secs(1)), 3);
        assert_eq!(max_in_window(vec![5000, 0, 10], Duration::from_secs(1)), 2);
    }
}

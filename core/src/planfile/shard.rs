//! Shards: a deterministic, balanced split of a plan's actions across N workers
//! (`cip apply plan.json --shard I/N`), and how many shards reach each registry host (so each
//! worker takes its share of a host's request rate).
//!
//! Actions are grouped and whole groups are placed, never a destination repository across two
//! groups: an index's children and the index itself, and the blobs one repository mounts from
//! another copy of the same image in that repository, stay with one worker, in plan order. A
//! plan file groups the copies of one image to every mirror together
//! ([`super::PlanFile::partition`]), so one worker reads each source image once for all its
//! mirrors (the executor's fan-out) instead of N workers each reading it. Groups go largest first
//! into the least-loaded shard (ties: the lower shard index; equal groups: by repository name),
//! which is within one group's weight of the best balance. The union of all shards is the plan;
//! no action is in two shards.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::plan::{Action, ActionKind};

/// One worker's part: shard `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// 0-based, below `count`.
    pub index: usize,
    /// Number of shards, at least 1.
    pub count: usize,
}

/// A `--shard` value that is not `I/N` with `0 <= I < N`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard {0:?}: expected I/N with 0 <= I < N (0-based, e.g. 0/4 .. 3/4)")]
pub struct InvalidShard(pub String);

impl Shard {
    /// Shard `index` of `count`, checked.
    pub fn new(index: usize, count: usize) -> Result<Self, InvalidShard> {
        if count == 0 || index >= count {
            return Err(InvalidShard(format!("{index}/{count}")));
        }
        Ok(Shard { index, count })
    }

    /// The whole plan as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

impl FromStr for Shard {
    type Err = InvalidShard;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidShard(text.to_owned());
        let (i, n) = text.split_once('/').ok_or_else(invalid)?;
        let index = i.trim().parse().map_err(|_| invalid())?;
        let count = n.trim().parse().map_err(|_| invalid())?;
        Shard::new(index, count).map_err(|_| invalid())
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Splits `actions` into `count` shards, one group per destination repository, by action
/// count: the indexes of each shard's actions, in plan order.
pub fn partition(actions: &[Action], count: usize) -> Vec<Vec<usize>> {
    partition_by(actions, count, |a| a.dst.clone(), |_| 1)
}

/// Splits `actions` into `count` shards (at least one): actions with the same `group` stay
/// together (`group` must give one value for every action of a destination repository), and the
/// sum of `weight` per shard is balanced. A plan file knows no sizes (the inventory records
/// none), so `cip apply` weighs every action 1; any known weight, such as bytes, works.
pub fn partition_by(
    actions: &[Action],
    count: usize,
    group: impl Fn(&Action) -> String,
    weight: impl Fn(&Action) -> u64,
) -> Vec<Vec<usize>> {
    let count = count.max(1);
    let mut groups: BTreeMap<String, (u64, Vec<usize>)> = BTreeMap::new();
    for (i, action) in actions.iter().enumerate() {
        let group = groups.entry(group(action)).or_default();
        group.0 += weight(action);
        group.1.push(i);
    }
    let mut order: Vec<(&str, u64)> = groups.iter().map(|(repo, (w, _))| (repo.as_str(), *w)).collect();
    // Largest first; the map's name order breaks ties (stable sort).
    order.sort_by_key(|g| std::cmp::Reverse(g.1));
    let mut load = vec![0u64; count];
    let mut shards = vec![Vec::new(); count];
    for (repo, w) in order {
        let target = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[target] += w;
        shards[target].extend_from_slice(&groups[repo].1);
    }
    for shard in &mut shards {
        shard.sort_unstable();
    }
    shards
}

/// The registry host of a full repository path (`127.0.0.1:5000/prod/foo` -> `127.0.0.1:5000`);
/// `None` for `oci:` layouts, which have no request rate.
pub fn host_of(repository: &str) -> Option<&str> {
    if repository.starts_with("oci:") {
        return None;
    }
    let repo = repository.split_once('@').map_or(repository, |(r, _)| r);
    repo.split_once('/').map(|(host, _)| host).filter(|h| !h.is_empty())
}

/// The hosts one action sends requests to: its destination, and for a copy or an attach its
/// source.
fn hosts_of(action: &Action) -> impl Iterator<Item = &str> {
    let reads_source = matches!(action.action, ActionKind::Copy | ActionKind::Attach);
    let source = reads_source.then(|| host_of(&action.src)).flatten();
    host_of(&action.dst).into_iter().chain(source)
}

/// For every registry host the actions reach, the number of `shards` (a partition of
/// `actions`) that send it requests. A worker divides its rate for a host by this number, so all
/// shards together stay within the rate one worker would use. Every worker computes the same
/// numbers from the same plan file.
pub fn shards_per_host(actions: &[Action], shards: &[Vec<usize>]) -> BTreeMap<String, usize> {
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for shard in shards {
        let hosts: BTreeSet<&str> = shard.iter().flat_map(|&i| hosts_of(&actions[i])).collect();
        for host in hosts {
            *per_host.entry(host.to_owned()).or_default() += 1;
        }
    }
    per_host
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn action(dst: &str, n: usize, kind: ActionKind) -> Action {
        Action {
            action: kind,
            src: format!("stage.example/s/{dst}@sha256:{n:064x}"),
            dst: format!("prod.example/{dst}"),
            digest: format!("sha256:{n:064x}"),
            tags: vec![format!("v{n}")],
            media_type: None,
            attachment: None,
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("1/4".parse(), Ok(Shard { index: 1, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert_eq!(Shard { index: 2, count: 3 }.to_string(), "2/3");
    }

    #[test]
    fn repositories_stay_whole_and_load_is_balanced() {
        let mut actions = Vec::new();
        for (repo, n) in [("a", 6), ("b", 3), ("c", 3), ("d", 2), ("e", 2)] {
            for i in 0..n {
                actions.push(action(repo, actions.len() + i, ActionKind::Copy));
            }
        }
        let shards = partition(&actions, 2);
        let sizes: Vec<usize> = shards.iter().map(Vec::len).collect();
        assert_eq!(sizes, [8, 8]);
        for shard in &shards {
            let repos: BTreeSet<&str> = shard.iter().map(|&i| actions[i].dst.as_str()).collect();
            for other in shards.iter().filter(|s| *s != shard) {
                assert!(other.iter().all(|&i| !repos.contains(actions[i].dst.as_str())));
            }
        }
    }

    #[test]
    fn weights_balance_bytes() {
        let actions = vec![
            action("big", 1, ActionKind::Copy),
            action("s1", 2, ActionKind::Copy),
            action("s2", 3, ActionKind::Copy),
        ];
        let shards =
            partition_by(&actions, 2, |a| a.dst.clone(), |a| if a.dst.ends_with("big") { 100 } else { 1 });
        assert_eq!(shards, [vec![0], vec![1, 2]]);
    }

    #[test]
    fn hosts_count_the_shards_that_reach_them() {
        let mut actions = vec![action("a", 1, ActionKind::Copy), action("b", 2, ActionKind::Tag)];
        actions[1].dst = "other.example/b".into();
        let per_host = shards_per_host(&actions, &partition(&actions, 2));
        assert_eq!(per_host["prod.example"], 1);
        assert_eq!(per_host["other.example"], 1);
        // Only the copy reads the source.
        assert_eq!(per_host["stage.example"], 1);
        assert_eq!(host_of("oci:./out/foo"), None);
        assert_eq!(host_of("127.0.0.1:5000/prod/foo@sha256:aa"), Some("127.0.0.1:5000"));
    }

    proptest! {
        #[test]
        fn shards_cover_the_plan_exactly_once(
            repos in proptest::collection::vec((0usize..12, any::<bool>()), 0..80),
            count in 1usize..9,
        ) {
            let actions: Vec<Action> = repos
                .iter()
                .enumerate()
                .map(|(i, (r, copy))| action(&format!("r{r}"), i, if *copy { ActionKind::Copy } else { ActionKind::Tag }))
                .collect();
            let shards = partition(&actions, count);
            prop_assert_eq!(shards.len(), count);
            let mut seen: Vec<usize> = shards.iter().flatten().copied().collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..actions.len()).collect::<Vec<_>>());
            // A repository never spans two shards, and each shard keeps plan order.
            for shard in &shards {
                prop_assert!(shard.windows(2).all(|w| w[0] < w[1]));
                for other in &shards {
                    if std::ptr::eq(shard, other) { continue; }
                    for &i in shard {
                        prop_assert!(other.iter().all(|&j| actions[j].dst != actions[i].dst));
                    }
                }
            }
            // Greedy balance: no shard exceeds the lightest by more than the largest group.
            let mut group: BTreeMap<&str, usize> = BTreeMap::new();
            for a in &actions { *group.entry(a.dst.as_str()).or_default() += 1; }
            let largest = group.values().copied().max().unwrap_or(0);
            let sizes: Vec<usize> = shards.iter().map(Vec::len).collect();
            let (lo, hi) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
            prop_assert!(hi - lo <= largest);
            // Deterministic.
            prop_assert_eq!(partition(&actions, count), shards);
        }
    }
}

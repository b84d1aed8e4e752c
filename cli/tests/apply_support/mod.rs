//! The commands the shipped examples run (`examples/kubernetes/`, `examples/github/promote.yml`),
//! written once: `examples_yaml.rs` checks that the YAML runs exactly these, and
//! `apply_shards.rs` runs them against real registries (with their paths pointed at a
//! temporary directory, as the volumes and the checkout place them).

#![allow(dead_code)]

use std::path::Path;

/// The Indexed Job's container `args` (`examples/kubernetes/job.yaml`).
pub const K8S_APPLY: &[&str] =
    &["apply", "/plan/plan.json", "--shards", "4", "--report", "/reports/shard-$(JOB_COMPLETION_INDEX).json"];

/// The merge Job's container `args` (`examples/kubernetes/merge-job.yaml`).
pub const K8S_MERGE: &[&str] = &[
    "report",
    "merge",
    "/reports/shard-0.json",
    "/reports/shard-1.json",
    "/reports/shard-2.json",
    "/reports/shard-3.json",
];

/// The `run:` lines of `examples/github/promote.yml` that call cip, in job order.
pub const GH_PLAN: &str = "cip plan --out plan.json promote.yaml";
/// The apply matrix job's command.
pub const GH_APPLY: &str = "cip apply plan.json --check promote.yaml --shard ${{ matrix.shard }}/4 --report report-${{ matrix.shard }}.json";
/// The merge job's command.
pub const GH_MERGE: &str = "cip report merge report-0.json report-1.json report-2.json report-3.json";

/// Shards of both examples.
pub const SHARDS: usize = 4;

/// The Kubernetes args for pod `index`, as the cluster makes them: `$(JOB_COMPLETION_INDEX)`
/// expanded, the ConfigMap (`/plan`) and report volume (`/reports`) mounted at `plan_dir` and
/// `reports_dir`.
pub fn k8s_args(args: &[&str], index: Option<usize>, plan_dir: &Path, reports_dir: &Path) -> Vec<String> {
    args.iter()
        .map(|a| {
            let mut a = a.replace("/plan/", &format!("{}/", plan_dir.display()));
            a = a.replace("/reports/", &format!("{}/", reports_dir.display()));
            if let Some(i) = index {
                a = a.replace("$(JOB_COMPLETION_INDEX)", &i.to_string());
            }
            a
        })
        .collect()
}

/// A GitHub `run:` line as the runner executes it for matrix shard `shard` (in the checkout):
/// `${{ matrix.shard }}` expanded, the leading `cip` dropped.
pub fn gh_args(line: &str, shard: Option<usize>) -> Vec<String> {
    let line = match shard {
        Some(s) => line.replace("${{ matrix.shard }}", &s.to_string()),
        None => line.to_owned(),
    };
    let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    assert_eq!(words.remove(0), "cip");
    words
}

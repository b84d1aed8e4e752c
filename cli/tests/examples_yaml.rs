//! The shipped sharding examples parse as YAML and run exactly the commands `apply_shards.rs`
//! runs against real registries (the commands live once, in `apply_support`). Parsed with the
//! workspace's YAML reader (`cip_core::yaml`, on granit-parser), so an indentation slip in an
//! example fails here.

mod apply_support;

use std::path::PathBuf;

use apply_support::{GH_APPLY, GH_MERGE, GH_PLAN, K8S_APPLY, K8S_MERGE, SHARDS};
use cip_core::yaml::{Node, NodeKind};

fn example(path: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn get<'a>(node: &'a Node<'a>, key: &str) -> &'a Node<'a> {
    let NodeKind::Map(entries) = &node.kind else { panic!("{key}: parent is not a mapping") };
    entries
        .iter()
        .find(|(k, _)| k.as_scalar() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no key {key}"))
}

fn items<'a>(node: &'a Node<'a>) -> &'a [Node<'a>] {
    let NodeKind::Seq(items) = &node.kind else { panic!("not a sequence") };
    items
}

fn text<'a>(node: &'a Node<'a>) -> &'a str {
    node.as_scalar().expect("a scalar")
}

fn strings(node: &Node<'_>) -> Vec<String> {
    items(node).iter().map(|n| text(n).to_owned()).collect()
}

#[test]
fn kubernetes_job_is_indexed_and_runs_the_tested_apply() {
    let source = example("kubernetes/job.yaml");
    let doc = cip_core::yaml::parse(&source).expect("job.yaml parses").expect("a document");
    assert_eq!(text(get(&doc, "kind")), "Job");
    let spec = get(&doc, "spec");
    assert_eq!(text(get(spec, "completionMode")), "Indexed");
    assert_eq!(text(get(spec, "completions")), SHARDS.to_string());
    assert_eq!(text(get(spec, "parallelism")), SHARDS.to_string());
    let pod = get(get(spec, "template"), "spec");
    let container = &items(get(pod, "containers"))[0];
    assert_eq!(strings(get(container, "args")), K8S_APPLY);
    // The plan from a ConfigMap at /plan, the Docker config from a Secret at $DOCKER_CONFIG, the
    // reports on the shared claim at /reports.
    let mounts: Vec<(String, String)> = items(get(container, "volumeMounts"))
        .iter()
        .map(|m| (text(get(m, "name")).to_owned(), text(get(m, "mountPath")).to_owned()))
        .collect();
    let mount = |name: &str| mounts.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone()).expect(name);
    assert_eq!(mount("plan"), "/plan");
    assert_eq!(mount("reports"), "/reports");
    let env = &items(get(container, "env"))[0];
    assert_eq!(text(get(env, "name")), "DOCKER_CONFIG");
    assert_eq!(text(get(env, "value")), mount("docker-config"));
    let volumes = items(get(pod, "volumes"));
    let volume = |name: &str| volumes.iter().find(|v| text(get(v, "name")) == name).expect(name);
    assert_eq!(text(get(get(volume("plan"), "configMap"), "name")), "cip-plan");
    assert_eq!(text(get(get(volume("docker-config"), "secret"), "secretName")), "cip-docker-config");
    assert_eq!(text(get(get(volume("reports"), "persistentVolumeClaim"), "claimName")), "cip-reports");

    let merge_source = example("kubernetes/merge-job.yaml");
    let merge = cip_core::yaml::parse(&merge_source).expect("merge-job.yaml parses").expect("a document");
    let merge_pod = get(get(get(&merge, "spec"), "template"), "spec");
    assert_eq!(strings(get(&items(get(merge_pod, "containers"))[0], "args")), K8S_MERGE);

    let pvc_source = example("kubernetes/reports-pvc.yaml");
    let pvc = cip_core::yaml::parse(&pvc_source).expect("reports-pvc.yaml parses").expect("a document");
    assert_eq!(text(get(get(&pvc, "metadata"), "name")), "cip-reports");
    assert_eq!(strings(get(get(&pvc, "spec"), "accessModes")), ["ReadWriteMany"]);
}

#[test]
fn github_workflow_plans_once_applies_a_matrix_and_merges() {
    let source = example("github/promote.yml");
    let doc = cip_core::yaml::parse(&source).expect("promote.yml parses").expect("a document");
    let jobs = get(&doc, "jobs");
    let runs = |job: &str| -> Vec<String> {
        items(get(get(jobs, job), "steps"))
            .iter()
            .filter_map(|step| match &step.kind {
                NodeKind::Map(entries) => {
                    entries.iter().find(|(k, _)| k.as_scalar() == Some("run")).map(|(_, v)| v)
                }
                _ => None,
            })
            .map(|run| text(run).to_owned())
            .filter(|run| run.starts_with("cip "))
            .collect()
    };
    assert_eq!(runs("plan"), [GH_PLAN]);
    assert_eq!(runs("apply"), [GH_APPLY]);
    assert_eq!(runs("merge"), [GH_MERGE]);
    let apply = get(jobs, "apply");
    assert_eq!(text(get(apply, "needs")), "plan");
    let matrix: Vec<String> = strings(get(get(get(apply, "strategy"), "matrix"), "shard"));
    let expected: Vec<String> = (0..SHARDS).map(|i| i.to_string()).collect();
    assert_eq!(matrix, expected);
    assert_eq!(text(get(get(jobs, "merge"), "needs")), "apply");
}

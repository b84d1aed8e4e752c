//! What the tests running `cip::promote::run` on one manifest share (`promote_fanout.rs`,
//! `promote_throttle.rs`): options for loopback registries and a run of one `promote.yaml`.

use cip::connect::RegistryOptions;
use cip::promote::{self, PromoteOptions, PromoteOutcome, Quiet};
use cip_core::{Input, SourceFile};

/// The default options (rates included) without the Docker configuration: the test registries
/// are open. `confirm` writes; without it the run only plans.
pub fn options(confirm: bool) -> PromoteOptions {
    PromoteOptions {
        confirm,
        registry: RegistryOptions { no_docker_config: true, ..RegistryOptions::default() },
        ..PromoteOptions::default()
    }
}

/// Runs `yaml` (as `promote.yaml`) with `options`, observed by nobody.
pub async fn run(yaml: &str, options: &PromoteOptions) -> PromoteOutcome {
    let input = Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None };
    promote::run(input, options, &Quiet).await.expect("promotion runs")
}

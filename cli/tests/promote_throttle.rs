//! A registry with a request quota (issue 15): the destination is the real CNCF distribution
//! registry (Debian `docker-registry`) behind the test kit's proxy, which answers `429` with
//! `Retry-After` to every request beyond N in any one-second window. With no rate flags (a
//! loopback host starts unlimited), cip must finish with zero failed images, its adaptive rate
//! for that host must have fallen, and its report must count exactly the `429`s the proxy sent.
//! How fast it converges is the benchmark's business (`bench/throttle.sh`), not a timed test.

mod promote_support;

use cip_testkit::{FaultProxy, FaultProxyConfig, MediaKind, Registry, check_complete, random_layer};

/// The quota: requests per second the destination serves.
const QUOTA: u32 = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_registry_slows_cip_down_and_nothing_fails() {
    let source = Registry::start().await.expect("source");
    let destination = Registry::start().await.expect("destination");
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(destination.host()).with_throttle(QUOTA))
        .await
        .expect("proxy");
    let client = source.client();
    let mut yaml =
        format!("registries:\n- name: {}\n  src: true\n- name: {}\nimages:\n", source.host(), proxy.host());
    let mut repos = Vec::new();
    for i in 0..8u64 {
        let repo = format!("team/app{i}");
        let layers = [random_layer(100 + i, 4096), random_layer(200 + i, 2048)];
        let image = client.push_image(&repo, Some("v1"), &layers, MediaKind::Docker).await.expect("push");
        yaml.push_str(&format!("- name: {repo}\n  dmap:\n    \"{}\": [\"v1\"]\n", image.digest.as_str()));
        repos.push(repo);
    }

    let outcome = promote_support::run(&yaml, &promote_support::options(true)).await;
    // The machine-readable result (`cip promote --format json`, the Node addon) carries the same.
    let json: serde_json::Value = serde_json::from_str(&outcome.to_json()).expect("json");
    let report = outcome.report.expect("work to do");

    assert_eq!(report.summary.failed, 0, "{}", report.to_human());
    assert_eq!(report.summary.done, repos.len());
    let dest = destination.client();
    for repo in &repos {
        check_complete(&dest, repo).await.expect("complete image");
    }
    assert!(proxy.throttled() > 0, "the quota was hit: the test exercises throttling");
    let host = &report.hosts[&proxy.host()];
    assert_eq!(host.limiter.throttled, proxy.throttled(), "every 429 is counted, on this host");
    assert!(host.limiter.cuts >= 1, "{host:?}");
    let in_json = &json["report"]["hosts"][proxy.host()];
    assert_eq!(in_json["throttled"], proxy.throttled(), "{in_json}");
    assert_eq!(in_json["mode"], "adaptive");
    assert!(in_json["lowest"].as_f64().is_some() && in_json["requests"].as_u64() > Some(0), "{in_json}");
    let lowest = host.limiter.lowest.expect("the rate was limited after a 429");
    assert!(lowest.is_finite() && lowest >= 1.0, "{host:?}");
    // The source never asked to slow down and stays unlimited.
    let src = &report.hosts[&source.host()];
    assert_eq!((src.limiter.throttled, src.limiter.cuts, src.limiter.lowest), (0, 0, None));
    assert!(report.to_human().contains(&format!("rate {}: adaptive", proxy.host())), "{}", report.to_human());
}

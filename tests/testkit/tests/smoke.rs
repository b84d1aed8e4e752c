//! Smoke test of the kit against the real registry: two open instances, Basic and token auth.

use cip_testkit::{Client, MediaKind, Platform, Registry, check_complete, random_layer};
use std::time::Duration;

/// Whole-test bound so a wedged registry can never hang CI.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn two_registries_index_round_trip() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (a, b) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
        assert_ne!(a.port(), b.port());
        for (registry, kind) in [(&a, MediaKind::Oci), (&b, MediaKind::Docker)] {
            let client = registry.client();
            let shared = random_layer(1, 4096);
            let amd = client
                .push_image_for(
                    "team/app",
                    None,
                    &[shared.clone(), random_layer(2, 100)],
                    kind,
                    Platform::linux("amd64"),
                )
                .await
                .unwrap();
            let arm = client
                .push_image_for(
                    "team/app",
                    None,
                    &[shared, random_layer(3, 100)],
                    kind,
                    Platform::linux("arm64"),
                )
                .await
                .unwrap();
            let index =
                client.push_index("team/app", Some("v1"), &[amd.clone(), arm.clone()], kind).await.unwrap();

            let fetched = client.get_manifest("team/app", "v1").await.unwrap().expect("tag v1");
            assert_eq!(fetched.digest, index.digest);
            assert_eq!(fetched.bytes, index.bytes);
            assert_eq!(fetched.media_type, kind.index());
            assert_eq!(fetched.children(), vec![amd.digest.clone(), arm.digest.clone()]);
            assert_eq!(client.list_tags("team/app").await.unwrap(), vec!["v1".to_string()]);
            for blob in client.get_manifest("team/app", amd.digest.as_str()).await.unwrap().unwrap().blobs() {
                assert!(client.blob_exists("team/app", &blob).await.unwrap());
            }
            check_complete(&client, "team/app").await.unwrap();
            assert!(client.list_tags("missing/repo").await.unwrap().is_empty());
        }
        // Same seed, same bytes, same digests: content is deterministic across registries.
        let layers = [random_layer(9, 10)];
        let (client_a, client_b) = (a.client(), b.client());
        let arches = ["amd64", "arm64"];
        let on_a =
            client_a.push_multi_arch("other", Some("x"), &layers, &arches, MediaKind::Oci).await.unwrap();
        let on_b =
            client_b.push_multi_arch("other", Some("x"), &layers, &arches, MediaKind::Oci).await.unwrap();
        assert_eq!(on_a.digest, on_b.digest);

        let log = a.request_log();
        assert!(
            log.iter().any(|r| r.method == "PUT" && r.path == "/v2/team/app/manifests/v1" && r.status == 201)
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn basic_auth_registry() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let registry = Registry::start_basic("alice", "s3cret-pass").await.unwrap();
        let client = registry.client();
        client
            .push_image("private/app", Some("1.0"), &[random_layer(4, 512)], MediaKind::Docker)
            .await
            .unwrap();
        assert_eq!(client.list_tags("private/app").await.unwrap(), vec!["1.0".to_string()]);

        let anonymous = Client::new(&registry.url(), None);
        let refused = anonymous.list_tags("private/app").await.unwrap_err().to_string();
        assert!(refused.contains("401"), "{refused}");
        let log = registry.request_log();
        assert!(log.iter().any(|r| r.status == 401));
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn token_auth_registry() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let registry = Registry::start_token("bob", "t0ken-pass").await.unwrap();
        assert!(registry.token_realm().is_some());
        let client = registry.client();
        let image = client
            .push_image("secure/app", Some("2.0"), &[random_layer(5, 512)], MediaKind::Oci)
            .await
            .unwrap();
        let fetched = client.get_manifest("secure/app", "2.0").await.unwrap().unwrap();
        assert_eq!(fetched.digest, image.digest);
        check_complete(&client, "secure/app").await.unwrap();

        // Anonymous tokens carry no access: the registry refuses them.
        let anonymous = Client::new(&registry.url(), None);
        assert!(anonymous.get_manifest("secure/app", "2.0").await.is_err());
    })
    .await
    .expect("test timed out");
}

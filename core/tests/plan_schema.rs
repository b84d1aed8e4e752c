//! Keeps `core/inventory.schema.json` in step with the inventory types: the schema is valid JSON,
//! names exactly the fields the types serialize, and every inventory of the plan vectors reads.
//! This test needs no extra crate and does not apply the schema's rules (patterns, required keys);
//! full JSON Schema validation of the vector inventories is `tests/schema/validate.py` (Python
//! `jsonschema`), a step of `tests/run-all.sh`, which CI runs.

use std::collections::BTreeSet;
use std::path::Path;

use cip_core::Inventory;
use cip_core::inventory::ManifestInfo;
use serde_json::Value;

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema is JSON")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

#[test]
fn schema_names_the_serialized_fields() {
    let schema = schema();
    assert_eq!(keys(&schema["properties"]), BTreeSet::from(["repositories".to_owned()]));
    let full = ManifestInfo {
        tags: vec!["1.0".into()],
        media_type: Some("application/vnd.oci.image.index.v1+json".into()),
        children: vec![format!("sha256:{}", "a".repeat(64))],
        subject: Some(format!("sha256:{}", "b".repeat(64))),
        artifact_type: Some("application/spdx+json".into()),
        layers: vec![format!("sha256:{}", "c".repeat(64))],
        signed_layers: vec![cip_core::trust::SignedLayer {
            media_type: cip_core::trust::SIMPLE_SIGNING_MEDIA_TYPE.into(),
            digest: format!("sha256:{}", "c".repeat(64)),
            annotations: [("k".to_owned(), "v".to_owned())].into(),
            data: "e30=".into(),
        }],
    };
    let serialized = serde_json::to_value(&full).expect("serializes");
    assert_eq!(keys(&schema["$defs"]["manifest"]["properties"]), keys(&serialized));
    assert_eq!(
        keys(&schema["$defs"]["signedLayer"]["properties"]),
        keys(&serialized["signedLayers"][0]),
        "the schema's signedLayer names the fields SignedLayer serializes"
    );
}

#[test]
fn vector_inventories_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/plan");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("vectors") {
        let path = entry.expect("entry").path().join("inventory.json");
        if !path.is_file() {
            continue; // a case without an inventory (an empty one)
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let inventory = Inventory::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again = Inventory::from_json(&inventory.to_json()).expect("round trip");
        assert_eq!(inventory, again, "{}", path.display());
        count += 1;
    }
    assert!(count >= 30, "expected at least 30 plan vector inventories, found {count}");
}

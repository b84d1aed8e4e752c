//! Fuzzes the inventory JSON reader: any input is either an inventory or an error, and an
//! inventory survives a write/read round trip unchanged.
#![no_main]

use cip_core::inventory::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(inventory) = Inventory::from_json(text) {
        let again = Inventory::from_json(&inventory.to_json()).expect("written inventory reads back");
        assert_eq!(inventory, again);
    }
});

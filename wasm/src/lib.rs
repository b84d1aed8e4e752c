//! wasm-bindgen shell over cip-core: decode, one core call, encode.

use wasm_bindgen::prelude::*;

/// The cip version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

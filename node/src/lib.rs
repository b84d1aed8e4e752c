//! napi-rs shell over cip-core and the cip engine: decode, one library call, encode.
#![allow(unsafe_code)] // napi-derive expands to FFI glue.

use napi_derive::napi;

/// The cip version.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

//! napi-rs shell over cip-core and the cip engine: decode the JavaScript arguments, make one
//! library call, encode the result. Every result is the same serde value the CLI prints with
//! `--format json`, handed over as the CLI's JSON text parsed by V8 (see [`json`]), so
//! `JSON.stringify(result, null, 2) + "\n"` equals the CLI's bytes.
//!
//! Each pure function has a synchronous form and an `…Async` form that runs on the libuv thread
//! pool and returns a Promise, so a large manifest set never blocks Node's event loop.
#![allow(unsafe_code)]
// napi-derive expands to FFI glue, and `Json` implements its unsafe trait.
// napi-derive registers exports only outside `cfg(test)`, so the unit-test build sees them unused.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod engine;
mod error;
mod json;
mod pure;
mod task;

use napi_derive::napi;

/// The cip version.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

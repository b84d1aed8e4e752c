//! The cip engine as a library: reading manifest files from disk, rendering findings, and (in
//! later modules) the registry client and copy executor. The `cip` binary and the Node addon both
//! use it.

pub mod connect;
pub mod input;
pub mod layout;
pub mod planning;
pub mod promote;
pub mod registry;
pub mod render;
pub mod render_plan;
pub mod store;

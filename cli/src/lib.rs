//! The cip engine: everything between a manifest set and the registries, for the `cip` binary
//! and the Node addon. No terminal, no argument parsing, no drawing: front ends watch through
//! [`promote::Observer`] and render what they get back.
//!
//! Layers, each importing only those below it:
//!
//! | layer | what |
//! |---|---|
//! | [`registry`] | the OCI Distribution client: HTTP, authentication, the one send loop, one error type |
//! | [`store`] | the [`Store`] trait, over an HTTP registry host or an `oci:DIR` layout |
//! | [`read`] | the one inventory reader (plan, audit, snapshot, promote) |
//! | [`promote`] | the copy executor and its report; one promotion run |
//! | [`sign`] | signing what a run promoted (key or keyless), promotion attestations |
//! | [`connect`] | options to a client and the stores of a run (what front ends call) |

pub mod connect;
pub mod promote;
pub mod read;
pub mod registry;
pub mod sign;
pub mod store;

pub use connect::{ConnectError, Connection, RegistryOptions};
pub use promote::{Observer, Phase, PromoteError, PromoteOptions, PromoteOutcome, Report, run};
pub use read::ReadOutcome;
pub use registry::auth::Credential;
pub use registry::stats::{Stats, StatsSnapshot};
pub use registry::{ErrorKind, Operation, RegistryError, Secret};
pub use store::{Layout, Store};

/// The parsers of untrusted registry input, for the fuzz targets (`cli/fuzz`); not API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::registry::auth::challenge::{Challenge, parse as parse_challenge};
    pub use crate::registry::google::TagsList;
    pub use crate::registry::link::next_link;
    pub use crate::registry::retry::parse_retry_after;
}

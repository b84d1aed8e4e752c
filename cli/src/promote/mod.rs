//! The copy executor: turns a core [`Plan`](cip_core::Plan) into registry writes.
//!
//! - the stores ([`crate::store`]) and the inventory reader ([`crate::read`]) are the layers below;
//! - `execute`: copies (children before indexes, blobs before manifests, digests before tags),
//!   verifying every byte read against its digest, one blob transfer per destination and digest;
//! - `fanout`: with several destination registries, one source read per blob and manifest feeds
//!   them all (through a bounded spool file);
//! - `verify`: the streaming digest check;
//! - `report` and `progress`: what happened, for people and for machines (the progress
//!   counters are read by an [`Observer`]; drawing them is the front end's business);
//! - `session`: the whole run (read, plan, execute) that every front end calls.
//!
//! Nothing here decides *what* to promote: that is the core planner's job. The planner blocks
//! tag moves it sees; `precondition` re-checks each tag just before it is written, so a tag moved
//! since planning is refused too. Nothing is ever deleted.

pub(crate) mod execute;
pub(crate) mod fanout;
pub mod precondition;
pub(crate) mod progress;
pub(crate) mod report;
pub(crate) mod session;
pub(crate) mod verify;

pub use execute::Limits;
pub use progress::Progress;
pub use report::{ActionReport, Outcome, Refusal, Report, ReportSummary};
pub use session::{
    Observer, Phase, PromoteError, PromoteOptions, PromoteOutcome, Quiet, execute_plan, run, run_on,
};

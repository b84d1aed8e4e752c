//! The preconditions of an action, re-checked against the registry just before it writes: the
//! planner saw each destination tag absent, and the digest present where it is read from. Both
//! may change between planning and writing (a plan file applied hours later, another promoter,
//! a person with `docker push`). So before each tag write one `HEAD` asks where the tag points:
//!
//! - absent: the tag is written;
//! - already at the action's digest: nothing to write (a re-run, or another worker did it);
//! - at another digest: refused as `tag-move`, the tag is left as it is (tags never move).
//!
//! A digest that is no longer where the action reads it (the source of a copy, the destination
//! of a tag action) is refused as `lost`. Refusals are per tag or per action and never stop the
//! other actions (blast radius as in planning). `cip apply` and `cip promote --confirm` run the
//! same executor, so both re-check the same way.

use super::report::{Counters, Refusal};
use crate::store::{ErrorKind, Location, RawManifest, RegistryError};

/// The finding code of a tag that now points at another digest (as the planner's).
pub const TAG_MOVE: &str = "tag-move";
/// The finding code of a digest that vanished from where the action reads it.
pub const LOST: &str = "lost";

/// True when `tag` must be written: it is absent from `dst`. A tag already at `digest` needs no
/// write; a tag at another digest is recorded as a `tag-move` refusal and left alone.
pub(crate) async fn tag_needs_write(
    dst: &Location,
    tag: &str,
    digest: &str,
    counters: &Counters,
) -> Result<bool, RegistryError> {
    match dst.store.head_manifest(&dst.repo, tag).await? {
        None => Ok(true),
        Some(head) if head.digest == digest => Ok(false),
        Some(head) => {
            counters.refuse(Refusal {
                code: TAG_MOVE.to_owned(),
                tag: Some(tag.to_owned()),
                found: Some(head.digest),
            });
            Ok(false)
        }
    }
}

/// The manifest an action reads, or `None` (recorded as a `lost` refusal) when its digest is no
/// longer there. Other errors pass through.
pub(crate) fn present(
    read: Result<RawManifest, RegistryError>,
    counters: &Counters,
) -> Result<Option<RawManifest>, RegistryError> {
    match read {
        Ok(raw) => Ok(Some(raw)),
        Err(error) if matches!(error.kind, ErrorKind::NotFound(_)) => {
            counters.refuse(Refusal { code: LOST.to_owned(), tag: None, found: None });
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

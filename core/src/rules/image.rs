//! Image names: `image-name-invalid` (not a repository path of lowercase components) and
//! `image-repeated` (one name listed twice in one file; both entries are promoted as written, so
//! it is a warning).

use rustc_hash::FxHashMap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::fix::{self, Applicability};
use crate::manifest::{Manifest, Spanned};
use crate::reference::image_name_problem;

use super::{Code, at};

/// Every image name of a manifest.
pub(super) fn check(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    // Name -> first entry, and whether the repeat was reported (once per name, not per repeat).
    let mut names: FxHashMap<&str, (&Spanned<String>, bool)> = FxHashMap::default();
    for image in &manifest.images {
        let name = &image.name;
        if let Some(problem) = image_name_problem(&name.value) {
            let mut d = Diagnostic::new(
                Code::ImageNameInvalid,
                at(files, name),
                format!("image name `{}` is not a valid repository path", name.value),
            )
            .with_help(problem);
            // Unsafe: a lowercase name is another repository, and it is then promoted.
            let lower = name.value.to_ascii_lowercase();
            if lower != name.value && image_name_problem(&lower).is_none() {
                let title = format!("write the name in lowercase: {lower}");
                d.fixes.extend(fix::replace_value(files, name, &lower, title, Applicability::Unsafe));
            }
            out.push(d);
        }
        match names.get_mut(name.value.as_str()) {
            Some((first, reported)) if !*reported => {
                *reported = true;
                out.push(
                    Diagnostic::new(
                        Code::ImageRepeated,
                        at(files, name),
                        format!("image {} is listed more than once in this file", name.value),
                    )
                    .with_label(at(files, first), "first listed here")
                    .with_help("merge the entries into one `dmap`; both are promoted as written"),
                );
            }
            Some(_) => {}
            None => {
                names.insert(&name.value, (name, false));
            }
        }
    }
}

//! Property test of `cip_core::format` on generated images files: any order of images, digests
//! and tags, flow or block lists, quoted or plain keys and tags (numbers and booleans included),
//! repeated images and digests, comments above and after entries. Formatting must keep every
//! (image, digest, tags) entry the reader sees and the set of finding codes (bar `tag-unquoted`,
//! which quoting fixes), keep every comment, and give the same text when run again.

use cip_core::{Code, Input, SourceFile};
use proptest::prelude::*;

const NAMES: &[&str] = &["alpha", "beta", "gamma/sub", "delta-1"];
const TAGS: &[&str] = &["v1.0", "1.10", "latest", "010", "yes", "v2", "1.9", "v1.0"];

#[derive(Clone, Debug)]
struct Digest {
    hex: u8,
    quoted_key: bool,
    block: bool,
    tags: Vec<(usize, bool)>,
    comment: Option<u8>,
}

#[derive(Clone, Debug)]
struct Image {
    name: usize,
    comment_above: Option<u8>,
    comment_after: Option<u8>,
    digests: Vec<Digest>,
}

fn digest() -> impl Strategy<Value = Digest> {
    (
        0u8..6,
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec((0..TAGS.len(), any::<bool>()), 0..4),
        prop::option::of(0u8..50),
    )
        .prop_map(|(hex, quoted_key, block, tags, comment)| Digest {
            hex,
            quoted_key,
            block,
            tags,
            comment,
        })
}

fn image() -> impl Strategy<Value = Image> {
    (
        0..NAMES.len(),
        prop::option::of(0u8..50),
        prop::option::of(0u8..50),
        prop::collection::vec(digest(), 1..4),
    )
        .prop_map(|(name, comment_above, comment_after, digests)| Image {
            name,
            comment_above,
            comment_after,
            digests,
        })
}

fn render(images: &[Image]) -> String {
    let mut out = String::new();
    for image in images {
        if let Some(c) = image.comment_above {
            out.push_str(&format!("# above {c}\n"));
        }
        let after = image.comment_after.map(|c| format!(" # after {c}")).unwrap_or_default();
        out.push_str(&format!("- name: {}{after}\n  dmap:\n", NAMES[image.name]));
        for d in &image.digests {
            let hex = format!("{:x}", d.hex).repeat(64);
            let key = if d.quoted_key { format!("\"sha256:{hex}\"") } else { format!("sha256:{hex}") };
            let tag = |&(i, quoted): &(usize, bool)| {
                if quoted { format!("\"{}\"", TAGS[i]) } else { TAGS[i].to_owned() }
            };
            let comment = d.comment.map(|c| format!(" # digest {c}")).unwrap_or_default();
            if d.block && !d.tags.is_empty() {
                out.push_str(&format!("    {key}:{comment}\n"));
                for t in &d.tags {
                    out.push_str(&format!("    - {}\n", tag(t)));
                }
            } else {
                let tags: Vec<String> = d.tags.iter().map(tag).collect();
                out.push_str(&format!("    {key}: [{}]{comment}\n", tags.join(", ")));
            }
        }
    }
    out
}

type Entries = Vec<(String, String, Vec<String>)>;

fn meaning(text: &str) -> (Entries, Vec<&'static str>) {
    let file = SourceFile::new("images.yaml", text);
    let set = cip_core::load(Input { files: vec![file], thin_dirs: Some(Vec::new()) });
    let mut entries: Entries = Vec::new();
    for image in set.manifests.iter().flat_map(|m| &m.images) {
        for e in &image.dmap {
            let mut tags: Vec<String> = e.tags.iter().map(|t| t.value.clone()).collect();
            tags.sort();
            entries.push((image.name.value.clone(), e.digest.value.clone(), tags));
        }
    }
    entries.sort();
    let mut codes: Vec<&'static str> =
        set.diagnostics.iter().filter(|d| d.code != Code::TagUnquoted).map(|d| d.code.as_str()).collect();
    // Which codes, not how many: a tag given to three digests is reported once per later
    // site, and sorting changes which site is first.
    codes.sort_unstable();
    codes.dedup();
    (entries, codes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn formatting_keeps_the_meaning_and_the_comments_and_is_idempotent(images in prop::collection::vec(image(), 0..6)) {
        let text = render(&images);
        // A bare list is read as a plain manifest by `load` (no registries), so compare the
        // images the reader sees through a wrapping `images:` key.
        let wrap = |t: &str| format!("images:\n{}", t.lines().map(|l| format!("{l}\n")).collect::<String>());
        let once = cip_core::format::format(&SourceFile::new("images.yaml", text.clone())).expect("formats");
        let twice = cip_core::format::format(&SourceFile::new("images.yaml", once.clone())).expect("formats again");
        prop_assert_eq!(&twice, &once);
        prop_assert_eq!(meaning(&wrap(&once)), meaning(&wrap(&text)));
        for span in cip_core::yaml::comments(&text) {
            let comment = &text[span.start as usize..span.end as usize];
            prop_assert!(once.contains(comment), "lost {}", comment);
        }
    }
}

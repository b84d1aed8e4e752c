//! The one sha256 helper of the engine: `sha256:<hex>` of bytes, and a hasher for streams.

use sha2::{Digest as _, Sha256};

/// `sha256:<lowercase hex>` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Hashes a stream chunk by chunk.
#[derive(Default)]
pub(crate) struct StreamDigest(Sha256);

impl StreamDigest {
    /// Adds a chunk.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    /// `sha256:<hex>` of everything added.
    pub(crate) fn finish(self) -> String {
        format!("sha256:{:x}", self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_bytes() {
        let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(sha256_digest(b""), empty);
        let mut s = StreamDigest::default();
        s.update(b"");
        assert_eq!(s.finish(), empty);
    }
}

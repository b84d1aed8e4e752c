//! Deterministic content and digests.
//!
//! Layers are pseudo-random bytes from a seed (splitmix64). Hand-written rather than `rand` because the
//! byte stream must never change between crate versions: benchmarks and recorded expectations rely on
//! the same seed giving the same digest forever.

use sha2::{Digest as _, Sha256};
use std::fmt;

/// An OCI content digest, always `sha256:<64 hex>` here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub String);

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hash = Sha256::digest(bytes);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        Digest(format!("sha256:{hex}"))
    }

    /// The digest as text (`sha256:...`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `size` pseudo-random bytes fully determined by `seed`.
pub fn random_layer(seed: u64, size: usize) -> Vec<u8> {
    let mut state = seed ^ 0x5eed_cafe_f00d_d00d;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        out.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(size);
    out
}

/// One step of splitmix64; also used by the fault proxy for its seeded decisions.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_deterministic_and_distinct() {
        assert_eq!(random_layer(7, 100), random_layer(7, 100));
        assert_ne!(random_layer(7, 100), random_layer(8, 100));
        assert_eq!(random_layer(7, 13).len(), 13);
    }

    #[test]
    fn digest_of_empty() {
        assert_eq!(
            Digest::of(b"").0,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

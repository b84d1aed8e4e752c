//! The encodings the trust documents share: base64 byte fields (standard alphabet written, both
//! alphabets and missing padding read, as protobuf JSON allows) and protobuf JSON's int64 (written
//! as a string, read from a string or a number).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Standard base64 of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes base64 in either alphabet, padded or not (protobuf JSON accepts both); `None` when it
/// is not base64.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    if trimmed.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(trimmed).ok()
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed).ok()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Decodes hex (either case); `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Serde for a `Vec<u8>` field held as base64 text.
pub(crate) mod base64_bytes {
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        super::unb64(&text).ok_or_else(|| D::Error::custom("not base64"))
    }
}

/// Serde for a `Vec<Vec<u8>>` field held as a list of base64 texts.
pub(crate) mod base64_list {
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _, ser::SerializeSeq as _};

    pub(crate) fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for bytes in list {
            seq.serialize_element(&super::b64(bytes))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| super::unb64(text).ok_or_else(|| D::Error::custom("not base64")))
            .collect()
    }
}

/// Serde for protobuf JSON's int64: written as a string, read from a string or a number.
pub(crate) mod int64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        Number(i64),
        Text(std::borrow::Cow<'a, str>),
    }

    pub(crate) fn serialize<S: Serializer>(value: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(n),
            Either::Text(text) => {
                text.parse().map_err(|_| D::Error::custom(format!("not an int64: {text:?}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_alphabets_and_padding() {
        assert_eq!(unb64("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(unb64("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(unb64("*"), None);
        assert_eq!(b64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 0xab]), "00ab");
        assert_eq!(unhex("00AB"), Some(vec![0, 0xab]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn int64_string_or_number() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct T {
            #[serde(with = "int64")]
            n: i64,
        }
        assert_eq!(serde_json::from_str::<T>(r#"{"n":"12"}"#).unwrap().n, 12);
        assert_eq!(serde_json::from_str::<T>(r#"{"n":12}"#).unwrap().n, 12);
        assert!(serde_json::from_str::<T>(r#"{"n":"x"}"#).is_err());
        assert_eq!(serde_json::to_string(&T { n: 5 }).unwrap(), r#"{"n":"5"}"#);
    }
}

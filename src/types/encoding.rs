//! Serde helpers that reproduce details of Go's `encoding/json` on the wire: `[]byte` fields
//! as standard base64, `float32` numbers printed the way Go prints them (`0`, not `0.0`).
//!
//! Used by the wire types only; depends on nothing else in the crate.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn is_empty_bytes(v: &[u8]) -> bool {
    v.is_empty()
}

/// `Vec<u8>` as a standard, padded base64 string (Go's `[]byte`). Decoding accepts what Go
/// accepts: standard alphabet with padding, ignoring `\r` and `\n`.
pub(crate) mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        decode(&text).map_err(serde::de::Error::custom)
    }

    /// Decodes like Go's `base64.StdEncoding` (newlines ignored), with Go's error text.
    pub fn decode(text: &str) -> Result<Vec<u8>, String> {
        let cleaned: Vec<u8> = text
            .bytes()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(&cleaned)
            .map_err(|e| match e {
                base64::DecodeError::InvalidByte(at, _)
                | base64::DecodeError::InvalidLastSymbol(at, _) => {
                    format!("illegal base64 data at input byte {at}")
                }
                _ => format!("illegal base64 data at input byte {}", cleaned.len()),
            })
    }
}

/// `Option<Vec<u8>>` as base64, for fields where absent and empty differ.
pub(crate) mod base64_bytes_opt {
    use super::*;

    pub fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => base64_bytes::serialize(b, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => base64_bytes::decode(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// Serializes an `f32` the way Go prints a `float32`: the shortest decimal that round-trips in
/// 32 bits, and without a fraction when it is integral (`0`, `1`, `0.1`).
pub(crate) fn go_f32<S: Serializer>(v: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    let wide: f64 = v.to_string().parse().unwrap_or(f64::from(*v));
    if wide.fract() == 0.0 && wide.abs() < 1e15 {
        serializer.serialize_i64(wide as i64)
    } else {
        serializer.serialize_f64(wide)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct F(#[serde(serialize_with = "go_f32")] f32);

    #[test]
    fn floats_print_like_go() {
        assert_eq!(serde_json::to_string(&F(0.0)).unwrap(), "0");
        assert_eq!(serde_json::to_string(&F(1.0)).unwrap(), "1");
        assert_eq!(serde_json::to_string(&F(0.1)).unwrap(), "0.1");
        assert_eq!(serde_json::to_string(&F(0.25)).unwrap(), "0.25");
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(base64_bytes::decode("eAo=").unwrap(), b"x\n");
        assert_eq!(base64_bytes::decode("eA\no=").unwrap(), b"x\n");
        assert_eq!(
            base64_bytes::decode("e!o=").unwrap_err(),
            "illegal base64 data at input byte 1"
        );
    }
}

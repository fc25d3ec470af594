//! How values are written to disk: one format byte, then JSON.
//!
//! The byte lets a later release change the encoding and still read what an older one wrote.
//! Decoding never panics: a damaged or unknown value is an error the caller reports.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The current format: JSON (serde_json) of the value.
const FORMAT_JSON_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("stored value is empty")]
    Empty,
    #[error("stored value has unknown format {0}")]
    UnknownFormat(u8),
    #[error("stored value is not valid: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut bytes = Vec::with_capacity(256);
    bytes.push(FORMAT_JSON_V1);
    serde_json::to_writer(&mut bytes, value)?;
    Ok(bytes)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_JSON_V1, json)) => Ok(serde_json::from_slice(json)?),
        Some((&other, _)) => Err(CodecError::UnknownFormat(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let bytes = encode(&vec![1u32, 2, 3]).unwrap();
        assert_eq!(decode::<Vec<u32>>(&bytes).unwrap(), vec![1, 2, 3]);
        assert!(matches!(decode::<u32>(&[]), Err(CodecError::Empty)));
        assert!(matches!(
            decode::<u32>(&[9, b'1']),
            Err(CodecError::UnknownFormat(9))
        ));
        assert!(matches!(
            decode::<u32>(&[1, b'x']),
            Err(CodecError::Json(_))
        ));
    }
}

//! Go-style JSON decoding of request bodies, so shoal accepts exactly what the engine accepts.
//!
//! The engine decodes with Go's `encoding/json`, which differs from serde's defaults:
//! object keys match struct fields case-insensitively (an exact match wins; Swarmpit sends
//! `HealthCheck` where the engine's field is `Healthcheck`), unknown keys are ignored, `null`
//! leaves a field at its zero value whatever its type, and only the first JSON value of the
//! body is read. Map keys (labels, options) stay exact.
//!
//! [`from_slice`] does this with a `serde::Deserializer` over a parsed `serde_json::Value`:
//! `deserialize_struct` renames each incoming key to the matching entry of the struct's field
//! list and drops `null` members; everything nested is decoded the same way. Wire types must
//! therefore be plain structs with `#[serde(default)]` and no `flatten`/`untagged` (those go
//! around `deserialize_struct`). Errors carry Go's wording: syntax errors from
//! `json_syntax` (`unexpected EOF`, `invalid character ...`) and type
//! mismatches as `json: cannot unmarshal string into Go struct field
//! ReplicatedService.Mode.Replicated.Replicas of type uint64` (the innermost struct, then the
//! field path from the top, as the engine's Go version printed it).
//!
//! Depends on `json_syntax` only.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};

use super::json_syntax::{self, Extent, Mode};

/// Why a request body could not be decoded. Every variant is a client error (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body was empty or only whitespace (Go's `io.EOF`). Handlers whose body is
    /// optional use [`from_slice_or_default`] instead.
    EmptyBody,
    /// Malformed JSON; the text is Go's (`unexpected EOF`, `invalid character ...`).
    Syntax(String),
    /// A JSON value of the wrong kind for its field.
    Type {
        /// The JSON kind found: `string`, `number`, `number -1`, `bool`, `array`, `object`.
        value: String,
        /// The innermost struct holding the field, if any.
        struct_name: Option<&'static str>,
        /// The field path from the top, dot-separated (`Mode.Replicated.Replicas`).
        field: String,
        /// The Go type expected (`uint64`, `string`, `bool`, ...).
        go_type: String,
    },
    /// A value the type itself refused (a bad enum value, timestamp, base64, ...).
    Invalid(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::EmptyBody => f.write_str("got EOF while reading request body"),
            DecodeError::Syntax(msg) | DecodeError::Invalid(msg) => f.write_str(msg),
            DecodeError::Type {
                value,
                struct_name: Some(name),
                field,
                go_type,
            } if !field.is_empty() => write!(
                f,
                "json: cannot unmarshal {value} into Go struct field {name}.{field} of type {go_type}"
            ),
            DecodeError::Type { value, go_type, .. } => {
                write!(f, "json: cannot unmarshal {value} into Go value of type {go_type}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError::Invalid(msg.to_string())
    }
}

/// Decodes a request body the way the engine's `json.NewDecoder(body).Decode(&v)` does.
pub fn from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    from_value(parse_body(body)?)
}

/// Like [`from_slice`], but an empty (or all-whitespace) body yields `T::default()`.
pub fn from_slice_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, DecodeError> {
    match parse_body(body) {
        Err(DecodeError::EmptyBody) => Ok(T::default()),
        Err(e) => Err(e),
        Ok(value) => from_value(value),
    }
}

/// [`from_slice`] for text.
pub fn from_str<T: DeserializeOwned>(body: &str) -> Result<T, DecodeError> {
    from_slice(body.as_bytes())
}

/// Decodes an already parsed value with Go's rules (case-insensitive keys, nulls ignored).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    T::deserialize(Decoder {
        value,
        ctx: Ctx::default(),
    })
}

/// Parses the first JSON value of a body (what follows it is ignored, as Go's decoder does).
pub fn parse_body(body: &[u8]) -> Result<Value, DecodeError> {
    // Nearly every body is one well-formed value, which serde_json alone recognises; the
    // Go-worded scan runs only for the others, to find their first value or word the error.
    if let Ok(value) = parse_checked(body) {
        return Ok(value);
    }
    match json_syntax::check(body, Mode::Stream).map_err(DecodeError::Syntax)? {
        Extent::Empty => Err(DecodeError::EmptyBody),
        Extent::Value { start, end } => parse_checked(&body[start..end]),
    }
}

/// Parses a whole document the way Go's `json.Unmarshal` does (nothing may follow the value).
pub(crate) fn parse_whole(text: &[u8]) -> Result<Value, DecodeError> {
    match json_syntax::check(text, Mode::Whole).map_err(DecodeError::Syntax)? {
        Extent::Empty => Err(DecodeError::Syntax(
            "unexpected end of JSON input".to_owned(),
        )),
        Extent::Value { start, end } => parse_checked(&text[start..end]),
    }
}

/// Parses bytes as one JSON value (whitespace around it allowed). Invalid UTF-8 inside
/// strings is replaced with U+FFFD, as Go does.
fn parse_checked(bytes: &[u8]) -> Result<Value, DecodeError> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str(&text).map_err(|e| DecodeError::Syntax(e.to_string()))
}

/// Where the decoder is: the innermost struct and the field path, for error messages. The
/// path is a chain of links on the stack (each struct field's decoding borrows its parent's),
/// so decoding allocates nothing for it; it is joined only when an error is worded.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx<'p> {
    struct_name: Option<&'static str>,
    path: Option<&'p PathLink<'p>>,
}

#[derive(Debug)]
struct PathLink<'p> {
    parent: Option<&'p PathLink<'p>>,
    field: &'static str,
}

impl Ctx<'_> {
    fn type_error(&self, value: String, go_type: &str) -> DecodeError {
        let mut fields = Vec::new();
        let mut link = self.path;
        while let Some(current) = link {
            fields.push(current.field);
            link = current.parent;
        }
        fields.reverse();
        DecodeError::Type {
            value,
            struct_name: self.struct_name,
            field: fields.join("."),
            go_type: go_type.to_owned(),
        }
    }

    fn mismatch(&self, found: &Value, go_type: &str) -> DecodeError {
        self.type_error(kind(found).to_owned(), go_type)
    }
}

/// Go's name for the kind of a JSON value in unmarshal errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn number_as<T: TryFrom<u64> + TryFrom<i64>>(n: &Number) -> Option<T> {
    if let Some(u) = n.as_u64() {
        T::try_from(u).ok()
    } else if let Some(i) = n.as_i64() {
        T::try_from(i).ok()
    } else {
        None
    }
}

struct Decoder<'p> {
    value: Value,
    ctx: Ctx<'p>,
}

macro_rules! deserialize_int {
    ($method:ident, $visit:ident, $ty:ty, $go:literal) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            match &self.value {
                Value::Null => visitor.$visit(0),
                Value::Number(n) => match number_as::<$ty>(n) {
                    Some(v) => visitor.$visit(v),
                    None => Err(self.ctx.type_error(format!("number {n}"), $go)),
                },
                other => Err(self.ctx.mismatch(other, $go)),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for Decoder<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visitor.visit_seq(SeqDecoder::new(items, self.ctx)),
            Value::Object(map) => visitor.visit_map(MapDecoder::new(map, self.ctx)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_bool(false),
            Value::Bool(b) => visitor.visit_bool(b),
            other => Err(self.ctx.mismatch(&other, "bool")),
        }
    }

    deserialize_int!(deserialize_i8, visit_i8, i8, "int8");
    deserialize_int!(deserialize_i16, visit_i16, i16, "int16");
    deserialize_int!(deserialize_i32, visit_i32, i32, "int32");
    deserialize_int!(deserialize_i64, visit_i64, i64, "int64");
    deserialize_int!(deserialize_u8, visit_u8, u8, "uint8");
    deserialize_int!(deserialize_u16, visit_u16, u16, "uint16");
    deserialize_int!(deserialize_u32, visit_u32, u32, "uint32");
    deserialize_int!(deserialize_u64, visit_u64, u64, "uint64");

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.value {
            Value::Null => visitor.visit_f32(0.0),
            Value::Number(n) => visitor.visit_f32(n.as_f64().unwrap_or(0.0) as f32),
            other => Err(self.ctx.mismatch(other, "float32")),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.value {
            Value::Null => visitor.visit_f64(0.0),
            Value::Number(n) => visitor.visit_f64(n.as_f64().unwrap_or(0.0)),
            other => Err(self.ctx.mismatch(other, "float64")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_string(String::new()),
            Value::String(s) => visitor.visit_string(s),
            other => Err(self.ctx.mismatch(&other, "string")),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_seq(SeqDecoder::new(Vec::new(), self.ctx)),
            Value::Array(items) => visitor.visit_seq(SeqDecoder::new(items, self.ctx)),
            other => Err(self.ctx.mismatch(&other, "slice")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_map(MapDecoder::new(Map::new(), self.ctx)),
            Value::Object(map) => visitor.visit_map(MapDecoder::new(map, self.ctx)),
            other => Err(self.ctx.mismatch(&other, "map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => {
                visitor.visit_map(StructDecoder::new(Map::new(), name, fields, self.ctx))
            }
            Value::Object(map) => {
                visitor.visit_map(StructDecoder::new(map, name, fields, self.ctx))
            }
            other => Err(self.ctx.mismatch(&other, name)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(map) if map.len() == 1 => {
                let mut entries = map.into_iter();
                match entries.next() {
                    Some((variant, value)) => visitor.visit_enum(EnumDecoder {
                        variant,
                        value,
                        ctx: self.ctx,
                    }),
                    None => Err(self.ctx.type_error("object".to_owned(), name)),
                }
            }
            other => Err(self.ctx.mismatch(&other, name)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

struct SeqDecoder<'p> {
    items: std::vec::IntoIter<Value>,
    ctx: Ctx<'p>,
}

impl<'p> SeqDecoder<'p> {
    fn new(items: Vec<Value>, ctx: Ctx<'p>) -> Self {
        SeqDecoder {
            items: items.into_iter(),
            ctx,
        }
    }
}

impl<'de> SeqAccess<'de> for SeqDecoder<'_> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            Some(value) => seed
                .deserialize(Decoder {
                    value,
                    ctx: self.ctx,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A JSON object read as a map: keys exact, values decoded with Go's rules.
struct MapDecoder<'p> {
    entries: serde_json::map::IntoIter,
    pending: Option<Value>,
    ctx: Ctx<'p>,
}

impl<'p> MapDecoder<'p> {
    fn new(map: Map<String, Value>, ctx: Ctx<'p>) -> Self {
        MapDecoder {
            entries: map.into_iter(),
            pending: None,
            ctx,
        }
    }
}

impl<'de> MapAccess<'de> for MapDecoder<'_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let value = self.pending.take().unwrap_or(Value::Null);
        seed.deserialize(Decoder {
            value,
            ctx: self.ctx,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A JSON object read as a struct: keys renamed to the struct's own field names
/// case-insensitively (exact match preferred), unknown keys and `null` members dropped.
struct StructDecoder<'p> {
    entries: std::vec::IntoIter<(&'static str, Value)>,
    pending: Option<(&'static str, Value)>,
    name: &'static str,
    ctx: Ctx<'p>,
}

impl<'p> StructDecoder<'p> {
    fn new(
        map: Map<String, Value>,
        name: &'static str,
        fields: &'static [&'static str],
        ctx: Ctx<'p>,
    ) -> Self {
        // (field, value, matched exactly)
        let mut matched: Vec<(&'static str, Value, bool)> = Vec::with_capacity(map.len());
        for (key, value) in map {
            if value.is_null() {
                continue;
            }
            let found = match fields.iter().find(|f| **f == key) {
                Some(f) => Some((*f, true)),
                None => fields
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(&key))
                    .map(|f| (*f, false)),
            };
            let Some((field, exact)) = found else {
                continue;
            };
            match matched.iter_mut().find(|m| m.0 == field) {
                Some(slot) => {
                    if exact || !slot.2 {
                        *slot = (field, value, exact);
                    }
                }
                None => matched.push((field, value, exact)),
            }
        }
        let entries: Vec<(&'static str, Value)> =
            matched.into_iter().map(|(f, v, _)| (f, v)).collect();
        StructDecoder {
            entries: entries.into_iter(),
            pending: None,
            name,
            ctx,
        }
    }
}

impl<'de> MapAccess<'de> for StructDecoder<'_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.entries.next() {
            Some((field, value)) => {
                self.pending = Some((field, value));
                seed.deserialize(field.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (field, value) = self.pending.take().unwrap_or(("", Value::Null));
        let link = PathLink {
            parent: self.ctx.path,
            field,
        };
        seed.deserialize(Decoder {
            value,
            ctx: Ctx {
                struct_name: Some(self.name),
                path: Some(&link),
            },
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An externally tagged enum (`{"Variant": value}`); the engine's API has none, but serde
/// types may.
struct EnumDecoder<'p> {
    variant: String,
    value: Value,
    ctx: Ctx<'p>,
}

impl<'de, 'p> EnumAccess<'de> for EnumDecoder<'p> {
    type Error = DecodeError;
    type Variant = Decoder<'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Decoder<'p>), DecodeError> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((
            variant,
            Decoder {
                value: self.value,
                ctx: self.ctx,
            },
        ))
    }
}

impl<'de> VariantAccess<'de> for Decoder<'_> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;

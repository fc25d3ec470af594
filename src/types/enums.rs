//! The `string_enum!` macro for the Engine API's string-valued enums (`"manager"`,
//! `"on-failure"`, `"stop-first"`, ...), and the serde helpers for optional ones.
//!
//! Go declares these as plain strings, so an empty string means "not set": fields that Go
//! marks `omitempty` are `Option<E>` here, decoded from `""` as `None` with [`empty_as_none`].
//! An unknown value fails to decode with `invalid <Name>: "<value>"`, the wording the engine
//! uses when it validates such values. Depends on nothing else in the crate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer};

/// An unknown value for a string enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {value:?}")]
pub struct InvalidValue {
    pub what: &'static str,
    pub value: String,
}

/// Declares a string enum: `Serialize` (via serde derive, so utoipa sees the names),
/// a strict `Deserialize`, `FromStr`, `Display`, `as_str()` and `ALL`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, utoipa::ToSchema)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::types::enums::InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::types::enums::InvalidValue {
                        what: $what,
                        value: s.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;

/// Deserializes an optional string enum, treating `""` (and `null`) as `None`.
pub(crate) fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Serializes an optional string enum that Go always emits: `None` as `""`.
pub(crate) fn none_as_empty<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: fmt::Display,
{
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_str(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    string_enum! {
        #[derive(Default)]
        pub enum Color as "Color" {
            #[default]
            Red = "red",
            DarkBlue = "dark-blue",
        }
    }

    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Holder {
        #[serde(deserialize_with = "empty_as_none")]
        c: Option<Color>,
    }

    #[test]
    fn names_round_trip() {
        for c in Color::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            let back: Color = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *c);
        }
        assert_eq!(Color::default(), Color::Red);
    }

    #[test]
    fn unknown_value_is_rejected_with_engine_wording() {
        let err = serde_json::from_str::<Color>("\"green\"").unwrap_err();
        assert_eq!(err.to_string(), "invalid Color: \"green\"");
        assert_eq!(
            "".parse::<Color>().unwrap_err().to_string(),
            "invalid Color: \"\""
        );
    }

    #[test]
    fn empty_string_is_none() {
        let h: Holder = serde_json::from_str(r#"{"c":""}"#).unwrap();
        assert_eq!(h.c, None);
        let h: Holder = serde_json::from_str(r#"{"c":null}"#).unwrap();
        assert_eq!(h.c, None);
        let h: Holder = serde_json::from_str(r#"{"c":"dark-blue"}"#).unwrap();
        assert_eq!(h.c, Some(Color::DarkBlue));
        assert!(serde_json::from_str::<Holder>(r#"{"c":"x"}"#).is_err());
    }
}

//! Request extraction and JSON replies, the engine's way.
//!
//! Bodies decode like Go's encoding/json (case-insensitive keys, unknown keys ignored, `null`
//! = unset) whatever the Content-Type; replies are compact JSON plus a newline with
//! `Content-Type: application/json`, as the engine writes them.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;
use crate::types::decode;
use crate::types::filters::Filters;
use crate::types::meta::{go_strconv_error, parse_go_bool, parse_version_query};

/// Largest request body shoal reads for its own endpoints (configs may be ~1000 KiB of base64).
const MAX_BODY: usize = 4 << 20;

/// A JSON request body decoded with Go's rules; a missing body is an error.
pub struct DockerJson<T>(pub T);

impl<T, S> FromRequest<S> for DockerJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        decode::from_slice(&bytes)
            .map(DockerJson)
            .map_err(|e| ApiError::invalid(e.to_string()))
    }
}

/// A JSON request body where an empty body means the default value.
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        decode::from_slice_or_default(&bytes)
            .map(OptionalJson)
            .map_err(|e| ApiError::invalid(e.to_string()))
    }
}

async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, MAX_BODY)));
    Bytes::from_request(request, state)
        .await
        .map_err(|e| ApiError::invalid(format!("cannot read the request body: {e}")))
}

/// The `filters` query parameter, in either of the forms clients send.
pub struct QueryFilters(pub Filters);

impl<S: Send + Sync> FromRequestParts<S> for QueryFilters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = query_value(parts, "filters").unwrap_or_default();
        Filters::parse(&raw)
            .map(QueryFilters)
            .map_err(|e| ApiError::invalid(e.to_string()))
    }
}

/// Query parameters as a list of decoded pairs; handlers pick what they need.
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The engine's lenient boolean query values (`force`, `follow`, ...): anything but "",
    /// "0", "no", "false", "none" is true.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(truthy)
    }

    /// A boolean the engine parses strictly, as Go's `strconv.ParseBool` (`status`,
    /// `insertDefaults`, `verbose`, the swarm's `rotate*`): absent or empty is false; `Err`
    /// holds a value it refuses (`yes`, `null`).
    pub fn strict_flag(&self, key: &str) -> Result<bool, &str> {
        match self.get(key).filter(|value| !value.is_empty()) {
            None => Ok(false),
            Some(value) => parse_go_bool(value).ok_or(value),
        }
    }

    /// [`Self::strict_flag`], refused with the engine's 400: `invalid value for status: yes:
    /// strconv.ParseBool: parsing "yes": invalid syntax`.
    pub fn parsed_flag(&self, key: &str) -> Result<bool, ApiError> {
        self.strict_flag(key).map_err(|value| {
            let reason = go_strconv_error("ParseBool", value, false);
            ApiError::invalid(format!("invalid value for {key}: {value}: {reason}"))
        })
    }
}

pub fn truthy(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "no" | "false" | "none"
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Query(parse_query(parts.uri.query().unwrap_or(""))))
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_value(parts: &Parts, key: &str) -> Option<String> {
    parse_query(parts.uri.query().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A JSON reply: compact, newline-terminated, `Content-Type: application/json`.
pub struct Reply<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        json_response(self.0, &self.1)
    }
}

/// 200 with `value` as JSON.
pub fn ok<T: Serialize>(value: T) -> Reply<T> {
    Reply(StatusCode::OK, value)
}

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    let mut body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(error) => {
            return ApiError::internal(format!("cannot encode the response: {error}"))
                .into_response()
        }
    };
    body.push(b'\n');
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An empty reply with a status (`200` with `Content-Length: 0`, `204`).
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// The `version` query parameter of updates, with the engine's texts when it is not a number.
pub fn parse_version(raw: Option<&str>, what: &str) -> Result<u64, ApiError> {
    parse_version_query(what, raw.unwrap_or("")).map_err(ApiError::invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode() {
        let pairs = parse_query("filters=%7B%22a%22%3A%5B%22b%22%5D%7D&x=1+2&flag");
        assert_eq!(pairs[0], ("filters".into(), "{\"a\":[\"b\"]}".into()));
        assert_eq!(pairs[1], ("x".into(), "1 2".into()));
        assert_eq!(pairs[2], ("flag".into(), "".into()));
    }

    #[test]
    fn strict_flags_take_what_go_parse_bool_takes_and_lenient_ones_anything() {
        let query = Query(parse_query("a=True&b=F&c=yes&d=&e=null&a=no"));
        assert_eq!(query.strict_flag("a"), Ok(true), "the first value counts");
        assert_eq!(query.strict_flag("b"), Ok(false));
        assert_eq!(query.strict_flag("c"), Err("yes"));
        assert_eq!(query.strict_flag("d"), Ok(false));
        assert_eq!(query.strict_flag("absent"), Ok(false));
        assert!(query.flag("c") && query.flag("e") && !query.flag("d"));
        let refused = query.parsed_flag("e").unwrap_err().into_response();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn version_parameter_texts() {
        assert_eq!(parse_version(Some("12"), "service").unwrap(), 12);
        assert_eq!(
            parse_version(None, "service").unwrap_err().message,
            "invalid service version '': strconv.ParseUint: parsing \"\": invalid syntax"
        );
        assert_eq!(
            parse_version(Some("+5"), "node").unwrap_err().message,
            "invalid node version '+5': strconv.ParseUint: parsing \"+5\": invalid syntax"
        );
    }

    #[test]
    fn engine_booleans() {
        for yes in ["1", "true", "True", "yes", "anything"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["", "0", "no", "false", "FALSE", "none"] {
            assert!(!truthy(no), "{no}");
        }
    }
}

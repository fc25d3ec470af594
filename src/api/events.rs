//! `GET /events`: the engine's events and the cluster's, one JSON object per line, each sent
//! as it happens (the merging is `control::events`).
//!
//! Framing follows the engine: `Content-Type: application/json` below API 1.52 and
//! `application/jsonl` from 1.52, unless the client's `Accept` names `application/jsonl`,
//! `application/x-ndjson` or `application/json-seq` (records then start with RS, 0x1E).

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures::StreamExt;

use super::error::ApiError;
use super::extract::{Query, QueryFilters};
use super::state::AppState;
use super::RequestedVersion;
use crate::control::events::{EventLine, EventsRequest};
use crate::types::api_version::ApiVersion;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

const JSON: &str = "application/json";
const JSON_LINES: &str = "application/jsonl";
const NDJSON: &str = "application/x-ndjson";
const JSON_SEQ: &str = "application/json-seq";
/// The API version from which the engine labels the stream as JSON Lines.
const JSON_LINES_SINCE: ApiVersion = ApiVersion::new(1, 52);

/// `GET /events?since=..&until=..&filters=..`
#[utoipa::path(operation_id = "SystemEvents", get, path = "/events", tag = "System",
    params(
        ("since" = Option<String>, Query, description = "replay events from this time: Unix seconds with an optional fraction (or RFC 3339)"),
        ("until" = Option<String>, Query, description = "end the stream at this time; if it has passed, replay and end"),
        ("filters" = Option<String>, Query, description = "JSON map of config, container, daemon, event, image, label, network, node, plugin, scope, secret, service, type, volume")),
    responses(
        (status = 200, description = "a stream of events, one JSON object per line (application/json below API 1.52, application/jsonl from 1.52)", body = crate::types::event::EventMessage),
        (status = 400, description = "bad since, until or filters")))]
pub async fn events(
    State(state): State<AppState>,
    requested: Option<Extension<RequestedVersion>>,
    query: Query,
    QueryFilters(filters): QueryFilters,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let request = EventsRequest::parse(query.get("since"), query.get("until"), filters)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let version = requested.map(|v| v.0).unwrap_or_default().effective();
    let content_type = content_type(version, &headers);
    let sequence = content_type == JSON_SEQ;
    let lines = state
        .control
        .events(request, version)
        .into_stream()
        .map(move |line| Ok::<Bytes, Infallible>(frame(&line, sequence)));
    let mut response = (StatusCode::OK, Body::from_stream(lines)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// One record: the JSON and a newline, after RS for `application/json-seq`.
fn frame(line: &EventLine, sequence: bool) -> Bytes {
    let json = line.json();
    let mut record = Vec::with_capacity(json.len() + 2);
    if sequence {
        record.push(0x1e);
    }
    record.extend_from_slice(&json);
    record.push(b'\n');
    Bytes::from(record)
}

/// The engine's choice: an explicitly accepted streaming type (highest q, then the order
/// JSON Lines, NDJSON, JSON-seq), else by API version. Wildcards do not count.
fn content_type(version: ApiVersion, headers: &HeaderMap) -> &'static str {
    let offers = [JSON_LINES, NDJSON, JSON_SEQ];
    let mut best: Option<(&'static str, f32)> = None;
    for accept in headers.get_all(header::ACCEPT) {
        let Ok(accept) = accept.to_str() else {
            continue;
        };
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let Some(offer) = offers.iter().find(|o| o.eq_ignore_ascii_case(media)) else {
                continue;
            };
            let rank = |o: &str| offers.iter().position(|x| *x == o).unwrap_or(usize::MAX);
            let better = match best {
                None => true,
                Some((current, current_q)) => {
                    q > current_q || (q == current_q && rank(offer) < rank(current))
                }
            };
            if better {
                best = Some((offer, q));
            }
        }
    }
    match best {
        Some((offer, _)) => offer,
        None if version < JSON_LINES_SINCE => JSON,
        None => JSON_LINES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn content_type_by_version_and_accept() {
        let v141 = ApiVersion::new(1, 41);
        let v152 = ApiVersion::new(1, 52);
        assert_eq!(content_type(v141, &HeaderMap::new()), JSON);
        assert_eq!(content_type(v152, &HeaderMap::new()), JSON_LINES);
        assert_eq!(content_type(v141, &accept("*/*")), JSON);
        assert_eq!(content_type(v141, &accept("application/x-ndjson")), NDJSON);
        assert_eq!(
            content_type(
                v152,
                &accept("application/json-seq;q=0.9, application/x-ndjson;q=0.5")
            ),
            JSON_SEQ
        );
        assert_eq!(
            content_type(v141, &accept("application/json-seq, application/jsonl")),
            JSON_LINES
        );
        assert_eq!(content_type(v141, &accept("application/jsonl;q=0")), JSON);
    }

    #[test]
    fn records_are_framed() {
        let line = EventLine::Engine(crate::control::events::engine::EngineLine {
            json: Bytes::from_static(b"{\"a\":1}"),
            time_nano: 0,
        });
        assert_eq!(&frame(&line, false)[..], b"{\"a\":1}\n");
        assert_eq!(&frame(&line, true)[..], b"\x1e{\"a\":1}\n");
    }
}

//! The local dockerd's own `/events`, read line by line.
//!
//! Lines are kept as the engine wrote them (older API versions add `status`/`id`/`from` to
//! container and image events, which old CLIs need); only `timeNano` is read, to merge the
//! replay in time order.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;

use super::query::{format_time, EventTime};
use crate::engine::{EngineClient, EngineError};
use crate::types::api_version::ApiVersion;
use crate::types::filters::Filters;

/// A longer line than this is not an event.
const MAX_LINE: usize = 1 << 20;

/// One event of the engine, as it sent it (without the newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineLine {
    pub json: Bytes,
    pub time_nano: i64,
}

#[derive(Deserialize)]
struct Stamp {
    #[serde(rename = "timeNano", default)]
    time_nano: i64,
}

impl EngineLine {
    /// Reads one line; `None` when it is not a JSON object.
    pub fn parse(json: Bytes) -> Option<Self> {
        let stamp: Stamp = serde_json::from_slice(&json).ok()?;
        Some(EngineLine {
            json,
            time_nano: stamp.time_nano,
        })
    }
}

/// The path and query of the engine's `/events` for a window and filters.
pub fn events_path(
    version: ApiVersion,
    since: Option<EventTime>,
    until: Option<EventTime>,
    filters: &Filters,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(since) = since {
        query.append_pair("since", &format_time(since));
    }
    if let Some(until) = until {
        query.append_pair("until", &format_time(until));
    }
    if !filters.is_empty() {
        if let Ok(json) = serde_json::to_string(filters) {
            query.append_pair("filters", &json);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        format!("/v{version}/events")
    } else {
        format!("/v{version}/events?{query}")
    }
}

/// An open `/events` response of the engine.
pub struct EngineEvents {
    body: Incoming,
    buffer: BytesMut,
    ended: bool,
}

impl EngineEvents {
    /// Opens the engine's stream at `path_and_query` (see [`events_path`]).
    pub async fn open(engine: &EngineClient, path_and_query: &str) -> Result<Self, EngineError> {
        let request = Request::get(engine.uri(path_and_query)?)
            .body(Body::empty())
            .map_err(|e| EngineError::BadAnswer(e.to_string()))?;
        let response = engine.send(request).await?;
        let status = response.status();
        if !status.is_success() {
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(EngineError::Status {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&body).trim().to_string(),
            });
        }
        Ok(EngineEvents {
            body: response.into_body(),
            buffer: BytesMut::new(),
            ended: false,
        })
    }

    /// The next event, `None` when the engine ended the stream. Cancel-safe: what was read
    /// stays buffered for the next call.
    pub async fn next(&mut self) -> Result<Option<EngineLine>, EngineError> {
        loop {
            if let Some(newline) = self.buffer.iter().position(|&b| b == b'\n') {
                let line = self.buffer.split_to(newline + 1).freeze();
                let json = line.slice(..newline);
                if json.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match EngineLine::parse(json) {
                    Some(line) => return Ok(Some(line)),
                    None => {
                        tracing::debug!("skipping an engine event line that is not JSON");
                        continue;
                    }
                }
            }
            if self.ended {
                // A last line without its newline.
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                let rest = self.buffer.split().freeze();
                return Ok(EngineLine::parse(rest));
            }
            if self.buffer.len() > MAX_LINE {
                return Err(EngineError::BadAnswer(
                    "an engine event is longer than 1 MiB".into(),
                ));
            }
            match self.body.frame().await {
                None => self.ended = true,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(error)) => {
                    return Err(EngineError::BadAnswer(format!(
                        "the engine's event stream broke: {error}"
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_with_window_and_filters() {
        let filters = Filters::parse(r#"{"type":["container"]}"#).unwrap();
        let path = events_path(
            ApiVersion::new(1, 41),
            Some(1_795_316_680_000_000_000),
            Some(1_795_316_880_500_000_000),
            &filters,
        );
        assert_eq!(
            path,
            "/v1.41/events?since=1795316680.000000000&until=1795316880.500000000&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D"
        );
        assert_eq!(
            events_path(ApiVersion::new(1, 41), None, None, &Filters::new()),
            "/v1.41/events"
        );
    }

    #[test]
    fn lines_keep_the_engine_text() {
        let raw = r#"{"status":"start","id":"15a3","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"15a3","Attributes":{"name":"x"}},"scope":"local","time":1795324685,"timeNano":1795324685321719731}"#;
        let line = EngineLine::parse(Bytes::from(raw)).unwrap();
        assert_eq!(line.time_nano, 1_795_324_685_321_719_731);
        assert_eq!(line.json, raw.as_bytes());
        assert!(EngineLine::parse(Bytes::from_static(b"not json")).is_none());
    }
}

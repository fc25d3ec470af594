//! `docker service logs` and task logs: the logs of the task containers on this node, read
//! from the engine and merged into one stdcopy stream, each line labelled the way the CLI
//! expects (`details=1` prefixes the node, service and task IDs, which the CLI turns into
//! `web.1.<task>@<node> | ...`).
//!
//! The framing is pure ([`Demux`], [`frame`], [`format_line`]); [`Control::task_logs`] adds
//! the engine and, with `follow`, attaches to new task containers as they appear.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::Request;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::{Control, ControlError, ControlResult};
use crate::store::ServiceRecord;
use crate::types::task::Task;

/// Which stream a line came from (stdcopy's stream byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 1,
    Stderr = 2,
}

/// What the client asked for.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub timestamps: bool,
    pub details: bool,
    /// Unix seconds (with optional fraction) or RFC 3339, as sent.
    pub since: Option<String>,
    /// A count, or `None` for all.
    pub tail: Option<u64>,
}

/// Whose logs: one task, or every task of a service.
pub enum LogSource {
    Service(String),
    Task(String),
}

/// One stdcopy frame around `payload`.
pub fn frame(stream: Stream, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(8 + payload.len());
    out.extend_from_slice(&[stream as u8, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.freeze()
}

/// A log line as shoal sends it: `[timestamp ]` `[details ]` message (with its newline).
/// `line` starts with the engine's RFC 3339 timestamp and a space (shoal always asks for
/// them, to keep the option of ordering).
pub fn format_line(line: &[u8], timestamps: bool, details: Option<&str>) -> Vec<u8> {
    let (stamp, message) = match line.iter().position(|b| *b == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (&line[..0], line),
    };
    let mut out = Vec::with_capacity(line.len() + details.map_or(0, str::len) + 2);
    if timestamps && !stamp.is_empty() {
        out.extend_from_slice(stamp);
        out.push(b' ');
    }
    if let Some(details) = details {
        out.extend_from_slice(details.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(message);
    out
}

/// Splits the engine's log stream into complete lines per stream: stdcopy frames, or raw
/// bytes for a container with a TTY.
#[derive(Debug, Default)]
pub struct Demux {
    tty: bool,
    pending: Vec<u8>,
    partial: [Vec<u8>; 2],
}

impl Demux {
    pub fn new(tty: bool) -> Self {
        Self {
            tty,
            ..Default::default()
        }
    }

    /// Feeds bytes; returns the complete lines they finish (newline included).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<(Stream, Vec<u8>)> {
        let mut lines = Vec::new();
        if self.tty {
            self.split(Stream::Stdout, bytes, &mut lines);
            return lines;
        }
        self.pending.extend_from_slice(bytes);
        let mut offset = 0;
        while self.pending.len() - offset >= 8 {
            let header = &self.pending[offset..offset + 8];
            let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
            if self.pending.len() - offset < 8 + len {
                break;
            }
            let stream = if header[0] == 2 {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let payload = self.pending[offset + 8..offset + 8 + len].to_vec();
            self.split(stream, &payload, &mut lines);
            offset += 8 + len;
        }
        self.pending.drain(..offset);
        lines
    }

    fn split(&mut self, stream: Stream, bytes: &[u8], lines: &mut Vec<(Stream, Vec<u8>)>) {
        let buffer = &mut self.partial[stream as usize - 1];
        for byte in bytes {
            buffer.push(*byte);
            if *byte == b'\n' {
                lines.push((stream, std::mem::take(buffer)));
            }
        }
    }

    /// What is left without a newline when the stream ends.
    pub fn finish(&mut self) -> Vec<(Stream, Vec<u8>)> {
        let mut lines = Vec::new();
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let rest = std::mem::take(&mut self.partial[i]);
            if !rest.is_empty() {
                lines.push((stream, rest));
            }
        }
        lines
    }
}

/// The `details=1` prefix of a task's lines.
fn details_of(task: &Task) -> String {
    format!(
        "com.docker.swarm.node.id={},com.docker.swarm.service.id={},com.docker.swarm.task.id={}",
        task.node_id, task.service_id, task.id
    )
}

fn container_of(task: &Task) -> Option<&str> {
    task.status
        .container_status
        .as_ref()
        .map(|c| c.container_id.as_str())
        .filter(|id| !id.is_empty())
}

impl Control {
    /// Checks the source exists and starts streaming its logs; the body ends when every
    /// container's log ends (or, with `follow`, when the client goes away).
    pub fn task_logs(
        self: &Arc<Self>,
        source: LogSource,
        options: LogOptions,
    ) -> ControlResult<Body> {
        let manager = self.manager()?;
        let service_id = {
            let state = manager.store.read();
            match &source {
                LogSource::Service(input) => {
                    state.resolve::<ServiceRecord>(input)?.service.id.clone()
                }
                LogSource::Task(input) => {
                    let task = self.inspect_task(input)?;
                    let _ = &state;
                    return Ok(self.stream(manager.clone(), None, Some(task.id), options));
                }
            }
        };
        Ok(self.stream(manager, Some(service_id), None, options))
    }

    fn stream(
        self: &Arc<Self>,
        manager: Arc<super::Manager>,
        service_id: Option<String>,
        task_id: Option<String>,
        options: LogOptions,
    ) -> Body {
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
        let control = self.clone();
        tokio::spawn(async move {
            let mut attached: HashSet<String> = HashSet::new();
            let mut readers = tokio::task::JoinSet::new();
            let mut applied = manager.store.feed().applied();
            loop {
                let tasks: Vec<Task> = {
                    let state = manager.store.read();
                    state
                        .tasks
                        .values()
                        .filter(|t| match (&service_id, &task_id) {
                            (Some(service), _) => &t.service_id == service,
                            (None, Some(task)) => &t.id == task,
                            _ => false,
                        })
                        .map(|t| (**t).clone())
                        .collect()
                };
                for task in tasks {
                    let Some(container) = container_of(&task).map(str::to_string) else {
                        continue;
                    };
                    if !attached.insert(container.clone()) {
                        continue;
                    }
                    let engine = control.engine().clone();
                    let sender = sender.clone();
                    let options = options.clone();
                    readers.spawn(async move {
                        if let Err(error) =
                            read_container(&engine, &container, &task, &options, &sender).await
                        {
                            tracing::debug!(%error, container = %container, "log stream ended");
                        }
                    });
                }
                if !options.follow {
                    while readers.join_next().await.is_some() {}
                    return;
                }
                tokio::select! {
                    _ = sender.closed() => return,
                    changed = applied.changed() => if changed.is_err() { return },
                    Some(_) = readers.join_next(), if !readers.is_empty() => {}
                }
            }
        });
        Body::from_stream(tokio_stream_from(receiver))
    }
}

fn tokio_stream_from(
    mut receiver: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

/// Streams one container's log into `sender`, reframed.
async fn read_container(
    engine: &crate::engine::EngineClient,
    container: &str,
    task: &Task,
    options: &LogOptions,
    sender: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), ControlError> {
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("stdout", if options.stdout { "1" } else { "0" });
        query.append_pair("stderr", if options.stderr { "1" } else { "0" });
        query.append_pair("follow", if options.follow { "1" } else { "0" });
        query.append_pair("timestamps", "1");
        if let Some(since) = &options.since {
            query.append_pair("since", since);
        }
        query.append_pair(
            "tail",
            &options
                .tail
                .map_or_else(|| "all".to_string(), |n| n.to_string()),
        );
        query.finish()
    };
    let version = engine.api_version().await;
    let path = format!("/v{version}/containers/{container}/logs?{query}");
    let uri = engine
        .uri(&path)
        .map_err(|e| ControlError::Internal(e.to_string()))?;
    let request = Request::get(uri)
        .body(Body::empty())
        .map_err(|e| ControlError::Internal(e.to_string()))?;
    let response = engine
        .send(request)
        .await
        .map_err(|e| ControlError::Unavailable(e.to_string()))?;
    if !response.status().is_success() {
        return Ok(());
    }
    let tty = task.spec.container_spec.as_ref().is_some_and(|c| c.tty);
    let details = options.details.then(|| details_of(task));
    let mut demux = Demux::new(tty);
    let mut body = response.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ControlError::Unavailable(e.to_string()))?;
        for (stream, line) in demux.push(&chunk) {
            let out = frame(
                stream,
                &format_line(&line, options.timestamps, details.as_deref()),
            );
            if sender.send(Ok(out)).await.is_err() {
                return Ok(());
            }
        }
    }
    for (stream, line) in demux.finish() {
        let out = frame(
            stream,
            &format_line(&line, options.timestamps, details.as_deref()),
        );
        let _ = sender.send(Ok(out)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demultiplexes_frames_into_lines_across_chunks() {
        let mut demux = Demux::new(false);
        let mut bytes = frame(Stream::Stdout, b"2026-01-01T00:00:00Z hel").to_vec();
        bytes.extend_from_slice(&frame(Stream::Stdout, b"lo\n"));
        bytes.extend_from_slice(&frame(Stream::Stderr, b"2026-01-01T00:00:01Z warn\n"));
        let (first, second) = bytes.split_at(5);
        assert!(demux.push(first).is_empty());
        let lines = demux.push(second);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            (Stream::Stdout, b"2026-01-01T00:00:00Z hello\n".to_vec())
        );
        assert_eq!(lines[1].0, Stream::Stderr);
    }

    #[test]
    fn tty_output_is_one_stream() {
        let mut demux = Demux::new(true);
        let lines = demux.push(b"2026-01-01T00:00:00Z a\n2026-01-01T00:00:00Z b");
        assert_eq!(lines.len(), 1);
        assert_eq!(demux.finish().len(), 1);
    }

    #[test]
    fn formats_lines_as_the_engine() {
        let line = b"2026-01-01T00:00:00.5Z tick\n";
        assert_eq!(format_line(line, false, None), b"tick\n");
        assert_eq!(
            format_line(line, true, Some("com.docker.swarm.node.id=n")),
            b"2026-01-01T00:00:00.5Z com.docker.swarm.node.id=n tick\n".to_vec()
        );
        assert_eq!(
            &frame(Stream::Stderr, b"x")[..],
            &[2, 0, 0, 0, 0, 0, 0, 1, b'x']
        );
    }
}

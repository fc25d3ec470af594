//! `GET /events`: the local dockerd's events merged with the cluster's, the engine's way.
//!
//! Cluster events come from the change feed of whichever manager this node has; engine events
//! from dockerd's own `/events`, asked with the same window and filters. A request is served
//! in two phases, around `start`, the moment it arrived:
//!
//! 1. **Replay** (when `since` or `until` is given): the feed's bounded history in the window
//!    and the engine's replay of the same window (`until` = `start`, or the client's `until`
//!    if earlier; the engine then ends its answer), merged in time order.
//! 2. **Live** (unless `until` has passed): new changes of the feed, and a second engine
//!    stream from `start` on (the engine replays what it logged between the two requests,
//!    so nothing falls between the phases), interleaved as they come. The stream ends at
//!    `until`, when the client goes away (the body is dropped: nothing is spawned), or when
//!    the daemon shuts down ([`Control::end_streams`]).
//!
//! The stream outlives the manager: after `swarm leave` it carries engine events only, and
//! after `swarm init` it follows the new manager's feed from its first change. When the
//! filters leave no engine event (`type=service`, `scope=swarm`), dockerd is not asked; when
//! dockerd cannot be reached, cluster events still flow and the engine is retried with
//! backoff, from the last engine event seen.
//!
//! Depends on `store` (the feed), `engine` (dockerd) and `types`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::Stream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Control;
use crate::engine::{EngineClient, EngineError};
use crate::store::Change;
use crate::types::api_version::ApiVersion;
use crate::types::event::EventMessage;
use crate::types::filters::Filters;

pub mod cluster;
pub mod engine;
pub mod filter;
pub mod query;
#[cfg(test)]
mod tests;

use cluster::{Received, Subscription};
use engine::{EngineEvents, EngineLine};
pub use query::{EventTime, EventsRequest, QueryError};

/// How long opening the engine's stream may take.
const ENGINE_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest wait before reopening a lost engine stream.
const ENGINE_RETRY_MIN: Duration = Duration::from_secs(1);
const ENGINE_RETRY_MAX: Duration = Duration::from_secs(30);

/// One event of the merged stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventLine {
    /// A change of the cluster, as the engine shows swarm objects.
    Cluster(EventMessage),
    /// An event of the local dockerd, as it sent it.
    Engine(EngineLine),
}

impl EventLine {
    /// The event as one JSON document (no newline).
    pub fn json(&self) -> Bytes {
        match self {
            EventLine::Cluster(event) => serde_json::to_vec(event)
                .map(Bytes::from)
                .unwrap_or_default(),
            EventLine::Engine(line) => line.json.clone(),
        }
    }

    /// Nanoseconds since the epoch.
    pub fn time_nano(&self) -> i64 {
        match self {
            EventLine::Cluster(event) => event.time_nano,
            EventLine::Engine(line) => line.time_nano,
        }
    }
}

impl Control {
    /// A watch that changes whenever this node's manager comes or goes (init, join, leave,
    /// unlock).
    pub fn watch_manager(&self) -> watch::Receiver<u64> {
        self.manager_changes.subscribe()
    }

    /// Ends every open event stream; the daemon calls it when shutdown begins, so that open
    /// `/events` responses do not hold the connections it drains.
    pub fn end_streams(&self) {
        self.streams_closing.cancel();
    }

    /// The events of `request`, for a client at API `version`.
    pub fn events(self: &Arc<Self>, request: EventsRequest, version: ApiVersion) -> EventStream {
        EventStream::new(self.clone(), request, version)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Replay,
    Live,
    Done,
}

/// The merged stream of one `/events` request. Poll it with [`EventStream::next`], or turn it
/// into a [`Stream`] with [`EventStream::into_stream`].
pub struct EventStream {
    control: Arc<Control>,
    filters: Filters,
    version: ApiVersion,
    /// When the request arrived: the end of the replay and the start of the live phase.
    start: EventTime,
    until: Option<EventTime>,
    /// Whether a live phase follows the replay (`until` has not passed).
    live: bool,
    phase: Phase,
    ready: VecDeque<EventLine>,
    cluster: Option<Subscription>,
    /// History events inside the replay window, oldest first.
    cluster_replay: VecDeque<EventMessage>,
    /// History events after the window, for the live phase.
    cluster_backlog: Vec<EventMessage>,
    manager_changes: watch::Receiver<u64>,
    follow_manager: bool,
    wants_engine: bool,
    engine: EngineSource,
    last_engine_time: Option<i64>,
    deadline: Option<Instant>,
    closing: CancellationToken,
}

impl EventStream {
    fn new(control: Arc<Control>, request: EventsRequest, version: ApiVersion) -> Self {
        let start = EventTime::from(control.now());
        let live = !request.only_past(start);
        // The replay window ends at `start`, or at `until` when that has passed already.
        let cut = match request.until {
            Some(until) if until < start => until,
            _ => start,
        };
        let unknown: Vec<&str> = request
            .filters
            .keys()
            .filter(|k| !filter::KEYS.contains(k))
            .collect();
        if !unknown.is_empty() {
            tracing::debug!(?unknown, "ignoring event filters the engine does not know");
        }
        let wants_cluster = filter::wants_cluster(&request.filters);
        let mut manager_changes = control.watch_manager();
        manager_changes.borrow_and_update();
        let deadline = match request.until {
            Some(until) if live => {
                let wait = u64::try_from(until - start).unwrap_or(0);
                Some(Instant::now() + Duration::from_nanos(wait))
            }
            _ => None,
        };
        let mut stream = EventStream {
            closing: control.streams_closing.clone(),
            control,
            filters: request.filters.clone(),
            version,
            start,
            until: request.until,
            live,
            phase: Phase::Replay,
            ready: VecDeque::new(),
            cluster: None,
            cluster_replay: VecDeque::new(),
            cluster_backlog: Vec::new(),
            manager_changes,
            follow_manager: wants_cluster && live,
            wants_engine: filter::wants_engine(&request.filters),
            engine: EngineSource::default(),
            last_engine_time: None,
            deadline,
        };
        if wants_cluster {
            if let Ok(manager) = stream.control.manager() {
                let (subscription, history) = Subscription::new(&manager);
                for event in history.iter().filter_map(|c| cluster::change_event(c)) {
                    if !filter::include(&stream.filters, &event) {
                        continue;
                    }
                    let at = EventTime::from(event.time_nano);
                    if request.in_replay(at, cut) {
                        stream.cluster_replay.push_back(event);
                    } else if at > cut && live {
                        stream.cluster_backlog.push(event);
                    }
                }
                if live {
                    stream.cluster = Some(subscription);
                }
            }
        }
        // The engine replays [since, cut]; a `since` after the cut has nothing to replay (and
        // the engine would refuse it as after `until`).
        if stream.wants_engine
            && request.replays()
            && request.since.is_none_or(|since| since <= cut)
        {
            let opening = stream.open_engine(request.since, Some(cut));
            stream.engine.open(opening);
        }
        stream
    }

    /// The next event, or `None` when the stream has ended.
    pub async fn next(&mut self) -> Option<EventLine> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Some(line);
            }
            match self.phase {
                Phase::Replay => self.step_replay().await,
                Phase::Live => self.step_live().await,
                Phase::Done => return None,
            }
        }
    }

    /// The stream as a [`Stream`], in a span of its own.
    pub fn into_stream(self) -> impl Stream<Item = EventLine> + Send + 'static {
        let span = tracing::debug_span!("events", start = self.start as i64);
        futures::stream::unfold(self, move |mut stream| {
            async move {
                let line = stream.next().await?;
                Some((line, stream))
            }
            .instrument(span.clone())
        })
    }

    /// Replay: merge the engine's replay with the history of the window, by time.
    async fn step_replay(&mut self) {
        if self.engine.is_off() {
            let rest = self.cluster_replay.drain(..).map(EventLine::Cluster);
            self.ready.extend(rest);
            self.start_live();
            return;
        }
        tokio::select! {
            biased;
            _ = self.closing.cancelled() => self.phase = Phase::Done,
            step = self.engine.step() => match step {
                EngineStep::Line(line) => {
                    while self
                        .cluster_replay
                        .front()
                        .is_some_and(|event| event.time_nano <= line.time_nano)
                    {
                        if let Some(event) = self.cluster_replay.pop_front() {
                            self.ready.push_back(EventLine::Cluster(event));
                        }
                    }
                    self.last_engine_time = Some(line.time_nano);
                    self.ready.push_back(EventLine::Engine(line));
                }
                EngineStep::Lost(error) => {
                    if let Some(error) = error {
                        tracing::warn!(%error, "engine events unavailable for the replay; serving cluster events only");
                    }
                }
                EngineStep::RetryDue => {}
            },
        }
    }

    fn start_live(&mut self) {
        if !self.live {
            self.phase = Phase::Done;
            return;
        }
        self.phase = Phase::Live;
        let backlog = std::mem::take(&mut self.cluster_backlog);
        self.ready
            .extend(backlog.into_iter().map(EventLine::Cluster));
        if self.follow_manager {
            // The manager may have changed during the replay.
            self.manager_changes.borrow_and_update();
            self.follow_manager_change();
        }
        if self.wants_engine {
            let opening = self.open_engine(Some(self.start + 1), self.until);
            self.engine.open(opening);
        }
    }

    /// Live: whatever comes first, until `until`, shutdown or the client leaving. The
    /// branches are polled in random order, so a busy feed cannot starve the engine's events.
    async fn step_live(&mut self) {
        tokio::select! {
            _ = self.closing.cancelled() => {
                tracing::debug!("event stream ended by shutdown");
                self.phase = Phase::Done;
            }
            _ = sleep_until(self.deadline) => self.phase = Phase::Done,
            changed = self.manager_changes.changed(), if self.follow_manager => match changed {
                Ok(()) => self.follow_manager_change(),
                Err(_) => self.follow_manager = false,
            },
            received = recv(&mut self.cluster) => match received {
                Received::Change(change) => self.push_change(&change),
                Received::Lagged(missed) => {
                    tracing::warn!(missed, "an event stream fell behind the change feed; events were lost");
                }
                Received::Closed => self.cluster = None,
            },
            step = self.engine.step() => match step {
                EngineStep::Line(line) => {
                    self.last_engine_time = Some(line.time_nano);
                    self.ready.push_back(EventLine::Engine(line));
                }
                EngineStep::Lost(error) => {
                    // Warn once per outage; the retries that follow are debug.
                    let first = self.engine.is_first_retry();
                    let wait = self.engine.retry_later();
                    match error {
                        Some(error) if first => tracing::warn!(%error, retry_in = ?wait, "engine events unavailable; serving cluster events meanwhile"),
                        Some(error) => tracing::debug!(%error, retry_in = ?wait, "engine events still unavailable"),
                        None => tracing::info!(retry_in = ?wait, "the engine ended its event stream; reopening"),
                    }
                }
                EngineStep::RetryDue => {
                    let from = self.start + 1;
                    let since = self
                        .last_engine_time
                        .map_or(from, |t| (EventTime::from(t) + 1).max(from));
                    let opening = self.open_engine(Some(since), self.until);
                    self.engine.open(opening);
                }
            },
        }
    }

    /// Resubscribes when this node's manager is not the one followed (init, leave, unlock).
    fn follow_manager_change(&mut self) {
        let manager = self.control.manager().ok();
        if let (Some(subscription), Some(manager)) = (&self.cluster, &manager) {
            if subscription.is_of(manager) {
                return;
            }
        }
        if let Some(mut old) = self.cluster.take() {
            for change in old.drain() {
                self.push_change(&change);
            }
        }
        if let Some(manager) = manager {
            tracing::debug!(node.id = %manager.node_id(), "event stream follows a new manager");
            let (subscription, history) = Subscription::new(&manager);
            for event in cluster::events_from(&history, self.start) {
                if filter::include(&self.filters, &event) {
                    self.ready.push_back(EventLine::Cluster(event));
                }
            }
            self.cluster = Some(subscription);
        }
    }

    fn push_change(&mut self, change: &Change) {
        if let Some(event) = cluster::change_event(change) {
            if filter::include(&self.filters, &event) {
                self.ready.push_back(EventLine::Cluster(event));
            }
        }
    }

    /// A future opening the engine's stream for a window, at the client's version (or the
    /// engine's, if older).
    fn open_engine(
        &self,
        since: Option<EventTime>,
        until: Option<EventTime>,
    ) -> BoxFuture<'static, Result<EngineEvents, EngineError>> {
        let engine: Arc<EngineClient> = self.control.engine().clone();
        let filters = self.filters.clone();
        let version = self.version;
        Box::pin(async move {
            let version = version.min(engine.api_version().await);
            let path = engine::events_path(version, since, until, &filters);
            match tokio::time::timeout(ENGINE_OPEN_TIMEOUT, EngineEvents::open(&engine, &path))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(EngineError::Unreachable {
                    endpoint: engine.endpoint().to_string(),
                    reason: format!("no answer to /events within {ENGINE_OPEN_TIMEOUT:?}"),
                }),
            }
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        tracing::debug!(phase = ?self.phase, "event stream closed");
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn recv(subscription: &mut Option<Subscription>) -> Received {
    match subscription {
        Some(subscription) => subscription.recv().await,
        None => std::future::pending().await,
    }
}

/// The engine side of a stream: off, opening, open, or waiting to reopen.
struct EngineSource {
    state: EngineState,
    backoff: Duration,
}

enum EngineState {
    Off,
    Opening(BoxFuture<'static, Result<EngineEvents, EngineError>>),
    Open(EngineEvents),
    Waiting(std::pin::Pin<Box<Sleep>>),
}

enum EngineStep {
    Line(EngineLine),
    /// The stream could not be opened, broke (`Some`), or the engine ended it (`None`).
    Lost(Option<EngineError>),
    /// The wait after a loss is over.
    RetryDue,
}

impl Default for EngineSource {
    fn default() -> Self {
        EngineSource {
            state: EngineState::Off,
            backoff: ENGINE_RETRY_MIN,
        }
    }
}

impl EngineSource {
    fn is_off(&self) -> bool {
        matches!(self.state, EngineState::Off)
    }

    fn open(&mut self, opening: BoxFuture<'static, Result<EngineEvents, EngineError>>) {
        self.state = EngineState::Opening(opening);
    }

    /// Whether no loss happened since the engine's stream was last open.
    fn is_first_retry(&self) -> bool {
        self.backoff == ENGINE_RETRY_MIN
    }

    /// Waits before reopening; returns the wait. Each loss in a row doubles it.
    fn retry_later(&mut self) -> Duration {
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(ENGINE_RETRY_MAX);
        self.state = EngineState::Waiting(Box::pin(tokio::time::sleep(wait)));
        wait
    }

    /// The next thing that happens on the engine side; pending while off. Cancel-safe.
    async fn step(&mut self) -> EngineStep {
        loop {
            match &mut self.state {
                EngineState::Off => return std::future::pending().await,
                EngineState::Opening(opening) => match opening.await {
                    Ok(events) => {
                        self.state = EngineState::Open(events);
                        self.backoff = ENGINE_RETRY_MIN;
                    }
                    Err(error) => {
                        self.state = EngineState::Off;
                        return EngineStep::Lost(Some(error));
                    }
                },
                EngineState::Open(events) => match events.next().await {
                    Ok(Some(line)) => return EngineStep::Line(line),
                    Ok(None) => {
                        self.state = EngineState::Off;
                        return EngineStep::Lost(None);
                    }
                    Err(error) => {
                        self.state = EngineState::Off;
                        return EngineStep::Lost(Some(error));
                    }
                },
                EngineState::Waiting(sleep) => {
                    sleep.as_mut().await;
                    self.state = EngineState::Off;
                    return EngineStep::RetryDue;
                }
            }
        }
    }
}

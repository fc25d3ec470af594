//! The change feed: what `apply` changed, published after it is committed.
//!
//! Three kinds of consumers: the manager loops (orchestrator, scheduler, mesh, dispatcher
//! sessions), which take the changes since they last looked ([`ChangeCursor`]) and look again
//! only at what those touch; `/events`, which replays a bounded history and then follows new
//! changes (`subscribe`); and waiters that only need "something was applied" (`applied`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use super::apply::Change;

/// How many changes `/events?since=` can replay.
const HISTORY: usize = 1024;
/// How far a slow `/events` subscriber may lag before it misses changes.
const LAG: usize = 4096;

#[derive(Debug)]
pub struct ChangeFeed {
    history: Mutex<VecDeque<Arc<Change>>>,
    live: broadcast::Sender<Arc<Change>>,
    applied: watch::Sender<u64>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(LAG);
        let (applied, _) = watch::channel(0);
        Self {
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            live,
            applied,
        }
    }

    /// Publishes the changes of log entries up to `index`, in order.
    pub fn publish(&self, index: u64, changes: Vec<Change>) {
        if !changes.is_empty() {
            let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
            for change in changes {
                let change = Arc::new(change);
                if history.len() == HISTORY {
                    history.pop_front();
                }
                history.push_back(change.clone());
                // No subscribers is fine.
                let _ = self.live.send(change);
            }
        }
        self.applied.send_replace(index);
    }

    /// The changes still in history (oldest first) and a receiver for the ones after them.
    /// Taken under one lock, so nothing falls between the two.
    pub fn subscribe(&self) -> (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>) {
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let receiver = self.live.subscribe();
        (history.iter().cloned().collect(), receiver)
    }

    /// A watch of the last applied log index.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// A cursor over the changes published from now on.
    pub fn cursor(&self) -> ChangeCursor {
        ChangeCursor {
            live: self.live.subscribe(),
            pending: Pending::default(),
        }
    }
}

/// The changes one loop has not looked at yet.
#[derive(Debug)]
pub struct ChangeCursor {
    live: broadcast::Receiver<Arc<Change>>,
    pending: Pending,
}

/// What arrived since a loop last looked.
#[derive(Debug, Default)]
pub struct Pending {
    pub changes: Vec<Arc<Change>>,
    /// Some changes were missed (the loop fell more than [`LAG`] behind): look at everything.
    pub lagged: bool,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.lagged
    }
}

impl ChangeCursor {
    /// Waits until something arrived; `false` once the feed is gone.
    pub async fn wait(&mut self) -> bool {
        if !self.pending.is_empty() {
            return true;
        }
        match self.live.recv().await {
            Ok(change) => self.pending.changes.push(change),
            Err(broadcast::error::RecvError::Lagged(_)) => self.pending.lagged = true,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
        true
    }

    /// Everything that arrived so far, without waiting.
    pub fn take(&mut self) -> Pending {
        loop {
            match self.live.try_recv() {
                Ok(change) => self.pending.changes.push(change),
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.pending.lagged = true,
                Err(_) => break,
            }
        }
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::apply::Action;
    use crate::store::object::Kind;

    fn change(id: &str) -> Change {
        Change {
            kind: Kind::Service,
            action: Action::Create,
            id: id.into(),
            name: id.into(),
            at: 1,
            attributes: Default::default(),
            service_id: None,
        }
    }

    #[tokio::test]
    async fn history_then_live_without_gaps() {
        let feed = ChangeFeed::new();
        feed.publish(1, vec![change("a")]);
        let (history, mut live) = feed.subscribe();
        assert_eq!(history.len(), 1);
        feed.publish(2, vec![change("b")]);
        assert_eq!(live.recv().await.unwrap().id, "b");
        assert_eq!(*feed.applied().borrow(), 2);
    }

    #[tokio::test]
    async fn a_cursor_takes_what_arrived_since_it_last_looked() {
        let feed = ChangeFeed::new();
        feed.publish(1, vec![change("before")]);
        let mut cursor = feed.cursor();
        assert!(cursor.take().is_empty());
        feed.publish(2, vec![change("a"), change("b")]);
        assert!(cursor.wait().await);
        feed.publish(3, vec![change("c")]);
        let pending = cursor.take();
        let ids: Vec<&str> = pending.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(!pending.lagged);
        assert!(cursor.take().is_empty());
    }

    #[test]
    fn a_cursor_that_falls_behind_is_told_to_look_at_everything() {
        let feed = ChangeFeed::new();
        let mut cursor = feed.cursor();
        for i in 0..(LAG + 1) {
            feed.publish(i as u64, vec![change(&i.to_string())]);
        }
        assert!(cursor.take().lagged);
    }

    #[test]
    fn history_is_bounded() {
        let feed = ChangeFeed::new();
        for i in 0..(HISTORY + 10) {
            feed.publish(i as u64, vec![change(&i.to_string())]);
        }
        let (history, _) = feed.subscribe();
        assert_eq!(history.len(), HISTORY);
        assert_eq!(history[0].id, "10");
    }
}

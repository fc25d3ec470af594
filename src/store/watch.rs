//! The change feed: what `apply` changed, published after it is committed.
//!
//! Two consumers: level-triggered loops (orchestrators, the scheduler) that only need to know
//! "something changed, look again" (`applied` index watch), and `/events`, which replays a
//! bounded history and then follows new changes (`subscribe`).

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

    /// A watch of the last applied log index, for level-triggered loops.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
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

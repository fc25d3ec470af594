//! Cluster events: the store's change feed, as the engine's swarm events, following whichever
//! manager this node has (none, then a new one after `swarm init`, none after `leave`).
//!
//! The subscription keeps the feed's receiver and a [`Weak`] reference to the manager, only
//! to recognise it: an open `/events` stream never keeps a stopped manager (and its database)
//! alive.

use std::sync::{Arc, Weak};

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::query::EventTime;
use crate::control::Manager;
use crate::store::{Change, Kind};
use crate::types::event::{EventMessage, EventType};
use crate::types::meta::Timestamp;

/// The engine's event for a change, if the engine has events for its kind (not for the
/// cluster object or tasks). Attributes: `name`, plus those of the change (`replicas.old`...).
pub fn change_event(change: &Change) -> Option<EventMessage> {
    let r#type = match change.kind {
        Kind::Service => EventType::Service,
        Kind::Node => EventType::Node,
        Kind::Secret => EventType::Secret,
        Kind::Config => EventType::Config,
        Kind::Network => EventType::Network,
        Kind::Cluster | Kind::Task => return None,
    };
    let at = Timestamp::from_unix_nanos(i128::from(change.at)).ok()?;
    let mut event =
        EventMessage::swarm(r#type, change.action.as_str(), &change.id, &change.name, at);
    event.actor.attributes.extend(
        change
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    Some(event)
}

/// One manager's feed.
pub struct Subscription {
    manager: Weak<Manager>,
    live: broadcast::Receiver<Arc<Change>>,
}

/// What waiting on a subscription gave.
pub enum Received {
    Change(Arc<Change>),
    /// The receiver fell behind; this many changes were lost.
    Lagged(u64),
    /// The feed is gone (its store was dropped).
    Closed,
}

impl Subscription {
    /// Subscribes to `manager`'s feed: its bounded history (oldest first) and the receiver for
    /// what follows, with nothing falling between.
    pub fn new(manager: &Arc<Manager>) -> (Self, Vec<Arc<Change>>) {
        let (history, live) = manager.store.feed().subscribe();
        let subscription = Subscription {
            manager: Arc::downgrade(manager),
            live,
        };
        (subscription, history)
    }

    /// Whether this is `manager`'s feed.
    pub fn is_of(&self, manager: &Arc<Manager>) -> bool {
        std::ptr::eq(self.manager.as_ptr(), Arc::as_ptr(manager))
    }

    /// The next change (cancel-safe).
    pub async fn recv(&mut self) -> Received {
        match self.live.recv().await {
            Ok(change) => Received::Change(change),
            Err(RecvError::Lagged(n)) => Received::Lagged(n),
            Err(RecvError::Closed) => Received::Closed,
        }
    }

    /// The changes already delivered but not yet read (before the subscription is replaced).
    pub fn drain(&mut self) -> Vec<Arc<Change>> {
        let mut changes = Vec::new();
        loop {
            match self.live.try_recv() {
                Ok(change) => changes.push(change),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty | TryRecvError::Closed) => return changes,
            }
        }
    }
}

/// The changes of `history` that are events at or after `from` (for a new manager's feed).
pub fn events_from(history: &[Arc<Change>], from: EventTime) -> Vec<EventMessage> {
    history
        .iter()
        .filter(|c| i128::from(c.at) >= from)
        .filter_map(|c| change_event(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Action;

    fn change(kind: Kind, action: Action, at: i64) -> Change {
        Change {
            kind,
            action,
            id: "jxk4v3e7whkc7m1pbgoii6jdz".into(),
            name: "app_app".into(),
            at,
            attributes: Default::default(),
            service_id: None,
        }
    }

    #[test]
    fn service_update_with_replicas() {
        let mut c = change(Kind::Service, Action::Update, 1_795_316_728_625_085_828);
        c.attributes.insert("replicas.old".into(), "1".into());
        c.attributes.insert("replicas.new".into(), "2".into());
        let event = change_event(&c).unwrap();
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"Type":"service","Action":"update","Actor":{"ID":"jxk4v3e7whkc7m1pbgoii6jdz","Attributes":{"name":"app_app","replicas.new":"2","replicas.old":"1"}},"scope":"swarm","time":1795316728,"timeNano":1795316728625085828}"#
        );
    }

    #[test]
    fn kinds_and_actions() {
        for (kind, r#type) in [
            (Kind::Service, "service"),
            (Kind::Node, "node"),
            (Kind::Secret, "secret"),
            (Kind::Config, "config"),
            (Kind::Network, "network"),
        ] {
            for (action, text) in [
                (Action::Create, "create"),
                (Action::Update, "update"),
                (Action::Remove, "remove"),
            ] {
                let event = change_event(&change(kind, action, 5)).unwrap();
                assert_eq!(event.r#type.as_str(), r#type);
                assert_eq!(event.action, text);
                assert_eq!(event.scope, "swarm");
                assert_eq!(event.actor.attributes["name"], "app_app");
            }
        }
        assert!(change_event(&change(Kind::Cluster, Action::Update, 5)).is_none());
        assert!(change_event(&change(Kind::Task, Action::Create, 5)).is_none());
    }

    #[test]
    fn history_from_a_time() {
        let history: Vec<Arc<Change>> = [1, 5, 7]
            .into_iter()
            .map(|at| Arc::new(change(Kind::Node, Action::Update, at)))
            .collect();
        let events = events_from(&history, 5);
        assert_eq!(
            events.iter().map(|e| e.time_nano).collect::<Vec<_>>(),
            vec![5, 7]
        );
    }
}

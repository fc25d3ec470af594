//! Where, among the nodes that fit, each task of a group goes.
//!
//! Nodes are first split by the service's placement preferences (`spread=node.labels.zone`):
//! one branch per value of the label, one level per preference, nodes without the label in
//! a branch of their own (the empty value). A task goes down, at every level, to the branch
//! that has the fewest tasks of the service so far (the first value in order on a tie), so
//! the service spreads evenly over the values. Within the last level it goes to the node with
//! the fewest tasks of the service, then the fewest tasks in all, then the lowest node ID.
//! Every placement updates the counts, so ten tasks on three empty nodes land 4/3/3; a node
//! that no longer fits (resources, ports, `MaxReplicas`) leaves the running, and a branch
//! whose nodes are all full is skipped. This is swarm's decision tree, made deterministic.
//!
//! Pure; depends on [`super::filter`] and [`super::nodes`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::filter::Demand;
use super::nodes::NodeInfo;
use crate::types::constraint::{label_name, ENGINE_LABELS, NODE_LABELS};
use crate::types::node::Node;
use crate::types::task_spec::PlacementPreference;

/// One preference level: the label whose values split the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread<'a> {
    NodeLabel(&'a str),
    EngineLabel(&'a str),
}

impl<'a> Spread<'a> {
    /// The levels of `preferences` the scheduler understands (swarm only spreads over node
    /// and engine labels; other descriptors are ignored).
    pub fn levels(preferences: &'a [PlacementPreference]) -> Vec<Spread<'a>> {
        preferences
            .iter()
            .filter_map(|p| p.spread.as_ref())
            .filter_map(|s| {
                let descriptor = s.spread_descriptor.as_str();
                label_name(descriptor, NODE_LABELS)
                    .map(Spread::NodeLabel)
                    .or_else(|| label_name(descriptor, ENGINE_LABELS).map(Spread::EngineLabel))
            })
            .collect()
    }

    /// The node's value for this level; empty when it lacks the label.
    pub fn value<'n>(&self, node: &'n Node) -> &'n str {
        let labels = match self {
            Spread::NodeLabel(name) => node.spec.labels.get(*name),
            Spread::EngineLabel(name) => node.description.engine.labels.get(*name),
        };
        labels.map_or("", String::as_str)
    }
}

/// A node's place in the queue of its branch: smaller goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    same_service: u32,
    total: u32,
    node: usize,
}

impl Rank {
    fn of(demand: &Demand<'_>, nodes: &[NodeInfo<'_>], node: usize) -> Rank {
        Rank {
            same_service: nodes[node].tasks_of(demand.service),
            total: nodes[node].active,
            node,
        }
    }
}

#[derive(Debug, Default)]
struct Branch {
    /// Tasks of the service on the nodes under this branch (fitting or not).
    tasks: u64,
    /// Sub-branches in value order; none for the last level.
    children: Vec<usize>,
    /// The last level: the fitting nodes, best first.
    queue: BinaryHeap<Reverse<Rank>>,
    /// Nothing under this branch can take another task.
    full: bool,
}

/// The nodes for one group, arranged by its preferences.
#[derive(Debug)]
pub struct Tree {
    /// `branches[0]` is the root.
    branches: Vec<Branch>,
}

impl Tree {
    /// Arranges `nodes` for `demand`; only nodes that fit enter the queues.
    pub fn build(demand: &Demand<'_>, nodes: &[NodeInfo<'_>]) -> Tree {
        let levels = Spread::levels(demand.preferences);
        let mut branches = vec![Branch::default()];
        let mut children: Vec<BTreeMap<&str, usize>> = vec![BTreeMap::new()];
        let mut queues: Vec<Vec<Reverse<Rank>>> = vec![Vec::new()];
        for (index, info) in nodes.iter().enumerate() {
            let count = u64::from(info.tasks_of(demand.service));
            let mut at = 0;
            for level in &levels {
                branches[at].tasks += count;
                let value = level.value(info.node);
                at = match children[at].get(value) {
                    Some(next) => *next,
                    None => {
                        let next = branches.len();
                        branches.push(Branch::default());
                        children.push(BTreeMap::new());
                        queues.push(Vec::new());
                        children[at].insert(value, next);
                        next
                    }
                };
            }
            branches[at].tasks += count;
            if demand.fits(info) {
                queues[at].push(Reverse(Rank::of(demand, nodes, index)));
            }
        }
        for ((branch, values), queue) in branches.iter_mut().zip(children).zip(queues) {
            branch.children = values.into_values().collect();
            branch.queue = BinaryHeap::from(queue);
        }
        Tree { branches }
    }

    /// Picks a node for one more task of `demand` and records the task on it; `None` when no
    /// node can take it.
    pub fn place(&mut self, demand: &Demand<'_>, nodes: &mut [NodeInfo<'_>]) -> Option<usize> {
        self.place_under(0, demand, nodes)
    }

    fn place_under(
        &mut self,
        at: usize,
        demand: &Demand<'_>,
        nodes: &mut [NodeInfo<'_>],
    ) -> Option<usize> {
        if self.branches[at].full {
            return None;
        }
        if self.branches[at].children.is_empty() {
            let Some(Reverse(rank)) = self.branches[at].queue.pop() else {
                self.branches[at].full = true;
                return None;
            };
            let node = rank.node;
            demand.place_on(&mut nodes[node]);
            if demand.fits(&nodes[node]) {
                let rank = Rank::of(demand, nodes, node);
                self.branches[at].queue.push(Reverse(rank));
            }
            self.branches[at].tasks += 1;
            return Some(node);
        }
        loop {
            let branches = &self.branches;
            let emptiest = branches[at]
                .children
                .iter()
                .copied()
                .filter(|c| !branches[*c].full)
                .min_by_key(|c| branches[*c].tasks);
            let Some(child) = emptiest else {
                self.branches[at].full = true;
                return None;
            };
            if let Some(node) = self.place_under(child, demand, nodes) {
                self.branches[at].tasks += 1;
                return Some(node);
            }
        }
    }
}

//! The JSON of stored objects, made once per object and reused by every list that shows it.
//!
//! `GET /services` with 2,000 services is ~1.2 MB of JSON, and serializing it took most of
//! the request (several milliseconds); UIs poll such lists. Records in the store are never
//! changed in place (a write stores a new `Arc`), so the JSON made for one `Arc` is right for
//! as long as that `Arc` lives. Entries are keyed by the `Arc`'s address and hold a `Weak` to
//! it: while the `Weak` exists the allocation cannot be reused, so an address always names the
//! record the JSON was made from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::value::RawValue;

/// Entries beyond the live ones that may wait before dead ones are dropped.
const SLACK: usize = 256;

type Entry<T> = (Weak<T>, Arc<RawValue>);

/// Rendered JSON of one kind of record.
pub struct RenderCache<T> {
    entries: Mutex<Entries<T>>,
}

struct Entries<T> {
    by_address: HashMap<usize, Entry<T>>,
    /// Dead entries are looked for only once the map holds more than this: what was alive at
    /// the last look plus [`SLACK`]. A small filtered list over many live records does not
    /// scan them all each time; dead entries wait at most until [`SLACK`] new ones arrive.
    prune_above: usize,
}

impl<T> Default for RenderCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(Entries {
                by_address: HashMap::new(),
                prune_above: 0,
            }),
        }
    }
}

impl<T> RenderCache<T> {
    /// The JSON of each of `records`, in order: cached, or made by `to_json` and kept.
    pub fn render(
        &self,
        records: &[Arc<T>],
        to_json: impl Fn(&Arc<T>) -> serde_json::Result<Box<RawValue>>,
    ) -> serde_json::Result<RenderedList> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut rendered = Vec::with_capacity(records.len());
        for record in records {
            let key = Arc::as_ptr(record) as *const () as usize;
            let json = match entries.by_address.get(&key) {
                Some((_, json)) => json.clone(),
                None => {
                    let json: Arc<RawValue> = to_json(record)?.into();
                    entries
                        .by_address
                        .insert(key, (Arc::downgrade(record), json.clone()));
                    json
                }
            };
            rendered.push(json);
        }
        let held = entries.by_address.len();
        if held > records.len() * 2 + SLACK && held > entries.prune_above {
            entries
                .by_address
                .retain(|_, (record, _)| record.strong_count() > 0);
            entries.prune_above = entries.by_address.len() + SLACK;
        }
        Ok(RenderedList(rendered))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().by_address.len()
    }
}

/// A list that could not be rendered (a value serde_json refuses: never expected).
pub fn encode_error(error: serde_json::Error) -> super::ControlError {
    super::ControlError::Internal(format!("cannot encode the list: {error}"))
}

/// A JSON array of rendered objects.
pub struct RenderedList(Vec<Arc<RawValue>>);

impl Serialize for RenderedList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for json in &self.0 {
            seq.serialize_element(&**json)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Item {
        name: String,
    }

    fn items(names: &[&str]) -> Vec<Arc<Item>> {
        names
            .iter()
            .map(|n| {
                Arc::new(Item {
                    name: n.to_string(),
                })
            })
            .collect()
    }

    #[test]
    fn renders_each_record_once_and_follows_replacements() {
        let cache = RenderCache::default();
        let renders = std::cell::Cell::new(0);
        let view = |item: &Arc<Item>| {
            renders.set(renders.get() + 1);
            serde_json::value::to_raw_value(&**item)
        };
        let mut records = items(&["a", "b"]);
        let list = serde_json::to_string(&cache.render(&records, view).unwrap()).unwrap();
        assert_eq!(list, r#"[{"name":"a"},{"name":"b"}]"#);
        let again = serde_json::to_string(&cache.render(&records, view).unwrap()).unwrap();
        assert_eq!(again, list);
        assert_eq!(renders.get(), 2, "the second list reuses both");

        // A write replaces the record with a new Arc: its JSON is made anew.
        records[1] = Arc::new(Item { name: "b2".into() });
        let changed = serde_json::to_string(&cache.render(&records, view).unwrap()).unwrap();
        assert_eq!(changed, r#"[{"name":"a"},{"name":"b2"}]"#);
        assert_eq!(renders.get(), 3);
    }

    #[test]
    fn drops_entries_of_removed_records() {
        let cache = RenderCache::default();
        let view = |item: &Arc<Item>| serde_json::value::to_raw_value(&**item);
        let names: Vec<String> = (0..SLACK + 10).map(|i| format!("n{i}")).collect();
        let many = items(&names.iter().map(String::as_str).collect::<Vec<_>>());
        cache.render(&many, view).unwrap();
        drop(many);
        let few = items(&["x"]);
        cache.render(&few, view).unwrap();
        assert_eq!(cache.len(), 1, "only the live record stays");
    }

    #[test]
    fn small_lists_over_many_live_records_do_not_rescan_them() {
        let cache = RenderCache::default();
        let view = |item: &Arc<Item>| serde_json::value::to_raw_value(&**item);
        let names: Vec<String> = (0..3 * SLACK).map(|i| format!("n{i}")).collect();
        let live = items(&names.iter().map(String::as_str).collect::<Vec<_>>());
        cache.render(&live, view).unwrap();
        // The first small list looks for dead entries and finds none...
        cache.render(&live[..1], view).unwrap();
        let threshold = cache.entries.lock().unwrap().prune_above;
        assert_eq!(threshold, 3 * SLACK + SLACK);
        // ...and the next ones do not look again until SLACK new entries arrive.
        for _ in 0..10 {
            cache.render(&live[..1], view).unwrap();
        }
        assert_eq!(cache.entries.lock().unwrap().prune_above, threshold);
        assert_eq!(cache.len(), 3 * SLACK);
    }
}

//! The local node's `Description`, read from the engine's `/info` (what swarm's agent reports).

use serde_json::Value;

use super::{ControlError, ControlResult};
use crate::engine::EngineClient;
use crate::types::node::{
    EngineDescription, NodeDescription, Platform, PluginDescription, Resources,
};

/// Reads the engine's `/info` and describes this node from it.
pub async fn from_engine(engine: &EngineClient) -> ControlResult<NodeDescription> {
    let info = engine
        .get_json("/info")
        .await
        .map_err(|e| ControlError::Unavailable(e.to_string()))?;
    Ok(describe(&info))
}

/// Pure: engine `/info` JSON -> node description.
pub fn describe(info: &Value) -> NodeDescription {
    let text = |key: &str| {
        info.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let ncpu = info.get("NCPU").and_then(Value::as_i64).unwrap_or(0);
    let memory = info.get("MemTotal").and_then(Value::as_i64).unwrap_or(0);
    let mut plugins = Vec::new();
    if let Some(Value::Object(groups)) = info.get("Plugins") {
        // The engine lists Log, Network and Volume plugins (Authorization too, when set).
        for (kind, names) in [("Log", "Log"), ("Network", "Network"), ("Volume", "Volume")] {
            if let Some(Value::Array(list)) = groups.get(names) {
                let mut names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                names.sort_unstable();
                for name in names {
                    plugins.push(PluginDescription {
                        r#type: kind.to_string(),
                        name: name.to_string(),
                    });
                }
            }
        }
    }
    let labels = info
        .get("Labels")
        .and_then(Value::as_array)
        .map(|labels| {
            labels
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    NodeDescription {
        hostname: text("Name"),
        platform: Platform {
            architecture: text("Architecture"),
            os: text("OSType"),
        },
        resources: Resources {
            nano_cpus: ncpu.saturating_mul(1_000_000_000),
            memory_bytes: memory,
            generic_resources: Vec::new(),
        },
        engine: EngineDescription {
            engine_version: text("ServerVersion"),
            labels,
            plugins,
        },
        tls_info: Default::default(),
        csi_info: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_node_from_engine_info() {
        let info = serde_json::json!({
            "Name": "vm", "Architecture": "x86_64", "OSType": "linux", "NCPU": 2,
            "MemTotal": 25276514304i64, "ServerVersion": "20.10.24+dfsg1",
            "Labels": ["zone=a"],
            "Plugins": {"Volume": ["local"], "Network": ["overlay", "bridge"], "Log": ["json-file"]}
        });
        let d = describe(&info);
        assert_eq!(d.hostname, "vm");
        assert_eq!(d.resources.nano_cpus, 2_000_000_000);
        assert_eq!(d.engine.plugins.len(), 4);
        assert_eq!(d.engine.plugins[0].r#type, "Log");
        assert_eq!(d.engine.plugins[1].name, "bridge");
        assert_eq!(d.engine.labels.get("zone").map(String::as_str), Some("a"));
    }
}

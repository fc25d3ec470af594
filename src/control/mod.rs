//! What handlers call. (Scaffolding while the store and Raft land: always inactive.)

use std::sync::Arc;

pub struct Control;

impl Control {
    pub async fn start(
        _config: &crate::config::Config,
        _engine: Arc<crate::engine::EngineClient>,
        _clock: crate::clock::SharedClock,
    ) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Control))
    }

    pub fn swarm_header(&self) -> &'static str {
        "inactive"
    }

    pub async fn shutdown(&self) {}
}

//! What every handler can reach: the control layer and the engine client.

use std::sync::Arc;

use crate::control::Control;
use crate::engine::EngineClient;

#[derive(Clone)]
pub struct AppState {
    pub control: Arc<Control>,
    pub engine: Arc<EngineClient>,
}

//! What every request reads: the live rules, swapped whole on reload.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use crate::config::{Config, Settings};
use crate::policy::Rules;

/// One consistent generation of config: requests never see half a reload.
pub struct Live {
    pub rules: Rules,
    pub settings: Settings,
    pub loaded_at: DateTime<Utc>,
}

pub struct AppState {
    live: ArcSwap<Live>,
}

impl AppState {
    pub fn new(config: &Config, now: DateTime<Utc>) -> AppState {
        AppState {
            live: ArcSwap::from_pointee(Live::from_config(config, now)),
        }
    }

    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }
}

impl Live {
    pub fn from_config(config: &Config, now: DateTime<Utc>) -> Live {
        Live {
            rules: config.rules(),
            settings: config.settings.clone(),
            loaded_at: now,
        }
    }
}

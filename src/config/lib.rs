//! Configuration: `conf/affinity.toml` (cores, stage placement, idle policy,
//! ring capacities) and `conf/tickwire.toml` (symbols, strategy, risk, paper
//! venue, reports). Loaded and validated once at start-up; immutable after.
//! Every key is described in `docs/configuration.md`.

mod error;
mod load;
mod loaded;
mod placement;
mod render;
pub mod schema;
mod tomlerr;
mod validate;

pub use error::ConfigError;
pub use load::{
    AFFINITY_FILE, APP_FILE, available_cores, embedded_default, embedded_default_for_allowed,
    embedded_default_for_cores, load, load_files, load_files_with_cores, load_texts,
};
pub use loaded::{Config, EMBEDDED_DIR};
pub use placement::{Placement, ResolvedExecutor};
pub use render::render_check;
pub use schema::{
    AffinityConfig, AppConfig, CoreNumbering, ExecutorConf, IdlePolicy, PaperConf, ReportConf,
    RingsConf, RiskConf, StageName, StrategyConf, StrategyKind, SymbolConf,
};
pub use validate::{
    MAX_PARK_US, MAX_RING_CAPACITY, resolve_cores, validate_values, validate_with_cores,
};

//! abilene's control plane: `abilene serve`.
//!
//! A thin shell around the core. Handlers (`api`) read the state under a
//! read lock and send commands to the one writer thread (`writer`), which
//! steps the scheduler, runs the fleet and commits every record to the
//! store (`store`) before anyone hears of it. The campus clock (`clock`)
//! is the only clock read anywhere in abilene; the state (`engine`) is
//! rebuilt on start from the newest snapshot and the log's tail (`serve`).

pub mod api;
pub mod audit;
pub mod auth;
pub mod check;
pub mod clock;
pub mod engine;
pub mod fill;
pub mod metrics;
pub mod serve;
pub mod store;
pub mod transport;
pub mod writer;

pub use serve::{ServeError, ServeOptions, Server, run};
pub use transport::TransportOptions;

//! abilene's digital twin: a deterministic discrete-event simulation of an
//! AI campus that drives the real scheduler.

mod bounds;
pub mod cooling;
mod datafile;
pub mod engine;
pub mod failure;
pub mod grid;
pub mod job;
pub mod metrics;
pub mod money;
pub mod name;
pub mod power;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
mod summary;
mod table;
pub mod telemetry;
pub mod tenancy;
pub mod trace;
pub mod weather;
pub mod workload;

//! abilene's digital twin: a deterministic discrete-event simulation of an
//! AI campus that drives the real scheduler.

pub mod metrics;

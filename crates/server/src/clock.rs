//! The server's clock: the one place in abilene that reads the time.
//!
//! The core takes `now` as an argument; the server makes it from the wall
//! clock, scaled by `--speed` so that a laptop can watch a campus live a
//! minute per second. Campus time is seconds since the scenario's start and
//! never goes back, across restarts too: a restarted server resumes from the
//! time of the last record in its log.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use abilene_scheduler::Time;

/// The fastest campus clock a server accepts: a day per second. Faster, the
/// twin's plant (hourly readings) would outrun what a client can watch.
pub const MAX_SPEED: f64 = 86_400.0;

#[derive(Debug, Clone)]
pub struct CampusClock {
    started: Instant,
    /// Campus time when `started` was read.
    origin: Time,
    speed: f64,
}

impl CampusClock {
    /// A clock that reads `origin` now and runs `speed` campus seconds per
    /// wall second (from 0.001 to [`MAX_SPEED`]).
    pub fn new(origin: Time, speed: f64) -> Result<CampusClock, String> {
        if !(0.001..=MAX_SPEED).contains(&speed) {
            return Err(format!(
                "speed {speed}: a campus clock runs 0.001 to {MAX_SPEED} campus seconds per second"
            ));
        }
        Ok(CampusClock {
            started: Instant::now(),
            origin,
            speed,
        })
    }

    /// Campus seconds now (whole seconds: the core's unit).
    pub fn now(&self) -> Time {
        let wall = self.started.elapsed().as_secs_f64();
        self.origin + (wall * self.speed) as Time
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}

/// Wall-clock milliseconds since the Unix epoch: when a token expires and
/// when an audit record was made are wall time, not campus time.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_out_of_range_is_refused() {
        assert!(CampusClock::new(0, 0.0).is_err());
        assert!(CampusClock::new(0, MAX_SPEED * 2.0).is_err());
        assert!(CampusClock::new(0, f64::NAN).is_err());
    }

    #[test]
    fn starts_at_its_origin_and_does_not_go_back() {
        let c = CampusClock::new(5_000, 60.0).unwrap();
        let a = c.now();
        let b = c.now();
        assert!(a >= 5_000 && b >= a);
    }
}

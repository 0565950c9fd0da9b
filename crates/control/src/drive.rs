//! The loop that runs a fleet, the control policy and a scheduler together.

use abilene_scheduler::{Command, Reject, Scheduler, Time};

use crate::fleet::Fleet;
use crate::policy::Controller;

/// A command the scheduler refused while driving: in the twin a scenario
/// error, in the server an alarm for the operator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at t={at}s the scheduler refused a `{kind}` command: {reject}")]
pub struct DriveError {
    pub at: Time,
    pub kind: &'static str,
    pub reject: Reject,
}

/// Polls `fleet` up to `until`; each report becomes commands through
/// `control`, one scheduler step, and the step's events go back to the
/// fleet. `each` hears the time of every step (for progress). Stops at the
/// first refused command.
pub fn drive(
    fleet: &mut dyn Fleet,
    control: &mut Controller,
    sched: &mut Scheduler,
    until: Time,
    each: &mut dyn FnMut(Time),
) -> Result<(), DriveError> {
    while let Some((now, observations)) = fleet.poll(until, sched) {
        let commands = control.take_commands(observations, sched);
        let kinds: Vec<&'static str> = commands.iter().map(Command::kind).collect();
        let out = sched.step(now, commands);
        if let Some((kind, reject)) = kinds
            .iter()
            .zip(&out.results)
            .find_map(|(k, r)| r.as_ref().err().map(|e| (*k, e.clone())))
        {
            return Err(DriveError {
                at: now,
                kind,
                reject,
            });
        }
        fleet.hear(now, &out.events);
        each(now);
    }
    Ok(())
}

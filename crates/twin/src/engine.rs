//! The discrete-event core: integer time, a queue ordered by (time, order of
//! scheduling), and one seeded random stream per source of randomness.
//!
//! Ties at the same second pop in the order they were scheduled, so a run
//! depends only on the scenario and the seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Seconds since the scenario starts.
pub type Time = u64;

pub const HOUR: Time = 3600;
pub const DAY: Time = 24 * HOUR;

/// A time-ordered queue of events of type `E`.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(Time, u64, usize)>>,
    payloads: Vec<Option<E>>,
    free: Vec<usize>,
    next: u64,
}

/// Orders of [`EventQueue::push_early`] events are below this; the queue
/// numbers everything else from it.
pub const EARLY: u64 = 1 << 62;

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            payloads: Vec::new(),
            free: Vec::new(),
            next: EARLY,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, at: Time, event: E) {
        let order = self.next;
        self.next += 1;
        self.push_ordered(at, order, event);
    }

    /// Schedules `event` at `at` before every [`EventQueue::push`]ed event
    /// of the same second, and among early ones by `order` (below
    /// [`EARLY`]): as if it had been pushed before all of them, however
    /// late it is pushed. Job arrivals use it, so that making them as the
    /// run goes orders them as making them all at the start did.
    pub fn push_early(&mut self, at: Time, order: u64, event: E) {
        self.push_ordered(at, order.min(EARLY - 1), event);
    }

    fn push_ordered(&mut self, at: Time, order: u64, event: E) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.payloads[s] = Some(event);
                s
            }
            None => {
                self.payloads.push(Some(event));
                self.payloads.len() - 1
            }
        };
        self.heap.push(Reverse((at, order, slot)));
    }

    /// The next event if it is due at or before `until`.
    pub fn pop_until(&mut self, until: Time) -> Option<(Time, E)> {
        let &Reverse((at, _, slot)) = self.heap.peek()?;
        if at > until {
            return None;
        }
        self.heap.pop();
        self.free.push(slot);
        self.payloads[slot].take().map(|e| (at, e))
    }

    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The sources of randomness; each has its own stream, so adding draws to
/// one (say, more failures) leaves the others unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Failures = 1,
    Repairs = 2,
    Workload = 3,
    Prices = 4,
    Trace = 5,
}

/// A ChaCha8 generator for `stream` of run `seed`: reproducible across
/// platforms and crate versions, independent between streams.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream as u64);
    r
}

/// The generator for `stream` of run `seed` in a fleet resumed at `at`
/// (`TwinFleet::resume`): as reproducible as [`rng`], and a stream of its
/// own, apart from the run's from 0 and from a resume at any other time
/// (the stream number holds `at + 1` above the 8 bits of [`Stream`]).
pub fn rng_from(seed: u64, stream: Stream, at: Time) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream((at.wrapping_add(1) << 8) | stream as u64);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.push(10, "b");
        q.push(5, "a");
        q.push(10, "c");
        q.push(20, "d");
        let mut out = Vec::new();
        while let Some((t, e)) = q.pop_until(15) {
            out.push((t, e));
        }
        assert_eq!(out, vec![(5, "a"), (10, "b"), (10, "c")]);
        assert_eq!(q.peek_time(), Some(20));
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| rng(7, Stream::Failures).random()).collect();
        let mut f = rng(7, Stream::Failures);
        let mut w = rng(7, Stream::Workload);
        let x: u64 = f.random();
        let y: u64 = w.random();
        assert_eq!(a[0], x);
        assert_ne!(x, y);
    }

    #[test]
    fn resumed_streams_are_reproducible_and_distinct() {
        let draw = |mut r: ChaCha8Rng| -> u64 { r.random() };
        let at = |t| draw(rng_from(7, Stream::Failures, t));
        assert_eq!(at(3600), at(3600));
        assert_ne!(at(3600), at(3601));
        assert_ne!(at(0), draw(rng(7, Stream::Failures)));
        assert_ne!(at(3600), draw(rng_from(7, Stream::Repairs, 3600)));
    }
}

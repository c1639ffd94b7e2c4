//! The simulator's event queue: epoch completions ordered by time, ties broken by the order in
//! which they were scheduled (a sequence number), never by anything that could vary between
//! runs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// An epoch completing on a worker.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Simulated completion time.
    pub time: f64,
    /// Scheduling order, for ties.
    pub seq: u64,
    /// The worker.
    pub worker: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    /// Reversed, so that the max-heap pops the earliest event (and, at equal times, the one
    /// scheduled first).
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.total_cmp(&self.time).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Most workers for which the queue scans its events instead of keeping a heap: with one event
/// per worker at most, finding the earliest of a handful is cheaper than a heap's sifting (a
/// pop and a push per simulated step).
const SCAN_WORKERS: usize = 16;

/// A min-queue of events by (time, sequence number), holding at most one event per worker.
/// Pushing and popping do not allocate once the queue has room for one event per worker.
#[derive(Debug)]
pub struct EventQueue {
    events: Events,
    next_seq: u64,
}

/// Where the events are kept: per worker for a few workers, in a heap for many.
#[derive(Debug)]
enum Events {
    /// Per worker, its pending event's time and sequence number; a worker without one has
    /// `(∞, u64::MAX)`, after every event in the order (whose sequence numbers are smaller).
    Scan { times: Vec<f64>, seqs: Vec<u64> },
    /// Ordered by [`Event`]'s reversed order.
    Heap(BinaryHeap<Event>),
}

impl EventQueue {
    /// A queue for `workers` workers.
    pub fn with_capacity(workers: usize) -> Self {
        let events = if workers <= SCAN_WORKERS {
            Events::Scan { times: vec![f64::INFINITY; workers], seqs: vec![u64::MAX; workers] }
        } else {
            Events::Heap(BinaryHeap::with_capacity(workers))
        };
        Self { events, next_seq: 0 }
    }

    /// Schedules `worker` (which has no pending event) to complete at `time`.
    #[inline]
    pub fn push(&mut self, time: f64, worker: u32) {
        let seq = self.next_seq;
        self.next_seq += 1;
        match &mut self.events {
            Events::Scan { times, seqs } => {
                debug_assert!(seqs[worker as usize] == u64::MAX, "one pending event per worker");
                times[worker as usize] = time;
                seqs[worker as usize] = seq;
            }
            Events::Heap(heap) => heap.push(Event { time, seq, worker }),
        }
    }

    /// The earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        match &mut self.events {
            Events::Scan { times, seqs } => {
                let worker = Self::earliest(times, seqs)?;
                let event = Event { time: times[worker], seq: seqs[worker], worker: worker as u32 };
                (times[worker], seqs[worker]) = (f64::INFINITY, u64::MAX);
                Some(event)
            }
            Events::Heap(heap) => heap.pop(),
        }
    }

    /// The earliest event, left in the queue.
    pub fn peek(&self) -> Option<Event> {
        match &self.events {
            Events::Scan { times, seqs } => Self::earliest(times, seqs).map(|w| Event { time: times[w], seq: seqs[w], worker: w as u32 }),
            Events::Heap(heap) => heap.peek().copied(),
        }
    }

    /// The worker whose event comes first: the earliest time, and at equal times the first
    /// scheduled (times are positive, never NaN, so `<` orders them as the heap's `total_cmp`
    /// does).
    #[inline]
    fn earliest(times: &[f64], seqs: &[u64]) -> Option<usize> {
        let (mut best, mut time, mut seq) = (usize::MAX, f64::INFINITY, u64::MAX);
        for (worker, (&t, &s)) in times.iter().zip(seqs).enumerate() {
            if t < time || (t == time && s < seq) {
                (best, time, seq) = (worker, t, s);
            }
        }
        (best != usize::MAX).then_some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_scheduling_order() {
        for workers in [4, SCAN_WORKERS + 1] {
            let mut q = EventQueue::with_capacity(workers);
            q.push(2.0, 0);
            q.push(1.0, 1);
            q.push(2.0, 2);
            q.push(1.0, 3);
            assert_eq!(q.peek().map(|e| e.worker), Some(1));
            let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.worker).collect();
            assert_eq!(order, [1, 3, 0, 2]);
        }
    }

    /// Scanning and the heap pop the same events in the same order, whatever the times, ties
    /// and the order of pushes and pops.
    #[test]
    fn scanning_and_the_heap_agree() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let workers = SCAN_WORKERS;
        let (mut scan, mut heap) = (EventQueue::with_capacity(workers), EventQueue::with_capacity(workers));
        heap.events = Events::Heap(BinaryHeap::new());
        let mut idle: Vec<u32> = (0..workers as u32).collect();
        for _ in 0..10_000 {
            if !idle.is_empty() && rng.random_bool(0.55) {
                let worker = idle.swap_remove(rng.random_range(0..idle.len()));
                // Coarse times: many ties, broken by the order of pushes.
                let time = f64::from(rng.random_range(0..8u32));
                scan.push(time, worker);
                heap.push(time, worker);
            } else {
                let (a, b) = (scan.pop(), heap.pop());
                assert_eq!(a.map(|e| (e.time, e.seq, e.worker)), b.map(|e| (e.time, e.seq, e.worker)));
                idle.extend(a.map(|e| e.worker));
            }
        }
    }
}

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

/// A min-queue of events by (time, sequence number). Pushing and popping do not allocate once
/// the queue has room for one event per worker.
#[derive(Debug)]
pub struct EventQueue {
    heap: BinaryHeap<Event>,
    next_seq: u64,
}

impl EventQueue {
    /// A queue with room for `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { heap: BinaryHeap::with_capacity(capacity), next_seq: 0 }
    }

    /// Schedules `worker` to complete at `time`.
    pub fn push(&mut self, time: f64, worker: u32) {
        self.heap.push(Event { time, seq: self.next_seq, worker });
        self.next_seq += 1;
    }

    /// The earliest event.
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }

    /// The earliest event, left in the queue.
    pub fn peek(&self) -> Option<&Event> {
        self.heap.peek()
    }

    /// Events still pending (in-flight epochs).
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.heap.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_scheduling_order() {
        let mut q = EventQueue::with_capacity(4);
        q.push(2.0, 0);
        q.push(1.0, 1);
        q.push(2.0, 2);
        q.push(1.0, 3);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.worker).collect();
        assert_eq!(order, [1, 3, 0, 2]);
    }
}

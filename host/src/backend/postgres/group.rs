//! Group commit: the commits this process's threads make at the same time
//! are folded into one transaction, so that they share its round trips and
//! its WAL flush instead of each paying for them (PostgreSQL spends most of
//! a one-row commit on `BEGIN`, `COMMIT` and the flush, not on the row).
//!
//! There is no committer thread. A thread that commits queues its commit
//! and, if fewer than `most_running` groups are in flight, leads: it takes
//! every commit queued by then (itself included, unless another leader took
//! it first) and runs them as one group. When its group is answered it
//! hands the lead to the oldest commit still queued, or steps down if none
//! is, and returns its own answer. So a lone commit runs at once, as one
//! group of one, and under load each group carries what queued while the
//! groups before it ran.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use nexus_store::storage::StorageError;

/// One commit's answer.
pub(super) type Outcome = Result<(), StorageError>;

/// The queue of commits waiting for a group, shared by every thread that
/// commits through one backend.
pub(super) struct Groups<C> {
    queue: Mutex<Queue<C>>,
    /// Most groups in flight at once (each holds a connection).
    most_running: usize,
    /// Most commits in one group.
    most_per_group: usize,
}

struct Queue<C> {
    waiting: VecDeque<Arc<Ticket<C>>>,
    /// Leaders now running or about to: never more than `most_running`.
    leaders: usize,
}

/// A queued commit, and how its thread learns what became of it.
struct Ticket<C> {
    state: Mutex<TicketState<C>>,
    changed: Condvar,
}

struct TicketState<C> {
    /// Taken by the leader that runs it.
    commit: Option<C>,
    /// Leads handed to this ticket's thread and not yet taken up: more
    /// than one when a thread that leads already is handed another (its
    /// own commit was still queued), and each is a leader counted in
    /// [`Queue::leaders`].
    leads: usize,
    outcome: Option<Outcome>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks is left half-changed by a panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C> Ticket<C> {
    fn answer(&self, outcome: Outcome) {
        lock(&self.state).outcome = Some(outcome);
        self.changed.notify_one();
    }
}

impl<C> Groups<C> {
    pub(super) fn new(most_running: usize, most_per_group: usize) -> Self {
        Self {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                leaders: 0,
            }),
            most_running: most_running.max(1),
            most_per_group: most_per_group.max(1),
        }
    }

    /// Commits `commit` in some group; `run` runs a group and answers each
    /// of its commits, in order.
    pub(super) fn commit(&self, commit: C, run: impl Fn(Vec<C>) -> Vec<Outcome>) -> Outcome {
        let ticket = Arc::new(Ticket {
            state: Mutex::new(TicketState {
                commit: Some(commit),
                leads: 0,
                outcome: None,
            }),
            changed: Condvar::new(),
        });
        let mut leading = {
            let mut queue = lock(&self.queue);
            queue.waiting.push_back(ticket.clone());
            let lead = queue.leaders < self.most_running;
            if lead {
                queue.leaders += 1;
            }
            lead
        };
        loop {
            if leading {
                self.lead(&run);
            }
            let mut state = lock(&ticket.state);
            while state.outcome.is_none() && state.leads == 0 {
                state = ticket
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            leading = state.leads > 0;
            if leading {
                state.leads -= 1;
            } else if let Some(outcome) = state.outcome.take() {
                return outcome;
            }
        }
    }

    /// Runs one group of what is queued, answers it, then passes the lead
    /// on (also if `run` panics, so no thread waits for a leader that is
    /// gone).
    fn lead(&self, run: &impl Fn(Vec<C>) -> Vec<Outcome>) {
        let _hand_on = HandOn(self);
        let tickets: Vec<Arc<Ticket<C>>> = {
            let mut queue = lock(&self.queue);
            let n = queue.waiting.len().min(self.most_per_group);
            queue.waiting.drain(..n).collect()
        };
        if tickets.is_empty() {
            return;
        }
        let group = Unanswered(tickets);
        let commits = group
            .0
            .iter()
            .map(|t| lock(&t.state).commit.take().expect("a queued commit"))
            .collect();
        let outcomes = run(commits);
        for (ticket, outcome) in group.0.iter().zip(outcomes) {
            ticket.answer(outcome);
        }
    }
}

/// Passes the lead to the oldest queued commit's thread when dropped, or
/// gives it up if nothing is queued.
struct HandOn<'g, C>(&'g Groups<C>);

impl<C> Drop for HandOn<'_, C> {
    fn drop(&mut self) {
        let mut queue = lock(&self.0.queue);
        match queue.waiting.front() {
            Some(next) => {
                lock(&next.state).leads += 1;
                next.changed.notify_one();
            }
            None => queue.leaders -= 1,
        }
    }
}

/// A group's tickets: any that `run` did not answer (it panicked, or
/// answered too few) hear an error when this is dropped, rather than
/// waiting forever.
struct Unanswered<C>(Vec<Arc<Ticket<C>>>);

impl<C> Drop for Unanswered<C> {
    fn drop(&mut self) {
        for ticket in &self.0 {
            let mut state = lock(&ticket.state);
            if state.outcome.is_none() {
                state.outcome = Some(Err(StorageError::Other(
                    "the commit's group ended without an answer for it".into(),
                )));
                ticket.changed.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Barrier, mpsc};

    use super::*;

    #[test]
    fn a_lone_commit_runs_at_once_as_a_group_of_one() {
        let groups = Groups::new(2, 8);
        let sizes = Mutex::new(Vec::new());
        for i in 0..3 {
            let outcome = groups.commit(i, |group| {
                lock(&sizes).push(group.clone());
                vec![Ok(()); group.len()]
            });
            assert!(outcome.is_ok());
        }
        assert_eq!(*lock(&sizes), [vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn commits_queued_behind_a_running_group_share_the_next_one() {
        let groups = Arc::new(Groups::new(1, 64));
        let (entered, in_run) = mpsc::channel();
        let (release, held) = mpsc::channel::<()>();
        let held = Mutex::new(held);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let run = {
            let seen = seen.clone();
            move |group: Vec<u32>| {
                if group == [0] {
                    entered.send(()).unwrap();
                    lock(&held).recv().unwrap();
                }
                lock(&seen).push(group.clone());
                group
                    .iter()
                    .map(|&i| {
                        if i % 2 == 0 {
                            Ok(())
                        } else {
                            Err(StorageError::Conflict)
                        }
                    })
                    .collect()
            }
        };
        let run = Arc::new(run);
        std::thread::scope(|scope| {
            let first = {
                let (groups, run) = (groups.clone(), run.clone());
                scope.spawn(move || groups.commit(0, &*run))
            };
            in_run.recv().unwrap();
            // Ten more while the first group runs: the only leader is busy,
            // so they queue, and the next leader takes them all.
            let queued = Arc::new(AtomicUsize::new(0));
            let others: Vec<_> = (1..=10)
                .map(|i| {
                    let (groups, run, queued) = (groups.clone(), run.clone(), queued.clone());
                    scope.spawn(move || {
                        queued.fetch_add(1, Ordering::SeqCst);
                        (i, groups.commit(i, &*run))
                    })
                })
                .collect();
            while lock(&groups.queue).waiting.len() < 10 {
                std::thread::yield_now();
            }
            release.send(()).unwrap();
            assert!(first.join().unwrap().is_ok());
            for other in others {
                let (i, outcome) = other.join().unwrap();
                assert_eq!(outcome.is_ok(), i % 2 == 0, "commit {i} got its own answer");
            }
        });
        let seen = lock(&seen);
        assert_eq!(seen.len(), 2, "{seen:?}");
        let mut second = seen[1].clone();
        second.sort_unstable();
        assert_eq!(second, (1..=10).collect::<Vec<_>>());
        assert_eq!(lock(&groups.queue).leaders, 0, "the lead was given up");
    }

    #[test]
    fn many_threads_all_hear_their_own_answer_and_no_group_is_too_big() {
        let groups = Groups::new(3, 5);
        let barrier = Barrier::new(32);
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for t in 0..32u64 {
                let (groups, barrier, running, most) = (&groups, &barrier, &running, &most);
                scope.spawn(move || {
                    barrier.wait();
                    for i in 0..200u64 {
                        let commit = t * 1000 + i;
                        let outcome = groups.commit(commit, |group: Vec<u64>| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            assert!(group.len() <= 5);
                            running.fetch_sub(1, Ordering::SeqCst);
                            group
                                .iter()
                                .map(|c| Err(StorageError::Other(c.to_string())))
                                .collect()
                        });
                        assert_eq!(
                            outcome.unwrap_err(),
                            StorageError::Other(commit.to_string())
                        );
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(lock(&groups.queue).leaders, 0);
    }

    #[test]
    fn a_group_that_panics_answers_its_commits_and_passes_the_lead_on() {
        let groups = Groups::new(1, 8);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            groups.commit(1, |_| panic!("a broken run"))
        }));
        assert!(caught.is_err());
        assert_eq!(lock(&groups.queue).leaders, 0);
        assert!(groups.commit(2, |g| vec![Ok(()); g.len()]).is_ok());
        let short = groups.commit(3, |_| Vec::new());
        assert!(matches!(short, Err(StorageError::Other(_))), "{short:?}");
    }
}

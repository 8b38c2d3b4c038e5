//! Tasks that talk while they run: a group of tasks, one per rank, that exchange small
//! messages in rounds from inside their bodies (LU's panel: one pivot reduction per
//! column, far too many and too small for a task each).
//!
//! The group's tags are drawn from the runtime's submission counter when the group is
//! created, so every rank, submitting the same tasks in the same order, gets the same
//! ones; round `r` of a group uses tag `base + r`. A member that cannot take part (its
//! task is skipped because a predecessor failed, or its body fails or panics) sends an
//! abort carrying the error in every round it has not used yet, so the other members fail
//! with that error instead of waiting forever.
//!
//! A member blocks its worker while it waits for a round. That cannot deadlock: the
//! members of a group touch disjoint data (each its own rank's tiles), so no member's
//! predecessors depend on another member. It does idle the worker, which is why the
//! receives are posted as urgent ([`Transport::recv_urgent`]).

use super::dist::{decode_error, encode_error, Transport};
use super::SeqInner;
use crate::error::{Error, Result};
use std::sync::{Arc, Condvar, Mutex};

/// One member of a group of communicating tasks (see [`Sequence::peers`](super::Sequence::peers)).
/// Move it into the body of the task submitted for its rank; call [`Peers::finish`] when
/// the protocol is complete.
pub struct Peers {
    transport: Option<Arc<dyn Transport>>,
    seq: Arc<SeqInner>,
    ranks: Arc<Vec<usize>>,
    me: usize,
    base: u64,
    rounds: u64,
    next: u64,
    done: bool,
}

/// First byte of a message: data or abort.
const DATA: u8 = 0;
const ABORT: u8 = 1;

impl Peers {
    pub(crate) fn group(
        transport: Option<Arc<dyn Transport>>,
        seq: Arc<SeqInner>,
        ranks: &[usize],
        base: u64,
        rounds: u64,
    ) -> Vec<Peers> {
        let list = Arc::new(ranks.to_vec());
        ranks
            .iter()
            .map(|&me| Peers {
                transport: transport.clone(),
                seq: seq.clone(),
                ranks: list.clone(),
                me,
                base,
                rounds,
                next: 0,
                done: false,
            })
            .collect()
    }

    /// The group's ranks, in the order given at creation.
    pub fn ranks(&self) -> &[usize] {
        &self.ranks
    }

    /// The rank of this member.
    pub fn rank(&self) -> usize {
        self.me
    }

    fn tag(&mut self) -> Result<u64> {
        if self.next >= self.rounds {
            return Err(Error::Runtime(format!(
                "a peer group used more than its {} rounds",
                self.rounds
            )));
        }
        self.next += 1;
        Ok(self.base + self.next - 1)
    }

    fn send_to(&self, t: &Arc<dyn Transport>, dest: usize, tag: u64, kind: u8, msg: &[u8]) {
        let mut m = Vec::with_capacity(msg.len() + 1);
        m.push(kind);
        m.extend_from_slice(msg);
        t.send(dest, tag, m, Box::new(|| {}));
    }

    /// Receives one message of round `tag` from each of `srcs`, in that order.
    fn receive(&self, t: &Arc<dyn Transport>, tag: u64, srcs: &[usize]) -> Result<Vec<Vec<u8>>> {
        type Slots = (Mutex<Vec<Option<Vec<u8>>>>, Condvar);
        let slots: Arc<Slots> = Arc::new((Mutex::new(vec![None; srcs.len()]), Condvar::new()));
        for (i, &s) in srcs.iter().enumerate() {
            let slots = slots.clone();
            t.recv_urgent(
                s,
                tag,
                Box::new(move |m| {
                    slots.0.lock().unwrap()[i] = Some(m);
                    slots.1.notify_all();
                }),
            );
        }
        let mut g = slots.0.lock().unwrap();
        while g.iter().any(|m| m.is_none()) {
            g = slots.1.wait(g).unwrap();
        }
        let mut out = Vec::with_capacity(srcs.len());
        for m in g.iter_mut() {
            let m = m.take().unwrap_or_default();
            match m.first() {
                Some(&DATA) => out.push(m[1..].to_vec()),
                Some(_) => return Err(decode_error(&m[1..])),
                None => return Err(Error::Runtime("empty message in a peer group".into())),
            }
        }
        Ok(out)
    }

    /// One round in which every member sends `mine` to every other: returns every
    /// member's message, in the order of [`Peers::ranks`].
    pub fn allgather(&mut self, mine: &[u8]) -> Result<Vec<Vec<u8>>> {
        let tag = self.tag()?;
        let Some(t) = self.transport.clone() else {
            return Ok(vec![mine.to_vec()]);
        };
        let others: Vec<usize> = self
            .ranks
            .iter()
            .copied()
            .filter(|&r| r != self.me)
            .collect();
        for &r in &others {
            self.send_to(&t, r, tag, DATA, mine);
        }
        let mut got = self.receive(&t, tag, &others)?.into_iter();
        Ok(self
            .ranks
            .iter()
            .map(|&r| {
                if r == self.me {
                    mine.to_vec()
                } else {
                    got.next().unwrap_or_default()
                }
            })
            .collect())
    }

    /// One round in which `root` sends `msg` to every other member: returns the root's
    /// message on every member (`msg` is ignored elsewhere).
    pub fn broadcast(&mut self, root: usize, msg: &[u8]) -> Result<Vec<u8>> {
        let tag = self.tag()?;
        let Some(t) = self.transport.clone() else {
            return Ok(msg.to_vec());
        };
        if self.me == root {
            for &r in self.ranks.iter().filter(|&&r| r != root) {
                self.send_to(&t, r, tag, DATA, msg);
            }
            Ok(msg.to_vec())
        } else {
            Ok(self.receive(&t, tag, &[root])?.pop().unwrap_or_default())
        }
    }

    /// Marks the protocol complete: dropping a member before this aborts the group.
    pub fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        let Some(t) = self.transport.clone() else {
            return;
        };
        // Only the copy of the rank that runs the member speaks for it.
        if self.done || t.rank() != self.me || self.ranks.len() < 2 {
            return;
        }
        let e = self.seq.error.lock().unwrap().clone().map_or_else(
            || {
                Error::Runtime(format!(
                    "the task of rank {} in a peer group failed{}",
                    self.me,
                    if std::thread::panicking() {
                        " (it panicked)"
                    } else {
                        ""
                    }
                ))
            },
            |(e, _)| e,
        );
        let mut msg = Vec::new();
        encode_error(&e, &mut msg);
        for tag in self.base + self.next..self.base + self.rounds {
            for &r in self.ranks.iter().filter(|&&r| r != self.me) {
                self.send_to(&t, r, tag, ABORT, &msg);
            }
        }
    }
}

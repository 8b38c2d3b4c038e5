//! Distributed execution: the transport a runtime talks to other ranks through, the
//! per-handle record of which ranks hold the current version (kept identically on every
//! rank at submission), and the encoding of handle data and errors on the wire.
//!
//! # How owner-computes works here
//! Every rank submits the same tasks in the same order. At submission each rank updates,
//! for every handle a task touches, the set of ranks holding its current version: a task
//! that reads a handle on a rank outside that set causes a transfer (a *send* task on the
//! rank that wrote it last, a *receive* task on the reader, matched by a tag both ranks
//! draw from the same counter); a task that writes it leaves only its own rank in the set.
//! Ranks then keep only the tasks they run and the communication tasks they take part in;
//! the local dependency inference orders those exactly as for one process. A rank whose
//! cached copy is overwritten elsewhere drops it (an *evict* task) once its local readers
//! are done, so caches live until the data they copy is overwritten.
//!
//! Communication tasks never run on a worker: when their local dependencies are met they
//! are handed to the [`Transport`], which completes them from its progress thread; workers
//! keep computing meanwhile. They are never skipped either: a send whose data could not be
//! produced (a failed predecessor) sends the error instead, and the receiving rank fails
//! with that same error, so no rank waits for a message that will never come.
//!
//! # Growth with the grid (design note)
//! For a tiled factorization with `nt = N / nb` tile rows on a `P x Q` grid, each panel
//! tile is needed by at most `P - 1 + Q - 1` other ranks (its process row and column), so
//! the volume sent per step is `O(nt (P + Q) nb^2)` and in total `O(N^2 (P + Q) / nb * nb)`
//! = `O(N^2 (P + Q))` elements for Cholesky and LU, against `O(N^3 / (P Q))` flops per
//! rank: communication per rank shrinks like `1 / sqrt(PQ)` of the computation on square
//! grids, which is why square grids (and, for Cholesky, the symmetric block-cyclic
//! distribution, which sends each panel tile to about `sqrt(2 PQ)` ranks instead of
//! `P + Q`) scale further. Messages are one per tile and destination: `O(nt^2 (P + Q))`.
//! What limits scaling first on a cluster is the panel: its factorization and broadcast
//! are on the critical path, and at a fixed `N` the work per rank per step shrinks like
//! `1 / PQ` while the panel's latency does not; LU's pivot search adds one small message
//! per panel column and rank row. Transfers are point-to-point from the writer (no
//! broadcast tree), which is fine up to tens of ranks per row or column and is the next
//! thing to change beyond.
//!
//! LU on grids with `P > 1` follows that shape (`dense::getrf_dist`): the ranks of the
//! panel's tile column reduce their pivot candidates column by column, one round of
//! messages of a row each per column, from inside a group of tasks
//! ([`Peers`](super::Peers)), and the row interchanges move only the rows that change
//! place (at most `nb` rows per rank and panel each way). The pivot rounds are latency
//! bound: `N` rounds in all, each a message through the communication thread, which is
//! what makes a tall grid slower than a wide one at the same size. On a `2 x 1` grid at
//! `N = 8000`, `nb = 320` each rank sends 0.38 GB (the `U` tiles and the interchanged
//! rows), against 0.13 GB on `1 x 2`; moving whole tile columns, as LU did at first, sent
//! 2.3 GB.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Completion callback of a send.
pub type SendDone = Box<dyn FnOnce() + Send>;
/// Completion callback of a receive: the message.
pub type RecvDone = Box<dyn FnOnce(Vec<u8>) + Send>;

/// Point-to-point and collective messaging between the ranks of one runtime.
///
/// Implementations: [`LocalTransport`] (ranks are runtimes inside one process, for tests
/// and for trying distributions without MPI) and, with the `mpi` feature,
/// `tessera::comm::Mpi`'s transport over MPI.
pub trait Transport: Send + Sync {
    /// This rank.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Sends `payload` to `dest` under `tag`; `done` runs once the payload is handed over.
    fn send(&self, dest: usize, tag: u64, payload: Vec<u8>, done: SendDone);
    /// Receives the message `src` sent under `tag`; `done` runs with it.
    fn recv(&self, src: usize, tag: u64, done: RecvDone);
    /// [`Transport::recv`] for a message a worker is blocked on (see
    /// [`Peers`](super::Peers)): the transport should notice its arrival as soon as it
    /// can, polling without pause while such a receive is pending.
    fn recv_urgent(&self, src: usize, tag: u64, done: RecvDone) {
        self.recv(src, tag, done)
    }
    /// Every rank's `mine`, in rank order. A collective: every rank calls it, in the same
    /// order, from the thread that submits.
    fn allgather(&self, mine: Vec<u8>) -> Vec<Vec<u8>>;
    /// The runtime's workers have all run out of ready tasks (`true`), or one has work
    /// again (`false`). While they are idle they wait on messages, so a transport that
    /// polls should notice arrivals at once: the cores are free for it.
    fn workers_idle(&self, idle: bool) {
        let _ = idle;
    }
    /// A worker has just finished a task. Called after every task, so it must be cheap:
    /// a transport that polls rarely while the workers compute may look for messages
    /// here, at a task boundary, rather than waking up on a timer in the middle of one.
    fn task_done(&self) {}
    /// Bytes of payload sent and received by this rank so far.
    fn bytes(&self) -> (u64, u64);
}

impl std::fmt::Debug for dyn Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transport(rank {} of {})", self.rank(), self.size())
    }
}

/// Ranks that are runtimes of one process, linked by in-memory mailboxes: the same
/// distributed code paths as MPI, without MPI (tests, experiments).
pub struct LocalTransport {
    rank: usize,
    size: usize,
    hub: Arc<Hub>,
    sent: AtomicU64,
}

enum Slot {
    Message(Vec<u8>),
    Waiting(RecvDone),
}

struct Hub {
    mail: Mutex<HashMap<(usize, usize, u64), Slot>>,
    gather: Mutex<Gather>,
    gather_cv: Condvar,
    /// Bytes delivered to each rank.
    received: Vec<AtomicU64>,
}

struct Gather {
    generation: u64,
    arrived: usize,
    parts: Vec<Option<Vec<u8>>>,
    result: Arc<Vec<Vec<u8>>>,
}

impl LocalTransport {
    /// `n` connected ranks (give one to each runtime, each used from its own thread).
    pub fn group(n: usize) -> Vec<Arc<LocalTransport>> {
        let n = n.max(1);
        let hub = Arc::new(Hub {
            mail: Mutex::new(HashMap::new()),
            gather: Mutex::new(Gather {
                generation: 0,
                arrived: 0,
                parts: vec![None; n],
                result: Arc::new(Vec::new()),
            }),
            gather_cv: Condvar::new(),
            received: (0..n).map(|_| AtomicU64::new(0)).collect(),
        });
        (0..n)
            .map(|rank| {
                Arc::new(LocalTransport {
                    rank,
                    size: n,
                    hub: hub.clone(),
                    sent: AtomicU64::new(0),
                })
            })
            .collect()
    }
}

impl Transport for LocalTransport {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn send(&self, dest: usize, tag: u64, payload: Vec<u8>, done: SendDone) {
        self.sent.fetch_add(payload.len() as u64, Ordering::Relaxed);
        self.hub.received[dest].fetch_add(payload.len() as u64, Ordering::Relaxed);
        let key = (self.rank, dest, tag);
        let waiting = {
            let mut mail = self.hub.mail.lock().unwrap();
            match mail.remove(&key) {
                Some(Slot::Waiting(cb)) => Some(cb),
                Some(Slot::Message(_)) => panic!("two messages under one tag {key:?}"),
                None => {
                    mail.insert(key, Slot::Message(payload.clone()));
                    None
                }
            }
        };
        if let Some(cb) = waiting {
            cb(payload);
        }
        done();
    }
    fn recv(&self, src: usize, tag: u64, done: RecvDone) {
        let key = (src, self.rank, tag);
        let msg = {
            let mut mail = self.hub.mail.lock().unwrap();
            match mail.remove(&key) {
                Some(Slot::Message(m)) => Some(m),
                Some(Slot::Waiting(_)) => panic!("two receives under one tag {key:?}"),
                None => {
                    mail.insert(key, Slot::Waiting(done));
                    return;
                }
            }
        };
        if let Some(m) = msg {
            done(m);
        }
    }
    fn allgather(&self, mine: Vec<u8>) -> Vec<Vec<u8>> {
        let mut g = self.hub.gather.lock().unwrap();
        let generation = g.generation;
        g.parts[self.rank] = Some(mine);
        g.arrived += 1;
        if g.arrived == self.size {
            g.result = Arc::new(g.parts.iter_mut().map(|p| p.take().unwrap()).collect());
            g.arrived = 0;
            g.generation += 1;
            self.hub.gather_cv.notify_all();
        } else {
            while g.generation == generation {
                g = self.hub.gather_cv.wait(g).unwrap();
            }
        }
        (*g.result).clone()
    }
    fn bytes(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.hub.received[self.rank].load(Ordering::Relaxed),
        )
    }
}

/// Which ranks hold the current version of a handle (the same on every rank).
#[derive(Debug, Clone)]
pub(crate) struct Shadow {
    /// Never transferred: every rank has its own (scratch space).
    pub(crate) local: bool,
    /// Bit `r`: rank `r` holds the current version; `None` means every rank.
    pub(crate) valid: Option<Vec<u64>>,
    /// The rank that wrote it last (the source of transfers).
    pub(crate) holder: usize,
}

impl Shadow {
    pub(crate) fn everywhere() -> Self {
        Shadow {
            local: false,
            valid: None,
            holder: 0,
        }
    }
    pub(crate) fn on(rank: usize) -> Self {
        let mut s = Shadow {
            local: false,
            valid: Some(Vec::new()),
            holder: rank,
        };
        s.set(rank);
        s
    }
    pub(crate) fn is_valid(&self, r: usize) -> bool {
        match &self.valid {
            None => true,
            Some(b) => b.get(r / 64).is_some_and(|w| w >> (r % 64) & 1 == 1),
        }
    }
    pub(crate) fn set(&mut self, r: usize) {
        if let Some(b) = &mut self.valid {
            if b.len() <= r / 64 {
                b.resize(r / 64 + 1, 0);
            }
            b[r / 64] |= 1 << (r % 64);
        }
    }
    /// After a write by `rank` (`None`: by every rank).
    pub(crate) fn written_by(&mut self, rank: Option<usize>) {
        match rank {
            None => self.valid = None,
            Some(r) => *self = Shadow::on(r),
        }
    }
}

/// How a type travels between ranks: handles created with
/// [`Handle::new_wire`](super::Handle::new_wire) or
/// [`Handle::new_on`](super::Handle::new_on) hold such data.
pub trait Wire: Sized {
    /// Appends the value's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Replaces the value with the one encoded in `bytes`.
    fn decode(&mut self, bytes: &[u8]) -> Result<()>;
    /// Frees what a stale cached copy holds (called when another rank overwrote it).
    fn evict(&mut self) {}
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn get_u64(b: &[u8], at: &mut usize) -> Result<u64> {
    let s = b
        .get(*at..*at + 8)
        .ok_or_else(|| Error::Runtime("truncated message".into()))?;
    *at += 8;
    Ok(u64::from_le_bytes(s.try_into().unwrap()))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn get_str(b: &[u8], at: &mut usize) -> Result<String> {
    let n = get_u64(b, at)? as usize;
    let s = b
        .get(*at..*at + n)
        .ok_or_else(|| Error::Runtime("truncated message".into()))?;
    *at += n;
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// Static names travel as strings; the few distinct ones are interned once.
fn intern(s: String) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap();
    if let Some(n) = names.iter().find(|n| **n == s) {
        return n;
    }
    let n: &'static str = Box::leak(s.into_boxed_str());
    names.push(n);
    n
}

impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, *self as u64);
    }
    fn decode(&mut self, b: &[u8]) -> Result<()> {
        *self = get_u64(b, &mut 0)? as usize;
        Ok(())
    }
}

impl Wire for Vec<usize> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.len() as u64);
        for &v in self {
            put_u64(out, v as u64);
        }
    }
    fn decode(&mut self, b: &[u8]) -> Result<()> {
        let mut at = 0;
        let n = get_u64(b, &mut at)? as usize;
        self.clear();
        for _ in 0..n {
            self.push(get_u64(b, &mut at)? as usize);
        }
        Ok(())
    }
    fn evict(&mut self) {
        *self = Vec::new();
    }
}

/// Encodes an error so that the receiving rank reports the same one.
pub(crate) fn encode_error(e: &Error, out: &mut Vec<u8>) {
    match e {
        Error::NotPositiveDefinite { order } => {
            out.push(1);
            put_u64(out, *order as u64);
        }
        Error::Singular { index } => {
            out.push(2);
            put_u64(out, *index as u64);
        }
        Error::RankDeficient { index } => {
            out.push(3);
            put_u64(out, *index as u64);
        }
        Error::NotFinite { arg, row, col } => {
            out.push(4);
            put_str(out, arg);
            put_u64(out, *row as u64);
            put_u64(out, *col as u64);
        }
        Error::InvalidArgument { position, message } => {
            out.push(5);
            put_u64(out, *position as i64 as u64);
            put_str(out, message);
        }
        Error::TaskPanicked { task, message } => {
            out.push(6);
            put_str(out, task);
            put_str(out, message);
        }
        other => {
            out.push(7);
            put_str(out, &other.to_string());
        }
    }
}

/// Decodes [`encode_error`]'s bytes.
pub(crate) fn decode_error(b: &[u8]) -> Error {
    let parse = || -> Result<Error> {
        let kind = *b
            .first()
            .ok_or_else(|| Error::Runtime("empty error message".into()))?;
        let mut at = 1;
        Ok(match kind {
            1 => Error::NotPositiveDefinite {
                order: get_u64(b, &mut at)? as usize,
            },
            2 => Error::Singular {
                index: get_u64(b, &mut at)? as usize,
            },
            3 => Error::RankDeficient {
                index: get_u64(b, &mut at)? as usize,
            },
            4 => Error::NotFinite {
                arg: intern(get_str(b, &mut at)?),
                row: get_u64(b, &mut at)? as usize,
                col: get_u64(b, &mut at)? as usize,
            },
            5 => Error::InvalidArgument {
                position: get_u64(b, &mut at)? as i64 as i32,
                message: get_str(b, &mut at)?,
            },
            6 => Error::TaskPanicked {
                task: intern(get_str(b, &mut at)?),
                message: get_str(b, &mut at)?,
            },
            _ => Error::Runtime(get_str(b, &mut at)?),
        })
    };
    parse().unwrap_or_else(|e| e)
}

/// What a communication task does once its local dependencies are met.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CommOp {
    Send {
        dest: usize,
        tag: u64,
    },
    Recv {
        src: usize,
        tag: u64,
    },
    /// Drop a stale cached copy.
    Evict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip() {
        let errs = [
            Error::NotPositiveDefinite { order: 17 },
            Error::Singular { index: 3 },
            Error::NotFinite {
                arg: "A",
                row: 1,
                col: 2,
            },
            Error::InvalidArgument {
                position: -4,
                message: "bad".into(),
            },
            Error::TaskPanicked {
                task: "gemm",
                message: "boom".into(),
            },
        ];
        for e in errs {
            let mut b = Vec::new();
            encode_error(&e, &mut b);
            assert_eq!(format!("{:?}", decode_error(&b)), format!("{e:?}"));
        }
    }

    #[test]
    fn shadow_tracks_versions() {
        let mut s = Shadow::on(2);
        assert!(s.is_valid(2) && !s.is_valid(0) && !s.is_valid(70));
        s.set(70);
        assert!(s.is_valid(70));
        s.written_by(Some(5));
        assert!(s.is_valid(5) && !s.is_valid(2) && !s.is_valid(70));
        assert_eq!(s.holder, 5);
        s.written_by(None);
        assert!(s.is_valid(123));
    }

    #[test]
    fn local_transport_matches_tags_in_any_order() {
        let g = LocalTransport::group(2);
        let got = Arc::new(Mutex::new(Vec::new()));
        let g1 = got.clone();
        g[1].recv(0, 7, Box::new(move |m| g1.lock().unwrap().push(m)));
        g[0].send(1, 8, vec![8], Box::new(|| {}));
        g[0].send(1, 7, vec![7], Box::new(|| {}));
        let g2 = got.clone();
        g[1].recv(0, 8, Box::new(move |m| g2.lock().unwrap().push(m)));
        assert_eq!(*got.lock().unwrap(), vec![vec![7], vec![8]]);
        let h = {
            let t = g[1].clone();
            std::thread::spawn(move || t.allgather(vec![1]))
        };
        assert_eq!(g[0].allgather(vec![0]), vec![vec![0], vec![1]]);
        assert_eq!(h.join().unwrap(), vec![vec![0], vec![1]]);
    }
}

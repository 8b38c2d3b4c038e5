//! # MPI (feature `mpi`)
//!
//! One communication thread per process drives MPI: it initializes MPI, posts every send
//! and receive, progresses them in the background while the workers compute, runs the
//! collectives, and finalizes MPI at the end. No other thread calls MPI, so
//! `MPI_THREAD_FUNNELED` is all this needs from the MPI library.
//!
//! ```no_run
//! use tessera::{comm::Mpi, runtime::{Runtime, RuntimeConfig}};
//! let mpi = Mpi::init().unwrap();
//! let rt = Runtime::new(RuntimeConfig::default().transport(mpi.transport().unwrap()));
//! // ... every rank submits the same algorithms (see tessera::runtime) ...
//! drop(rt); // runtimes first, then MPI is finalized when `mpi` goes
//! ```
//!
//! Messages are matched by (source, tag) on a communicator duplicated per runtime; the tags
//! come from the runtime's submission counter, the same on every rank. The thread takes in
//! every message as soon as it arrives (one wildcard probe per communicator, then a
//! receive into a buffer of the probed size), whether or not the runtime has asked for it
//! yet: the runtime asks only once the receive's local dependencies are met, and a message
//! that arrived earlier is handed over at once. Sends complete when MPI is done with the
//! buffer (one `MPI_Testsome` for all of them). Between polls the thread sleeps on its
//! request channel, so a new send or receive wakes it at once; the sleep grows from 50 µs
//! to 10 ms while nothing moves, which keeps an idle poll loop off the cores the workers
//! compute on. While something is in flight, a worker that finishes a task when the
//! thread has not looked for 2 ms wakes it, so the look falls between two tasks rather
//! than in the middle of one. While every worker of a runtime is idle (waiting on
//! messages: the cores are free) the wait stays at its shortest, so an arrival is noticed
//! within about 50 µs (a triangular solve waits on one message per step). A receive a
//! worker is blocked on (an urgent one, from a group of communicating tasks such as LU's
//! distributed panel) is the exception: while one is pending the thread polls without
//! pausing, yielding the core between polls.

use crate::error::{Error, Result};
use crate::runtime::{RecvDone, SendDone, Transport};
use mpi::ffi;
use std::collections::{HashMap, VecDeque};
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

enum Req {
    Dup(Sender<usize>),
    Send {
        comm: usize,
        dest: usize,
        tag: u64,
        payload: Vec<u8>,
        done: SendDone,
    },
    Recv {
        comm: usize,
        src: usize,
        tag: u64,
        done: RecvDone,
        urgent: bool,
    },
    Allgather {
        comm: usize,
        data: Vec<u8>,
        reply: Sender<Vec<Vec<u8>>>,
    },
    /// Nothing to do but look again (a runtime's workers just went idle).
    Wake,
    /// Look again, without counting as progress (a worker finished a task while the
    /// thread was in a long wait; see [`Transport::task_done`]).
    Poll,
}

/// What the communication thread and the workers tell each other about polling.
struct PollState {
    /// Runtimes whose workers are all idle (see [`Transport::workers_idle`]): the thread
    /// then polls at its shortest wait.
    idle_runtimes: AtomicUsize,
    epoch: Instant,
    /// Receives the runtime asked for, or sends MPI has not completed: a poll may move
    /// something.
    in_flight: AtomicBool,
    /// When the thread last looked for messages, in µs since `epoch`.
    last_us: AtomicU64,
}

impl PollState {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

struct Engine {
    tx: Mutex<Option<Sender<Req>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    rank: usize,
    size: usize,
    tag_ub: u64,
    poll: Arc<PollState>,
}

impl Engine {
    fn post(&self, r: Req) {
        if let Some(tx) = &*self.tx.lock().unwrap() {
            let _ = tx.send(r);
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the channel lets the thread finish what is pending and finalize MPI.
        self.tx.lock().unwrap().take();
        if let Some(t) = self.thread.lock().unwrap().take() {
            let _ = t.join();
        }
    }
}

static STARTED: AtomicBool = AtomicBool::new(false);

/// MPI for this process: initialized by [`Mpi::init`], finalized when it and every
/// transport made from it are dropped.
pub struct Mpi {
    engine: Arc<Engine>,
}

impl Mpi {
    /// Starts the communication thread, which initializes MPI. Once per process.
    pub fn init() -> Result<Mpi> {
        if STARTED.swap(true, Ordering::SeqCst) {
            return Err(Error::Runtime(
                "MPI was already initialized in this process (Mpi::init is once per process)"
                    .into(),
            ));
        }
        let (tx, rx) = channel();
        let (ready_tx, ready_rx) = channel();
        let poll = Arc::new(PollState {
            idle_runtimes: AtomicUsize::new(0),
            epoch: Instant::now(),
            in_flight: AtomicBool::new(false),
            last_us: AtomicU64::new(0),
        });
        let poll2 = poll.clone();
        let thread = std::thread::Builder::new()
            .name("tessera-mpi".into())
            .spawn(move || engine(rx, ready_tx, poll2))
            .map_err(|e| Error::Runtime(format!("cannot start the MPI thread: {e}")))?;
        let (rank, size, tag_ub) = ready_rx
            .recv()
            .map_err(|_| Error::Runtime("MPI failed to initialize".into()))??;
        Ok(Mpi {
            engine: Arc::new(Engine {
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                rank,
                size,
                tag_ub,
                poll,
            }),
        })
    }

    /// This process's rank in `MPI_COMM_WORLD`.
    pub fn rank(&self) -> usize {
        self.engine.rank
    }

    /// Number of processes in `MPI_COMM_WORLD`.
    pub fn size(&self) -> usize {
        self.engine.size
    }

    /// A transport for one runtime, on its own duplicate of `MPI_COMM_WORLD`. A
    /// collective: every rank calls it, in the same order.
    pub fn transport(&self) -> Result<Arc<dyn Transport>> {
        let (tx, rx) = channel();
        self.engine.post(Req::Dup(tx));
        let comm = rx
            .recv()
            .map_err(|_| Error::Runtime("the MPI thread is gone".into()))?;
        Ok(Arc::new(MpiTransport {
            engine: self.engine.clone(),
            comm,
            sent: Arc::new(AtomicU64::new(0)),
            received: Arc::new(AtomicU64::new(0)),
            idle: AtomicBool::new(false),
        }))
    }
}

struct MpiTransport {
    engine: Arc<Engine>,
    comm: usize,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    /// Whether this transport's runtime counts in the engine's idle runtimes.
    idle: AtomicBool,
}

impl MpiTransport {
    fn tag(&self, tag: u64) -> u64 {
        tag % self.engine.tag_ub
    }
    fn post_recv(&self, src: usize, tag: u64, done: RecvDone, urgent: bool) {
        let received = self.received.clone();
        self.engine.post(Req::Recv {
            comm: self.comm,
            src,
            tag: self.tag(tag),
            done: Box::new(move |m| {
                received.fetch_add(m.len() as u64, Ordering::Relaxed);
                done(m)
            }),
            urgent,
        });
    }
}

impl Transport for MpiTransport {
    fn rank(&self) -> usize {
        self.engine.rank
    }
    fn size(&self) -> usize {
        self.engine.size
    }
    fn send(&self, dest: usize, tag: u64, payload: Vec<u8>, done: SendDone) {
        self.sent.fetch_add(payload.len() as u64, Ordering::Relaxed);
        self.engine.post(Req::Send {
            comm: self.comm,
            dest,
            tag: self.tag(tag),
            payload,
            done,
        });
    }
    fn recv(&self, src: usize, tag: u64, done: RecvDone) {
        self.post_recv(src, tag, done, false)
    }
    fn recv_urgent(&self, src: usize, tag: u64, done: RecvDone) {
        self.post_recv(src, tag, done, true)
    }
    fn allgather(&self, mine: Vec<u8>) -> Vec<Vec<u8>> {
        let (tx, rx) = channel();
        self.engine.post(Req::Allgather {
            comm: self.comm,
            data: mine,
            reply: tx,
        });
        rx.recv().expect("the MPI thread is gone")
    }
    fn bytes(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
    fn workers_idle(&self, idle: bool) {
        if self.idle.swap(idle, Ordering::AcqRel) == idle {
            return;
        }
        if idle {
            self.engine
                .poll
                .idle_runtimes
                .fetch_add(1, Ordering::AcqRel);
            // Cut short a long wait between polls.
            self.engine.post(Req::Wake);
        } else {
            self.engine
                .poll
                .idle_runtimes
                .fetch_sub(1, Ordering::AcqRel);
        }
    }
    fn task_done(&self) {
        let p = &self.engine.poll;
        if !p.in_flight.load(Ordering::Relaxed) {
            return;
        }
        let now = p.now_us();
        let last = p.last_us.load(Ordering::Relaxed);
        // One poke per interval, whichever worker gets there first.
        if now.saturating_sub(last) >= POKE_US
            && p.last_us
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.engine.post(Req::Poll);
        }
    }
}

impl Drop for MpiTransport {
    fn drop(&mut self) {
        if self.idle.load(Ordering::Acquire) {
            self.engine
                .poll
                .idle_runtimes
                .fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn check(rc: c_int, what: &str) {
    if rc != 0 {
        // MPI's default error handler aborts before this; keep a clear message otherwise.
        eprintln!("tessera: {what} failed with MPI error {rc}");
        // SAFETY: aborting the whole job is the only safe reaction to a failed MPI call
        // here (a lost message would hang every rank).
        unsafe { ffi::MPI_Abort(ffi::RSMPI_COMM_WORLD, rc) };
    }
}

/// Shortest and longest wait between two polls while messages are in flight: the wait
/// doubles while nothing moves, so a rank that is only computing polls about a hundred
/// times a second on its own, and goes back to the shortest wait as soon as something
/// moves. Between those timed polls the workers poke the thread at task boundaries (see
/// [`POKE_US`]).
const MIN_POLL_US: u64 = 50;
const MAX_POLL_US: u64 = 10_000;
/// A worker that finishes a task while a receive or a send is in flight, and the thread has
/// not looked for this long, wakes it to look ([`Transport::task_done`]). A timer wake-up
/// lands in the middle of a worker's task and costs it a context switch and cache; a poke
/// comes between two tasks. With a 1 ms timer and no pokes, a 1 x 2 tessera-hpl on a
/// two-core Xeon ran 6 to 10% slower than with a 10 ms timer.
const POKE_US: u64 = 2_000;

/// The communication thread.
fn engine(rx: Receiver<Req>, ready: Sender<Result<(usize, usize, u64)>>, poll: Arc<PollState>) {
    // SAFETY (every FFI call below): MPI is called from this thread only, with pointers to
    // live locals or to buffers kept alive until the matching request completes.
    let (rank, size, tag_ub) = unsafe {
        let mut provided: c_int = 0;
        let rc = ffi::MPI_Init_thread(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            ffi::RSMPI_THREAD_FUNNELED,
            &mut provided,
        );
        if rc != 0 {
            let _ = ready.send(Err(Error::Runtime(format!(
                "MPI_Init_thread failed ({rc})"
            ))));
            return;
        }
        let (mut r, mut s): (c_int, c_int) = (0, 0);
        ffi::MPI_Comm_rank(ffi::RSMPI_COMM_WORLD, &mut r);
        ffi::MPI_Comm_size(ffi::RSMPI_COMM_WORLD, &mut s);
        let mut ub: *mut c_int = std::ptr::null_mut();
        let mut flag: c_int = 0;
        ffi::MPI_Comm_get_attr(
            ffi::RSMPI_COMM_WORLD,
            ffi::MPI_TAG_UB as c_int,
            &mut ub as *mut *mut c_int as *mut c_void,
            &mut flag,
        );
        let tag_ub = if flag != 0 && !ub.is_null() {
            (*ub).max(32767) as u64
        } else {
            32767
        };
        (r as usize, s as usize, tag_ub)
    };
    let _ = ready.send(Ok((rank, size, tag_ub)));
    let mut comms: Vec<ffi::MPI_Comm> = Vec::new();
    // Pending sends: the requests in one array (for MPI_Testsome), their buffers and
    // completions at the same index.
    let mut send_reqs: Vec<ffi::MPI_Request> = Vec::new();
    let mut send_state: Vec<(Vec<u8>, SendDone)> = Vec::new();
    // Receives the runtime asked for, and messages that arrived before it asked, both by
    // (communicator, source, tag); FIFO per key keeps MPI's order should tags ever repeat.
    type Key = (usize, usize, u64);
    // The flag marks a receive a worker is blocked on; while any is pending (`urgent`
    // counts them) the thread polls without pausing.
    let mut wanted: HashMap<Key, VecDeque<(RecvDone, bool)>> = HashMap::new();
    let mut urgent = 0usize;
    let mut early: HashMap<Key, VecDeque<Vec<u8>>> = HashMap::new();
    let mut open = true;
    let mut wait_us = MIN_POLL_US;
    let mut indices: Vec<c_int> = Vec::new();
    loop {
        let mut progressed = false;
        // New requests: block while nothing is in flight, wait a little (longer and
        // longer while nothing moves) while something is, and just look after progress.
        let mut first = true;
        while open {
            let idle = send_reqs.is_empty() && wanted.is_empty();
            let r = if first && idle {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else if first && urgent == 0 {
                let r = rx.recv_timeout(Duration::from_micros(wait_us));
                // Longer waits only while some worker computes (idle workers wait on what
                // arrives: look again soon).
                wait_us = if poll.idle_runtimes.load(Ordering::Acquire) > 0 {
                    MIN_POLL_US
                } else {
                    (wait_us * 2).min(MAX_POLL_US)
                };
                r
            } else {
                rx.try_recv().map_err(|e| match e {
                    TryRecvError::Empty => RecvTimeoutError::Timeout,
                    TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                })
            };
            first = false;
            let req = match r {
                Ok(req) => req,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    break;
                }
            };
            // A poke only asks to look; it is not progress (the wait keeps growing).
            progressed |= !matches!(req, Req::Poll);
            match req {
                Req::Dup(reply) => {
                    // SAFETY: reading an MPI constant.
                    let mut c = unsafe { ffi::RSMPI_COMM_NULL };
                    // SAFETY: see above.
                    check(
                        unsafe { ffi::MPI_Comm_dup(ffi::RSMPI_COMM_WORLD, &mut c) },
                        "MPI_Comm_dup",
                    );
                    comms.push(c);
                    let _ = reply.send(comms.len() - 1);
                }
                Req::Send {
                    comm,
                    dest,
                    tag,
                    payload,
                    done,
                } => {
                    // SAFETY: reading an MPI constant.
                    let mut req = unsafe { ffi::RSMPI_REQUEST_NULL };
                    // SAFETY: the payload moves into `send_state` and stays there (its heap
                    // buffer does not move) until MPI_Testsome completes the request.
                    check(
                        unsafe {
                            ffi::MPI_Isend(
                                payload.as_ptr() as *const c_void,
                                payload.len() as c_int,
                                ffi::RSMPI_UINT8_T,
                                dest as c_int,
                                tag as c_int,
                                comms[comm],
                                &mut req,
                            )
                        },
                        "MPI_Isend",
                    );
                    send_reqs.push(req);
                    send_state.push((payload, done));
                }
                Req::Recv {
                    comm,
                    src,
                    tag,
                    done,
                    urgent: u,
                } => {
                    let key = (comm, src, tag);
                    match pop(&mut early, &key) {
                        Some(m) => done(m),
                        None => {
                            urgent += usize::from(u);
                            wanted.entry(key).or_default().push_back((done, u));
                        }
                    }
                }
                Req::Allgather { comm, data, reply } => {
                    let _ = reply.send(allgather(comms[comm], size, &data));
                }
                Req::Wake => wait_us = MIN_POLL_US,
                Req::Poll => {}
            }
        }
        // Progress the sends: one call for all of them.
        if !send_reqs.is_empty() {
            let n = send_reqs.len();
            indices.resize(n, 0);
            let mut out: c_int = 0;
            // SAFETY: `send_reqs` holds `n` live requests and `indices` room for `n`.
            check(
                unsafe {
                    ffi::MPI_Testsome(
                        n as c_int,
                        send_reqs.as_mut_ptr(),
                        &mut out,
                        indices.as_mut_ptr(),
                        ffi::RSMPI_STATUSES_IGNORE,
                    )
                },
                "MPI_Testsome",
            );
            if out > 0 {
                let mut done: Vec<usize> = indices[..out as usize]
                    .iter()
                    .map(|&i| i as usize)
                    .collect();
                done.sort_unstable_by(|a, b| b.cmp(a));
                for i in done {
                    send_reqs.swap_remove(i);
                    let (buf, d) = send_state.swap_remove(i);
                    crate::tile::pool::give(buf);
                    d();
                }
                progressed = true;
            }
        }
        // Take in whatever has arrived, wanted yet or not: one probe per communicator
        // until it finds nothing.
        for (c, &comm) in comms.iter().enumerate() {
            loop {
                let mut flag: c_int = 0;
                // SAFETY: zero-initialized plain C struct, filled by MPI.
                let mut status: ffi::MPI_Status = unsafe { std::mem::zeroed() };
                // SAFETY: see above.
                check(
                    unsafe {
                        ffi::MPI_Iprobe(
                            ffi::RSMPI_ANY_SOURCE,
                            ffi::RSMPI_ANY_TAG,
                            comm,
                            &mut flag,
                            &mut status,
                        )
                    },
                    "MPI_Iprobe",
                );
                if flag == 0 {
                    break;
                }
                let (src, tag) = (status.MPI_SOURCE, status.MPI_TAG);
                let mut count: c_int = 0;
                // SAFETY: see above.
                unsafe { ffi::MPI_Get_count(&status, ffi::RSMPI_UINT8_T, &mut count) };
                // Overwritten whole by the receive; recycled once the message is decoded.
                let mut buf = crate::tile::pool::take::<u8>(count.max(0) as usize);
                // SAFETY: `buf` holds the probed message's size.
                check(
                    unsafe {
                        ffi::MPI_Recv(
                            buf.as_mut_ptr() as *mut c_void,
                            count,
                            ffi::RSMPI_UINT8_T,
                            src,
                            tag,
                            comm,
                            ffi::RSMPI_STATUS_IGNORE,
                        )
                    },
                    "MPI_Recv",
                );
                progressed = true;
                let key = (c, src as usize, tag as u64);
                match pop(&mut wanted, &key) {
                    Some((done, u)) => {
                        urgent -= usize::from(u);
                        done(buf)
                    }
                    None => early.entry(key).or_default().push_back(buf),
                }
            }
        }
        poll.last_us.store(poll.now_us(), Ordering::Relaxed);
        poll.in_flight.store(
            !send_reqs.is_empty() || !wanted.is_empty(),
            Ordering::Relaxed,
        );
        if !open && send_reqs.is_empty() && wanted.is_empty() {
            break;
        }
        if progressed {
            wait_us = MIN_POLL_US;
        }
        if urgent > 0 && !progressed {
            // Polling without pause: leave the core to a worker that needs it.
            std::thread::yield_now();
        }
    }
    // SAFETY: see above; no request is pending.
    unsafe {
        for c in comms.iter_mut() {
            ffi::MPI_Comm_free(c);
        }
        ffi::MPI_Finalize();
    }
}

/// The first entry queued under `key`, dropping the queue once it is empty.
fn pop<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, VecDeque<V>>, key: &K) -> Option<V> {
    let q = map.get_mut(key)?;
    let v = q.pop_front();
    if q.is_empty() {
        map.remove(key);
    }
    v
}

fn allgather(comm: ffi::MPI_Comm, size: usize, data: &[u8]) -> Vec<Vec<u8>> {
    // One leading byte keeps every buffer non-empty: an empty Vec's dangling pointer can
    // equal Open MPI's MPI_IN_PLACE sentinel.
    let mut padded = Vec::with_capacity(data.len() + 1);
    padded.push(0u8);
    padded.extend_from_slice(data);
    let data = &padded[..];
    let mut lens = vec![0 as c_int; size];
    let mine = data.len() as c_int;
    // SAFETY: buffers sized for `size` ranks; called on the MPI thread.
    check(
        unsafe {
            ffi::MPI_Allgather(
                &mine as *const c_int as *const c_void,
                1,
                ffi::RSMPI_INT32_T,
                lens.as_mut_ptr() as *mut c_void,
                1,
                ffi::RSMPI_INT32_T,
                comm,
            )
        },
        "MPI_Allgather",
    );
    let mut displs = Vec::with_capacity(size);
    let mut total: c_int = 0;
    for &l in &lens {
        displs.push(total);
        total += l;
    }
    let mut all = vec![0u8; total as usize];
    // SAFETY: as above; `all` holds the sum of the lengths.
    check(
        unsafe {
            ffi::MPI_Allgatherv(
                data.as_ptr() as *const c_void,
                mine,
                ffi::RSMPI_UINT8_T,
                all.as_mut_ptr() as *mut c_void,
                lens.as_ptr(),
                displs.as_ptr(),
                ffi::RSMPI_UINT8_T,
                comm,
            )
        },
        "MPI_Allgatherv",
    );
    lens.iter()
        .zip(&displs)
        .map(|(&l, &d)| all[d as usize + 1..(d + l) as usize].to_vec())
        .collect()
}

//! # The task runtime (sequential task flow)
//!
//! Algorithms submit tasks in program order, each declaring the [`Handle`]s it touches and
//! how ([`Access`]). The runtime infers the dependencies (read after write, write after
//! read, write after write) per handle, runs ready tasks on a pool of worker threads,
//! highest [priority](TaskBuilder::priority) first, and reports the first error of a
//! [`Sequence`] from [`Sequence::wait`].
//!
//! It knows nothing of linear algebra. Its pieces:
//! - **handles** ([`Handle`]): registered data with one replica per [`MemoryNode`] and a
//!   coherence state (only the host exists today: GPU memories and remote ranks plug in
//!   through [`Handle`]'s acquire step and the memory node list);
//! - **tasks** ([`TaskBuilder`]): kind, accesses, priority, flop estimate, body; the body
//!   reaches its data through typed tokens that only open inside that task;
//! - **sequences** ([`Sequence`]): the unit of waiting and of errors. A failing task poisons
//!   every task that depends on it and, from then on, every not-yet-started task of its
//!   sequence is skipped; a panic inside a task is caught and becomes an error;
//! - **scheduler**: a priority queue (ties in submission order), so lookahead comes from
//!   priorities; a submission window bounds the number of tasks in flight;
//! - **peer groups** ([`Peers`]): one task per rank that exchange messages in rounds while
//!   they run, for reductions too fine-grained for a task each (LU's pivot search);
//! - **tracing**: per-task kind, worker, start and end, exported as Chrome/Perfetto JSON
//!   ([`Trace::to_chrome_json`]) with a one-line [`Trace::summary`].
//!
//! Determinism: tasks touching a handle in a conflicting way run in submission order, so a
//! computation whose kernels are deterministic gives bitwise identical results whatever the
//! number of workers.
//!
//! Access modes: read, write, read-write, and commute ([`Access::Commute`]: updates that may
//! land in any order, one at a time, as the sparse factorization's updates of a column
//! block). Where the next pieces plug in: a reduction mode (REDUX for pivot candidates)
//! extends [`Access`] and the per-handle dependency state; GPU workers and data transfers use
//! [`MemoryNode`], the replica states and the acquire step that runs before every task
//! (today it can only validate host replicas); the per-task flop estimate and the trace
//! events are the inputs of the cost models a heterogeneous scheduler and a simulator need;
//! `TaskBuilder::on_rank` is where owner-computes distribution hooks in. Workers are not
//! pinned to cores yet.
//!
//! Measured overhead: 750,000 to 940,000 empty tasks per second with dependency tracking on
//! 2 workers (`cargo bench --bench runtime`).

mod data;
mod dist;
mod peers;
mod task;
mod trace;

pub use data::{Access, Handle, MemoryNode, ReplicaState};
pub(crate) use dist::{get_u64 as dist_get_u64, put_u64 as dist_put_u64};
pub use dist::{LocalTransport, RecvDone, SendDone, Transport, Wire};
pub use peers::Peers;
pub use task::{CommuteToken, ReadToken, TaskBuilder, TaskContext, WriteToken};
pub use trace::{Trace, TraceEvent};

use crate::error::{Error, Result};
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use task::{infer_dependencies, TaskNode};

/// Runtime settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Number of CPU worker threads (default: the number of available cores).
    pub workers: usize,
    /// Maximum number of submitted but unfinished tasks; submission blocks beyond it so
    /// that memory stays bounded on huge problems (default 100,000).
    pub window: usize,
    /// Record a trace of every task (default: off, or on when `TESSERA_TRACE` is set).
    pub trace: bool,
    /// The ranks this runtime spans, when it is one of several (default: none, one
    /// process). Every rank then submits the same tasks; see the module documentation.
    pub transport: Option<Arc<dyn Transport>>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let workers = crate::env::num_threads_override()
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        RuntimeConfig {
            workers,
            window: 100_000,
            trace: crate::env::trace_requested(),
            transport: None,
        }
    }
}

impl RuntimeConfig {
    /// The default configuration with `workers` threads (at least one).
    pub fn with_workers(workers: usize) -> Self {
        RuntimeConfig {
            workers: workers.max(1),
            ..Default::default()
        }
    }
    /// Turns tracing on or off.
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }
    /// Makes the runtime one rank of a distributed run over `transport`.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
}

struct Ready {
    priority: i64,
    order: u64,
    task: Arc<TaskNode>,
}
impl PartialEq for Ready {
    fn eq(&self, o: &Self) -> bool {
        self.priority == o.priority && self.order == o.order
    }
}
impl Eq for Ready {}
impl PartialOrd for Ready {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ready {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.priority
            .cmp(&o.priority)
            .then_with(|| o.order.cmp(&self.order))
    }
}

struct Queue {
    heap: BinaryHeap<Ready>,
    next_order: u64,
    shutdown: bool,
    sleeping: usize,
}

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    work_cv: Condvar,
    in_flight: AtomicUsize,
    submitted: AtomicU64,
    completed: AtomicU64,
    window: usize,
    window_mx: Mutex<()>,
    window_cv: Condvar,
    tracing: AtomicBool,
    shutdown: AtomicBool,
    trace: Mutex<Vec<TraceEvent>>,
    epoch: Instant,
    workers: usize,
    transport: Option<Arc<dyn Transport>>,
    /// Tags of transfers, drawn in submission order (the same on every rank).
    next_tag: AtomicU64,
}

/// The task runtime: a pool of worker threads and a scheduler. Create one and pass it to
/// every call; dropping it waits for the workers to finish their current tasks.
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// Starts the workers.
    pub fn new(config: RuntimeConfig) -> Self {
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                heap: BinaryHeap::new(),
                next_order: 0,
                shutdown: false,
                sleeping: 0,
            }),
            work_cv: Condvar::new(),
            in_flight: AtomicUsize::new(0),
            submitted: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            window: config.window.max(16),
            window_mx: Mutex::new(()),
            window_cv: Condvar::new(),
            tracing: AtomicBool::new(config.trace),
            shutdown: AtomicBool::new(false),
            trace: Mutex::new(Vec::new()),
            epoch: Instant::now(),
            workers,
            transport: config.transport.clone(),
            next_tag: AtomicU64::new(0),
        });
        let threads = (0..workers)
            .map(|w| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("tessera-worker-{w}"))
                    .spawn(move || worker_loop(&s, w))
                    .expect("cannot spawn a worker thread")
            })
            .collect();
        Runtime { shared, threads }
    }

    /// A runtime with the default configuration.
    pub fn with_default() -> Self {
        Self::new(RuntimeConfig::default())
    }

    /// Number of CPU workers.
    pub fn workers(&self) -> usize {
        self.shared.workers
    }

    /// This process's rank (0 without MPI).
    pub fn rank(&self) -> usize {
        self.shared.transport.as_ref().map_or(0, |t| t.rank())
    }

    /// Number of ranks (1 without MPI).
    pub fn nranks(&self) -> usize {
        self.shared.transport.as_ref().map_or(1, |t| t.size())
    }

    /// Bytes of tile data (and other handle data) this rank sent and received so far.
    pub fn comm_bytes(&self) -> (u64, u64) {
        self.shared.transport.as_ref().map_or((0, 0), |t| t.bytes())
    }

    /// Every rank's `v`, in rank order (a collective: every rank calls it at the same
    /// point; `[v]` with one rank).
    pub fn allgather_u64(&self, v: u64) -> Vec<u64> {
        match &self.shared.transport {
            Some(t) if t.size() > 1 => t
                .allgather(v.to_le_bytes().to_vec())
                .iter()
                .map(|b| u64::from_le_bytes(b[..8].try_into().unwrap()))
                .collect(),
            _ => vec![v],
        }
    }

    /// The smallest of every rank's `v` (a collective: every rank calls it at the same
    /// point; `v` itself with one rank).
    pub fn agree_min(&self, v: u64) -> u64 {
        self.allgather_u64(v).into_iter().min().unwrap_or(v)
    }

    /// A new sequence to submit tasks into.
    pub fn sequence(&self) -> Sequence {
        Sequence {
            rt: RuntimeRef {
                shared: self.shared.clone(),
            },
            inner: Arc::new(SeqInner {
                error: Mutex::new(None),
                failed: AtomicBool::new(false),
                outstanding: AtomicUsize::new(0),
                done_mx: Mutex::new(()),
                done_cv: Condvar::new(),
            }),
        }
    }

    /// Tasks submitted and tasks finished (run or skipped) since the runtime started: a
    /// cheap progress measure for long runs.
    pub fn task_counts(&self) -> (u64, u64) {
        (
            self.shared.submitted.load(Ordering::Relaxed),
            self.shared.completed.load(Ordering::Relaxed),
        )
    }

    /// Turns tracing on or off from now on.
    pub fn set_tracing(&self, on: bool) {
        self.shared.tracing.store(on, Ordering::Relaxed);
    }

    /// Takes the events recorded so far (and clears them).
    pub fn take_trace(&self) -> Trace {
        let events = std::mem::take(&mut *self.shared.trace.lock().unwrap());
        Trace {
            events,
            workers: self.shared.workers,
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.queue.lock().unwrap().shutdown = true;
        self.shared.work_cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A cheap reference to a runtime held by sequences.
#[derive(Clone)]
pub(crate) struct RuntimeRef {
    shared: Arc<Shared>,
}

impl RuntimeRef {
    pub(crate) fn rank(&self) -> usize {
        self.shared.transport.as_ref().map_or(0, |t| t.rank())
    }
    pub(crate) fn nranks(&self) -> usize {
        self.shared.transport.as_ref().map_or(1, |t| t.size())
    }
    pub(crate) fn next_tag(&self) -> u64 {
        self.shared.next_tag.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn submit_node(&self, node: Arc<TaskNode>) -> Result<()> {
        let s = &self.shared;
        if s.shutdown.load(Ordering::Acquire) {
            return Err(Error::Runtime(
                "the runtime was dropped: no worker is left to run new tasks".into(),
            ));
        }
        // Submission window: wait for the graph to drain below the bound.
        if s.in_flight.load(Ordering::Relaxed) >= s.window {
            let mut g = s.window_mx.lock().unwrap();
            while s.in_flight.load(Ordering::Acquire) >= s.window / 2 {
                g = s.window_cv.wait(g).unwrap();
            }
        }
        s.in_flight.fetch_add(1, Ordering::Relaxed);
        s.submitted.fetch_add(1, Ordering::Relaxed);
        node.seq.outstanding.fetch_add(1, Ordering::AcqRel);
        infer_dependencies(&node);
        if node.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            push_ready(s, vec![node]);
        }
        Ok(())
    }
}

fn push_ready(s: &Arc<Shared>, mut tasks: Vec<Arc<TaskNode>>) {
    if tasks.iter().any(|t| t.comm.is_some()) {
        let (comm, rest): (Vec<_>, Vec<_>) = tasks.into_iter().partition(|t| t.comm.is_some());
        tasks = rest;
        for t in comm {
            start_comm(s, t);
        }
    }
    if tasks.is_empty() {
        return;
    }
    let n = tasks.len();
    let mut q = s.queue.lock().unwrap();
    for task in tasks {
        let order = q.next_order;
        q.next_order += 1;
        q.heap.push(Ready {
            priority: task.priority,
            order,
            task,
        });
    }
    let sleeping = q.sleeping;
    drop(q);
    if sleeping > 0 {
        if n == 1 {
            s.work_cv.notify_one();
        } else {
            s.work_cv.notify_all();
        }
    }
}

fn worker_loop(s: &Arc<Shared>, worker: usize) {
    let mut ready_buf: Vec<Arc<TaskNode>> = Vec::new();
    loop {
        let task = {
            let mut q = s.queue.lock().unwrap();
            loop {
                if let Some(r) = q.heap.pop() {
                    break r.task;
                }
                // On shutdown, leave only once every submitted task has run, so that a
                // sequence that outlives its runtime's handle still completes.
                if q.shutdown && s.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                q.sleeping += 1;
                // The last worker to run dry tells the transport (which then watches for
                // the messages they wait on closely); the first to wake, that they work.
                let all = q.sleeping == s.workers;
                if let (true, Some(t)) = (all, &s.transport) {
                    t.workers_idle(true);
                }
                q = s.work_cv.wait(q).unwrap();
                if let (true, Some(t)) = (q.sleeping == s.workers, &s.transport) {
                    t.workers_idle(false);
                }
                q.sleeping -= 1;
            }
        };
        run_task(s, worker, &task);
        finish_task(s, task, &mut ready_buf);
        if let Some(t) = &s.transport {
            t.task_done();
        }
    }
}

/// Completion: releases the successors, the sequence and the submission window.
fn finish_task(s: &Arc<Shared>, task: Arc<TaskNode>, ready_buf: &mut Vec<Arc<TaskNode>>) {
    let succs = {
        let mut st = task.state.lock().unwrap();
        st.done = true;
        std::mem::take(&mut st.succs)
    };
    let failed = task.poisoned.load(Ordering::Relaxed);
    for t in succs {
        if failed {
            t.poisoned.store(true, Ordering::Relaxed);
        }
        if t.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            ready_buf.push(t);
        }
    }
    push_ready(s, std::mem::take(ready_buf));
    let seq = task.seq.clone();
    task.accesses.lock().unwrap().clear();
    drop(task);
    if seq.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
        let _g = seq.done_mx.lock().unwrap();
        seq.done_cv.notify_all();
    }
    s.completed.fetch_add(1, Ordering::Relaxed);
    let before = s.in_flight.fetch_sub(1, Ordering::AcqRel);
    if before == s.window / 2 + 1 || before == 1 {
        let _g = s.window_mx.lock().unwrap();
        s.window_cv.notify_all();
    }
    if before == 1 && s.shutdown.load(Ordering::Acquire) {
        let _q = s.queue.lock().unwrap();
        s.work_cv.notify_all();
    }
}

/// Hands a ready communication task to the transport; it completes from there. Sends and
/// receives always happen, even in a failed sequence: a send then carries the error, so
/// that the receiving rank fails with the same error instead of waiting forever.
fn start_comm(s: &Arc<Shared>, task: Arc<TaskNode>) {
    let op = task.comm.expect("a communication task");
    // The task's one access (cleared when it finishes, so no cycle through the handle).
    let h = task.accesses.lock().unwrap()[0].0.clone();
    match op {
        dist::CommOp::Evict => {
            h.evict();
            finish_task(s, task, &mut Vec::new());
        }
        dist::CommOp::Send { dest, tag } => {
            // A recycled buffer (the transport gives it back once sent).
            let mut payload = crate::tile::pool::take::<u8>(h.bytes() + 64);
            payload.clear();
            let failed =
                task.poisoned.load(Ordering::Relaxed) || task.seq.failed.load(Ordering::Relaxed);
            if failed {
                payload.push(1);
                let e = task.seq.error.lock().unwrap().clone().map_or_else(
                    || {
                        Error::Runtime(
                            "the data was not produced: a task it depends on failed".into(),
                        )
                    },
                    |(e, _)| e,
                );
                dist::encode_error(&e, &mut payload);
            } else {
                payload.push(0);
                h.encode(&mut payload);
            }
            let transport = s
                .transport
                .clone()
                .expect("communication without a transport");
            let s2 = s.clone();
            transport.send(
                dest,
                tag,
                payload,
                Box::new(move || finish_task(&s2, task, &mut Vec::new())),
            );
        }
        dist::CommOp::Recv { src, tag } => {
            let transport = s
                .transport
                .clone()
                .expect("communication without a transport");
            let s2 = s.clone();
            transport.recv(
                src,
                tag,
                Box::new(move |msg: Vec<u8>| {
                    let res = match msg.first() {
                        Some(0) => h.decode(&msg[1..]),
                        Some(_) => Err(dist::decode_error(&msg[1..])),
                        None => Err(Error::Runtime("empty message".into())),
                    };
                    crate::tile::pool::give(msg);
                    if let Err(e) = res {
                        task.poisoned.store(true, Ordering::Relaxed);
                        task.seq.fail_primary(e);
                    }
                    finish_task(&s2, task, &mut Vec::new());
                }),
            );
        }
    }
}

fn run_task(s: &Arc<Shared>, worker: usize, task: &Arc<TaskNode>) {
    let body = task.body.lock().unwrap().take();
    let accesses = std::mem::take(&mut *task.accesses.lock().unwrap());
    let seq = &task.seq;
    if task.poisoned.load(Ordering::Relaxed) || seq.failed.load(Ordering::Relaxed) {
        if task.poisoned.load(Ordering::Relaxed) {
            // A predecessor failed, possibly in another sequence: this sequence did not
            // complete its work either (its first error, if any, is kept).
            seq.fail_secondary(Error::Runtime(format!(
                "task '{}' was skipped: a task it depends on failed",
                task.kind
            )));
        }
        task.poisoned.store(true, Ordering::Relaxed);
        return;
    }
    let Some(body) = body else { return };
    let ctx = TaskContext {
        task: task.id,
        worker,
        node: MemoryNode::Host,
    };
    for (h, mode) in &accesses {
        if let Err(e) = h.acquire(ctx.node, *mode) {
            seq.fail_primary(e);
            task.poisoned.store(true, Ordering::Relaxed);
            return;
        }
    }
    let tracing = s.tracing.load(Ordering::Relaxed);
    let start = if tracing {
        s.epoch.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let res = catch_unwind(AssertUnwindSafe(|| body(&ctx)));
    if tracing {
        let end = s.epoch.elapsed().as_secs_f64();
        let bytes = accesses.iter().map(|(h, _)| h.bytes()).sum();
        s.trace.lock().unwrap().push(TraceEvent {
            kind: task.kind,
            worker,
            node: MemoryNode::Host,
            start,
            end,
            flops: task.flops,
            bytes,
        });
    }
    let err = match res {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(p) => {
            let message = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".into());
            Some(Error::TaskPanicked {
                task: task.kind,
                message,
            })
        }
    };
    if let Some(e) = err {
        task.poisoned.store(true, Ordering::Relaxed);
        seq.fail_primary(e);
    }
}

pub(crate) struct SeqInner {
    /// The first error, and whether it is a cause (not a skipped task's consequence).
    error: Mutex<Option<(Error, bool)>>,
    failed: AtomicBool,
    outstanding: AtomicUsize,
    done_mx: Mutex<()>,
    done_cv: Condvar,
}

impl SeqInner {
    /// Records `e` unless an error is recorded; a cause replaces a consequence.
    fn record(&self, e: Error, primary: bool) {
        let mut g = self.error.lock().unwrap();
        match &*g {
            None => *g = Some((e, primary)),
            Some((_, false)) if primary => *g = Some((e, primary)),
            _ => {}
        }
        self.failed.store(true, Ordering::Release);
    }
    fn fail_primary(&self, e: Error) {
        self.record(e, true)
    }
    fn fail_secondary(&self, e: Error) {
        self.record(e, false)
    }
}

/// A stream of submitted tasks with one error status: the unit of waiting.
///
/// Dropping a sequence waits for its tasks, so borrowed data captured by tasks through
/// handles stays alive, and no task outlives the call that submitted it.
pub struct Sequence {
    pub(crate) rt: RuntimeRef,
    pub(crate) inner: Arc<SeqInner>,
}

impl Sequence {
    /// Starts building a task of the given kind (a short static name such as "gemm").
    pub fn task(&self, kind: &'static str) -> TaskBuilder<'_> {
        TaskBuilder::new(self, kind)
    }

    /// Drops the copies of `h` that ranks received from the rank that wrote it last, once
    /// the tasks submitted before that read them have run (StarPU-MPI's cache flush).
    /// Without it a received copy stays until `h` is written on another rank or dropped,
    /// which for data read at one step only (the panel a factorization broadcasts) keeps
    /// up to a copy of the whole factor on each rank. On several ranks every rank calls
    /// it at the same point of its submissions; a task submitted later that reads `h`
    /// elsewhere receives it again. Nothing happens on one rank.
    pub fn flush<D: Send + Sync + 'static>(&self, h: &Handle<D>) -> Result<()> {
        task::flush(self, h.inner.clone())
    }

    /// Waits until every task submitted so far has finished or been skipped; returns the
    /// first error, if any (it stays recorded: waiting again returns it again).
    ///
    /// On several ranks this is a collective (every rank waits at the same point) and
    /// every rank returns the same result: the error of the lowest rank that had a cause
    /// of failure (a failing task, not one skipped because of it).
    pub fn wait(&self) -> Result<()> {
        let s = &self.inner;
        if s.outstanding.load(Ordering::Acquire) != 0 {
            let mut g = s.done_mx.lock().unwrap();
            while s.outstanding.load(Ordering::Acquire) != 0 {
                g = s.done_cv.wait(g).unwrap();
            }
        }
        if let Some(t) = &self.rt.shared.transport {
            if t.size() > 1 {
                self.agree_on_error(t.as_ref());
            }
        }
        self.status()
    }

    /// Makes every rank's recorded error the same (see [`Sequence::wait`]).
    fn agree_on_error(&self, t: &dyn Transport) {
        let mine = {
            let g = self.inner.error.lock().unwrap();
            let mut b = Vec::new();
            if let Some((e, primary)) = &*g {
                b.push(if *primary { 2 } else { 1 });
                dist::encode_error(e, &mut b);
            }
            b
        };
        let all = t.allgather(mine);
        let pick = all
            .iter()
            .find(|b| b.first() == Some(&2))
            .or_else(|| all.iter().find(|b| b.first() == Some(&1)));
        if let Some(b) = pick {
            let e = dist::decode_error(&b[1..]);
            *self.inner.error.lock().unwrap() = Some((e, b[0] == 2));
            self.inner.failed.store(true, Ordering::Release);
        }
    }

    /// Waits until every task submitted so far that writes `h` has finished, so that the
    /// caller can read it (the other tasks go on).
    pub fn wait_for<D: Send + Sync + 'static>(&self, h: &Handle<D>) -> Result<()> {
        let side = Sequence {
            rt: self.rt.clone(),
            inner: new_seq_inner(),
        };
        let mut t = side.task("wait_for");
        let _r = t.read(h);
        t.submit(|_| Ok(()))?;
        // The writer's own error, when it belongs to this sequence, is the one to report;
        // otherwise that of the wait task (skipped because its writer failed elsewhere).
        let side_result = side.wait();
        self.status().and(side_result)
    }

    /// The first error recorded so far, without waiting (on this rank only).
    pub fn status(&self) -> Result<()> {
        match &*self.inner.error.lock().unwrap() {
            Some((e, _)) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records an error from the submitting thread (e.g. a failed check between two waves
    /// of submission); tasks not yet started are then skipped.
    pub fn fail(&self, e: Error) {
        self.inner.fail_primary(e)
    }

    /// The runtime's rank and number of ranks.
    pub fn ranks(&self) -> (usize, usize) {
        (self.rt.rank(), self.rt.nranks())
    }

    /// A group of tasks that exchange messages while they run, one member per rank of
    /// `ranks` (distinct), each allowed `rounds` rounds ([`Peers`]). Every rank must create
    /// the group at the same point of its submission (it draws tags from the submission
    /// counter), then submit each member's task on its rank with the member moved into the
    /// body; the members must touch disjoint data.
    pub fn peers(&self, ranks: &[usize], rounds: u64) -> Vec<Peers> {
        let base = self.rt.shared.next_tag.fetch_add(rounds, Ordering::Relaxed);
        Peers::group(
            self.rt.shared.transport.clone(),
            self.inner.clone(),
            ranks,
            base,
            rounds,
        )
    }
}

fn new_seq_inner() -> Arc<SeqInner> {
    Arc::new(SeqInner {
        error: Mutex::new(None),
        failed: AtomicBool::new(false),
        outstanding: AtomicUsize::new(0),
        done_mx: Mutex::new(()),
        done_cv: Condvar::new(),
    })
}

impl Drop for Sequence {
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

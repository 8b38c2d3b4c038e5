//! Tasks: the builder algorithms use to declare accesses, the typed access tokens a task
//! body uses to reach its data, and the graph node the scheduler runs.

use super::data::{Access, AnyHandle, Handle, MemoryNode};
use super::dist::CommOp;
use super::{SeqInner, Sequence};
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) type Body = Box<dyn FnOnce(&TaskContext) -> Result<()> + Send>;

pub(crate) struct NodeState {
    pub(crate) done: bool,
    pub(crate) succs: Vec<Arc<TaskNode>>,
}

/// A task in the graph.
pub(crate) struct TaskNode {
    pub(crate) id: u64,
    pub(crate) kind: &'static str,
    pub(crate) priority: i64,
    pub(crate) flops: f64,
    /// Unfinished predecessors, plus one while the task is being submitted.
    pub(crate) pending: AtomicUsize,
    pub(crate) state: Mutex<NodeState>,
    pub(crate) body: Mutex<Option<Body>>,
    pub(crate) seq: Arc<SeqInner>,
    /// A predecessor failed or was skipped: this task must not run.
    pub(crate) poisoned: AtomicBool,
    /// Cleared when the task finishes, so that finished tasks kept as "last writer" by
    /// handles do not keep other handles alive.
    pub(crate) accesses: Mutex<Vec<(Arc<dyn AnyHandle>, Access)>>,
    /// Set for the communication tasks of distributed runs (they run on the transport).
    pub(crate) comm: Option<CommOp>,
}

impl TaskNode {
    pub(crate) fn is_done(&self) -> bool {
        self.state.lock().unwrap().done
    }
}

static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

/// What a running task knows about itself; needed to open its access tokens.
pub struct TaskContext {
    pub(crate) task: u64,
    /// Index of the worker running the task.
    pub worker: usize,
    /// The memory node the task runs on.
    pub node: MemoryNode,
}

/// Read access to a handle's data inside the task it was declared for.
pub struct ReadToken<D> {
    h: Handle<D>,
    task: u64,
}

/// Write (or read-write) access to a handle's data inside the task it was declared for.
pub struct WriteToken<D> {
    h: Handle<D>,
    task: u64,
}

/// Commuting update access to a handle inside the task it was declared for: the data is
/// reached under the handle's lock, so commuting tasks never touch it at the same time.
pub struct CommuteToken<D> {
    h: Handle<D>,
    task: u64,
}

impl<D> CommuteToken<D> {
    /// Runs `f` on the data while holding the handle's lock. Panics (caught and reported)
    /// if called from another task than the one the token was declared for.
    pub fn with<R>(&mut self, ctx: &TaskContext, f: impl FnOnce(&mut D) -> R) -> R {
        assert_eq!(ctx.task, self.task, "access token used outside of its task");
        let _guard = self
            .h
            .inner
            .commute_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // SAFETY: dependency inference orders every non-commuting access of this handle
        // before or after the commuting group this task belongs to, and within the group
        // the lock (held until the end of this call) excludes the other members.
        f(unsafe { &mut *self.h.inner.data.get() })
    }
}

impl<D> ReadToken<D> {
    /// The data. Panics (caught by the runtime and reported as an error) if called from
    /// another task than the one the token was declared for.
    pub fn get<'a>(&'a self, ctx: &'a TaskContext) -> &'a D {
        assert_eq!(ctx.task, self.task, "access token used outside of its task");
        // SAFETY: the token's task is running (ctx proves it), and dependency inference
        // guarantees that no task writing this handle runs concurrently with it.
        unsafe { &*self.h.inner.data.get() }
    }
}

impl<D> WriteToken<D> {
    /// The data, mutably. Panics (caught and reported) if called from another task than
    /// the one the token was declared for.
    pub fn get_mut<'a>(&'a mut self, ctx: &'a TaskContext) -> &'a mut D {
        assert_eq!(ctx.task, self.task, "access token used outside of its task");
        // SAFETY: the token's task is running, and dependency inference guarantees that no
        // other task touching this handle runs concurrently with a writer. The token is
        // borrowed mutably, so its task cannot alias the reference either; a task cannot
        // hold two tokens for one handle with a write among them (checked at submission).
        unsafe { &mut *self.h.inner.data.get() }
    }
}

/// Builds one task: declare the accesses (each returns a token for the body), set the
/// priority and cost, then [`TaskBuilder::submit`] the body.
///
/// ```
/// use tessera::runtime::{Handle, Runtime, RuntimeConfig};
/// let rt = Runtime::new(RuntimeConfig::with_workers(2));
/// let x = Handle::new(1.0f64, 8);
/// let y = Handle::new(0.0f64, 8);
/// let seq = rt.sequence();
/// let mut t = seq.task("axpy");
/// let rx = t.read(&x);
/// let mut wy = t.read_write(&y);
/// t.submit(move |ctx| {
///     *wy.get_mut(ctx) += 2.0 * rx.get(ctx);
///     Ok(())
/// }).unwrap();
/// seq.wait().unwrap();
/// ```
pub struct TaskBuilder<'s> {
    seq: &'s Sequence,
    id: u64,
    kind: &'static str,
    priority: i64,
    flops: f64,
    rank: Option<usize>,
    accesses: Vec<(Arc<dyn AnyHandle>, Access)>,
    conflict: Option<String>,
}

impl<'s> TaskBuilder<'s> {
    pub(crate) fn new(seq: &'s Sequence, kind: &'static str) -> Self {
        TaskBuilder {
            seq,
            id: NEXT_TASK.fetch_add(1, Ordering::Relaxed),
            kind,
            priority: 0,
            flops: 0.0,
            rank: None,
            accesses: Vec::with_capacity(4),
            conflict: None,
        }
    }

    /// Scheduling priority: among ready tasks, higher runs first (critical path first).
    pub fn priority(mut self, p: i64) -> Self {
        self.priority = p;
        self
    }

    /// Flop estimate (feeds traces and cost models).
    pub fn flops(mut self, f: f64) -> Self {
        self.flops = f;
        self
    }

    /// The rank that executes the task (the owner of the data it writes). With one process
    /// every task runs on rank 0. A task given no rank runs on every rank (each computes the
    /// same thing from the same inputs, which are first sent to the ranks that lack them).
    pub fn on_rank(mut self, rank: usize) -> Self {
        self.rank = Some(rank);
        self
    }

    fn add<D: Send + Sync + 'static>(&mut self, h: &Handle<D>, mode: Access) {
        // Duplicate declarations are checked here for small tasks and at submission (by
        // sorting) for tasks with many accesses, so that declaring k handles stays O(k log k).
        if self.accesses.len() < 32 {
            let id = h.inner.id;
            for (other, m) in &self.accesses {
                if other.id() == id && (mode.writes() || m.writes()) {
                    self.conflict = Some(Self::conflict_message(self.kind, id, *m, mode));
                }
            }
        }
        self.accesses
            .push((h.inner.clone() as Arc<dyn AnyHandle>, mode));
    }

    fn conflict_message(kind: &str, id: u64, a: Access, b: Access) -> String {
        format!(
            "task '{kind}' declares handle {id} twice with a write among the accesses ({a:?}, {b:?})"
        )
    }

    /// The duplicate check for tasks with many accesses.
    fn check_many(&mut self) {
        if self.accesses.len() <= 32 || self.conflict.is_some() {
            return;
        }
        let mut ids: Vec<(u64, Access)> = self.accesses.iter().map(|(h, m)| (h.id(), *m)).collect();
        ids.sort_unstable_by_key(|e| e.0);
        for w in ids.windows(2) {
            if w[0].0 == w[1].0 && (w[0].1.writes() || w[1].1.writes()) {
                self.conflict = Some(Self::conflict_message(self.kind, w[0].0, w[0].1, w[1].1));
                return;
            }
        }
    }

    /// Declares a read of `h`.
    pub fn read<D: Send + Sync + 'static>(&mut self, h: &Handle<D>) -> ReadToken<D> {
        self.add(h, Access::Read);
        ReadToken {
            h: h.clone(),
            task: self.id,
        }
    }

    /// Declares a read-modify-write of `h`.
    pub fn read_write<D: Send + Sync + 'static>(&mut self, h: &Handle<D>) -> WriteToken<D> {
        self.add(h, Access::ReadWrite);
        WriteToken {
            h: h.clone(),
            task: self.id,
        }
    }

    /// Declares a commuting update of `h` ([`Access::Commute`]): tasks of one group of
    /// consecutive commuting updates may run in any order, one at a time on `h`.
    pub fn commute<D: Send + Sync + 'static>(&mut self, h: &Handle<D>) -> CommuteToken<D> {
        self.add(h, Access::Commute);
        CommuteToken {
            h: h.clone(),
            task: self.id,
        }
    }

    /// Declares that `h` is overwritten without being read.
    pub fn write<D: Send + Sync + 'static>(&mut self, h: &Handle<D>) -> WriteToken<D> {
        self.add(h, Access::Write);
        WriteToken {
            h: h.clone(),
            task: self.id,
        }
    }

    /// Submits the task with its CPU implementation. Returns an error (and submits
    /// nothing) if the declared accesses conflict, or if the task belongs to another rank
    /// than any this runtime has.
    pub fn submit<F>(mut self, body: F) -> Result<()>
    where
        F: FnOnce(&TaskContext) -> Result<()> + Send + 'static,
    {
        self.check_many();
        if let Some(c) = self.conflict.take() {
            return Err(Error::Runtime(c));
        }
        let rt = &self.seq.rt;
        if let Some(rank) = self.rank {
            if rank >= rt.nranks() {
                return Err(Error::Runtime(format!(
                    "task '{}' is mapped to rank {} but the runtime has {} rank(s)",
                    self.kind,
                    rank,
                    rt.nranks()
                )));
            }
        }
        if rt.nranks() > 1 && !self.distribute()? {
            return Ok(());
        }
        let node = Arc::new(TaskNode {
            id: self.id,
            kind: self.kind,
            priority: self.priority,
            flops: self.flops,
            pending: AtomicUsize::new(1),
            state: Mutex::new(NodeState {
                done: false,
                succs: Vec::new(),
            }),
            body: Mutex::new(Some(Box::new(body))),
            seq: self.seq.inner.clone(),
            poisoned: AtomicBool::new(false),
            accesses: Mutex::new(self.accesses),
            comm: None,
        });
        rt.submit_node(node)
    }

    /// The distributed part of submission (owner computes): posts the transfers the task
    /// needs, records where its outputs now live, and says whether this rank runs it.
    fn distribute(&mut self) -> Result<bool> {
        let rt = &self.seq.rt;
        let (me, n) = (rt.rank(), rt.nranks());
        let runs = |r: usize| self.rank.is_none_or(|x| x == r);
        // Plan first, so that an error changes nothing. A write-only access on a rank
        // without the current version also fetches it (the data may be a placeholder).
        let mut plan: Vec<(usize, usize, usize)> = Vec::new();
        for (idx, (h, _)) in self.accesses.iter().enumerate() {
            let sh = h.shadow().lock().unwrap();
            if sh.local {
                continue;
            }
            for e in (0..n).filter(|&e| runs(e)) {
                if !sh.is_valid(e) {
                    if !h.can_travel() {
                        return Err(Error::Runtime(format!(
                            "task '{}' on rank {e} needs handle {} from rank {}, but its data \
                             cannot travel between ranks (create it with Handle::new_wire)",
                            self.kind,
                            h.id(),
                            sh.holder
                        )));
                    }
                    let id = h.id();
                    if !plan
                        .iter()
                        .any(|p| p.2 == e && self.accesses[p.0].0.id() == id)
                    {
                        plan.push((idx, sh.holder, e));
                    }
                }
            }
        }
        for &(idx, src, dest) in &plan {
            let h = self.accesses[idx].0.clone();
            let tag = rt.next_tag();
            if me == src {
                self.comm_task(CommOp::Send { dest, tag }, h.clone(), Access::Read)?;
            }
            if me == dest {
                self.comm_task(CommOp::Recv { src, tag }, h.clone(), Access::Write)?;
            }
            h.shadow().lock().unwrap().set(dest);
        }
        for (h, mode) in &self.accesses {
            if !mode.writes() {
                continue;
            }
            let mut sh = h.shadow().lock().unwrap();
            if sh.local {
                continue;
            }
            let had = sh.is_valid(me);
            sh.written_by(self.rank);
            if had && !sh.is_valid(me) && h.can_travel() {
                drop(sh);
                self.comm_task(CommOp::Evict, h.clone(), Access::Write)?;
            }
        }
        Ok(runs(me))
    }

    fn comm_task(&self, op: CommOp, handle: Arc<dyn AnyHandle>, mode: Access) -> Result<()> {
        submit_comm(self.seq, op, handle, mode, self.priority)
    }
}

/// Drops the copy of `h` this rank received, if it holds one and is not the rank that
/// wrote it last, and records on every rank that only that writer holds it now (the same
/// bookkeeping on every rank: every rank calls it at the same point of its submissions).
/// The drop waits for the tasks submitted before that read the copy here.
pub(crate) fn flush(seq: &Sequence, h: Arc<dyn AnyHandle>) -> Result<()> {
    let me = seq.rt.rank();
    if seq.rt.nranks() <= 1 {
        return Ok(());
    }
    let mut sh = h.shadow().lock().unwrap();
    // Scratch data, and data every rank wrote (each holds its own), are not copies.
    if sh.local || sh.valid.is_none() {
        return Ok(());
    }
    let holder = sh.holder;
    let mine = me != holder && sh.is_valid(me);
    *sh = super::dist::Shadow::on(holder);
    drop(sh);
    if mine && h.can_travel() {
        submit_comm(seq, CommOp::Evict, h, Access::Write, 0)?;
    }
    Ok(())
}

fn submit_comm(
    seq: &Sequence,
    op: CommOp,
    handle: Arc<dyn AnyHandle>,
    mode: Access,
    priority: i64,
) -> Result<()> {
    {
        let node = Arc::new(TaskNode {
            id: NEXT_TASK.fetch_add(1, Ordering::Relaxed),
            kind: match op {
                CommOp::Send { .. } => "send",
                CommOp::Recv { .. } => "recv",
                CommOp::Evict => "evict",
            },
            priority,
            flops: 0.0,
            pending: AtomicUsize::new(1),
            state: Mutex::new(NodeState {
                done: false,
                succs: Vec::new(),
            }),
            body: Mutex::new(None),
            seq: seq.inner.clone(),
            poisoned: AtomicBool::new(false),
            accesses: Mutex::new(vec![(handle, mode)]),
            comm: Some(op),
        });
        seq.rt.submit_node(node)
    }
}

/// Adds the edge `pred -> succ` unless `pred` already finished.
#[inline]
pub(crate) fn add_edge(pred: &Arc<TaskNode>, succ: &Arc<TaskNode>) {
    if Arc::ptr_eq(pred, succ) {
        return;
    }
    let mut st = pred.state.lock().unwrap();
    if !st.done {
        succ.pending.fetch_add(1, Ordering::Relaxed);
        st.succs.push(succ.clone());
    }
}

/// Registers `node`'s accesses in the per-handle state (sequential task flow): a read
/// depends on the last writer (or the last closed group of commuting updates); a write on
/// the readers since, or on the last writer if there were none; a commuting update on
/// whatever a write would depend on, but not on the other updates of its group.
pub(crate) fn infer_dependencies(node: &Arc<TaskNode>) {
    let accesses = node.accesses.lock().unwrap();
    for (h, mode) in accesses.iter() {
        let mut d = h.deps().lock().unwrap();
        let d = &mut *d;
        // Close an open group when the mode changes: a commuting group that starts after
        // reads follows those reads; anything else after a commuting group follows it.
        if *mode == Access::Commute {
            if !d.readers.is_empty() {
                d.last_writers = std::mem::take(&mut d.readers);
            }
        } else if !d.commuters.is_empty() {
            d.last_writers = std::mem::take(&mut d.commuters);
        }
        match mode {
            Access::Commute => {
                for w in &d.last_writers {
                    add_edge(w, node);
                }
                if d.commuters.len() >= 16 {
                    d.commuters.retain(|r| !r.is_done());
                }
                d.commuters.push(node.clone());
            }
            Access::Read => {
                for w in &d.last_writers {
                    add_edge(w, node);
                }
                // Drop finished readers so the list stays short under many reads.
                if d.readers.len() >= 16 {
                    d.readers.retain(|r| !r.is_done());
                }
                d.readers.push(node.clone());
            }
            Access::Write | Access::ReadWrite => {
                if d.readers.is_empty() {
                    for w in &d.last_writers {
                        add_edge(w, node);
                    }
                } else {
                    for r in d.readers.drain(..) {
                        add_edge(&r, node);
                    }
                }
                d.last_writers.clear();
                d.last_writers.push(node.clone());
            }
        }
        // A closed group of finished tasks need not be kept.
        if d.last_writers.len() >= 16 {
            d.last_writers.retain(|r| !r.is_done());
        }
    }
}

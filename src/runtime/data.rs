//! Registered data: handles, their replicas on memory nodes, and the per-handle state that
//! dependency inference needs (last writer, readers since).

use super::dist::{Shadow, Wire};
use super::task::TaskNode;
use crate::error::{Error, Result};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where a replica of a piece of data can live.
///
/// Only [`MemoryNode::Host`] exists today; GPU memories and copies cached from remote ranks
/// are the other nodes a handle is designed to track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryNode {
    /// Host RAM.
    Host,
    /// The memory of accelerator `n` of this process.
    Device(u16),
    /// A cached copy of data owned by another MPI rank.
    Remote(u32),
}

/// How a task touches a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read only.
    Read,
    /// Overwritten without being read.
    Write,
    /// Read and written.
    ReadWrite,
    /// Read and written by an update that commutes with the other `Commute` accesses of the
    /// same handle (StarPU's `STARPU_RW | STARPU_COMMUTE`): consecutive commuting tasks may run
    /// in any order, never two at once on this handle (the body takes the handle's lock
    /// through [`CommuteToken`](super::CommuteToken)); reads and writes are ordered before
    /// and after the whole group. Sparse factorizations use it for the updates that many
    /// column blocks add into one target.
    Commute,
}

impl Access {
    /// True for `Write`, `ReadWrite` and `Commute`.
    pub fn writes(self) -> bool {
        !matches!(self, Access::Read)
    }
    /// True for `Read`, `ReadWrite` and `Commute`.
    pub fn reads(self) -> bool {
        !matches!(self, Access::Write)
    }
}

/// Coherence state of one replica (MSI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// The only valid copy; it was written last.
    Modified,
    /// A valid copy; others may exist.
    Shared,
    /// Stale or absent.
    Invalid,
}

#[derive(Debug)]
pub(crate) struct Coherence {
    /// One entry per node that ever held a replica.
    pub(crate) replicas: Vec<(MemoryNode, ReplicaState)>,
}

impl Coherence {
    fn state(&self, node: MemoryNode) -> ReplicaState {
        self.replicas
            .iter()
            .find(|(n, _)| *n == node)
            .map_or(ReplicaState::Invalid, |r| r.1)
    }
}

/// Per-handle dependency state. `last_writers` is the set every next access must follow
/// (one writer, or a closed group of commuting tasks, or the readers a commuting group
/// started after); `readers` are the reads since; `commuters` the open commuting group.
pub(crate) struct DepState {
    pub(crate) last_writers: Vec<Arc<TaskNode>>,
    pub(crate) readers: Vec<Arc<TaskNode>>,
    pub(crate) commuters: Vec<Arc<TaskNode>>,
}

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

pub(crate) struct HandleInner<D> {
    pub(crate) id: u64,
    pub(crate) data: UnsafeCell<D>,
    pub(crate) deps: Mutex<DepState>,
    /// Held by a commuting task while it touches the data.
    pub(crate) commute_lock: Mutex<()>,
    pub(crate) coherence: Mutex<Coherence>,
    pub(crate) bytes: usize,
    /// Which ranks hold the current version (updated at submission, the same on every rank).
    pub(crate) shadow: Mutex<Shadow>,
    /// How the data travels between ranks, when it can.
    pub(crate) wire: Option<WireFns<D>>,
}

pub(crate) struct WireFns<D> {
    encode: fn(&D, &mut Vec<u8>),
    decode: fn(&mut D, &[u8]) -> Result<()>,
    evict: fn(&mut D),
}

fn wire_fns<D: Wire>() -> WireFns<D> {
    WireFns {
        encode: <D as Wire>::encode,
        decode: <D as Wire>::decode,
        evict: <D as Wire>::evict,
    }
}

// SAFETY: the data is only reached through access tokens whose use the runtime serialises
// according to the declared access modes (see `task.rs`), or through `Handle::get_mut`, which
// requires unique ownership of the handle. `D: Send` lets it move between worker threads and
// `D: Sync` lets concurrent readers share it.
unsafe impl<D: Send + Sync> Sync for HandleInner<D> {}
// SAFETY: as above; moving the cell moves `D`, which is `Send`.
unsafe impl<D: Send> Send for HandleInner<D> {}

/// A piece of data registered with the runtime (a tile, a pivot vector, a scalar...).
///
/// Tasks declare the handles they touch and how ([`Access`]); the runtime derives the
/// order between tasks from those declarations. Cloning a handle clones a reference.
pub struct Handle<D> {
    pub(crate) inner: Arc<HandleInner<D>>,
}

impl<D> Clone for Handle<D> {
    fn clone(&self) -> Self {
        Handle {
            inner: self.inner.clone(),
        }
    }
}

impl<D: Send + Sync + 'static> Handle<D> {
    /// Registers `data`, valid on the host. `bytes` is its size, used by traces and by the
    /// transfer cost models. Every rank is taken to hold the same value (each rank creates
    /// it identically); the data cannot travel between ranks (see [`Handle::new_wire`]).
    pub fn new(data: D, bytes: usize) -> Self {
        Self::build(data, bytes, Shadow::everywhere(), None)
    }

    /// Scratch space: every rank (and every task that declares it) uses its own copy, which
    /// never travels between ranks. Tasks touching it are still ordered on each rank.
    pub fn scratch(data: D, bytes: usize) -> Self {
        let mut sh = Shadow::everywhere();
        sh.local = true;
        Self::build(data, bytes, sh, None)
    }

    /// Like [`Handle::new`], for data that can travel between ranks when a task on another
    /// rank needs it.
    pub fn new_wire(data: D, bytes: usize) -> Self
    where
        D: Wire,
    {
        Self::build(data, bytes, Shadow::everywhere(), Some(wire_fns::<D>()))
    }

    /// Data whose valid value lives on `rank` only (the other ranks pass a placeholder,
    /// such as an empty tile): tasks elsewhere that read it receive it from there.
    pub fn new_on(data: D, bytes: usize, rank: usize) -> Self
    where
        D: Wire,
    {
        Self::build(data, bytes, Shadow::on(rank), Some(wire_fns::<D>()))
    }

    fn build(data: D, bytes: usize, shadow: Shadow, wire: Option<WireFns<D>>) -> Self {
        Handle {
            inner: Arc::new(HandleInner {
                id: NEXT_HANDLE.fetch_add(1, Ordering::Relaxed),
                data: UnsafeCell::new(data),
                deps: Mutex::new(DepState {
                    last_writers: Vec::new(),
                    readers: Vec::new(),
                    commuters: Vec::new(),
                }),
                commute_lock: Mutex::new(()),
                coherence: Mutex::new(Coherence {
                    replicas: vec![(MemoryNode::Host, ReplicaState::Modified)],
                }),
                bytes,
                shadow: Mutex::new(shadow),
                wire,
            }),
        }
    }

    /// A unique id of this handle.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Size in bytes, as registered.
    pub fn bytes(&self) -> usize {
        self.inner.bytes
    }

    /// Direct access when this is the only reference to the data and no task can touch it.
    /// Returns `None` if the handle is shared or tasks are still pending on it.
    pub fn get_mut(&mut self) -> Option<&mut D> {
        if !self.is_idle() {
            return None;
        }
        Arc::get_mut(&mut self.inner).map(|h| h.data.get_mut())
    }

    /// Takes the data out if this is the only reference and no task is pending on it.
    pub fn into_inner(self) -> std::result::Result<D, Handle<D>> {
        if !self.is_idle() {
            return Err(self);
        }
        match Arc::try_unwrap(self.inner) {
            Ok(h) => Ok(h.data.into_inner()),
            Err(inner) => Err(Handle { inner }),
        }
    }

    /// True when no submitted task that touches the handle is still unfinished.
    pub fn is_idle(&self) -> bool {
        let d = self.inner.deps.lock().unwrap();
        d.last_writers
            .iter()
            .chain(&d.readers)
            .chain(&d.commuters)
            .all(|t| t.is_done())
    }

    /// The coherence state of this handle's replica on `node`.
    pub fn replica_state(&self, node: MemoryNode) -> ReplicaState {
        self.inner.coherence.lock().unwrap().state(node)
    }
}

/// Type-erased view of a handle, as the task graph stores it.
pub(crate) trait AnyHandle: Send + Sync {
    fn id(&self) -> u64;
    fn bytes(&self) -> usize;
    fn deps(&self) -> &Mutex<DepState>;
    /// Makes the replica on `node` valid for `mode` before a task runs, and invalidates the
    /// others when the task writes.
    fn acquire(&self, node: MemoryNode, mode: Access) -> Result<()>;
    fn shadow(&self) -> &Mutex<Shadow>;
    fn can_travel(&self) -> bool;
    /// Encodes the data. Only called by a communication task holding read access.
    fn encode(&self, out: &mut Vec<u8>);
    /// Replaces the data. Only called by a communication task holding write access.
    fn decode(&self, bytes: &[u8]) -> Result<()>;
    /// Frees a stale copy. Only called by a task holding write access.
    fn evict(&self);
}

impl<D: Send + Sync> AnyHandle for HandleInner<D> {
    fn id(&self) -> u64 {
        self.id
    }
    fn bytes(&self) -> usize {
        self.bytes
    }
    fn deps(&self) -> &Mutex<DepState> {
        &self.deps
    }
    fn shadow(&self) -> &Mutex<Shadow> {
        &self.shadow
    }
    fn can_travel(&self) -> bool {
        self.wire.is_some()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        if let Some(w) = &self.wire {
            // SAFETY: called by a running communication task that declared a read of this
            // handle: dependency inference excludes concurrent writers.
            (w.encode)(unsafe { &*self.data.get() }, out)
        }
    }
    fn decode(&self, bytes: &[u8]) -> Result<()> {
        match &self.wire {
            // SAFETY: called by a running communication task that declared a write of this
            // handle: dependency inference excludes every other access meanwhile.
            Some(w) => (w.decode)(unsafe { &mut *self.data.get() }, bytes),
            None => Err(Error::Runtime(format!(
                "handle {} cannot travel between ranks",
                self.id
            ))),
        }
    }
    fn evict(&self) {
        if let Some(w) = &self.wire {
            // SAFETY: as for `decode`: the caller holds write access.
            (w.evict)(unsafe { &mut *self.data.get() })
        }
    }
    fn acquire(&self, node: MemoryNode, mode: Access) -> Result<()> {
        let mut c = self.coherence.lock().unwrap();
        if mode.reads() && c.state(node) == ReplicaState::Invalid {
            // A transfer engine (device copies, remote fetches) plugs in here. Only the host
            // exists today, and the host copy cannot become invalid without one.
            return Err(Error::Runtime(format!(
                "handle {} has no valid replica on {node:?} and no transfer path exists",
                self.id
            )));
        }
        if mode.writes() {
            for r in c.replicas.iter_mut() {
                r.1 = ReplicaState::Invalid;
            }
            match c.replicas.iter_mut().find(|(n, _)| *n == node) {
                Some(r) => r.1 = ReplicaState::Modified,
                None => c.replicas.push((node, ReplicaState::Modified)),
            }
        } else {
            let only = c
                .replicas
                .iter()
                .filter(|r| r.1 != ReplicaState::Invalid)
                .count()
                == 1;
            if let Some(r) = c.replicas.iter_mut().find(|(n, _)| *n == node) {
                if !(only && r.1 == ReplicaState::Modified) {
                    r.1 = ReplicaState::Shared;
                }
            }
        }
        Ok(())
    }
}

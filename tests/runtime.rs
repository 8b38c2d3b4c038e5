//! The task runtime alone: a randomized stress test of dependency inference against a
//! sequential re-execution (1 to 8 workers, several sequences, random priorities, small
//! submission windows), priorities, error propagation and panics, `wait_for`, access
//! declaration errors, handles, and tracing (Chrome JSON checked with a small parser).
//! Every test that could hang runs under a timeout so that a deadlock fails.

mod common;

use common::with_timeout;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tessera::runtime::{Handle, Runtime, RuntimeConfig, Sequence};
use tessera::Error;

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn rt_with(workers: usize, window: Option<usize>) -> Runtime {
    let mut cfg = RuntimeConfig::with_workers(workers);
    if let Some(w) = window {
        cfg.window = w;
    }
    Runtime::new(cfg)
}

// =======================================================================================
// Randomized stress test

/// The data of one handle: an order-sensitive value and the log of the tasks that wrote it.
#[derive(Clone, Debug, PartialEq, Default)]
struct Cell {
    value: u64,
    log: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Overwritten without being read.
    Write,
    /// Read and updated.
    ReadWrite,
}

#[derive(Clone, Debug)]
struct TaskSpec {
    id: u64,
    reads: Vec<usize>,
    writes: Vec<(usize, Mode)>,
    priority: i64,
    seq: usize,
    /// Spin a little inside the task to vary the interleavings.
    spin: u32,
}

fn update(cell: &mut Cell, mode: Mode, sum: u64, id: u64) {
    match mode {
        Mode::ReadWrite => {
            cell.value = cell
                .value
                .wrapping_mul(31)
                .wrapping_add(sum)
                .wrapping_add(id);
            cell.log.push(id);
        }
        Mode::Write => {
            cell.value = sum ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            cell.log = vec![id];
        }
    }
}

fn random_graph(rng: &mut Rng, handles: usize, tasks: usize, seqs: usize) -> Vec<TaskSpec> {
    (0..tasks)
        .map(|t| {
            let mut used = vec![false; handles];
            let mut pick = |rng: &mut Rng| loop {
                let h = rng.below(handles);
                if !used[h] {
                    used[h] = true;
                    return h;
                }
            };
            let nr = rng.below(4);
            let nw = 1 + rng.below(2);
            let reads = (0..nr).map(|_| pick(rng)).collect();
            let writes = (0..nw)
                .map(|_| {
                    let h = pick(rng);
                    (
                        h,
                        if rng.below(4) == 0 {
                            Mode::Write
                        } else {
                            Mode::ReadWrite
                        },
                    )
                })
                .collect();
            TaskSpec {
                id: t as u64 + 1,
                reads,
                writes,
                priority: rng.below(11) as i64 - 5,
                seq: rng.below(seqs),
                spin: if rng.below(8) == 0 { 200 } else { 0 },
            }
        })
        .collect()
}

fn initial(handles: usize) -> Vec<Cell> {
    (0..handles)
        .map(|h| Cell {
            value: h as u64 * 1000 + 7,
            log: Vec::new(),
        })
        .collect()
}

fn run_sequential(specs: &[TaskSpec], handles: usize) -> Vec<Cell> {
    let mut cells = initial(handles);
    for s in specs {
        let sum = s
            .reads
            .iter()
            .fold(0u64, |a, &h| a.wrapping_add(cells[h].value));
        for &(h, mode) in &s.writes {
            update(&mut cells[h], mode, sum, s.id);
        }
    }
    cells
}

fn run_tasks(rt: &Runtime, specs: &[TaskSpec], handles: usize, seqs: usize) -> Vec<Cell> {
    let hs: Vec<Handle<Cell>> = initial(handles)
        .into_iter()
        .map(|c| Handle::new(c, 8))
        .collect();
    let sequences: Vec<Sequence> = (0..seqs).map(|_| rt.sequence()).collect();
    for s in specs {
        let seq = &sequences[s.seq];
        let mut t = seq.task("stress").priority(s.priority);
        let reads: Vec<_> = s.reads.iter().map(|&h| t.read(&hs[h])).collect();
        let mut writes: Vec<_> = s
            .writes
            .iter()
            .map(|&(h, m)| {
                (
                    m,
                    if m == Mode::Write {
                        t.write(&hs[h])
                    } else {
                        t.read_write(&hs[h])
                    },
                )
            })
            .collect();
        let (id, spin) = (s.id, s.spin);
        t.submit(move |ctx| {
            let sum = reads
                .iter()
                .fold(0u64, |a, r| a.wrapping_add(r.get(ctx).value));
            for _ in 0..spin {
                std::hint::spin_loop();
            }
            for (mode, w) in writes.iter_mut() {
                update(w.get_mut(ctx), *mode, sum, id);
            }
            Ok(())
        })
        .unwrap();
    }
    for seq in &sequences {
        seq.wait().unwrap();
    }
    drop(sequences);
    hs.into_iter()
        .enumerate()
        .map(|(i, h)| {
            h.into_inner().unwrap_or_else(|_| {
                panic!("handle {i} is still shared after every sequence finished")
            })
        })
        .collect()
}

fn stress(workers: usize, window: Option<usize>, rounds: u64, tasks: usize) {
    let handles = 50;
    let seqs = 3;
    for round in 0..rounds {
        let mut rng = Rng(0x1234_5678_9abc_def1
            ^ (round + 1).wrapping_mul(0x9e37_79b9)
            ^ (workers as u64) << 40);
        let specs = random_graph(&mut rng, handles, tasks, seqs);
        let want = run_sequential(&specs, handles);
        let rt = rt_with(workers, window);
        let got = run_tasks(&rt, &specs, handles, seqs);
        for h in 0..handles {
            assert_eq!(got[h].log, want[h].log, "{workers} workers, window {window:?}, round {round}: writers of handle {h} ran out of order");
            assert_eq!(
                got[h].value, want[h].value,
                "{workers} workers, window {window:?}, round {round}: handle {h} has a wrong value"
            );
        }
    }
}

#[test]
fn stress_1_worker() {
    with_timeout(120, "stress, 1 worker", || stress(1, None, 5, 5000));
}
#[test]
fn stress_2_workers() {
    with_timeout(120, "stress, 2 workers", || stress(2, None, 5, 5000));
}
#[test]
fn stress_4_workers() {
    with_timeout(120, "stress, 4 workers", || stress(4, None, 5, 5000));
}
#[test]
fn stress_8_workers() {
    with_timeout(120, "stress, 8 workers", || stress(8, None, 5, 5000));
}
#[test]
fn stress_small_window() {
    with_timeout(120, "stress, small window", || {
        stress(1, Some(16), 2, 2000);
        stress(3, Some(16), 2, 2000);
        stress(8, Some(20), 2, 2000);
    });
}

/// Many reads of one handle between two writes (the reader list is pruned on the way).
#[test]
fn many_readers_between_writes() {
    with_timeout(60, "many readers", || {
        let rt = rt_with(4, None);
        let x = Handle::new(1u64, 8);
        let out: Vec<Handle<u64>> = (0..200).map(|_| Handle::new(0, 8)).collect();
        let seq = rt.sequence();
        for round in 0..5u64 {
            for (k, o) in out.iter().enumerate() {
                let mut t = seq.task("read");
                let r = t.read(&x);
                let mut w = t.read_write(o);
                t.submit(move |ctx| {
                    let v = *r.get(ctx);
                    *w.get_mut(ctx) += v * (k as u64 + 1);
                    Ok(())
                })
                .unwrap();
            }
            let mut t = seq.task("write");
            let mut w = t.read_write(&x);
            t.submit(move |ctx| {
                *w.get_mut(ctx) += round + 1;
                Ok(())
            })
            .unwrap();
        }
        seq.wait().unwrap();
        drop(seq);
        // x takes the values 1, 2, 4, 7, 11 during the five rounds.
        let total: u64 = [1u64, 2, 4, 7, 11].iter().sum();
        for (k, o) in out.into_iter().enumerate() {
            assert_eq!(
                o.into_inner().ok().unwrap(),
                total * (k as u64 + 1),
                "reader {k}"
            );
        }
        assert_eq!(x.into_inner().ok().unwrap(), 16);
    });
}

// =======================================================================================
// Priorities

/// Submits a task that blocks its worker until `gate` receives; returns once it runs.
fn submit_gate(seq: &Sequence, priority: i64) -> mpsc::Sender<()> {
    let (open_tx, open_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let t = seq.task("gate").priority(priority);
    t.submit(move |_| {
        started_tx.send(()).unwrap();
        open_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| Error::Runtime("gate never opened".into()))
    })
    .unwrap();
    started_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the gate task did not start");
    open_tx
}

#[test]
fn priorities_are_honoured() {
    with_timeout(60, "priorities", || {
        let rt = rt_with(1, None);
        let seq = rt.sequence();
        let gate = submit_gate(&seq, i64::MIN);
        let order = Arc::new(Mutex::new(Vec::new()));
        let prios: [i64; 10] = [3, -1, 10, 0, 7, 3, -20, 10, i64::MAX, i64::MIN + 1];
        for (k, &p) in prios.iter().enumerate() {
            let order = order.clone();
            seq.task("p")
                .priority(p)
                .submit(move |_| {
                    order.lock().unwrap().push(k);
                    Ok(())
                })
                .unwrap();
        }
        gate.send(()).unwrap();
        seq.wait().unwrap();
        // Highest priority first; ties in submission order.
        let mut want: Vec<usize> = (0..prios.len()).collect();
        want.sort_by_key(|&k| (std::cmp::Reverse(prios[k]), k));
        assert_eq!(*order.lock().unwrap(), want);
    });
}

/// Priorities never reorder conflicting accesses: a low-priority writer submitted first
/// still runs before a high-priority reader of the same handle.
#[test]
fn priorities_do_not_break_dependencies() {
    with_timeout(60, "priorities and dependencies", || {
        let rt = rt_with(1, None);
        let seq = rt.sequence();
        let gate = submit_gate(&seq, 0);
        let h = Handle::new(Vec::<u32>::new(), 8);
        for k in 0..20u32 {
            let mut t = seq.task("w").priority(k as i64 * 100 - 1000);
            let mut w = t.read_write(&h);
            t.submit(move |ctx| {
                w.get_mut(ctx).push(k);
                Ok(())
            })
            .unwrap();
        }
        gate.send(()).unwrap();
        seq.wait().unwrap();
        drop(seq);
        assert_eq!(h.into_inner().ok().unwrap(), (0..20).collect::<Vec<_>>());
    });
}

// =======================================================================================
// Errors and panics

#[test]
fn failing_task_skips_dependents_and_later_tasks() {
    with_timeout(60, "error propagation", || {
        let rt = rt_with(2, None);
        let h1 = Handle::new(0i64, 8);
        let h2 = Handle::new(0i64, 8);
        let h3 = Handle::new(0i64, 8);
        let seq = rt.sequence();
        // The failing task writes h1.
        let mut t = seq.task("fail");
        let mut w = t.write(&h1);
        t.submit(move |ctx| {
            *w.get_mut(ctx) = 1;
            Err(Error::Runtime("boom".into()))
        })
        .unwrap();
        // A dependent task (reads h1).
        let dep_ran = Arc::new(AtomicBool::new(false));
        let mut t = seq.task("dependent");
        let r = t.read(&h1);
        let mut w = t.write(&h2);
        let flag = dep_ran.clone();
        t.submit(move |ctx| {
            flag.store(true, Ordering::SeqCst);
            *w.get_mut(ctx) = *r.get(ctx) + 1;
            Ok(())
        })
        .unwrap();
        // Wait until the failure is recorded, then submit an independent task.
        let t0 = Instant::now();
        while seq.status().is_ok() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "the failure was never recorded"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let late_ran = Arc::new(AtomicBool::new(false));
        let mut t = seq.task("late");
        let mut w = t.write(&h3);
        let flag = late_ran.clone();
        t.submit(move |ctx| {
            flag.store(true, Ordering::SeqCst);
            *w.get_mut(ctx) = 5;
            Ok(())
        })
        .unwrap();
        assert_eq!(seq.wait(), Err(Error::Runtime("boom".into())));
        assert_eq!(
            seq.wait(),
            Err(Error::Runtime("boom".into())),
            "waiting again returns the error again"
        );
        assert!(
            !dep_ran.load(Ordering::SeqCst),
            "a task depending on the failed one ran"
        );
        assert!(
            !late_ran.load(Ordering::SeqCst),
            "a task submitted after the failure ran"
        );
        drop(seq);
        // A fresh sequence works, also on the handles of the failed sequence.
        let seq = rt.sequence();
        let mut t = seq.task("fresh");
        let mut w = t.read_write(&h1);
        let r = t.read(&h3);
        t.submit(move |ctx| {
            *w.get_mut(ctx) += 10 + *r.get(ctx);
            Ok(())
        })
        .unwrap();
        assert_eq!(seq.wait(), Ok(()));
        drop(seq);
        assert_eq!(h1.into_inner().ok().unwrap(), 11);
        assert_eq!(h2.into_inner().ok().unwrap(), 0);
    });
}

#[test]
fn panicking_task_becomes_an_error() {
    with_timeout(60, "panics", || {
        // One worker: it must survive the panic.
        let rt = rt_with(1, None);
        let seq = rt.sequence();
        let h = Handle::new(0u8, 1);
        let mut t = seq.task("panicky");
        let _w = t.read_write(&h);
        t.submit(|_| panic!("kaboom {}", 42)).unwrap();
        match seq.wait() {
            Err(Error::TaskPanicked { task, message }) => {
                assert_eq!(task, "panicky");
                assert!(message.contains("kaboom 42"), "message: {message}");
            }
            other => panic!("expected TaskPanicked, got {other:?}"),
        }
        drop(seq);
        // A static-str payload too.
        let seq = rt.sequence();
        seq.task("panicky2")
            .submit(|_| panic!("static message"))
            .unwrap();
        assert!(
            matches!(seq.wait(), Err(Error::TaskPanicked { task: "panicky2", ref message }) if message.contains("static message"))
        );
        drop(seq);
        // The worker still runs tasks.
        let seq = rt.sequence();
        let ran = Arc::new(AtomicBool::new(false));
        let r2 = ran.clone();
        seq.task("after")
            .submit(move |_| {
                r2.store(true, Ordering::SeqCst);
                Ok(())
            })
            .unwrap();
        assert_eq!(seq.wait(), Ok(()));
        assert!(ran.load(Ordering::SeqCst));
    });
}

/// A token used by another task than the one it was declared for panics, and the panic
/// becomes the sequence's error.
#[test]
fn token_used_in_another_task_is_an_error() {
    with_timeout(60, "token misuse", || {
        let rt = rt_with(2, None);
        let h = Handle::new(3u32, 4);
        let seq = rt.sequence();
        let mut t1 = seq.task("owner");
        let stolen = t1.read(&h);
        t1.submit(|_| Ok(())).unwrap();
        let t2 = seq.task("thief");
        t2.submit(move |ctx| {
            let _ = stolen.get(ctx);
            Ok(())
        })
        .unwrap();
        assert!(matches!(
            seq.wait(),
            Err(Error::TaskPanicked { task: "thief", .. })
        ));
    });
}

/// A task that depends on a failed task of *another* sequence is skipped; its own
/// sequence must then not report success as if the task had run.
#[test]
fn skipped_dependent_in_another_sequence_is_reported() {
    with_timeout(60, "cross-sequence failure", || {
        let rt = rt_with(2, None);
        let h = Handle::new(0i64, 8);
        let g = Handle::new(0i64, 8);
        let a = rt.sequence();
        let b = rt.sequence();
        // A gate that holds h, so that the failing task runs only after B's task is
        // submitted (and depends on it).
        let (open_tx, open_rx) = mpsc::channel::<()>();
        let mut t = a.task("gate");
        let _g = t.read_write(&h);
        t.submit(move |_| {
            open_rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| Error::Runtime("gate never opened".into()))
        })
        .unwrap();
        let mut t = a.task("fail");
        let _w = t.write(&h);
        t.submit(|_| Err(Error::Runtime("A failed".into())))
            .unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let mut t = b.task("dependent");
        let r = t.read(&h);
        let mut w = t.write(&g);
        let flag = ran.clone();
        t.submit(move |ctx| {
            flag.store(true, Ordering::SeqCst);
            *w.get_mut(ctx) = *r.get(ctx) + 1;
            Ok(())
        })
        .unwrap();
        open_tx.send(()).unwrap();
        assert!(a.wait().is_err());
        let rb = b.wait();
        assert!(
            rb.is_err() || ran.load(Ordering::SeqCst),
            "sequence B returned {rb:?} although its only task was skipped (it depended on a failed task of sequence A)"
        );
    });
}

// =======================================================================================
// wait_for, handles, access declarations

#[test]
fn wait_for_one_handle() {
    with_timeout(60, "wait_for", || {
        let rt = rt_with(2, None);
        let mut h1 = Handle::new(0u64, 8);
        let h2 = Handle::new(0u64, 8);
        let seq = rt.sequence();
        // A task that blocks on h2 until released.
        let (open_tx, open_rx) = mpsc::channel::<()>();
        let blocked_done = Arc::new(AtomicBool::new(false));
        let mut t = seq.task("blocked");
        let mut w = t.read_write(&h2);
        let flag = blocked_done.clone();
        t.submit(move |ctx| {
            open_rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| Error::Runtime("never released".into()))?;
            *w.get_mut(ctx) = 99;
            flag.store(true, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
        // A chain of updates of h1.
        for k in 1..=100u64 {
            let mut t = seq.task("inc");
            let mut w = t.read_write(&h1);
            t.submit(move |ctx| {
                let x = w.get_mut(ctx);
                *x = *x * 3 % 1_000_003 + k;
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(seq.wait_for(&h1), Ok(()));
        assert!(
            !blocked_done.load(Ordering::SeqCst),
            "wait_for waited for an unrelated task"
        );
        let want = (1..=100u64).fold(0u64, |x, k| x * 3 % 1_000_003 + k);
        assert_eq!(h1.get_mut().copied(), Some(want), "h1 after wait_for");
        open_tx.send(()).unwrap();
        assert_eq!(seq.wait(), Ok(()));
        assert!(blocked_done.load(Ordering::SeqCst));
    });
}

#[test]
fn wait_for_reports_the_error_of_a_failed_writer() {
    with_timeout(60, "wait_for error", || {
        let rt = rt_with(2, None);
        let h = Handle::new(0u64, 8);
        let seq = rt.sequence();
        let mut t = seq.task("fail");
        let _w = t.write(&h);
        t.submit(|_| Err(Error::Runtime("writer failed".into())))
            .unwrap();
        assert_eq!(
            seq.wait_for(&h),
            Err(Error::Runtime("writer failed".into()))
        );
    });
}

#[test]
fn handle_access_while_tasks_are_pending() {
    with_timeout(60, "handles", || {
        let rt = rt_with(1, None);
        let mut h = Handle::new(vec![1u8, 2, 3], 3);
        assert_eq!(h.get_mut().map(|v| v.len()), Some(3));
        let seq = rt.sequence();
        let gate = submit_gate(&seq, 0);
        let mut t = seq.task("w");
        let mut w = t.read_write(&h);
        t.submit(move |ctx| {
            w.get_mut(ctx).push(4);
            Ok(())
        })
        .unwrap();
        assert!(!h.is_idle());
        assert!(h.get_mut().is_none(), "get_mut while a task is pending");
        let clone = h.clone();
        gate.send(()).unwrap();
        seq.wait().unwrap();
        assert!(h.is_idle());
        let h = h.into_inner().expect_err("into_inner with a clone alive");
        drop(clone);
        assert_eq!(h.into_inner().ok(), Some(vec![1, 2, 3, 4]));
    });
}

#[test]
fn duplicate_declarations() {
    let rt = rt_with(2, None);
    let h = Handle::new(0u32, 4);
    let seq = rt.sequence();
    // A write among two declarations of one handle is refused.
    for (a, b) in [
        ("write", "read"),
        ("read", "write"),
        ("read_write", "read"),
        ("write", "write"),
        ("read_write", "read_write"),
    ] {
        let mut t = seq.task("dup");
        for m in [a, b] {
            match m {
                "read" => drop(t.read(&h)),
                "write" => drop(t.write(&h)),
                _ => drop(t.read_write(&h)),
            }
        }
        let r = t.submit(|_| Ok(()));
        assert!(matches!(r, Err(Error::Runtime(_))), "{a} + {b}: {r:?}");
    }
    // Two reads are fine.
    let mut t = seq.task("two reads");
    let (r1, r2) = (t.read(&h), t.read(&h));
    t.submit(move |ctx| {
        assert_eq!(*r1.get(ctx) + *r2.get(ctx), 0);
        Ok(())
    })
    .unwrap();
    assert_eq!(seq.wait(), Ok(()));
}

#[test]
fn task_for_another_rank_is_refused() {
    let rt = rt_with(1, None);
    let seq = rt.sequence();
    let r = seq.task("remote").on_rank(1).submit(|_| Ok(()));
    assert!(matches!(r, Err(Error::Runtime(_))), "{r:?}");
    assert_eq!(seq.wait(), Ok(()));
}

// =======================================================================================
// Submission window

#[test]
fn small_window_does_not_deadlock() {
    with_timeout(120, "small window", || {
        for workers in [1, 2, 4] {
            let rt = rt_with(workers, Some(16));
            let hs: Vec<Handle<u64>> = (0..4).map(|_| Handle::new(0, 8)).collect();
            let seq = rt.sequence();
            let count = Arc::new(AtomicUsize::new(0));
            for k in 0..5000u64 {
                let c = count.clone();
                if k % 3 == 0 {
                    // Independent.
                    seq.task("free")
                        .priority((k % 7) as i64)
                        .submit(move |_| {
                            c.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        })
                        .unwrap();
                } else {
                    let mut t = seq.task("chain");
                    let mut w = t.read_write(&hs[(k % 4) as usize]);
                    t.submit(move |ctx| {
                        let x = w.get_mut(ctx);
                        *x = x.wrapping_mul(7).wrapping_add(k);
                        c.fetch_add(1, Ordering::Relaxed);
                        Ok(())
                    })
                    .unwrap();
                }
            }
            seq.wait().unwrap();
            drop(seq);
            assert_eq!(count.load(Ordering::Relaxed), 5000, "{workers} workers");
            for (i, h) in hs.into_iter().enumerate() {
                let want = (0..5000u64)
                    .filter(|k| k % 3 != 0 && k % 4 == i as u64)
                    .fold(0u64, |x, k| x.wrapping_mul(7).wrapping_add(k));
                assert_eq!(
                    h.into_inner().ok().unwrap(),
                    want,
                    "{workers} workers, handle {i}"
                );
            }
        }
    });
}

/// Two threads submit at once into a runtime with a small window.
#[test]
fn small_window_two_submitters() {
    with_timeout(120, "small window, two submitters", || {
        let rt = Arc::new(rt_with(2, Some(16)));
        let threads: Vec<_> = (0..2u64)
            .map(|th| {
                let rt = rt.clone();
                std::thread::spawn(move || {
                    let h = Handle::new(0u64, 8);
                    let seq = rt.sequence();
                    for k in 0..3000u64 {
                        let mut t = seq.task("chain");
                        let mut w = t.read_write(&h);
                        t.submit(move |ctx| {
                            *w.get_mut(ctx) += k + th;
                            Ok(())
                        })
                        .unwrap();
                    }
                    seq.wait().unwrap();
                    drop(seq);
                    h.into_inner().ok().unwrap()
                })
            })
            .collect();
        for (th, t) in threads.into_iter().enumerate() {
            assert_eq!(
                t.join().unwrap(),
                (0..3000u64).sum::<u64>() + 3000 * th as u64
            );
        }
    });
}

/// A sequence can outlive its runtime value; submitting into it afterwards must fail or
/// run, not hang.
#[test]
fn submitting_after_the_runtime_is_dropped_does_not_hang() {
    with_timeout(10, "submit after drop", || {
        let rt = rt_with(2, None);
        let seq = rt.sequence();
        drop(rt);
        let ran = Arc::new(AtomicBool::new(false));
        let r2 = ran.clone();
        let submitted = seq.task("orphan").submit(move |_| {
            r2.store(true, Ordering::SeqCst);
            Ok(())
        });
        if submitted.is_ok() {
            let w = seq.wait();
            assert!(
                w.is_err() || ran.load(Ordering::SeqCst),
                "wait returned {w:?} without running the task"
            );
        }
    });
}

// =======================================================================================
// Tracing

/// A minimal JSON value and parser (enough to validate the Chrome trace export).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at {}", p.i));
        }
        Ok(v)
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(v));
                }
                loop {
                    self.ws();
                    let k = match self.value()? {
                        Json::Str(k) => k,
                        other => return Err(format!("object key {other:?} at {}", self.i)),
                    };
                    self.eat(b':')?;
                    v.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(v));
                        }
                        _ => return Err(format!("expected ',' or '}}' at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        _ => return Err(format!("expected ',' or ']' at {}", self.i)),
                    }
                }
            }
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err("unterminated string".into()),
                        Some(b'"') => {
                            self.i += 1;
                            return String::from_utf8(out)
                                .map(Json::Str)
                                .map_err(|e| e.to_string());
                        }
                        Some(b'\\') => {
                            let c = *self.s.get(self.i + 1).ok_or("bad escape")?;
                            self.i += 2;
                            match c {
                                b'"' | b'\\' | b'/' => out.push(c),
                                b'n' => out.push(b'\n'),
                                b't' => out.push(b'\t'),
                                b'r' => out.push(b'\r'),
                                b'b' => out.push(8),
                                b'f' => out.push(12),
                                b'u' => {
                                    let hex = std::str::from_utf8(
                                        self.s.get(self.i..self.i + 4).ok_or("bad \\u")?,
                                    )
                                    .map_err(|e| e.to_string())?;
                                    let cp =
                                        u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                    self.i += 4;
                                    let ch = char::from_u32(cp).ok_or("bad code point")?;
                                    out.extend_from_slice(ch.to_string().as_bytes());
                                }
                                _ => {
                                    return Err(format!("bad escape \\{} at {}", c as char, self.i))
                                }
                            }
                        }
                        Some(&c) if c < 0x20 => {
                            return Err(format!("control character in string at {}", self.i))
                        }
                        Some(&c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
            }
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let st = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || b".eE+-".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[st..self.i]).unwrap();
                // JSON numbers: no leading '+', no bare '.', no "inf"/"NaN".
                let ok = t
                    .bytes()
                    .next()
                    .is_some_and(|b| b == b'-' || b.is_ascii_digit())
                    && !t.ends_with('.')
                    && !t.contains(".e");
                match t.parse::<f64>() {
                    Ok(v) if ok && v.is_finite() => Ok(Json::Num(v)),
                    _ => Err(format!("bad number {t:?} at {st}")),
                }
            }
            other => Err(format!(
                "unexpected {:?} at {}",
                other.map(|&c| c as char),
                self.i
            )),
        }
    }
}

#[test]
fn json_parser_self_check() {
    let v = Parser::parse(r#"{"a":[1,-2.5e3,{"b":"x\"y\\z\u0041"}],"c":true,"d":null}"#).unwrap();
    assert_eq!(v.get("c"), Some(&Json::Bool(true)));
    match v.get("a") {
        Some(Json::Arr(items)) => {
            assert_eq!(items[2].get("b"), Some(&Json::Str("x\"y\\zA".into())))
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        r#"{"a":1,}"#,
        r#"{"a":"b"c"}"#,
        r#"{"a":NaN}"#,
        r#"{"a":inf}"#,
        "[1 2]",
        r#"{"a":"x"#,
    ] {
        assert!(Parser::parse(bad).is_err(), "accepted {bad}");
    }
}

fn run_traced_tasks(rt: &Runtime, kinds: &[(&'static str, usize, f64)]) {
    let seq = rt.sequence();
    let h = Handle::new(0u64, 64);
    for &(kind, count, flops) in kinds {
        for _ in 0..count {
            let mut t = seq.task(kind).flops(flops);
            let mut w = t.read_write(&h);
            t.submit(move |ctx| {
                *w.get_mut(ctx) += 1;
                std::thread::sleep(Duration::from_micros(50));
                Ok(())
            })
            .unwrap();
        }
    }
    seq.wait().unwrap();
}

#[test]
fn tracing() {
    with_timeout(60, "tracing", || {
        let rt = Runtime::new(RuntimeConfig::with_workers(2).trace(true));
        run_traced_tasks(&rt, &[("alpha", 50, 1.0e6), ("beta", 30, 2.5)]);
        let trace = rt.take_trace();
        assert_eq!(trace.workers, 2);
        assert_eq!(trace.events.len(), 80);
        assert_eq!(
            trace.events.iter().filter(|e| e.kind == "alpha").count(),
            50
        );
        for e in &trace.events {
            assert!(e.worker < 2 && e.start <= e.end && e.bytes == 64, "{e:?}");
        }
        let busy = trace.busy_fraction();
        assert!(busy > 0.0 && busy <= 1.0 + 1e-9, "busy fraction {busy}");
        assert!(trace.span() > 0.0);

        // Chrome JSON: valid, one complete event per task.
        let json =
            Parser::parse(&trace.to_chrome_json()).unwrap_or_else(|e| panic!("invalid JSON: {e}"));
        let events = match json.get("traceEvents") {
            Some(Json::Arr(v)) => v.clone(),
            other => panic!("no traceEvents array: {other:?}"),
        };
        assert_eq!(events.len(), 80);
        let mut names = std::collections::BTreeMap::new();
        for e in &events {
            assert_eq!(e.get("ph"), Some(&Json::Str("X".into())));
            match (e.get("name"), e.get("tid"), e.get("ts"), e.get("dur")) {
                (
                    Some(Json::Str(n)),
                    Some(Json::Num(tid)),
                    Some(Json::Num(ts)),
                    Some(Json::Num(dur)),
                ) => {
                    *names.entry(n.clone()).or_insert(0) += 1;
                    assert!(*tid < 2.0 && *ts >= 0.0 && *dur >= 0.0, "{e:?}");
                }
                _ => panic!("malformed event {e:?}"),
            }
        }
        assert_eq!(names.get("alpha"), Some(&50));
        assert_eq!(names.get("beta"), Some(&30));

        // Summary line.
        let s = trace.summary();
        assert!(s.contains("80 tasks"), "{s}");
        assert!(s.contains("busy") && s.contains('%'), "{s}");
        assert!(s.contains("alpha") && s.contains("beta"), "{s}");

        // take_trace clears; set_tracing(false) stops recording.
        assert!(rt.take_trace().events.is_empty());
        rt.set_tracing(false);
        run_traced_tasks(&rt, &[("gamma", 5, 0.0)]);
        assert!(rt.take_trace().events.is_empty());
        rt.set_tracing(true);
        run_traced_tasks(&rt, &[("delta", 5, 0.0)]);
        assert_eq!(rt.take_trace().events.len(), 5);
    });
}

#[test]
fn tracing_off_by_default_records_nothing() {
    let mut cfg = RuntimeConfig::with_workers(2);
    cfg.trace = false;
    let rt = Runtime::new(cfg);
    run_traced_tasks(&rt, &[("x", 10, 0.0)]);
    let t = rt.take_trace();
    assert!(t.events.is_empty());
    assert!(
        Parser::parse(&t.to_chrome_json()).is_ok(),
        "empty trace JSON"
    );
    assert!(t.summary().contains("0 tasks"));
}

/// Task kinds are arbitrary `&'static str`s: the JSON export must escape them.
#[test]
fn trace_json_escapes_task_kinds() {
    let rt = Runtime::new(RuntimeConfig::with_workers(1).trace(true));
    let kind = "quote\" back\\slash";
    run_traced_tasks(&rt, &[(kind, 2, 1.0)]);
    let json = rt.take_trace().to_chrome_json();
    let v = Parser::parse(&json).unwrap_or_else(|e| panic!("invalid JSON ({e}): {json}"));
    match v.get("traceEvents") {
        Some(Json::Arr(ev)) => assert_eq!(ev[0].get("name"), Some(&Json::Str(kind.into()))),
        other => panic!("{other:?}"),
    }
}

// =======================================================================================
// Commuting updates

/// Random programs of reads (which record what they see), commuting additions and
/// overwrites on a few handles: every read must see what a sequential execution sees, and
/// the final values must agree, on 1 to 4 workers. Additions commute, so any order inside a
/// group is correct, but a read or an overwrite inside a group would not be.
#[test]
fn commuting_updates_agree_with_sequential_execution() {
    with_timeout(120, "commute stress", || {
        #[derive(Clone, Copy)]
        enum Op {
            Read(usize),
            Add(usize, u64),
            Set(usize, u64),
        }
        for workers in [1, 2, 4] {
            let mut rng = Rng(0x1234_5678 + workers as u64);
            for _round in 0..20 {
                let nh = 1 + rng.below(3);
                let ops: Vec<Op> = (0..300)
                    .map(|_| {
                        let h = rng.below(nh);
                        match rng.below(10) {
                            0 | 1 => Op::Read(h),
                            2 => Op::Set(h, rng.next() % 1000),
                            _ => Op::Add(h, 1 + rng.next() % 1000),
                        }
                    })
                    .collect();
                // Sequential reference.
                let mut vals = vec![0u64; nh];
                let mut seen_ref = Vec::new();
                for op in &ops {
                    match *op {
                        Op::Read(h) => seen_ref.push(vals[h]),
                        Op::Add(h, v) => vals[h] += v,
                        Op::Set(h, v) => vals[h] = v,
                    }
                }
                let rt = rt_with(workers, None);
                let handles: Vec<Handle<u64>> = (0..nh).map(|_| Handle::new(0u64, 8)).collect();
                let seen = Arc::new(Mutex::new(vec![u64::MAX; seen_ref.len()]));
                let seq = rt.sequence();
                let mut nread = 0;
                for op in &ops {
                    match *op {
                        Op::Read(h) => {
                            let mut t = seq.task("read");
                            let r = t.read(&handles[h]);
                            let seen = seen.clone();
                            let slot = nread;
                            nread += 1;
                            t.submit(move |ctx| {
                                std::thread::yield_now();
                                seen.lock().unwrap()[slot] = *r.get(ctx);
                                Ok(())
                            })
                            .unwrap();
                        }
                        Op::Add(h, v) => {
                            let mut t = seq.task("add");
                            let mut c = t.commute(&handles[h]);
                            t.submit(move |ctx| {
                                c.with(ctx, |x| {
                                    let old = *x;
                                    std::thread::yield_now();
                                    *x = old + v;
                                });
                                Ok(())
                            })
                            .unwrap();
                        }
                        Op::Set(h, v) => {
                            let mut t = seq.task("set");
                            let mut w = t.write(&handles[h]);
                            t.submit(move |ctx| {
                                *w.get_mut(ctx) = v;
                                Ok(())
                            })
                            .unwrap();
                        }
                    }
                }
                seq.wait().unwrap();
                assert_eq!(*seen.lock().unwrap(), seen_ref, "{workers} workers");
                for (h, v) in handles.into_iter().zip(vals) {
                    assert_eq!(h.into_inner().ok().unwrap(), v);
                }
            }
        }
    });
}

/// Commuting updates of one handle do not wait for each other: two of them rendezvous
/// inside their bodies (before taking the lock), which would hang if they were ordered.
#[test]
fn commuting_updates_run_concurrently() {
    with_timeout(30, "commute concurrency", || {
        let rt = rt_with(2, None);
        let h = Handle::new(0u64, 8);
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let seq = rt.sequence();
        for _ in 0..2 {
            let mut t = seq.task("add");
            let mut c = t.commute(&h);
            let b = barrier.clone();
            t.submit(move |ctx| {
                b.wait();
                c.with(ctx, |x| *x += 1);
                Ok(())
            })
            .unwrap();
        }
        seq.wait().unwrap();
        assert_eq!(h.into_inner().ok().unwrap(), 2);
    });
}

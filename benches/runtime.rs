//! Runtime overhead: empty-task throughput with dependency tracking, dependency chains,
//! wide fan-out. Prints tasks per second for each case.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::runtime::{Handle, Runtime, RuntimeConfig};

const TASKS: usize = 20_000;

/// Independent empty tasks, each reading one of 64 handles and writing another (so every
/// task goes through dependency inference).
fn empty_tasks(rt: &Runtime, hs: &[Handle<u64>]) {
    let seq = rt.sequence();
    for i in 0..TASKS {
        let mut t = seq.task("empty");
        let _r = t.read(&hs[i % 64]);
        let _w = t.read_write(&hs[64 + i % 64]);
        t.submit(|_| Ok(())).unwrap();
    }
    seq.wait().unwrap();
}

/// One chain: every task read-writes the same handle.
fn chain(rt: &Runtime, h: &Handle<u64>) {
    let seq = rt.sequence();
    for _ in 0..TASKS {
        let mut t = seq.task("chain");
        let mut w = t.read_write(h);
        t.submit(move |ctx| {
            *w.get_mut(ctx) += 1;
            Ok(())
        })
        .unwrap();
    }
    seq.wait().unwrap();
}

/// Fan-out: one writer, then many readers of its handle, each writing its own output.
fn fan_out(rt: &Runtime, src: &Handle<u64>, outs: &[Handle<u64>]) {
    let seq = rt.sequence();
    let mut t = seq.task("root");
    let mut w = t.read_write(src);
    t.submit(move |ctx| {
        *w.get_mut(ctx) += 1;
        Ok(())
    })
    .unwrap();
    for o in outs {
        let mut t = seq.task("leaf");
        let r = t.read(src);
        let mut w = t.write(o);
        t.submit(move |ctx| {
            *w.get_mut(ctx) = *r.get(ctx);
            Ok(())
        })
        .unwrap();
    }
    seq.wait().unwrap();
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new(RuntimeConfig::with_workers(2));
    let hs: Vec<Handle<u64>> = (0..128).map(|_| Handle::new(0, 8)).collect();
    let mut g = c.benchmark_group("runtime");
    g.throughput(Throughput::Elements(TASKS as u64));
    g.bench_function("empty_tasks_2_workers", |b| {
        b.iter(|| empty_tasks(&rt, &hs))
    });
    g.bench_function("dependency_chain_2_workers", |b| {
        b.iter(|| chain(&rt, &hs[0]))
    });
    let outs: Vec<Handle<u64>> = (0..TASKS).map(|_| Handle::new(0, 8)).collect();
    g.bench_function("fan_out_2_workers", |b| {
        b.iter(|| fan_out(&rt, &hs[1], &outs))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Prints the runtime's empty-task throughput with dependency tracking (2 workers).
use std::time::Instant;
use tessera::runtime::{Handle, Runtime, RuntimeConfig};
fn main() {
    let rt = Runtime::new(RuntimeConfig::with_workers(2));
    let hs: Vec<Handle<u64>> = (0..128).map(|_| Handle::new(0, 8)).collect();
    for _ in 0..3 {
        let n = 200_000;
        let t = Instant::now();
        let seq = rt.sequence();
        for i in 0..n {
            let mut tb = seq.task("empty");
            let _r = tb.read(&hs[i % 64]);
            let _w = tb.read_write(&hs[64 + i % 64]);
            tb.submit(|_| Ok(())).unwrap();
        }
        seq.wait().unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "{n} empty tasks (1 read + 1 read-write each) on 2 workers: {:.0} tasks/s",
            n as f64 / s
        );
    }
}

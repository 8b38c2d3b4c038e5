//! Execution traces: one event per task, Chrome/Perfetto JSON export, summaries.

use super::data::MemoryNode;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One executed task.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    /// Task kind ("gemm", "potrf"...).
    pub kind: &'static str,
    /// Worker index.
    pub worker: usize,
    /// Memory node the task ran on.
    pub node: MemoryNode,
    /// Start, seconds since the runtime started.
    pub start: f64,
    /// End, seconds since the runtime started.
    pub end: f64,
    /// The task's flop estimate.
    pub flops: f64,
    /// Bytes of data the task touched.
    pub bytes: usize,
}

/// The events recorded by a runtime.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Events in completion order.
    pub events: Vec<TraceEvent>,
    /// Number of workers of the runtime.
    pub workers: usize,
}

impl Trace {
    /// Wall-clock span from the first start to the last end.
    pub fn span(&self) -> f64 {
        let s = self
            .events
            .iter()
            .map(|e| e.start)
            .fold(f64::INFINITY, f64::min);
        let e = self
            .events
            .iter()
            .map(|e| e.end)
            .fold(f64::NEG_INFINITY, f64::max);
        if self.events.is_empty() {
            0.0
        } else {
            e - s
        }
    }

    /// Fraction of worker time spent in tasks over the span.
    pub fn busy_fraction(&self) -> f64 {
        let span = self.span();
        if span <= 0.0 || self.workers == 0 {
            return 0.0;
        }
        let busy: f64 = self.events.iter().map(|e| e.end - e.start).sum();
        busy / (span * self.workers as f64)
    }

    /// One line: tasks, span, busy %, idle %, and the three kinds that took most time.
    pub fn summary(&self) -> String {
        let busy = self.busy_fraction() * 100.0;
        let mut per: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
        for e in &self.events {
            let x = per.entry(e.kind).or_default();
            x.0 += 1;
            x.1 += e.end - e.start;
        }
        let mut kinds: Vec<_> = per.into_iter().collect();
        kinds.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
        let mut s = format!(
            "trace: {} tasks on {} workers, span {:.3} s, busy {:.1}%, idle {:.1}%",
            self.events.len(),
            self.workers,
            self.span(),
            busy,
            100.0 - busy
        );
        for (k, (n, t)) in kinds.iter().take(3) {
            let _ = write!(s, "; {k} x{n} {t:.3} s");
        }
        s
    }

    /// Chrome trace-event JSON (open in Perfetto or chrome://tracing): one complete event
    /// ("ph": "X") per task, one row per worker, times in microseconds.
    pub fn to_chrome_json(&self) -> String {
        let mut s = String::from("{\"traceEvents\":[");
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"name\":\"{}\",\"cat\":\"task\",\"ph\":\"X\",\"pid\":0,\"tid\":{},\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"flops\":{},\"bytes\":{},\"node\":\"{:?}\"}}}}",
                json_escape(e.kind),
                e.worker,
                e.start * 1e6,
                (e.end - e.start) * 1e6,
                e.flops,
                e.bytes,
                e.node
            );
        }
        s.push_str("],\"displayTimeUnit\":\"ms\"}");
        s
    }
}

/// Escapes a string for a JSON string literal.
fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

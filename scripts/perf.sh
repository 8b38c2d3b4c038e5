#!/usr/bin/env bash
# Side-by-side performance of Tessera against faer and the system LAPACK (OpenBLAS), the
# figures of the README's table. Each line is one `tessera bench ... --compare X` process:
# Tessera and the baseline run on the same matrix in the same process, best of REPEAT.
#   scripts/perf.sh [N_LARGE] [N_SMALL] [REPEAT]     (defaults 8000 2000 2)
set -euo pipefail
cd "$(dirname "$0")/.."
NL=${1:-8000}; NS=${2:-2000}; R=${3:-2}; T=${THREADS:-2}
cargo build --release --quiet
B=./target/release/tessera
run() { "$B" bench "$@" --threads "$T" --repeat "$R" --json 2>/dev/null; }
{
  for k in faer blas; do
    run potrf --n "$NL" --kernels $k --compare faer
    run potrf --n "$NL" --kernels $k --compare lapack
    run potrf --n "$NS" --kernels $k --compare faer
    run getrf --n "$NL" --kernels $k --compare faer
    run getrf --n "$NL" --kernels $k --compare lapack
    run getrf_nopiv --n "$NL" --kernels $k
    run geqrf --n "$NL" --kernels $k --compare faer
    run geqrf --n "$NL" --kernels $k --compare lapack
    run gemm --n "$NS" --kernels $k --compare faer
  done
} | tee /tmp/tessera-perf.jsonl | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
print("| op | n | nb | tile kernels | Tessera s | Tessera GFLOP/s | baseline | baseline s | baseline GFLOP/s | Tessera / baseline |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    b = r.get("baseline")
    print("| {op} | {n} | {nb} | {k} | {s:.3f} | {g:.1f} | {bn} | {bs} | {bg} | {ratio} |".format(
        op=r["op"], n=r["n"], nb=r["nb"], k=r["kernels"], s=r["seconds"], g=r["gflops"],
        bn=b["name"] if b else "-", bs="%.3f" % b["seconds"] if b else "-",
        bg="%.1f" % b["gflops"] if b else "-", ratio="%.3fx" % r["ratio"] if b else "-"))
'
cargo run --release --quiet --example task_rate

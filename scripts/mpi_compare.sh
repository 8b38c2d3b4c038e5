#!/usr/bin/env bash
# Distributed scaling on one machine, in one script run: potrf and getrf at N (default 8000)
# on 1 rank x 2 workers against 2 ranks x 1 worker (1x2 grid), plus the bytes SBC and 2D
# block-cyclic Cholesky send on 3 ranks. Needs a build with --features mpi.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-8000}
REPEAT=${REPEAT:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
bin=target/release/tessera
for op in potrf getrf; do
  one=$(mpirun --bind-to none -np 1 $bin bench $op --n "$N" --grid 1x1 --threads 2 --repeat "$REPEAT" --json 2>/dev/null | grep '^{')
  two=$(mpirun --bind-to none -np 2 $bin bench $op --n "$N" --grid 1x2 --threads 1 --repeat "$REPEAT" --json 2>/dev/null | grep '^{')
  echo "$op 1 rank x 2 workers: $one"
  echo "$op 2 ranks x 1 worker: $two"
  python3 - "$one" "$two" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"  {a['op']}: (2 ranks x 1 worker) / (1 rank x 2 workers) = {b['gflops'] / a['gflops']:.3f} ({b['gflops']:.2f} vs {a['gflops']:.2f} Gflop/s)")
PY
done
N3=${N3:-4000}
for d in 2dbc sbc; do
  mpirun --bind-to none -np 3 $bin bench potrf --n "$N3" --grid 1x3 --dist $d --threads 1 --json 2>/dev/null | grep '^{'
done

#!/usr/bin/env bash
# Distributed scaling on one machine, in one script run: potrf and getrf at N (default 8000)
# on 1 rank x 2 workers against 2 ranks x 1 worker (1x2 grid), getrf on a 2x1 grid, the
# ScaLAPACK anchor on the same grids, plus the bytes SBC and 2D block-cyclic Cholesky send
# on 3 ranks. Needs a build with --features mpi.
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
# LU on a tall grid: the pivot search is a reduction across the 2 ranks of every column.
echo "getrf 2 ranks x 1 worker, 2x1 grid: $(mpirun --bind-to none -np 2 $bin bench getrf --n "$N" \
  --grid 2x1 --threads 1 --repeat "$REPEAT" --json 2>/dev/null | grep '^{')"
# ScaLAPACK's pdpotrf and pdgetrf on the same 1x2 grid (one OpenBLAS thread per rank),
# next to Tessera on the same grid with its default tile kernels and with the same OpenBLAS
# as tile kernels (TESSERA_KERNELS=blas). Needs mpicc, libscalapack-openmpi-dev and the
# anchor's source in ../shared/anchors/dense/.
SRC=../shared/anchors/dense/scalapack_bench.c
if command -v mpicc >/dev/null && [ -f "$SRC" ]; then
  mkdir -p target/anchors
  if mpicc -O2 "$SRC" -o target/anchors/scalapack_bench -lscalapack-openmpi -lopenblas -lm 2>/dev/null; then
    for nb in 128 192; do
      OPENBLAS_NUM_THREADS=1 mpirun --bind-to none -np 2 -x OPENBLAS_NUM_THREADS \
        target/anchors/scalapack_bench -P 1 -Q 2 -nb $nb -r "$REPEAT" "$N" | grep '^pd'
    done
    echo "ScaLAPACK on 2x1, NB 128:"
    OPENBLAS_NUM_THREADS=1 mpirun --bind-to none -np 2 -x OPENBLAS_NUM_THREADS \
      target/anchors/scalapack_bench -P 2 -Q 1 -nb 128 -r "$REPEAT" "$N" | grep '^pdgetrf'
    for op in potrf getrf; do
      for k in faer blas; do
        echo "tessera $op 1x2 kernels=$k: $(OPENBLAS_NUM_THREADS=1 mpirun --bind-to none -np 2 \
          -x OPENBLAS_NUM_THREADS -x TESSERA_KERNELS=$k $bin bench $op --n "$N" --grid 1x2 \
          --threads 1 --repeat "$REPEAT" --json 2>/dev/null | grep '^{')"
      done
    done
  else
    echo "ScaLAPACK anchor: cannot build (libscalapack-openmpi-dev missing?)"
  fi
fi
N3=${N3:-4000}
for d in 2dbc sbc; do
  mpirun --bind-to none -np 3 $bin bench potrf --n "$N3" --grid 1x3 --dist $d --threads 1 --json 2>/dev/null | grep '^{'
done

#!/usr/bin/env bash
# tessera-hpl against the reference HPL (hpcc's HPLinpack, Debian package hpcc, linked to
# the system OpenBLAS), same N, NB and process grid, in one run of this script.
#
#   scripts/hpl_compare.sh [N...]          (default N = 8000; NB list: NBS="192 256")
#
# For each NB the reference runs as ../shared/anchors/dense ran it: 2 MPI ranks on a 1 x 2
# grid with one OpenBLAS thread each (GRID=1x2, default), or one rank with 2 OpenBLAS
# threads on 1 x 1 (GRID=1x1). tessera-hpl runs one process on all cores (P x Q = 1 x 1)
# with the system BLAS as tile kernels and, for information, with faer's; with GRID=1x2
# and OpenMPI's headers present it also runs on the reference's grid (2 ranks x 1 worker,
# system BLAS kernels). Prints each Gflops, the ratio tessera / reference, and the
# fraction of the DGEMM peak hpcc measured (StarDGEMM per rank x ranks).
# hpcc runs its whole suite (PTRANS, STREAM, FFT, ...) before HPL: a few minutes per call.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${*:-8000}
NBS=${NBS:-192 256}
GRID=${GRID:-1x2}
REPS=${REPS:-1}

if ! command -v hpcc >/dev/null || ! command -v mpirun >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hpcc openmpi-bin libopenblas0-pthread >/dev/null
  else
    echo "hpl_compare.sh: needs hpcc and mpirun (apt-get install hpcc openmpi-bin)" >&2
    exit 1
  fi
fi
MPI_BUILD=0
if [ "$GRID" = 1x2 ] && dpkg-query -W -f='${Status}' libopenmpi-dev 2>/dev/null | grep -q "install ok installed"; then
  # Without a launcher the MPI build runs 1 x 1 in one process, like the plain one.
  cargo build --release -q --features mpi --bin tessera-hpl && MPI_BUILD=1
else
  cargo build --release -q --bin tessera-hpl
fi
BIN=$PWD/target/release/tessera-hpl
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

dat() { # dat P Q -> HPL.dat text on stdout (plus hpcc's 4 PTRANS lines, ignored by tessera-hpl)
  cat <<DAT
HPLinpack benchmark input file
Innovative Computing Laboratory, University of Tennessee
HPL.out      output file name (if any)
6            device out (6=stdout,7=stderr,file)
$(wc -w <<<"$NS")            # of problems sizes (N)
$NS          Ns
$(wc -w <<<"$NBS")            # of NBs
$NBS         NBs
0            PMAP process mapping (0=Row-,1=Column-major)
1            # of process grids (P x Q)
$1            Ps
$2            Qs
16.0         threshold
1            # of panel fact
2            PFACTs (0=left, 1=Crout, 2=Right)
1            # of recursive stopping criterium
4            NBMINs (>= 1)
1            # of panels in recursion
2            NDIVs
1            # of recursive panel fact.
1            RFACTs (0=left, 1=Crout, 2=Right)
1            # of broadcast
1            BCASTs (0=1rg,1=1rM,2=2rg,3=2rM,4=Lng,5=LnM)
1            # of lookahead depth
1            DEPTHs (>=0)
2            SWAP (0=bin-exch,1=long,2=mix)
64           swapping threshold
0            L1 in (0=transposed,1=no-transposed) form
0            U  in (0=transposed,1=no-transposed) form
1            Equilibration (0=no,1=yes)
8            memory alignment in double (> 0)
##### This line (no. 32) is ignored (it serves as a separator). ######
0                               Number of additional problem sizes for PTRANS
1200 10000 30000                values of N
0                               number of additional blocking sizes for PTRANS
40 9 8 13 13 20 16 32 64        values of NB
DAT
}

mkdir -p "$W/ref" "$W/tes" "$W/grid"
dat 1 1 >"$W/tes/HPL.dat"
dat 1 2 >"$W/grid/HPL.dat"
for rep in $(seq "$REPS"); do
  for k in blas faer; do
    (cd "$W/tes" && "$BIN" --kernels "$k" >"out_${k}_$rep.txt")
    grep -E '^W[RC][0-9]' "$W/tes/out_${k}_$rep.txt" | sed "s/^/tessera-hpl ($k kernels): /"
  done
  if [ "$MPI_BUILD" = 1 ]; then
    (cd "$W/grid" && OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 2 \
      --bind-to none -x OPENBLAS_NUM_THREADS "$BIN" --kernels blas --threads 1 >"out_$rep.txt")
    grep -E '^W[RC][0-9]' "$W/grid/out_$rep.txt" | sed "s/^/tessera-hpl 1x2 (2 ranks, blas kernels): /"
  fi
  rm -f "$W/ref/hpccoutf.txt" # hpcc appends to it
  if [ "$GRID" = 1x2 ]; then
    dat 1 2 >"$W/ref/hpccinf.txt"
    (cd "$W/ref" && OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 2 \
      --bind-to core --map-by core hpcc >/dev/null 2>&1)
    ranks=2
  else
    dat 1 1 >"$W/ref/hpccinf.txt"
    (cd "$W/ref" && OPENBLAS_NUM_THREADS=2 mpirun --allow-run-as-root -np 1 --bind-to none hpcc >/dev/null 2>&1)
    ranks=1
  fi
  cp "$W/ref/hpccoutf.txt" "$W/ref/out_$rep.txt"
  grep -E '^W[RC][0-9]' "$W/ref/out_$rep.txt" | sed "s/^/reference HPL (hpcc): /"
done

python3 - "$W" "$REPS" "$ranks" <<'PY'
import sys, glob, re
w, reps, ranks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def best(files):
    r = {}
    for f in files:
        for l in open(f):
            x = l.split()
            if len(x) == 7 and re.match(r'^W[RC]\d', x[0]):
                key = (int(x[1]), int(x[2]))
                r[key] = max(r.get(key, 0.0), float(x[6]))
    return r
ref = best(glob.glob(f"{w}/ref/out_*.txt"))
blas = best(glob.glob(f"{w}/tes/out_blas_*.txt"))
faer = best(glob.glob(f"{w}/tes/out_faer_*.txt"))
grid = best(glob.glob(f"{w}/grid/out_*.txt"))
star = [float(l.split('=')[1]) for f in glob.glob(f"{w}/ref/out_*.txt") for l in open(f) if l.startswith('StarDGEMM_Gflops=')]
single = [float(l.split('=')[1]) for f in glob.glob(f"{w}/ref/out_*.txt") for l in open(f) if l.startswith('SingleDGEMM_Gflops=')]
peak = max(star) * ranks if star else None
print()
print(f"best of {reps} run(s); DGEMM peak measured by hpcc: StarDGEMM {max(star) if star else 'n/a'} x {ranks} rank(s) = {peak} Gflops; SingleDGEMM {max(single) if single else 'n/a'}")
print(f"{'N':>7} {'NB':>5} {'reference':>10} {'tessera(blas)':>14} {'ratio':>6} {'tessera(faer)':>14} {'ratio':>6}  fraction of DGEMM peak (ref / blas / faer)")
for key in sorted(ref):
    r, b, f = ref[key], blas.get(key, 0), faer.get(key, 0)
    fr = lambda x: f"{x / peak:.0%}" if peak else "n/a"
    print(f"{key[0]:>7} {key[1]:>5} {r:>10.2f} {b:>14.2f} {b / r:>6.3f} {f:>14.2f} {f / r:>6.3f}  {fr(r)} / {fr(b)} / {fr(f)}")
    if key in grid:
        g = grid[key]
        print(f"{'':>13} tessera-hpl on the reference's grid, 2 ranks x 1 worker (blas): {g:.2f} Gflops, ratio {g / r:.3f}, {fr(g)} of peak")
PY

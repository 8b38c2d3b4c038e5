#!/usr/bin/env bash
# tessera-hpl against the reference HPL (hpcc's HPLinpack, Debian package hpcc, linked to
# the system OpenBLAS) on the same N, NB and process grid, in one run of this script.
#
#   scripts/hpl_compare.sh [N...]     (default N = 8000; NBS="192 256"; GRIDS="1x1 1x2"; REPS=1;
#                                      CORES="default SkylakeX" on AVX-512 machines, else "default")
#
# For each grid both run the same HPL.dat:
#   1x1  the reference as one rank with 2 OpenBLAS threads (mpirun -np 1 --bind-to none);
#        tessera-hpl as one process on all cores;
#   1x2  the reference as 2 ranks with one OpenBLAS thread each (bound to a core each, as
#        ../shared/anchors/dense ran it); tessera-hpl as 2 ranks with one worker each
#        (needs OpenMPI's headers for the MPI build).
# tessera-hpl uses its default tile kernels (--kernels auto: the faster of faer's and the
# system BLAS's, measured at start-up; the report's "Tile kernels" line says which and why).
# OpenBLAS 0.3.21 does not know every CPU it runs on (on AMD Zen 5 it falls back to its
# AVX2 Haswell kernels, at about 60% of its AVX-512 SkylakeX kernels' speed), so the
# reference runs once per OpenBLAS core type in CORES ("default" = OpenBLAS's own choice,
# otherwise OPENBLAS_CORETYPE=<it>), and tessera-hpl is compared with the fastest of them.
# tessera-hpl runs with the last of CORES, so that its start-up choice of kernels weighs
# faer against the same OpenBLAS kernels.
# Runs alternate (reference per core type, tessera, ...) and each figure is the best of REPS.
# Prints each Gflops, the ratio tessera / best reference on the same grid, and the fraction
# of the DGEMM peak hpcc measured (StarDGEMM per rank x ranks, the best over core types).
# hpcc runs its whole suite (PTRANS, STREAM, FFT, ...) before HPL: a few minutes per call.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${*:-8000}
NBS=${NBS:-192 256}
GRIDS=${GRIDS:-1x1 1x2}
REPS=${REPS:-1}
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  CORES=${CORES:-default SkylakeX}
else
  CORES=${CORES:-default}
fi
# use_core CORE: sets OPENBLAS_CORETYPE for it (unset for "default"); XCORE = mpirun's flag
use_core() {
  if [ "$1" = default ]; then
    unset OPENBLAS_CORETYPE
    XCORE=()
  else
    export OPENBLAS_CORETYPE=$1
    XCORE=(-x OPENBLAS_CORETYPE)
  fi
}
LAST_CORE=${CORES##* }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

if ! command -v hpcc >/dev/null || ! command -v mpirun >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hpcc openmpi-bin libopenblas0-pthread >/dev/null
  else
    echo "hpl_compare.sh: needs hpcc and mpirun (apt-get install hpcc openmpi-bin)" >&2
    exit 1
  fi
fi
# The MPI build goes to its own target directory (it would otherwise replace the plain
# build's binaries); without OpenMPI's headers only the 1x1 grid is compared.
if dpkg-query -W -f='${Status}' libopenmpi-dev 2>/dev/null | grep -q "install ok installed"; then
  CARGO_TARGET_DIR=target/mpi cargo build --release -q --features mpi --bin tessera-hpl
  BIN=$PWD/target/mpi/release/tessera-hpl
  MPI_BUILD=1
else
  cargo build --release -q --bin tessera-hpl
  BIN=$PWD/target/release/tessera-hpl
  MPI_BUILD=0
fi
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

for g in $GRIDS; do
  p=${g%x*}
  q=${g#*x}
  ranks=$((p * q))
  if [ "$ranks" -gt 1 ] && [ "$MPI_BUILD" = 0 ]; then
    echo "hpl_compare.sh: grid $g skipped (no MPI build: install libopenmpi-dev)" >&2
    continue
  fi
  mkdir -p "$W/$g/ref" "$W/$g/tes"
  dat "$p" "$q" >"$W/$g/tes/HPL.dat"
  dat "$p" "$q" >"$W/$g/ref/hpccinf.txt"
  for rep in $(seq "$REPS"); do
    for core in $CORES; do
      rm -f "$W/$g/ref/hpccoutf.txt" # hpcc appends to it
      if [ "$ranks" = 1 ]; then
        (cd "$W/$g/ref" && use_core "$core" && OPENBLAS_NUM_THREADS=2 mpirun -np 1 \
          --bind-to none -x OPENBLAS_NUM_THREADS "${XCORE[@]}" hpcc >/dev/null 2>&1)
      else
        (cd "$W/$g/ref" && use_core "$core" && OPENBLAS_NUM_THREADS=1 mpirun -np "$ranks" \
          --bind-to core --map-by core -x OPENBLAS_NUM_THREADS "${XCORE[@]}" hpcc >/dev/null 2>&1)
      fi
      cp "$W/$g/ref/hpccoutf.txt" "$W/$g/ref/out_${core}_$rep.txt"
      grep -E '^W[RC][0-9]' "$W/$g/ref/out_${core}_$rep.txt" |
        sed "s/^/reference HPL (hpcc, OpenBLAS core $core) $g: /"
    done
    if [ "$ranks" = 1 ]; then
      (cd "$W/$g/tes" && use_core "$LAST_CORE" && "$BIN" >"out_$rep.txt")
    else
      (cd "$W/$g/tes" && use_core "$LAST_CORE" && mpirun -np "$ranks" --bind-to none "${XCORE[@]}" \
        "$BIN" --threads 1 >"out_$rep.txt")
    fi
    grep -E '^W[RC][0-9]' "$W/$g/tes/out_$rep.txt" | sed "s/^/tessera-hpl $g: /"
    grep -E '^Tile kernels' "$W/$g/tes/out_$rep.txt" | sed "s/^/tessera-hpl $g: /"
    if grep -q FAILED "$W/$g/tes/out_$rep.txt"; then
      echo "hpl_compare.sh: tessera-hpl failed a residual check on $g" >&2
      exit 1
    fi
  done
done

python3 - "$W" "$REPS" "$GRIDS" "$CORES" <<'PY'
import sys, glob, re
w, reps, grids, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
def best(files):
    r = {}
    for f in files:
        for l in open(f):
            x = l.split()
            if len(x) == 7 and re.match(r'^W[RC]\d', x[0]):
                key = (int(x[1]), int(x[2]))
                r[key] = max(r.get(key, 0.0), float(x[6]))
    return r
print()
print(f"best of {reps} run(s) each; same N, NB and P x Q on both sides; reference = hpcc's HPL")
print("on OpenBLAS with each core type; ratio = tessera / the fastest reference")
head = "".join(f" {'ref ' + c:>14}" for c in cores)
print(f"{'grid':>5} {'N':>7} {'NB':>5}{head} {'tessera':>9} {'ratio':>6}  DGEMM peak; fraction best ref / tessera")
for g in grids:
    refs = {c: best(glob.glob(f"{w}/{g}/ref/out_{c}_*.txt")) for c in cores}
    tes = best(glob.glob(f"{w}/{g}/tes/out_*.txt"))
    p, q = map(int, g.split('x'))
    ranks = p * q
    star = [float(l.split('=')[1]) for f in glob.glob(f"{w}/{g}/ref/out_*.txt") for l in open(f) if l.startswith('StarDGEMM_Gflops=')]
    peak = max(star) * ranks if star else None
    for key in sorted(tes):
        r = max(refs[c].get(key, 0.0) for c in cores)
        t = tes[key]
        fr = lambda x: f"{x / peak:.0%}" if peak else "n/a"
        pk = f"{peak:.1f}" if peak else "n/a"
        cols = "".join(f" {refs[c].get(key, 0.0):>14.2f}" for c in cores)
        ratio = f"{t / r:>6.3f}" if r > 0 else f"{'n/a':>6}"
        print(f"{g:>5} {key[0]:>7} {key[1]:>5}{cols} {t:>9.2f} {ratio}  {pk}; {fr(r)} / {fr(t)}")
PY

#!/usr/bin/env bash
# Side-by-side timing of Tessera's sparse direct solver and the established solvers, in
# one script run, best of REPS repetitions (each solve in its own process, interleaved).
#
#   scripts/sparse_compare.sh                 # the 3D Laplacian 50^3 (SPD set)
#   SET=unsym scripts/sparse_compare.sh       # unsymmetric matrices of ../shared/matrices
#   SET=all REPS=3 scripts/sparse_compare.sh  # every shared matrix
#   ORDERINGS="metis nd" scripts/sparse_compare.sh  # also Tessera with its own nested dissection
#
# Anchors: CHOLMOD, UMFPACK, MUMPS (C harness) and faer 0.24 (Rust harness) from
# ../shared/anchors/sparse, built here against Debian's packages (installed when missing).
# Tessera: `tessera solve FILE --json --refinement none` (the anchors do not refine either),
# with THREADS workers (default 2) and KERNELS (faer|blas, default faer).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
ANCH=$SHARED/anchors/sparse
REPS=${REPS:-5}
# Tessera orderings to run (ORDERINGS="metis nd" adds a `tessera_nd` row; metis is `tessera`).
ORDERINGS=${ORDERINGS:-metis}
TSOLVERS=""
for o in $ORDERINGS; do
  if [ "$o" = metis ]; then TSOLVERS="$TSOLVERS tessera"; else TSOLVERS="$TSOLVERS tessera_$o"; fi
done
SET=${SET:-spd}
THREADS=${THREADS:-2}
KERNELS=${KERNELS:-faer}
BUILD=$ROOT/target/sparse-anchors
[ -d "$ANCH" ] || { echo "no $ANCH: the anchors are needed" >&2; exit 1; }
mkdir -p "$BUILD"

if ! [ -f /usr/include/suitesparse/cholmod.h ] || ! [ -f /usr/include/mumps_seq/dmumps_c.h ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends build-essential gfortran pkg-config zlib1g-dev \
    libsuitesparse-dev libmumps-seq-dev libsuperlu-dev libmetis-dev libscotch-dev libopenblas-dev
fi
[ -x "$BUILD/anchor" ] || { cp "$ANCH/c/anchor.c" "$ANCH/c/Makefile" "$BUILD/"; make -s -C "$BUILD" anchor; }
if ! [ -x "$BUILD/rust/target/release/faer-anchor" ]; then
  rm -rf "$BUILD/rust"; mkdir -p "$BUILD/rust"; cp -r "$ANCH/rust/Cargo.toml" "$ANCH/rust/Cargo.lock" "$ANCH/rust/src" "$BUILD/rust/"
  chmod -R u+w "$BUILD/rust"
  # Keep the harness out of Tessera's workspace (it lives under target/).
  grep -q '^\[workspace\]' "$BUILD/rust/Cargo.toml" || printf '\n[workspace]\n' >> "$BUILD/rust/Cargo.toml"
  cargo build -q --release --manifest-path "$BUILD/rust/Cargo.toml"
fi
cargo build -q --release --bin tessera --manifest-path "$ROOT/Cargo.toml"
TESSERA=$ROOT/target/release/tessera
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS FAER_THREADS=$THREADS GOTO_NUM_THREADS=$THREADS

# name|file|kind|solvers
CASES=()
if [ "$SET" = spd ] || [ "$SET" = all ]; then
  [ -f "$BUILD/laplace3d_50.mtx" ] || "$TESSERA" generate gen:laplace3d:50 "$BUILD/laplace3d_50.mtx" >/dev/null
  CASES+=("laplace3d_50|$BUILD/laplace3d_50.mtx|spd|cholmod mumps faer_llt")
fi
while IFS=$'\t' read -r name set file kind field cls; do
  [[ "$name" == \#* ]] && continue
  case "$SET:$kind" in
    unsym:unsym|all:*) ;;
    *) continue ;;
  esac
  case $kind in
    spd) s="cholmod mumps faer_llt" ;;
    sym) s="mumps faer_lblt" ;;
    unsym) s="umfpack mumps faer_lu" ;;
  esac
  CASES+=("$name|$ANCH/$file|$kind|$s")
done < "$ANCH/matrices.tsv"

RAW=$BUILD/raw.csv
: > "$RAW"
for rep in $(seq 1 "$REPS"); do
  for c in "${CASES[@]}"; do
    IFS='|' read -r name file kind solvers <<< "$c"
    for s in $solvers $TSOLVERS; do
      case $s in
        tessera*)
          ord=${s#tessera}; ord=${ord#_}; ord=${ord:-metis}
          line=$("$TESSERA" solve "$file" --json --refinement none --ordering "$ord" --threads "$THREADS" --kernels "$KERNELS" 2>/dev/null || true)
          python3 - "$name" "$line" "$s" >> "$RAW" <<'PY'
import json, sys
name, line, solver = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    j = json.loads(line)
    print(f"{name},{solver},ok,{j['analyze_s']},{j['factor_s']},{j['solve_s']},{j['factor_entries']},{j['residual']}")
except Exception:
    print(f"{name},{solver},failed,,,,,")
PY
          ;;
        faer_*) line=$(timeout 900 "$BUILD/rust/target/release/faer-anchor" "$s" "$file" "$kind" 2>/dev/null || true)
          echo "$line" | awk -F, -v n="$name" '{printf "%s,%s,%s,%s,%s,%s,%s,%s\n", n,$2,$3,$6,$7,$8,$9,$13}' >> "$RAW" ;;
        *) line=$(timeout 900 "$BUILD/anchor" "$s" "$file" "$kind" 2>/dev/null || true)
          echo "$line" | awk -F, -v n="$name" '{printf "%s,%s,%s,%s,%s,%s,%s,%s\n", n,$2,$3,$6,$7,$8,$9,$13}' >> "$RAW" ;;
      esac
    done
  done
  echo "repetition $rep of $REPS done" >&2
done

python3 - "$RAW" <<'PY'
import sys, collections
best = collections.OrderedDict()
for line in open(sys.argv[1]):
    f = line.strip().split(',')
    if len(f) < 8 or f[2] != 'ok' or not f[4]:
        continue
    key = (f[0], f[1])
    t = (float(f[3]), float(f[4]), f[6], f[7])
    if key not in best or t[1] < best[key][1]:
        best[key] = t
names = list(dict.fromkeys(k[0] for k in best))
print(f"{'matrix':<16} {'solver':<10} {'analyze s':>10} {'factor s':>10} {'factor entries':>15} {'residual':>10}  tessera factor speed-up")
for n in names:
    tes = best.get((n, 'tessera'))
    for (m, s), (ta, tf, fe, res) in best.items():
        if m != n:
            continue
        ratio = ''
        if tes and not s.startswith('tessera'):
            ratio = f"{tf / tes[1]:.2f}x vs {s}"
        elif s.startswith('tessera'):
            ratio = f"(analysis = {100 * ta / tf:.0f}% of factor)"
        print(f"{n:<16} {s:<10} {ta:>10.4f} {tf:>10.4f} {fe:>15} {float(res) if res else float('nan'):>10.1e}  {ratio}")
PY

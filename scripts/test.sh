#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Installs what the tests use beyond Rust and gcc, then runs every test in release mode:
#   - the system LAPACK (OpenBLAS: libopenblas0-pthread + liblapack3): the
#     `tessera bench --compare lapack` path and the LAPACK-interface benchmark use it;
#   - LAPACK's own test suite (liblapack-test, with the reference liblapack3/libblas3 and
#     binutils for the harness in ../shared/tools/lapack-suite), run against
#     libtessera_lapack.so by bindings/tests/lapack_suite.rs;
#   - a real LAPACK client, Debian's python3-numpy, run through libtessera_lapack.so by
#     bindings/tests/numpy_client.rs;
#   - Scotch (libscotch-dev, and libclang-dev for scotch-sys's bindgen): the tests run with
#     the `scotch` feature when both are present, so the Scotch ordering is tested too;
#   - OpenMPI (libopenmpi-dev, openmpi-bin): a build with the `mpi` feature, then
#     examples/mpi_check runs under `mpirun -np 1`, `2` and `4` (oversubscribed),
#     `tessera bench --grid` runs on 2 and 3 ranks, and tessera-hpl runs grids 1x1, 2x1,
#     1x2 and 2x2 on 2 and 4 ranks (every test that fits must pass its residual check).
# When the packages are present (or installed here), TESSERA_REQUIRE_CLIENTS=1 makes a
# missing client a test failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(libopenblas0-pthread liblapack3 libblas3 liblapack-test binutils python3-numpy libscotch-dev libclang-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif ! ldconfig -p 2>/dev/null | grep -q 'liblapack\.so\.3'; then
    echo "test.sh: liblapack.so.3 is missing and cannot be installed (not root): install ${missing[*]}" >&2
    exit 1
  else
    echo "test.sh: not installed (tests that need them are skipped): ${missing[*]}" >&2
  fi
fi
if [ ${#missing[@]} -eq 0 ] || [ "$(id -u)" = 0 ]; then
  export TESSERA_REQUIRE_CLIENTS=1
fi

FEATURES=()
if dpkg-query -W -f='${Status}' libscotch-dev 2>/dev/null | grep -q "install ok installed" &&
  dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q "install ok installed"; then
  FEATURES=(--features tessera/scotch)
else
  echo "test.sh: libscotch-dev or libclang-dev missing: the Scotch ordering is not tested" >&2
fi

MPI=0
if dpkg-query -W -f='${Status}' libopenmpi-dev 2>/dev/null | grep -q "install ok installed" &&
  command -v mpirun >/dev/null; then
  MPI=1
else
  echo "test.sh: OpenMPI missing: the MPI runs are not tested" >&2
fi

cargo test --release --workspace "${FEATURES[@]}" "$@"

if [ "$MPI" = 1 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  # A separate build: mpi-sys's bindgen loads libclang at run time (clang-sys "runtime"),
  # which breaks scotch-sys's build script when both are in one build.
  cargo build --release --features tessera/mpi --bin tessera --bin tessera-hpl --example mpi_check
  for np in 1 2 4; do
    echo "test.sh: mpirun -np $np mpi_check"
    timeout 600 mpirun -np "$np" target/release/examples/mpi_check
  done
  echo "test.sh: tessera bench under mpirun"
  timeout 600 mpirun -np 2 target/release/tessera bench gesv --n 1200 --grid 2x1 --threads 1
  timeout 600 mpirun -np 2 target/release/tessera bench posv --n 1200 --grid 1x2 --threads 1
  timeout 600 mpirun -np 3 target/release/tessera bench potrf --n 1200 --grid 1x3 --dist sbc --threads 1
  echo "test.sh: tessera-hpl under mpirun"
  HPLDIR=$(mktemp -d)
  python3 - "$HPLDIR/HPL.dat" <<'PY'
import sys
lines = ["HPLinpack benchmark input file", "test.sh", "HPL.out      output file name",
         "6            device out", "2            # of problems sizes (N)", "300 600      Ns",
         "1            # of NBs", "48           NBs", "0            PMAP",
         "4            # of process grids (P x Q)", "1 2 1 2      Ps", "1 1 2 2      Qs",
         "16.0         threshold", "1            # of panel fact", "2            PFACTs",
         "1            # of recursive stopping criterium", "4            NBMINs",
         "1            # of panels in recursion", "2            NDIVs",
         "1            # of recursive panel fact.", "1            RFACTs",
         "1            # of broadcast", "1            BCASTs", "1            # of lookahead depth",
         "1            DEPTHs", "2            SWAP", "64           swapping threshold",
         "0            L1", "0            U", "1            Equilibration", "8            memory alignment"]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
  for np in 2 4; do
    out=$(cd "$HPLDIR" && timeout 600 mpirun -np "$np" --bind-to none "$OLDPWD/target/release/tessera-hpl")
    echo "$out" | grep -E '^WR|PASSED|FAILED|Need at least|tests (completed|skipped)'
    want=$([ "$np" = 4 ] && echo 8 || echo 6)
    if ! echo "$out" | grep -qE "^ +$want tests completed and passed residual checks"; then
      echo "test.sh: tessera-hpl on $np ranks: expected $want passed tests" >&2
      exit 1
    fi
  done
  rm -rf "$HPLDIR"
  # An impossible grid is a clear error on every rank, not a hang.
  if timeout 120 mpirun -np 2 target/release/tessera bench potrf --n 200 --grid 2x2 2>/dev/null; then
    echo "test.sh: a 2x2 grid on 2 ranks should have failed" >&2
    exit 1
  fi
fi

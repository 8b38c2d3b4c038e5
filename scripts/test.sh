#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Installs what the tests use beyond Rust and gcc, then runs every test in release mode.
#   - the system LAPACK (OpenBLAS, Debian's libopenblas0-pthread + liblapack3): the
#     `tessera bench --compare lapack` path is tested against it.
set -euo pipefail
cd "$(dirname "$0")/.."

have_lapack() { ldconfig -p 2>/dev/null | grep -q 'liblapack\.so\.3'; }
if ! have_lapack; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing the system LAPACK (OpenBLAS) for the --compare lapack tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends libopenblas0-pthread liblapack3 >/dev/null
  else
    echo "test.sh: liblapack.so.3 is missing and cannot be installed (not root): install libopenblas0-pthread liblapack3" >&2
    exit 1
  fi
fi

cargo test --release --workspace "$@"

//! `tessera`: benchmarks of the tiled algorithms, side by side with faer or the system LAPACK.
//!
//! ```text
//! tessera bench OP [--n N] [--m M] [--nb NB] [--threads T] [--dtype f64|f32|c64|c32]
//!                  [--compare faer|lapack] [--repeat R] [--nrhs K] [--trace FILE] [--json]
//! OP: gemm potrf getrf getrf_nopiv geqrf posv gesv gels
//! ```

mod bench;
mod distbench;
mod solve;
mod syslapack;

use std::process::ExitCode;

const USAGE: &str = "\
tessera — task-based tiled dense linear algebra

USAGE:
  tessera bench OP [options]     time one operation and check its scaled residual
  tessera solve MATRIX [options] sparse direct solve of a Matrix Market file or a generated
                                 problem (tessera solve --help for the options)
  tessera generate SPEC OUT.mtx  write a generated sparse problem (gen:laplace3d:50 ...)
  tessera help                   this text

OP: gemm | potrf | getrf | getrf_nopiv | geqrf | posv | gesv | gels

OPTIONS (bench):
  --n N                 matrix order (default 4000)
  --m M                 rows for geqrf/gels (default N)
  --nb NB               tile size (default: chosen from N and the thread count)
  --threads T           worker threads (default: all cores)
  --dtype D             f64 (default) | f32 | c64 | c32
  --compare faer|lapack run faer's routine, or the system LAPACK (liblapack.so.3, loaded at
                        run time), on the same matrix in the same process, and print both
  --repeat R            run R times, report the fastest (default 1)
  --nrhs K              right-hand sides for posv/gesv/gels (default 1)
  --kernels faer|blas   tile kernels: faer (default) or the system BLAS loaded at run time
                        (single-threaded per tile; TESSERA_KERNELS sets the default)
  --layout tile|lapack  tile (default): the tiled routine on a tile matrix; lapack: the
                        LAPACK-layout routine on a column-major matrix (potrf getrf posv
                        gesv), as the C interface runs it (factored in place)
  --trace FILE          write a Chrome/Perfetto trace of the last Tessera run to FILE
  --json                print one JSON object instead of text
  --grid PxQ            distributed run over P x Q MPI ranks (build with --features mpi,
                        launch with mpirun -np P*Q): potrf, getrf, gemm, posv, gesv; each
                        rank generates its own tiles; bytes sent and received per rank are
                        printed (and in --json); --threads is then the workers per rank
  --dist 2dbc|sbc       distribution for --grid: 2D block-cyclic (default) or symmetric
                        block-cyclic (Cholesky; P*Q = r(r-1)/2 ranks: 1, 3, 6, 10...)

The residual is the standard scaled one: for solves and factorizations (checked by a
solve), ||A x - b||_oo / (eps (||A||_oo ||x||_oo + ||b||_oo) N); for gemm, Freivalds'
||C y - A (B y)||_oo / (eps ||A||_oo ||B||_oo ||y||_oo N); for gels, the normal-equations
residual ||A^H (b - A x)||_oo / (eps ||A||_oo (||A||_oo ||x||_oo + ||b||_oo) M).
It must be below 16 (PASSED).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(|s| s.as_str()) {
        Some("bench") => match bench::parse(&args[1..]).and_then(|a| bench::run(&a)) {
            Ok(passed) => {
                if passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                }
            }
            Err(e) => {
                eprintln!("tessera: {e}");
                ExitCode::FAILURE
            }
        },
        Some("solve") => {
            if args[1..].iter().any(|a| a == "--help" || a == "-h") {
                println!("{}", solve::USAGE);
                return ExitCode::SUCCESS;
            }
            match solve::parse(&args[1..]).and_then(|a| solve::run(&a)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(2),
                Err(e) => {
                    eprintln!("tessera: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("generate") => match solve::generate(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tessera: {e}");
                ExitCode::FAILURE
            }
        },
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("tessera: unknown command '{other}'\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

//! `tessera-hpl`: Tessera's LU with partial pivoting run as the HPL benchmark: reads
//! `HPL.dat` (netlib HPL 2.3 format) and prints HPL's report. See [`tessera::hpl`].

use std::io::Write;
use std::process::ExitCode;
use tessera::hpl::{self, Device, HplDat, RunConfig};
use tessera::runtime::{Runtime, RuntimeConfig};

const USAGE: &str = "\
tessera-hpl — the HPL benchmark on Tessera's tiled LU with partial pivoting

USAGE:
  tessera-hpl [-f FILE] [--mxp] [--threads T] [--kernels auto|faer|blas] [--trace PREFIX]

  -f FILE              the input file (default: HPL.dat in the working directory; without
                       one, a built-in problem sized for this machine runs, and says so)
  --mxp                mixed precision (HPL-MxP): LU in single precision, refinement by
                       GMRES in double precision; Gflops = HPL's flops / total time
  --threads T          worker threads per process (default: all cores, or
                       TESSERA_NUM_THREADS; under mpirun, the cores shared among the ranks
                       started on the node)
  --kernels K          tile kernels: blas (the system BLAS, loaded at run time, one thread
                       per task, as HPL links a BLAS), faer, or auto (default; TESSERA_KERNELS
                       sets it): at start-up the LU's update gemm (2048 x 1024 x the
                       largest NB) is timed on both, on all workers at once, and the faster
                       is used (on every rank: the system BLAS only if it was faster on
                       all of them); the report gives both rates
  --trace PREFIX       record the tasks of each test's timed part and write them, per rank,
                       to PREFIX.N<n>.NB<nb>.<P>x<Q>.rank<r>.json (Chrome/Perfetto trace
                       format: chrome://tracing or ui.perfetto.dev draws the Gantt chart);
                       a one-line summary per rank goes to standard error

The input and the report are HPL 2.3's; every combination of the file's N, NB, grids,
PFACT, NBMIN, NDIV, RFACT, BCAST and DEPTH is one test. Grids P x Q > 1 need a build with
MPI (cargo build --release --features mpi) started by mpirun with at least P x Q ranks:
  mpirun -np 4 tessera-hpl            (rank 0 writes the report)
Exit status: 0 when every test that ran passed its residual check, 2 when one failed, 1
for a bad command line or input.";

struct Args {
    file: Option<String>,
    mxp: bool,
    threads: Option<usize>,
    kernels: String,
    trace: Option<String>,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        file: None,
        mxp: false,
        threads: None,
        kernels: tessera::env::kernels_override()
            .unwrap_or("auto")
            .to_string(),
        trace: None,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match x.as_str() {
            "-f" | "--file" => a.file = Some(value(x)?),
            "--mxp" => a.mxp = true,
            "--threads" => {
                let v = value(x)?;
                a.threads = Some(
                    v.parse()
                        .ok()
                        .filter(|&t: &usize| t > 0)
                        .ok_or(format!("--threads: '{v}' is not a positive integer"))?,
                );
            }
            "--kernels" => a.kernels = value(x)?,
            "--trace" => a.trace = Some(value(x)?),
            "-h" | "--help" | "help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(a))
}

/// `(rank, size)` when started by an MPI launcher (Open MPI, MPICH/Hydra, PMIx, Slurm).
fn launcher_rank() -> Option<(usize, usize)> {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().and_then(|v| v.parse::<usize>().ok()))
    };
    let size = get(&[
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_SIZE",
        "SLURM_NTASKS",
    ])?;
    let rank = get(&[
        "OMPI_COMM_WORLD_RANK",
        "PMI_RANK",
        "PMIX_RANK",
        "SLURM_PROCID",
    ])
    .unwrap_or(0);
    Some((rank, size))
}

/// Ranks the launcher started on this node, when it says.
fn local_ranks() -> Option<usize> {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"]
        .iter()
        .find_map(|n| std::env::var(n).ok().and_then(|v| v.parse::<usize>().ok()))
        .filter(|&n| n > 0)
}

fn main() -> ExitCode {
    let launched = launcher_rank().filter(|&(_, size)| size > 1);
    // Built without MPI: under `mpirun -np K` the K processes would each run every test
    // on the same cores and write the same report. Rank 0 runs alone; the others leave.
    #[cfg(not(feature = "mpi"))]
    if let Some((rank, _)) = launched {
        if rank != 0 {
            return ExitCode::SUCCESS;
        }
    }
    // Built with MPI: every rank takes part; rank 0 writes the report.
    #[cfg(feature = "mpi")]
    let mpi = match launched {
        Some(_) => match tessera::comm::Mpi::init() {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("tessera-hpl: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    #[cfg(feature = "mpi")]
    let (me, ranks) = mpi.as_ref().map_or((0, 1), |m| (m.rank(), m.size()));
    #[cfg(not(feature = "mpi"))]
    let (me, ranks) = (0usize, 1usize);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            if me == 0 {
                println!("{USAGE}");
            }
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if me == 0 {
                eprintln!("tessera-hpl: {e}\n\n{USAGE}");
            }
            return ExitCode::FAILURE;
        }
    };
    let kernels = match args.kernels.as_str() {
        "faer" => {
            tessera::kernels::sysblas::use_faer();
            tessera::kernels::sysblas::backend_name()
        }
        "blas" => match tessera::kernels::sysblas::use_system_blas() {
            Ok(_) => tessera::kernels::sysblas::backend_name(),
            Err(e) => {
                eprintln!("tessera-hpl: --kernels blas: {e}");
                return ExitCode::FAILURE;
            }
        },
        // Measured once the runtime (and the ranks) are up.
        "auto" => String::new(),
        k => {
            eprintln!("tessera-hpl: --kernels: '{k}' is not auto, faer or blas");
            return ExitCode::FAILURE;
        }
    };
    let config = match (args.threads, local_ranks().filter(|_| ranks > 1)) {
        (Some(t), _) => RuntimeConfig::with_workers(t),
        (None, Some(local)) => {
            RuntimeConfig::with_workers((RuntimeConfig::default().workers / local).max(1))
        }
        (None, None) => RuntimeConfig::default(),
    };
    #[cfg(feature = "mpi")]
    let config = match &mpi {
        Some(m) => match m.transport() {
            Ok(t) => config.transport(t),
            Err(e) => {
                eprintln!("tessera-hpl: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => config,
    };
    let workers = config.workers;

    let (path, explicit) = match &args.file {
        Some(f) => (f.clone(), true),
        None => ("HPL.dat".to_string(), false),
    };
    let mut notice = None;
    let dat = match std::fs::read_to_string(&path) {
        Ok(text) => match HplDat::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("tessera-hpl: {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) if explicit || e.kind() != std::io::ErrorKind::NotFound => {
            eprintln!("tessera-hpl: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
        Err(_) => {
            // Under mpirun: the squarest grid P x Q = ranks with P <= Q, as HPL advises.
            let p = (1..=ranks)
                .filter(|p| ranks % p == 0 && p * p <= ranks)
                .max()
                .unwrap_or(1);
            let q = ranks / p;
            // Cores in the job: per node, the workers of its ranks but no more than it has.
            let local = local_ranks().unwrap_or(1).min(ranks);
            let per_node = (workers * local).min(RuntimeConfig::default().workers.max(workers));
            let cores = ranks.div_ceil(local) * per_node;
            let (n, nb) = hpl::default_for_this_machine(cores);
            notice = Some(format!(
                "tessera-hpl: no HPL.dat in the working directory: running the built-in default \
                 (N = {n}, NB = {nb}, P x Q = {p} x {q}, sized for {cores} cores and this machine's memory)"
            ));
            HplDat::parse(&HplDat::default_text_on(n, nb, p, q))
                .expect("the built-in HPL.dat parses")
        }
    };
    let mut out: Box<dyn Write> = match &dat.device {
        _ if me != 0 => Box::new(std::io::sink()),
        Device::Stdout => Box::new(std::io::stdout()),
        Device::Stderr => Box::new(std::io::stderr()),
        Device::File(name) => match std::fs::File::create(name) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("tessera-hpl: cannot create the output file {name}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    #[cfg(not(feature = "mpi"))]
    if let Some((_, size)) = launched {
        let n = format!(
            "tessera-hpl: started as {size} MPI ranks, but this build has no MPI: rank 0 runs \
             the tests alone on its cores, grids larger than 1 x 1 are skipped, the other ranks exit"
        );
        eprintln!("{n}");
        let _ = writeln!(out, "{n}");
    }
    if let Some(n) = notice.filter(|_| me == 0) {
        eprintln!("{n}");
        let _ = writeln!(out, "{n}");
    }
    let rt = Runtime::new(config);
    let kernels = if args.kernels == "auto" {
        auto_kernels(&rt, &dat, workers)
    } else {
        kernels
    };
    let cfg = RunConfig {
        mxp: args.mxp,
        ranks,
        kernels,
        trace: args.trace.clone(),
        ..Default::default()
    };
    let code = match hpl::run(&rt, &dat, &cfg, &mut out) {
        Ok(s) if s.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(e) => {
            eprintln!("tessera-hpl: writing the report: {e}");
            ExitCode::FAILURE
        }
    };
    // The runtime goes before MPI is finalized.
    drop(rt);
    code
}

/// `--kernels auto`: times the gemm of the LU's trailing update at the largest NB (a block
/// of columns updated by one task: 2048 rows, `tessera::dense::UPDATE_BLOCK_COLUMNS`
/// columns, NB deep) on faer's kernels and on the system BLAS (all workers at once), uses
/// the faster (the BLAS only if every rank found it faster, so that all ranks agree) and
/// says what it measured.
fn auto_kernels(rt: &Runtime, dat: &HplDat, workers: usize) -> String {
    use tessera::kernels::sysblas;
    let nb = dat.nbs.iter().copied().max().unwrap_or(256).clamp(32, 512);
    let cols = tessera::dense::UPDATE_BLOCK_COLUMNS.div_ceil(nb) * nb;
    let measured = sysblas::measure_gemm((2048, cols, nb), workers);
    let vote = matches!(&measured, Ok(r) if r.blas_is_faster());
    let blas = rt.agree_min(vote as u64) == 1;
    match measured {
        Ok(r) => {
            if blas {
                // It loaded for the measurement, so it loads now.
                let _ = sysblas::use_system_blas();
            } else {
                sysblas::use_faer();
            }
            format!(
                "{} (auto: a {} x {} x {} gemm on {} worker(s) ran at {:.1} GFLOP/s per \
                 worker on faer, {:.1} on {}{})",
                sysblas::backend_name(),
                r.m,
                r.n,
                r.k,
                r.threads,
                r.faer,
                r.blas,
                r.blas_name,
                if blas == vote {
                    ""
                } else {
                    "; another rank found faer faster"
                }
            )
        }
        Err(e) => {
            sysblas::use_faer();
            format!("faer (auto: {e})")
        }
    }
}

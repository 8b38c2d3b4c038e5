//! `tessera-hpl`: Tessera's LU with partial pivoting run as the HPL benchmark: reads
//! `HPL.dat` (netlib HPL 2.3 format) and prints HPL's report. See [`tessera::hpl`].

use std::io::Write;
use std::process::ExitCode;
use tessera::hpl::{self, Device, HplDat, RunConfig};
use tessera::runtime::{Runtime, RuntimeConfig};

const USAGE: &str = "\
tessera-hpl — the HPL benchmark on Tessera's tiled LU with partial pivoting

USAGE:
  tessera-hpl [-f FILE] [--mxp] [--threads T] [--kernels auto|faer|blas]

  -f FILE              the input file (default: HPL.dat in the working directory; without
                       one, a built-in problem sized for this machine runs, and says so)
  --mxp                mixed precision (HPL-MxP): LU in single precision, refinement by
                       GMRES in double precision; Gflops = HPL's flops / total time
  --threads T          worker threads (default: all cores, or TESSERA_NUM_THREADS)
  --kernels K          tile kernels: blas (the system BLAS, loaded at run time, one thread
                       per task, as HPL links a BLAS), faer, or auto (default: blas when a
                       system BLAS loads, else faer; TESSERA_KERNELS sets the default)

The input and the report are HPL 2.3's; every combination of the file's N, NB, grids,
PFACT, NBMIN, NDIV, RFACT, BCAST and DEPTH is one test. Exit status: 0 when every test
that ran passed its residual check, 2 when one failed, 1 for a bad command line or input.";

struct Args {
    file: Option<String>,
    mxp: bool,
    threads: Option<usize>,
    kernels: String,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        file: None,
        mxp: false,
        threads: None,
        kernels: tessera::env::kernels_override()
            .unwrap_or("auto")
            .to_string(),
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

fn main() -> ExitCode {
    // Built without MPI: under `mpirun -np K` the K processes would each run every test
    // on the same cores and write the same report. Rank 0 runs alone; the others leave.
    let launched = launcher_rank().filter(|&(_, size)| size > 1);
    if let Some((rank, _)) = launched {
        if rank != 0 {
            return ExitCode::SUCCESS;
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tessera-hpl: {e}\n\n{USAGE}");
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
        "auto" => {
            if let Err(e) = tessera::kernels::sysblas::use_system_blas() {
                eprintln!("tessera-hpl: {e}; using faer's kernels");
            }
            tessera::kernels::sysblas::backend_name()
        }
        k => {
            eprintln!("tessera-hpl: --kernels: '{k}' is not auto, faer or blas");
            return ExitCode::FAILURE;
        }
    };
    let config = match args.threads {
        Some(t) => RuntimeConfig::with_workers(t),
        None => RuntimeConfig::default(),
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
            let (n, nb) = hpl::default_for_this_machine(workers);
            notice = Some(format!(
                "tessera-hpl: no HPL.dat in the working directory: running the built-in default \
                 (N = {n}, NB = {nb}, P x Q = 1 x 1, sized for {workers} cores and this machine's memory)"
            ));
            HplDat::parse(&HplDat::default_text(n, nb)).expect("the built-in HPL.dat parses")
        }
    };
    let mut out: Box<dyn Write> = match &dat.device {
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
    if let Some((_, size)) = launched {
        let n = format!(
            "tessera-hpl: started as {size} MPI ranks, but this build has no MPI: rank 0 runs \
             the tests alone on its cores, grids larger than 1 x 1 are skipped, the other ranks exit"
        );
        eprintln!("{n}");
        let _ = writeln!(out, "{n}");
    }
    if let Some(n) = notice {
        eprintln!("{n}");
        let _ = writeln!(out, "{n}");
    }
    let rt = Runtime::new(config);
    let cfg = RunConfig {
        mxp: args.mxp,
        kernels,
        ..Default::default()
    };
    match hpl::run(&rt, &dat, &cfg, &mut out) {
        Ok(s) if s.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(e) => {
            eprintln!("tessera-hpl: writing the report: {e}");
            ExitCode::FAILURE
        }
    }
}

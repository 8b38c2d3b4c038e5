//! # HPL-style benchmark (`tessera-hpl`)
//!
//! Tessera's LU with partial pivoting in the clothes of netlib HPL 2.3: it reads the same
//! `HPL.dat` ([`HplDat`]), runs every combination of its parameters, and prints the same
//! report (banner, parameter echo, `T/V N NB P Q Time Gflops` table with HPL's encoded
//! variant names, the scaled residual line ending in `PASSED` / `FAILED`, the closing
//! summary), so that existing HPL output parsers read it.
//!
//! What runs for one test:
//! - the `N x (N + 1)` system `[A b]` from HPL's linear congruential generator (HPL's
//!   multiplier and increment, seed 100), entries uniform in `(-0.5, 0.5]`, generated in
//!   column-major order with jumps ([`hpl_entry`]); it depends on N only, not on NB, the
//!   grid or the thread count. (It is not bit-identical to HPL's matrix, whose generator
//!   keeps 31-bit halves.)
//! - timed: the tiled LU with partial pivoting (tile size = NB) and the triangular solves
//!   ([`run_double`]); HPL's flop count `2/3 N^3 + 3/2 N^2` over that time gives Gflops;
//! - then, as HPL does, A and b are regenerated and the scaled residual
//!   `||Ax-b||_oo / (eps (||A||_oo ||x||_oo + ||b||_oo) N)` (eps = 2^-53) is compared with
//!   the threshold ([`check`]).
//!
//! HPL's tuning parameters that have no meaning for Tessera (PFACT, NBMIN, NDIV, RFACT,
//! BCAST, DEPTH, SWAP, L1/U forms, EQUIL, ALIGN) are accepted, echoed and encoded in the
//! T/V name; the report says what each was mapped to ([`mapping_lines`]).
//!
//! Mixed precision (`--mxp`, as HPL-MxP): the LU is computed in single precision and the
//! solution refined in double precision by GMRES preconditioned with that LU
//! ([`run_mixed`]); Gflops are HPL's flop count over the whole time (conversion, f32 LU,
//! refinement), the way HPL-MxP reports its effective rate, and the same residual check
//! decides PASSED.

mod dat;
mod format;
mod solve;

pub use dat::{DatError, Device, HplDat};
pub use format::{c_exp, ctime};
pub use solve::{
    check, fill_hpl, hpl_entry, run_double, run_mixed, Check, MxpStats, Timed, EPS, HPL_SEED,
};

use crate::runtime::Runtime;
use std::io::{self, Write};

/// How the tests run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// HPL-MxP mode: single-precision LU and double-precision refinement.
    pub mxp: bool,
    /// Number of processes launched (1 without MPI): grids with more are skipped.
    pub ranks: usize,
    /// Name of the tile-kernel backend, for the report.
    pub kernels: String,
    /// The refinement's target for the scaled residual (mixed precision only); `None`:
    /// the file's threshold (HPL-MxP's criterion: the solution passes HPL's check), or 16
    /// when the file asks for no check.
    pub mxp_target: Option<f64>,
    /// Record each test's timed part and write it, per rank, to
    /// `<prefix>.N<n>.NB<nb>.<p>x<q>.rank<r>.json` (Chrome/Perfetto trace format), with a
    /// one-line summary on standard error.
    pub trace: Option<String>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            mxp: false,
            ranks: 1,
            kernels: crate::kernels::sysblas::backend_name(),
            mxp_target: None,
            trace: None,
        }
    }
}

/// The counts of HPL's closing summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests run and checked: passed.
    pub passed: usize,
    /// Tests run and checked: failed.
    pub failed: usize,
    /// Tests run without a check (threshold <= 0).
    pub unchecked: usize,
    /// Tests skipped (grid too large, not enough memory, error).
    pub skipped: usize,
}

impl Summary {
    /// Tests that ran.
    pub fn completed(&self) -> usize {
        self.passed + self.failed + self.unchecked
    }
}

const EQ: &str = "================================================================================";
const DASH: &str =
    "--------------------------------------------------------------------------------";

/// HPL's `flops`: `2/3 N^3 + 3/2 N^2`.
pub fn hpl_flops(n: usize) -> f64 {
    let n = n as f64;
    2.0 / 3.0 * n * n * n + 1.5 * n * n
}

const FACT: [&str; 3] = ["Left", "Crout", "Right"];
const FACT_CODE: [char; 3] = ['L', 'C', 'R'];
const BCAST: [&str; 6] = ["1ring", "1ringM", "2ring", "2ringM", "Blong", "BlongM"];

fn echo_list<T: std::fmt::Display>(out: &mut dyn Write, label: &str, vals: &[T]) -> io::Result<()> {
    write!(out, "{label}:")?;
    for (i, v) in vals.iter().enumerate() {
        if i > 0 && i % 8 == 0 {
            write!(out, "\n        ")?;
        }
        write!(out, "{v:>8} ")?;
    }
    writeln!(out)
}

/// Writes the banner and the parameter echo, as HPL prints them before the tests.
pub fn write_header(out: &mut dyn Write, dat: &HplDat, cfg: &RunConfig) -> io::Result<()> {
    writeln!(out, "{EQ}")?;
    writeln!(
        out,
        "tessera-hpl {}  --  HPLinpack 2.3 input/output on Tessera's tiled LU",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "Tessera: task-based tiled dense linear algebra (sequential task flow)"
    )?;
    if cfg.mxp {
        writeln!(
            out,
            "Mode: mixed precision (HPL-MxP): LU in single precision, GMRES refinement in double"
        )?;
    } else {
        writeln!(
            out,
            "Mode: double precision (HPL): LU with partial pivoting in double precision"
        )?;
    }
    writeln!(out, "{EQ}")?;
    writeln!(out)?;
    writeln!(
        out,
        "An explanation of the input/output parameters follows:"
    )?;
    writeln!(out, "T/V    : Wall time / encoded variant.")?;
    writeln!(out, "N      : The order of the coefficient matrix A.")?;
    writeln!(out, "NB     : The partitioning blocking factor.")?;
    writeln!(out, "P      : The number of process rows.")?;
    writeln!(out, "Q      : The number of process columns.")?;
    writeln!(out, "Time   : Time in seconds to solve the linear system.")?;
    writeln!(
        out,
        "Gflops : Rate of execution for solving the linear system."
    )?;
    writeln!(out)?;
    writeln!(out, "The following parameter values will be used:")?;
    writeln!(out)?;
    echo_list(out, "N      ", &dat.ns)?;
    echo_list(out, "NB     ", &dat.nbs)?;
    writeln!(
        out,
        "PMAP   : {} process mapping",
        if dat.pmap == 0 {
            "Row-major"
        } else {
            "Column-major"
        }
    )?;
    let ps: Vec<usize> = dat.grids.iter().map(|g| g.0).collect();
    let qs: Vec<usize> = dat.grids.iter().map(|g| g.1).collect();
    echo_list(out, "P      ", &ps)?;
    echo_list(out, "Q      ", &qs)?;
    let names = |v: &[u8], t: &[&'static str]| v.iter().map(|&x| t[x as usize]).collect::<Vec<_>>();
    echo_list(out, "PFACT  ", &names(&dat.pfacts, &FACT))?;
    echo_list(out, "NBMIN  ", &dat.nbmins)?;
    echo_list(out, "NDIV   ", &dat.ndivs)?;
    echo_list(out, "RFACT  ", &names(&dat.rfacts, &FACT))?;
    echo_list(out, "BCAST  ", &names(&dat.bcasts, &BCAST))?;
    echo_list(out, "DEPTH  ", &dat.depths)?;
    match dat.swap {
        0 => writeln!(out, "SWAP   : Binary-exchange")?,
        1 => writeln!(out, "SWAP   : Spread-roll (long)")?,
        _ => writeln!(out, "SWAP   : Mix (threshold = {})", dat.swap_threshold)?,
    }
    let form = |f: u8| {
        if f == 0 {
            "transposed form"
        } else {
            "no-transposed form"
        }
    };
    writeln!(out, "L1     : {}", form(dat.l1_form))?;
    writeln!(out, "U      : {}", form(dat.u_form))?;
    writeln!(
        out,
        "EQUIL  : {}",
        if dat.equil == 1 { "yes" } else { "no" }
    )?;
    writeln!(out, "ALIGN  : {} double precision words", dat.align)?;
    writeln!(out)?;
    for l in mapping_lines(cfg) {
        writeln!(out, "{l}")?;
    }
    writeln!(out)?;
    writeln!(out, "{DASH}")?;
    writeln!(out)?;
    writeln!(out, "- The matrix A is randomly generated for each test.")?;
    if dat.threshold > 0.0 {
        writeln!(
            out,
            "- The following scaled residual check will be computed:"
        )?;
        writeln!(
            out,
            "      ||Ax-b||_oo / ( eps * ( || x ||_oo * || A ||_oo + || b ||_oo ) * N )"
        )?;
        writeln!(
            out,
            "- The relative machine precision (eps) is taken to be {:>26}",
            c_exp(EPS, 6)
        )?;
        writeln!(
            out,
            "- Computational tests pass if scaled residuals are less than {:>19.1}",
            dat.threshold
        )?;
    } else {
        writeln!(
            out,
            "- The scaled residual checks will not be computed (threshold <= 0)."
        )?;
    }
    writeln!(out)
}

/// What each HPL parameter means for Tessera, for the report.
pub fn mapping_lines(cfg: &RunConfig) -> Vec<String> {
    vec![
        "How Tessera maps these parameters:".into(),
        "N, NB  : order of A; NB is the square tile size of the tiled LU".into(),
        if cfg.ranks > 1 {
            format!(
                "P x Q  : tiles block-cyclic over a P x Q grid of the {} MPI ranks (ranks in row-major order); grids larger are skipped",
                cfg.ranks
            )
        } else {
            "P x Q  : 1 x 1 runs in this process on all worker threads; larger grids need a build with MPI (--features mpi) started by mpirun, and are skipped".into()
        },
        "PMAP   : no effect; ranks are placed in row-major order".into(),
        "PFACT, NBMIN, NDIV, RFACT : no effect; each panel (a whole tile column) is factored by".into(),
        "         Tessera's recursive LU kernel; the values only name the variant in T/V".into(),
        "BCAST, DEPTH : no effect; tasks are scheduled as their data become ready, lookahead".into(),
        "         comes from task priorities (the next panel overtakes the trailing update)".into(),
        "SWAP, swapping threshold : no effect; row interchanges are batched tasks over tile columns".into(),
        "L1, U, EQUIL, ALIGN : no effect (each tile is a separate column-major block)".into(),
        format!("Tile kernels : {} (one thread per task)", cfg.kernels),
    ]
}

/// The T/V code: `W`, PMAP, DEPTH, BCAST, RFACT, NDIV, PFACT, NBMIN.
pub fn variant(
    pmap: u8,
    depth: usize,
    bcast: u8,
    rfact: u8,
    ndiv: usize,
    pfact: u8,
    nbmin: usize,
) -> String {
    format!(
        "W{}{}{}{}{}{}{}",
        if pmap == 0 { 'R' } else { 'C' },
        depth,
        bcast,
        FACT_CODE[rfact as usize],
        ndiv,
        FACT_CODE[pfact as usize],
        nbmin
    )
}

fn warn(out: &mut dyn Write, func: &str, msg: &str) -> io::Result<()> {
    writeln!(
        out,
        "HPL ERROR from process # 0, on line 0 of function {func}:"
    )?;
    writeln!(out, ">>> {msg} <<<")?;
    writeln!(out)
}

/// Bytes available for a test (MemAvailable of /proc/meminfo), if known.
fn available_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs every test of `dat` and writes HPL's report to `out`. Problems that cannot run
/// (grid larger than the launched ranks, not enough memory, an error) are skipped with a
/// message in HPL's words and counted as skipped.
pub fn run(
    rt: &Runtime,
    dat: &HplDat,
    cfg: &RunConfig,
    out: &mut dyn Write,
) -> io::Result<Summary> {
    write_header(out, dat, cfg)?;
    let mut sum = Summary::default();
    let per_grid = dat.test_count() / dat.grids.len().max(1);
    let avail = available_memory();
    for &(p, q) in &dat.grids {
        if p * q > cfg.ranks {
            warn(
                out,
                "HPL_pdinfo",
                &format!(
                    "Need at least {} processes for these tests (P = {p}, Q = {q}; {} launched): {per_grid} test(s) skipped",
                    p * q,
                    cfg.ranks
                ),
            )?;
            sum.skipped += per_grid;
            continue;
        }
        for &n in &dat.ns {
            for &nb in &dat.nbs {
                for &depth in &dat.depths {
                    for &bcast in &dat.bcasts {
                        for &rfact in &dat.rfacts {
                            for &ndiv in &dat.ndivs {
                                for &nbmin in &dat.nbmins {
                                    for &pfact in &dat.pfacts {
                                        let code = variant(
                                            dat.pmap, depth, bcast, rfact, ndiv, pfact, nbmin,
                                        );
                                        one_test(
                                            rt, dat, cfg, out, &mut sum, &code, n, nb, p, q, avail,
                                        )?;
                                        out.flush()?;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    writeln!(out, "{EQ}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Finished {:6} tests with the following results:",
        sum.completed() + sum.skipped
    )?;
    if dat.threshold > 0.0 {
        writeln!(
            out,
            "         {:6} tests completed and passed residual checks,",
            sum.passed
        )?;
        writeln!(
            out,
            "         {:6} tests completed and failed residual checks,",
            sum.failed
        )?;
    } else {
        writeln!(
            out,
            "         {:6} tests completed without checking,",
            sum.unchecked
        )?;
    }
    writeln!(
        out,
        "         {:6} tests skipped because of illegal input values.",
        sum.skipped
    )?;
    writeln!(out, "{DASH}")?;
    writeln!(out)?;
    writeln!(out, "End of Tests.")?;
    writeln!(out, "{EQ}")?;
    out.flush()?;
    Ok(sum)
}

#[allow(clippy::too_many_arguments)]
fn one_test(
    rt: &Runtime,
    dat: &HplDat,
    cfg: &RunConfig,
    out: &mut dyn Write,
    sum: &mut Summary,
    code: &str,
    n: usize,
    nb: usize,
    p: usize,
    q: usize,
    avail: Option<u64>,
) -> io::Result<()> {
    if cfg.mxp && rt.nranks() > 1 {
        warn(
            out,
            "HPL_pdtest",
            "[0,0] the mixed-precision mode runs in one process (start it without mpirun). Skip.",
        )?;
        sum.skipped += 1;
        return Ok(());
    }
    // A's share on this rank; every rank must agree to run the test.
    let nn = n as u64;
    let need = nn * nn * if cfg.mxp { 12 } else { 8 } / (p * q) as u64 + nn * 64;
    let short = avail.is_some_and(|a| need as f64 > 0.9 * a as f64);
    if rt.agree_min(u64::from(!short)) == 0 {
        warn(
            out,
            "HPL_pdtest",
            "[0,0] Memory allocation failed for A, x and b. Skip.",
        )?;
        sum.skipped += 1;
        return Ok(());
    }
    let res = if cfg.mxp {
        run_mixed(
            rt,
            n,
            nb,
            HPL_SEED,
            cfg.mxp_target.unwrap_or(if dat.threshold > 0.0 {
                dat.threshold
            } else {
                16.0
            }),
            cfg.trace.is_some(),
        )
    } else {
        run_double(rt, n, nb, HPL_SEED, (p, q), cfg.trace.is_some())
    };
    let (timed, a, x) = match res {
        Ok(r) => r,
        Err(e) => {
            warn(out, "HPL_pdtest", &format!("[0,0] {e}. Skip."))?;
            sum.skipped += 1;
            return Ok(());
        }
    };
    if let (Some(prefix), Some(tr)) = (&cfg.trace, &timed.trace) {
        let path = format!("{prefix}.N{n}.NB{nb}.{p}x{q}.rank{}.json", rt.rank());
        match std::fs::write(&path, tr.to_chrome_json()) {
            Ok(()) => eprintln!("rank {} ({path}): {}", rt.rank(), tr.summary()),
            Err(e) => eprintln!("rank {}: cannot write the trace {path}: {e}", rt.rank()),
        }
    }
    let secs = timed.time.as_secs_f64();
    let gflops = if secs > 0.0 {
        hpl_flops(n) / secs / 1e9
    } else {
        0.0
    };
    writeln!(out, "{EQ}")?;
    writeln!(
        out,
        "T/V                N    NB     P     Q               Time                 Gflops"
    )?;
    writeln!(out, "{DASH}")?;
    writeln!(
        out,
        "{code}{n:>12} {nb:>5} {p:>5} {q:>5} {secs:>18.2}    {:>19}",
        c_exp(gflops, 4)
    )?;
    writeln!(out, "HPL_pdgesv() start time {}", ctime(timed.start))?;
    writeln!(out)?;
    writeln!(out, "HPL_pdgesv() end time   {}", ctime(timed.end))?;
    writeln!(out)?;
    if let Some(s) = &timed.mxp {
        writeln!(
            out,
            "Mixed precision: LU in single precision {:.2} s, refinement in double precision {:.2} s ({} step(s), {} GMRES iteration(s))",
            s.factor.as_secs_f64(),
            s.refine.as_secs_f64(),
            s.outer,
            s.inner
        )?;
    }
    if let Some(i) = timed.singular {
        writeln!(
            out,
            "U({i},{i}) is exactly zero: the matrix is singular, no solution computed"
        )?;
    }
    if dat.threshold <= 0.0 {
        sum.unchecked += 1;
        return Ok(());
    }
    writeln!(out, "{DASH}")?;
    let c = match check(rt, &a, &x, n, HPL_SEED) {
        Ok(c) => c,
        Err(e) => {
            writeln!(out, "residual check failed to run: {e}")?;
            sum.failed += 1;
            return Ok(());
        }
    };
    let passed = timed.singular.is_none() && c.scaled < dat.threshold;
    writeln!(
        out,
        "||Ax-b||_oo/(eps*(||A||_oo*||x||_oo+||b||_oo)*N)= {:>16} ...... {}",
        c_exp(c.scaled, 8),
        if passed { "PASSED" } else { "FAILED" }
    )?;
    if passed {
        sum.passed += 1;
    } else {
        sum.failed += 1;
        for (label, v) in [
            ("||Ax-b||_oo  . . . . . . . . . . . . . . . . . = ", c.r_inf),
            ("||A||_oo . . . . . . . . . . . . . . . . . . . = ", c.a_inf),
            ("||A||_1  . . . . . . . . . . . . . . . . . . . = ", c.a_one),
            ("||x||_oo . . . . . . . . . . . . . . . . . . . = ", c.x_inf),
            ("||x||_1  . . . . . . . . . . . . . . . . . . . = ", c.x_one),
            ("||b||_oo . . . . . . . . . . . . . . . . . . . = ", c.b_inf),
        ] {
            writeln!(out, "{label}{v:>18.6}")?;
        }
    }
    Ok(())
}

/// An embedded default for a machine with `workers` cores and `mem` bytes available: one
/// problem that takes well under a minute (about 30 Gflop/s per core assumed), at most a
/// quarter of the memory, NB 256 (where the tile kernels run near their peak).
pub fn default_problem(workers: usize, mem: Option<u64>) -> (usize, usize) {
    let nb = 256;
    // ~20 s of LU at 30 Gflop/s per core.
    let flops = 30e9 * workers.max(1) as f64 * 20.0;
    let mut n = (1.5 * flops).cbrt() as usize;
    if let Some(m) = mem {
        let by_mem = ((m as f64 / 4.0 / 8.0).sqrt()) as usize;
        n = n.min(by_mem);
    }
    n = (n / nb).max(1) * nb;
    (n.clamp(nb, 40_000), nb)
}

/// [`default_problem`] for this machine.
pub fn default_for_this_machine(workers: usize) -> (usize, usize) {
    default_problem(workers, available_memory())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_codes() {
        assert_eq!(variant(0, 1, 1, 1, 2, 2, 4), "WR11C2R4");
        assert_eq!(variant(1, 0, 5, 0, 3, 1, 8), "WC05L3C8");
    }

    #[test]
    fn default_problem_is_bounded() {
        let (n, nb) = default_problem(2, Some(24 << 30));
        assert_eq!(n % nb, 0);
        assert!((8000..=14000).contains(&n), "{n}");
        let (n, _) = default_problem(64, Some(1 << 30));
        assert!(n * n * 8 <= (1 << 30) / 4 + 1, "{n}");
    }

    #[test]
    fn header_echoes_like_hpl() {
        let text = HplDat::default_text(8000, 192).replace(
            "1            # of problems sizes (N)\n8000",
            "2            # of problems sizes (N)\n8000 12000",
        );
        let dat = HplDat::parse(&text).unwrap();
        let mut buf = Vec::new();
        write_header(&mut buf, &dat, &RunConfig::default()).unwrap();
        let s = String::from_utf8(buf).unwrap();
        for line in [
            "N      :    8000    12000 ",
            "NB     :     192 ",
            "PMAP   : Row-major process mapping",
            "PFACT  :   Right ",
            "RFACT  :   Crout ",
            "BCAST  :  1ringM ",
            "SWAP   : Mix (threshold = 64)",
            "L1     : transposed form",
            "EQUIL  : yes",
            "ALIGN  : 8 double precision words",
            "- The relative machine precision (eps) is taken to be               1.110223e-16",
            "- Computational tests pass if scaled residuals are less than                16.0",
        ] {
            assert!(
                s.lines().any(|l| l == line),
                "missing line {line:?} in\n{s}"
            );
        }
    }
}

//! `HPL.dat`: netlib HPL 2.3's input file, every line of it.
//!
//! Each line holds its value(s) first and free text after; a count line (`# of ...`)
//! precedes the list it counts, and the list line holds at least that many values (the
//! rest of the line is comment). Lines 1 and 2 are free text; lines after 31 are ignored
//! (hpcc's `hpccinf.txt` adds PTRANS lines there, so it is read as well).

use std::fmt;

/// Where the results go (HPL.dat lines 3 and 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// Device 6: standard output.
    Stdout,
    /// Device 7: standard error.
    Stderr,
    /// Any other device number: the file named on line 3 (created or truncated).
    File(String),
}

/// The parsed contents of an `HPL.dat`.
#[derive(Debug, Clone, PartialEq)]
pub struct HplDat {
    /// Output file name (line 3), used when [`HplDat::device`] is a file.
    pub output_file: String,
    /// Device number as written (line 4).
    pub device_number: i64,
    /// Where the output goes.
    pub device: Device,
    /// Problem sizes.
    pub ns: Vec<usize>,
    /// Block sizes.
    pub nbs: Vec<usize>,
    /// Process mapping: 0 row-major, 1 column-major.
    pub pmap: u8,
    /// Process grids `(P, Q)`.
    pub grids: Vec<(usize, usize)>,
    /// Residual threshold; a negative value skips the check.
    pub threshold: f64,
    /// Panel factorizations (0 left, 1 Crout, 2 right).
    pub pfacts: Vec<u8>,
    /// Recursion stopping widths.
    pub nbmins: Vec<usize>,
    /// Panels in recursion.
    pub ndivs: Vec<usize>,
    /// Recursive panel factorizations (0 left, 1 Crout, 2 right).
    pub rfacts: Vec<u8>,
    /// Broadcasts (0 1ring, 1 1ringM, 2 2ring, 3 2ringM, 4 Blong, 5 BlongM).
    pub bcasts: Vec<u8>,
    /// Lookahead depths.
    pub depths: Vec<usize>,
    /// Swapping algorithm (0 binary exchange, 1 long / spread-roll, 2 mix).
    pub swap: u8,
    /// Swapping threshold (columns).
    pub swap_threshold: usize,
    /// L1 form: 0 transposed, 1 not transposed.
    pub l1_form: u8,
    /// U form: 0 transposed, 1 not transposed.
    pub u_form: u8,
    /// Equilibration: 0 no, 1 yes.
    pub equil: u8,
    /// Memory alignment in doubles.
    pub align: usize,
}

/// A malformed `HPL.dat`: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatError {
    /// 1-based line number (one past the last line when the file is too short).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DatError {}

struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn get(&self, no: usize, what: &str) -> Result<&'a str, DatError> {
        self.lines.get(no - 1).copied().ok_or_else(|| DatError {
            line: no,
            message: format!(
                "missing: the file ends after {} lines, line {no} should hold {what}",
                self.lines.len()
            ),
        })
    }

    /// The first `count` whitespace-separated tokens of line `no`.
    fn tokens(&self, no: usize, count: usize, what: &str) -> Result<Vec<&'a str>, DatError> {
        let toks: Vec<&str> = self.get(no, what)?.split_whitespace().take(count).collect();
        if toks.len() < count {
            return Err(DatError {
                line: no,
                message: format!(
                    "expected {count} value{} of {what}, found {}",
                    if count == 1 { "" } else { "s" },
                    toks.len()
                ),
            });
        }
        Ok(toks)
    }

    fn ints(
        &self,
        no: usize,
        count: usize,
        what: &str,
        min: i64,
        max: i64,
    ) -> Result<Vec<i64>, DatError> {
        self.tokens(no, count, what)?
            .into_iter()
            .enumerate()
            .map(|(idx, t)| {
                let v: i64 = t.parse().map_err(|_| DatError {
                    line: no,
                    message: if idx == 0 {
                        format!("'{t}' is not an integer ({what})")
                    } else {
                        format!(
                            "expected {count} values of {what}: value {} '{t}' is not an integer",
                            idx + 1
                        )
                    },
                })?;
                if v < min || v > max {
                    let range = if max == i64::MAX {
                        format!("at least {min}")
                    } else {
                        format!("between {min} and {max}")
                    };
                    return Err(DatError {
                        line: no,
                        message: format!("{what} = {v} is out of range (must be {range})"),
                    });
                }
                Ok(v)
            })
            .collect()
    }

    fn int(&self, no: usize, what: &str, min: i64, max: i64) -> Result<i64, DatError> {
        Ok(self.ints(no, 1, what, min, max)?[0])
    }

    /// A count line followed by its list line.
    fn list(&self, no: usize, what: &str, min: i64, max: i64) -> Result<Vec<i64>, DatError> {
        let count = self.int(no, &format!("the number of {what}"), 1, 10_000)? as usize;
        self.ints(no + 1, count, what, min, max)
    }
}

fn to_usize(v: Vec<i64>) -> Vec<usize> {
    v.into_iter().map(|x| x as usize).collect()
}

fn to_u8(v: Vec<i64>) -> Vec<u8> {
    v.into_iter().map(|x| x as u8).collect()
}

impl HplDat {
    /// Parses the text of an `HPL.dat` (netlib HPL 2.3 format, 31 lines).
    ///
    /// ```
    /// let text = tessera::hpl::HplDat::default_text(1000, 128);
    /// let dat = tessera::hpl::HplDat::parse(&text).unwrap();
    /// assert_eq!((dat.ns[0], dat.nbs[0], dat.grids[0]), (1000, 128, (1, 1)));
    /// assert!(tessera::hpl::HplDat::parse("too\nshort\n").unwrap_err().line == 3);
    /// ```
    pub fn parse(text: &str) -> Result<HplDat, DatError> {
        let l = Lines {
            lines: text.lines().collect(),
        };
        l.get(1, "a title (free text)")?;
        l.get(2, "a second title line (free text)")?;
        let output_file = l.tokens(3, 1, "the output file name")?[0].to_string();
        let device_number = l.int(
            4,
            "the device out (6=stdout, 7=stderr, file)",
            i64::MIN,
            i64::MAX,
        )?;
        let device = match device_number {
            6 => Device::Stdout,
            7 => Device::Stderr,
            _ => Device::File(output_file.clone()),
        };
        let ns = to_usize(l.list(5, "N (problem sizes)", 0, i64::MAX)?);
        let nbs = to_usize(l.list(7, "NB (block sizes)", 1, i64::MAX)?);
        let pmap = l.int(9, "PMAP (0=row-, 1=column-major)", 0, 1)? as u8;
        let ngrids = l.int(10, "the number of process grids", 1, 10_000)? as usize;
        let ps = to_usize(l.ints(11, ngrids, "P (process rows)", 1, i64::MAX)?);
        let qs = to_usize(l.ints(12, ngrids, "Q (process columns)", 1, i64::MAX)?);
        let thr = l.tokens(13, 1, "the residual threshold")?[0];
        let threshold: f64 = thr.parse().map_err(|_| DatError {
            line: 13,
            message: format!("'{thr}' is not a number (threshold)"),
        })?;
        if !threshold.is_finite() {
            return Err(DatError {
                line: 13,
                message: format!("threshold {thr} is not finite"),
            });
        }
        let pfacts = to_u8(l.list(14, "PFACT (0=left, 1=Crout, 2=Right)", 0, 2)?);
        let nbmins = to_usize(l.list(16, "NBMIN (>= 1)", 1, i64::MAX)?);
        let ndivs = to_usize(l.list(18, "NDIV (>= 2)", 2, i64::MAX)?);
        let rfacts = to_u8(l.list(20, "RFACT (0=left, 1=Crout, 2=Right)", 0, 2)?);
        let bcasts = to_u8(l.list(22, "BCAST (0..5)", 0, 5)?);
        let depths = to_usize(l.list(24, "DEPTH (>= 0)", 0, i64::MAX)?);
        let swap = l.int(26, "SWAP (0=bin-exch, 1=long, 2=mix)", 0, 2)? as u8;
        let swap_threshold = l.int(27, "the swapping threshold (>= 0)", 0, i64::MAX)? as usize;
        let l1_form = l.int(28, "the L1 form (0=transposed, 1=no-transposed)", 0, 1)? as u8;
        let u_form = l.int(29, "the U form (0=transposed, 1=no-transposed)", 0, 1)? as u8;
        let equil = l.int(30, "equilibration (0=no, 1=yes)", 0, 1)? as u8;
        let align = l.int(31, "the memory alignment in doubles (> 0)", 1, i64::MAX)? as usize;
        Ok(HplDat {
            output_file,
            device_number,
            device,
            ns,
            nbs,
            pmap,
            grids: ps.into_iter().zip(qs).collect(),
            threshold,
            pfacts,
            nbmins,
            ndivs,
            rfacts,
            bcasts,
            depths,
            swap,
            swap_threshold,
            l1_form,
            u_form,
            equil,
            align,
        })
    }

    /// An `HPL.dat` for one problem of order `n` with block size `nb` on a 1 x 1 grid,
    /// output to stdout, other parameters as in HPL's own example file.
    pub fn default_text(n: usize, nb: usize) -> String {
        Self::default_text_on(n, nb, 1, 1)
    }

    /// [`HplDat::default_text`] on a `p x q` grid.
    pub fn default_text_on(n: usize, nb: usize, p: usize, q: usize) -> String {
        format!(
            "HPLinpack benchmark input file
Innovative Computing Laboratory, University of Tennessee
HPL.out      output file name (if any)
6            device out (6=stdout,7=stderr,file)
1            # of problems sizes (N)
{n:<12} Ns
1            # of NBs
{nb:<12} NBs
0            PMAP process mapping (0=Row-,1=Column-major)
1            # of process grids (P x Q)
{p:<12} Ps
{q:<12} Qs
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
"
        )
    }

    /// Number of tests the file asks for: every combination of N, NB, grid, PFACT, NBMIN,
    /// NDIV, RFACT, BCAST and DEPTH.
    pub fn test_count(&self) -> usize {
        self.ns.len()
            * self.nbs.len()
            * self.grids.len()
            * self.pfacts.len()
            * self.nbmins.len()
            * self.ndivs.len()
            * self.rfacts.len()
            * self.bcasts.len()
            * self.depths.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace_line(text: &str, no: usize, with: &str) -> String {
        text.lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == no { with } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn parses_the_default_and_hpcc_files() {
        let t = HplDat::default_text(8000, 192);
        let d = HplDat::parse(&t).unwrap();
        assert_eq!(d.device, Device::Stdout);
        assert_eq!(d.ns, vec![8000]);
        assert_eq!(d.pfacts, vec![2]);
        assert_eq!(d.rfacts, vec![1]);
        assert_eq!((d.swap, d.swap_threshold, d.equil, d.align), (2, 64, 1, 8));
        assert_eq!(d.test_count(), 1);
        // hpcc's file: the same 31 lines and 4 more, which are ignored.
        let hpcc = format!("{t}##### This line (no. 32) is ignored\n0 x\n1200 10000\n0 y\n40 9\n");
        assert_eq!(HplDat::parse(&hpcc).unwrap(), d);
    }

    #[test]
    fn lists_and_devices() {
        let t = HplDat::default_text(100, 32);
        let t = replace_line(&t, 4, "8 device");
        let t = replace_line(&t, 5, "3   # of N");
        let t = replace_line(&t, 6, "100 200 300 400 comment");
        let t = replace_line(&t, 10, "2 grids");
        let t = replace_line(&t, 11, "1 2");
        let t = replace_line(&t, 12, "4 1");
        let d = HplDat::parse(&t).unwrap();
        assert_eq!(d.device, Device::File("HPL.out".into()));
        assert_eq!(d.ns, vec![100, 200, 300]);
        assert_eq!(d.grids, vec![(1, 4), (2, 1)]);
        assert_eq!(d.test_count(), 6);
    }

    #[test]
    fn errors_name_the_line() {
        let t = HplDat::default_text(100, 32);
        let cases = [
            (6, "abc Ns", "not an integer"),
            (6, "-5 Ns", "out of range"),
            (5, "2  # of N", "expected 2 values"),
            (8, "0 NBs", "out of range"),
            (13, "sixteen", "not a number"),
            (15, "3 PFACTs", "out of range"),
            (19, "1 NDIVs", "out of range"),
            (23, "6 BCASTs", "out of range"),
            (26, "3 SWAP", "out of range"),
            (31, "0 align", "out of range"),
            (12, "", "expected 1 value"),
        ];
        for (no, line, msg) in cases {
            let e = HplDat::parse(&replace_line(&t, no, line)).unwrap_err();
            let want = if no == 5 { 6 } else { no };
            assert_eq!(e.line, want, "{line}: {e}");
            assert!(e.message.contains(msg), "{line}: {e}");
        }
        let short: String = t.lines().take(27).collect::<Vec<_>>().join("\n");
        let e = HplDat::parse(&short).unwrap_err();
        assert_eq!(e.line, 28);
        assert!(e.message.contains("missing"), "{e}");
    }
}

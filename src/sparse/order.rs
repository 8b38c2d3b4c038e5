//! Fill-reducing orderings: METIS nested dissection (vendored METIS through the `metis`
//! crate), approximate minimum degree (faer's AMD), Scotch (feature `scotch`, not built
//! yet: asking for it without the feature is an error), or a permutation the user gives.
//!
//! Every ordering works on the pattern of `A + A^T` without the diagonal, so unsymmetric
//! matrices are ordered on their symmetrized pattern, as PaStiX does.

use crate::error::{Error, Result};

/// Which fill-reducing ordering to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ordering {
    /// METIS nested dissection (`METIS_NodeND`), the default.
    #[default]
    Metis,
    /// Approximate minimum degree (faer's AMD).
    Amd,
    /// Scotch nested dissection (needs the `scotch` feature).
    Scotch,
    /// No reordering.
    Natural,
    /// A user permutation: `perm[new] = old`.
    Given(Vec<usize>),
}

impl core::str::FromStr for Ordering {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "metis" => Ok(Ordering::Metis),
            "amd" => Ok(Ordering::Amd),
            "scotch" => Ok(Ordering::Scotch),
            "natural" | "none" => Ok(Ordering::Natural),
            _ => Err(format!(
                "unknown ordering '{s}' (expected metis, amd, scotch or natural)"
            )),
        }
    }
}

impl Ordering {
    /// Name as printed in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Ordering::Metis => "metis",
            Ordering::Amd => "amd",
            Ordering::Scotch => "scotch",
            Ordering::Natural => "natural",
            Ordering::Given(_) => "given",
        }
    }
}

/// The adjacency graph of `A + A^T` without self loops: `(xadj, adjncy)`, sorted.
pub(crate) fn graph(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut deg = vec![0usize; n + 1];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                deg[i + 1] += 1;
                deg[j + 1] += 1;
            }
        }
    }
    for j in 0..n {
        deg[j + 1] += deg[j];
    }
    let mut next = deg.clone();
    let mut adj = vec![0usize; deg[n]];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                adj[next[i]] = j;
                next[i] += 1;
                adj[next[j]] = i;
                next[j] += 1;
            }
        }
    }
    // Sort and deduplicate each list (both (i, j) and (j, i) may be stored).
    let mut xadj = vec![0usize; n + 1];
    let mut out = Vec::with_capacity(adj.len() / 2 + n);
    for v in 0..n {
        let l = &mut adj[deg[v]..deg[v + 1]];
        l.sort_unstable();
        let mut last = usize::MAX;
        for &u in l.iter() {
            if u != last {
                out.push(u);
                last = u;
            }
        }
        xadj[v + 1] = out.len();
    }
    (xadj, out)
}

/// Computes the permutation (`perm[new] = old`) for the pattern given in compressed
/// columns (any square pattern; it is symmetrized).
pub fn compute(
    ordering: &Ordering,
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Result<Vec<usize>> {
    match ordering {
        Ordering::Natural => Ok((0..n).collect()),
        Ordering::Given(p) => {
            check_permutation(p, n)?;
            Ok(p.clone())
        }
        Ordering::Amd => {
            let (xadj, adj) = graph(n, col_ptr, row_idx);
            amd(n, &xadj, &adj)
        }
        Ordering::Metis => {
            let (xadj, adj) = graph(n, col_ptr, row_idx);
            metis_nd(n, &xadj, &adj)
        }
        Ordering::Scotch => Err(Error::invalid(
            0,
            "the Scotch ordering needs Tessera built with the `scotch` feature; use metis or amd",
        )),
    }
}

/// Checks that `p` is a permutation of `0..n`.
pub fn check_permutation(p: &[usize], n: usize) -> Result<()> {
    if p.len() != n {
        return Err(Error::invalid(
            0,
            format!(
                "the permutation has {} entries for a matrix of order {n}",
                p.len()
            ),
        ));
    }
    let mut seen = vec![false; n];
    for (k, &v) in p.iter().enumerate() {
        if v >= n || seen[v] {
            return Err(Error::invalid(
                0,
                format!("entry {k} of the permutation ({v}) is out of range or repeated"),
            ));
        }
        seen[v] = true;
    }
    Ok(())
}

fn amd(n: usize, xadj: &[usize], adj: &[usize]) -> Result<Vec<usize>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::sparse::linalg::amd;
    use faer::sparse::SymbolicSparseColMatRef;
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    if n == 0 {
        return Ok(perm);
    }
    let sym = SymbolicSparseColMatRef::new_checked(n, n, xadj, None, adj);
    let mut mem = MemBuffer::new(amd::order_scratch::<usize>(n, adj.len()));
    amd::order(
        &mut perm,
        &mut perm_inv,
        sym,
        amd::Control::default(),
        MemStack::new(&mut mem),
    )
    .map_err(|e| Error::Runtime(format!("AMD ordering failed: {e:?}")))?;
    Ok(perm)
}

fn metis_nd(n: usize, xadj: &[usize], adj: &[usize]) -> Result<Vec<usize>> {
    use metis_sys as m;
    if n == 0 {
        return Ok(Vec::new());
    }
    if adj.is_empty() {
        return Ok((0..n).collect());
    }
    if adj.len() > i32::MAX as usize {
        return Err(Error::invalid(
            0,
            "graph too large for 32-bit METIS indices",
        ));
    }
    let mut nv = n as m::idx_t;
    let mut xadj: Vec<m::idx_t> = xadj.iter().map(|&v| v as m::idx_t).collect();
    let mut adjncy: Vec<m::idx_t> = adj.iter().map(|&v| v as m::idx_t).collect();
    let mut options = [0 as m::idx_t; m::METIS_NOPTIONS as usize];
    let mut perm = vec![0 as m::idx_t; n];
    let mut iperm = vec![0 as m::idx_t; n];
    // SAFETY: `options` has METIS_NOPTIONS entries as METIS_SetDefaultOptions requires.
    unsafe { m::METIS_SetDefaultOptions(options.as_mut_ptr()) };
    options[m::moptions_et_METIS_OPTION_NUMBERING as usize] = 0;
    // SAFETY: xadj has n + 1 entries, adjncy xadj[n] entries, perm and iperm n entries each;
    // a null vertex-weight pointer is allowed; METIS does not keep the pointers.
    let status = unsafe {
        m::METIS_NodeND(
            &mut nv,
            xadj.as_mut_ptr(),
            adjncy.as_mut_ptr(),
            std::ptr::null_mut(),
            options.as_mut_ptr(),
            perm.as_mut_ptr(),
            iperm.as_mut_ptr(),
        )
    };
    if status != m::rstatus_et_METIS_OK {
        return Err(Error::Runtime(format!(
            "METIS_NodeND failed (status {status})"
        )));
    }
    // METIS's manual: row i of the reordered matrix is row perm[i] of A, so perm[new] = old.
    Ok(perm.into_iter().map(|v| v as usize).collect())
}

//! Fill-reducing orderings: `auto` (the default: Tessera's own nested dissection, module
//! `nd`, when its level-set separator clearly beats the multilevel one on the whole graph,
//! which happens on meshes; METIS otherwise), METIS nested dissection (vendored METIS through
//! the `metis` crate), Tessera's nested dissection alone, approximate minimum degree (faer's
//! AMD), Scotch nested dissection (feature `scotch`, through `scotch-sys` over the system's
//! libscotch; asking for it without the feature is an error), or a permutation the user
//! gives.
//!
//! Every ordering works on the pattern of `A + A^T` without the diagonal, so unsymmetric
//! matrices are ordered on their symmetrized pattern, as PaStiX does.

use crate::error::{Error, Result};

/// Which fill-reducing ordering to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ordering {
    /// METIS nested dissection (`METIS_NodeND`).
    Metis,
    /// Tessera's nested dissection on mesh-like graphs (where its level-set separators clearly
    /// beat multilevel ones on the whole graph), METIS otherwise. The default.
    #[default]
    Auto,
    /// Tessera's own nested dissection: multilevel vertex separators, the two halves of
    /// every dissection ordered in parallel, deterministic for any thread count.
    Nd,
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
            "nd" => Ok(Ordering::Nd),
            "auto" => Ok(Ordering::Auto),
            "scotch" => Ok(Ordering::Scotch),
            "natural" | "none" => Ok(Ordering::Natural),
            _ => Err(format!(
                "unknown ordering '{s}' (expected auto, metis, nd, amd, scotch or natural)"
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
            Ordering::Nd => "nd",
            Ordering::Auto => "auto",
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
    // The natural and given orderings do not look at the graph.
    let (xadj, adj) = match ordering {
        Ordering::Natural | Ordering::Given(_) => (Vec::new(), Vec::new()),
        _ => graph(n, col_ptr, row_idx),
    };
    compute_on_graph(ordering, n, &xadj, &adj)
}

/// Computes the permutation (`perm[new] = old`) for a graph from [`graph`] (symmetric, sorted,
/// no self loops).
pub(crate) fn compute_on_graph(
    ordering: &Ordering,
    n: usize,
    xadj: &[usize],
    adj: &[usize],
) -> Result<Vec<usize>> {
    compute_named(ordering, n, xadj, adj).map(|(p, _)| p)
}

/// [`compute_on_graph`], with the name of the ordering actually used (`auto (nd)` or
/// `auto (metis)` for [`Ordering::Auto`]).
pub(crate) fn compute_named(
    ordering: &Ordering,
    n: usize,
    xadj: &[usize],
    adj: &[usize],
) -> Result<(Vec<usize>, &'static str)> {
    if *ordering == Ordering::Auto {
        return match super::nd::order_if_mesh(n, xadj, adj) {
            Some(Some(p)) => Ok((p, "auto (nd)")),
            _ => Ok((metis_nd(n, xadj, adj)?, "auto (metis)")),
        };
    }
    let p = match ordering {
        Ordering::Natural => Ok((0..n).collect()),
        Ordering::Given(p) => {
            check_permutation(p, n)?;
            Ok(p.clone())
        }
        Ordering::Amd => amd(n, xadj, adj),
        Ordering::Metis => metis_nd(n, xadj, adj),
        Ordering::Auto => metis_nd(n, xadj, adj), // (handled above)
        Ordering::Nd => super::nd::order(n, xadj, adj).ok_or_else(|| {
            Error::invalid(0, "graph too large for 32-bit nested-dissection indices")
        }),
        #[cfg(feature = "scotch")]
        Ordering::Scotch => scotch_nd(n, xadj, adj, rayon::current_num_threads()),
        #[cfg(not(feature = "scotch"))]
        Ordering::Scotch => Err(Error::invalid(
            0,
            "the Scotch ordering needs Tessera built with the `scotch` feature; use metis or amd",
        )),
    }?;
    Ok((p, ordering.name()))
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
    // METIS draws its random numbers from the C library's global rand(), seeded at the start
    // of each call: two calls at once would interleave their draws and make the permutation
    // depend on timing. One METIS call at a time keeps it reproducible.
    static METIS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = METIS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
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

/// Scotch nested dissection (`SCOTCH_graphOrder` with Scotch's default ordering strategy),
/// run in a private Scotch context: `threads` threads, deterministic mode and a fixed
/// random seed, so the same graph always gives the same permutation whatever the thread
/// count of the caller, and concurrent calls do not share Scotch's random state.
#[cfg(feature = "scotch")]
fn scotch_nd(n: usize, xadj: &[usize], adj: &[usize], threads: usize) -> Result<Vec<usize>> {
    use scotch_sys as s;
    use std::mem::MaybeUninit;
    if n == 0 {
        return Ok(Vec::new());
    }
    if adj.is_empty() {
        return Ok((0..n).collect());
    }
    let num_max = s::SCOTCH_Num::MAX as usize;
    if adj.len() > num_max || n > num_max {
        return Err(Error::invalid(
            0,
            "graph too large for the index width of this libscotch",
        ));
    }
    let fail = |what: &str| Error::Runtime(format!("Scotch: {what} failed"));
    let verttab: Vec<s::SCOTCH_Num> = xadj.iter().map(|&v| v as s::SCOTCH_Num).collect();
    let edgetab: Vec<s::SCOTCH_Num> = adj.iter().map(|&v| v as s::SCOTCH_Num).collect();
    let mut permtab = vec![0 as s::SCOTCH_Num; n];
    let mut peritab = vec![0 as s::SCOTCH_Num; n];

    /// Scotch objects that must be released in reverse order of creation.
    struct Guard {
        graph: Option<Box<MaybeUninit<s::SCOTCH_Graph>>>,
        bound: Option<Box<MaybeUninit<s::SCOTCH_Graph>>>,
        strat: Option<Box<MaybeUninit<s::SCOTCH_Strat>>>,
        context: Option<Box<MaybeUninit<s::SCOTCH_Context>>>,
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: each object is present only after its successful `*Init`, and is
            // exited exactly once, the bound graph before the context it is bound to.
            unsafe {
                if let Some(g) = self.bound.as_mut() {
                    s::SCOTCH_graphExit(g.as_mut_ptr());
                }
                if let Some(g) = self.graph.as_mut() {
                    s::SCOTCH_graphExit(g.as_mut_ptr());
                }
                if let Some(st) = self.strat.as_mut() {
                    s::SCOTCH_stratExit(st.as_mut_ptr());
                }
                if let Some(c) = self.context.as_mut() {
                    s::SCOTCH_contextExit(c.as_mut_ptr());
                }
            }
        }
    }
    let mut g = Guard {
        graph: None,
        bound: None,
        strat: None,
        context: None,
    };

    // SAFETY (whole block): every object is initialised by its `*Init` before use and lives
    // in a Box that does not move until the guard drops it; the arrays passed to
    // SCOTCH_graphBuild (verttab: n + 1 entries, edgetab: verttab[n] entries, base 0)
    // outlive the graph, which only borrows them; permtab and peritab have n entries.
    unsafe {
        let mut graph = Box::new(MaybeUninit::<s::SCOTCH_Graph>::uninit());
        if s::SCOTCH_graphInit(graph.as_mut_ptr()) != 0 {
            return Err(fail("SCOTCH_graphInit"));
        }
        g.graph = Some(graph);
        let gp = g.graph.as_mut().unwrap().as_mut_ptr();
        if s::SCOTCH_graphBuild(
            gp,
            0,
            n as s::SCOTCH_Num,
            verttab.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null(),
            edgetab.len() as s::SCOTCH_Num,
            edgetab.as_ptr(),
            std::ptr::null(),
        ) != 0
        {
            return Err(fail("SCOTCH_graphBuild"));
        }

        let mut strat = Box::new(MaybeUninit::<s::SCOTCH_Strat>::uninit());
        if s::SCOTCH_stratInit(strat.as_mut_ptr()) != 0 {
            return Err(fail("SCOTCH_stratInit"));
        }
        g.strat = Some(strat);
        let sp = g.strat.as_mut().unwrap().as_mut_ptr();

        // A private context: own random state, deterministic, `threads` threads. If this
        // libscotch cannot spawn threads, order sequentially on the plain graph.
        let mut ctx = Box::new(MaybeUninit::<s::SCOTCH_Context>::uninit());
        let mut target = gp;
        if s::SCOTCH_contextInit(ctx.as_mut_ptr()) == 0 {
            g.context = Some(ctx);
            let cp = g.context.as_mut().unwrap().as_mut_ptr();
            let ok = s::SCOTCH_contextRandomClone(cp) == 0
                && s::SCOTCH_contextOptionSetNum(cp, s::SCOTCH_OPTIONNUMDETERMINISTIC as _, 1) == 0
                && s::SCOTCH_contextOptionSetNum(cp, s::SCOTCH_OPTIONNUMRANDOMFIXEDSEED as _, 1)
                    == 0;
            if ok {
                s::SCOTCH_contextRandomSeed(cp, 1);
                if threads > 1 {
                    // Failure to spawn leaves a usable one-thread context.
                    let _ = s::SCOTCH_contextThreadSpawn(cp, threads as _, std::ptr::null());
                }
                let mut bound = Box::new(MaybeUninit::<s::SCOTCH_Graph>::uninit());
                if s::SCOTCH_graphInit(bound.as_mut_ptr()) == 0 {
                    g.bound = Some(bound);
                    let bp = g.bound.as_mut().unwrap().as_mut_ptr();
                    if s::SCOTCH_contextBindGraph(cp, gp, bp) == 0 {
                        target = bp;
                    }
                }
            }
        }

        if s::SCOTCH_graphOrder(
            target,
            sp,
            permtab.as_mut_ptr(),
            peritab.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ) != 0
        {
            return Err(fail("SCOTCH_graphOrder"));
        }
    }
    drop(g);
    // Scotch: peritab[new] = old.
    let perm: Vec<usize> = peritab.into_iter().map(|v| v as usize).collect();
    check_permutation(&perm, n)?;
    Ok(perm)
}

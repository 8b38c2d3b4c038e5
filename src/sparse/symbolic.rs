//! Symbolic analysis: elimination tree, postorder, column counts, supernodes with relaxed
//! amalgamation, the block structure of the factor, and its cost.
//!
//! The factor is stored by **column blocks** (cblks, PaStiX's word): a cblk is a range of
//! consecutive columns that share one row structure below them, stored as one dense panel
//! whose first rows are the cblk's own columns (the diagonal block) and whose other rows are
//! the off-diagonal rows, grouped into blocks by the cblk whose columns they fall in (the
//! target of the update they produce). Supernodes wider than the split width are cut into
//! several cblks, so that large separators give node parallelism as well as tree
//! parallelism. A block-low-rank variant would compress the off-diagonal blocks of this
//! structure: the blocks are already the unit it needs.

use super::order::{self, Ordering};
use crate::error::{Error, Result};

/// Relaxed amalgamation and splitting parameters (defaults follow CHOLMOD's amalgamation
/// rules and PaStiX's split sizes).
#[derive(Debug, Clone)]
pub struct SymbolicOptions {
    /// Supernodes with at most this many columns always absorb a child (CHOLMOD `nrelax[0]`).
    pub relax_small: usize,
    /// (max merged width, max fraction of explicit zeros) pairs tried in order after
    /// `relax_small` (CHOLMOD: (16, 0.8), (48, 0.1), then 0.05 for any width).
    pub relax_rules: Vec<(usize, f64)>,
    /// Zero fraction accepted for any merged width.
    pub relax_any: f64,
    /// Supernodes wider than this are split into column blocks ...
    pub split_above: usize,
    /// ... of about this width.
    pub split_width: usize,
}

impl Default for SymbolicOptions {
    fn default() -> Self {
        SymbolicOptions {
            relax_small: 4,
            relax_rules: vec![(16, 0.8), (48, 0.1)],
            relax_any: 0.05,
            split_above: 256,
            split_width: 160,
        }
    }
}

/// One block of off-diagonal rows of a cblk: rows `start..end` of the cblk's off-diagonal
/// row list, all inside the columns of cblk `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The cblk whose columns these rows are.
    pub target: usize,
    /// First position in [`Cblk::rows`].
    pub start: usize,
    /// One past the last position.
    pub end: usize,
}

/// A column block of the factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cblk {
    /// First column (in the permuted numbering).
    pub first: usize,
    /// One past the last column.
    pub end: usize,
    /// Off-diagonal rows (all `>= end`), increasing.
    pub rows: Vec<usize>,
    /// The off-diagonal rows grouped by target cblk, in increasing order.
    pub blocks: Vec<Block>,
    /// The parent cblk in the cblk tree (`None` for a root).
    pub parent: Option<usize>,
}

impl Cblk {
    /// Number of columns.
    pub fn width(&self) -> usize {
        self.end - self.first
    }
    /// Rows of the panel: the diagonal block plus the off-diagonal rows.
    pub fn panel_rows(&self) -> usize {
        self.width() + self.rows.len()
    }
}

/// The result of the analysis: permutation, column blocks, predicted size and cost.
/// It depends on the pattern only and can be reused for every matrix with that pattern.
#[derive(Debug, Clone)]
pub struct Symbolic {
    pub(crate) n: usize,
    /// Fill-reducing permutation after postordering: `perm[new] = old`.
    pub(crate) perm: Vec<usize>,
    /// Its inverse: `iperm[old] = new`.
    pub(crate) iperm: Vec<usize>,
    pub(crate) cblks: Vec<Cblk>,
    /// The cblk of each column.
    pub(crate) col_to_cblk: Vec<usize>,
    pub(crate) ordering: &'static str,
    /// Pattern of the analysed matrix (to check that a new matrix has the same).
    pub(crate) col_ptr: Vec<usize>,
    pub(crate) row_idx: Vec<usize>,
    pub(crate) nsuper: usize,
    pub(crate) nnz_l_true: usize,
}

const NONE: usize = usize::MAX;

impl Symbolic {
    /// Order of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }
    /// The fill-reducing permutation, `perm[new] = old`.
    pub fn perm(&self) -> &[usize] {
        &self.perm
    }
    /// The cblk holding (permuted) column `j`.
    pub fn cblk_of(&self, j: usize) -> usize {
        self.col_to_cblk[j]
    }
    /// The column blocks.
    pub fn cblks(&self) -> &[Cblk] {
        &self.cblks
    }
    /// Name of the ordering used.
    pub fn ordering(&self) -> &'static str {
        self.ordering
    }
    /// Number of supernodes after amalgamation (before splitting).
    pub fn supernodes(&self) -> usize {
        self.nsuper
    }
    /// Entries of `L` without the explicit zeros amalgamation adds (the diagonal included).
    pub fn nnz_l_exact(&self) -> usize {
        self.nnz_l_true
    }
    /// Entries stored for `L` (the panels: the full diagonal block of each cblk plus its
    /// off-diagonal rows; CHOLMOD's `xsize` convention).
    pub fn factor_entries_l(&self) -> usize {
        self.cblks.iter().map(|c| c.width() * c.panel_rows()).sum()
    }
    /// Entries stored for an LU factorization (`L` panels plus the off-diagonal part of the
    /// `U` panels).
    pub fn factor_entries_lu(&self) -> usize {
        self.factor_entries_l()
            + self
                .cblks
                .iter()
                .map(|c| c.width() * c.rows.len())
                .sum::<usize>()
    }
    /// Flops of a Cholesky factorization in real arithmetic (multiply and add counted
    /// separately); LDL^T costs the same, LU twice as much, complex four times.
    pub fn flops_cholesky(&self) -> f64 {
        let mut f = 0.0;
        for c in &self.cblks {
            let w = c.width();
            let m = c.panel_rows();
            for k in 0..w {
                // Column k of the cblk: (m - k) entries, the rank-1 update of the rest.
                let below = (m - k - 1) as f64;
                f += below * (below + 1.0) + below + 1.0;
            }
        }
        f
    }
}

/// Runs the analysis of the square pattern `(col_ptr, row_idx)` (full storage; only the
/// pattern of `A + A^T` matters).
pub fn analyze(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
    ordering: &Ordering,
    opts: &SymbolicOptions,
) -> Result<Symbolic> {
    if col_ptr.len() != n + 1 {
        return Err(Error::invalid(0, "col_ptr must have n + 1 entries"));
    }
    // Symmetric pattern, no diagonal: column j holds the neighbours of j.
    let (xadj0, adj0) = order::graph(n, col_ptr, row_idx);
    let (perm0, ordering_name) = order::compute_named(ordering, n, &xadj0, &adj0)?;
    let mut iperm0 = vec![0usize; n];
    for (new, &old) in perm0.iter().enumerate() {
        iperm0[old] = new;
    }
    let (xadj, adj) = permute_graph(n, &xadj0, &adj0, &perm0, &iperm0);

    let parent = etree(n, &xadj, &adj);
    let post = postorder(n, &parent, None);
    let counts = col_counts(n, &xadj, &adj, &parent, &post);
    // Postorder again with the heaviest child last, so that it sits right before its parent
    // and can be amalgamated with it.
    let post = postorder(n, &parent, Some(&counts));
    let mut inv_post = vec![0usize; n];
    for (k, &j) in post.iter().enumerate() {
        inv_post[j] = k;
    }
    let perm: Vec<usize> = post.iter().map(|&j| perm0[j]).collect();
    let mut iperm = vec![0usize; n];
    for (new, &old) in perm.iter().enumerate() {
        iperm[old] = new;
    }
    let parent: Vec<usize> = post
        .iter()
        .map(|&j| {
            if parent[j] == NONE {
                NONE
            } else {
                inv_post[parent[j]]
            }
        })
        .collect();
    let counts: Vec<usize> = post.iter().map(|&j| counts[j]).collect();
    let nnz_l_true = counts.iter().sum();
    let (xadj, adj) = permute_graph(n, &xadj0, &adj0, &perm, &iperm);

    // Fundamental supernodes.
    let mut nchild = vec![0usize; n];
    for &p in &parent {
        if p != NONE {
            nchild[p] += 1;
        }
    }
    let mut sup_first = Vec::new();
    for j in 0..n {
        let joins = j > 0 && parent[j - 1] == j && counts[j - 1] == counts[j] + 1 && nchild[j] == 1;
        if !joins {
            sup_first.push(j);
        }
    }
    sup_first.push(n);
    let nfs = sup_first.len() - 1;
    let mut col_sup = vec![0usize; n];
    for s in 0..nfs {
        for c in sup_first[s]..sup_first[s + 1] {
            col_sup[c] = s;
        }
    }
    let sparent: Vec<usize> = (0..nfs)
        .map(|s| {
            let p = parent[sup_first[s + 1] - 1];
            if p == NONE {
                NONE
            } else {
                col_sup[p]
            }
        })
        .collect();

    // Relaxed amalgamation: merge a supernode into its parent's group when they are
    // adjacent and the explicit zeros stay few.
    let entries = |k: usize, m: usize| (k * m - k * (k.saturating_sub(1)) / 2) as f64;
    let mut group = vec![NONE; nfs]; // group id = the top supernode of the group
    let mut g_first = vec![0usize; nfs];
    let mut g_ncols = vec![0usize; nfs];
    let mut g_nrows = vec![0usize; nfs];
    let mut g_zeros = vec![0f64; nfs];
    for s in (0..nfs).rev() {
        let (f, e) = (sup_first[s], sup_first[s + 1]);
        let ns = e - f;
        let nr = counts[f];
        group[s] = s;
        g_first[s] = f;
        g_ncols[s] = ns;
        g_nrows[s] = nr;
        g_zeros[s] = 0.0;
        let p = sparent[s];
        if p == NONE {
            continue;
        }
        let g = group[p];
        if g_first[g] != e {
            continue;
        }
        let k = ns + g_ncols[g];
        let m = ns + g_nrows[g];
        let merged = entries(k, m);
        let zeros = g_zeros[g] + merged - entries(ns, nr) - entries(g_ncols[g], g_nrows[g]);
        let z = zeros / merged;
        let merge = k <= opts.relax_small
            || opts.relax_rules.iter().any(|&(w, zr)| k <= w && z < zr)
            || z < opts.relax_any;
        if merge {
            group[s] = g;
            g_first[g] = f;
            g_ncols[g] = k;
            g_nrows[g] = m;
            g_zeros[g] = zeros;
        }
    }
    // Final supernodes: the groups, in column order.
    let mut snode_first = Vec::new();
    for s in 0..nfs {
        if s == 0 || group[s] != group[s - 1] {
            snode_first.push(sup_first[s]);
        }
    }
    snode_first.push(n);
    let nsup = snode_first.len() - 1;
    let mut col_snode = vec![0usize; n];
    for s in 0..nsup {
        for c in snode_first[s]..snode_first[s + 1] {
            col_snode[c] = s;
        }
    }
    let snode_parent: Vec<usize> = (0..nsup)
        .map(|s| {
            let p = parent[snode_first[s + 1] - 1];
            if p == NONE {
                NONE
            } else {
                col_snode[p]
            }
        })
        .collect();
    // Row structures, children first (children have smaller indices).
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nsup];
    for s in 0..nsup {
        if snode_parent[s] != NONE {
            children[snode_parent[s]].push(s);
        }
    }
    let mut mark = vec![NONE; n];
    let mut sstruct: Vec<Vec<usize>> = vec![Vec::new(); nsup];
    for s in 0..nsup {
        let (f, e) = (snode_first[s], snode_first[s + 1]);
        let mut rows = Vec::new();
        for j in f..e {
            for &i in &adj[xadj[j]..xadj[j + 1]] {
                if i >= e && mark[i] != s {
                    mark[i] = s;
                    rows.push(i);
                }
            }
        }
        for &c in &children[s] {
            for &i in &sstruct[c] {
                if i >= e && mark[i] != s {
                    mark[i] = s;
                    rows.push(i);
                }
            }
        }
        rows.sort_unstable();
        sstruct[s] = rows;
        // Children's structures are no longer needed once absorbed... but a child may be
        // shared by nobody else, so free them to keep the peak low.
        for &c in &children[s] {
            sstruct[c].shrink_to_fit();
        }
    }
    // Split wide supernodes into cblks.
    let mut cblks: Vec<Cblk> = Vec::new();
    let mut snode_top_cblk = vec![0usize; nsup];
    for s in 0..nsup {
        let (f, e) = (snode_first[s], snode_first[s + 1]);
        let w = e - f;
        let pieces = if w > opts.split_above {
            w.div_ceil(opts.split_width.max(1))
        } else {
            1
        };
        for p in 0..pieces {
            let pf = f + w * p / pieces;
            let pe = f + w * (p + 1) / pieces;
            let mut rows: Vec<usize> = (pe..e).collect();
            rows.extend_from_slice(&sstruct[s]);
            cblks.push(Cblk {
                first: pf,
                end: pe,
                rows,
                blocks: Vec::new(),
                parent: None,
            });
        }
        snode_top_cblk[s] = cblks.len() - 1;
    }
    let mut col_to_cblk = vec![0usize; n];
    for (k, c) in cblks.iter().enumerate() {
        for j in c.first..c.end {
            col_to_cblk[j] = k;
        }
    }
    for k in 0..cblks.len() {
        let c = &cblks[k];
        let parent = if c.end < n
            && c.rows.first() == Some(&c.end)
            && col_snode[c.end] == col_snode[c.first]
        {
            Some(k + 1)
        } else {
            let s = col_snode[c.first];
            if snode_parent[s] == NONE {
                None
            } else {
                Some(col_to_cblk[snode_first[snode_parent[s]]])
            }
        };
        let mut blocks = Vec::new();
        let rows = &cblks[k].rows;
        let mut p = 0;
        while p < rows.len() {
            let t = col_to_cblk[rows[p]];
            let mut q = p + 1;
            while q < rows.len() && col_to_cblk[rows[q]] == t {
                q += 1;
            }
            blocks.push(Block {
                target: t,
                start: p,
                end: q,
            });
            p = q;
        }
        cblks[k].blocks = blocks;
        cblks[k].parent = parent;
    }
    let _ = snode_top_cblk;
    Ok(Symbolic {
        n,
        perm,
        iperm,
        cblks,
        col_to_cblk,
        ordering: ordering_name,
        col_ptr: col_ptr.to_vec(),
        row_idx: row_idx.to_vec(),
        nsuper: nsup,
        nnz_l_true,
    })
}

/// The graph with vertices renumbered: new vertex `v` is old `perm[v]`.
fn permute_graph(
    n: usize,
    xadj: &[usize],
    adj: &[usize],
    perm: &[usize],
    iperm: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let mut nx = vec![0usize; n + 1];
    let mut na = Vec::with_capacity(adj.len());
    for v in 0..n {
        let old = perm[v];
        na.extend(adj[xadj[old]..xadj[old + 1]].iter().map(|&u| iperm[u]));
        nx[v + 1] = na.len();
    }
    (nx, na)
}

/// Elimination tree of a symmetric pattern (Liu's algorithm with path compression).
pub(crate) fn etree(n: usize, xadj: &[usize], adj: &[usize]) -> Vec<usize> {
    let mut parent = vec![NONE; n];
    let mut ancestor = vec![NONE; n];
    for k in 0..n {
        for &i0 in &adj[xadj[k]..xadj[k + 1]] {
            let mut i = i0;
            while i != NONE && i < k {
                let next = ancestor[i];
                ancestor[i] = k;
                if next == NONE {
                    parent[i] = k;
                }
                i = next;
            }
        }
    }
    parent
}

/// A postorder of the forest; with `weights`, children are visited by increasing weight
/// (the heaviest last).
pub(crate) fn postorder(n: usize, parent: &[usize], weights: Option<&[usize]>) -> Vec<usize> {
    let mut head = vec![NONE; n];
    let mut next = vec![NONE; n];
    // Build child lists so that popping from the head visits children in the wanted order:
    // insert in decreasing weight order... stack order is reversed, see below.
    let mut order: Vec<usize> = (0..n).collect();
    if let Some(w) = weights {
        // Insert heaviest first so that it ends up last in the list.
        order.sort_by(|&a, &b| w[b].cmp(&w[a]).then(b.cmp(&a)));
    } else {
        order.reverse();
    }
    for &j in &order {
        let p = parent[j];
        if p != NONE {
            next[j] = head[p];
            head[p] = j;
        }
    }
    let mut post = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for root in 0..n {
        if parent[root] != NONE {
            continue;
        }
        stack.push(root);
        while let Some(&top) = stack.last() {
            let c = head[top];
            if c == NONE {
                stack.pop();
                post.push(top);
            } else {
                head[top] = next[c];
                stack.push(c);
            }
        }
    }
    post
}

/// Column counts of the Cholesky factor (diagonal included), Gilbert, Ng and Peyton's
/// algorithm as in Davis' CSparse (`cs_counts`), for a symmetric pattern.
pub(crate) fn col_counts(
    n: usize,
    xadj: &[usize],
    adj: &[usize],
    parent: &[usize],
    post: &[usize],
) -> Vec<usize> {
    let mut delta = vec![0isize; n];
    let mut first = vec![NONE; n];
    let mut maxfirst = vec![NONE; n];
    let mut prevleaf = vec![NONE; n];
    let mut ancestor: Vec<usize> = (0..n).collect();
    for (k, &j0) in post.iter().enumerate() {
        delta[j0] = if first[j0] == NONE { 1 } else { 0 };
        let mut j = j0;
        while j != NONE && first[j] == NONE {
            first[j] = k;
            j = parent[j];
        }
    }
    for &j in post {
        if parent[j] != NONE {
            delta[parent[j]] -= 1;
        }
        for &i in &adj[xadj[j]..xadj[j + 1]] {
            // cs_leaf(i, j)
            if i <= j || (maxfirst[i] != NONE && first[j] <= maxfirst[i]) {
                continue;
            }
            maxfirst[i] = first[j];
            let jprev = prevleaf[i];
            prevleaf[i] = j;
            delta[j] += 1;
            if jprev != NONE {
                let mut q = jprev;
                while q != ancestor[q] {
                    q = ancestor[q];
                }
                let mut s = jprev;
                while s != q {
                    let sp = ancestor[s];
                    ancestor[s] = q;
                    s = sp;
                }
                delta[q] -= 1;
            }
        }
        if parent[j] != NONE {
            ancestor[j] = parent[j];
        }
    }
    let mut cc = delta;
    for &j in post {
        if parent[j] != NONE {
            let v = cc[j];
            cc[parent[j]] += v;
        }
    }
    cc.into_iter().map(|v| v as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column counts by brute force: symbolic elimination with sets.
    fn brute_counts(n: usize, xadj: &[usize], adj: &[usize]) -> Vec<usize> {
        let mut cols: Vec<std::collections::BTreeSet<usize>> = (0..n)
            .map(|j| {
                adj[xadj[j]..xadj[j + 1]]
                    .iter()
                    .copied()
                    .filter(|&i| i > j)
                    .collect()
            })
            .collect();
        let mut counts = vec![0; n];
        for j in 0..n {
            let s: Vec<usize> = cols[j].iter().copied().collect();
            counts[j] = s.len() + 1;
            if let Some(&p) = s.first() {
                for &i in &s[1..] {
                    cols[p].insert(i);
                }
            }
        }
        counts
    }

    fn random_pattern(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut s = seed;
        let mut trip = Vec::new();
        for j in 0..n {
            trip.push((j, j));
            for _ in 0..3 {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let i = (s >> 33) as usize % n;
                trip.push((i, j));
            }
        }
        let a = crate::sparse::CscMatrix::<f64>::from_triplets(
            n,
            n,
            &trip.iter().map(|&(i, j)| (i, j, 1.0)).collect::<Vec<_>>(),
        )
        .unwrap();
        let (cp, ri, _) = a.into_parts();
        (cp, ri)
    }

    #[test]
    fn counts_match_brute_force() {
        for seed in 0..20 {
            let n = 30 + seed as usize * 7;
            let (cp, ri) = random_pattern(n, seed);
            let (xadj, adj) = order::graph(n, &cp, &ri);
            let parent = etree(n, &xadj, &adj);
            let post = postorder(n, &parent, None);
            // A postorder lists children before parents.
            let mut pos = vec![0; n];
            for (k, &j) in post.iter().enumerate() {
                pos[j] = k;
            }
            for j in 0..n {
                if parent[j] != NONE {
                    assert!(parent[j] > j && pos[parent[j]] > pos[j]);
                }
            }
            assert_eq!(
                col_counts(n, &xadj, &adj, &parent, &post),
                brute_counts(n, &xadj, &adj)
            );
        }
    }

    #[test]
    fn cblk_structure_is_closed() {
        // Every update of a cblk lands inside its targets' structures (the supernodal
        // property the numeric phase relies on), for several orderings and split widths.
        for seed in 0..10 {
            let n = 200 + seed as usize * 31;
            let (cp, ri) = random_pattern(n, seed + 100);
            for ord in [Ordering::Amd, Ordering::Metis, Ordering::Natural] {
                let opts = SymbolicOptions {
                    split_above: 8,
                    split_width: 5,
                    ..Default::default()
                };
                let s = analyze(n, &cp, &ri, &ord, &opts).unwrap();
                let mut covered = 0;
                for (k, c) in s.cblks.iter().enumerate() {
                    covered += c.width();
                    for b in &c.blocks {
                        let t = &s.cblks[b.target];
                        assert!(b.target > k);
                        for &r in &c.rows[b.start..b.end] {
                            assert!(r >= t.first && r < t.end);
                        }
                        // Rows at or below the target's columns are in the target's panel.
                        for &r in &c.rows[b.start..] {
                            assert!(r < t.end || t.rows.binary_search(&r).is_ok());
                        }
                    }
                }
                assert_eq!(covered, n);
                // The panels hold at least the exact factor.
                let exact: usize = s.nnz_l_exact();
                let lower: usize = s
                    .cblks
                    .iter()
                    .map(|c| c.width() * (c.width() + 1) / 2 + c.width() * c.rows.len())
                    .sum();
                assert!(lower >= exact);
            }
        }
    }
}

//! Maximum-product weighted bipartite matching with scaling (the MC64 "job 5" problem):
//! a column permutation that puts large entries on the diagonal, and row and column
//! scalings that make every diagonal entry of the permuted, scaled matrix 1 in modulus and
//! every other entry at most 1. Static pivoting needs it: a zero or tiny diagonal is the
//! case it cannot fix by itself.
//!
//! Method: minimum-cost perfect matching with costs `c_ij = log max_k |a_kj| - log |a_ij|`
//! by successive shortest augmenting paths (Dijkstra on reduced costs, with row and column
//! potentials kept dual feasible, as in Duff and Koster's MC64). The optimal duals `u, v`
//! give the scalings `Dr = exp(u)`, `Dc = exp(v) / max_k |a_kj|`.

use super::CscMatrix;
use crate::error::{Error, Result};
use crate::Scalar;
use std::cmp::Ordering as CmpOrd;
use std::collections::BinaryHeap;

/// Result of the matching.
#[derive(Debug, Clone)]
pub struct Matching {
    /// `col_match[j]` = the row column `j` is matched to (column `j` goes to position
    /// `col_match[j]`, so that the matched entries land on the diagonal).
    pub col_match: Vec<usize>,
    /// Row scaling.
    pub dr: Vec<f64>,
    /// Column scaling.
    pub dc: Vec<f64>,
}

#[derive(PartialEq)]
struct Item(f64, usize);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrd> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> CmpOrd {
        // Min-heap on the distance.
        o.0.partial_cmp(&self.0)
            .unwrap_or(CmpOrd::Equal)
            .then(o.1.cmp(&self.1))
    }
}

/// Computes the matching and scaling of square `a`. Exact zeros are not edges. Errors with
/// [`Error::StructurallySingular`] when no perfect matching exists.
pub fn mc64<T: Scalar>(a: &CscMatrix<T>) -> Result<Matching> {
    const NONE: usize = usize::MAX;
    let n = a.ncols();
    if a.nrows() != n {
        return Err(Error::invalid(1, "the matching needs a square matrix"));
    }
    // Costs.
    let mut cmax = vec![0.0f64; n];
    let mut cost = vec![f64::INFINITY; a.nnz()];
    for j in 0..n {
        let r = a.col_ptr()[j]..a.col_ptr()[j + 1];
        let m = a.values()[r.clone()]
            .iter()
            .map(|v| v.modulus())
            .fold(0.0, f64::max);
        cmax[j] = m;
        if m > 0.0 {
            let lm = m.ln();
            for p in r {
                let x = a.values()[p].modulus();
                if x > 0.0 {
                    cost[p] = lm - x.ln();
                }
            }
        }
    }
    let cp = a.col_ptr();
    let ri = a.row_idx();
    // Initial duals: v_j = min_i c_ij, u_i = min_j (c_ij - v_j); greedy matching on tight edges.
    let mut v = vec![0.0f64; n];
    let mut u = vec![f64::INFINITY; n];
    for j in 0..n {
        let m = (cp[j]..cp[j + 1])
            .map(|p| cost[p])
            .fold(f64::INFINITY, f64::min);
        v[j] = if m.is_finite() { m } else { 0.0 };
    }
    for j in 0..n {
        for p in cp[j]..cp[j + 1] {
            if cost[p].is_finite() {
                let r = cost[p] - v[j];
                if r < u[ri[p]] {
                    u[ri[p]] = r;
                }
            }
        }
    }
    for x in u.iter_mut() {
        if !x.is_finite() {
            *x = 0.0;
        }
    }
    let mut row_match = vec![NONE; n];
    let mut col_match = vec![NONE; n];
    for j in 0..n {
        for p in cp[j]..cp[j + 1] {
            let i = ri[p];
            if row_match[i] == NONE
                && cost[p].is_finite()
                && (cost[p] - u[i] - v[j]).abs() <= 1e-12 * (1.0 + cost[p].abs())
            {
                row_match[i] = j;
                col_match[j] = i;
                break;
            }
        }
    }
    // Successive shortest augmenting paths.
    let mut dist = vec![f64::INFINITY; n];
    let mut pred = vec![NONE; n]; // column from which row i was reached
    let mut done = vec![false; n];
    let mut touched: Vec<usize> = Vec::new();
    let mut finalized: Vec<usize> = Vec::new();
    let mut heap = BinaryHeap::new();
    let mut matched = col_match.iter().filter(|&&m| m != NONE).count();
    for j0 in 0..n {
        if col_match[j0] != NONE {
            continue;
        }
        for &i in &touched {
            dist[i] = f64::INFINITY;
            pred[i] = NONE;
            done[i] = false;
        }
        touched.clear();
        finalized.clear();
        heap.clear();
        let relax = |j: usize,
                     base: f64,
                     dist: &mut Vec<f64>,
                     pred: &mut Vec<usize>,
                     touched: &mut Vec<usize>,
                     heap: &mut BinaryHeap<Item>,
                     done: &Vec<bool>| {
            for p in cp[j]..cp[j + 1] {
                if !cost[p].is_finite() {
                    continue;
                }
                let i = ri[p];
                if done[i] {
                    continue;
                }
                let nd = base + (cost[p] - u[i] - v[j]).max(0.0);
                if nd < dist[i] {
                    if dist[i] == f64::INFINITY {
                        touched.push(i);
                    }
                    dist[i] = nd;
                    pred[i] = j;
                    heap.push(Item(nd, i));
                }
            }
        };
        relax(
            j0,
            0.0,
            &mut dist,
            &mut pred,
            &mut touched,
            &mut heap,
            &done,
        );
        let mut free_row = NONE;
        let mut dfree = 0.0;
        while let Some(Item(d, i)) = heap.pop() {
            if done[i] || d > dist[i] {
                continue;
            }
            done[i] = true;
            finalized.push(i);
            if row_match[i] == NONE {
                free_row = i;
                dfree = d;
                break;
            }
            let jn = row_match[i];
            relax(jn, d, &mut dist, &mut pred, &mut touched, &mut heap, &done);
        }
        if free_row == NONE {
            // No augmenting path from j0: structurally singular. Count the rest.
            continue;
        }
        // Dual update on the finalized rows and their columns, then augment.
        v[j0] += dfree;
        for &i in &finalized {
            if i == free_row {
                continue;
            }
            let delta = dfree - dist[i];
            u[i] -= delta;
            let j = row_match[i];
            v[j] += delta;
        }
        let mut i = free_row;
        loop {
            let j = pred[i];
            let prev = col_match[j];
            col_match[j] = i;
            row_match[i] = j;
            if j == j0 {
                break;
            }
            i = prev;
        }
        matched += 1;
    }
    if matched < n {
        return Err(Error::StructurallySingular { rank: matched });
    }
    let dr: Vec<f64> = u.iter().map(|&x| x.exp()).collect();
    let dc: Vec<f64> = (0..n)
        .map(|j| {
            if cmax[j] > 0.0 {
                v[j].exp() / cmax[j]
            } else {
                1.0
            }
        })
        .collect();
    Ok(Matching { col_match, dr, dc })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all permutations of a small dense matrix.
    fn best_product(a: &[Vec<f64>]) -> f64 {
        let n = a.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut best = 0.0f64;
        fn rec(k: usize, perm: &mut Vec<usize>, a: &[Vec<f64>], best: &mut f64) {
            let n = perm.len();
            if k == n {
                let p: f64 = (0..n).map(|j| a[perm[j]][j].abs()).product();
                *best = best.max(p);
                return;
            }
            for t in k..n {
                perm.swap(k, t);
                rec(k + 1, perm, a, best);
                perm.swap(k, t);
            }
        }
        rec(0, &mut perm, a, &mut best);
        best
    }

    #[test]
    fn optimal_on_random_small_matrices() {
        let mut s = 7u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in 1..=7 {
            for _ in 0..30 {
                let dense: Vec<Vec<f64>> = (0..n)
                    .map(|_| {
                        (0..n)
                            .map(|_| {
                                if rnd() < 0.4 {
                                    0.0
                                } else {
                                    (rnd() - 0.5) * 10f64.powf(4.0 * rnd() - 2.0)
                                }
                            })
                            .collect()
                    })
                    .collect();
                let mut t = Vec::new();
                for (i, row) in dense.iter().enumerate() {
                    for (j, &x) in row.iter().enumerate() {
                        if x != 0.0 {
                            t.push((i, j, x));
                        }
                    }
                }
                let a = CscMatrix::from_triplets(n, n, &t).unwrap();
                let best = best_product(&dense);
                match mc64(&a) {
                    Ok(m) => {
                        let p: f64 = (0..n).map(|j| dense[m.col_match[j]][j].abs()).product();
                        assert!((p - best).abs() <= 1e-10 * best, "n={n}: {p} vs {best}");
                        // Scaled: |entries| <= 1, matched entries 1.
                        for &(i, j, x) in &t {
                            let y = (m.dr[i] * x * m.dc[j]).abs();
                            assert!(y <= 1.0 + 1e-10, "{y}");
                            if m.col_match[j] == i {
                                assert!((y - 1.0).abs() < 1e-10, "{y}");
                            }
                        }
                    }
                    Err(Error::StructurallySingular { .. }) => assert_eq!(best, 0.0),
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
}

//! LU with partial pivoting on tile columns whose tiles live on several ranks (grids with
//! `P > 1`, or any distribution that splits a tile column).
//!
//! **Panel.** One task per rank of the panel's tile column, the members of a [`Peers`]
//! group. Each gathers its own tiles of the column and they run LAPACK's recursive LU
//! ([`tessera_kernels::getrf_panel`]) together, on the same recursion: at every column
//! each member finds the best pivot candidate among its rows, and one round in which every
//! member sends its candidate (value, row index and the whole row) to the others settles
//! the pivot: the largest `|re| + |im|`, the first row among equals, as LAPACK's `I?AMAX`.
//! The diagonal rank also sends its current row `j`, so the rank that holds the pivot row
//! can take it in exchange: nothing else moves for the interchange. At each node of the
//! recursion the diagonal rank solves `A12 = L11^-1 A12` and broadcasts it, and every
//! member updates its own rows with one `gemm`. The pivot search is thus one all-to-all
//! round of messages of a row each per column, on the critical path, with no task and no
//! tile in between; the arithmetic is the kernel's, so the factors agree with one process.
//!
//! **Row interchanges.** Only rows that change place move. After the swaps of a panel,
//! the rows of the top tile come from anywhere in the column, and the rows below that
//! change place receive rows that were in the top tile (a row below is only ever swapped
//! with a row of the top tile). So for each batch of tile columns: every other rank packs
//! the rows it holds that go up (`laswp_pack`), the top tile's rank builds the new top
//! rows, packs the displaced top rows for each rank and solves `U = L^-1 A` on its tiles
//! (`laswp_trsm`), and every other rank puts the rows that come down in place
//! (`laswp_unpack`). Per batch and rank, at most `nb` rows go each way.

use super::getrf::solve_unit_lower;
use super::views;
use crate::error::{Error, Result};
use crate::runtime::{Handle, Peers, Sequence};
use crate::tile::{get_scalars, put_scalars, Tile, TileMatrix};
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tessera_kernels::{self as k, Op, Scalar};

/// The distinct owners of the tiles `(i, j)`, `i` in `rows`, `j` in `cols`, in the order
/// first met (row by row).
pub(super) fn owners<T: Scalar>(
    a: &TileMatrix<T>,
    rows: std::ops::Range<usize>,
    cols: &[usize],
) -> Vec<usize> {
    let mut out = Vec::new();
    for i in rows {
        for &j in cols {
            let o = a.owner(i, j);
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    out
}

/// The panel of tile column `kk` as a group of tasks, one per rank that holds some of its
/// tiles (see the module documentation). The diagonal rank writes the pivots to `piv`.
#[allow(clippy::too_many_arguments)]
pub(super) fn panel<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    kk: usize,
    piv: &Handle<Vec<usize>>,
    info: &Arc<AtomicUsize>,
    scratch: &Handle<Vec<T>>,
    priority: i64,
    flops: f64,
) -> Result<()> {
    let mt = a.mt();
    let mb = a.mb();
    let diag = a.owner(kk, kk);
    let ranks = owners(a, kk..mt, &[kk]);
    debug_assert_eq!(ranks[0], diag);
    let rows: usize = (kk..mt).map(|i| a.tile_rows(i)).sum();
    let cols = a.tile_cols(kk);
    let npiv = rows.min(cols);
    // One round per column and one per inner node of the recursion, at most.
    let members = seq.peers(&ranks, 2 * cols as u64 + 2);
    for (peers, &r) in members.into_iter().zip(&ranks) {
        let tiles: Vec<usize> = (kk..mt).filter(|&i| a.owner(i, kk) == r).collect();
        let g: Vec<usize> = tiles
            .iter()
            .flat_map(|&i| {
                let off = (i - kk) * mb;
                (0..a.tile_rows(i)).map(move |x| off + x)
            })
            .collect();
        let share = g.len() as f64 / rows.max(1) as f64;
        let mut t = seq
            .task("getrf_panel")
            .priority(priority)
            .on_rank(r)
            .flops(flops * share);
        let mut toks: Vec<_> = tiles.iter().map(|&i| t.read_write(a.tile(i, kk))).collect();
        let mut wp = (r == diag).then(|| t.write(piv));
        let mut ws = t.read_write(scratch);
        let info = info.clone();
        let off = kk * mb;
        t.submit(move |ctx| {
            let mut tv = views(&mut toks, ctx);
            let lrows = g.len();
            let store = ws.get_mut(ctx);
            store.resize(lrows * cols, T::zero());
            let buf = &mut store[..lrows * cols];
            k::gather_tiles(&tv, MatMut::from_column_major_slice_mut(buf, lrows, cols));
            let mut p = DistPanel {
                a: buf,
                ld: lrows,
                cols,
                rows,
                diag: r == diag,
                root: diag,
                peers,
                ipiv: vec![0; npiv],
                info: None,
                g,
            };
            p.rec(0, cols)?;
            k::scatter_tiles(MatRef::from_column_major_slice(p.a, lrows, cols), &mut tv);
            if let Some(z) = p.info {
                info.fetch_min(off + z, Ordering::Relaxed);
            }
            if let Some(wp) = &mut wp {
                *wp.get_mut(ctx) = std::mem::take(&mut p.ipiv);
            }
            p.peers.finish();
            Ok(())
        })?;
    }
    Ok(())
}

/// One member's state in the distributed panel: its rows of the panel column, stacked
/// (`ld` rows, `cols` columns, column-major), and their row numbers in the panel (`g`,
/// increasing; on the diagonal rank the top tile comes first, so local row `j` is row `j`
/// for every pivot position `j`).
struct DistPanel<'a, T: Scalar> {
    a: &'a mut [T],
    ld: usize,
    cols: usize,
    rows: usize,
    diag: bool,
    root: usize,
    peers: Peers,
    ipiv: Vec<usize>,
    info: Option<usize>,
    g: Vec<usize>,
}

impl<T: Scalar> DistPanel<'_, T> {
    /// The first local row whose panel row is at least `r`.
    fn first_local(&self, r: usize) -> usize {
        self.g.partition_point(|&x| x < r)
    }

    fn row(&self, l: usize) -> Vec<T> {
        (0..self.cols).map(|c| self.a[c * self.ld + l]).collect()
    }

    fn set_row(&mut self, l: usize, v: &[T]) {
        for (c, &x) in v.iter().enumerate() {
            self.a[c * self.ld + l] = x;
        }
    }

    /// The recursion of [`tessera_kernels::getrf_panel`] on the block of panel rows
    /// `c0..` and columns `c0..c0 + n`.
    fn rec(&mut self, c0: usize, n: usize) -> Result<()> {
        let m = self.rows - c0;
        let kmin = m.min(n);
        if kmin == 0 {
            return Ok(());
        }
        if n <= 16 || m <= 16 {
            return self.leaf(c0, n);
        }
        let n1 = (kmin / 2).max(1);
        let n2 = n - n1;
        self.rec(c0, n1)?;
        // A12 = L11^-1 A12 on the diagonal rank, then to every member.
        let mut a12 = Vec::new();
        let mut msg = Vec::new();
        if self.diag {
            let whole = MatMut::from_column_major_slice_mut(self.a, self.ld, self.cols);
            let (l, r) = whole.split_at_col_mut(c0 + n1);
            let l11 = l.rb().get(c0..c0 + n1, c0..c0 + n1);
            let mut r = r.get_mut(c0..c0 + n1, ..n2);
            solve_unit_lower(l11, r.rb_mut());
            for c in 0..n2 {
                a12.extend((0..n1).map(|i| r[(i, c)]));
            }
            put_scalars(&mut msg, &a12);
        }
        let got = self.peers.broadcast(self.root, &msg)?;
        if !self.diag {
            get_scalars(&got, &mut a12)?;
            if a12.len() != n1 * n2 {
                return Err(Error::Runtime("getrf panel: a short U12 block".into()));
            }
        }
        // A22 -= A21 A12 on this member's rows.
        let lo = self.first_local(c0 + n1);
        if m > n1 && lo < self.ld {
            let whole = MatMut::from_column_major_slice_mut(self.a, self.ld, self.cols);
            let (l, r) = whole.split_at_col_mut(c0 + n1);
            let a21 = l.rb().get(lo.., c0..c0 + n1);
            let a22 = r.get_mut(lo.., ..n2);
            let u = MatRef::from_column_major_slice(&a12, n1, n2);
            k::gemm(Op::NoTrans, Op::NoTrans, -T::one(), a21, u, T::one(), a22);
        }
        if m > n1 {
            self.rec(c0 + n1, n2)?;
        }
        Ok(())
    }

    /// LAPACK's `xGETF2` on columns `c0..c0 + n`, one pivot round per column; the
    /// interchanges move whole panel rows.
    fn leaf(&mut self, c0: usize, n: usize) -> Result<()> {
        let ld = self.ld;
        let end = (c0 + n).min(self.rows);
        for j in c0..end {
            // This member's candidate: the first largest entry among its rows j...
            let lo = self.first_local(j);
            let mut cand: Option<(f64, usize)> = None;
            for l in lo..ld {
                let v = self.a[j * ld + l].abs1();
                if cand.is_none_or(|(b, _)| v > b) {
                    cand = Some((v, l));
                }
            }
            let mut msg = Vec::with_capacity(17 + 2 * self.cols * std::mem::size_of::<T>());
            match cand {
                Some((v, l)) => {
                    msg.push(1);
                    msg.extend_from_slice(&v.to_le_bytes());
                    msg.extend_from_slice(&(self.g[l] as u64).to_le_bytes());
                    put_scalars(&mut msg, &self.row(l));
                }
                None => msg.push(0),
            }
            if self.diag {
                // The current row j, for the rank that holds the pivot row.
                put_scalars(&mut msg, &self.row(j));
            }
            let all = self.peers.allgather(&msg)?;
            // ...and the pivot: the candidates in row order, strictly larger wins.
            let rowlen = self.cols * std::mem::size_of::<T>();
            let mut cands: Vec<(usize, f64, &[u8])> = Vec::new();
            for m in &all {
                if m.first() == Some(&1) {
                    let bad = || Error::Runtime("getrf panel: a short candidate".into());
                    let v = f64::from_le_bytes(m.get(1..9).ok_or_else(bad)?.try_into().unwrap());
                    let r = u64::from_le_bytes(m.get(9..17).ok_or_else(bad)?.try_into().unwrap());
                    cands.push((r as usize, v, m.get(17..17 + rowlen).ok_or_else(bad)?));
                }
            }
            cands.sort_by_key(|c| c.0);
            let mut best = *cands
                .first()
                .ok_or_else(|| Error::Runtime("getrf panel: no pivot candidate".into()))?;
            for c in &cands[1..] {
                if c.1 > best.1 {
                    best = *c;
                }
            }
            let p = best.0;
            let mut prow = Vec::new();
            get_scalars(best.2, &mut prow)?;
            self.ipiv[j] = p;
            // This member's rows below j.
            let l0 = self.first_local(j + 1);
            if prow[j] != T::zero() {
                if p != j {
                    // The diagonal rank's message ends with its row j.
                    let d = &all[0];
                    let mut oldj = Vec::new();
                    get_scalars(&d[d.len() - rowlen..], &mut oldj)?;
                    if let Ok(lp) = self.g.binary_search(&p) {
                        self.set_row(lp, &oldj);
                    }
                    if self.diag {
                        self.set_row(j, &prow);
                    }
                }
                let piv = prow[j];
                let col = &mut self.a[j * ld + l0..j * ld + ld];
                if piv.modulus() >= T::SAFE_MIN {
                    let r = piv.recip();
                    col.iter_mut().for_each(|x| *x *= r);
                } else {
                    col.iter_mut().for_each(|x| *x = x.div_robust(piv));
                }
            } else if self.info.is_none() {
                self.info = Some(j);
            }
            // Rank-1 update of the leaf's columns right of j, on this member's rows.
            if l0 >= ld {
                continue;
            }
            let (left, right) = self.a.split_at_mut((j + 1) * ld);
            let l = &left[j * ld + l0..j * ld + ld];
            for c in j + 1..c0 + n {
                let u = prow[c];
                if u != T::zero() {
                    let colc = &mut right[(c - j - 1) * ld + l0..(c - j - 1) * ld + ld];
                    for (x, &li) in colc.iter_mut().zip(l) {
                        *x -= li * u;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The rows that change place after the interchanges `piv` (row `k` swapped with row
/// `piv[k]`, in order): `(position, original row)` pairs, by position.
fn moves(piv: &[usize]) -> Vec<(usize, usize)> {
    let mut at: HashMap<usize, usize> = HashMap::with_capacity(2 * piv.len());
    for (k, &p) in piv.iter().enumerate() {
        if p != k {
            let a = *at.get(&k).unwrap_or(&k);
            let b = *at.get(&p).unwrap_or(&p);
            at.insert(k, b);
            at.insert(p, a);
        }
    }
    let mut v: Vec<(usize, usize)> = at.into_iter().filter(|(t, s)| t != s).collect();
    v.sort_unstable();
    v
}

/// Where each held tile sits in a task's list: by (panel row offset, column index).
fn index(held: &[(usize, usize, usize)]) -> HashMap<(usize, usize), usize> {
    held.iter()
        .enumerate()
        .map(|(x, &(off, ci, _))| ((off, ci), x))
        .collect()
}

/// A packet of rows travels as a one-column tile.
fn set_flat<T: Scalar>(t: &mut Tile<T>, v: Vec<T>) {
    t.set_vec(v.len(), 1, v);
}

/// The rows of a packet (an owned one-column tile, see [`set_flat`]).
fn flat<T: Scalar>(t: &Tile<T>) -> &[T] {
    t.as_slice().unwrap_or(&[])
}

/// A row segment of a tile (row `r`, all columns) into `out`.
fn push_row<T: Scalar>(t: MatRef<'_, T>, r: usize, out: &mut Vec<T>) {
    out.extend((0..t.ncols()).map(|c| t[(r, c)]));
}

fn put_row<T: Scalar>(mut t: MatMut<'_, T>, r: usize, v: &[T]) {
    for (c, &x) in v.iter().enumerate() {
        t[(r, c)] = x;
    }
}

/// The row interchanges of panel `p` on tile columns `cols` (their tiles `(p, j)` have one
/// owner), moving only the rows that change place; with `trsm`, each tile `(p, j)` is then
/// solved with the unit lower triangle of `L(p, p)`. See the module documentation.
#[allow(clippy::too_many_arguments)]
pub(super) fn swap_columns<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    p: usize,
    piv: &Handle<Vec<usize>>,
    cols: &[usize],
    trsm: bool,
    priority: i64,
    flops: f64,
) -> Result<()> {
    let mt = a.mt();
    let mb = a.mb();
    let top = a.owner(p, cols[0]);
    debug_assert!(cols.iter().all(|&j| a.owner(p, j) == top));
    let rt = a.tile_rows(p);
    // Owner of panel row `r` (counted from tile row p) in column `j`.
    let owner_of = {
        let a = a.clone();
        move |r: usize, j: usize| a.owner(p + r / mb, j)
    };
    let others: Vec<usize> = owners(a, p + 1..mt, cols)
        .into_iter()
        .filter(|&o| o != top)
        .collect();
    let ups: Vec<Handle<Tile<T>>> = others
        .iter()
        .map(|_| Handle::new_wire(Tile::zeros(0, 0), 0))
        .collect();
    let downs: Vec<Handle<Tile<T>>> = others
        .iter()
        .map(|_| Handle::new_wire(Tile::zeros(0, 0), 0))
        .collect();
    let cols: Arc<Vec<usize>> = Arc::new(cols.to_vec());
    // The tiles (i, j), i > p, j in cols, that rank r holds: (panel row offset, column
    // index in cols) with the handle.
    let held = |r: usize| -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        for (ci, &j) in cols.iter().enumerate() {
            for i in p + 1..mt {
                if a.owner(i, j) == r {
                    v.push(((i - p) * mb, ci, i));
                }
            }
        }
        v
    };
    // 1. Every other rank packs its rows that go up.
    for (idx, &r) in others.iter().enumerate() {
        let mine = held(r);
        let mut t = seq.task("laswp_pack").priority(priority).on_rank(r);
        let rp = t.read(piv);
        let toks: Vec<_> = mine
            .iter()
            .map(|&(_, ci, i)| t.read(a.tile(i, cols[ci])))
            .collect();
        let mut wu = t.write(&ups[idx]);
        let cols = cols.clone();
        let owner_of = owner_of.clone();
        t.submit(move |ctx| {
            let mv = moves(rp.get(ctx));
            let find = index(&mine);
            let mut out = Vec::new();
            for (ci, &j) in cols.iter().enumerate() {
                for &(pos, src) in &mv {
                    if pos < rt && src >= rt && owner_of(src, j) == r {
                        let x = find[&(src - src % mb, ci)];
                        push_row(toks[x].get(ctx).as_ref(), src % mb, &mut out);
                    }
                }
            }
            set_flat(wu.get_mut(ctx), out);
            Ok(())
        })?;
    }
    // 2. The top tiles' rank: new top rows, the displaced rows out, U = L^-1 A.
    {
        let mine = held(top);
        let mut t = seq
            .task("laswp_trsm")
            .priority(priority)
            .on_rank(top)
            .flops(flops);
        let rp = t.read(piv);
        let rl = trsm.then(|| t.read(a.tile(p, p)));
        let rus: Vec<_> = ups.iter().map(|h| t.read(h)).collect();
        let mut tops: Vec<_> = cols.iter().map(|&j| t.read_write(a.tile(p, j))).collect();
        let mut below: Vec<_> = mine
            .iter()
            .map(|&(_, ci, i)| t.read_write(a.tile(i, cols[ci])))
            .collect();
        let mut wds: Vec<_> = downs.iter().map(|h| t.write(h)).collect();
        let cols = cols.clone();
        let others = others.clone();
        let owner_of = owner_of.clone();
        t.submit(move |ctx| {
            let mv = moves(rp.get(ctx));
            let find = index(&mine);
            let ups: Vec<&[T]> = rus.iter().map(|u| flat(u.get(ctx))).collect();
            let mut cursor = vec![0usize; ups.len()];
            let mut outs: Vec<Vec<T>> = vec![Vec::new(); others.len()];
            let mut tv = views(&mut tops, ctx);
            let mut bv = views(&mut below, ctx);
            for (ci, &j) in cols.iter().enumerate() {
                let w = tv[ci].ncols();
                let orig = tv[ci].to_owned();
                // New top rows (reading the rows below before they are overwritten).
                let mut new_rows: Vec<(usize, Vec<T>)> = Vec::new();
                for &(pos, src) in mv.iter().filter(|m| m.0 < rt) {
                    let mut row = Vec::with_capacity(w);
                    if src < rt {
                        push_row(orig.as_ref(), src, &mut row);
                    } else {
                        let o = owner_of(src, j);
                        if o == top {
                            let x = find[&(src - src % mb, ci)];
                            push_row(bv[x].rb(), src % mb, &mut row);
                        } else {
                            let q = others.iter().position(|&r| r == o).unwrap();
                            let s = ups[q].get(cursor[q]..cursor[q] + w).ok_or_else(|| {
                                Error::Runtime("laswp: a short packet of rows".into())
                            })?;
                            row.extend_from_slice(s);
                            cursor[q] += w;
                        }
                    }
                    new_rows.push((pos, row));
                }
                // The displaced top rows go below.
                let mut row = Vec::with_capacity(w);
                for &(pos, src) in mv.iter().filter(|m| m.0 >= rt) {
                    row.clear();
                    push_row(orig.as_ref(), src, &mut row);
                    let o = owner_of(pos, j);
                    if o == top {
                        let x = find[&(pos - pos % mb, ci)];
                        put_row(bv[x].rb_mut(), pos % mb, &row);
                    } else {
                        let q = others.iter().position(|&r| r == o).unwrap();
                        outs[q].extend_from_slice(&row);
                    }
                }
                for (pos, row) in &new_rows {
                    put_row(tv[ci].rb_mut(), *pos, row);
                }
                if let Some(rl) = &rl {
                    let l = rl.get(ctx).as_ref();
                    solve_unit_lower(l.get(.., ..l.nrows()), tv[ci].rb_mut());
                }
            }
            for (wd, out) in wds.iter_mut().zip(outs) {
                set_flat(wd.get_mut(ctx), out);
            }
            Ok(())
        })?;
    }
    // 3. Every other rank puts the rows that come down in place.
    for (idx, &r) in others.iter().enumerate() {
        let mine = held(r);
        let mut t = seq.task("laswp_unpack").priority(priority).on_rank(r);
        let rp = t.read(piv);
        let rd = t.read(&downs[idx]);
        let mut toks: Vec<_> = mine
            .iter()
            .map(|&(_, ci, i)| t.read_write(a.tile(i, cols[ci])))
            .collect();
        let cols = cols.clone();
        let owner_of = owner_of.clone();
        t.submit(move |ctx| {
            let mv = moves(rp.get(ctx));
            let find = index(&mine);
            let down = flat(rd.get(ctx));
            let mut tv = views(&mut toks, ctx);
            let mut at = 0;
            for (ci, &j) in cols.iter().enumerate() {
                for &(pos, _) in mv.iter().filter(|m| m.0 >= rt) {
                    if owner_of(pos, j) != r {
                        continue;
                    }
                    let x = find[&(pos - pos % mb, ci)];
                    let w = tv[x].ncols();
                    let s = down
                        .get(at..at + w)
                        .ok_or_else(|| Error::Runtime("laswp: a short packet of rows".into()))?;
                    put_row(tv[x].rb_mut(), pos % mb, s);
                    at += w;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::moves;

    #[test]
    fn moves_follow_the_interchanges() {
        // Rows 0..6; swap 0<->4, 1<->4, 2<->2.
        let piv = [4, 4, 2];
        let mut rows: Vec<usize> = (0..6).collect();
        for (k, &p) in piv.iter().enumerate() {
            rows.swap(k, p);
        }
        let want: Vec<(usize, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(t, &s)| *t != s)
            .map(|(t, &s)| (t, s))
            .collect();
        assert_eq!(moves(&piv), want);
        assert_eq!(moves(&[0, 1, 2]), vec![]);
    }
}

//! Iterative refinement with the factors as preconditioner: classical refinement,
//! preconditioned CG, right-preconditioned restarted GMRES and BiCGStab. Each stops when
//! the scaled residual `||b - Ax||_oo / (||A||_oo ||x||_oo + ||b||_oo)` reaches the
//! tolerance, when it stops decreasing (simple refinement), or after the iteration limit;
//! the best iterate is kept.

use super::solver::{Factors, Refinement};
use crate::Scalar;

fn ninf<T: Scalar>(v: &[T]) -> f64 {
    v.iter().map(|z| z.modulus()).fold(0.0, f64::max)
}

fn dot<T: Scalar>(x: &[T], y: &[T]) -> T {
    // conj(x) . y
    let mut s = T::zero();
    for (a, b) in x.iter().zip(y) {
        s += a.conj() * *b;
    }
    s
}

fn norm2<T: Scalar>(x: &[T]) -> f64 {
    x.iter()
        .map(|z| z.modulus() * z.modulus())
        .sum::<f64>()
        .sqrt()
}

struct Ctx<'a, T: Scalar> {
    f: &'a Factors<T>,
    b: &'a [T],
    nb: f64,
}

impl<T: Scalar> Ctx<'_, T> {
    fn residual(&self, x: &[T], r: &mut [T]) -> f64 {
        r.copy_from_slice(self.b);
        self.f.matrix().mul_add(-T::one(), x, T::one(), r);
        let den = self.f.norm_inf() * ninf(x) + self.nb;
        if den == 0.0 {
            ninf(r)
        } else {
            ninf(r) / den
        }
    }
    fn precond(&self, r: &[T]) -> Vec<T> {
        self.f.solve_factors(r, 1)
    }
    fn apply(&self, x: &[T]) -> Vec<T> {
        self.f.matrix().mul_vec(x)
    }
}

/// Refines `x` for `A x = b`; returns (iterations, final scaled residual).
pub(crate) fn refine<T: Scalar>(
    f: &Factors<T>,
    method: Refinement,
    b: &[T],
    x: &mut [T],
) -> (usize, f64) {
    let ctx = Ctx { f, b, nb: ninf(b) };
    let tol = f.options().tolerance;
    let maxit = f.options().max_iterations;
    let n = b.len();
    let mut r = vec![T::zero(); n];
    let mut res = ctx.residual(x, &mut r);
    if res <= tol || method == Refinement::None || maxit == 0 {
        return (0, res);
    }
    match method {
        Refinement::None | Refinement::Auto => (0, res),
        Refinement::Simple => {
            let mut it = 0;
            let mut best = x.to_vec();
            let mut best_res = res;
            let mut stalls = 0;
            while it < maxit && res > tol {
                let d = ctx.precond(&r);
                for (xi, di) in x.iter_mut().zip(&d) {
                    *xi += *di;
                }
                it += 1;
                res = ctx.residual(x, &mut r);
                if res < best_res * 0.5 {
                    stalls = 0;
                } else {
                    stalls += 1;
                }
                if res < best_res {
                    best_res = res;
                    best.copy_from_slice(x);
                }
                if stalls >= 3 {
                    break;
                }
            }
            x.copy_from_slice(&best);
            (it, best_res)
        }
        Refinement::Gmres => gmres(&ctx, x, tol, maxit),
        Refinement::Cg => cg(&ctx, x, tol, maxit),
        Refinement::BiCgStab => bicgstab(&ctx, x, tol, maxit),
    }
}

/// Right-preconditioned GMRES(m) on the correction, restarted from the best iterate.
fn gmres<T: Scalar>(ctx: &Ctx<'_, T>, x: &mut [T], tol: f64, maxit: usize) -> (usize, f64) {
    let n = x.len();
    let m = 30.min(maxit.max(1));
    let mut r = vec![T::zero(); n];
    let mut res = ctx.residual(x, &mut r);
    let mut it = 0;
    while it < maxit && res > tol {
        let beta = norm2(&r);
        if beta == 0.0 {
            break;
        }
        let mut v: Vec<Vec<T>> = vec![r.iter().map(|&z| z * T::from_f64(1.0 / beta)).collect()];
        let mut z: Vec<Vec<T>> = Vec::new();
        let mut h = vec![vec![T::zero(); m]; m + 1];
        let mut cs = vec![T::zero(); m];
        let mut sn = vec![T::zero(); m];
        let mut g = vec![T::zero(); m + 1];
        g[0] = T::from_f64(beta);
        let mut k = 0;
        while k < m && it < maxit {
            let zk = ctx.precond(&v[k]);
            let mut w = ctx.apply(&zk);
            z.push(zk);
            for i in 0..=k {
                let hik = dot(&v[i], &w);
                h[i][k] = hik;
                for (wj, vj) in w.iter_mut().zip(&v[i]) {
                    *wj -= hik * *vj;
                }
            }
            let hn = norm2(&w);
            h[k + 1][k] = T::from_f64(hn);
            // Apply the previous rotations, then make a new one.
            for i in 0..k {
                let t = cs[i].conj() * h[i][k] + sn[i].conj() * h[i + 1][k];
                h[i + 1][k] = -sn[i] * h[i][k] + cs[i] * h[i + 1][k];
                h[i][k] = t;
            }
            let (a, bb) = (h[k][k], h[k + 1][k]);
            let den = (a.modulus().powi(2) + bb.modulus().powi(2)).sqrt();
            if den == 0.0 {
                k += 1;
                it += 1;
                break;
            }
            cs[k] = a * T::from_f64(1.0 / den);
            sn[k] = bb * T::from_f64(1.0 / den);
            h[k][k] = cs[k].conj() * a + sn[k].conj() * bb;
            h[k + 1][k] = T::zero();
            g[k + 1] = -sn[k] * g[k];
            g[k] = cs[k].conj() * g[k];
            k += 1;
            it += 1;
            if hn == 0.0 {
                break;
            }
            v.push(w.iter().map(|&e| e * T::from_f64(1.0 / hn)).collect());
            // The recurrence's residual estimate is relative to the unscaled system; check
            // the true residual only when the estimate says we may be done.
            let est = g[k].modulus();
            if est <= tol * (ctx.f.norm_inf() * ninf(x) + ctx.nb) * 0.5 {
                break;
            }
        }
        // Solve the k x k triangular system and update x.
        let mut y = vec![T::zero(); k];
        for i in (0..k).rev() {
            let mut s = g[i];
            for j in i + 1..k {
                s -= h[i][j] * y[j];
            }
            y[i] = if h[i][i] == T::zero() {
                T::zero()
            } else {
                s / h[i][i]
            };
        }
        let mut xn = x.to_vec();
        for (j, yj) in y.iter().enumerate() {
            for (xi, zi) in xn.iter_mut().zip(&z[j]) {
                *xi += *yj * *zi;
            }
        }
        let new_res = ctx.residual(&xn, &mut r);
        if new_res < res {
            x.copy_from_slice(&xn);
            res = new_res;
        } else {
            ctx.residual(x, &mut r);
            break;
        }
    }
    (it, res)
}

/// Preconditioned conjugate gradients.
fn cg<T: Scalar>(ctx: &Ctx<'_, T>, x: &mut [T], tol: f64, maxit: usize) -> (usize, f64) {
    let n = x.len();
    let mut r = vec![T::zero(); n];
    let mut res = ctx.residual(x, &mut r);
    let mut best = x.to_vec();
    let mut best_res = res;
    let mut zv = ctx.precond(&r);
    let mut p = zv.clone();
    let mut rz = dot(&r, &zv);
    let mut it = 0;
    while it < maxit && res > tol {
        let q = ctx.apply(&p);
        let pq = dot(&p, &q);
        if pq == T::zero() {
            break;
        }
        let alpha = rz / pq;
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        it += 1;
        let mut rt = vec![T::zero(); n];
        res = ctx.residual(x, &mut rt);
        if res < best_res {
            best_res = res;
            best.copy_from_slice(x);
        }
        zv = ctx.precond(&r);
        let rz_new = dot(&r, &zv);
        let beta = rz_new / rz;
        rz = rz_new;
        for i in 0..n {
            p[i] = zv[i] + beta * p[i];
        }
    }
    x.copy_from_slice(&best);
    (it, best_res)
}

/// Right-preconditioned BiCGStab.
fn bicgstab<T: Scalar>(ctx: &Ctx<'_, T>, x: &mut [T], tol: f64, maxit: usize) -> (usize, f64) {
    let n = x.len();
    let mut r = vec![T::zero(); n];
    let mut res = ctx.residual(x, &mut r);
    let mut best = x.to_vec();
    let mut best_res = res;
    let r0 = r.clone();
    let mut rho = T::one();
    let mut alpha = T::one();
    let mut omega = T::one();
    let mut v = vec![T::zero(); n];
    let mut p = vec![T::zero(); n];
    let mut it = 0;
    while it < maxit && res > tol {
        let rho_new = dot(&r0, &r);
        if rho_new == T::zero() || omega == T::zero() {
            break;
        }
        let beta = (rho_new / rho) * (alpha / omega);
        rho = rho_new;
        for i in 0..n {
            p[i] = r[i] + beta * (p[i] - omega * v[i]);
        }
        let ph = ctx.precond(&p);
        v = ctx.apply(&ph);
        let r0v = dot(&r0, &v);
        if r0v == T::zero() {
            break;
        }
        alpha = rho / r0v;
        let s: Vec<T> = (0..n).map(|i| r[i] - alpha * v[i]).collect();
        let sh = ctx.precond(&s);
        let t = ctx.apply(&sh);
        let tt = dot(&t, &t);
        omega = if tt == T::zero() {
            T::zero()
        } else {
            dot(&t, &s) / tt
        };
        for i in 0..n {
            x[i] += alpha * ph[i] + omega * sh[i];
            r[i] = s[i] - omega * t[i];
        }
        it += 1;
        let mut rt = vec![T::zero(); n];
        res = ctx.residual(x, &mut rt);
        if res < best_res {
            best_res = res;
            best.copy_from_slice(x);
        }
    }
    x.copy_from_slice(&best);
    (it, best_res)
}

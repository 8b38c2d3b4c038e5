//! Generated test problems: Laplacians, 3D linear elasticity and convection-diffusion.
//!
//! Every generator returns a [`CscMatrix<f64>`] in full storage (both triangles) with sorted
//! row indices, built column by column without a triplet detour, so large problems cost
//! only their own memory. Symmetric problems are symmetric bit for bit
//! (`a.is_symmetric(false)` holds). A dimension of 0 gives the `0 x 0` matrix.
//!
//! Unknowns of a grid are numbered lexicographically with `x` fastest:
//! `i + nx * (j + ny * k)`.
//!
//! ```
//! use tessera::sparse::gen;
//! let a = gen::laplacian_3d(4, 3, 2);
//! assert_eq!((a.nrows(), a.nnz()), (24, 24 + 2 * (3 * 3 * 2 + 4 * 2 * 2 + 4 * 3 * 1)));
//! assert!(a.is_symmetric(false));
//! ```

use super::csc::CscMatrix;

/// Builds the matrix of a constant-coefficient 1-, 2- or 3-point-per-axis stencil on the
/// grid `dims`: `diag` on the diagonal, `lo[d]` for the neighbour at `-1` along axis `d`,
/// `hi[d]` for the neighbour at `+1` (Dirichlet: neighbours outside the grid are dropped).
fn stencil(dims: &[usize], diag: f64, lo: &[f64], hi: &[f64]) -> CscMatrix<f64> {
    if dims.contains(&0) {
        return CscMatrix::identity(0);
    }
    let n: usize = dims.iter().product();
    let mut strides = Vec::with_capacity(dims.len());
    let mut s = 1;
    for &d in dims {
        strides.push(s);
        s *= d;
    }
    let mut col_ptr = Vec::with_capacity(n + 1);
    col_ptr.push(0);
    let mut row_idx = Vec::with_capacity(n * (2 * dims.len() + 1));
    let mut values = Vec::with_capacity(n * (2 * dims.len() + 1));
    let mut pos = vec![0usize; dims.len()];
    for c in 0..n {
        // Column c holds row r = c - stride (whose +1 neighbour is c: coefficient hi) and
        // r = c + stride (coefficient lo); rows increase with the axis going outwards.
        for d in (0..dims.len()).rev() {
            if pos[d] > 0 {
                row_idx.push(c - strides[d]);
                values.push(hi[d]);
            }
        }
        row_idx.push(c);
        values.push(diag);
        for d in 0..dims.len() {
            if pos[d] + 1 < dims[d] {
                row_idx.push(c + strides[d]);
                values.push(lo[d]);
            }
        }
        col_ptr.push(row_idx.len());
        // Next grid position, x fastest.
        for d in 0..dims.len() {
            pos[d] += 1;
            if pos[d] < dims[d] {
                break;
            }
            pos[d] = 0;
        }
    }
    CscMatrix::new(n, n, col_ptr, row_idx, values)
        .expect("the stencil pattern is valid by construction")
}

/// The 5-point Laplacian on an `nx x ny` grid with Dirichlet boundaries: 4 on the
/// diagonal, -1 for each grid neighbour (`h^2` times the finite-difference operator).
/// Symmetric positive definite, order `nx * ny`.
pub fn laplacian_2d(nx: usize, ny: usize) -> CscMatrix<f64> {
    stencil(&[nx, ny], 4.0, &[-1.0; 2], &[-1.0; 2])
}

/// The 7-point Laplacian on an `nx x ny x nz` grid with Dirichlet boundaries: 6 on the
/// diagonal, -1 for each grid neighbour. Symmetric positive definite, order `nx * ny * nz`.
pub fn laplacian_3d(nx: usize, ny: usize, nz: usize) -> CscMatrix<f64> {
    stencil(&[nx, ny, nz], 6.0, &[-1.0; 3], &[-1.0; 3])
}

/// How the first-order (convection) term of [`convection_diffusion_3d_with`] is discretized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvectionScheme {
    /// First-order upwind: an M-matrix, weakly diagonally dominant by rows and columns
    /// (strictly in rows next to the boundary), hence nonsingular for every Peclet number.
    #[default]
    Upwind,
    /// Second-order central differences: loses diagonal dominance (positive off-diagonal
    /// entries) once the mesh Peclet number `peclet * v * h` exceeds 2.
    Central,
}

/// Velocity of the convection term (a fixed direction not aligned with the grid).
const VELOCITY: [f64; 3] = [1.0, 0.5, 0.25];

fn convection_diffusion(dims: &[usize], peclet: f64, scheme: ConvectionScheme) -> CscMatrix<f64> {
    let dim = dims.len();
    let h = 1.0 / (dims.iter().copied().max().unwrap_or(0) as f64 + 1.0);
    let mut diag = 0.0;
    let mut lo = vec![0.0; dim];
    let mut hi = vec![0.0; dim];
    for d in 0..dim {
        // h^2 (-u'' + peclet v u'): -1, 2, -1 plus h * peclet * v times the difference.
        let g = peclet * VELOCITY[d] * h;
        match scheme {
            ConvectionScheme::Upwind => {
                // Difference against the flow: backward for g > 0, forward for g < 0.
                diag += 2.0 + g.abs();
                lo[d] = -1.0 - g.max(0.0);
                hi[d] = -1.0 + g.min(0.0);
            }
            ConvectionScheme::Central => {
                diag += 2.0;
                lo[d] = -1.0 - 0.5 * g;
                hi[d] = -1.0 + 0.5 * g;
            }
        }
    }
    stencil(dims, diag, &lo, &hi)
}

/// Steady convection-diffusion `-Δu + peclet (v · ∇u)` on a 2D grid, velocity
/// `v = (1, 0.5)`, upwind convection: see [`convection_diffusion_3d_with`].
pub fn convection_diffusion_2d(nx: usize, ny: usize, peclet: f64) -> CscMatrix<f64> {
    convection_diffusion_2d_with(nx, ny, peclet, ConvectionScheme::Upwind)
}

/// [`convection_diffusion_2d`] with a choice of [`ConvectionScheme`].
pub fn convection_diffusion_2d_with(
    nx: usize,
    ny: usize,
    peclet: f64,
    scheme: ConvectionScheme,
) -> CscMatrix<f64> {
    convection_diffusion(&[nx, ny], peclet, scheme)
}

/// Steady convection-diffusion `-Δu + peclet (v · ∇u)` on a 3D grid, velocity
/// `v = (1, 0.5, 0.25)`, upwind convection: see [`convection_diffusion_3d_with`].
///
/// ```
/// use tessera::sparse::gen;
/// let a = gen::convection_diffusion_3d(5, 4, 3, 50.0);
/// assert_eq!(a.nrows(), 60);
/// assert!(!a.is_symmetric(false));
/// ```
pub fn convection_diffusion_3d(nx: usize, ny: usize, nz: usize, peclet: f64) -> CscMatrix<f64> {
    convection_diffusion_3d_with(nx, ny, nz, peclet, ConvectionScheme::Upwind)
}

/// Steady convection-diffusion `-Δu + peclet (v · ∇u)`, `v = (1, 0.5, 0.25)`, by finite
/// differences with Dirichlet boundaries on the `nx x ny x nz` interior points of a grid
/// of spacing `h = 1 / (max(nx, ny, nz) + 1)` (the unit cube when all three are equal).
///
/// The matrix is `h^2` times the discrete operator: 7-point, diagonal
/// `6 + h * peclet * (|v_x| + |v_y| + |v_z|)` (upwind) or 6 (central). With `peclet = 0`
/// it is [`laplacian_3d`]; otherwise it is unsymmetric in values (the pattern is
/// symmetric). Upwind gives a nonsingular, diagonally dominant M-matrix for any Peclet
/// number; central differences are second-order accurate but not diagonally dominant for
/// `h * peclet > 2`.
pub fn convection_diffusion_3d_with(
    nx: usize,
    ny: usize,
    nz: usize,
    peclet: f64,
    scheme: ConvectionScheme,
) -> CscMatrix<f64> {
    convection_diffusion(&[nx, ny, nz], peclet, scheme)
}

/// Young's modulus of [`elasticity_3d`].
const YOUNG: f64 = 1.0;
/// Poisson's ratio of [`elasticity_3d`].
const POISSON: f64 = 0.3;

/// The 24 x 24 stiffness matrix of a trilinear (Q1) hexahedron, a cube of side `h`, for an
/// isotropic material (Lamé `lambda`, `mu`): `K[3a + i][3b + k] = ∫ lambda ∂_i N_a ∂_k N_b +
/// mu ∂_k N_a ∂_i N_b + mu δ_ik ∇N_a · ∇N_b`, by 2 x 2 x 2 Gauss quadrature (exact for the
/// cube). Local node `a = bx + 2 by + 4 bz` sits at `h (bx, by, bz)`. Exactly symmetric:
/// the upper triangle is computed and mirrored.
fn hex8_stiffness(young: f64, poisson: f64, h: f64) -> [[f64; 24]; 24] {
    let lambda = young * poisson / ((1.0 + poisson) * (1.0 - 2.0 * poisson));
    let mu = young / (2.0 * (1.0 + poisson));
    let g = 1.0 / 3.0f64.sqrt();
    let det_j = (h / 2.0).powi(3);
    let mut k = [[0.0f64; 24]; 24];
    for gp in 0..8 {
        let xi = [
            if gp & 1 == 0 { -g } else { g },
            if gp & 2 == 0 { -g } else { g },
            if gp & 4 == 0 { -g } else { g },
        ];
        // Gradients of the 8 shape functions in physical coordinates (dξ/dx = 2/h).
        let mut grad = [[0.0f64; 3]; 8];
        for (a, ga) in grad.iter_mut().enumerate() {
            let s = [
                if a & 1 == 0 { -1.0 } else { 1.0 },
                if a & 2 == 0 { -1.0 } else { 1.0 },
                if a & 4 == 0 { -1.0 } else { 1.0 },
            ];
            let f = [1.0 + s[0] * xi[0], 1.0 + s[1] * xi[1], 1.0 + s[2] * xi[2]];
            ga[0] = s[0] * f[1] * f[2] / 8.0 * (2.0 / h);
            ga[1] = f[0] * s[1] * f[2] / 8.0 * (2.0 / h);
            ga[2] = f[0] * f[1] * s[2] / 8.0 * (2.0 / h);
        }
        for a in 0..8 {
            for i in 0..3 {
                let r = 3 * a + i;
                for b in 0..8 {
                    let dot =
                        grad[a][0] * grad[b][0] + grad[a][1] * grad[b][1] + grad[a][2] * grad[b][2];
                    for kk in 0..3 {
                        let c = 3 * b + kk;
                        if c < r {
                            continue;
                        }
                        let mut v =
                            lambda * grad[a][i] * grad[b][kk] + mu * grad[a][kk] * grad[b][i];
                        if i == kk {
                            v += mu * dot;
                        }
                        k[r][c] += det_j * v;
                    }
                }
            }
        }
    }
    // Mirror the upper triangle.
    for r in 1..24 {
        let (upper, lower) = k.split_at_mut(r);
        for (c, row) in upper.iter().enumerate() {
            lower[0][c] = row[r];
        }
    }
    k
}

/// 3D linear elasticity: trilinear hexahedral (Q1) finite elements on a box of
/// `nx x ny x nz` unit-cube elements, 3 displacement unknowns per node, Young's modulus 1,
/// Poisson's ratio 0.3, clamped on the face `x = 0` (those nodes are removed).
///
/// Symmetric positive definite, order `3 nx (ny + 1) (nz + 1)`, up to 81 entries per
/// column (the 27 neighbouring nodes times 3 components). Unknown `3 p + c` is component
/// `c` of free node `p = (i - 1) + nx (j + (ny + 1) k)`, `1 <= i <= nx`. The element
/// stiffness uses 2 x 2 x 2 Gauss quadrature; every entry sums its element contributions
/// in the same order as its mirror, so the matrix is symmetric bit for bit.
///
/// ```
/// use tessera::sparse::gen;
/// let a = gen::elasticity_3d(3, 2, 2);
/// assert_eq!(a.nrows(), 3 * 3 * 3 * 3);
/// assert!(a.is_symmetric(false));
/// ```
pub fn elasticity_3d(nx: usize, ny: usize, nz: usize) -> CscMatrix<f64> {
    if nx == 0 || ny == 0 || nz == 0 {
        return CscMatrix::identity(0);
    }
    let ke = hex8_stiffness(YOUNG, POISSON, 1.0);
    let (px, py) = (nx + 1, ny + 1);
    let free = |i: usize, j: usize, k: usize| (i - 1) + nx * (j + py * k);
    let n = 3 * nx * py * (nz + 1);
    let mut col_ptr = Vec::with_capacity(n + 1);
    col_ptr.push(0);
    let mut row_idx = Vec::with_capacity(81 * n);
    let mut values = Vec::with_capacity(81 * n);
    for k in 0..=nz {
        for j in 0..=ny {
            for i in 1..px {
                for c in 0..3 {
                    // Contributions to column (node (i, j, k), component c) from the up to 8
                    // elements around the node, in increasing element order; slot
                    // (dx + 1) + 3 (dy + 1) + 9 (dz + 1) is the neighbour node at offset d.
                    let mut acc = [[0.0f64; 3]; 27];
                    let mut touched = [false; 27];
                    for ek in k.saturating_sub(1)..(k + 1).min(nz) {
                        for ej in j.saturating_sub(1)..(j + 1).min(ny) {
                            for ei in (i - 1)..(i + 1).min(nx) {
                                let a = (i - ei) + 2 * (j - ej) + 4 * (k - ek);
                                for b in 0..8 {
                                    let (bx, by, bz) = (b & 1, (b >> 1) & 1, (b >> 2) & 1);
                                    // Offset of node b from (i, j, k), each in {-1, 0, 1}.
                                    let slot = (ei + bx + 1 - i)
                                        + 3 * (ej + by + 1 - j)
                                        + 9 * (ek + bz + 1 - k);
                                    touched[slot] = true;
                                    for (d, v) in acc[slot].iter_mut().enumerate() {
                                        *v += ke[3 * b + d][3 * a + c];
                                    }
                                }
                            }
                        }
                    }
                    // Slots in increasing order are neighbours in increasing free index.
                    for slot in 0..27 {
                        let qi = i + slot % 3;
                        if !touched[slot] || qi == 1 {
                            // Outside the grid, or on the clamped face x = 0.
                            continue;
                        }
                        let q = free(qi - 1, j + (slot / 3) % 3 - 1, k + slot / 9 - 1);
                        for (d, &v) in acc[slot].iter().enumerate() {
                            row_idx.push(3 * q + d);
                            values.push(v);
                        }
                    }
                    col_ptr.push(row_idx.len());
                }
            }
        }
    }
    CscMatrix::new(n, n, col_ptr, row_idx, values)
        .expect("the elasticity pattern is valid by construction")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_sums(a: &CscMatrix<f64>) -> Vec<f64> {
        a.mul_vec(&vec![1.0; a.ncols()])
    }

    #[test]
    fn laplacians_sizes_values_and_symmetry() {
        for (nx, ny) in [(1, 1), (1, 5), (4, 1), (3, 4), (7, 7)] {
            let a = laplacian_2d(nx, ny);
            let n = nx * ny;
            assert_eq!((a.nrows(), a.ncols()), (n, n));
            assert_eq!(a.nnz(), n + 2 * ((nx - 1) * ny + nx * (ny - 1)));
            assert!(a.is_symmetric(false));
            let d = a.to_dense();
            for i in 0..n {
                assert_eq!(d[(i, i)], 4.0);
                for j in 0..n {
                    let (xi, yi, xj, yj) = (i % nx, i / nx, j % nx, j / nx);
                    let adjacent = xi.abs_diff(xj) + yi.abs_diff(yj) == 1;
                    assert_eq!(
                        d[(i, j)],
                        if i == j {
                            4.0
                        } else if adjacent {
                            -1.0
                        } else {
                            0.0
                        }
                    );
                }
            }
            // Row sums: 0 inside, 4 - (number of neighbours) >= 1 on the boundary.
            for (r, s) in row_sums(&a).into_iter().enumerate() {
                let (x, y) = (r % nx, r / nx);
                let inside = x > 0 && x + 1 < nx && y > 0 && y + 1 < ny;
                assert!(if inside { s == 0.0 } else { s >= 1.0 });
            }
        }
        for (nx, ny, nz) in [(1, 1, 1), (2, 3, 4), (5, 1, 2)] {
            let a = laplacian_3d(nx, ny, nz);
            let n = nx * ny * nz;
            assert_eq!(a.nrows(), n);
            assert_eq!(
                a.nnz(),
                n + 2 * ((nx - 1) * ny * nz + nx * (ny - 1) * nz + nx * ny * (nz - 1))
            );
            assert!(a.is_symmetric(false));
            assert!((0..n).all(|j| a.to_dense()[(j, j)] == 6.0));
            assert!(row_sums(&a).iter().all(|&s| s >= 0.0));
            assert!(a.to_dense().llt(faer::Side::Lower).is_ok());
        }
        assert_eq!(laplacian_2d(0, 3).nrows(), 0);
        assert_eq!(laplacian_3d(2, 0, 3).nnz(), 0);
    }

    #[test]
    fn convection_diffusion_is_unsymmetric_and_dominant() {
        // Peclet 0: the Laplacian, bit for bit.
        assert_eq!(convection_diffusion_3d(3, 4, 2, 0.0), laplacian_3d(3, 4, 2));
        assert_eq!(convection_diffusion_2d(3, 4, 0.0), laplacian_2d(3, 4));
        for pe in [1.0, 30.0, 1e4, -50.0] {
            let a = convection_diffusion_3d(4, 3, 5, pe);
            let n = 60;
            assert_eq!(a.nrows(), n);
            assert_eq!(a.nnz(), laplacian_3d(4, 3, 5).nnz());
            assert!(!a.is_symmetric(false));
            assert!(
                a.symmetrize_pattern().unwrap().nnz() == a.nnz(),
                "symmetric pattern"
            );
            // M-matrix, weakly diagonally dominant by rows and columns.
            let d = a.to_dense();
            for i in 0..n {
                let off: f64 = (0..n).filter(|&j| j != i).map(|j| d[(i, j)].abs()).sum();
                let off_col: f64 = (0..n).filter(|&j| j != i).map(|j| d[(j, i)].abs()).sum();
                assert!(d[(i, i)] > 0.0);
                assert!((0..n).all(|j| j == i || d[(i, j)] <= 0.0));
                assert!(d[(i, i)] >= off * (1.0 - 1e-14), "row {i}");
                assert!(d[(i, i)] >= off_col * (1.0 - 1e-14), "column {i}");
            }
            assert!(d.as_ref().determinant().abs() > 0.0);
            let a2 = convection_diffusion_2d(6, 5, pe);
            assert_eq!(a2.nrows(), 30);
            assert!(!a2.is_symmetric(false));
            assert!(row_sums(&a2).iter().all(|&s| s >= -1e-12 * pe.abs()));
        }
        // Central differences: same pattern, diagonal 6, loses dominance at high Peclet.
        let c = convection_diffusion_3d_with(4, 4, 4, 100.0, ConvectionScheme::Central);
        let d = c.to_dense();
        assert!((0..64).all(|i| d[(i, i)] == 6.0));
        assert!(c.values().iter().any(|&v| v > 0.0));
        let c2 = convection_diffusion_2d_with(4, 4, 1.0, ConvectionScheme::Central);
        assert!(!c2.is_symmetric(false));
        // Row sums of interior rows are 0 for both schemes (constants are in the kernel).
        let s = row_sums(&convection_diffusion_3d_with(
            3,
            3,
            3,
            7.0,
            ConvectionScheme::Central,
        ));
        assert!(s[13].abs() < 1e-14);
    }

    #[test]
    fn hex8_element_has_the_rigid_modes_as_kernel() {
        let k = hex8_stiffness(1.0, 0.3, 1.0);
        let lambda = 0.3 / (1.3 * 0.4);
        let mu = 1.0 / 2.6;
        // K[0][0] = ∫ (lambda + 2 mu) N_x^2 + mu (N_y^2 + N_z^2) = (lambda + 4 mu) / 9.
        assert!((k[0][0] - (lambda + 4.0 * mu) / 9.0).abs() < 1e-15);
        for (r, row) in k.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                assert_eq!(v, k[c][r]);
            }
        }
        // Translations and infinitesimal rotations u = w x X have zero energy.
        let mut modes: Vec<[f64; 24]> = Vec::new();
        for t in 0..3 {
            let mut u = [0.0; 24];
            (0..8).for_each(|a| u[3 * a + t] = 1.0);
            modes.push(u);
        }
        for w in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] {
            let mut u = [0.0; 24];
            for a in 0..8 {
                let x = [(a & 1) as f64, ((a >> 1) & 1) as f64, ((a >> 2) & 1) as f64];
                u[3 * a] = w[1] * x[2] - w[2] * x[1];
                u[3 * a + 1] = w[2] * x[0] - w[0] * x[2];
                u[3 * a + 2] = w[0] * x[1] - w[1] * x[0];
            }
            modes.push(u);
        }
        for u in &modes {
            for row in &k {
                let ku: f64 = row.iter().zip(u).map(|(a, b)| a * b).sum();
                assert!(ku.abs() < 1e-14, "K u = {ku}");
            }
        }
        // A stretch along x has positive energy.
        let mut u = [0.0; 24];
        (0..8).for_each(|a| u[3 * a] = (a & 1) as f64);
        let e: f64 = (0..24)
            .map(|r| u[r] * (0..24).map(|c| k[r][c] * u[c]).sum::<f64>())
            .sum();
        assert!(e > 0.1);
        // Stiffness scales with the element size in 3D.
        let k2 = hex8_stiffness(1.0, 0.3, 2.0);
        assert!((k2[5][17] - 2.0 * k[5][17]).abs() < 1e-15);
    }

    #[test]
    fn elasticity_is_spd_with_the_expected_pattern() {
        for (nx, ny, nz) in [(1, 1, 1), (2, 1, 1), (2, 2, 2), (3, 2, 1), (1, 3, 2)] {
            let a = elasticity_3d(nx, ny, nz);
            let n = 3 * nx * (ny + 1) * (nz + 1);
            assert_eq!((a.nrows(), a.ncols()), (n, n));
            assert!(a.is_symmetric(false), "{nx} x {ny} x {nz}");
            // Node-pattern count: each free node couples with the free nodes of its box of
            // up to 3 x 3 x 3 neighbours.
            let mut expected = 0;
            for k in 0..=nz {
                for j in 0..=ny {
                    for i in 1..=nx {
                        let cx = (i.saturating_sub(1).max(1)..=(i + 1).min(nx)).count();
                        let cy = (j.saturating_sub(1)..=(j + 1).min(ny)).count();
                        let cz = (k.saturating_sub(1)..=(k + 1).min(nz)).count();
                        expected += 9 * cx * cy * cz;
                    }
                }
            }
            assert_eq!(a.nnz(), expected);
            let d = a.to_dense();
            assert!((0..n).all(|i| d[(i, i)] > 0.0));
            assert!(
                d.llt(faer::Side::Lower).is_ok(),
                "{nx} x {ny} x {nz} is not SPD"
            );
            // Energy of a uniform x-stretch u_x = x: only the traction at the free end
            // x = nx and Poisson coupling; positive.
            let mut u = vec![0.0; n];
            for k in 0..=nz {
                for j in 0..=ny {
                    for i in 1..=nx {
                        u[3 * ((i - 1) + nx * (j + (ny + 1) * k))] = i as f64;
                    }
                }
            }
            let au = a.mul_vec(&u);
            assert!(u.iter().zip(&au).map(|(x, y)| x * y).sum::<f64>() > 0.0);
        }
        assert_eq!(elasticity_3d(0, 2, 2).nrows(), 0);
        // Larger case: only cheap checks.
        let a = elasticity_3d(6, 5, 4);
        assert_eq!(a.nrows(), 3 * 6 * 6 * 5);
        assert!(a.is_symmetric(false));
    }
}

//! Single-thread rate of the LU panel kernels on a tall m x nb block: Tessera's recursive
//! panel vs faer's partial-pivoting LU.
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::Mat;
use std::time::Instant;
fn main() {
    for (m, nb) in [(8000usize, 256usize), (8000, 384), (4000, 384), (2000, 256)] {
        let p = Mat::<f64>::from_fn(m, nb, |i, j| (((i * 31 + j * 17) % 97) as f64) / 97.0 - 0.5);
        let fl = (m * nb * nb) as f64 - (nb as f64).powi(3) / 3.0;
        let mut buf: Vec<f64> = (0..m * nb).map(|k| p[(k % m, k / m)]).collect();
        let mut ipiv = vec![0; nb];
        let t = Instant::now();
        tessera_kernels::getrf_panel(&mut buf, m, nb, m, &mut ipiv);
        let mine = fl / t.elapsed().as_secs_f64() / 1e9;
        let mut a = p.clone();
        let mut perm = vec![0usize; m];
        let mut pinv = vec![0usize; m];
        let par = faer::Par::Seq;
        let mut mem = MemBuffer::new(
            faer::linalg::lu::partial_pivoting::factor::lu_in_place_scratch::<usize, f64>(
                m,
                nb,
                par,
                Default::default(),
            ),
        );
        let t = Instant::now();
        faer::linalg::lu::partial_pivoting::factor::lu_in_place(
            a.as_mut(),
            &mut perm,
            &mut pinv,
            par,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let faer = fl / t.elapsed().as_secs_f64() / 1e9;
        println!("{m} x {nb}: tessera panel {mine:.1} GF/s, faer lu {faer:.1} GF/s");
    }
}

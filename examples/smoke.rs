use faer::Mat;
use tessera::{
    dense,
    runtime::{Runtime, RuntimeConfig},
    Norm, Op, Uplo,
};
fn main() {
    let rt = Runtime::new(RuntimeConfig::with_workers(2));
    for &(n, nb) in &[(1usize, 4usize), (7, 4), (100, 32), (257, 64), (500, 128)] {
        // potrf
        let a = dense::plghe::<f64>(&rt, n as f64, n, nb, 1).unwrap();
        let a0 = a.to_mat(&rt).unwrap();
        dense::potrf(&rt, Uplo::Lower, &a).unwrap();
        let l = a.to_mat(&rt).unwrap();
        let mut ll = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                ll[(i, j)] = l[(i, j)];
            }
        }
        let r = &ll * ll.transpose() - &a0;
        let mut rl = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                rl[(i, j)] = r[(i, j)];
            }
        }
        println!(
            "potrf n={n} nb={nb}: {:.3e}",
            rl.norm_max() / (a0.norm_max() * n as f64 * f64::EPSILON)
        );
        // getrf
        let a = dense::plrnt::<f64>(&rt, n, n, nb, 2).unwrap();
        let a0 = a.to_mat(&rt).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf(&rt, &a, &mut ipiv).unwrap();
        let f = a.to_mat(&rt).unwrap();
        let mut lm = Mat::<f64>::identity(n, n);
        let mut um = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in 0..n {
                if i > j {
                    lm[(i, j)] = f[(i, j)]
                } else {
                    um[(i, j)] = f[(i, j)]
                }
            }
        }
        let mut pa = a0.clone();
        for (k, &p) in ipiv.iter().enumerate() {
            for c in 0..n {
                let t = pa[(k, c)];
                pa[(k, c)] = pa[(p, c)];
                pa[(p, c)] = t;
            }
        }
        let r = &lm * &um - &pa;
        println!(
            "getrf n={n} nb={nb}: {:.3e}",
            r.norm_max() / (a0.norm_max() * n as f64 * f64::EPSILON)
        );
        // gels tall
        let m = n + n / 2 + 1;
        let a = dense::plrnt::<f64>(&rt, m, n, nb, 3).unwrap();
        let a0 = a.to_mat(&rt).unwrap();
        let b = dense::plrnt::<f64>(&rt, m, 2, nb, 4).unwrap();
        let b0 = b.to_mat(&rt).unwrap();
        dense::gels(&rt, &a, &b).unwrap();
        let x = b.to_mat(&rt).unwrap();
        let x = x.get(0..n, ..);
        let res = &b0 - &a0 * x;
        let ortho = a0.transpose() * &res;
        println!(
            "gels m={m} n={n}: ortho {:.3e}",
            ortho.norm_max()
                / (a0.norm_max() * a0.norm_max() * m as f64 * f64::EPSILON * (1.0 + x.norm_max()))
        );
        let nm = dense::lange(
            &rt,
            Norm::Frobenius,
            &dense::plrnt::<f64>(&rt, n, n, nb, 9).unwrap(),
        )
        .unwrap();
        let nm2 = dense::plrnt::<f64>(&rt, n, n, nb, 9)
            .unwrap()
            .to_mat(&rt)
            .unwrap()
            .norm_l2();
        println!("lange fro {nm} vs {nm2}");
        let _ = Op::NoTrans;
    }
}

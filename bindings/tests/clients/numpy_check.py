"""Solves real problems with numpy.linalg, to be run with Tessera's LAPACK preloaded.

Run by bindings/tests/numpy_client.rs as
    LD_PRELOAD=.../libtessera_lapack.so /usr/bin/python3 numpy_check.py
numpy.linalg calls LAPACK's Fortran symbols (solve -> ?gesv_, cholesky -> ?potrf_,
qr -> ?geqrf_ + ?orgqr_/?ungqr_, slogdet -> ?getrf_); with the preload they bind to
Tessera. numpy.linalg computes float32/complex64 input in double precision, so only the
d and z routines are reachable from it.
lstsq calls ?gelsd_, which Tessera does not provide: it stays in the system LAPACK and
serves here as the reference for least squares done through qr.

Prints one line per check and "ALL OK" at the end; exits 1 on any failure.
"""

import os
import sys

# Python opens extension modules with RTLD_NOW, which binds every LAPACK symbol numpy
# imports at load time. Lazy binding instead binds a symbol on its first call, so the
# loader's binding log (LD_DEBUG=bindings) lists the routines that numpy really called.
sys.setdlopenflags(os.RTLD_LAZY)

import numpy as np  # noqa: E402

failures = []


def check(name, ok, detail=""):
    line = ("ok    " if ok else "FAIL  ") + name
    if detail:
        line += "  (" + detail + ")"
    print(line, flush=True)
    if not ok:
        failures.append(name)


def eps(dtype):
    return float(np.finfo(dtype).eps)


def rand(rng, shape, dtype):
    if np.dtype(dtype).kind == "c":
        a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    else:
        a = rng.standard_normal(shape)
    return a.astype(dtype)


def well_conditioned(rng, n, dtype):
    # Gaussian entries plus a diagonal shift: eigenvalues near sqrt(n) +- the Gaussian
    # spread, so the condition number stays small (tens) at every n.
    return rand(rng, (n, n), dtype) + 2.0 * np.sqrt(n) * np.eye(n, dtype=dtype)


def nrm(x):
    return float(np.linalg.norm(x, np.inf)) if x.ndim == 2 else float(np.abs(x).max())


def check_solve(rng, n, dtype, nrhs=None):
    a = well_conditioned(rng, n, dtype)
    shape = (n,) if nrhs is None else (n, nrhs)
    x_true = rand(rng, shape, dtype)
    b = a @ x_true
    x = np.linalg.solve(a, b)
    e = eps(dtype)
    xn = nrm(x) if x.ndim == 1 else float(np.linalg.norm(x, np.inf))
    resid = nrm(a @ x - b) / (nrm(a) * xn * max(n, 1) * e)
    ferr = float(np.abs(x - x_true).max() / np.abs(x_true).max())
    name = "solve %s n=%d %s" % (np.dtype(dtype).name, n, "b vector" if nrhs is None else "nrhs=%d" % nrhs)
    check(
        name,
        x.shape == shape and x.dtype == np.dtype(dtype) and resid < 30.0 and ferr < 1e4 * e,
        "scaled residual %.2f, forward error %.1e" % (resid, ferr),
    )


def check_inv(rng, n, dtype):
    a = well_conditioned(rng, n, dtype)
    ai = np.linalg.inv(a)
    err = float(np.abs(a @ ai - np.eye(n)).max())
    check("inv %s n=%d" % (np.dtype(dtype).name, n), err < 1e3 * eps(dtype), "|A inv(A) - I| %.1e" % err)


def check_cholesky(rng, n, dtype):
    g = rand(rng, (n, n), dtype)
    a = g @ g.conj().T + n * np.eye(n, dtype=dtype)  # SPD / HPD, condition about 5
    a = (a + a.conj().T) / 2
    l = np.linalg.cholesky(a)
    e = eps(dtype)
    err = float(np.abs(l @ l.conj().T - a).max() / np.abs(a).max())
    upper = float(np.abs(np.triu(l, 1)).max()) if n > 1 else 0.0
    d = np.diag(l)
    diag_imag = float(np.abs(d.imag).max()) if np.iscomplexobj(d) else 0.0
    diag_ok = bool(np.all(d.real > 0)) and diag_imag <= 10 * e * float(np.abs(d).max())
    check(
        "cholesky %s n=%d" % (np.dtype(dtype).name, n),
        l.shape == (n, n) and err < 10 * n * e and upper == 0.0 and diag_ok,
        "|LL^H - A|/|A| %.1e, max |upper| %.1e, min diag %.3g, max |imag diag| %.1e"
        % (err, upper, float(d.real.min()), diag_imag),
    )


def check_qr(rng, m, n, dtype):
    a = rand(rng, (m, n), dtype)
    e = eps(dtype)
    k = min(m, n)
    tol = 10 * max(m, n) * e
    anorm = float(np.abs(a).max())
    for mode in ("reduced", "complete"):
        q, r = np.linalg.qr(a, mode=mode)
        qc = q.shape[1]
        want_q = (m, k) if mode == "reduced" else (m, m)
        orth = float(np.abs(q.conj().T @ q - np.eye(qc)).max())
        rec = float(np.abs(q @ r - a).max() / anorm)
        lower = float(np.abs(np.tril(r, -1)).max()) if min(r.shape) > 1 else 0.0
        check(
            "qr %s %dx%d mode=%s" % (np.dtype(dtype).name, m, n, mode),
            q.shape == want_q and r.shape == (qc, n) and orth < tol and rec < tol and lower == 0.0,
            "|Q^H Q - I| %.1e, |QR - A|/|A| %.1e" % (orth, rec),
        )
    r_only = np.linalg.qr(a, mode="r")
    _, r_red = np.linalg.qr(a, mode="reduced")
    d = float(np.abs(r_only - r_red).max() / anorm)
    check("qr %s %dx%d mode=r" % (np.dtype(dtype).name, m, n), d < tol, "|R_r - R_reduced|/|A| %.1e" % d)


def check_lstsq(rng, m, n, dtype, nrhs=None):
    a = rand(rng, (m, n), dtype)
    b = rand(rng, (m,) if nrhs is None else (m, nrhs), dtype)
    q, r = np.linalg.qr(a, mode="reduced")
    x = np.linalg.solve(r, q.conj().T @ b)
    x_ref = np.linalg.lstsq(a, b, rcond=None)[0]
    rel = float(np.linalg.norm(x - x_ref) / np.linalg.norm(x_ref))
    res = b - a @ x
    normal = float(np.linalg.norm(a.conj().T @ res) / (np.linalg.norm(a) * np.linalg.norm(res)))
    check(
        "least squares %s %dx%d %s via qr+solve vs lstsq" % (np.dtype(dtype).name, m, n, "b vector" if nrhs is None else "nrhs=%d" % nrhs),
        rel < 1e-10 and normal < 1e-12,
        "relative difference %.1e, |A^H r|/(|A| |r|) %.1e" % (rel, normal),
    )


def check_det(rng, n, dtype):
    # A = L U with unit lower L (small multipliers) and upper U of known diagonal: det(A) = prod(diag U).
    lo = np.tril(rand(rng, (n, n), dtype), -1) / n + np.eye(n, dtype=dtype)
    d = (1.0 + rng.random(n)) * rng.choice([-1.0, 1.0], n)
    up = np.triu(rand(rng, (n, n), dtype), 1) / n + np.diag(d).astype(dtype)
    a = lo @ up
    sign, logdet = np.linalg.slogdet(a)
    want_log = float(np.sum(np.log(np.abs(d))))
    want_sign = float(np.prod(np.sign(d)))
    err = abs(logdet - want_log)
    check(
        "slogdet %s n=%d" % (np.dtype(dtype).name, n),
        abs(sign - want_sign) < 1e-8 and err < 1e3 * eps(dtype) * max(1.0, abs(want_log)),
        "sign %s, |logdet error| %.1e" % (sign, err),
    )


def expect_linalg_error(name, f):
    try:
        f()
    except np.linalg.LinAlgError as exc:
        check(name, True, "LinAlgError: %s" % exc)
        return
    except Exception as exc:  # noqa: BLE001
        check(name, False, "raised %s: %s instead of LinAlgError" % (type(exc).__name__, exc))
        return
    check(name, False, "no LinAlgError raised")


def main():
    rng = np.random.default_rng(20240611)
    print("numpy %s from %s" % (np.__version__, np.__file__), flush=True)

    for dtype in (np.float64, np.complex128):
        for n in (300, 1, 2, 17):
            check_solve(rng, n, dtype)
        check_solve(rng, 300, dtype, nrhs=5)
        check_inv(rng, 64, dtype)

    for dtype in (np.float64, np.complex128):
        for n in (300, 1, 2, 17):
            check_cholesky(rng, n, dtype)

    for dtype in (np.float64, np.complex128):
        for m, n in ((300, 300), (300, 120), (80, 150), (1, 1), (5, 1), (1, 4)):
            check_qr(rng, m, n, dtype)

    for dtype in (np.float64, np.complex128):
        check_lstsq(rng, 500, 200, dtype)
        check_lstsq(rng, 500, 200, dtype, nrhs=3)

    for dtype in (np.float64, np.complex128):
        check_det(rng, 200, dtype)

    for dtype in (np.float64, np.complex128):
        dn = np.dtype(dtype).name
        a = rand(rng, (300, 300), dtype)
        a[:, 123] = 0  # a zero column stays exactly zero through any elimination
        expect_linalg_error("solve %s n=300 singular (zero column) raises" % dn, lambda: np.linalg.solve(a, rand(rng, (300,), dtype)))
        s = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=dtype)
        expect_linalg_error("solve %s 2x2 singular raises" % dn, lambda: np.linalg.solve(s, np.ones(2, dtype)))
        expect_linalg_error("solve %s 1x1 zero raises" % dn, lambda: np.linalg.solve(np.zeros((1, 1), dtype), np.ones(1, dtype)))
        expect_linalg_error("inv %s n=300 singular raises" % dn, lambda: np.linalg.inv(a))

        g = rand(rng, (300, 300), dtype)
        ind = g @ g.conj().T
        # Subtracting the mean eigenvalue (trace / n) leaves eigenvalues of both signs.
        ind = (ind + ind.conj().T) / 2 - float(np.trace(ind).real) / 300 * np.eye(300)
        expect_linalg_error("cholesky %s n=300 indefinite raises" % dn, lambda: np.linalg.cholesky(ind))
        neg = np.diag([4.0, 1.0, -1.0, 9.0]).astype(dtype)
        expect_linalg_error("cholesky %s 4x4 indefinite raises" % dn, lambda: np.linalg.cholesky(neg))

    if failures:
        print("FAILED %d check(s): %s" % (len(failures), ", ".join(failures)), flush=True)
        return 1
    print("ALL OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

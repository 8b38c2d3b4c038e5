/* A C program using Tessera's native API (tessera.h) and its LAPACK/LAPACKE symbols,
 * built and run by bindings/tests/c_client.rs. Exits non-zero on any failed check. */
#include "tessera.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Fortran ABI and LAPACKE, declared as lapack.h / lapacke.h do. */
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);
int LAPACKE_dgesv(int layout, int n, int nrhs, double *a, int lda, int *ipiv, double *b, int ldb);

/* The program's own XERBLA wins over anything else, as in LAPACK's test suite. */
static int xerbla_calls = 0, xerbla_info = 0;
static char xerbla_name[16];
void xerbla_(const char *name, const int *info, size_t len) {
    xerbla_calls++;
    xerbla_info = *info;
    memset(xerbla_name, 0, sizeof xerbla_name);
    memcpy(xerbla_name, name, len < 15 ? len : 15);
}

static int failures = 0;
#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (cond) {                                       \
            printf("ok    ");                             \
        } else {                                          \
            printf("FAIL  ");                             \
            failures++;                                   \
        }                                                 \
        printf(__VA_ARGS__);                              \
        printf("\n");                                     \
    } while (0)

static double rnd(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 65536.0 - 0.5;
}

/* max |A x - b| / (|A| |x| n eps), column-major, one right-hand side */
static double resid(int n, const double *a, const double *x, const double *b) {
    double r = 0, an = 0, xn = 0;
    for (int i = 0; i < n; i++) {
        double s = -b[i];
        for (int j = 0; j < n; j++) {
            s += a[i + j * n] * x[j];
            an = fmax(an, fabs(a[i + j * n]));
        }
        r = fmax(r, fabs(s));
        xn = fmax(xn, fabs(x[i]));
    }
    return r / (an * xn * n * 2.2e-16);
}

int main(void) {
    const int n = 400;
    unsigned seed = 7;
    double *a = malloc(sizeof(double) * n * n), *spd = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n), *x = malloc(sizeof(double) * n);
    double *f = malloc(sizeof(double) * n * n);
    int *ipiv = malloc(sizeof(int) * n);
    for (int i = 0; i < n * n; i++) a[i] = rnd(&seed);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) spd[i + j * n] = (i == j ? n : 0) + 0.5 * (a[i + j * n] + a[j + i * n]);
    for (int i = 0; i < n; i++) b[i] = rnd(&seed);

    tessera_runtime *rt = NULL;
    CHECK(tessera_runtime_create(0, &rt) == 0 && rt, "runtime with %d workers", tessera_runtime_workers(rt));

    /* Tiled + asynchronous Cholesky solve: submit both, wait once. */
    tessera_matrix *ta = NULL, *tb = NULL;
    CHECK(tessera_matrix_create(rt, TESSERA_F64, n, n, 64, spd, n, &ta) == 0, "matrix from a buffer (%lld x %lld, tiles %lld)",
          (long long)tessera_matrix_rows(ta), (long long)tessera_matrix_cols(ta), (long long)tessera_matrix_tile_size(ta));
    tessera_matrix_create(rt, TESSERA_F64, n, 1, 64, b, n, &tb);
    tessera_sequence *seq = NULL;
    tessera_sequence_create(rt, &seq);
    int r1 = tessera_potrf_async(seq, 'L', ta);
    int r2 = tessera_potrs_async(seq, 'L', ta, tb);
    CHECK(r1 == 0 && r2 == 0, "potrf_async + potrs_async submitted");
    CHECK(tessera_sequence_wait(seq) == 0, "sequence wait");
    tessera_matrix_read(rt, tb, x, n);
    double res = resid(n, spd, x, b);
    CHECK(res < 30, "async Cholesky solve: scaled residual %.2f", res);

    /* LU with pivoting, submitted asynchronously: ipiv filled at the wait. */
    tessera_matrix *tl = NULL, *tx = NULL;
    tessera_matrix_create(rt, TESSERA_F64, n, n, 0, a, n, &tl);
    tessera_matrix_create(rt, TESSERA_F64, n, 1, tessera_matrix_tile_size(tl), b, n, &tx);
    tessera_sequence_wait(seq);
    CHECK(tessera_getrf_async(seq, tl, ipiv) == 0 && tessera_sequence_wait(seq) == 0, "getrf_async");
    CHECK(tessera_getrs(rt, 'N', tl, ipiv, tx) == 0, "getrs");
    tessera_matrix_read(rt, tx, x, n);
    res = resid(n, a, x, b);
    CHECK(res < 30, "LU solve: scaled residual %.2f (ipiv[0] = %d)", res, ipiv[0]);

    /* Errors: codes and messages, never a crash. */
    CHECK(tessera_potrf(rt, 'X', ta) == -2 && strlen(tessera_last_error()) > 0, "bad uplo -> -2 (%s)", tessera_last_error());
    tessera_matrix *tn = NULL;
    double neg[4] = {1, 2, 2, 1};
    tessera_matrix_create(rt, TESSERA_F64, 2, 2, 0, neg, 2, &tn);
    CHECK(tessera_potrf(rt, 'L', tn) == 2, "not positive definite -> 2 (%s)", tessera_last_error());
    CHECK(tessera_matrix_create(rt, TESSERA_F64, 2, 2, 0, neg, 1, &tn) == -7, "lda < m -> -7");

    /* The LAPACK symbols from C, with the program's XERBLA. */
    memcpy(f, a, sizeof(double) * n * n);
    memcpy(x, b, sizeof(double) * n);
    int one = 1, info = -1;
    dgesv_(&n, &one, f, &n, ipiv, x, &n, &info);
    res = resid(n, a, x, b);
    CHECK(info == 0 && res < 30, "dgesv_: info %d, scaled residual %.2f", info, res);
    int bad = 1;
    dgesv_(&n, &one, f, &bad, ipiv, x, &n, &info);
    CHECK(info == -4 && xerbla_calls == 1 && xerbla_info == 4 && strncmp(xerbla_name, "DGESV", 5) == 0,
          "dgesv_ with LDA < N: info %d, the program's xerbla_ called %d time(s) with (%s, %d)", info, xerbla_calls,
          xerbla_name, xerbla_info);
    double ar[9] = {4, 1, 0, 1, 4, 1, 0, 1, 4}, br[3] = {5, 6, 5};
    int ip3[3];
    info = LAPACKE_dgesv(101, 3, 1, ar, 3, ip3, br, 1);
    CHECK(info == 0 && fabs(br[0] - 1) < 1e-14 && fabs(br[1] - 1) < 1e-14 && fabs(br[2] - 1) < 1e-14,
          "LAPACKE_dgesv row-major: x = (%g, %g, %g)", br[0], br[1], br[2]);

    tessera_sequence_destroy(seq);
    tessera_matrix_destroy(ta);
    tessera_matrix_destroy(tb);
    tessera_matrix_destroy(tl);
    tessera_matrix_destroy(tx);
    tessera_matrix_destroy(tn);
    tessera_runtime_destroy(rt);
    free(a), free(spd), free(b), free(x), free(f), free(ipiv);
    printf(failures ? "%d FAILED\n" : "ALL OK\n", failures);
    return failures != 0;
}

/* Tessera's native C API: tile matrices, tiled and asynchronous factorizations.
 * Generated from bindings/src/capi.rs by cbindgen (checked by bindings/tests/header.rs); do not edit.
 * LAPACK's own symbols (dgesv_, LAPACKE_dgesv, ...) are declared by the usual lapack.h / lapacke.h. */

#ifndef TESSERA_H
#define TESSERA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/**
 * Returned for failures that are neither numerical (INFO > 0) nor an invalid argument.
 */
#define TESSERA_ERROR_INTERNAL -1000

/**
 * Element type of a matrix.
 */
typedef enum tessera_dtype {
  /**
   * `float`
   */
  TESSERA_F32 = 0,
  /**
   * `double`
   */
  TESSERA_F64 = 1,
  /**
   * `float _Complex`
   */
  TESSERA_C32 = 2,
  /**
   * `double _Complex`
   */
  TESSERA_C64 = 3,
} tessera_dtype;

/**
 * A tile matrix.
 */
typedef struct tessera_matrix tessera_matrix;

/**
 * A task runtime (worker threads and scheduler).
 */
typedef struct tessera_runtime tessera_runtime;

/**
 * A sequence of submitted tasks that can be waited for as a whole.
 */
typedef struct tessera_sequence tessera_sequence;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The message of the calling thread's last failed call (empty if none). Valid until the
 * thread's next failing call.
 */
const char *tessera_last_error(void);

/**
 * Starts a runtime with `workers` threads (`<= 0`: one per core, or `TESSERA_NUM_THREADS`).
 */
int tessera_runtime_create(int workers, struct tessera_runtime **out);

/**
 * Waits for the runtime's tasks and stops its workers. NULL is ignored.
 */
void tessera_runtime_destroy(struct tessera_runtime *rt);

/**
 * The number of worker threads of `rt` (0 for NULL).
 */
int tessera_runtime_workers(const struct tessera_runtime *rt);

/**
 * Creates an `m x n` tile matrix with square `nb x nb` tiles (`nb <= 0`: chosen from the
 * size, as the LAPACK interface does), copied from the column-major buffer `a` with
 * leading dimension `lda >= max(1, m)`, or zero when `a` is NULL. The buffer is not kept.
 */
int tessera_matrix_create(const struct tessera_runtime *rt,
                          enum tessera_dtype dtype,
                          int64_t m,
                          int64_t n,
                          int64_t nb,
                          const void *a,
                          int64_t lda,
                          struct tessera_matrix **out);

/**
 * Copies `a` into the column-major buffer `dst` (leading dimension `ld >= max(1, m)`),
 * after every task already submitted on `a` has run.
 */
int tessera_matrix_read(const struct tessera_runtime *rt,
                        const struct tessera_matrix *a,
                        void *dst,
                        int64_t ld);

/**
 * Frees a matrix (tasks already submitted on it keep what they need). NULL is ignored.
 */
void tessera_matrix_destroy(struct tessera_matrix *a);

/**
 * Rows of `a` (0 for NULL).
 */
int64_t tessera_matrix_rows(const struct tessera_matrix *a);

/**
 * Columns of `a` (0 for NULL).
 */
int64_t tessera_matrix_cols(const struct tessera_matrix *a);

/**
 * Tile size of `a` (0 for NULL).
 */
int64_t tessera_matrix_tile_size(const struct tessera_matrix *a);

/**
 * Cholesky factorization in place (`uplo` 'L': A = L L^H, 'U': A = U^H U). Returns the
 * order of the first non-positive leading minor (> 0) on failure.
 */
int tessera_potrf(const struct tessera_runtime *rt, char uplo_, struct tessera_matrix *a);

/**
 * Solves `A X = B` with the Cholesky factor from `tessera_potrf`; `b` is overwritten.
 */
int tessera_potrs(const struct tessera_runtime *rt,
                  char uplo_,
                  const struct tessera_matrix *a,
                  struct tessera_matrix *b);

/**
 * Cholesky factorization and solve; `a` holds the factor and `b` the solution.
 */
int tessera_posv(const struct tessera_runtime *rt,
                 char uplo_,
                 struct tessera_matrix *a,
                 struct tessera_matrix *b);

/**
 * LU factorization with partial pivoting in place; `ipiv` (min(m, n) entries) receives
 * LAPACK's 1-based pivots. Returns `i > 0` if `U(i, i)` is exactly zero (the factors are
 * complete).
 */
int tessera_getrf(const struct tessera_runtime *rt, struct tessera_matrix *a, int32_t *ipiv);

/**
 * Solves `op(A) X = B` with the factors of `tessera_getrf` (`trans` 'N', 'T' or 'C').
 */
int tessera_getrs(const struct tessera_runtime *rt,
                  char trans,
                  const struct tessera_matrix *a,
                  const int32_t *ipiv,
                  struct tessera_matrix *b);

/**
 * Solves `A X = B` by LU with partial pivoting; `a` holds the factors, `ipiv` the pivots
 * and `b` the solution (untouched if `A` is singular).
 */
int tessera_gesv(const struct tessera_runtime *rt,
                 struct tessera_matrix *a,
                 int32_t *ipiv,
                 struct tessera_matrix *b);

/**
 * Least squares (`m >= n`) or minimum norm (`m < n`) solution of `op(A) X = B`, `trans`
 * 'N' or 'C' ('T' for real types); `b` has `max(m, n)` rows and receives `X` on top.
 */
int tessera_gels(const struct tessera_runtime *rt,
                 char trans,
                 struct tessera_matrix *a,
                 struct tessera_matrix *b);

/**
 * `C = alpha op(A) op(B) + beta C`; `alpha` and `beta` point to values of the matrices'
 * element type.
 */
int tessera_gemm(const struct tessera_runtime *rt,
                 char transa,
                 char transb,
                 const void *alpha,
                 const struct tessera_matrix *a,
                 const struct tessera_matrix *b,
                 const void *beta,
                 struct tessera_matrix *c);

/**
 * Creates an empty sequence on `rt`.
 */
int tessera_sequence_create(const struct tessera_runtime *rt, struct tessera_sequence **out);

/**
 * Waits for every task of the sequence; returns the first error of its tasks (e.g. the
 * INFO of a failed factorization), then completes the outputs of asynchronous calls
 * (`ipiv` of `tessera_getrf_async`). The sequence can be reused.
 */
int tessera_sequence_wait(struct tessera_sequence *seq);

/**
 * Waits for the sequence's tasks and frees it. NULL is ignored.
 */
void tessera_sequence_destroy(struct tessera_sequence *seq);

/**
 * Submits the Cholesky factorization of `a` into `seq` and returns.
 */
int tessera_potrf_async(struct tessera_sequence *seq, char uplo_, struct tessera_matrix *a);

/**
 * Submits the Cholesky solve `A X = B` into `seq` and returns.
 */
int tessera_potrs_async(struct tessera_sequence *seq,
                        char uplo_,
                        const struct tessera_matrix *a,
                        struct tessera_matrix *b);

/**
 * Submits the LU factorization with partial pivoting into `seq` and returns; `ipiv`
 * (min(m, n) entries, kept alive by the caller until the wait) is filled by
 * `tessera_sequence_wait`, which also reports a zero pivot as INFO > 0.
 */
int tessera_getrf_async(struct tessera_sequence *seq, struct tessera_matrix *a, int32_t *ipiv);

/**
 * Submits `C = alpha op(A) op(B) + beta C` into `seq` and returns.
 */
int tessera_gemm_async(struct tessera_sequence *seq,
                       char transa,
                       char transb,
                       const void *alpha,
                       const struct tessera_matrix *a,
                       const struct tessera_matrix *b,
                       const void *beta,
                       struct tessera_matrix *c);

extern void *dlsym(void *handle, const char *symbol);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* TESSERA_H */

/*
 * npy.h - a small, strict reader for NumPy .npy files (format 1.0, 2.0, 3.0).
 *
 * Only what the gumbel demos need: C-ordered arrays of little-endian
 * float32 ('<f4'), float64 ('<f8') or int64 ('<i8'), with at most
 * NPY_MAX_DIMS dimensions.  Everything else is refused with a message that
 * says why (missing file, bad magic, unsupported version, malformed header,
 * Fortran order, unsupported dtype, shape overflow, truncated data, ...).
 *
 * C99; usable from C++ as well.
 */
#ifndef GUMBEL_EXAMPLES_NPY_H
#define GUMBEL_EXAMPLES_NPY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    void *data;                  /* count * itemsize bytes, host byte order */
    size_t shape[NPY_MAX_DIMS];  /* shape[0 .. ndim-1]; the rest are 0     */
    int ndim;                    /* 0 for a scalar array                   */
    char dtype[8];               /* "<f4", "<f8" or "<i8", NUL-terminated  */
    size_t count;                /* product of the shape (1 when ndim==0)  */
    size_t itemsize;             /* 4 or 8                                 */
    int version_major;           /* 1, 2 or 3                              */
    int version_minor;           /* 0                                      */
} npy_array;

/* Reads the whole file at `path` into `out`.  Returns 0 on success.  On
 * failure returns non-zero, leaves `out` zeroed (nothing to free) and, when
 * err != NULL and errcap > 0, writes a NUL-terminated message (truncated to
 * errcap-1 bytes) that starts with the path. */
int npy_load(const char *path, npy_array *out, char *err, size_t errcap);

/* Releases what npy_load allocated and zeroes the struct.  Safe on a zeroed
 * struct and on NULL; calling it twice is harmless. */
void npy_free(npy_array *a);

/* Writes the shape as NumPy prints it, e.g. "(1797, 10)", "(5,)" or "()",
 * truncated to fit; returns `buf`. */
char *npy_shape_str(const npy_array *a, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* GUMBEL_EXAMPLES_NPY_H */

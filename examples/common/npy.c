/*
 * npy.c - a small, strict reader for NumPy .npy files.  See npy.h.
 *
 * The format: the magic bytes "\x93NUMPY", one byte each of major and
 * minor version, the header length (2 bytes little-endian in version 1.0,
 * 4 bytes in 2.0 and 3.0), then the header: a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (1797, 10), }
 * padded with spaces and ended by '\n'; then the raw array data.
 */
#include "npy.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* np.load refuses headers over 10000 bytes by default; we allow a lot more
 * but still refuse absurd lengths before allocating anything. */
#define NPY_MAX_HEADER_LEN ((size_t)1 << 20)

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || cap == 0) {
        return;
    }
    va_start(ap, fmt);
    if (vsnprintf(err, cap, fmt, ap) < 0) {
        err[0] = '\0';
    }
    va_end(ap);
}

/* ---- header dict parser ------------------------------------------------ */

typedef struct {
    const char *begin; /* start of the header, for offsets in messages */
    const char *p;
    const char *end;
    char why[160]; /* what was malformed */
} cursor;

static int malformed(cursor *c, const char *what)
{
    if (c->p >= c->end) {
        snprintf(c->why, sizeof c->why, "%s (the header ended first)", what);
    } else {
        snprintf(c->why, sizeof c->why, "%s (at header byte %ld)", what,
                 (long)(c->p - c->begin));
    }
    return -1;
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

/* Skips whitespace, then consumes `ch` if it comes next. */
static int accept_char(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Consumes `word` if it comes next and is not followed by a name character. */
static int accept_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    skip_ws(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
        return 0;
    }
    if ((size_t)(c->end - c->p) > n) {
        char next = c->p[n];
        if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
            (next >= '0' && next <= '9') || next == '_') {
            return 0;
        }
    }
    c->p += n;
    return 1;
}

/* A Python string literal in single or double quotes, without escapes.
 * On success *s points into the header and *n is its length. */
static int parse_string(cursor *c, const char **s, size_t *n)
{
    char quote;
    const char *start;
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) {
        return malformed(c, "expected a quoted string");
    }
    quote = *c->p++;
    start = c->p;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\') {
            return malformed(c, "escape sequences in strings are not supported");
        }
        if (*c->p == '\n' || *c->p == '\0') {
            return malformed(c, "unterminated string");
        }
        c->p++;
    }
    if (c->p >= c->end) {
        return malformed(c, "unterminated string");
    }
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++; /* closing quote */
    return 0;
}

/* A non-negative decimal integer that fits in size_t; a Python 2 'L'
 * suffix (written by very old NumPy versions) is accepted. */
static int parse_dim(cursor *c, size_t *value, int *overflow)
{
    size_t v = 0;
    int digits = 0;
    skip_ws(c);
    if (c->p < c->end && *c->p == '-') {
        return malformed(c, "negative dimension in 'shape'");
    }
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        size_t d = (size_t)(*c->p - '0');
        if (v > (SIZE_MAX - d) / 10) {
            *overflow = 1; /* keep scanning so the message is about overflow */
        } else {
            v = v * 10 + d;
        }
        digits++;
        c->p++;
    }
    if (digits == 0) {
        return malformed(c, "expected a dimension (an integer) in 'shape'");
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) {
        c->p++;
    }
    *value = v;
    return 0;
}

typedef struct {
    const char *descr;
    size_t descr_len;
    int descr_is_string; /* 0: a list, i.e. a structured dtype */
    int fortran_order;
    size_t shape[NPY_MAX_DIMS];
    int ndim;
    int too_many_dims;
    int dim_overflow;
    int seen_descr, seen_fortran, seen_shape;
} header_info;

static int parse_shape(cursor *c, header_info *h)
{
    if (!accept_char(c, '(')) {
        return malformed(c, "expected '(' to start 'shape'");
    }
    h->ndim = 0;
    if (accept_char(c, ')')) {
        return 0; /* () : a 0-d array */
    }
    for (;;) {
        size_t dim = 0;
        if (parse_dim(c, &dim, &h->dim_overflow) != 0) {
            return -1;
        }
        if (h->ndim < NPY_MAX_DIMS) {
            h->shape[h->ndim] = dim;
        } else {
            h->too_many_dims = 1;
        }
        if (h->ndim < INT_MAX) {
            h->ndim++;
        }
        if (accept_char(c, ')')) {
            return 0;
        }
        if (!accept_char(c, ',')) {
            return malformed(c, "expected ',' or ')' in 'shape'");
        }
        if (accept_char(c, ')')) {
            return 0; /* trailing comma, e.g. (5,) */
        }
    }
}

static int parse_header(cursor *c, header_info *h)
{
    memset(h, 0, sizeof *h);
    if (!accept_char(c, '{')) {
        return malformed(c, "header does not start with '{'");
    }
    for (;;) {
        const char *key;
        size_t key_len;
        if (accept_char(c, '}')) {
            break;
        }
        if (parse_string(c, &key, &key_len) != 0) {
            return -1;
        }
        if (!accept_char(c, ':')) {
            return malformed(c, "expected ':' after a key");
        }
        if (key_len == 5 && memcmp(key, "descr", 5) == 0) {
            if (h->seen_descr++) {
                return malformed(c, "duplicate key 'descr'");
            }
            skip_ws(c);
            if (c->p < c->end && *c->p == '[') {
                /* A structured dtype: refused later as unsupported.  Its
                 * list cannot be skipped reliably without a full parser, so
                 * stop here. */
                h->descr_is_string = 0;
                return 0;
            }
            if (parse_string(c, &h->descr, &h->descr_len) != 0) {
                return -1;
            }
            h->descr_is_string = 1;
        } else if (key_len == 13 && memcmp(key, "fortran_order", 13) == 0) {
            if (h->seen_fortran++) {
                return malformed(c, "duplicate key 'fortran_order'");
            }
            if (accept_word(c, "True")) {
                h->fortran_order = 1;
            } else if (accept_word(c, "False")) {
                h->fortran_order = 0;
            } else {
                return malformed(c, "'fortran_order' is neither True nor False");
            }
        } else if (key_len == 5 && memcmp(key, "shape", 5) == 0) {
            if (h->seen_shape++) {
                return malformed(c, "duplicate key 'shape'");
            }
            if (parse_shape(c, h) != 0) {
                return -1;
            }
        } else {
            return malformed(c, "unexpected key (only 'descr', 'fortran_order' "
                                "and 'shape' are allowed)");
        }
        if (accept_char(c, '}')) {
            break;
        }
        if (!accept_char(c, ',')) {
            return malformed(c, "expected ',' or '}' after a value");
        }
    }
    /* Only padding may follow: spaces, the final newline, and (leniently)
     * NUL bytes. */
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                             *c->p == '\r' || *c->p == '\0')) {
        c->p++;
    }
    if (c->p != c->end) {
        return malformed(c, "unexpected text after the closing '}'");
    }
    if (!h->seen_descr) {
        snprintf(c->why, sizeof c->why, "key 'descr' is missing");
        return -1;
    }
    if (!h->seen_fortran) {
        snprintf(c->why, sizeof c->why, "key 'fortran_order' is missing");
        return -1;
    }
    if (!h->seen_shape) {
        snprintf(c->why, sizeof c->why, "key 'shape' is missing");
        return -1;
    }
    return 0;
}

/* ---- file reading --------------------------------------------------- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

static void byteswap_items(unsigned char *data, size_t count, size_t itemsize)
{
    size_t i, j;
    for (i = 0; i < count; i++) {
        unsigned char *item = data + i * itemsize;
        for (j = 0; j < itemsize / 2; j++) {
            unsigned char t = item[j];
            item[j] = item[itemsize - 1 - j];
            item[itemsize - 1 - j] = t;
        }
    }
}

/* Reads the n bytes of array data into a new buffer.  When the stream's
 * size is unknown (a pipe), the buffer grows as data arrives, so a header
 * that promises far more than the stream holds fails as truncated instead
 * of allocating everything up front.  Returns the buffer, or NULL when out of
 * memory; *got is how many bytes were read (< n: the stream ended early). */
static unsigned char *read_data(FILE *f, size_t n, int size_known, size_t *got)
{
    const size_t chunk = (size_t)1 << 20;
    size_t cap = (size_known || n < chunk) ? n : chunk;
    unsigned char *buf = (unsigned char *)malloc(cap > 0 ? cap : 1);
    *got = 0;
    if (buf == NULL) {
        return NULL;
    }
    while (*got < n) {
        size_t r;
        if (*got == cap) {
            size_t new_cap = cap > n / 2 ? n : cap * 2; /* cap*2 <= n: no overflow */
            unsigned char *grown = (unsigned char *)realloc(buf, new_cap);
            if (grown == NULL) {
                free(buf);
                return NULL;
            }
            buf = grown;
            cap = new_cap;
        }
        r = fread(buf + *got, 1, cap - *got, f);
        *got += r;
        if (r == 0) {
            break; /* end of file or read error: the caller tells which */
        }
    }
    return buf;
}

/* Reads exactly n bytes; returns how many were read. */
static size_t read_fully(FILE *f, void *buf, size_t n)
{
    return n == 0 ? 0 : fread(buf, 1, n, f);
}

int npy_load(const char *path, npy_array *out, char *err, size_t errcap)
{
    FILE *f = NULL;
    unsigned char prefix[8];
    unsigned char lenbuf[4];
    size_t lenbytes, header_len, got, count, itemsize, nbytes;
    char *header = NULL;
    unsigned char *data = NULL;
    cursor cur;
    header_info h;
    int i, major, minor;
    long data_start = -1, file_end = -1;
    int size_known = 0;

    if (out == NULL) {
        set_err(err, errcap, "npy_load: out is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (path == NULL) {
        set_err(err, errcap, "npy_load: path is NULL");
        return -1;
    }

    errno = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errcap, "%s: cannot open: %s", path,
                errno != 0 ? strerror(errno) : "unknown error");
        return -1;
    }

    errno = 0;
    got = read_fully(f, prefix, sizeof prefix);
    if (got < sizeof npy_magic || memcmp(prefix, npy_magic, sizeof npy_magic) != 0) {
        if (ferror(f)) {
            set_err(err, errcap, "%s: read error: %s", path, strerror(errno));
        } else if (got < sizeof npy_magic) {
            set_err(err, errcap, "%s: not a .npy file (only %zu bytes, too short "
                    "for the magic string \\x93NUMPY)", path, got);
        } else {
            set_err(err, errcap, "%s: not a .npy file (bad magic: the file does "
                    "not start with \\x93NUMPY)", path);
        }
        goto fail;
    }
    if (got < sizeof prefix) {
        set_err(err, errcap, "%s: truncated .npy file (ends inside the version "
                "bytes)", path);
        goto fail;
    }
    major = prefix[6];
    minor = prefix[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
        set_err(err, errcap, "%s: unsupported .npy format version %d.%d (this "
                "reader supports 1.0, 2.0 and 3.0)", path, major, minor);
        goto fail;
    }

    lenbytes = major == 1 ? 2 : 4;
    if (read_fully(f, lenbuf, lenbytes) != lenbytes) {
        set_err(err, errcap, "%s: truncated .npy file (ends inside the header "
                "length)", path);
        goto fail;
    }
    header_len = (size_t)lenbuf[0] | ((size_t)lenbuf[1] << 8);
    if (lenbytes == 4) {
        header_len |= ((size_t)lenbuf[2] << 16) | ((size_t)lenbuf[3] << 24);
    }
    if (header_len == 0 || header_len > NPY_MAX_HEADER_LEN) {
        set_err(err, errcap, "%s: malformed header: implausible header length "
                "%zu bytes", path, header_len);
        goto fail;
    }

    header = (char *)malloc(header_len);
    if (header == NULL) {
        set_err(err, errcap, "%s: out of memory reading the header", path);
        goto fail;
    }
    got = read_fully(f, header, header_len);
    if (got != header_len) {
        set_err(err, errcap, "%s: truncated .npy file: the header should be %zu "
                "bytes but the file ends after %zu", path, header_len, got);
        goto fail;
    }

    cur.begin = header;
    cur.p = header;
    cur.end = header + header_len;
    cur.why[0] = '\0';
    if (parse_header(&cur, &h) != 0) {
        set_err(err, errcap, "%s: malformed header: %s", path, cur.why);
        goto fail;
    }

    /* dtype */
    if (!h.descr_is_string) {
        set_err(err, errcap, "%s: unsupported dtype: structured (record) "
                "arrays are not supported; expected '<f4', '<f8' or '<i8'", path);
        goto fail;
    }
    if (h.descr_len == 3 && (memcmp(h.descr, "<f4", 3) == 0)) {
        itemsize = 4;
    } else if (h.descr_len == 3 && (memcmp(h.descr, "<f8", 3) == 0 ||
                                    memcmp(h.descr, "<i8", 3) == 0)) {
        itemsize = 8;
    } else {
        int shown = h.descr_len > 40 ? 40 : (int)h.descr_len;
        const char *why = "only little-endian '<f4' (float32), '<f8' (float64) "
                          "and '<i8' (int64) are supported";
        if (h.descr_len == 3 && h.descr[0] == '>' &&
            (memcmp(h.descr + 1, "f4", 2) == 0 || memcmp(h.descr + 1, "f8", 2) == 0 ||
             memcmp(h.descr + 1, "i8", 2) == 0)) {
            why = "big-endian data is not supported; convert with "
                  "arr.astype(arr.dtype.newbyteorder('<'))";
        }
        set_err(err, errcap, "%s: unsupported dtype '%.*s%s': %s", path, shown,
                h.descr, h.descr_len > 40 ? "..." : "", why);
        goto fail;
    }

    if (h.fortran_order) {
        set_err(err, errcap, "%s: Fortran-ordered (column-major) arrays are not "
                "supported; save a C-ordered array (np.ascontiguousarray)", path);
        goto fail;
    }

    /* shape */
    if (h.too_many_dims) {
        set_err(err, errcap, "%s: %d dimensions; this reader supports at most %d",
                path, h.ndim, NPY_MAX_DIMS);
        goto fail;
    }
    if (h.dim_overflow) {
        set_err(err, errcap, "%s: shape overflow: a dimension does not fit in "
                "size_t", path);
        goto fail;
    }
    count = 1;
    for (i = 0; i < h.ndim; i++) {
        if (h.shape[i] == 0) {
            count = 0;
            break;
        }
    }
    if (count != 0) {
        for (i = 0; i < h.ndim; i++) {
            if (count > SIZE_MAX / h.shape[i]) {
                set_err(err, errcap, "%s: shape overflow: the number of elements "
                        "does not fit in size_t", path);
                goto fail;
            }
            count *= h.shape[i];
        }
    }
    if (count > SIZE_MAX / itemsize) {
        set_err(err, errcap, "%s: shape overflow: the data size in bytes does not "
                "fit in size_t", path);
        goto fail;
    }
    nbytes = count * itemsize;

    /* Before allocating, compare with what the file holds, so a header that
     * promises terabytes gives "truncated", not "out of memory".  If the
     * stream cannot seek, the read below still catches truncation. */
    data_start = ftell(f);
    if (data_start >= 0 && fseek(f, 0, SEEK_END) == 0) {
        file_end = ftell(f);
        if (fseek(f, data_start, SEEK_SET) != 0) {
            set_err(err, errcap, "%s: cannot seek back to the data", path);
            goto fail;
        }
        if (file_end >= data_start) {
            unsigned long long have = (unsigned long long)(file_end - data_start);
            if (have < (unsigned long long)nbytes) {
                set_err(err, errcap, "%s: truncated data: the header promises "
                        "%zu bytes (%.*s, %zu elements) but only %llu follow it",
                        path, nbytes, (int)h.descr_len, h.descr, count, have);
                goto fail;
            }
            size_known = 1;
        }
    }

    errno = 0;
    data = read_data(f, nbytes, size_known, &got);
    if (data == NULL) {
        set_err(err, errcap, "%s: out of memory (%zu bytes of data)", path, nbytes);
        goto fail;
    }
    if (got != nbytes) {
        if (ferror(f)) {
            set_err(err, errcap, "%s: read error in the data: %s", path,
                    strerror(errno));
        } else {
            set_err(err, errcap, "%s: truncated data: the header promises %zu "
                    "bytes but the file ends after %zu", path, nbytes, got);
        }
        goto fail;
    }
    if (fgetc(f) != EOF) {
        set_err(err, errcap, "%s: unexpected bytes after the %zu bytes of data "
                "that the header describes", path, nbytes);
        goto fail;
    }
    fclose(f);
    f = NULL;

    if (!host_is_little_endian()) {
        byteswap_items(data, count, itemsize);
    }

    out->data = data;
    for (i = 0; i < h.ndim; i++) {
        out->shape[i] = h.shape[i];
    }
    out->ndim = h.ndim;
    memcpy(out->dtype, h.descr, 3); /* h.descr points into `header` */
    out->dtype[3] = '\0';
    free(header);
    out->count = count;
    out->itemsize = itemsize;
    out->version_major = major;
    out->version_minor = minor;
    return 0;

fail:
    free(data);
    free(header);
    if (f != NULL) {
        fclose(f);
    }
    memset(out, 0, sizeof *out);
    return -1;
}

void npy_free(npy_array *a)
{
    if (a == NULL) {
        return;
    }
    free(a->data);
    memset(a, 0, sizeof *a);
}

char *npy_shape_str(const npy_array *a, char *buf, size_t cap)
{
    size_t used = 0;
    int i, n;
    if (buf == NULL || cap == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (a == NULL) {
        return buf;
    }
    n = snprintf(buf, cap, "(");
    for (i = 0; n >= 0 && i < a->ndim && i < NPY_MAX_DIMS; i++) {
        used += (size_t)n;
        if (used >= cap) {
            return buf;
        }
        n = snprintf(buf + used, cap - used, "%s%zu", i > 0 ? ", " : "",
                     a->shape[i]);
    }
    if (n < 0) {
        return buf;
    }
    used += (size_t)n;
    if (used >= cap) {
        return buf;
    }
    snprintf(buf + used, cap - used, "%s)", a->ndim == 1 ? "," : "");
    return buf;
}

/* artvcs.plumbing._chunkrows: the rows of chunk lists and chunk pack indexes, parsed in one pass.
 *
 * Every chunked checkout parses its file's chunk list (~27,000 rows per GiB) and the indexes of
 * the packs that hold its chunks (as many rows again), then maps each pack's digests to their
 * rows. In Python, with whole-string operations, that cost ~0.03-0.08 s per GiB on the copying
 * thread: a tenth to a quarter of a ``cp`` of the same file. Here it is one pass over the bytes
 * per text and one per pack. These functions decide nothing the Python code would not: on
 * anything that is not exactly canonical they return None, and plumbing/chunklist.py walks the
 * rows to name the bad one (it has the same checks in Python; tests compare the two).
 *
 * rows(data, start, count, max_size, exclude) -> (list, total) | None: when data[start:] is exactly
 *   ``count`` rows "<64 lowercase hex> <size>\n" (size 1-9 digits, no leading zero, at most
 *   ``max_size``) and no row's digest is ``exclude`` (a str, or None), the rows as
 *   [(digest, size), ...] and the sum of the sizes; else None.
 * check(data, start, count, max_size, exclude) -> total | None: rows()'s answer without the rows.
 * starts(data, start, count, max_size, exclude) -> (table, total) | None: rows()'s answer with, in
 *   place of the rows, each row's start in data and the sum of the sizes before it, as native
 *   int64 pairs (memoryview(table).cast("q")[2 * i : 2 * i + 2]): a pack index's rows looked up by
 *   number in O(1), however many runs a checkout seeks in it and in whatever order.
 * common(a, pa, b, pb): walk such texts row by row from row starts() gave (plumbing/chunkruns.py:
 *   the runs of a checkout, found from the list's and the pack indexes' texts).
 * ascending_u32(data): the multi-pack index's fanout check (plumbing/chunkmidx.py).
 * places(rows, name, pack_of) -> (row_of, offsets): for a pack ``name`` of ``rows`` (a list of
 *   (str, int) tuples, as rows() makes), the dict digest -> its first row, the running offsets
 *   (one more than rows, the pack's size last), and each digest not yet in the dict ``pack_of``
 *   set to ``name`` there (the first pack added that holds a chunk is where it is found).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define DIGEST_HEX 64
#define MAX_DIGITS 9

/* Whether the 64 bytes at p are all lowercase hex: arithmetic on every byte with no early exit,
 * so the compiler checks many bytes per instruction (the table lookup it replaces cost half of a
 * checkout's text checks). */
static inline int lower_hex64(const unsigned char *p) {
    unsigned bad = 0;
    for (int k = 0; k < DIGEST_HEX; k++) {
        unsigned char digit = (unsigned char)(p[k] - '0'), letter = (unsigned char)(p[k] - 'a');
        bad |= (digit > 9) & (letter > 5);
    }
    return !bad;
}

/* The end of the canonical row at p (just past its '\n') and its size in *size; NULL when the
 * bytes from p are not one such row within max_size. */
static const unsigned char *scan_row(const unsigned char *p, const unsigned char *end, long long max_size,
                                     long long *size) {
    if (end - p < DIGEST_HEX + 3) return NULL;
    if (!lower_hex64(p)) return NULL;
    if (p[DIGEST_HEX] != ' ') return NULL;
    const unsigned char *q = p + DIGEST_HEX + 1;
    if (*q < '1' || *q > '9') return NULL; /* no leading zero, no empty size */
    long long n = 0;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        if (++digits > MAX_DIGITS) return NULL;
        n = n * 10 + (*q++ - '0');
    }
    if (q >= end || *q != '\n' || n > max_size) return NULL;
    *size = n;
    return q + 1;
}

/* What walk_rows() makes of the rows: nothing (check), the row objects (rows), or each row's start
 * and the sizes before it (starts). */
enum { CHECK, ROWS, STARTS };

/* rows(), check() or starts() by ``build``: the same walk, with or without what it makes. */
static PyObject *walk_rows(PyObject *args, int build) {
    Py_buffer buf;
    Py_ssize_t start, count;
    long long max_size;
    PyObject *exclude;
    if (!PyArg_ParseTuple(args, "y*nnLO", &buf, &start, &count, &max_size, &exclude)) return NULL;
    const char *ex = NULL;
    Py_ssize_t exlen = 0;
    if (exclude != Py_None) {
        if (!PyUnicode_Check(exclude)) {
            PyBuffer_Release(&buf);
            PyErr_SetString(PyExc_TypeError, "rows(): exclude must be a str or None");
            return NULL;
        }
        ex = PyUnicode_AsUTF8AndSize(exclude, &exlen);
        if (!ex) {
            PyBuffer_Release(&buf);
            return NULL;
        }
    }
    if (start < 0 || count < 0 || start > buf.len) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "rows(): start or count out of range");
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)buf.buf + start;
    const unsigned char *end = (const unsigned char *)buf.buf + buf.len;
    /* every row is 67 to 75 bytes: a count the text cannot hold is refused before any allocation */
    if ((end - p) < count * (Py_ssize_t)(DIGEST_HEX + 3) || (end - p) > count * (Py_ssize_t)(DIGEST_HEX + 2 + MAX_DIGITS)) {
        PyBuffer_Release(&buf);
        Py_RETURN_NONE;
    }
    PyObject *out = build == ROWS     ? PyList_New(count)
                    : build == STARTS ? PyBytes_FromStringAndSize(NULL, count * 16) /* (count <= len / 67) */
                                      : NULL;
    if (build && !out) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    long long total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        long long n;
        const unsigned char *q = scan_row(p, end, max_size, &n);
        if (!q) goto refuse;
        if (ex && exlen == DIGEST_HEX && memcmp(p, ex, DIGEST_HEX) == 0) goto refuse;
        if (build == STARTS) { /* (Py_ssize_t and long long both fit in int64_t) */
            int64_t pair[2] = {(int64_t)(p - (const unsigned char *)buf.buf), (int64_t)total};
            memcpy(PyBytes_AS_STRING(out) + 16 * i, pair, 16);
        }
        total += n;
        if (build != ROWS) {
            p = q;
            continue;
        }
        PyObject *d = PyUnicode_New(DIGEST_HEX, 127);
        if (!d) goto fail;
        memcpy(PyUnicode_DATA(d), p, DIGEST_HEX);
        PyObject *size = PyLong_FromLongLong(n);
        if (!size) {
            Py_DECREF(d);
            goto fail;
        }
        PyObject *row = PyTuple_New(2);
        if (!row) {
            Py_DECREF(d);
            Py_DECREF(size);
            goto fail;
        }
        PyTuple_SET_ITEM(row, 0, d);
        PyTuple_SET_ITEM(row, 1, size);
        PyList_SET_ITEM(out, i, row);
        p = q;
    }
    if (p != end) goto refuse;
    PyBuffer_Release(&buf);
    PyObject *sum = PyLong_FromLongLong(total);
    if (build == CHECK || !sum) {
        Py_XDECREF(out);
        return sum;
    }
    return Py_BuildValue("(NN)", out, sum);
refuse:
    Py_XDECREF(out); /* (a list with unset items is freed safely: they are NULL) */
    PyBuffer_Release(&buf);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&buf);
    return NULL;
}

static PyObject *rows(PyObject *self, PyObject *args) { return walk_rows(args, ROWS); }

static PyObject *check(PyObject *self, PyObject *args) { return walk_rows(args, CHECK); }

static PyObject *starts(PyObject *self, PyObject *args) { return walk_rows(args, STARTS); }

/* common(a, pa, b, pb) -> (k, pa_end, nbytes): how many canonical rows from a[pa:] on are the
 * very same text as those from b[pb:] on (k, 0 when the first differ), where a's stop (pa_end),
 * and the sum of their sizes: a run of a list's chunks lying back to back in one pack, compared
 * as text, without a row object made. */
static PyObject *common(PyObject *self, PyObject *args) {
    Py_buffer a, b;
    Py_ssize_t pa, pb;
    if (!PyArg_ParseTuple(args, "y*ny*n", &a, &pa, &b, &pb)) return NULL;
    if (pa < 0 || pa > a.len || pb < 0 || pb > b.len) {
        PyBuffer_Release(&a);
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "common(): a position out of range");
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)a.buf + pa, *aend = (const unsigned char *)a.buf + a.len;
    const unsigned char *q = (const unsigned char *)b.buf + pb, *bend = (const unsigned char *)b.buf + b.len;
    Py_ssize_t k = 0;
    long long nbytes = 0, n;
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        const unsigned char *next = scan_row(p, aend, LLONG_MAX, &n);
        if (!next || bend - q < next - p || memcmp(p, q, (size_t)(next - p)) != 0) break;
        q += next - p; /* (the same bytes: b's row ends with the same '\n') */
        p = next;
        nbytes += n;
        k++;
    }
    Py_END_ALLOW_THREADS
    Py_ssize_t end_a = (Py_ssize_t)(p - (const unsigned char *)a.buf);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return Py_BuildValue("(nnL)", k, end_a, nbytes);
}

static PyObject *places(PyObject *self, PyObject *args) {
    PyObject *list, *name, *pack_of;
    if (!PyArg_ParseTuple(args, "O!UO!", &PyList_Type, &list, &name, &PyDict_Type, &pack_of)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *row_of = PyDict_New();
    PyObject *offsets = PyList_New(n + 1); /* (items not yet set are NULL: freed safely on failure) */
    PyObject *o;
    if (!row_of || !offsets || !(o = PyLong_FromLong(0))) goto fail;
    PyList_SET_ITEM(offsets, 0, o);
    long long off = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyList_GET_ITEM(list, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(row, 0))
            || !PyLong_Check(PyTuple_GET_ITEM(row, 1))) {
            PyErr_SetString(PyExc_TypeError, "places(): each row must be a (str, int) tuple");
            goto fail;
        }
        PyObject *d = PyTuple_GET_ITEM(row, 0);
        long long size = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 1));
        if (size == -1 && PyErr_Occurred()) goto fail;
        off += size;
        if (!(o = PyLong_FromLongLong(off))) goto fail;
        PyList_SET_ITEM(offsets, i + 1, o);
        PyObject *at = PyLong_FromSsize_t(i);
        if (!at) goto fail;
        PyObject *had = PyDict_SetDefault(row_of, d, at); /* a chunk twice in the pack: its first row */
        Py_DECREF(at);
        if (!had || !PyDict_SetDefault(pack_of, d, name)) goto fail; /* a pack added before keeps it */
    }
    return Py_BuildValue("(NN)", row_of, offsets);
fail:
    Py_XDECREF(row_of);
    Py_XDECREF(offsets);
    return NULL;
}

/* ascending_u32(data) -> bool: whether the native-endian 32-bit unsigned numbers of data (an
 * array('I')) never decrease: the multi-pack index's fanout check, done on every open. */
static PyObject *ascending_u32(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    if (buf.len % 4) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "ascending_u32(): the data is not whole 32-bit numbers");
        return NULL;
    }
    const unsigned char *p = buf.buf;
    Py_ssize_t n = buf.len / 4;
    int ok = 1;
    uint32_t last = 0, v;
    for (Py_ssize_t i = 0; i < n && ok; i++) {
        memcpy(&v, p + 4 * i, 4);
        ok = v >= last;
        last = v;
    }
    PyBuffer_Release(&buf);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"ascending_u32", ascending_u32, METH_VARARGS,
     "ascending_u32(data) -> bool: whether data's native 32-bit unsigned numbers never decrease."},
    {"rows", rows, METH_VARARGS,
     "rows(data, start, count, max_size, exclude) -> ([(digest, size), ...], total) when data[start:] is exactly "
     "count canonical rows within max_size and naming no exclude; else None."},
    {"check", check, METH_VARARGS,
     "check(data, start, count, max_size, exclude) -> total | None: rows()'s answer without the rows."},
    {"starts", starts, METH_VARARGS,
     "starts(data, start, count, max_size, exclude) -> (table, total) | None: check()'s walk, with each row's "
     "start and the sizes before it as native int64 pairs."},
    {"common", common, METH_VARARGS,
     "common(a, pa, b, pb) -> (k, pa_end, nbytes): the rows from a[pa:] that are the same text as from b[pb:]."},
    {"places", places, METH_VARARGS,
     "places(rows, name, pack_of) -> (row_of, offsets): each digest's first row, the running offsets; "
     "pack_of.setdefault(digest, name) for each row."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_chunkrows", NULL, -1, methods};

/* the source this module was built from (setup.py): plumbing/native.py refuses a stale build */
#ifndef SOURCE_ID
#define SOURCE_ID ""
#endif

PyMODINIT_FUNC PyInit__chunkrows(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_ID", SOURCE_ID) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

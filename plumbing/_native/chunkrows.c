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
 * places(rows, name, pack_of) -> (row_of, offsets): for a pack ``name`` of ``rows`` (a list of
 *   (str, int) tuples, as rows() makes), the dict digest -> its first row, the running offsets
 *   (one more than rows, the pack's size last), and each digest not yet in the dict ``pack_of``
 *   set to ``name`` there (the first pack added that holds a chunk is where it is found).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define DIGEST_HEX 64
#define MAX_DIGITS 9

static signed char hexval[256];

static PyObject *rows(PyObject *self, PyObject *args) {
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
    PyObject *out = PyList_New(count);
    if (!out) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    long long total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (end - p < DIGEST_HEX + 3) goto refuse;
        for (int k = 0; k < DIGEST_HEX; k++)
            if (hexval[p[k]] < 0) goto refuse;
        if (p[DIGEST_HEX] != ' ') goto refuse;
        const unsigned char *q = p + DIGEST_HEX + 1;
        if (*q < '1' || *q > '9') goto refuse; /* no leading zero, no empty size */
        long long n = 0;
        int digits = 0;
        while (q < end && *q >= '0' && *q <= '9') {
            if (++digits > MAX_DIGITS) goto refuse;
            n = n * 10 + (*q++ - '0');
        }
        if (q >= end || *q != '\n' || n > max_size) goto refuse;
        if (ex && exlen == DIGEST_HEX && memcmp(p, ex, DIGEST_HEX) == 0) goto refuse;
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
        total += n;
        p = q + 1;
    }
    if (p != end) goto refuse;
    PyBuffer_Release(&buf);
    PyObject *sum = PyLong_FromLongLong(total);
    if (!sum) {
        Py_DECREF(out);
        return NULL;
    }
    return Py_BuildValue("(NN)", out, sum);
refuse:
    Py_DECREF(out); /* (a list with unset items is freed safely: they are NULL) */
    PyBuffer_Release(&buf);
    Py_RETURN_NONE;
fail:
    Py_DECREF(out);
    PyBuffer_Release(&buf);
    return NULL;
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

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS,
     "rows(data, start, count, max_size, exclude) -> ([(digest, size), ...], total) when data[start:] is exactly "
     "count canonical rows within max_size and naming no exclude; else None."},
    {"places", places, METH_VARARGS,
     "places(rows, name, pack_of) -> (row_of, offsets): each digest's first row, the running offsets; "
     "pack_of.setdefault(digest, name) for each row."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_chunkrows", NULL, -1, methods};

PyMODINIT_FUNC PyInit__chunkrows(void) {
    memset(hexval, -1, sizeof hexval);
    for (int c = '0'; c <= '9'; c++) hexval[c] = (signed char)(c - '0');
    for (int c = 'a'; c <= 'f'; c++) hexval[c] = (signed char)(c - 'a' + 10);
    return PyModule_Create(&module);
}

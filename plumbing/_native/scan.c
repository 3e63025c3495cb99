/* artvcs.plumbing._scan: the per-file loop of "is this folder's file unchanged?" in C.
 *
 * scan(folder, names, row, solo) looks at each name in folder with one
 * fstatat(AT_SYMLINK_NOFOLLOW) and compares it with that name's record in the
 * folder's stat-cache row (plumbing/statcache.py lays it out). For each name:
 *   None            nothing there (ENOENT, ENOTDIR)
 *   False           something to look at in Python (not a regular file, no
 *                   record, a stat that differs, racily clean, a stat error,
 *                   or with solo a file with more than one link)
 *   (digest, size, sweep_gen or None)  a regular file the record vouches for
 * plumbing/scan.py has the same function in Python; tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXED 128
#define RACY_NS 1000000000LL

typedef struct {
    const char *name;
    Py_ssize_t len;
    const unsigned char *fixed;
} rec_t;

static uint64_t fnv(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return (int64_t)v;
}

/* Parse a row into recs (malloc'd) and an open-addressing table of indexes; 0 on a malformed row. */
static Py_ssize_t parse(const char *buf, Py_ssize_t size, rec_t **recs, Py_ssize_t **table, Py_ssize_t *mask) {
    *recs = NULL;
    *table = NULL;
    if (buf == NULL || size < 4) return 0;
    const unsigned char *u = (const unsigned char *)buf;
    Py_ssize_t n = (Py_ssize_t)u[0] | ((Py_ssize_t)u[1] << 8) | ((Py_ssize_t)u[2] << 16) | ((Py_ssize_t)u[3] << 24);
    if (n == 0 || (size - 4) / FIXED < n) return 0;
    Py_ssize_t names_at = 4 + n * FIXED;
    rec_t *r = PyMem_Malloc(sizeof(rec_t) * n);
    if (!r) return -1;
    Py_ssize_t pos = names_at;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *start = buf + pos;
        const char *nul = memchr(start, 0, size - pos);
        if (!nul) { PyMem_Free(r); return 0; }
        r[i].name = start;
        r[i].len = nul - start;
        r[i].fixed = u + 4 + i * FIXED;
        pos += r[i].len + 1;
    }
    if (pos != size) { PyMem_Free(r); return 0; }
    Py_ssize_t cap = 8;
    while (cap < 2 * n) cap <<= 1;
    Py_ssize_t *t = PyMem_Malloc(sizeof(Py_ssize_t) * cap);
    if (!t) { PyMem_Free(r); return -1; }
    for (Py_ssize_t i = 0; i < cap; i++) t[i] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t k = fnv(r[i].name, r[i].len) & (cap - 1);
        while (t[k] >= 0) k = (k + 1) & (cap - 1);
        t[k] = i;
    }
    *recs = r;
    *table = t;
    *mask = cap - 1;
    return n;
}

static Py_ssize_t find(rec_t *recs, Py_ssize_t *table, Py_ssize_t mask, const char *s, Py_ssize_t n) {
    if (!table) return -1;
    Py_ssize_t k = fnv(s, n) & mask;
    while (table[k] >= 0) {
        rec_t *r = &recs[table[k]];
        if (r->len == n && memcmp(r->name, s, n) == 0) return table[k];
        k = (k + 1) & mask;
    }
    return -1;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *folder_o, *names;
    Py_buffer row = {0};
    int solo;
    if (!PyArg_ParseTuple(args, "O&O!z*p", PyUnicode_FSConverter, &folder_o, &PyList_Type, &names, &row, &solo))
        return NULL;
    PyObject *out = NULL;
    rec_t *recs = NULL;
    Py_ssize_t *table = NULL, mask = 0;
    Py_ssize_t count = PyList_GET_SIZE(names);
    if (parse(row.buf, row.len, &recs, &table, &mask) < 0) { PyErr_NoMemory(); goto done; }
    out = PyList_New(count);
    if (!out) goto done;
    int dfd = open(PyBytes_AS_STRING(folder_o), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int gone = dfd < 0 && (errno == ENOENT || errno == ENOTDIR);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = Py_False;
        if (dfd < 0) {
            item = gone ? Py_None : Py_False;
            Py_INCREF(item);
            PyList_SET_ITEM(out, i, item);
            continue;
        }
        PyObject *enc = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(names, i));
        if (!enc) { Py_CLEAR(out); close(dfd); goto done; }
        const char *name = PyBytes_AS_STRING(enc);
        Py_ssize_t nlen = PyBytes_GET_SIZE(enc);
        struct stat st;
        if ((Py_ssize_t)strlen(name) != nlen) {
            item = Py_False; /* an embedded NUL: let Python say what it makes of it */
        } else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            item = (errno == ENOENT || errno == ENOTDIR) ? Py_None : Py_False;
        } else if (S_ISREG(st.st_mode) && !(solo && st.st_nlink > 1)) {
            Py_ssize_t k = find(recs, table, mask, name, nlen);
            if (k >= 0) {
                const unsigned char *f = recs[k].fixed;
                int64_t dev = get64(f), ino = get64(f + 8), size = get64(f + 16), mt = get64(f + 24), ct = get64(f + 32);
                int64_t hashed = get64(f + 40), clock_dev = get64(f + 48), gen = get64(f + 56);
                int64_t st_mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
                int64_t st_ct = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
                if (dev == (int64_t)st.st_dev && ino == (int64_t)st.st_ino && size == (int64_t)st.st_size &&
                    mt == st_mt && ct == st_ct) {
                    int64_t stamp = mt > ct ? mt : ct;
                    int ok = (clock_dev != -1 && clock_dev == dev) ? stamp < hashed : stamp + RACY_NS <= hashed;
                    if (ok) {
                        const char *d = (const char *)f + 64;
                        Py_ssize_t dlen = 64;
                        while (dlen > 0 && d[dlen - 1] == 0) dlen--;
                        int ascii = 1;
                        for (Py_ssize_t j = 0; j < dlen; j++) ascii &= (unsigned char)d[j] < 0x80;
                        if (!ascii) goto look; /* a damaged row: not a usable record */
                        item = gen == -1 ? Py_BuildValue("(s#LO)", d, dlen, (long long)size, Py_None)
                                         : Py_BuildValue("(s#LL)", d, dlen, (long long)size, (long long)gen);
                        if (!item) { Py_DECREF(enc); Py_CLEAR(out); close(dfd); goto done; }
                        Py_DECREF(enc);
                        PyList_SET_ITEM(out, i, item);
                        continue;
                    }
                }
            }
        }
    look:
        Py_DECREF(enc);
        Py_INCREF(item);
        PyList_SET_ITEM(out, i, item);
    }
    if (dfd >= 0) close(dfd);
done:
    PyMem_Free(recs);
    PyMem_Free(table);
    Py_DECREF(folder_o);
    PyBuffer_Release(&row);
    return out;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "scan(folder, names, row, solo) -> [None | False | (digest, size, sweep_gen)]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", "The stat-cache scan of one folder, in C.", -1, methods};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }

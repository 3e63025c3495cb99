/* artvcs.plumbing._copybatch: the system calls of a checkout's small-file copies, a batch at a time.
 *
 * A checkout of many small files spends its time in open, read, write and
 * close, one file at a time; in Python each also costs the interpreter, and
 * holds the GIL between calls. These two functions run a whole batch (a few
 * hundred files) in C with the GIL released, so that reading one batch,
 * hashing another (blake3, in Python) and writing a third overlap on the
 * cores there are. They decide nothing: every file that does not go the
 * plain way is handed back for plumbing/placefile.py to do in full (and to
 * raise the error that says why), so the results are the same as its.
 *
 * read_batch(srcs, sizes) -> list: for each store file, one read from its
 *   start of one byte more than its size (one byte more is how the caller
 *   sees that the file is larger than the manifest says); None where it could
 *   not be opened or read.
 * write_batch(dsts, datas) -> list: for each target, create it (O_CREAT |
 *   O_EXCL, mode 0666 less the umask: a link or anything else already there
 *   is an error, never followed), write the bytes, fstat it, close it; the
 *   file's (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns) once written,
 *   or the errno of the step that failed (the half-written file is removed). Each folder is
 *   opened once while its files follow one another, and the files are created in it (openat):
 *   one path walk per folder, not per file (see folder_t).
 * link_batch(srcs, dsts) -> list: for each target, a hard link to its store file (never
 *   following a link at the target: one there is EEXIST), the same folder-at-a-time way;
 *   None once linked, or the errno of the link that failed. The caller has hashed the store
 *   file's bytes first (read_batch): a hardlink checkout is verified as a copy is.
 * plumbing/copybatch.py has the same loops in Python; tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ITEM ((Py_ssize_t)1 << 30)

/* Each path of the tuple seq as an owned bytes object (os.fsencode's rules: a NUL inside is a
 * ValueError, as os.open's); NULL with an exception set. A path's __fspath__ is Python code run
 * here: seq is a tuple of the function's own, so nothing it does changes what seq holds. */
static PyObject **encode_paths(PyObject *seq, Py_ssize_t n) {
    PyObject **out = PyMem_Calloc(n ? n : 1, sizeof(PyObject *));
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_FSConverter(PyTuple_GET_ITEM(seq, i), &out[i])) {
            for (Py_ssize_t j = 0; j < i; j++) Py_DECREF(out[j]);
            PyMem_Free(out);
            return NULL;
        }
    }
    return out;
}

static void free_paths(PyObject **p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(p[i]);
    PyMem_Free(p);
}

static PyObject *read_batch(PyObject *self, PyObject *args) {
    PyObject *srcs_in, *sizes_in;
    if (!PyArg_ParseTuple(args, "OO:read_batch", &srcs_in, &sizes_in)) return NULL;
    /* tuples of the function's own (a copy of a caller's list): the Python code a path or a size
     * runs (__fspath__, __index__) cannot change them under the loops below */
    PyObject *srcs = PySequence_Tuple(srcs_in);
    if (!srcs) return NULL;
    PyObject *sizes = PySequence_Tuple(sizes_in);
    if (!sizes) {
        Py_DECREF(srcs);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(srcs);
    PyObject *out = NULL, **paths = NULL, **bufs = NULL;
    Py_ssize_t *got = NULL;
    if (PyTuple_GET_SIZE(sizes) != n) {
        PyErr_SetString(PyExc_ValueError, "read_batch: srcs and sizes differ in length");
        goto done;
    }
    paths = encode_paths(srcs, n);
    if (!paths) goto done;
    bufs = PyMem_Calloc(n ? n : 1, sizeof(PyObject *));
    got = PyMem_Calloc(n ? n : 1, sizeof(Py_ssize_t));
    if (!bufs || !got) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size = PyLong_AsSsize_t(PyTuple_GET_ITEM(sizes, i));
        if (size == -1 && PyErr_Occurred()) goto done;
        if (size < 0 || size >= MAX_ITEM) {
            PyErr_Format(PyExc_ValueError, "read_batch: size %zd out of range", size);
            goto done;
        }
        bufs[i] = PyBytes_FromStringAndSize(NULL, size + 1);  /* one byte more: a larger file shows */
        if (!bufs[i]) goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        got[i] = -1;
        int fd;
        do fd = open(PyBytes_AS_STRING(paths[i]), O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) continue;
        /* One read, as placefile's: fewer bytes than the size is the end of the file, or a read
         * cut short; either way the hash does not match and placefile reads it again in full. */
        ssize_t k;
        do k = pread(fd, PyBytes_AS_STRING(bufs[i]), (size_t)PyBytes_GET_SIZE(bufs[i]), 0);
        while (k < 0 && errno == EINTR);
        close(fd);
        got[i] = k;
    }
    Py_END_ALLOW_THREADS
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (got[i] < 0) {
            Py_INCREF(Py_None);
            PyList_SET_ITEM(out, i, Py_None);
            continue;
        }
        if (got[i] != PyBytes_GET_SIZE(bufs[i]) && _PyBytes_Resize(&bufs[i], got[i]) < 0) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, bufs[i]);  /* the list takes the reference */
        bufs[i] = NULL;
    }
done:
    if (bufs)
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(bufs[i]);
    PyMem_Free(bufs);
    PyMem_Free(got);
    if (paths) free_paths(paths, n);
    Py_DECREF(srcs);
    Py_DECREF(sizes);
    return out;
}

typedef struct {
    int err;
    struct stat st;
} wrote_t;

/* Create name in the folder open as dfd (AT_FDCWD: path is whole), write data, fstat; 0, or the
 * errno of the failed step (nothing left under the name). */
static int write_one(int dfd, const char *name, const char *data, Py_ssize_t len, struct stat *st) {
    int fd;
    do fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno;
    Py_ssize_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t k = write(fd, data + done, (size_t)(len - done));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            err = errno;
            break;
        }
        if (k == 0) {  /* no progress and no errno (a file system that cannot take more): retrying would loop forever */
            err = EIO;
            break;
        }
        done += k;
    }
    if (!err && fstat(fd, st) != 0) err = errno;
    if (close(fd) != 0 && !err && errno != EINTR) err = errno;
    if (err) unlinkat(dfd, name, 0);
    return err;
}

/* The folders of a batch, each opened once while its files follow one another (a checkout
 * writes a folder's files together): one path walk per folder instead of one per file. A
 * folder is opened as a path open would reach it (a link to a folder is followed, as
 * before); every file of a folder that cannot be opened gets that open's errno, which is
 * the errno the file's own open would have given (ENOENT, ENOTDIR, EACCES...). */
typedef struct {
    const char *dir;  /* the folder part of the last path (not NUL-ended), and its length */
    size_t dir_len;
    int dfd;  /* -1: none open; -2 - errno: the folder could not be opened */
} folder_t;

static void folder_close(folder_t *f) {
    if (f->dfd >= 0) close(f->dfd);
    f->dfd = -1;
    f->dir = NULL;
}

/* Link src (a whole path) as name in the folder open as dfd; 0, or link's errno. A src that is not a
 * regular file (a symbolic link put in the store: the read followed it, so what was hashed is not what
 * would be linked) is EPERM, never linked: placefile.place does it in full, verifying what it links. */
static int link_one(int dfd, const char *src, const char *name) {
    struct stat st;
    if (lstat(src, &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return EPERM;
    int r;
    do r = linkat(AT_FDCWD, src, dfd, name, 0);  /* flags 0: src itself if it is a link, never what it leads to */
    while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : errno;
}

/* Open (or keep) the folder of path in f; the name's start within path, or NULL with *err set. */
static const char *name_in_folder(folder_t *f, const char *path, int *dfd, int *err) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
        *dfd = AT_FDCWD;
        return path;
    }
    size_t dir_len = (size_t)(slash - path);
    if (!f->dir || f->dir_len != dir_len || memcmp(f->dir, path, dir_len) != 0) {
        folder_close(f);
        char *dir = malloc(dir_len + 1);
        if (!dir) {
            *err = ENOMEM;
            return NULL;
        }
        memcpy(dir, path, dir_len);
        dir[dir_len] = 0;
        int fd;
        do fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);  /* O_PATH: a folder one may write but not list */
        while (fd < 0 && errno == EINTR);
        f->dfd = fd >= 0 ? fd : -2 - errno;
        free(dir);
        f->dir = path;
        f->dir_len = dir_len;
    }
    if (f->dfd < -1) {
        *err = -2 - f->dfd;
        return NULL;
    }
    *dfd = f->dfd;
    return slash + 1;
}

static int write_in_folder(folder_t *f, const char *path, const char *data, Py_ssize_t len, struct stat *st) {
    int dfd, err = 0;
    const char *name = name_in_folder(f, path, &dfd, &err);
    return name ? write_one(dfd, name, data, len, st) : err;
}

static PyObject *write_batch(PyObject *self, PyObject *args) {
    PyObject *dsts_in, *datas_in;
    if (!PyArg_ParseTuple(args, "OO:write_batch", &dsts_in, &datas_in)) return NULL;
    /* tuples of the function's own (see read_batch): they hold a reference to each item for the
     * whole call, and no Python code can replace an item of theirs */
    PyObject *dsts = PySequence_Tuple(dsts_in);
    if (!dsts) return NULL;
    PyObject *datas = PySequence_Tuple(datas_in);
    if (!datas) {
        Py_DECREF(dsts);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(dsts);
    PyObject *out = NULL, **paths = NULL;
    wrote_t *res = NULL;
    const char **bytes = NULL;
    Py_ssize_t *lens = NULL;
    if (PyTuple_GET_SIZE(datas) != n) {
        PyErr_SetString(PyExc_ValueError, "write_batch: dsts and datas differ in length");
        goto done;
    }
    paths = encode_paths(dsts, n);  /* may run Python code (__fspath__): before the data are looked at */
    if (!paths) goto done;
    res = PyMem_Calloc(n ? n : 1, sizeof(wrote_t));
    bytes = PyMem_Calloc(n ? n : 1, sizeof(const char *));
    lens = PyMem_Calloc(n ? n : 1, sizeof(Py_ssize_t));
    if (!res || !bytes || !lens) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(datas, i);
        if (!PyBytes_Check(d)) {
            PyErr_SetString(PyExc_TypeError, "write_batch: datas must be bytes");
            goto done;
        }
        bytes[i] = PyBytes_AS_STRING(d);
        lens[i] = PyBytes_GET_SIZE(d);
    }
    /* The bytes objects are immutable and held by the datas tuple, which is this call's own, for
     * the whole call: safe to read without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    folder_t folder = {NULL, 0, -1};
    for (Py_ssize_t i = 0; i < n; i++)
        res[i].err = write_in_folder(&folder, PyBytes_AS_STRING(paths[i]), bytes[i], lens[i], &res[i].st);
    folder_close(&folder);
    Py_END_ALLOW_THREADS
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item;
        if (res[i].err) {
            item = PyLong_FromLong(res[i].err);
        } else {
            struct stat *s = &res[i].st;
            item = Py_BuildValue("(KKLLL)", (unsigned long long)s->st_dev, (unsigned long long)s->st_ino,
                                 (long long)s->st_size,
                                 (long long)s->st_mtim.tv_sec * 1000000000LL + s->st_mtim.tv_nsec,
                                 (long long)s->st_ctim.tv_sec * 1000000000LL + s->st_ctim.tv_nsec);
        }
        if (!item) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, item);
    }
done:
    PyMem_Free(res);
    PyMem_Free(bytes);
    PyMem_Free(lens);
    if (paths) free_paths(paths, n);
    Py_DECREF(dsts);
    Py_DECREF(datas);
    return out;
}

static PyObject *link_batch(PyObject *self, PyObject *args) {
    PyObject *srcs_in, *dsts_in;
    if (!PyArg_ParseTuple(args, "OO:link_batch", &srcs_in, &dsts_in)) return NULL;
    PyObject *srcs = PySequence_Tuple(srcs_in);  /* the function's own tuples: see read_batch */
    if (!srcs) return NULL;
    PyObject *dsts = PySequence_Tuple(dsts_in);
    if (!dsts) {
        Py_DECREF(srcs);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(srcs);
    PyObject *out = NULL, **from = NULL, **to = NULL;
    int *errs = NULL;
    if (PyTuple_GET_SIZE(dsts) != n) {
        PyErr_SetString(PyExc_ValueError, "link_batch: srcs and dsts differ in length");
        goto done;
    }
    from = encode_paths(srcs, n);
    if (!from) goto done;
    to = encode_paths(dsts, n);
    if (!to) goto done;
    errs = PyMem_Calloc(n ? n : 1, sizeof(int));
    if (!errs) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    folder_t folder = {NULL, 0, -1};
    for (Py_ssize_t i = 0; i < n; i++) {
        int dfd, err = 0;
        const char *name = name_in_folder(&folder, PyBytes_AS_STRING(to[i]), &dfd, &err);
        errs[i] = name ? link_one(dfd, PyBytes_AS_STRING(from[i]), name) : err;
    }
    folder_close(&folder);
    Py_END_ALLOW_THREADS
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = errs[i] ? PyLong_FromLong(errs[i]) : Py_NewRef(Py_None);
        if (!item) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, item);
    }
done:
    PyMem_Free(errs);
    if (from) free_paths(from, n);
    if (to) free_paths(to, n);
    Py_DECREF(srcs);
    Py_DECREF(dsts);
    return out;
}

static PyMethodDef methods[] = {
    {"read_batch", read_batch, METH_VARARGS,
     "read_batch(srcs, sizes) -> list: each file's bytes (up to size + 1), or None where it could not be read."},
    {"write_batch", write_batch, METH_VARARGS,
     "write_batch(dsts, datas) -> list: create each new file with its bytes; its (dev, ino, size, mtime_ns, "
     "ctime_ns), or the errno that stopped it (nothing left behind)."},
    {"link_batch", link_batch, METH_VARARGS,
     "link_batch(srcs, dsts) -> list: hard-link each store file at its new target; None, or link's errno."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_copybatch", NULL, -1, methods};

/* the source this module was built from (setup.py): plumbing/native.py refuses a stale build */
#ifndef SOURCE_ID
#define SOURCE_ID ""
#endif

PyMODINIT_FUNC PyInit__copybatch(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_ID", SOURCE_ID) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

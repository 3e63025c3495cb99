/* artvcs.plumbing._scan: the per-file loops of "is this folder's file unchanged?" in C.
 *
 * scan(folder, names, row, solo) looks at each name in folder with one
 * fstatat(AT_SYMLINK_NOFOLLOW) and compares it with that name's record in the
 * folder's stat-cache row (plumbing/statcache.py lays it out). For each name:
 *   None            nothing there (ENOENT, ENOTDIR)
 *   False           something to look at in Python (not a regular file, no
 *                   record, a stat that differs, racily clean, a stat error,
 *                   or with solo a file with more than one link)
 *   (digest, size, sweep_gen or None)  a regular file the record vouches for
 *
 * tree(root, rows, solo=False) walks a whole folder without following links
 * (up to four threads, the GIL released, no Python object per file) and gives
 * {folder: "name NUL digest" lines} for plumbing/foldersums.py, or None as soon
 * as anything is not a folder or a file its row vouches for.
 * plumbing/scan.py has the same functions in Python; tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
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
    rec_t *r = PyMem_RawMalloc(sizeof(rec_t) * n);
    if (!r) return -1;
    Py_ssize_t pos = names_at;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *start = buf + pos;
        const char *nul = memchr(start, 0, size - pos);
        if (!nul) { PyMem_RawFree(r); return 0; }
        r[i].name = start;
        r[i].len = nul - start;
        r[i].fixed = u + 4 + i * FIXED;
        pos += r[i].len + 1;
        /* names strictly increasing (as Python compares bytes), or the row is malformed: a repeated
         * name would leave which record is read to the reader (this table takes the first) */
        if (i > 0) {
            Py_ssize_t m = r[i - 1].len < r[i].len ? r[i - 1].len : r[i].len;
            int c = memcmp(r[i - 1].name, r[i].name, m);
            if (c > 0 || (c == 0 && r[i - 1].len >= r[i].len)) { PyMem_RawFree(r); return 0; }
        }
    }
    if (pos != size) { PyMem_RawFree(r); return 0; }
    Py_ssize_t cap = 8;
    while (cap < 2 * n) cap <<= 1;
    Py_ssize_t *t = PyMem_RawMalloc(sizeof(Py_ssize_t) * cap);
    if (!t) { PyMem_RawFree(r); return -1; }
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

/* The digest of the record of `name` when it vouches for a file with stat `st` (a regular
 * file, the same stat, not racily clean, an ASCII digest); NULL when it does not. */
static const char *vouched(rec_t *recs, Py_ssize_t *table, Py_ssize_t mask, const char *name, Py_ssize_t nlen,
                           const struct stat *st, Py_ssize_t *dlen, int64_t *size_o, int64_t *gen_o) {
    if (!S_ISREG(st->st_mode)) return NULL;
    Py_ssize_t k = find(recs, table, mask, name, nlen);
    if (k < 0) return NULL;
    const unsigned char *f = recs[k].fixed;
    int64_t dev = get64(f), ino = get64(f + 8), size = get64(f + 16), mt = get64(f + 24), ct = get64(f + 32);
    int64_t hashed = get64(f + 40), clock_dev = get64(f + 48);
    int64_t st_mt = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    int64_t st_ct = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
    if (dev != (int64_t)st->st_dev || ino != (int64_t)st->st_ino || size != (int64_t)st->st_size || mt != st_mt ||
        ct != st_ct)
        return NULL;
    int64_t stamp = mt > ct ? mt : ct;
    int ok = (clock_dev != -1 && clock_dev == dev) ? stamp < hashed : stamp + RACY_NS <= hashed;
    if (!ok) return NULL;
    const char *d = (const char *)f + 64;
    Py_ssize_t n = 64;
    while (n > 0 && d[n - 1] == 0) n--;
    for (Py_ssize_t j = 0; j < n; j++)
        if ((unsigned char)d[j] >= 0x80) return NULL; /* a damaged row: not a usable record */
    *dlen = n;
    *size_o = size;
    *gen_o = get64(f + 56);
    return d;
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
        } else if (!(solo && st.st_nlink > 1)) {
            Py_ssize_t dlen;
            int64_t size, gen;
            const char *d = vouched(recs, table, mask, name, nlen, &st, &dlen, &size, &gen);
            if (d) {
                item = gen == -1 ? Py_BuildValue("(s#LO)", d, dlen, (long long)size, Py_None)
                                 : Py_BuildValue("(s#LL)", d, dlen, (long long)size, (long long)gen);
                if (!item) { Py_DECREF(enc); Py_CLEAR(out); close(dfd); goto done; }
                Py_DECREF(enc);
                PyList_SET_ITEM(out, i, item);
                continue;
            }
        }
        Py_DECREF(enc);
        Py_INCREF(item);
        PyList_SET_ITEM(out, i, item);
    }
    if (dfd >= 0) close(dfd);
done:
    PyMem_RawFree(recs);
    PyMem_RawFree(table);
    Py_DECREF(folder_o);
    PyBuffer_Release(&row);
    return out;
}

/* -- tree: a whole folder's "name NUL digest" lines, one walk, no Python object per file -- */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static int put(buf_t *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        char *p = PyMem_RawRealloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* The length of the strict UTF-8 sequence at s (no surrogates, no overlong forms), 0 if none. */
static size_t utf8_at(const unsigned char *s, size_t n) {
    unsigned c = s[0], min;
    size_t k;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { k = 1; min = 0x80; c &= 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 2; min = 0x800; c &= 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 3; min = 0x10000; c &= 0x07; }
    else return 0;
    if (k >= n) return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return k + 1;
}

/* A file name as Python sees it, encoded back with "surrogatepass": os.fsdecode() turns each byte
 * that is not part of valid UTF-8 into U+DC80..U+DCFF (three bytes here). Sorting these bytes sorts
 * as Python sorts the names; foldersums hashes exactly these bytes. NULL when out of memory. */
static char *python_form(const char *name, size_t n) {
    char *out = PyMem_RawMalloc(3 * n + 1), *o = out;
    if (!out) return NULL;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_at(s + i, n - i);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            unsigned cp = 0xDC00 + s[i++];
            *o++ = (char)0xED;
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    *o = 0;
    return out;
}

typedef struct {
    char *name;  /* as on disk */
    char *shown; /* python_form(name) */
    unsigned char type;
} ent_t;

static int by_name(const void *a, const void *b) { return strcmp(((const ent_t *)a)->shown, ((const ent_t *)b)->shown); }

enum { TOLD = 0, CANNOT = 1, FAILED = -1 };

/* One folder of the walk: its lines (sorted by name) into `lines`, its subfolders' relative paths
 * pushed on `stack`. CANNOT when something in it is not a file the row vouches for or a folder. */
typedef struct {
    char **v;
    size_t n, cap;
} strvec_t;

static int push(strvec_t *s, char *item) {
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 64;
        char **v = PyMem_RawRealloc(s->v, sizeof(char *) * c);
        if (!v) return -1;
        s->v = v;
        s->cap = c;
    }
    s->v[s->n++] = item;
    return 0;
}

static int one_folder(const char *path, int nofollow, const char *row, Py_ssize_t rowlen, const char *rel, int solo,
                      buf_t *lines, strvec_t *subs) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) return CANNOT;
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return CANNOT; }
    ent_t *ents = NULL;
    size_t n = 0, ecap = 0;
    int res = TOLD;
    rec_t *recs = NULL;
    Py_ssize_t *table = NULL, mask = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' && (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0))) continue;
        if (n == ecap) {
            ecap = ecap ? ecap * 2 : 64;
            ent_t *e = PyMem_RawRealloc(ents, sizeof(ent_t) * ecap);
            if (!e) { res = FAILED; goto out; }
            ents = e;
        }
        size_t len = strlen(de->d_name);
        ents[n].name = PyMem_RawMalloc(len + 1);
        ents[n].shown = ents[n].name ? python_form(de->d_name, len) : NULL;
        if (!ents[n].shown) { PyMem_RawFree(ents[n].name); res = FAILED; goto out; }
        memcpy(ents[n].name, de->d_name, len + 1);
        ents[n++].type = de->d_type;
        errno = 0;
    }
    if (errno) { res = CANNOT; goto out; }
    qsort(ents, n, sizeof(ent_t), by_name);
    if (parse(row, rowlen, &recs, &table, &mask) < 0) { res = FAILED; goto out; }
    int first = 1;
    size_t rlen = strlen(rel);
    for (size_t i = 0; i < n; i++) {
        const char *name = ents[i].name;
        size_t nlen = strlen(name);
        int is_dir = ents[i].type == DT_DIR;
        struct stat st;
        if (!is_dir) {
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) { res = CANNOT; goto out; }
            is_dir = S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            char *sub = PyMem_RawMalloc(rlen + nlen + 2);
            if (!sub) { res = FAILED; goto out; }
            if (rlen) { memcpy(sub, rel, rlen); sub[rlen] = '/'; memcpy(sub + rlen + 1, name, nlen + 1); }
            else memcpy(sub, name, nlen + 1);
            if (push(subs, sub) < 0) { PyMem_RawFree(sub); res = FAILED; goto out; }
            continue;
        }
        Py_ssize_t dlen;
        int64_t size, gen;
        const char *d = vouched(recs, table, mask, name, nlen, &st, &dlen, &size, &gen);
        if (!d || (solo && st.st_nlink > 1)) { res = CANNOT; goto out; }
        const char *shown = ents[i].shown;
        if ((!first && put(lines, "\n", 1) < 0) || put(lines, shown, strlen(shown)) < 0 || put(lines, "", 1) < 0 ||
            put(lines, d, dlen) < 0) { res = FAILED; goto out; }
        first = 0;
    }
out:
    for (size_t i = 0; i < n; i++) { PyMem_RawFree(ents[i].name); PyMem_RawFree(ents[i].shown); }
    PyMem_RawFree(ents);
    PyMem_RawFree(recs);
    PyMem_RawFree(table);
    closedir(dir);
    return res;
}

/* The rows of the walk, looked up by folder path (bytes) without the GIL. */
typedef struct {
    const char *path;
    Py_ssize_t plen;
    const char *row;
    Py_ssize_t rowlen;
} rowref_t;

typedef struct {
    char *rel;
    char *lines;
    size_t len;
} result_t;

typedef struct {
    const char *root;
    size_t rootlen;
    int slash, solo;
    rowref_t *rows;
    Py_ssize_t *rtable, rmask;
    pthread_mutex_t lock;
    pthread_cond_t more;
    strvec_t todo;
    size_t busy;
    int res;
    result_t *out;
    size_t nout, outcap;
} walk_t;

static const rowref_t *row_of(walk_t *w, const char *path, size_t plen) {
    if (!w->rtable) return NULL;
    Py_ssize_t k = fnv(path, (Py_ssize_t)plen) & w->rmask;
    while (w->rtable[k] >= 0) {
        rowref_t *r = &w->rows[w->rtable[k]];
        if (r->plen == (Py_ssize_t)plen && memcmp(r->path, path, plen) == 0) return r;
        k = (k + 1) & w->rmask;
    }
    return NULL;
}

/* A worker: takes folders off the shared list until none is left, one is not told, or one failed. */
static void *worker(void *arg) {
    walk_t *w = arg;
    buf_t path = {0}, lines = {0};
    strvec_t subs = {0};
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->res == TOLD && w->todo.n == 0 && w->busy > 0) pthread_cond_wait(&w->more, &w->lock);
        if (w->res != TOLD || w->todo.n == 0) break;
        char *rel = w->todo.v[--w->todo.n];
        w->busy++;
        pthread_mutex_unlock(&w->lock);
        size_t rlen = strlen(rel);
        path.len = lines.len = subs.n = 0;
        int res = TOLD;
        if (put(&path, w->root, w->rootlen) < 0 || (rlen && !w->slash && put(&path, "/", 1) < 0) ||
            put(&path, rel, rlen + 1) < 0)
            res = FAILED;
        if (res == TOLD) {
            const rowref_t *r = row_of(w, path.p, path.len - 1);
            res = one_folder(path.p, rlen > 0, r ? r->row : NULL, r ? r->rowlen : 0, rel, w->solo, &lines, &subs);
        }
        char *copy = NULL;
        if (res == TOLD && lines.len) {
            copy = PyMem_RawMalloc(lines.len);
            if (copy) memcpy(copy, lines.p, lines.len);
            else res = FAILED;
        }
        pthread_mutex_lock(&w->lock);
        w->busy--;
        if (res == TOLD && copy) {
            if (w->nout == w->outcap) {
                size_t c = w->outcap ? w->outcap * 2 : 64;
                result_t *o = PyMem_RawRealloc(w->out, sizeof(result_t) * c);
                if (o) { w->out = o; w->outcap = c; }
                else res = FAILED;
            }
            if (res == TOLD) {
                w->out[w->nout].rel = rel;
                w->out[w->nout].lines = copy;
                w->out[w->nout++].len = lines.len;
                rel = NULL;
                copy = NULL;
            }
        }
        for (size_t i = 0; i < subs.n; i++) {
            if (res == TOLD && push(&w->todo, subs.v[i]) == 0) continue;
            PyMem_RawFree(subs.v[i]);
            if (res == TOLD) res = FAILED;
        }
        if (res != TOLD && w->res != FAILED) w->res = res;
        PyMem_RawFree(rel);
        PyMem_RawFree(copy);
        pthread_cond_broadcast(&w->more);
    }
    pthread_cond_broadcast(&w->more);
    pthread_mutex_unlock(&w->lock);
    PyMem_RawFree(path.p);
    PyMem_RawFree(lines.p);
    PyMem_RawFree(subs.v);
    return NULL;
}

#define MAX_THREADS 4

static PyObject *tree(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *root_o, *rows;
    int solo = 0;
    if (!PyArg_ParseTuple(args, "O&O!|p", PyUnicode_FSConverter, &root_o, &PyDict_Type, &rows, &solo)) return NULL;
    walk_t w = {0};
    w.solo = solo;
    w.root = PyBytes_AS_STRING(root_o);
    w.rootlen = strlen(w.root);
    w.slash = w.rootlen > 0 && w.root[w.rootlen - 1] == '/';
    w.res = TOLD;
    /* the rows, by folder path as bytes; the dict's keys and values are held until the walk ends */
    Py_ssize_t nrows = PyDict_GET_SIZE(rows), i = 0, at = 0;
    PyObject **held = PyMem_RawMalloc(sizeof(PyObject *) * (2 * nrows + 1));
    w.rows = PyMem_RawMalloc(sizeof(rowref_t) * (nrows + 1));
    Py_ssize_t cap = 8;
    while (cap < 2 * nrows) cap <<= 1;
    w.rtable = PyMem_RawMalloc(sizeof(Py_ssize_t) * cap);
    w.rmask = cap - 1;
    Py_ssize_t nheld = 0;
    PyObject *out = NULL;
    if (!held || !w.rows || !w.rtable) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t k = 0; k < cap; k++) w.rtable[k] = -1;
    PyObject *key, *value;
    while (PyDict_Next(rows, &i, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyBytes_Check(value)) continue;
        PyObject *enc = PyUnicode_EncodeFSDefault(key);
        if (!enc) goto done;
        held[nheld++] = enc;
        Py_INCREF(value);
        held[nheld++] = value;
        w.rows[at] = (rowref_t){PyBytes_AS_STRING(enc), PyBytes_GET_SIZE(enc), PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)};
        Py_ssize_t k = fnv(w.rows[at].path, w.rows[at].plen) & w.rmask;
        while (w.rtable[k] >= 0) k = (k + 1) & w.rmask;
        w.rtable[k] = at++;
    }
    char *top = PyMem_RawMalloc(1);
    if (!top || push(&w.todo, top) < 0) { PyMem_RawFree(top); PyErr_NoMemory(); goto done; }
    top[0] = 0;
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.more, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus, started = 0;
    pthread_t threads[MAX_THREADS];
    Py_BEGIN_ALLOW_THREADS
    for (int t = 1; t < want; t++)
        if (pthread_create(&threads[started], NULL, worker, &w) == 0) started++;
    worker(&w);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    Py_END_ALLOW_THREADS
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.more);
    if (w.res == FAILED) { PyErr_NoMemory(); goto done; }
    if (w.res == CANNOT) { out = Py_None; Py_INCREF(out); goto done; }
    out = PyDict_New();
    for (size_t r = 0; out && r < w.nout; r++) {
        PyObject *k = PyUnicode_DecodeFSDefault(w.out[r].rel);
        PyObject *v = PyBytes_FromStringAndSize(w.out[r].lines, (Py_ssize_t)w.out[r].len);
        if (!k || !v || PyDict_SetItem(out, k, v) < 0) Py_CLEAR(out);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
done:
    for (size_t r = 0; r < w.nout; r++) { PyMem_RawFree(w.out[r].rel); PyMem_RawFree(w.out[r].lines); }
    PyMem_RawFree(w.out);
    for (size_t r = 0; r < w.todo.n; r++) PyMem_RawFree(w.todo.v[r]);
    PyMem_RawFree(w.todo.v);
    for (Py_ssize_t h = 0; h < nheld; h++) Py_DECREF(held[h]);
    PyMem_RawFree(held);
    PyMem_RawFree(w.rows);
    PyMem_RawFree(w.rtable);
    Py_DECREF(root_o);
    return out;
}

/* -- settle and render: a re-logged folder as "the files the stat cache vouches for", in bytes --
 *
 * settle(folder, row, gen, large) reads one folder (readdir, one fstatat per regular file) and
 * sorts its names into
 *   dirs    subfolder names (str, as os.fsdecode gives them)
 *   files   regular files Python must look at: no usable record, a record under another sweep generation than gen, a size of at least
 *           large, a name that is not plain UTF-8 JSON (invalid UTF-8, '"', '\\', a control
 *           character), a digest that is not 64 lowercase hex digits
 *   rest    names that are neither folders nor regular files (a link, a fifo), for Python to tell
 *   settled the rest, as one bytes object of records sorted by name (u32 name length, the
 *           name, the 64-digit digest, i64 size; native byte order, never stored), with their
 *           count and total size, their names joined by "/" (str) and their digests joined
 *           by "\n" (str)
 * render(settled, extras, cuts, prefix) merges a folder's settled records with its other files
 * (extras: (name, digest, row JSON) as UTF-8 bytes, sorted by name) and gives its listing
 * blob (MANIFEST ENCODING), its folder-sum lines ("name NUL digest" joined by LF) and its
 * artifact-digest lines ("prefix name NUL digest NUL"), split before each of the sorted
 * cuts (a subfolder's name and "/") so that the caller can put each subfolder's lines where
 * the sort by entry path puts them. plumbing/settled.py holds the Python side. */

typedef struct {
    char *name;
    size_t len;
    char digest[64];
    int64_t size;
} set_t;

static int set_cmp(const void *a, const void *b) {
    const set_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* True when name is strict UTF-8 that canonical JSON writes as itself between quotes. */
static int json_plain(const char *name, size_t n) {
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\') return 0;
        size_t k = utf8_at(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static int hex64(const char *d, Py_ssize_t n) {
    if (n != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'))) return 0;
    return 1;
}

/* Python str objects, as os.fsdecode gives them, of the NUL-ended names in b, appended to list. */
static int add_names(PyObject *list, const buf_t *b) {
    for (size_t at = 0; at < b->len;) {
        size_t n = strlen(b->p + at);
        PyObject *s = PyUnicode_DecodeFSDefaultAndSize(b->p + at, (Py_ssize_t)n);
        if (!s || PyList_Append(list, s) < 0) { Py_XDECREF(s); return -1; }
        Py_DECREF(s);
        at += n + 1;
    }
    return 0;
}

/* The folder's loop, without the GIL (so that callers can settle several folders at once):
 * 0, or an errno. */
static int settle_folder(const char *folder, const char *row, Py_ssize_t rowlen, int64_t want_gen, int64_t large,
                         buf_t *dirs, buf_t *files, buf_t *rest, set_t **sets_o, size_t *nset_o) {
    rec_t *recs = NULL;
    Py_ssize_t *table = NULL, mask = 0;
    set_t *sets = NULL;
    size_t nset = 0, cap = 0;
    int err = 0;
    if (parse(row, rowlen, &recs, &table, &mask) < 0) return ENOMEM;
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (!dir) {
        err = errno;
        if (fd >= 0) close(fd);
        goto out;
    }
    struct dirent *de;
    for (errno = 0; (de = readdir(dir)) != NULL; errno = 0) {
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
        size_t nlen = strlen(name);
        unsigned char type = de->d_type;
        struct stat st;
        int have = 0;
        if (type == DT_UNKNOWN) {
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (put(rest, name, nlen + 1)) { err = ENOMEM; break; }
                continue;
            }
            have = 1;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
        }
        if (type == DT_DIR) {
            if (put(dirs, name, nlen + 1)) { err = ENOMEM; break; }
            continue;
        }
        const char *d = NULL;
        Py_ssize_t dlen = 0;
        int64_t size = 0, gen = -1;
        if (type == DT_REG && json_plain(name, nlen) && (have || fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0))
            d = vouched(recs, table, mask, name, (Py_ssize_t)nlen, &st, &dlen, &size, &gen);
        if (!d || gen != want_gen || size >= large || !hex64(d, dlen)) {
            if (put(type == DT_REG ? files : rest, name, nlen + 1)) { err = ENOMEM; break; }
            continue;
        }
        if (nset == cap) {
            cap = cap ? cap * 2 : 64;
            set_t *v = PyMem_RawRealloc(sets, sizeof(set_t) * cap);
            if (!v) { err = ENOMEM; break; }
            sets = v;
        }
        set_t *one = &sets[nset];
        if (!(one->name = PyMem_RawMalloc(nlen + 1))) { err = ENOMEM; break; }
        nset++;
        memcpy(one->name, name, nlen + 1);
        one->len = nlen;
        memcpy(one->digest, d, 64);
        one->size = size;
    }
    if (!err && errno) err = errno;
    closedir(dir);
    if (nset) qsort(sets, nset, sizeof(set_t), set_cmp);
out:
    PyMem_RawFree(recs);
    PyMem_RawFree(table);
    *sets_o = sets;
    *nset_o = nset;
    return err;
}

/* The Python result of settle_folder's outcome for folder_o (see settle), or NULL with an exception
 * set (an OSError naming the folder for err). Frees nothing. */
static PyObject *settled_result(PyObject *folder_o, int err, const buf_t *dirb, const buf_t *fileb, const buf_t *restb,
                                const set_t *sets, size_t nset) {
    if (err) {
        errno = err;
        if (err == ENOMEM) return PyErr_NoMemory();
        return PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, folder_o);
    }
    PyObject *out = NULL, *dirs = NULL, *files = NULL, *rest = NULL;
    buf_t blob = {0}, names = {0}, digests = {0};
    if (!(dirs = PyList_New(0)) || !(files = PyList_New(0)) || !(rest = PyList_New(0)) || add_names(dirs, dirb) < 0 ||
        add_names(files, fileb) < 0 || add_names(rest, restb) < 0)
        goto done;
    long long total = 0;
    int bad = 0;
    for (size_t i = 0; i < nset && !bad; i++) {
        uint32_t n32 = (uint32_t)sets[i].len;
        bad = put(&blob, (const char *)&n32, 4) || put(&blob, sets[i].name, sets[i].len) ||
              put(&blob, sets[i].digest, 64) || put(&blob, (const char *)&sets[i].size, 8) ||
              (i && (put(&names, "/", 1) || put(&digests, "\n", 1))) || put(&names, sets[i].name, sets[i].len) ||
              put(&digests, sets[i].digest, 64);
        total += sets[i].size;
    }
    if (!bad)
        out = Py_BuildValue("(OOOy#nLs#s#)", dirs, files, rest, blob.p ? blob.p : "", (Py_ssize_t)blob.len, (Py_ssize_t)nset,
                            total, names.p ? names.p : "", (Py_ssize_t)names.len, digests.p ? digests.p : "",
                            (Py_ssize_t)digests.len);
    else
        PyErr_NoMemory();
done:
    PyMem_RawFree(blob.p);
    PyMem_RawFree(names.p);
    PyMem_RawFree(digests.p);
    Py_XDECREF(dirs);
    Py_XDECREF(files);
    Py_XDECREF(rest);
    return out;
}

static void free_sets(set_t *sets, size_t nset) {
    for (size_t i = 0; i < nset; i++) PyMem_RawFree(sets[i].name);
    PyMem_RawFree(sets);
}

static PyObject *settle(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *folder_o;
    Py_buffer row = {0};
    long long want_gen, large;
    if (!PyArg_ParseTuple(args, "O&z*LL", PyUnicode_FSConverter, &folder_o, &row, &want_gen, &large)) return NULL;
    buf_t dirb = {0}, fileb = {0}, restb = {0};
    set_t *sets = NULL;
    size_t nset = 0;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = settle_folder(PyBytes_AS_STRING(folder_o), row.buf, row.buf ? row.len : 0, want_gen, large, &dirb, &fileb,
                        &restb, &sets, &nset);
    Py_END_ALLOW_THREADS
    PyObject *out = settled_result(folder_o, err, &dirb, &fileb, &restb, sets, nset);
    PyMem_RawFree(dirb.p);
    PyMem_RawFree(fileb.p);
    PyMem_RawFree(restb.p);
    free_sets(sets, nset);
    Py_DECREF(folder_o);
    PyBuffer_Release(&row);
    return out;
}

/* settle_many: settle's loop over a list of folders on up to MAX_THREADS threads of its own, the
 * GIL released for all of them (a re-log's 200 folders were 200 tasks of a Python thread pool). */
typedef struct {
    PyObject *folder; /* bytes, os.fsencode'd */
    const char *row;
    Py_ssize_t rowlen;
    buf_t dirs, files, rest;
    set_t *sets;
    size_t nset;
    int err;
} job_t;

typedef struct {
    job_t *jobs;
    size_t n, next;
    int64_t gen, large;
    pthread_mutex_t lock;
} many_t;

static void *many_worker(void *arg) {
    many_t *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->lock);
        size_t i = m->next++;
        pthread_mutex_unlock(&m->lock);
        if (i >= m->n) break;
        job_t *j = &m->jobs[i];
        j->err = settle_folder(PyBytes_AS_STRING(j->folder), j->row, j->rowlen, m->gen, m->large, &j->dirs, &j->files,
                               &j->rest, &j->sets, &j->nset);
    }
    return NULL;
}

static PyObject *settle_many(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *folders, *rows;
    long long want_gen, large;
    if (!PyArg_ParseTuple(args, "O!O!LL", &PyList_Type, &folders, &PyList_Type, &rows, &want_gen, &large)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(folders);
    if (PyList_GET_SIZE(rows) != n) {
        PyErr_SetString(PyExc_ValueError, "settle_many: one row (or None) per folder");
        return NULL;
    }
    /* our own tuple of the rows: each stays alive, and unchanged, while the GIL is released */
    PyObject *held = PyList_AsTuple(rows), *out = NULL;
    job_t *jobs = held ? PyMem_RawCalloc(n ? (size_t)n : 1, sizeof(job_t)) : NULL;
    Py_ssize_t made = 0;
    if (held && !jobs) PyErr_NoMemory();
    if (!jobs) goto done;
    for (; made < n; made++) {
        PyObject *r = PyTuple_GET_ITEM(held, made);
        if (r != Py_None && !PyBytes_Check(r)) {
            PyErr_SetString(PyExc_TypeError, "settle_many: a row is bytes or None");
            goto done;
        }
        if (!PyUnicode_FSConverter(PyList_GET_ITEM(folders, made), &jobs[made].folder)) goto done;
        jobs[made].row = r == Py_None ? NULL : PyBytes_AS_STRING(r);
        jobs[made].rowlen = r == Py_None ? 0 : PyBytes_GET_SIZE(r);
    }
    many_t m = {jobs, (size_t)n, 0, want_gen, large};
    pthread_mutex_init(&m.lock, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus, started = 0;
    if (want > n) want = n < 1 ? 1 : (int)n;
    pthread_t threads[MAX_THREADS];
    Py_BEGIN_ALLOW_THREADS
    for (int t = 1; t < want; t++)
        if (pthread_create(&threads[started], NULL, many_worker, &m) == 0) started++;
    many_worker(&m);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    Py_END_ALLOW_THREADS
    pthread_mutex_destroy(&m.lock);
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        job_t *j = &jobs[i];
        PyObject *one = settled_result(j->folder, j->err, &j->dirs, &j->files, &j->rest, j->sets, j->nset);
        if (!one) Py_CLEAR(out); /* the first folder in the list that failed raises, as settle of each in turn would */
        else PyList_SET_ITEM(out, i, one);
    }
done:
    for (Py_ssize_t i = 0; jobs && i < made; i++) {
        Py_XDECREF(jobs[i].folder);
        PyMem_RawFree(jobs[i].dirs.p);
        PyMem_RawFree(jobs[i].files.p);
        PyMem_RawFree(jobs[i].rest.p);
        free_sets(jobs[i].sets, jobs[i].nset);
    }
    PyMem_RawFree(jobs);
    Py_XDECREF(held);
    return out;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    return c ? c : (an < bn ? -1 : an > bn);
}

static PyObject *render(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer blob = {0}, prefix = {0};
    PyObject *extras, *cuts;
    if (!PyArg_ParseTuple(args, "y*O!O!y*", &blob, &PyList_Type, &extras, &PyList_Type, &cuts, &prefix)) return NULL;
    /* tuples of our own: the names read below stay alive whatever runs while objects are made */
    extras = PyList_AsTuple(extras);
    cuts = extras ? PyList_AsTuple(cuts) : NULL;
    PyObject *out = NULL, *pieces = cuts ? PyList_New(0) : NULL;
    buf_t listing = {0}, sums = {0}, lines = {0};
    const char *p = blob.buf, *end = p + blob.len;
    Py_ssize_t ne = cuts ? PyTuple_GET_SIZE(extras) : 0, nc = cuts ? PyTuple_GET_SIZE(cuts) : 0, ie = 0, ic = 0;
    int first = 1, fail = !pieces || put(&listing, "[", 1);
    char num[32];
    while (!fail) {
        /* the next file: a settled record or an extra, whichever name sorts first */
        const char *sname = NULL, *sdig = NULL;
        size_t slen = 0;
        int64_t ssize = 0;
        if (p < end) {
            uint32_t n32;
            if (end - p < 4) { PyErr_SetString(PyExc_ValueError, "malformed settled records"); fail = 1; break; }
            memcpy(&n32, p, 4);
            if ((size_t)(end - p) < 4 + (size_t)n32 + 72) { PyErr_SetString(PyExc_ValueError, "malformed settled records"); fail = 1; break; }
            sname = p + 4;
            slen = n32;
            sdig = sname + slen;
            memcpy(&ssize, sdig + 64, 8);
        }
        const char *ename = NULL, *edig = NULL, *erow = NULL;
        Py_ssize_t elen = 0, edlen = 0, erlen = 0;
        if (ie < ne) {
            PyObject *t = PyTuple_GET_ITEM(extras, ie);
            if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3 || !PyBytes_Check(PyTuple_GET_ITEM(t, 0)) ||
                !PyBytes_Check(PyTuple_GET_ITEM(t, 1)) || !PyBytes_Check(PyTuple_GET_ITEM(t, 2))) {
                PyErr_SetString(PyExc_TypeError, "extras must be (name, digest, row) bytes tuples");
                fail = 1;
                break;
            }
            PyBytes_AsStringAndSize(PyTuple_GET_ITEM(t, 0), (char **)&ename, &elen);
            PyBytes_AsStringAndSize(PyTuple_GET_ITEM(t, 1), (char **)&edig, &edlen);
            PyBytes_AsStringAndSize(PyTuple_GET_ITEM(t, 2), (char **)&erow, &erlen);
        }
        if (!sname && !ename) break;
        int take_extra = !sname || (ename && bytes_cmp(ename, (size_t)elen, sname, slen) < 0);
        const char *name = take_extra ? ename : sname, *dig = take_extra ? edig : sdig;
        size_t nlen = take_extra ? (size_t)elen : slen, dlen = take_extra ? (size_t)edlen : 64;
        /* a new piece of digest lines before each cut this name sorts after */
        while (ic < nc) {
            PyObject *c = PyTuple_GET_ITEM(cuts, ic);
            if (!PyBytes_Check(c)) { PyErr_SetString(PyExc_TypeError, "cuts must be bytes"); fail = 1; break; }
            if (bytes_cmp(PyBytes_AS_STRING(c), PyBytes_GET_SIZE(c), name, nlen) > 0) break;
            PyObject *piece = PyBytes_FromStringAndSize(lines.p ? lines.p : "", lines.len);
            if (!piece || PyList_Append(pieces, piece) < 0) { Py_XDECREF(piece); fail = 1; break; }
            Py_DECREF(piece);
            lines.len = 0;
            ic++;
        }
        if (fail) break;
        if (!first) fail |= put(&listing, ",", 1) || put(&sums, "\n", 1);
        first = 0;
        if (take_extra) {
            fail |= put(&listing, erow, erlen);
            ie++;
        } else {
            int k = snprintf(num, sizeof num, "%lld]", (long long)ssize);
            fail |= put(&listing, "[\"", 2) || put(&listing, sname, slen) || put(&listing, "\",\"", 3) ||
                    put(&listing, sdig, 64) || put(&listing, "\",", 2) || put(&listing, num, (size_t)k);
            p = sdig + 72;
        }
        fail |= put(&sums, name, nlen) || put(&sums, "", 1) || put(&sums, dig, dlen);
        fail |= put(&lines, prefix.buf, prefix.len) || put(&lines, name, nlen) || put(&lines, "", 1) ||
                put(&lines, dig, dlen) || put(&lines, "", 1);
        if (fail && !PyErr_Occurred()) PyErr_NoMemory();
    }
    if (!fail) fail = put(&listing, "]\n", 2);
    while (!fail && ic <= nc) { /* the last piece, and an empty one after each cut no name passed */
        PyObject *piece = PyBytes_FromStringAndSize(lines.p ? lines.p : "", lines.len);
        if (!piece || PyList_Append(pieces, piece) < 0) { Py_XDECREF(piece); fail = 1; break; }
        Py_DECREF(piece);
        lines.len = 0;
        ic++;
    }
    if (!fail)
        out = Py_BuildValue("(y#y#O)", listing.p, (Py_ssize_t)listing.len, sums.p ? sums.p : "", (Py_ssize_t)sums.len,
                            pieces);
    else if (!PyErr_Occurred())
        PyErr_NoMemory();
    PyMem_RawFree(listing.p);
    PyMem_RawFree(sums.p);
    PyMem_RawFree(lines.p);
    Py_XDECREF(pieces);
    Py_XDECREF(extras);
    Py_XDECREF(cuts);
    PyBuffer_Release(&blob);
    PyBuffer_Release(&prefix);
    return out;
}


static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "scan(folder, names, row, solo) -> [None | False | (digest, size, sweep_gen)]"},
    {"tree", tree, METH_VARARGS, "tree(root, rows, solo=False) -> {folder: lines} or None (see plumbing/scan.py)"},
    {"settle", settle, METH_VARARGS, "settle(folder, row, gen, large) -> (dirs, files, rest, settled, count, size, names, digests)"},
    {"settle_many", settle_many, METH_VARARGS,
     "settle_many(folders, rows, gen, large) -> [settle's result of each folder] (settled on threads of its own)"},
    {"render", render, METH_VARARGS, "render(settled, extras, cuts, prefix) -> (listing, sum lines, digest pieces)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", "The stat-cache scan of one folder, in C.", -1, methods};

/* the source this module was built from (setup.py): plumbing/native.py refuses a stale build */
#ifndef SOURCE_ID
#define SOURCE_ID ""
#endif

PyMODINIT_FUNC PyInit__scan(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_ID", SOURCE_ID) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

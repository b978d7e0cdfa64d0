/* archive.c: the reader of archive.h. */
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "leaklab.h"

/* Memory comes from leaklab_malloc and goes back to leaklab_free, instead of malloc and free, so this
 * library's blocks show up in leaklab's reports as C blocks. Running out of memory aborts. */
#define ALLOC(size) not_null(leaklab_malloc(size))
#define REALLOC(ptr, size) not_null(leaklab_realloc(ptr, size))

static void *not_null(void *p) {
    if (p == NULL) {
        abort();
    }
    return p;
}

struct archive {
    unsigned char *bytes; /* a copy of the whole archive */
    size_t len;
    size_t pos; /* where the next entry starts */
    int status; /* ARCHIVE_OK while entries remain to be read */
    char *name; /* the current entry's name, NUL-terminated; grown as needed */
    size_t name_capacity;
};

archive *archive_open(const unsigned char *data, size_t len, int *status) {
    if (len < 4 || memcmp(data, "LLA1", 4) != 0) {
        *status = ARCHIVE_BAD_MAGIC;
        return NULL;
    }
    archive *a = ALLOC(sizeof *a);
    a->bytes = ALLOC(len);
    memcpy(a->bytes, data, len);
    a->len = len;
    a->pos = 4;
    a->status = ARCHIVE_OK;
    a->name = NULL;
    a->name_capacity = 0;
    *status = ARCHIVE_OK;
    return a;
}

/* Reads a length byte and that many bytes at a->pos; returns 0 when the archive ends first. */
static int field(archive *a, const unsigned char **start, size_t *len) {
    if (a->pos >= a->len || a->len - a->pos - 1 < a->bytes[a->pos]) {
        return 0;
    }
    *len = a->bytes[a->pos];
    *start = a->bytes + a->pos + 1;
    a->pos += 1 + *len;
    return 1;
}

int archive_next(archive *a, const char **name, const unsigned char **data, size_t *len) {
    if (a->status != ARCHIVE_OK) {
        return a->status;
    }
    if (a->pos == a->len) {
        return a->status = ARCHIVE_END;
    }
    const unsigned char *name_bytes;
    size_t name_len;
    if (!field(a, &name_bytes, &name_len) || !field(a, data, len)) {
        return a->status = ARCHIVE_TRUNCATED;
    }
    if (name_len + 1 > a->name_capacity) {
        a->name_capacity = name_len + 1;
        a->name = REALLOC(a->name, a->name_capacity);
    }
    memcpy(a->name, name_bytes, name_len);
    a->name[name_len] = '\0';
    *name = a->name;
    return ARCHIVE_OK;
}

void archive_close(archive *a) {
    if (a == NULL) {
        return;
    }
    leaklab_free(a->name);
    leaklab_free(a->bytes);
    leaklab_free(a);
}

/* archive.h: a reader for a tiny archive format, with the shape of tar or zip and none of the details.
 *
 * An archive is the 4 bytes "LLA1", then its entries, one after the other. An entry is a 1-byte name
 * length, the name, a 1-byte data length, and the data. The archive ends after its last entry.
 *
 * archive_open copies the bytes into a handle that owns C buffers (the copy, the current entry's name).
 * Whatever happens after a successful open, errors included, the handle must be given back to
 * archive_close, exactly once. Running out of memory aborts the process. */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <stddef.h>

typedef struct archive archive;

enum {
    ARCHIVE_OK = 0, /* an entry was read */
    ARCHIVE_END = 1, /* no more entries */
    ARCHIVE_BAD_MAGIC = -1, /* the bytes do not start with "LLA1" */
    ARCHIVE_TRUNCATED = -2, /* the bytes end in the middle of an entry */
};

/* Opens the archive in the `len` bytes at `data`, which it copies. On success returns a handle and sets
 * *status to ARCHIVE_OK. When the bytes are not an archive, returns NULL and sets *status to
 * ARCHIVE_BAD_MAGIC; there is nothing to close then. */
archive *archive_open(const unsigned char *data, size_t len, int *status);

/* Reads the next entry and returns ARCHIVE_OK, ARCHIVE_END or ARCHIVE_TRUNCATED; after ARCHIVE_END or
 * ARCHIVE_TRUNCATED, every later call returns the same. On ARCHIVE_OK, *name is the entry's name
 * (NUL-terminated) and *data and *len its contents; they belong to the handle and stay valid until the
 * next call to archive_next or archive_close. */
int archive_next(archive *a, const char **name, const unsigned char **data, size_t *len);

/* Frees the handle and its buffers. NULL is ignored. */
void archive_close(archive *a);

#endif /* ARCHIVE_H */

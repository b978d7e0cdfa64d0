/* leaklab.h: allocate from C through leaklab, so C leaks show up in leaklab's reports.
 *
 * The functions behave like malloc/calloc/realloc/free. Blocks are attributed to the region of the
 * calling thread (see leaklab::check) and marked as C blocks in its report. Passing leaklab_free a
 * pointer it did not allocate, or one already freed, aborts the process with a message on stderr.
 * The leaklab Rust crate must be linked in and its LeakLab must be the global allocator. */
#ifndef LEAKLAB_H
#define LEAKLAB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *leaklab_malloc(size_t size);
void *leaklab_calloc(size_t count, size_t size);
void *leaklab_realloc(void *ptr, size_t size);
void leaklab_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* LEAKLAB_H */

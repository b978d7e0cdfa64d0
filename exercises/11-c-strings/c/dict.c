/* dict.c: the dictionary of dict.h, a sorted singly linked list (small dicts are all this workshop needs). */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "leaklab.h"

/* Memory comes from leaklab_malloc and goes back to leaklab_free, instead of malloc and free, so this
 * library's blocks show up in leaklab's reports as C blocks. Running out of memory aborts. */
#define ALLOC(size) not_null(leaklab_malloc(size))

static void *not_null(void *p) {
    if (p == NULL) {
        abort();
    }
    return p;
}

struct entry {
    char *key; /* owned by the dict */
    char *value; /* owned by the dict until it is put over or taken */
    struct entry *next;
};

struct dict {
    struct entry *first;
    size_t len;
};

dict *dict_new(void) {
    dict *d = ALLOC(sizeof *d);
    d->first = NULL;
    d->len = 0;
    return d;
}

/* The link that points at `key`'s entry, or where that entry would go to keep the list sorted. */
static struct entry **find(const dict *d, const char *key) {
    struct entry **link = (struct entry **)&d->first;
    while (*link != NULL && strcmp((*link)->key, key) < 0) {
        link = &(*link)->next;
    }
    return link;
}

static int is_at(struct entry **link, const char *key) {
    return *link != NULL && strcmp((*link)->key, key) == 0;
}

char *dict_put(dict *d, const char *key, char *value) {
    struct entry **link = find(d, key);
    if (is_at(link, key)) {
        char *old = (*link)->value;
        (*link)->value = value;
        return old;
    }
    size_t key_size = strlen(key) + 1;
    struct entry *e = ALLOC(sizeof *e);
    e->key = ALLOC(key_size);
    memcpy(e->key, key, key_size);
    e->value = value;
    e->next = *link;
    *link = e;
    d->len++;
    return NULL;
}

char *dict_take(dict *d, const char *key) {
    struct entry **link = find(d, key);
    if (!is_at(link, key)) {
        return NULL;
    }
    struct entry *e = *link;
    char *value = e->value;
    *link = e->next;
    leaklab_free(e->key);
    leaklab_free(e);
    d->len--;
    return value;
}

const char *dict_get(const dict *d, const char *key) {
    struct entry **link = find(d, key);
    return is_at(link, key) ? (*link)->value : NULL;
}

size_t dict_len(const dict *d) {
    return d->len;
}

char *dict_dump(const dict *d) {
    size_t size = 1;
    for (const struct entry *e = d->first; e != NULL; e = e->next) {
        size += strlen(e->key) + strlen(e->value) + 2;
    }
    char *out = ALLOC(size);
    char *end = out;
    for (const struct entry *e = d->first; e != NULL; e = e->next) {
        size_t k = strlen(e->key), v = strlen(e->value);
        memcpy(end, e->key, k);
        end[k] = '=';
        memcpy(end + k + 1, e->value, v);
        end[k + 1 + v] = '\n';
        end += k + v + 2;
    }
    *end = '\0';
    return out;
}

void dict_string_free(char *s) {
    leaklab_free(s);
}

void dict_free(dict *d, void (*free_value)(char *value)) {
    if (d == NULL) {
        return;
    }
    struct entry *e = d->first;
    while (e != NULL) {
        struct entry *next = e->next;
        free_value(e->value);
        leaklab_free(e->key);
        leaklab_free(e);
        e = next;
    }
    leaklab_free(d);
}

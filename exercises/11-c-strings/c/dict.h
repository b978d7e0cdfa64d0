/* dict.h: a small C dictionary from string keys to string values, kept in key order.
 *
 * Like many C containers (GLib's GHashTable, uthash), it keeps the value pointers it is given instead of
 * copying the strings: a value put in belongs to the dict until it comes out again, through dict_put (the
 * old value) or dict_take, and then it belongs to the caller again. Keys are copied. Running out of memory
 * aborts the process. */
#ifndef DICT_H
#define DICT_H

#include <stddef.h>

typedef struct dict dict;

/* A new, empty dict. */
dict *dict_new(void);

/* Stores `value` under `key`; the dict now owns `value`. Returns the value that was stored under `key`,
 * which the caller owns again, or NULL if there was none. */
char *dict_put(dict *d, const char *key, char *value);

/* Removes `key`. Returns its value, which the caller owns again, or NULL when `key` is not there. */
char *dict_take(dict *d, const char *key);

/* The value stored under `key`, still owned by the dict (valid until it is replaced or taken), or NULL. */
const char *dict_get(const dict *d, const char *key);

/* How many keys the dict holds. */
size_t dict_len(const dict *d);

/* The whole dict as "key=value\n" lines in key order, in a new string that the caller frees with
 * dict_string_free. */
char *dict_dump(const dict *d);

/* Frees a string made by dict_dump. NULL is ignored. */
void dict_string_free(char *s);

/* Frees the dict and its keys, and calls free_value on every value still in it. */
void dict_free(dict *d, void (*free_value)(char *value));

#endif /* DICT_H */

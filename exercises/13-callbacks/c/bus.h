/* bus.h: a small C event bus, the kind of callback registry found in GUI toolkits, network libraries and
 * plugin hosts.
 *
 * A caller subscribes a callback and a `void *userdata` to an event number; bus_emit calls the callbacks
 * of that event, in the order they subscribed, passing each its userdata. The bus never looks inside
 * userdata and never frees it on its own: userdata belongs to the caller, who gets it back from
 * bus_unsubscribe, or through the release function given to bus_free. Running out of memory aborts. */
#ifndef BUS_H
#define BUS_H

#include <stdint.h>

typedef struct bus bus;

/* What the bus calls: the subscription's userdata and the emitted value. */
typedef void (*bus_callback)(void *userdata, int64_t value);

/* A new bus with no subscriptions. */
bus *bus_new(void);

/* Subscribes `callback` with `userdata` to `event`. Returns the subscription's id: greater than 0, and
 * never given to another subscription of this bus. */
int bus_subscribe(bus *b, int event, bus_callback callback, void *userdata);

/* Ends subscription `id`. Returns its userdata, which the caller must free as it sees fit, or NULL when no
 * subscription has that id (any more). */
void *bus_unsubscribe(bus *b, int id);

/* Calls the callback of every subscription to `event`, in the order they subscribed, with `value`.
 * Returns how many callbacks it called. */
int bus_emit(bus *b, int event, int64_t value);

/* Frees the bus and its subscriptions. When `release` is not NULL, it is called with the userdata of every
 * subscription still there; when it is NULL, that userdata is left alone. */
void bus_free(bus *b, void (*release)(void *userdata));

#endif /* BUS_H */

/* bus.c: the event bus of bus.h, a list of subscriptions in the order they were made. */
#include <stdlib.h>

#include "bus.h"
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

struct subscription {
    int id;
    int event;
    bus_callback callback;
    void *userdata; /* the caller's */
    struct subscription *next;
};

struct bus {
    struct subscription *first;
    struct subscription **end; /* the link where the next subscription goes */
    int last_id;
};

bus *bus_new(void) {
    bus *b = ALLOC(sizeof *b);
    b->first = NULL;
    b->end = &b->first;
    b->last_id = 0;
    return b;
}

int bus_subscribe(bus *b, int event, bus_callback callback, void *userdata) {
    struct subscription *s = ALLOC(sizeof *s);
    s->id = ++b->last_id;
    s->event = event;
    s->callback = callback;
    s->userdata = userdata;
    s->next = NULL;
    *b->end = s;
    b->end = &s->next;
    return s->id;
}

void *bus_unsubscribe(bus *b, int id) {
    for (struct subscription **link = &b->first; *link != NULL; link = &(*link)->next) {
        struct subscription *s = *link;
        if (s->id == id) {
            void *userdata = s->userdata;
            *link = s->next;
            if (b->end == &s->next) {
                b->end = link;
            }
            leaklab_free(s);
            return userdata;
        }
    }
    return NULL;
}

int bus_emit(bus *b, int event, int64_t value) {
    int called = 0;
    for (struct subscription *s = b->first; s != NULL; s = s->next) {
        if (s->event == event) {
            s->callback(s->userdata, value);
            called++;
        }
    }
    return called;
}

void bus_free(bus *b, void (*release)(void *userdata)) {
    if (b == NULL) {
        return;
    }
    struct subscription *s = b->first;
    while (s != NULL) {
        struct subscription *next = s->next;
        if (release != NULL) {
            release(s->userdata);
        }
        leaklab_free(s);
        s = next;
    }
    leaklab_free(b);
}

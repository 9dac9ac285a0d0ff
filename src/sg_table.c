/* sg_table.c: fixed slots in shared memory behind sequence locks. */
#include <sched.h>
#include <string.h>

#include "sg_table.h"

#define SG_TABLE_MAGIC 0x53475431u  /* "SGT1" */
/* Yields a reader waits for a writer: far longer than a write takes. */
#define SG_TABLE_SPINS 1000

typedef struct {
    apr_uint32_t seq;               /* odd while the fetcher writes */
    apr_uint32_t der_len;
    apr_uint32_t refresh;           /* set by a child, taken by the fetcher */
    apr_uint64_t stapled;
    apr_uint64_t unstapled;
    sg_slot_info_t info;
    unsigned char der[SG_RESPONSE_MAX];
} sg_slot_t;

struct sg_table_t {
    apr_uint32_t magic;
    apr_uint32_t n;
    sg_slot_t slots[];
};

static const char *const sg_state_names[SG_STATE_COUNT] = {
    "no response yet", "good", "revoked", "expired", "no OCSP URL", "failing"
};

static const char *const sg_source_names[SG_SOURCE_COUNT] = {
    "none", "fetched", "carried", "store", "shared"
};

const char *sg_state_name(sg_state_t s)
{
    return ((unsigned)s < SG_STATE_COUNT) ? sg_state_names[s] : "?";
}

const char *sg_source_name(sg_source_t s)
{
    return ((unsigned)s < SG_SOURCE_COUNT) ? sg_source_names[s] : "?";
}

apr_size_t sg_table_size(int n)
{
    return sizeof(sg_table_t) + (apr_size_t)n * sizeof(sg_slot_t);
}

sg_table_t *sg_table_init(void *mem, int n)
{
    sg_table_t *t = mem;

    t->magic = SG_TABLE_MAGIC;
    t->n = (apr_uint32_t)n;
    return t;
}

int sg_table_count(const sg_table_t *t)
{
    return (int)t->n;
}

/* Odd while writing. "| 1" rather than "+ 1": if a writer died mid-write
 * (its process killed), the count is odd already, and the next write must
 * still end on an even one so that readers recover. */
static void sg_table_write_begin(sg_slot_t *s)
{
    apr_uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

    __atomic_store_n(&s->seq, (seq + 1) | 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void sg_table_write_end(sg_slot_t *s)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELAXED);
}

/* Wait for a write in progress to end, but not forever: a writer killed
 * mid-write leaves the slot odd until the next write. Returns 0 then. */
static int sg_table_read_begin(sg_slot_t *s, apr_uint32_t *seq)
{
    int spins;

    for (spins = 0; spins < SG_TABLE_SPINS; spins++) {
        *seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (!(*seq & 1u)) {
            return 1;
        }
        sched_yield();  /* a copy of a few KiB: let the writer finish */
    }
    return 0;
}

static int sg_table_read_retry(sg_slot_t *s, apr_uint32_t seq)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq;
}

void sg_table_put(sg_table_t *t, int i, const unsigned char *der,
                  apr_size_t len, const sg_slot_info_t *info)
{
    sg_slot_t *s = &t->slots[i];

    if (len > SG_RESPONSE_MAX) {
        der = NULL;  /* callers never pass this: fetch bounds the size */
    }
    sg_table_write_begin(s);
    if (der != NULL) {
        memcpy(s->der, der, len);
        s->der_len = (apr_uint32_t)len;
    }
    else {
        s->der_len = 0;
    }
    s->info = *info;
    sg_table_write_end(s);
}

void sg_table_put_info(sg_table_t *t, int i, const sg_slot_info_t *info)
{
    sg_slot_t *s = &t->slots[i];

    sg_table_write_begin(s);
    s->info = *info;
    sg_table_write_end(s);
}

apr_size_t sg_table_get(sg_table_t *t, int i, apr_time_t now,
                        unsigned char *buf)
{
    sg_slot_t *s = &t->slots[i];
    apr_uint32_t seq;
    apr_size_t len;
    apr_time_t next_update;

    do {
        if (!sg_table_read_begin(s, &seq)) {
            return 0;
        }
        len = s->der_len;
        next_update = s->info.next_update;
        if (len > 0 && len <= SG_RESPONSE_MAX) {
            memcpy(buf, s->der, len);
        }
    } while (sg_table_read_retry(s, seq));
    /* A response is handed out only before its nextUpdate, never after. */
    return (len <= SG_RESPONSE_MAX && next_update > now) ? len : 0;
}

void sg_table_get_info(sg_table_t *t, int i, sg_slot_info_t *info)
{
    sg_slot_t *s = &t->slots[i];
    apr_uint32_t seq;

    do {
        if (!sg_table_read_begin(s, &seq)) {
            memset(info, 0, sizeof(*info));
            return;
        }
        *info = s->info;
    } while (sg_table_read_retry(s, seq));
}

void sg_table_count_served(sg_table_t *t, int i, int stapled)
{
    sg_slot_t *s = &t->slots[i];

    __atomic_add_fetch(stapled ? &s->stapled : &s->unstapled, 1,
                       __ATOMIC_RELAXED);
}

void sg_table_get_served(sg_table_t *t, int i, apr_uint64_t *stapled,
                         apr_uint64_t *unstapled)
{
    sg_slot_t *s = &t->slots[i];

    *stapled = __atomic_load_n(&s->stapled, __ATOMIC_RELAXED);
    *unstapled = __atomic_load_n(&s->unstapled, __ATOMIC_RELAXED);
}

void sg_table_request_refresh(sg_table_t *t, int i)
{
    __atomic_store_n(&t->slots[i].refresh, 1u, __ATOMIC_RELEASE);
}

/* An exchange, not a load and a store: a request made between the two
 * would be lost. */
int sg_table_take_refresh(sg_table_t *t, int i)
{
    return __atomic_exchange_n(&t->slots[i].refresh, 0u, __ATOMIC_ACQ_REL)
           != 0;
}

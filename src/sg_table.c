/* sg_table.c: small fixed slots in shared memory behind sequence locks,
 * the responses in an arena after them. */
#include <sched.h>
#include <string.h>

#include "sg_table.h"

#define SG_TABLE_MAGIC 0x53475432u  /* "SGT2" */
/* Yields a reader waits for a writer: far longer than a write takes. */
#define SG_TABLE_SPINS 1000
/* Arena space is taken in these steps, so offsets stay aligned. */
#define SG_TABLE_ALIGN 16
/* Space given beyond a response, so that a refresh a few bytes longer
 * (an ECDSA signature, a longer serial) is written in place. */
#define SG_TABLE_SLACK 32

typedef struct {
    apr_uint32_t seq;               /* odd while the fetcher writes */
    apr_uint32_t off;               /* the response, in the arena */
    apr_uint32_t len;               /* 0: none held */
    apr_uint32_t cap;               /* arena space taken at off */
    apr_uint32_t want;              /* a response that found no room */
    apr_uint32_t refresh;           /* set by a child, taken by the fetcher */
    apr_uint64_t stapled;
    apr_uint64_t unstapled;
    sg_slot_info_t info;
} sg_slot_t;

struct sg_table_t {
    apr_uint32_t magic;
    apr_uint32_t n;
    apr_uint64_t arena;             /* bytes, after the slots */
    apr_uint64_t used;              /* the fetcher's mark in the arena */
    apr_uint64_t attempts[SG_R_COUNT];
    sg_slot_t slots[];
};

#define SG_TABLE_ROUND(x) \
    (((x) + SG_TABLE_ALIGN - 1) & ~(apr_size_t)(SG_TABLE_ALIGN - 1))

static const char *const sg_state_names[SG_STATE_COUNT] = {
    "no response yet", "good", "revoked", "expired", "no OCSP URL", "failing",
    "crl-good", "crl-failing"
};

/* The same without spaces, in the same order. */
static const char *const sg_state_keys[SG_STATE_COUNT] = {
    "no_response_yet", "good", "revoked", "expired", "no_OCSP_URL", "failing",
    "crl_good", "crl_failing"
};

static const char *const sg_source_names[SG_SOURCE_COUNT] = {
    "none", "fetched", "carried", "store", "shared"
};

const char *sg_state_name(sg_state_t s)
{
    return ((unsigned)s < SG_STATE_COUNT) ? sg_state_names[s] : "?";
}

const char *sg_state_key(sg_state_t s)
{
    return ((unsigned)s < SG_STATE_COUNT) ? sg_state_keys[s] : "unknown";
}

const char *sg_source_name(sg_source_t s)
{
    return ((unsigned)s < SG_SOURCE_COUNT) ? sg_source_names[s] : "?";
}

/* The header and the slots; the arena starts here. */
static apr_size_t sg_table_head(int n)
{
    return SG_TABLE_ROUND(sizeof(sg_table_t) + (apr_size_t)n * sizeof(sg_slot_t));
}

static unsigned char *sg_table_arena_base(const sg_table_t *t)
{
    return (unsigned char *)t + sg_table_head((int)t->n);
}

apr_size_t sg_table_arena_size(int n, apr_size_t held, apr_size_t wanted)
{
    apr_size_t size = held + wanted + (apr_size_t)n * SG_TABLE_HEADROOM;

    size = size < SG_TABLE_ARENA_MIN ? SG_TABLE_ARENA_MIN : size;
    return size > SG_TABLE_ARENA_MAX ? SG_TABLE_ARENA_MAX
                                     : SG_TABLE_ROUND(size);
}

apr_size_t sg_table_size(int n, apr_size_t arena)
{
    return sg_table_head(n) + arena;
}

sg_table_t *sg_table_init(void *mem, int n, apr_size_t arena)
{
    sg_table_t *t = mem;

    t->magic = SG_TABLE_MAGIC;
    t->n = (apr_uint32_t)n;
    t->arena = arena > SG_TABLE_ARENA_MAX ? SG_TABLE_ARENA_MAX : arena;
    return t;
}

int sg_table_count(const sg_table_t *t)
{
    return (int)t->n;
}

apr_size_t sg_table_used(const sg_table_t *t)
{
    return (apr_size_t)__atomic_load_n(&t->used, __ATOMIC_RELAXED);
}

apr_size_t sg_table_arena(const sg_table_t *t)
{
    return (apr_size_t)t->arena;
}

apr_size_t sg_table_wanted(const sg_table_t *t)
{
    apr_size_t sum = 0;
    apr_uint32_t i;

    for (i = 0; i < t->n; i++) {
        sum += __atomic_load_n(&t->slots[i].want, __ATOMIC_RELAXED);
    }
    return sum;
}

void sg_table_count_attempts(sg_table_t *t, sg_reason_t r, apr_uint64_t n)
{
    if ((unsigned)r < SG_R_COUNT) {
        __atomic_add_fetch(&t->attempts[r], n, __ATOMIC_RELAXED);
    }
}

apr_uint64_t sg_table_attempts(const sg_table_t *t, sg_reason_t r)
{
    return (unsigned)r < SG_R_COUNT
           ? __atomic_load_n(&t->attempts[r], __ATOMIC_RELAXED) : 0;
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

/* Where len bytes go for slot s: its own space when they fit, else new
 * space at the mark (with slack when there is room for it). The old space
 * is left as it is: a reader may still be copying from it. Returns 0 when
 * the arena has no room left. */
static int sg_table_reserve(sg_table_t *t, const sg_slot_t *s, apr_size_t len,
                            apr_uint32_t *off, apr_uint32_t *cap)
{
    apr_size_t used = (apr_size_t)t->used, want;

    if (len <= s->cap) {
        *off = s->off;
        *cap = s->cap;
        return 1;
    }
    want = SG_TABLE_ROUND(len + SG_TABLE_SLACK);
    if (want > t->arena - used) {
        want = SG_TABLE_ROUND(len);
    }
    if (want > t->arena - used) {
        return 0;
    }
    *off = (apr_uint32_t)used;
    *cap = (apr_uint32_t)want;
    __atomic_store_n(&t->used, (apr_uint64_t)(used + want), __ATOMIC_RELAXED);
    return 1;
}

apr_status_t sg_table_put(sg_table_t *t, int i, const unsigned char *der,
                          apr_size_t len, const sg_slot_info_t *info)
{
    sg_slot_t *s = &t->slots[i];
    apr_uint32_t off = s->off, cap = s->cap;
    int moved;

    if (der == NULL || len > SG_RESPONSE_MAX) {
        len = 0;    /* callers never pass a longer one: fetch bounds it */
    }
    if (len > 0 && !sg_table_reserve(t, s, len, &off, &cap)) {
        __atomic_store_n(&s->want, (apr_uint32_t)len, __ATOMIC_RELAXED);
        return APR_ENOSPC;
    }
    /* New space is not yet visible: write it before the flip, so that
     * readers retry only for the flip itself. */
    moved = off != s->off || cap != s->cap;
    if (moved) {
        memcpy(sg_table_arena_base(t) + off, der, len);
    }
    sg_table_write_begin(s);
    if (len > 0 && !moved) {
        memcpy(sg_table_arena_base(t) + off, der, len);
    }
    s->off = off;
    s->cap = cap;
    s->len = (apr_uint32_t)len;
    s->want = 0;
    s->info = *info;
    sg_table_write_end(s);
    return APR_SUCCESS;
}

void sg_table_put_info(sg_table_t *t, int i, const sg_slot_info_t *info)
{
    sg_slot_t *s = &t->slots[i];

    sg_table_write_begin(s);
    s->info = *info;
    sg_table_write_end(s);
}

/* Offsets read while the fetcher writes may be torn: never copy from
 * outside the arena (the copy is thrown away when the sequence moved). */
static int sg_table_in_arena(const sg_table_t *t, apr_uint32_t off,
                             apr_uint32_t len)
{
    return len > 0 && len <= SG_RESPONSE_MAX && off <= t->arena
           && len <= t->arena - off;
}

apr_size_t sg_table_get(sg_table_t *t, int i, apr_time_t now,
                        unsigned char *buf)
{
    sg_slot_t *s = &t->slots[i];
    apr_uint32_t seq, off, len;
    apr_time_t next_update;

    do {
        if (!sg_table_read_begin(s, &seq)) {
            return 0;
        }
        off = __atomic_load_n(&s->off, __ATOMIC_RELAXED);
        len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
        next_update = s->info.next_update;
        if (sg_table_in_arena(t, off, len)) {
            memcpy(buf, sg_table_arena_base(t) + off, len);
        }
    } while (sg_table_read_retry(s, seq));
    /* A response is handed out only before its nextUpdate, never after. */
    return (sg_table_in_arena(t, off, len) && next_update > now) ? len : 0;
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

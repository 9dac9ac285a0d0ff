/* sg_table.c: small fixed slots in shared memory behind sequence locks,
 * the responses in an arena after them. */
#include <sched.h>
#include <string.h>
#include <unistd.h>

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
    apr_uint32_t seq;               /* odd while a writer writes */
    apr_uint32_t lock;              /* pid of the writer, 0: none (below) */
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
    apr_uint64_t used;              /* the writers' mark in the arena:
                                     * moved by compare-and-swap only */
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

/* ---- who writes, and how writers are kept apart ----
 *
 * A table is written by one process at a time: the parent while it lays
 * out a generation (post_config, before the generation's children
 * exist), then the child that holds the fetcher's lock (sgh_fetcher.c),
 * never two at once; children of an older generation write only their
 * own, older table. Within that process any number of threads write
 * (the fetcher's workers, StapleGuardFetchConcurrency), so:
 * - a slot's writers take its lock (the writing process's pid, by
 *   compare-and-swap), held for a copy of at most SG_RESPONSE_MAX bytes
 *   and nothing that blocks. A lock that names another process is one a
 *   writer left when it was killed (only one process writes): taken over,
 *   and the odd sequence count it left is ended by the next write;
 * - arena space is reserved by compare-and-swap on the mark, never read
 *   and stored, so two first responses never get the same offset;
 * - new space is written before the slot points at it: no reader of any
 *   slot can see it until the flip, made under the sequence lock;
 * - the counters (attempts, served, refresh requests) are atomic on
 *   their own, and written by every child.
 * Readers (handshakes in every child) never lock: they retry around the
 * sequence count. Every byte a reader may copy while a writer writes it is
 * written with release and read with acquire atomic word accesses (plain
 * moves on x86), so that a torn copy is only ever thrown away, never
 * undefined, and no fence is needed: a reader that sees a byte of a write
 * sees that write's odd count when it looks again (H.-J. Boehm, "Can
 * seqlocks get along with programming language memory models?", 2012).
 * ThreadSanitizer understands this, as it does not fences. */

#define SG_TABLE_WORD sizeof(apr_uint64_t)

/* Copy n bytes into the table / out of it, a word at a time where both
 * sides allow (arena offsets and the info are word aligned). */
static void sg_table_copy_in(unsigned char *dst, const unsigned char *src,
                             apr_size_t n)
{
    apr_size_t k = 0;

    for (; k + SG_TABLE_WORD <= n; k += SG_TABLE_WORD) {
        apr_uint64_t w;

        memcpy(&w, src + k, SG_TABLE_WORD);
        __atomic_store_n((apr_uint64_t *)(void *)(dst + k), w,
                         __ATOMIC_RELEASE);
    }
    for (; k < n; k++) {
        __atomic_store_n(dst + k, src[k], __ATOMIC_RELEASE);
    }
}

static void sg_table_copy_out(unsigned char *dst, const unsigned char *src,
                              apr_size_t n)
{
    apr_size_t k = 0;

    for (; k + SG_TABLE_WORD <= n; k += SG_TABLE_WORD) {
        apr_uint64_t w = __atomic_load_n(
            (const apr_uint64_t *)(const void *)(src + k), __ATOMIC_ACQUIRE);

        memcpy(dst + k, &w, SG_TABLE_WORD);
    }
    for (; k < n; k++) {
        dst[k] = __atomic_load_n(src + k, __ATOMIC_ACQUIRE);
    }
}

/* The slot's writer lock (see above). */
static void sg_table_lock(sg_slot_t *s)
{
    apr_uint32_t me = (apr_uint32_t)getpid(), held = 0;

    while (!__atomic_compare_exchange_n(&s->lock, &held, me, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if (held != me) {
            /* left by a killed writer of another process: ours now, if
             * no thread of ours took it meanwhile */
            continue;
        }
        held = 0;
        sched_yield();      /* a thread of ours copies a few KiB */
    }
}

static void sg_table_unlock(sg_slot_t *s)
{
    __atomic_store_n(&s->lock, 0u, __ATOMIC_RELEASE);
}

/* Odd while writing. "| 1" rather than "+ 1": if a writer died mid-write
 * (its process killed), the count is odd already, and the next write must
 * still end on an even one so that readers recover. With the slot's lock
 * held. */
static void sg_table_write_begin(sg_slot_t *s)
{
    apr_uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

    /* the release stores that follow keep it before them */
    __atomic_store_n(&s->seq, (seq + 1) | 1u, __ATOMIC_RELAXED);
}

static void sg_table_write_end(sg_slot_t *s)
{
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
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

/* After the acquire loads of the copy: none of them can have seen a
 * write whose odd count this load misses. */
static int sg_table_read_retry(sg_slot_t *s, apr_uint32_t seq)
{
    return __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != seq;
}

/* A slot's fields as one reader or writer sees them. */
#define SG_SLOT_LOAD(s, f) __atomic_load_n(&(s)->f, __ATOMIC_ACQUIRE)
#define SG_SLOT_STORE(s, f, v) __atomic_store_n(&(s)->f, (v), __ATOMIC_RELEASE)

static void sg_table_info_out(sg_slot_info_t *info, const sg_slot_t *s)
{
    sg_table_copy_out((unsigned char *)info, (const unsigned char *)&s->info,
                      sizeof(*info));
}

static void sg_table_info_in(sg_slot_t *s, const sg_slot_info_t *info)
{
    sg_table_copy_in((unsigned char *)&s->info, (const unsigned char *)info,
                     sizeof(*info));
}

/* Take want bytes at the mark, in one step. Returns 0 when they do not
 * fit; *off is where they start. */
static int sg_table_take_space(sg_table_t *t, apr_size_t want,
                               apr_uint32_t *off)
{
    apr_uint64_t used = __atomic_load_n(&t->used, __ATOMIC_RELAXED);

    do {
        if (want > t->arena - used) {
            return 0;
        }
    } while (!__atomic_compare_exchange_n(&t->used, &used, used + want, 1,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    *off = (apr_uint32_t)used;
    return 1;
}

/* Where len bytes go for slot s: its own space when they fit, else new
 * space at the mark (with slack when there is room for it). The old space
 * is left as it is: a reader may still be copying from it. Returns 0 when
 * the arena has no room left. With the slot's lock held. */
static int sg_table_reserve(sg_table_t *t, const sg_slot_t *s, apr_size_t len,
                            apr_uint32_t *off, apr_uint32_t *cap)
{
    apr_size_t roomy = SG_TABLE_ROUND(len + SG_TABLE_SLACK);

    *off = SG_SLOT_LOAD(s, off);
    *cap = SG_SLOT_LOAD(s, cap);
    if (len <= *cap) {
        return 1;
    }
    if (sg_table_take_space(t, roomy, off)) {
        *cap = (apr_uint32_t)roomy;
        return 1;
    }
    if (sg_table_take_space(t, SG_TABLE_ROUND(len), off)) {
        *cap = (apr_uint32_t)SG_TABLE_ROUND(len);
        return 1;
    }
    return 0;
}

/* Write slot i: with der (NULL to drop it), when with_der, and its info
 * as edit makes it of the one held. Under the slot's lock. */
static apr_status_t sg_table_write(sg_table_t *t, int i, int with_der,
                                   const unsigned char *der, apr_size_t len,
                                   sg_table_edit_fn *edit, void *arg)
{
    sg_slot_t *s = &t->slots[i];
    apr_uint32_t off = 0, cap = 0;
    sg_slot_info_t info;
    apr_status_t rv = APR_SUCCESS;
    int moved = 0;

    len = der != NULL ? len : 0;
    if (with_der && len > SG_RESPONSE_MAX) {
        return APR_EINVAL;      /* never stored as anything less */
    }
    sg_table_lock(s);
    if (with_der && len > 0 && !sg_table_reserve(t, s, len, &off, &cap)) {
        SG_SLOT_STORE(s, want, (apr_uint32_t)len);
        rv = APR_ENOSPC;        /* the response held stays */
    }
    else {
        moved = with_der && len > 0 && off != SG_SLOT_LOAD(s, off);
        if (moved) {
            /* new space is seen by no reader before the flip */
            sg_table_copy_in(sg_table_arena_base(t) + off, der, len);
        }
        sg_table_info_out(&info, s);
        edit(&info, arg);
        sg_table_write_begin(s);
        if (with_der && len > 0 && !moved) {
            sg_table_copy_in(sg_table_arena_base(t) + off, der, len);
        }
        if (with_der) {
            SG_SLOT_STORE(s, off, off);
            SG_SLOT_STORE(s, cap, cap);
            SG_SLOT_STORE(s, len, (apr_uint32_t)len);
            SG_SLOT_STORE(s, want, 0u);
        }
        sg_table_info_in(s, &info);
        sg_table_write_end(s);
    }
    sg_table_unlock(s);
    return rv;
}

static void sg_table_replace(sg_slot_info_t *info, void *arg)
{
    *info = *(const sg_slot_info_t *)arg;
}

apr_status_t sg_table_put(sg_table_t *t, int i, const unsigned char *der,
                          apr_size_t len, const sg_slot_info_t *info)
{
    return sg_table_write(t, i, 1, der, len, sg_table_replace, (void *)info);
}

apr_status_t sg_table_put_edit(sg_table_t *t, int i, const unsigned char *der,
                               apr_size_t len, sg_table_edit_fn *edit,
                               void *arg)
{
    return sg_table_write(t, i, 1, der, len, edit, arg);
}

void sg_table_put_info(sg_table_t *t, int i, const sg_slot_info_t *info)
{
    (void)sg_table_write(t, i, 0, NULL, 0, sg_table_replace, (void *)info);
}

void sg_table_edit(sg_table_t *t, int i, sg_table_edit_fn *edit, void *arg)
{
    (void)sg_table_write(t, i, 0, NULL, 0, edit, arg);
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
        off = SG_SLOT_LOAD(s, off);
        len = SG_SLOT_LOAD(s, len);
        next_update = SG_SLOT_LOAD(s, info.next_update);
        if (sg_table_in_arena(t, off, len)) {
            sg_table_copy_out(buf, sg_table_arena_base(t) + off, len);
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
        sg_table_info_out(info, s);
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

/* test_table.c: the shared table of held responses, in plain memory. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <apr_general.h>

#include "sg_table.h"
#include "sg_testpki.h"

#define TT_SLOTS 3
/* The arena of the small tables: room for two responses of TT_SMALL. */
#define TT_SMALL 1000
#define TT_SMALL_ARENA 2200
/* The threaded test: writes by the writer, reads by each reader. */
#define TT_WRITES 20000
#define TT_READS 20000
#define TT_READERS 2
/* The many-writers test: slots, writer threads, rounds over every slot,
 * and the bytes that say whose a response is. */
#define TT_MW_SLOTS 256
#define TT_MW_WRITERS 4
#define TT_MW_ROUNDS 40
#define TT_MW_HEAD 4
#define TT_NOW apr_time_from_sec(1767225600)
#define TT_VALIDITY apr_time_from_sec(TP_DAY)

/* Not a real response: the table stores bytes, it does not parse them. */
static const unsigned char tt_der[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
static const unsigned char tt_der2[] = { 0x30, 0x03, 0x0a, 0x01, 0x03, 0xff };

typedef struct {
    void *mem;
    sg_table_t *t;
    unsigned char buf[SG_RESPONSE_MAX];
} tt_t;

static int tt_setup(void **state)
{
    tt_t *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    /* as the shared memory segment comes: zeroed */
    f->mem = calloc(1, sg_table_size(TT_SLOTS,
                                     sg_table_arena_size(TT_SLOTS, 0, 0)));
    assert_non_null(f->mem);
    f->t = sg_table_init(f->mem, TT_SLOTS,
                         sg_table_arena_size(TT_SLOTS, 0, 0));
    assert_non_null(f->t);
    *state = f;
    return 0;
}

static int tt_teardown(void **state)
{
    tt_t *f = *state;

    free(f->mem);
    free(f);
    return 0;
}

/* Info of a good response valid from now until next_update. */
static sg_slot_info_t tt_info(apr_time_t next_update)
{
    sg_slot_info_t info;

    memset(&info, 0, sizeof(info));
    info.state = SG_STATE_GOOD;
    info.source = SG_SOURCE_FETCHED;
    info.this_update = TT_NOW;
    info.next_update = next_update;
    return info;
}

/* Field by field: struct padding is not part of what the table keeps. */
static void tt_assert_info_equal(const sg_slot_info_t *a,
                                 const sg_slot_info_t *b)
{
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->source, b->source);
    assert_int_equal(a->revoked, b->revoked);
    assert_true(a->this_update == b->this_update);
    assert_true(a->next_update == b->next_update);
    assert_true(a->produced_at == b->produced_at);
    assert_true(a->last_attempt == b->last_attempt);
    assert_int_equal(a->last_result, b->last_result);
    assert_int_equal(a->failures, b->failures);
    assert_true(a->next_attempt == b->next_attempt);
    assert_true(a->latency == b->latency);
}

static void test_table_size_and_count(void **state)
{
    tt_t *f = *state;

    assert_int_equal(sg_table_count(f->t), TT_SLOTS);
    /* the arena: what is known, what was wanted, and headroom for each */
    assert_true(sg_table_arena_size(100, 5000, 700)
                >= 5000 + 700 + 100 * (apr_size_t)SG_TABLE_HEADROOM);
    assert_true(sg_table_arena_size(100, 5000, 700)
                < 5000 + 700 + 100 * (apr_size_t)SG_TABLE_HEADROOM + 64);
    /* a few certificates can still hold the largest responses */
    assert_true(sg_table_arena_size(1, 0, 0) >= 2 * SG_RESPONSE_MAX);
    assert_true(sg_table_arena_size(1000000, SG_TABLE_ARENA_MAX, 0)
                == SG_TABLE_ARENA_MAX);
    assert_true(sg_table_size(TT_SLOTS, 4096) - sg_table_size(TT_SLOTS, 0)
                == 4096);
    assert_true(sg_table_size(2, 0) > sg_table_size(1, 0));
    /* what a certificate costs beside its response: a small fixed slot,
     * not the largest response (it was 16 KiB) */
    assert_true(sg_table_size(1000, 0) - sg_table_size(0, 0) < 1000 * 256);
    assert_int_equal(sg_table_arena(f->t), sg_table_arena_size(TT_SLOTS, 0, 0));
    assert_int_equal(sg_table_used(f->t), 0);
}

/* A table over a small arena: room for two TT_SMALL responses. */
static sg_table_t *tt_small(void **mem)
{
    *mem = calloc(1, sg_table_size(TT_SLOTS, TT_SMALL_ARENA));
    assert_non_null(*mem);
    return sg_table_init(*mem, TT_SLOTS, TT_SMALL_ARENA);
}

/* A response of len bytes, each of them v, and its info. */
static void tt_fill(unsigned char *der, apr_size_t len, unsigned char v)
{
    memset(der, v, len);
}

/* A response that grows moves to new space at the mark; one that
 * shrinks, or grows within its slack, stays where it is. */
static void test_table_growth(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);
    static unsigned char der[4000];
    apr_size_t used;

    tt_fill(der, 1000, 1);
    assert_int_equal(sg_table_put(f->t, 0, der, 1000, &info), APR_SUCCESS);
    used = sg_table_used(f->t);
    assert_true(used >= 1000 && used < 1100);   /* sized to the response */
    tt_fill(der, 1010, 2);      /* a few bytes longer: in place */
    assert_int_equal(sg_table_put(f->t, 0, der, 1010, &info), APR_SUCCESS);
    assert_int_equal(sg_table_used(f->t), used);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 1010);
    assert_memory_equal(f->buf, der, 1010);
    tt_fill(der, 3000, 3);      /* the responder added its certificate */
    assert_int_equal(sg_table_put(f->t, 0, der, 3000, &info), APR_SUCCESS);
    assert_true(sg_table_used(f->t) >= used + 3000);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 3000);
    assert_memory_equal(f->buf, der, 3000);
    used = sg_table_used(f->t);
    tt_fill(der, 500, 4);       /* smaller: in its space */
    assert_int_equal(sg_table_put(f->t, 0, der, 500, &info), APR_SUCCESS);
    assert_int_equal(sg_table_used(f->t), used);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 500);
    assert_memory_equal(f->buf, der, 500);
    /* the neighbour's space is its own */
    tt_fill(der, 700, 5);
    assert_int_equal(sg_table_put(f->t, 1, der, 700, &info), APR_SUCCESS);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 500);
    assert_int_equal(f->buf[0], 4);
    assert_int_equal(f->buf[499], 4);
}

/* A full arena never costs the response held: the put is refused, the
 * old response and its info stay, and the bytes are counted as wanted
 * for the next table. */
static void test_table_full_arena(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), later, got;
    static unsigned char der[TT_SMALL_ARENA];
    void *mem;
    sg_table_t *t = tt_small(&mem);

    tt_fill(der, TT_SMALL, 1);
    assert_int_equal(sg_table_put(t, 0, der, TT_SMALL, &info), APR_SUCCESS);
    tt_fill(der, TT_SMALL, 2);
    assert_int_equal(sg_table_put(t, 1, der, TT_SMALL, &info), APR_SUCCESS);
    assert_int_equal(sg_table_wanted(t), 0);
    later = tt_info(TT_NOW + 2 * TT_VALIDITY);
    tt_fill(der, TT_SMALL + 200, 3);
    assert_int_equal(sg_table_put(t, 0, der, TT_SMALL + 200, &later),
                     APR_ENOSPC);
    assert_int_equal(sg_table_get(t, 0, TT_NOW, f->buf), TT_SMALL);
    assert_int_equal(f->buf[0], 1);
    assert_int_equal(f->buf[TT_SMALL - 1], 1);
    sg_table_get_info(t, 0, &got);
    tt_assert_info_equal(&got, &info);
    assert_int_equal(sg_table_wanted(t), TT_SMALL + 200);
    /* a third certificate's first response finds no room either */
    assert_int_equal(sg_table_put(t, 2, der, 300, &later), APR_ENOSPC);
    assert_int_equal(sg_table_get(t, 2, TT_NOW, f->buf), 0);
    assert_int_equal(sg_table_wanted(t), TT_SMALL + 200 + 300);
    /* one that fits its space again is taken, and wants nothing more */
    tt_fill(der, TT_SMALL, 4);
    assert_int_equal(sg_table_put(t, 0, der, TT_SMALL, &later), APR_SUCCESS);
    assert_int_equal(sg_table_get(t, 0, TT_NOW, f->buf), TT_SMALL);
    assert_int_equal(f->buf[0], 4);
    assert_int_equal(sg_table_wanted(t), 300);
    /* and the next generation is made bigger by what was wanted */
    assert_true(sg_table_arena_size(100, 2 * TT_SMALL, sg_table_wanted(t))
                >= sg_table_arena_size(100, 2 * TT_SMALL, 0) + 300);
    free(mem);
}

/* Fetch attempts are counted per result for the whole table. */
static void test_table_attempts(void **state)
{
    tt_t *f = *state;

    assert_int_equal(sg_table_attempts(f->t, SG_R_OK), 0);
    sg_table_count_attempts(f->t, SG_R_OK, 1);
    sg_table_count_attempts(f->t, SG_R_OK, 1);
    sg_table_count_attempts(f->t, SG_R_TIMEOUT, 40);   /* carried over */
    sg_table_count_attempts(f->t, SG_R_COUNT, 5);      /* no such result */
    assert_int_equal(sg_table_attempts(f->t, SG_R_OK), 2);
    assert_int_equal(sg_table_attempts(f->t, SG_R_TIMEOUT), 40);
    assert_int_equal(sg_table_attempts(f->t, SG_R_REFUSED), 0);
    assert_int_equal(sg_table_attempts(f->t, SG_R_COUNT), 0);
}

static void test_table_empty_gives_nothing(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info;
    int i;

    for (i = 0; i < TT_SLOTS; i++) {
        assert_int_equal(sg_table_get(f->t, i, TT_NOW, f->buf), 0);
        sg_table_get_info(f->t, i, &info);
        assert_int_equal(info.state, SG_STATE_NONE);
        assert_int_equal(info.source, SG_SOURCE_NONE);
    }
}

static void test_table_round_trip(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), got;

    sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    assert_int_equal(sg_table_get(f->t, 1, TT_NOW, f->buf), sizeof(tt_der));
    assert_memory_equal(f->buf, tt_der, sizeof(tt_der));
    sg_table_get_info(f->t, 1, &got);
    tt_assert_info_equal(&got, &info);
    /* the neighbours are untouched */
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 0);
    assert_int_equal(sg_table_get(f->t, 2, TT_NOW, f->buf), 0);
}

static void test_table_replace(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);

    sg_table_put(f->t, 0, tt_der2, sizeof(tt_der2), &info);
    sg_table_put(f->t, 0, tt_der, sizeof(tt_der), &info);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), sizeof(tt_der));
    assert_memory_equal(f->buf, tt_der, sizeof(tt_der));
}

static void test_table_largest_response(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);
    static unsigned char big[SG_RESPONSE_MAX + 1];

    memset(big, 0xa5, sizeof(big));
    sg_table_put(f->t, 2, big, SG_RESPONSE_MAX, &info);
    assert_int_equal(sg_table_get(f->t, 2, TT_NOW, f->buf), SG_RESPONSE_MAX);
    assert_memory_equal(f->buf, big, SG_RESPONSE_MAX);
    /* one byte more is refused, never stored as nothing (the slot said
     * "good" and stapled nothing) nor cut: the response held stays, and
     * so does its info */
    info.failures = 99;
    assert_int_equal(sg_table_put(f->t, 2, big, sizeof(big), &info),
                     APR_EINVAL);
    assert_int_equal(sg_table_get(f->t, 2, TT_NOW, f->buf), SG_RESPONSE_MAX);
    sg_table_get_info(f->t, 2, &info);
    assert_int_equal(info.failures, 0);
}

static void test_table_expired_never_handed_out(void **state)
{
    tt_t *f = *state;
    apr_time_t next_update = TT_NOW + TT_VALIDITY;
    sg_slot_info_t info = tt_info(next_update);

    sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    assert_int_equal(sg_table_get(f->t, 1, next_update - 1, f->buf),
                     sizeof(tt_der));
    /* at nextUpdate and after: nothing, even before the fetcher notices */
    assert_int_equal(sg_table_get(f->t, 1, next_update, f->buf), 0);
    assert_int_equal(sg_table_get(f->t, 1, next_update + 1, f->buf), 0);
}

static void test_table_put_null_drops(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), got;

    sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    info.state = SG_STATE_EXPIRED;
    sg_table_put(f->t, 1, NULL, 0, &info);
    assert_int_equal(sg_table_get(f->t, 1, TT_NOW, f->buf), 0);
    sg_table_get_info(f->t, 1, &got);
    assert_int_equal(got.state, SG_STATE_EXPIRED);
}

static void test_table_put_info_keeps_der(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), got;

    sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    /* a failed attempt: the good response stays */
    info.state = SG_STATE_FAILING;
    info.failures = 2;
    info.last_result = SG_R_TIMEOUT;
    sg_table_put_info(f->t, 1, &info);
    assert_int_equal(sg_table_get(f->t, 1, TT_NOW, f->buf), sizeof(tt_der));
    assert_memory_equal(f->buf, tt_der, sizeof(tt_der));
    sg_table_get_info(f->t, 1, &got);
    tt_assert_info_equal(&got, &info);
}

static void test_table_served_counters(void **state)
{
    tt_t *f = *state;
    apr_uint64_t stapled = 1, unstapled = 1;
    int i;

    for (i = 0; i < 3; i++) {
        sg_table_count_served(f->t, 1, 1);
    }
    for (i = 0; i < 2; i++) {
        sg_table_count_served(f->t, 1, 0);
    }
    sg_table_get_served(f->t, 1, &stapled, &unstapled);
    assert_int_equal(stapled, 3);
    assert_int_equal(unstapled, 2);
    sg_table_get_served(f->t, 0, &stapled, &unstapled);
    assert_int_equal(stapled, 0);
    assert_int_equal(unstapled, 0);
    /* writing the response does not reset the counters */
    {
        sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);

        sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    }
    sg_table_get_served(f->t, 1, &stapled, &unstapled);
    assert_int_equal(stapled, 3);
    assert_int_equal(unstapled, 2);
}

/* The slot's sequence count: the one word of the table that the same
 * write, done again, moves (by two). */
static apr_uint32_t *tt_seq(tt_t *f, const sg_slot_info_t *info)
{
    apr_size_t i, n = sg_table_size(TT_SLOTS, 0) / sizeof(apr_uint32_t);
    apr_uint32_t *w = f->mem, *copy = malloc(n * sizeof(*w)), *seq = NULL;

    assert_non_null(copy);
    sg_table_put(f->t, 0, tt_der, sizeof(tt_der), info);
    memcpy(copy, w, n * sizeof(*w));
    sg_table_put(f->t, 0, tt_der, sizeof(tt_der), info);
    for (i = 0; i < n; i++) {
        if (w[i] != copy[i]) {
            assert_null(seq);
            assert_int_equal(w[i], copy[i] + 2);
            seq = &w[i];
        }
    }
    free(copy);
    assert_non_null(seq);
    return seq;
}

/* A writer killed mid-write leaves the slot's sequence count odd. Readers
 * must give up (no staple) rather than spin forever, and the next write
 * must bring the slot back. */
static void test_table_dead_writer(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), got;
    apr_uint32_t *seq = tt_seq(f, &info);

    *seq |= 1u;
    /* and its writer lock, next to the count, names the dead process
     * (pid 1 is never this one) */
    seq[1] = 1u;
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 0);
    sg_table_get_info(f->t, 0, &got);
    assert_int_equal(got.state, SG_STATE_NONE);
    sg_table_put(f->t, 0, tt_der2, sizeof(tt_der2), &info);
    assert_int_equal(*seq & 1u, 0);
    assert_int_equal(seq[1], 0u);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), sizeof(tt_der2));
}

/* sg_table_edit: a read-modify-write that no other writer's can slip
 * into. Threads count up one field of one slot while others replace the
 * response beside it: every count survives, and the response stays. */
#define TT_EDITS 5000

static void tt_edit_count(sg_slot_info_t *info, void *arg)
{
    (void)arg;
    info->failures++;
}

static void *tt_editor(void *arg)
{
    sg_table_t *t = arg;
    int k;

    for (k = 0; k < TT_EDITS; k++) {
        sg_table_edit(t, 1, tt_edit_count, NULL);
    }
    return NULL;
}

static void test_table_edit_loses_nothing(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);
    pthread_t th[TT_MW_WRITERS];
    int i;

    assert_int_equal(sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info),
                     APR_SUCCESS);
    for (i = 0; i < TT_MW_WRITERS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, tt_editor, f->t), 0);
    }
    for (i = 0; i < TT_MW_WRITERS; i++) {
        pthread_join(th[i], NULL);
    }
    sg_table_get_info(f->t, 1, &info);
    assert_int_equal(info.failures, TT_MW_WRITERS * TT_EDITS);
    assert_int_equal(info.state, SG_STATE_GOOD);
    assert_int_equal(sg_table_get(f->t, 1, TT_NOW, f->buf), sizeof(tt_der));
}

/* The status page's refresh action: a request is taken once, only for
 * its own slot, however often it was made, and survives the fetcher's
 * writes to the slot until taken. */
static void test_table_refresh_request(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);

    assert_false(sg_table_take_refresh(f->t, 1));
    sg_table_request_refresh(f->t, 1);
    sg_table_request_refresh(f->t, 1);
    sg_table_put(f->t, 1, tt_der, sizeof(tt_der), &info);
    sg_table_put_info(f->t, 1, &info);
    assert_false(sg_table_take_refresh(f->t, 0));
    assert_false(sg_table_take_refresh(f->t, 2));
    assert_true(sg_table_take_refresh(f->t, 1));
    assert_false(sg_table_take_refresh(f->t, 1));
    /* and the slot's response is untouched by it */
    assert_int_equal(sg_table_get(f->t, 1, TT_NOW, f->buf), sizeof(tt_der));
    sg_table_request_refresh(f->t, 1);
    assert_true(sg_table_take_refresh(f->t, 1));
}

/* The threaded test: one writer (the fetcher), readers (handshakes). Each
 * response the writer puts is version v: all its bytes are b = v's low
 * byte, and it is (b % 7) * 300 + 100 bytes long, so a reader can tell a
 * torn copy (two versions' bytes, or a length of one and the bytes of
 * another) from a whole one. Lengths go up and down: some writes are in
 * place, some move to new space, until the arena is full and only those
 * that fit stay. */
typedef struct {
    sg_table_t *t;
    int done;               /* atomic: set by the writer */
    unsigned long reads;    /* atomic: read by the writer */
    unsigned long torn;
} tt_race_t;

static apr_size_t tt_race_len(unsigned char b)
{
    return (apr_size_t)(b % 7) * 300 + 100;
}

static void *tt_race_reader(void *arg)
{
    tt_race_t *race = arg;
    unsigned char *buf = malloc(SG_RESPONSE_MAX);
    apr_size_t len, k;

    assert_non_null(buf);
    while (!__atomic_load_n(&race->done, __ATOMIC_RELAXED)) {
        len = sg_table_get(race->t, 0, TT_NOW, buf);
        __atomic_add_fetch(&race->reads, 1, __ATOMIC_RELAXED);
        if (len == 0) {
            continue;
        }
        for (k = 1; k < len && buf[k] == buf[0]; k++) {
        }
        /* all of one version, and that version's length */
        if (k != len || len != tt_race_len(buf[0])) {
            race->torn++;
        }
    }
    free(buf);
    return NULL;
}

/* The fewest reads of any reader so far. */
static unsigned long tt_race_reads(tt_race_t *race)
{
    unsigned long least = ~0ul, r;
    int i;

    for (i = 0; i < TT_READERS; i++) {
        r = __atomic_load_n(&race[i].reads, __ATOMIC_RELAXED);
        least = r < least ? r : least;
    }
    return least;
}

static void test_table_concurrent(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);
    static unsigned char der[SG_RESPONSE_MAX];
    tt_race_t race[TT_READERS];
    pthread_t th[TT_READERS];
    void *mem;
    sg_table_t *t = tt_small(&mem);
    unsigned v;
    int i, full = 0;

    for (i = 0; i < TT_READERS; i++) {
        memset(&race[i], 0, sizeof(race[i]));
        race[i].t = t;
        assert_int_equal(pthread_create(&th[i], NULL, tt_race_reader,
                                        &race[i]), 0);
    }
    /* until the readers read a good many times while it wrote */
    for (v = 1; v <= TT_WRITES || tt_race_reads(race) < TT_READS; v++) {
        unsigned char b = (unsigned char)(v & 0xff);

        tt_fill(der, tt_race_len(b), b);
        full += sg_table_put(t, 0, der, tt_race_len(b), &info)
                != APR_SUCCESS;
    }
    for (i = 0; i < TT_READERS; i++) {
        __atomic_store_n(&race[i].done, 1, __ATOMIC_RELAXED);
        pthread_join(th[i], NULL);
        assert_true(race[i].reads > 0);
        assert_int_equal(race[i].torn, 0);
    }
    /* responses moved, the arena filled up on the way, and the last that
     * fitted is held */
    assert_true(sg_table_used(t) > tt_race_len(2) + tt_race_len(3));
    assert_true(full > 0);
    assert_true(sg_table_get(t, 0, TT_NOW, f->buf) > 0);
    free(mem);
}

/* The fetcher's threads write at once: first responses of different
 * sizes into many slots (each takes new arena space), refreshes in place
 * and moved, several writers on one slot, while readers copy. Each
 * response says whose it is: its first bytes are the slot, the writer and
 * the round, the rest one byte made of the three, and its length is made
 * of them too; the info written with it carries the same. A slot whose
 * bytes name another slot, mix two writes, or disagree with its info was
 * written over by a writer of another slot or torn. */

typedef struct {
    sg_table_t *t;
    int id;
    int done;                   /* readers: set when the writers are */
    unsigned long bad;
} tt_mw_t;

static unsigned char tt_mw_byte(int slot, int w, int r)
{
    return (unsigned char)(slot * 31 + w * 7 + r * 13 + 1);
}

static apr_size_t tt_mw_len(int slot, int w, int r)
{
    return TT_MW_HEAD + 100 + (apr_size_t)((slot * 97 + w * 389 + r * 211)
                                           % 2900);
}

static apr_size_t tt_mw_make(unsigned char *der, int slot, int w, int r)
{
    apr_size_t len = tt_mw_len(slot, w, r);

    memset(der, tt_mw_byte(slot, w, r), len);
    der[0] = (unsigned char)(slot >> 8);
    der[1] = (unsigned char)slot;
    der[2] = (unsigned char)w;
    der[3] = (unsigned char)r;
    return len;
}

/* Whether buf (len bytes, info) is one whole write to slot. */
static int tt_mw_whole(const unsigned char *buf, apr_size_t len, int slot,
                       const sg_slot_info_t *info)
{
    int w, r;
    apr_size_t k;

    if (len < TT_MW_HEAD || ((buf[0] << 8) | buf[1]) != slot) {
        return 0;
    }
    w = buf[2];
    r = buf[3];
    if (len != tt_mw_len(slot, w, r)
        || (info != NULL && (info->failures != w * 1000 + r
                             || info->latency != (apr_interval_time_t)len))) {
        return 0;
    }
    for (k = TT_MW_HEAD; k < len; k++) {
        if (buf[k] != tt_mw_byte(slot, w, r)) {
            return 0;
        }
    }
    return 1;
}

static void *tt_mw_writer(void *arg)
{
    tt_mw_t *me = arg;
    unsigned char *der = malloc(SG_RESPONSE_MAX);
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY);
    int r, k, slot;

    assert_non_null(der);
    for (r = 0; r < TT_MW_ROUNDS; r++) {
        for (k = 0; k < TT_MW_SLOTS; k++) {
            /* each its own order: mostly other slots than the others',
             * now and then the same one */
            slot = (k * (2 * me->id + 1) + r) % TT_MW_SLOTS;
            info.failures = me->id * 1000 + r;
            info.latency = (apr_interval_time_t)tt_mw_make(der, slot, me->id,
                                                           r);
            (void)sg_table_put(me->t, slot, der, (apr_size_t)info.latency,
                               &info);
        }
    }
    free(der);
    return NULL;
}

static void *tt_mw_reader(void *arg)
{
    tt_mw_t *me = arg;
    unsigned char *buf = malloc(SG_RESPONSE_MAX);
    apr_size_t len;
    int slot = 0;

    assert_non_null(buf);
    while (!__atomic_load_n(&me->done, __ATOMIC_RELAXED)) {
        slot = (slot + 7) % TT_MW_SLOTS;
        len = sg_table_get(me->t, slot, TT_NOW, buf);
        if (len > 0 && !tt_mw_whole(buf, len, slot, NULL)) {
            me->bad++;
        }
    }
    free(buf);
    return NULL;
}

static void test_table_many_writers(void **state)
{
    tt_t *f = *state;
    apr_size_t arena = sg_table_arena_size(TT_MW_SLOTS, 0, 0);
    void *mem = calloc(1, sg_table_size(TT_MW_SLOTS, arena));
    sg_table_t *t;
    tt_mw_t wr[TT_MW_WRITERS], rd[TT_READERS];
    pthread_t wth[TT_MW_WRITERS], rth[TT_READERS];
    sg_slot_info_t info;
    apr_size_t len;
    int i;

    assert_non_null(mem);
    t = sg_table_init(mem, TT_MW_SLOTS, arena);
    for (i = 0; i < TT_READERS; i++) {
        memset(&rd[i], 0, sizeof(rd[i]));
        rd[i].t = t;
        assert_int_equal(pthread_create(&rth[i], NULL, tt_mw_reader, &rd[i]),
                         0);
    }
    for (i = 0; i < TT_MW_WRITERS; i++) {
        memset(&wr[i], 0, sizeof(wr[i]));
        wr[i].t = t;
        wr[i].id = i;
        assert_int_equal(pthread_create(&wth[i], NULL, tt_mw_writer, &wr[i]),
                         0);
    }
    for (i = 0; i < TT_MW_WRITERS; i++) {
        pthread_join(wth[i], NULL);
    }
    for (i = 0; i < TT_READERS; i++) {
        __atomic_store_n(&rd[i].done, 1, __ATOMIC_RELAXED);
        pthread_join(rth[i], NULL);
        assert_int_equal(rd[i].bad, 0);
    }
    /* every slot holds one whole response of its own, with its info */
    for (i = 0; i < TT_MW_SLOTS; i++) {
        len = sg_table_get(t, i, TT_NOW, f->buf);
        sg_table_get_info(t, i, &info);
        assert_true(len > 0);
        if (!tt_mw_whole(f->buf, len, i, &info)) {
            fail_msg("slot %d holds %u bytes that are not one whole write "
                     "of its own (first bytes name slot %d)", i,
                     (unsigned)len, (f->buf[0] << 8) | f->buf[1]);
        }
    }
    assert_true(sg_table_used(t) <= sg_table_arena(t));
    free(mem);
}

static void test_state_and_source_names(void **state)
{
    int i, j;

    (void)state;
    assert_string_equal(sg_state_name(SG_STATE_NONE), "no response yet");
    assert_string_equal(sg_state_name(SG_STATE_GOOD), "good");
    assert_string_equal(sg_state_name(SG_STATE_REVOKED), "revoked");
    assert_string_equal(sg_state_name(SG_STATE_EXPIRED), "expired");
    assert_string_equal(sg_state_name(SG_STATE_NO_URL), "no OCSP URL");
    assert_string_equal(sg_state_name(SG_STATE_FAILING), "failing");
    assert_string_equal(sg_state_name(SG_STATE_COUNT), "?");
    assert_string_equal(sg_state_name((sg_state_t)-1), "?");
    assert_string_equal(sg_source_name(SG_SOURCE_NONE), "none");
    assert_string_equal(sg_source_name(SG_SOURCE_FETCHED), "fetched");
    assert_string_equal(sg_source_name(SG_SOURCE_CARRIED), "carried");
    assert_string_equal(sg_source_name(SG_SOURCE_STORE), "store");
    assert_string_equal(sg_source_name(SG_SOURCE_SHARED), "shared");
    assert_string_equal(sg_source_name(SG_SOURCE_COUNT), "?");
    /* distinct, so that the status page tells them apart */
    for (i = 0; i < SG_STATE_COUNT; i++) {
        for (j = 0; j < i; j++) {
            assert_string_not_equal(sg_state_name((sg_state_t)i),
                                    sg_state_name((sg_state_t)j));
            assert_string_not_equal(sg_state_key((sg_state_t)i),
                                    sg_state_key((sg_state_t)j));
        }
        assert_null(strchr(sg_state_key((sg_state_t)i), ' '));
    }
    assert_string_equal(sg_state_key(SG_STATE_NO_URL), "no_OCSP_URL");
    assert_string_equal(sg_state_key(SG_STATE_NONE), "no_response_yet");
}

#define TT_TEST(fn) cmocka_unit_test_setup_teardown(fn, tt_setup, tt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TT_TEST(test_table_size_and_count),
        TT_TEST(test_table_empty_gives_nothing),
        TT_TEST(test_table_round_trip),
        TT_TEST(test_table_replace),
        TT_TEST(test_table_largest_response),
        TT_TEST(test_table_expired_never_handed_out),
        TT_TEST(test_table_put_null_drops),
        TT_TEST(test_table_put_info_keeps_der),
        TT_TEST(test_table_served_counters),
        TT_TEST(test_table_dead_writer),
        TT_TEST(test_table_refresh_request),
        TT_TEST(test_table_growth),
        TT_TEST(test_table_full_arena),
        TT_TEST(test_table_attempts),
        TT_TEST(test_table_concurrent),
        TT_TEST(test_table_many_writers),
        TT_TEST(test_table_edit_loses_nothing),
        cmocka_unit_test(test_state_and_source_names),
    };
    int failed;

    apr_initialize();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return failed;
}

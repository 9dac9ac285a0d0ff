/* test_table.c: the shared table of held responses, in plain memory. */
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
    f->mem = calloc(1, sg_table_size(TT_SLOTS));
    assert_non_null(f->mem);
    f->t = sg_table_init(f->mem, TT_SLOTS);
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
    info.attempts[SG_R_OK] = 1;
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
    assert_memory_equal(a->attempts, b->attempts, sizeof(a->attempts));
}

static void test_table_size_and_count(void **state)
{
    tt_t *f = *state;

    assert_int_equal(sg_table_count(f->t), TT_SLOTS);
    /* every slot can hold the largest response */
    assert_true(sg_table_size(TT_SLOTS) - sg_table_size(0)
                >= TT_SLOTS * (apr_size_t)SG_RESPONSE_MAX);
    assert_true(sg_table_size(2) > sg_table_size(1));
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
    /* one byte more is never stored (and never overflows the slot) */
    sg_table_put(f->t, 2, big, sizeof(big), &info);
    assert_int_equal(sg_table_get(f->t, 2, TT_NOW, f->buf), 0);
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
    info.attempts[SG_R_TIMEOUT] = 2;
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

/* A writer killed mid-write leaves the slot's sequence count odd. Readers
 * must give up (no staple) rather than spin forever, and the next write
 * must bring the slot back. White box: the first slot's count follows the
 * table header (two 32-bit words). */
static void test_table_dead_writer(void **state)
{
    tt_t *f = *state;
    sg_slot_info_t info = tt_info(TT_NOW + TT_VALIDITY), got;
    apr_uint32_t *seq = (apr_uint32_t *)f->mem + 2;

    sg_table_put(f->t, 0, tt_der, sizeof(tt_der), &info);
    *seq |= 1u;
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), 0);
    sg_table_get_info(f->t, 0, &got);
    assert_int_equal(got.state, SG_STATE_NONE);
    sg_table_put(f->t, 0, tt_der2, sizeof(tt_der2), &info);
    assert_int_equal(*seq & 1u, 0);
    assert_int_equal(sg_table_get(f->t, 0, TT_NOW, f->buf), sizeof(tt_der2));
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
        }
    }
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
        cmocka_unit_test(test_state_and_source_names),
    };
    int failed;

    apr_initialize();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return failed;
}

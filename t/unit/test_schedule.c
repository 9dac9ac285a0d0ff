/* test_schedule.c: when to ask the responder next, to the microsecond. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>

#include <apr_general.h>

#include "sg_schedule.h"
#include "sg_testpki.h"

#define TS_NOW apr_time_from_sec(1767225600)
/* rnd = 0.5 puts the jitter at exactly zero. */
#define TS_NO_JITTER 0.5
/* The largest rnd a uniform [0, 1) source gives, near enough. */
#define TS_RND_TOP 0.999999
/* Sweep rnd over [0, 1) in this many steps. */
#define TS_RND_STEPS 100

#define TS_SEC(s) apr_time_from_sec(s)

static const sg_schedule_conf_t ts_conf = {
    50,             /* refresh at half the validity window */
    TS_SEC(60),     /* retry_min */
    TS_SEC(3600)    /* retry_max */
};

static double ts_rnd(int step)
{
    return (double)step / TS_RND_STEPS;
}

/* Assert lo <= x <= hi, printing all three when not. */
#define ts_assert_within(x, lo, hi)                                        \
    do {                                                                   \
        apr_time_t ts_x_ = (x), ts_lo_ = (lo), ts_hi_ = (hi);              \
        if (ts_x_ < ts_lo_ || ts_x_ > ts_hi_) {                            \
            fail_msg("%lld not in [%lld, %lld]", (long long)ts_x_,         \
                     (long long)ts_lo_, (long long)ts_hi_);                \
        }                                                                  \
    } while (0)

/* ---- refresh ---------------------------------------------------------- */

/* A four-day response issued now: refresh is due in two days. */
#define TS_WINDOW TS_SEC(4L * TP_DAY)

static void test_refresh_midpoint(void **state)
{
    apr_time_t at = sg_schedule_refresh(&ts_conf, TS_NOW, TS_NOW + TS_WINDOW,
                                        TS_NOW, TS_NO_JITTER);

    (void)state;
    assert_true(at == TS_NOW + TS_WINDOW / 2);
}

static void test_refresh_other_percent(void **state)
{
    sg_schedule_conf_t conf = ts_conf;
    apr_time_t at;

    (void)state;
    conf.refresh_percent = 80;
    at = sg_schedule_refresh(&conf, TS_NOW, TS_NOW + TS_WINDOW, TS_NOW,
                             TS_NO_JITTER);
    assert_true(at == TS_NOW + TS_WINDOW * 80 / 100);
}

static void test_refresh_jitter_bounds(void **state)
{
    apr_time_t mid = TS_NOW + TS_WINDOW / 2;
    apr_time_t spread = TS_WINDOW * SG_SCHEDULE_REFRESH_JITTER_PERCENT / 100;
    apr_time_t lo, hi;
    int i;

    (void)state;
    lo = sg_schedule_refresh(&ts_conf, TS_NOW, TS_NOW + TS_WINDOW, TS_NOW, 0.0);
    hi = sg_schedule_refresh(&ts_conf, TS_NOW, TS_NOW + TS_WINDOW, TS_NOW,
                             TS_RND_TOP);
    /* the extremes reach (almost) the edges of +-10% */
    assert_true(lo == mid - spread);
    ts_assert_within(hi, mid + spread - TS_SEC(1), mid + spread);
    for (i = 0; i < TS_RND_STEPS; i++) {
        ts_assert_within(sg_schedule_refresh(&ts_conf, TS_NOW,
                                             TS_NOW + TS_WINDOW, TS_NOW,
                                             ts_rnd(i)),
                         mid - spread, mid + spread);
    }
}

static void test_refresh_spreads(void **state)
{
    (void)state;
    /* Different rnd, different times: certificates fall out of step. */
    assert_true(sg_schedule_refresh(&ts_conf, TS_NOW, TS_NOW + TS_WINDOW,
                                    TS_NOW, 0.25)
                < sg_schedule_refresh(&ts_conf, TS_NOW, TS_NOW + TS_WINDOW,
                                      TS_NOW, 0.75));
}

static void test_refresh_not_before_retry_min(void **state)
{
    apr_time_t this_update = TS_NOW - TS_WINDOW;
    int i;

    (void)state;
    /* The refresh point has passed (the response was adopted late): ask
     * again soon, but not in a tight loop. */
    for (i = 0; i < TS_RND_STEPS; i++) {
        assert_true(sg_schedule_refresh(&ts_conf, this_update,
                                        TS_NOW + TS_SEC(1), TS_NOW, ts_rnd(i))
                    == TS_NOW + ts_conf.retry_min);
    }
    /* even for an already expired window */
    assert_true(sg_schedule_refresh(&ts_conf, this_update, TS_NOW - TS_SEC(1),
                                    TS_NOW, TS_NO_JITTER)
                == TS_NOW + ts_conf.retry_min);
}

/* ---- retry ------------------------------------------------------------ */

static apr_interval_time_t ts_retry_delay(int failures, apr_time_t held,
                                          double rnd)
{
    return sg_schedule_retry(&ts_conf, failures, held, TS_NOW, rnd) - TS_NOW;
}

static void test_retry_doubles_to_max(void **state)
{
    static const long expected[] = {
        60, 120, 240, 480, 960, 1920, 3600, 3600, 3600
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        apr_interval_time_t d = ts_retry_delay((int)i + 1, 0, TS_NO_JITTER);

        if (d != TS_SEC(expected[i])) {
            fail_msg("failure %zu: delay %lld, expected %ld s", i + 1,
                     (long long)d, expected[i]);
        }
    }
}

static void test_retry_stays_at_max(void **state)
{
    (void)state;
    /* no overflow however long the responder stays down */
    assert_true(ts_retry_delay(1000, 0, TS_NO_JITTER) == ts_conf.retry_max);
    assert_true(ts_retry_delay(INT_MAX, 0, TS_NO_JITTER) == ts_conf.retry_max);
}

static void test_retry_jitter_bounds(void **state)
{
    /* third failure: 240 s, +-25% */
    apr_interval_time_t base = TS_SEC(240);
    apr_interval_time_t spread = base * SG_SCHEDULE_RETRY_JITTER_PERCENT / 100;
    int i;

    (void)state;
    assert_true(ts_retry_delay(3, 0, 0.0) == base - spread);
    ts_assert_within(ts_retry_delay(3, 0, TS_RND_TOP), base + spread
                     - TS_SEC(1), base + spread);
    for (i = 0; i < TS_RND_STEPS; i++) {
        ts_assert_within(ts_retry_delay(3, 0, ts_rnd(i)), base - spread,
                         base + spread);
    }
}

static void test_retry_never_below_min(void **state)
{
    int failures, i;

    (void)state;
    /* the first retry jittered down would be 45 s: the floor holds */
    assert_true(ts_retry_delay(1, 0, 0.0) == ts_conf.retry_min);
    for (failures = 0; failures <= 10; failures++) {
        for (i = 0; i < TS_RND_STEPS; i++) {
            assert_true(ts_retry_delay(failures, 0, ts_rnd(i))
                        >= ts_conf.retry_min);
        }
    }
}

/* ---- retry while a good response is still held ------------------------ */

/* Ten minutes left: a quarter is 150 s, well under the fifth failure's
 * 960 s. */
#define TS_HELD_LEFT TS_SEC(10L * TP_MINUTE)

static void test_retry_held_quarter_of_remaining(void **state)
{
    apr_interval_time_t quarter = TS_HELD_LEFT
                                  / SG_SCHEDULE_RETRY_REMAINING_DIVISOR;

    (void)state;
    assert_true(ts_retry_delay(5, TS_NOW + TS_HELD_LEFT, TS_NO_JITTER)
                == quarter);
}

static void test_retry_held_jitter_bounds(void **state)
{
    apr_interval_time_t quarter = TS_HELD_LEFT
                                  / SG_SCHEDULE_RETRY_REMAINING_DIVISOR;
    apr_interval_time_t spread = quarter * SG_SCHEDULE_RETRY_JITTER_PERCENT
                                 / 100;
    int i;

    (void)state;
    /* As the code stands: the quarter, jittered +-25%, never past the held
     * nextUpdate. */
    for (i = 0; i < TS_RND_STEPS; i++) {
        apr_interval_time_t d = ts_retry_delay(5, TS_NOW + TS_HELD_LEFT,
                                               ts_rnd(i));

        ts_assert_within(d, ts_conf.retry_min, quarter + spread);
        assert_true(d < TS_HELD_LEFT);
    }
}

static void test_retry_held_never_beyond_quarter(void **state)
{
    apr_interval_time_t quarter = TS_HELD_LEFT
                                  / SG_SCHEDULE_RETRY_REMAINING_DIVISOR;

    (void)state;
    /* Known bug (or doc error): sg_schedule.h says a retry comes "at most"
     * 1/SG_SCHEDULE_RETRY_REMAINING_DIVISOR of the remaining validity
     * later, but src/sg_schedule.c:46 adds the +-25% jitter after that
     * cap, so with rnd near 1 the delay is 5/16 of it. */
    ts_assert_within(ts_retry_delay(5, TS_NOW + TS_HELD_LEFT, TS_RND_TOP),
                     ts_conf.retry_min, quarter);
}

static void test_retry_held_floor(void **state)
{
    int i;

    (void)state;
    /* Two minutes left: a quarter (30 s) is under retry_min, which wins. */
    for (i = 0; i < TS_RND_STEPS; i++) {
        assert_true(ts_retry_delay(5, TS_NOW + TS_SEC(2L * TP_MINUTE),
                                   ts_rnd(i)) == ts_conf.retry_min);
    }
}

static void test_retry_held_far_or_gone(void **state)
{
    (void)state;
    /* A week left: the quarter does not bind, the back-off does. */
    assert_true(ts_retry_delay(5, TS_NOW + TS_SEC(7L * TP_DAY), TS_NO_JITTER)
                == TS_SEC(960));
    /* The held one already expired: plain back-off. */
    assert_true(ts_retry_delay(5, TS_NOW - TS_SEC(1), TS_NO_JITTER)
                == TS_SEC(960));
    assert_true(ts_retry_delay(5, TS_NOW, TS_NO_JITTER) == TS_SEC(960));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_midpoint),
        cmocka_unit_test(test_refresh_other_percent),
        cmocka_unit_test(test_refresh_jitter_bounds),
        cmocka_unit_test(test_refresh_spreads),
        cmocka_unit_test(test_refresh_not_before_retry_min),
        cmocka_unit_test(test_retry_doubles_to_max),
        cmocka_unit_test(test_retry_stays_at_max),
        cmocka_unit_test(test_retry_jitter_bounds),
        cmocka_unit_test(test_retry_never_below_min),
        cmocka_unit_test(test_retry_held_quarter_of_remaining),
        cmocka_unit_test(test_retry_held_jitter_bounds),
        cmocka_unit_test(test_retry_held_never_beyond_quarter),
        cmocka_unit_test(test_retry_held_floor),
        cmocka_unit_test(test_retry_held_far_or_gone),
    };
    int failed;

    apr_initialize();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return failed;
}

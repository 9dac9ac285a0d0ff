/* test_workq_limits.c: a batch of fetches on the work queue: bounded
 * concurrency, overall (threads + the caller) and per key (responder host),
 * and a deadline after which nothing more begins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sg_fetch.h"
#include "sg_registry.h"
#include "sg_workq.h"

#define TB_ENTRIES 24
#define TB_HOSTS 3
#define TB_WORK_USEC 20000

typedef struct {
    int running;                /* overall, now */
    int max_running;
    int host_running[TB_HOSTS];
    int host_max[TB_HOSTS];
    int done[TB_ENTRIES];
} tb_seen_t;

static apr_pool_t *tb_root;

static int tb_host_of(const sg_entry_t *e)
{
    return e->url[sizeof("http://h") - 1] - '0';
}

static void tb_work(void *ctx, void *item, apr_pool_t *keep, apr_pool_t *p)
{
    tb_seen_t *s = ctx;
    sg_entry_t *e = item;
    int h = tb_host_of(e);
    int now = __atomic_add_fetch(&s->running, 1, __ATOMIC_SEQ_CST);
    int hnow = __atomic_add_fetch(&s->host_running[h], 1, __ATOMIC_SEQ_CST);

    (void)keep;
    assert_non_null(apr_palloc(p, 64));     /* the pool is usable */
    __atomic_fetch_add(&s->done[e->slot], 1, __ATOMIC_SEQ_CST);
    if (now > __atomic_load_n(&s->max_running, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&s->max_running, now, __ATOMIC_SEQ_CST);
    }
    if (hnow > __atomic_load_n(&s->host_max[h], __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&s->host_max[h], hnow, __ATOMIC_SEQ_CST);
    }
    usleep(TB_WORK_USEC);
    __atomic_sub_fetch(&s->host_running[h], 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&s->running, 1, __ATOMIC_SEQ_CST);
}

static sg_entry_t **tb_entries(apr_pool_t *p)
{
    sg_entry_t **v = apr_pcalloc(p, sizeof(*v) * TB_ENTRIES);
    int i;

    for (i = 0; i < TB_ENTRIES; i++) {
        v[i] = apr_pcalloc(p, sizeof(sg_entry_t));
        v[i]->slot = i;
        /* most certificates at one CA, as in real life */
        sg_registry_set_url(v[i], apr_psprintf(p, "http://h%d.example:80/ocsp",
                                               i % 4 == 0 ? 1 + (i / 4) % 2
                                                          : 0));
    }
    return v;
}

/* Every entry pushed under its host, then finished by the caller: as the
 * fetcher runs a batch. Returns how many were left out. */
static int tb_batch(apr_pool_t *p, int concurrency, int per_host,
                    apr_time_t deadline, tb_seen_t *seen)
{
    sg_entry_t **v = tb_entries(p);
    sg_workq_t *q;
    int i;

    assert_int_equal(sg_workq_create(&q, p, p, concurrency - 1, NULL, tb_work,
                                     seen), APR_SUCCESS);
    sg_workq_limit(q, per_host, deadline);
    for (i = 0; i < TB_ENTRIES; i++) {
        sg_workq_push(q, v[i], sg_fetch_host(p, v[i]->url));
    }
    return sg_workq_finish(q);
}

static void tb_run(int concurrency, int per_host)
{
    apr_pool_t *p;
    tb_seen_t seen;
    int i, h;

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(apr_pool_create(&p, tb_root), APR_SUCCESS);
    assert_int_equal(tb_batch(p, concurrency, per_host, 0, &seen), 0);
    for (i = 0; i < TB_ENTRIES; i++) {
        assert_int_equal(seen.done[i], 1);      /* each exactly once */
    }
    assert_true(seen.max_running <= concurrency);
    for (h = 0; h < TB_HOSTS; h++) {
        assert_true(seen.host_max[h] <= per_host);
    }
    /* the bound is also reached: work really runs side by side */
    assert_true(seen.max_running >= (concurrency < TB_HOSTS * per_host
                                     ? concurrency : TB_HOSTS * per_host) - 1);
    apr_pool_destroy(p);
}

static void test_sequential(void **state)
{
    (void)state;
    tb_run(1, 1);
}

static void test_bounded_overall_and_per_host(void **state)
{
    (void)state;
    tb_run(4, 2);
}

static void test_per_host_one(void **state)
{
    (void)state;
    tb_run(8, 1);
}

static void test_deadline_leaves_out(void **state)
{
    apr_pool_t *p;
    tb_seen_t seen;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(apr_pool_create(&p, tb_root), APR_SUCCESS);
    assert_int_equal(tb_batch(p, 4, 2, apr_time_now() - 1, &seen),
                     TB_ENTRIES);
    assert_int_equal(seen.max_running, 0);
    apr_pool_destroy(p);
}

static void test_host(void **state)
{
    apr_pool_t *p;

    (void)state;
    assert_int_equal(apr_pool_create(&p, tb_root), APR_SUCCESS);
    assert_string_equal(sg_fetch_host(p, "http://ocsp.ca.example/x"),
                        "ocsp.ca.example");
    assert_string_equal(sg_fetch_host(p, "http://127.0.0.1:8080"),
                        "127.0.0.1:8080");
    apr_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_bounded_overall_and_per_host),
        cmocka_unit_test(test_per_host_one),
        cmocka_unit_test(test_deadline_leaves_out),
        cmocka_unit_test(test_host),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&tb_root, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tb_root);
    apr_terminate();
    return rc;
}

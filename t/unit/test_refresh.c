/* test_refresh.c: one step of a certificate's life (sg_refresh.c): keep,
 * fail, expire, schedule, take, against a responder on loopback that
 * answers each connection with the bytes the test gives it. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "sg_refresh.h"
#include "sg_testpki.h"

#define TR_SLOTS 2
#define TR_TIMEOUT 2                /* seconds: nothing here takes it */
#define TR_SEC(s) apr_time_from_sec(s)
#define TR_RETRY_MIN TR_SEC(60)
#define TR_RETRY_MAX TR_SEC(3600)
#define TR_MAX_AGE TR_SEC(10 * TP_DAY)
#define TR_NO_JITTER 0.5
#define TR_HEAD_MAX 8192
/* A table whose arena holds no response at all. */
#define TR_TINY_ARENA 64

static apr_pool_t *tr_root;
static tp_pki_t tr_pki;

/* The responder: answers each connection with the same bytes, once per
 * answer asked for, after reading the request's head (and body). */
typedef struct {
    apr_socket_t *listener;
    int port;
    const char *answer;
    apr_size_t answer_len;
    int answers;                /* connections to answer */
    pthread_t thread;
} tr_responder_t;

static void tr_read_request(apr_socket_t *c)
{
    char buf[TR_HEAD_MAX];
    apr_size_t n = sizeof(buf);

    /* one read holds a test request: head and its few bytes of body */
    apr_socket_timeout_set(c, apr_time_from_sec(TR_TIMEOUT));
    (void)apr_socket_recv(c, buf, &n);
}

static void *tr_responder_main(void *arg)
{
    tr_responder_t *r = arg;
    apr_pool_t *p;
    apr_socket_t *c;
    int i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < r->answers; i++) {
        apr_size_t n = r->answer_len;

        if (apr_socket_accept(&c, r->listener, p) != APR_SUCCESS) {
            break;
        }
        tr_read_request(c);
        apr_socket_send(c, r->answer, &n);
        apr_socket_close(c);
    }
    apr_pool_destroy(p);
    return NULL;
}

/* An HTTP answer carrying body. */
static void tr_responder_start(tr_responder_t *r, apr_pool_t *p,
                               const unsigned char *body, apr_size_t len,
                               int answers)
{
    apr_sockaddr_t *sa;
    const char *head = apr_psprintf(p, "HTTP/1.0 200 OK\r\nContent-Type: "
                                    "application/ocsp-response\r\n"
                                    "Content-Length: %" APR_SIZE_T_FMT
                                    "\r\n\r\n", len);
    char *all = apr_palloc(p, strlen(head) + len);

    memcpy(all, head, strlen(head));
    memcpy(all + strlen(head), body, len);
    r->answer = all;
    r->answer_len = strlen(head) + len;
    r->answers = answers;
    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0,
                                           p), APR_SUCCESS);
    assert_int_equal(apr_socket_create(&r->listener, APR_INET, SOCK_STREAM,
                                       APR_PROTO_TCP, p), APR_SUCCESS);
    assert_int_equal(apr_socket_opt_set(r->listener, APR_SO_REUSEADDR, 1),
                     APR_SUCCESS);
    assert_int_equal(apr_socket_bind(r->listener, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_listen(r->listener, 4), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, r->listener),
                     APR_SUCCESS);
    r->port = sa->port;
    assert_int_equal(pthread_create(&r->thread, NULL, tr_responder_main, r),
                     0);
}

static void tr_responder_stop(tr_responder_t *r)
{
    pthread_join(r->thread, NULL);
    apr_socket_close(r->listener);
}

typedef struct {
    apr_pool_t *p;
    void *mem;
    sg_table_t *t;
    sg_registry_t *reg;
    sg_entry_t *e;
    sg_refresh_conf_t conf;
    time_t now_sec;
    apr_time_t now;
    unsigned char buf[SG_RESPONSE_MAX];
} tr_t;

static const sg_schedule_conf_t tr_schedule = { 50, TR_RETRY_MIN,
                                                TR_RETRY_MAX };

static void tr_make_table(tr_t *f, apr_size_t arena)
{
    free(f->mem);
    f->mem = calloc(1, sg_table_size(TR_SLOTS, arena));
    assert_non_null(f->mem);
    f->t = sg_table_init(f->mem, TR_SLOTS, arena);
}

static int tr_setup(void **state)
{
    tr_t *f = calloc(1, sizeof(*f));
    sg_cert_t *cert;
    const char *err = NULL;

    assert_non_null(f);
    assert_int_equal(apr_pool_create(&f->p, tr_root), APR_SUCCESS);
    f->now_sec = time(NULL);
    f->now = apr_time_from_sec(f->now_sec);
    tr_make_table(f, sg_table_arena_size(TR_SLOTS, 0, 0));
    f->reg = sg_registry_create(f->p);
    f->e = sg_registry_add(f->reg, "id-1", 4, NULL);
    assert_int_equal(sg_cert_parse(&cert, f->p,
                                   tp_pem_chain(f->p, tr_pki.leaf.cert,
                                                tr_pki.ca.cert), NULL, &err),
                     APR_SUCCESS);
    sg_registry_set_cert(f->e, cert);
    sg_refresh_conf_init(&f->conf, TR_TIMEOUT, TR_SEC(300), TR_MAX_AGE,
                         TR_SEC(TP_DAY), &tr_schedule, APR_INET);
    *state = f;
    return 0;
}

static int tr_teardown(void **state)
{
    tr_t *f = *state;

    apr_pool_destroy(f->p);
    free(f->mem);
    free(f);
    return 0;
}

/* A good response for the leaf, valid from an hour ago for a week. */
static unsigned char *tr_good(tr_t *f, apr_size_t *len, long next_update)
{
    tp_resp_t a = tp_resp_default(&tr_pki, f->now_sec);

    a.next_update = next_update;
    return tp_response_der(f->p, &a, len);
}

static void tr_ask(tr_t *f, const unsigned char *body, apr_size_t len,
                   sg_refresh_result_t *res)
{
    tr_responder_t r;

    memset(&r, 0, sizeof(r));
    tr_responder_start(&r, f->p, body, len, 1);
    sg_registry_set_url(f->e, apr_psprintf(f->p, "http://127.0.0.1:%d/",
                                           r.port));
    sg_refresh_run(res, f->p, f->e, f->t, &f->conf, f->now, TR_NO_JITTER);
    tr_responder_stop(&r);
}

static void test_conf_init(void **state)
{
    sg_refresh_conf_t c;

    (void)state;
    memset(&c, 0xff, sizeof(c));
    sg_refresh_conf_init(&c, 7, TR_SEC(1), TR_SEC(2), TR_SEC(3),
                         &tr_schedule, APR_INET6);
    assert_int_equal(c.timeout, 7);
    assert_true(c.deadline == 0);       /* a batch sets its own */
    assert_true(c.skew == TR_SEC(1) && c.max_age == TR_SEC(2)
                && c.no_next_lifetime == TR_SEC(3));
    assert_int_equal(c.schedule.refresh_percent, 50);
    assert_true(c.schedule.retry_max == TR_RETRY_MAX);
    assert_int_equal(c.family, APR_INET6);
    /* a helper plans nothing */
    sg_refresh_conf_init(&c, 0, 0, 0, 0, NULL, APR_UNSPEC);
    assert_int_equal(c.schedule.refresh_percent, 0);
}

/* A good answer is kept: the slot holds its bytes, the state is good, and
 * the next refresh is planned from its validity window. */
static void test_run_keeps_good(void **state)
{
    tr_t *f = *state;
    sg_refresh_result_t res;
    sg_slot_info_t info;
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);

    tr_ask(f, der, len, &res);
    assert_int_equal(res.reason, SG_R_OK);
    assert_int_equal(res.old_state, SG_STATE_NONE);
    assert_int_equal(res.new_state, SG_STATE_GOOD);
    assert_int_equal(sg_table_get(f->t, f->e->slot, f->now, f->buf), len);
    assert_memory_equal(f->buf, der, len);
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_int_equal(info.state, SG_STATE_GOOD);
    assert_int_equal(info.source, SG_SOURCE_FETCHED);
    assert_int_equal(info.last_result, SG_R_OK);
    assert_int_equal(info.failures, 0);
    assert_true(info.last_attempt == f->now);
    assert_true(info.next_attempt == f->e->next_due);
    assert_true(f->e->held_next_update == info.next_update);
    assert_true(f->e->next_due
                == sg_schedule_refresh(&tr_schedule, info.this_update,
                                       info.next_update, f->now,
                                       TR_NO_JITTER));
    assert_int_equal(sg_table_attempts(f->t, SG_R_OK), 1);
}

/* An error answer: backoff, POST from now on, and the response held is
 * kept and still handed out; without one held, nothing is. */
static void test_run_fails_and_keeps(void **state)
{
    tr_t *f = *state;
    sg_refresh_result_t res;
    sg_slot_info_t info;
    unsigned char try_later[TP_UNSUCCESSFUL_LEN];
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);

    tp_response_unsuccessful(try_later, OCSP_RESPONSE_STATUS_TRYLATER);
    tr_ask(f, try_later, sizeof(try_later), &res);
    assert_int_equal(res.reason, SG_R_TRY_LATER);
    assert_int_equal(res.new_state, SG_STATE_NONE);
    assert_int_equal(f->e->failures, 1);
    assert_true(f->e->force_post);
    assert_true(f->e->next_due
                == sg_schedule_retry(&tr_schedule, 1, 0, f->now,
                                     TR_NO_JITTER));
    assert_int_equal(sg_table_get(f->t, f->e->slot, f->now, f->buf), 0);

    tr_ask(f, der, len, &res);
    assert_int_equal(res.reason, SG_R_OK);
    assert_int_equal(f->e->failures, 0);
    assert_false(f->e->force_post);

    tr_ask(f, try_later, sizeof(try_later), &res);
    assert_int_equal(res.old_state, SG_STATE_GOOD);
    assert_int_equal(res.new_state, SG_STATE_FAILING);
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_int_equal(info.state, SG_STATE_FAILING);
    assert_int_equal(info.failures, 1);
    assert_true(info.force_post);
    assert_int_equal(info.last_result, SG_R_TRY_LATER);
    /* the good one is still stapled, and its times still shown */
    assert_int_equal(sg_table_get(f->t, f->e->slot, f->now, f->buf), len);
    assert_true(info.next_update == f->e->held_next_update);
    assert_int_equal(sg_table_attempts(f->t, SG_R_TRY_LATER), 2);
}

/* Nobody answers, and what is held has run out: expired. */
static void test_run_refused_after_expiry(void **state)
{
    tr_t *f = *state;
    sg_refresh_result_t res;
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);
    sg_verdict_t v;
    int port;

    assert_int_equal(sg_refresh_check(&v, f->p, f->e, &f->conf, der, len,
                                      f->now), SG_R_OK);
    assert_int_equal(sg_refresh_take(f->e, f->t, &f->conf, der, len, &v,
                                     SG_SOURCE_STORE, NULL, f->now,
                                     TR_NO_JITTER), SG_R_OK);
    port = tp_closed_port(f->p);
    assert_true(port > 0);
    sg_registry_set_url(f->e, apr_psprintf(f->p, "http://127.0.0.1:%d/",
                                           port));
    /* a week and a day later */
    sg_refresh_run(&res, f->p, f->e, f->t, &f->conf,
                   f->now + TR_SEC(8 * TP_DAY), TR_NO_JITTER);
    assert_int_equal(res.reason, SG_R_REFUSED);
    assert_int_equal(res.new_state, SG_STATE_EXPIRED);
    assert_false(f->e->force_post);     /* not an answer: GET may stay */
}

/* sg_refresh_expire says so once, and only when what is held ran out. */
static void test_expire_once(void **state)
{
    tr_t *f = *state;
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);
    sg_verdict_t v;
    sg_slot_info_t info;

    assert_false(sg_refresh_expire(f->e, f->t, f->now));   /* none held */
    assert_int_equal(sg_refresh_check(&v, f->p, f->e, &f->conf, der, len,
                                      f->now), SG_R_OK);
    assert_int_equal(sg_refresh_take(f->e, f->t, &f->conf, der, len, &v,
                                     SG_SOURCE_CARRIED, NULL, f->now,
                                     TR_NO_JITTER), SG_R_OK);
    assert_false(sg_refresh_expire(f->e, f->t, f->now));
    assert_true(sg_refresh_expire(f->e, f->t, f->e->held_next_update));
    assert_false(sg_refresh_expire(f->e, f->t, f->e->held_next_update));
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_int_equal(info.state, SG_STATE_EXPIRED);
    assert_int_equal(info.source, SG_SOURCE_CARRIED);
    /* and never handed out from then on */
    assert_int_equal(sg_table_get(f->t, f->e->slot, f->e->held_next_update,
                                  f->buf), 0);
}

/* A response taken from elsewhere keeps the last attempt it carries and
 * an earlier retry already planned. */
static void test_take_carries_attempt(void **state)
{
    tr_t *f = *state;
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);
    sg_verdict_t v;
    sg_slot_info_t old, info;

    memset(&old, 0, sizeof(old));
    old.last_attempt = f->now - TR_SEC(30);
    old.last_result = SG_R_TIMEOUT;
    old.latency = TR_SEC(2);
    old.failures = 3;
    old.next_attempt = f->now + TR_SEC(120);
    assert_int_equal(sg_refresh_check(&v, f->p, f->e, &f->conf, der, len,
                                      f->now), SG_R_OK);
    assert_int_equal(sg_refresh_take(f->e, f->t, &f->conf, der, len, &v,
                                     SG_SOURCE_CARRIED, &old, f->now,
                                     TR_NO_JITTER), SG_R_OK);
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_true(info.last_attempt == old.last_attempt);
    assert_int_equal(info.last_result, SG_R_TIMEOUT);
    assert_true(info.latency == old.latency);
    assert_int_equal(info.failures, 0);
    assert_true(f->e->next_due == old.next_attempt);
    assert_int_equal(info.state, SG_STATE_GOOD);
}

/* No room in the table: the take and the fetch both say so, hold
 * nothing new and plan as after a failure. */
static void test_table_full(void **state)
{
    tr_t *f = *state;
    apr_size_t len;
    unsigned char *der = tr_good(f, &len, 7 * TP_DAY);
    sg_verdict_t v;
    sg_refresh_result_t res;
    sg_slot_info_t info;

    tr_make_table(f, TR_TINY_ARENA);
    assert_int_equal(sg_refresh_check(&v, f->p, f->e, &f->conf, der, len,
                                      f->now), SG_R_OK);
    assert_int_equal(sg_refresh_take(f->e, f->t, &f->conf, der, len, &v,
                                     SG_SOURCE_SHARED, NULL, f->now,
                                     TR_NO_JITTER), SG_R_TABLE_FULL);
    assert_true(f->e->held_next_update == 0);
    assert_true(f->e->next_due == 0);
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_int_equal(info.state, SG_STATE_NONE);

    tr_ask(f, der, len, &res);
    assert_int_equal(res.reason, SG_R_TABLE_FULL);
    assert_int_equal(res.new_state, SG_STATE_NONE);
    assert_int_equal(f->e->failures, 1);
    assert_true(f->e->held_next_update == 0);
    assert_int_equal(sg_table_get(f->t, f->e->slot, f->now, f->buf), 0);
    assert_int_equal(sg_table_attempts(f->t, SG_R_TABLE_FULL), 1);
    assert_true(sg_table_wanted(f->t) >= len);
}

/* A fetcher in another process takes up the schedule from the slot. */
static void test_resume_and_no_url(void **state)
{
    tr_t *f = *state;
    sg_entry_t *other = sg_registry_add(f->reg, "id-2", 4, NULL);
    sg_slot_info_t info;
    sg_refresh_result_t res;

    memset(&info, 0, sizeof(info));
    info.state = SG_STATE_FAILING;
    info.this_update = f->now - TR_SEC(60);
    info.next_update = f->now + TR_SEC(3600);
    info.next_attempt = f->now + TR_SEC(90);
    info.failures = 2;
    info.force_post = 1;
    sg_table_put_info(f->t, f->e->slot, &info);
    sg_refresh_resume(f->e, f->t);
    assert_true(f->e->held_next_update == info.next_update);
    assert_true(f->e->held_this_update == info.this_update);
    assert_true(f->e->next_due == info.next_attempt);
    assert_int_equal(f->e->failures, 2);
    assert_true(f->e->force_post);

    sg_refresh_result_begin(&res, other, f->t);
    sg_refresh_mark_no_url(other, f->t);
    sg_refresh_result_end(&res, other, f->t);
    assert_int_equal(res.reason, SG_R_OK);
    assert_int_equal(res.old_state, SG_STATE_NONE);
    assert_int_equal(res.new_state, SG_STATE_NO_URL);
    /* the other slot is left as it was */
    sg_table_get_info(f->t, f->e->slot, &info);
    assert_int_equal(info.state, SG_STATE_FAILING);
}

#define TR_TEST(fn) cmocka_unit_test_setup_teardown(fn, tr_setup, tr_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_init),
        TR_TEST(test_run_keeps_good),
        TR_TEST(test_run_fails_and_keeps),
        TR_TEST(test_run_refused_after_expiry),
        TR_TEST(test_expire_once),
        TR_TEST(test_take_carries_attempt),
        TR_TEST(test_table_full),
        TR_TEST(test_resume_and_no_url),
    };
    int failed;

    apr_initialize();
    apr_pool_create(&tr_root, NULL);
    if (!tp_pki_create(&tr_pki, time(NULL))) {
        fprintf(stderr, "cannot build the test PKI\n");
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    tp_pki_free(&tr_pki);
    apr_pool_destroy(tr_root);
    apr_terminate();
    return failed;
}

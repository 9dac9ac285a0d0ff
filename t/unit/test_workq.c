/* test_workq.c: work done in the background while the caller goes on,
 * each item once, results in pools that outlive the threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sg_workq.h"

#define TW_ITEMS 40
#define TW_SLOW_USEC 20000
#define TW_POLL_USEC 1000
#define TW_PATIENCE_POLLS 5000      /* 5 s: the background must get there */
#define TW_PATIENCE_MS 30000        /* a forked child, even under valgrind */

typedef struct {
    int n;                      /* this item's number */
    int runs;
    pthread_t thread;
    char *kept;                 /* from the keep pool */
    char *temped;               /* from the temp pool */
} tw_item_t;

typedef struct {
    useconds_t usec;            /* work per item */
    int inits;                  /* init calls, all in the caller */
    int inits_elsewhere;
} tw_ctx_t;

static apr_pool_t *tw_root;

static pthread_t tw_main;

/* What every thread finds in its keep pool, set up by the caller. */
#define TW_INIT_KEY "tw-init"

static void tw_init(void *ctx, apr_pool_t *keep)
{
    tw_ctx_t *c = ctx;

    c->inits++;
    c->inits_elsewhere += !pthread_equal(pthread_self(), tw_main);
    apr_pool_userdata_setn("set", TW_INIT_KEY, NULL, keep);
}

static void tw_work(void *ctx, void *data, apr_pool_t *keep, apr_pool_t *temp)
{
    void *mark = NULL;

    tw_ctx_t *c = ctx;
    tw_item_t *it = data;

    __atomic_add_fetch(&it->runs, 1, __ATOMIC_SEQ_CST);
    it->thread = pthread_self();
    apr_pool_userdata_get(&mark, TW_INIT_KEY, keep);
    assert_non_null(mark);
    it->kept = apr_psprintf(keep, "kept %d", it->n);
    it->temped = apr_psprintf(temp, "temp %d", it->n);
    if (c->usec) {
        usleep(c->usec);
    }
}

static tw_item_t *tw_items(apr_pool_t *p)
{
    tw_item_t *v = apr_pcalloc(p, sizeof(*v) * TW_ITEMS);
    int i;

    for (i = 0; i < TW_ITEMS; i++) {
        v[i].n = i;
    }
    return v;
}

typedef struct {
    apr_pool_t *keep;
    apr_pool_t *temp;           /* a child of keep */
    tw_item_t *v;
    sg_workq_t *q;
} tw_run_t;

/* Pools, TW_ITEMS items (allocated in parent), a queue with that many
 * threads, and every item pushed. */
static void tw_start(tw_run_t *r, apr_pool_t *parent, int threads,
                     tw_ctx_t *ctx)
{
    int i;

    apr_pool_create(&r->keep, tw_root);
    apr_pool_create(&r->temp, r->keep);
    r->v = tw_items(parent ? parent : r->keep);
    assert_int_equal(sg_workq_create(&r->q, r->keep, r->temp, threads,
                                     tw_init, tw_work, ctx), APR_SUCCESS);
    assert_int_equal(sg_workq_threads(r->q), threads);
    /* each thread's pool and the caller's, in the caller */
    assert_int_equal(ctx->inits, threads + 1);
    assert_int_equal(ctx->inits_elsewhere, 0);
    for (i = 0; i < TW_ITEMS; i++) {
        sg_workq_push(r->q, &r->v[i], NULL);
    }
}

static void tw_check_all_once(const tw_item_t *v)
{
    int i;

    for (i = 0; i < TW_ITEMS; i++) {
        assert_int_equal(v[i].runs, 1);
        assert_string_equal(v[i].kept, apr_psprintf(tw_root, "kept %d", i));
        assert_string_equal(v[i].temped, apr_psprintf(tw_root, "temp %d", i));
    }
}

/* No threads: nothing happens until finish, which does it all here. */
static void test_no_threads_runs_in_caller(void **state)
{
    tw_ctx_t ctx = { 0 };
    tw_run_t r;
    int i;

    (void)state;
    tw_start(&r, NULL, 0, &ctx);
    assert_int_equal(sg_workq_done(r.q), 0);
    sg_workq_finish(r.q);
    assert_int_equal(sg_workq_done(r.q), TW_ITEMS);
    tw_check_all_once(r.v);
    for (i = 0; i < TW_ITEMS; i++) {
        assert_true(pthread_equal(r.v[i].thread, pthread_self()));
    }
    apr_pool_destroy(r.keep);
}

/* Threads: everything is done while the caller does something else (here:
 * waits), each item once; results stay after finish, keep's after temp. */
static void test_background_while_caller_busy(void **state)
{
    tw_ctx_t ctx = { 0 };
    tw_run_t r;
    int i, polls = 0;

    (void)state;
    tw_start(&r, NULL, 2, &ctx);
    while (sg_workq_done(r.q) < TW_ITEMS && polls++ < TW_PATIENCE_POLLS) {
        usleep(TW_POLL_USEC);
    }
    assert_int_equal(sg_workq_done(r.q), TW_ITEMS);
    for (i = 0; i < TW_ITEMS; i++) {
        assert_false(pthread_equal(r.v[i].thread, pthread_self()));
    }
    sg_workq_finish(r.q);
    tw_check_all_once(r.v);
    apr_pool_destroy(r.temp);
    for (i = 0; i < TW_ITEMS; i++) {
        assert_string_equal(r.v[i].kept, apr_psprintf(tw_root, "kept %d", i));
    }
    apr_pool_destroy(r.keep);
}

/* finish helps: with slow items, the caller takes some of them too. */
static void test_finish_helps_and_waits(void **state)
{
    tw_ctx_t ctx = { .usec = TW_SLOW_USEC };
    tw_run_t r;
    int i, in_caller = 0;

    (void)state;
    tw_start(&r, NULL, 1, &ctx);
    sg_workq_finish(r.q);
    assert_int_equal(sg_workq_done(r.q), TW_ITEMS);
    tw_check_all_once(r.v);
    for (i = 0; i < TW_ITEMS; i++) {
        in_caller += pthread_equal(r.v[i].thread, pthread_self()) != 0;
    }
    assert_true(in_caller > 0 && in_caller < TW_ITEMS);
    apr_pool_destroy(r.keep);
}

/* wait: the one item asked for is done on return, the rest may not be. */
static void test_wait_for_one(void **state)
{
    tw_ctx_t ctx = { .usec = TW_SLOW_USEC };
    tw_run_t r;

    (void)state;
    tw_start(&r, NULL, 1, &ctx);
    sg_workq_wait(r.q, &r.v[TW_ITEMS - 1]);   /* queued: runs here */
    assert_int_equal(r.v[TW_ITEMS - 1].runs, 1);
    assert_true(pthread_equal(r.v[TW_ITEMS - 1].thread, pthread_self()));
    sg_workq_wait(r.q, &r.v[0]);              /* begun by the thread */
    assert_int_equal(r.v[0].runs, 1);
    assert_true(sg_workq_done(r.q) < TW_ITEMS);
    sg_workq_finish(r.q);
    tw_check_all_once(r.v);
    apr_pool_destroy(r.keep);
}

/* The pools go before finish (httpd failed its startup): the queue stops,
 * nothing runs twice, nothing runs after, and nothing crashes. */
static void test_pool_gone_before_finish(void **state)
{
    tw_ctx_t ctx = { .usec = TW_SLOW_USEC };
    tw_run_t r;
    int i, ran = 0;

    (void)state;
    tw_start(&r, tw_root, 2, &ctx);     /* the items outlive the pools */
    apr_pool_destroy(r.keep);           /* temp with it, first */
    for (i = 0; i < TW_ITEMS; i++) {
        assert_true(r.v[i].runs <= 1);
        ran += r.v[i].runs;
    }
    assert_true(ran < TW_ITEMS);
    usleep(TW_SLOW_USEC * 2);           /* a thread still running shows */
    for (i = 0; i < TW_ITEMS; i++) {
        ran -= r.v[i].runs;
    }
    assert_int_equal(ran, 0);
}

/* A process forked while the threads run (another module's helper, in
 * httpd's post_config) tears its copy of the pools down and goes on. It
 * hung before the queue kept its mutex and conditions out of the pools:
 * glibc's pthread_cond_destroy waits for the waiters it counted, and the
 * thread that waited at the fork does not exist in the child (seen under
 * valgrind, which makes that wait likely). */
static void test_forked_child_does_not_join(void **state)
{
    tw_ctx_t ctx = { .usec = TW_SLOW_USEC };
    tw_run_t r;
    struct pollfd pfd;
    char said[2] = { 0, 0 };
    pid_t pid;
    int fds[2], status = 0;

    (void)state;
    tw_start(&r, NULL, 1, &ctx);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        apr_pool_destroy(r.keep);
        /* Said through the pipe, not the exit status: under valgrind the
         * child's exit status is valgrind's verdict on the child. */
        if (write(fds[1], "ok", 2) != 2) {
            _exit(1);
        }
        _exit(0);
    }
    assert_true(pid > 0);
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    if (poll(&pfd, 1, TW_PATIENCE_MS) == 1) {
        assert_int_equal(read(fds[0], said, sizeof(said)), 2);
    }
    else {
        kill(pid, SIGKILL);     /* hung: the test fails below */
    }
    close(fds[0]);
    waitpid(pid, &status, 0);
    assert_memory_equal(said, "ok", 2);
    assert_false(WIFSIGNALED(status));
    sg_workq_finish(r.q);
    tw_check_all_once(r.v);
    apr_pool_destroy(r.keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_threads_runs_in_caller),
        cmocka_unit_test(test_background_while_caller_busy),
        cmocka_unit_test(test_finish_helps_and_waits),
        cmocka_unit_test(test_wait_for_one),
        cmocka_unit_test(test_pool_gone_before_finish),
        cmocka_unit_test(test_forked_child_does_not_join),
    };
    int rc;

    apr_initialize();
    tw_main = pthread_self();
    apr_pool_create(&tw_root, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tw_root);
    apr_terminate();
    return rc;
}

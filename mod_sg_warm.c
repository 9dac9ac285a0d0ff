/* mod_sg_warm.c: the startup work for each certificate, beside mod_ssl's.
 *
 * httpd configures itself in one thread. With many virtual hosts most of a
 * start is mod_ssl reading keys and certificates, one host after the
 * other, priming us on the way. Parsing each certificate and validating
 * the response held for it in httpd's thread made a warm start with 1,000
 * certificates take 1.16-1.25 times as long as one without stapling,
 * measured here (every X509 parse builds an OpenSSL 3 decoder; a
 * validation is one more parse and two signature checks). So the prime
 * hook only queues it, threads on the processors mod_ssl leaves idle do
 * the work meanwhile, and post_config collects the results in httpd's
 * thread, which alone logs, writes the shared table and touches the
 * store's files.
 */
#include <sched.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>
#include <http_main.h>

#include "sg_workq.h"
#include "mod_sg_carry.h"
#include "mod_sg_config.h"
#include "mod_sg_store.h"
#include "mod_sg_warm.h"

APLOG_USE_MODULE(staple_guard);

/* More threads than this find nothing left to do. */
#define SG_WARM_THREADS_MAX 8
#define SG_WARM_ITEMS_INITIAL 64
#define SG_WARM_CACHE_KEY "staple_guard_cert_cache"

typedef struct {
    sg_entry_t *e;
    server_rec *s;                  /* the first host primed with it */
    const char *pem;                /* ours, in ptemp */
    const char *err;                /* why it cannot be used, or NULL */
    const sg_carried_t *carried;    /* from the previous generation */
    sg_reason_t carried_r;
    sg_verdict_t carried_v;
    sg_store_found_t stored;
} sg_warm_item_t;

struct sg_warm_t {
    sg_gen_t *g;
    const sg_carry_t *carry;
    int started;                    /* sg_warm_start was called */
    sg_workq_t *q;                  /* NULL: the work is done at once */
    int done_inline;                /* that way */
    apr_array_header_t *items;      /* sg_warm_item_t *, in slot order */
};

/* The thread's own cache of parsed chain certificates, kept with its keep
 * pool: the intermediate of a CA is parsed once per thread. */
static sg_cert_cache_t *sg_warm_cache(apr_pool_t *keep)
{
    void *cache = NULL;

    apr_pool_userdata_get(&cache, SG_WARM_CACHE_KEY, keep);
    if (cache == NULL) {
        cache = sg_cert_cache_create(keep);
        apr_pool_userdata_setn(cache, SG_WARM_CACHE_KEY, NULL, keep);
    }
    return cache;
}

/* In a worker: everything that needs no lock and leaves no trace. */
static void sg_warm_work(void *ctx, void *data, apr_pool_t *keep,
                         apr_pool_t *temp)
{
    sg_warm_t *w = ctx;
    sg_warm_item_t *it = data;
    sg_entry_t *e = it->e;
    sg_cert_t *cert;
    apr_time_t now = apr_time_now();

    if (sg_cert_parse(&cert, keep, it->pem, sg_warm_cache(keep),
                      &it->err) != APR_SUCCESS) {
        return;
    }
    if (sg_request_build(&e->req, keep, cert->certid) != APR_SUCCESS) {
        it->err = "cannot build the OCSP request";
        return;
    }
    e->cert = cert;
    it->carried = sg_carry_find(w->carry, e);
    if (it->carried != NULL) {
        it->carried_r = sg_carry_check(it->carried, &it->carried_v, temp, e,
                                       &w->g->refresh, now);
    }
    /* the store only when nothing valid was carried over */
    if (it->carried == NULL || it->carried_r != SG_R_OK) {
        sg_store_check(&it->stored, w->g, temp, e, now);
    }
}

/* Each thread's cache (and OpenSSL library context) is made here, in
 * httpd's thread: loading OpenSSL's configuration into a new context
 * rebuilds process-wide tables that mod_ssl reads while it goes on. */
static void sg_warm_init(void *ctx, apr_pool_t *keep)
{
    (void)ctx;
    sg_warm_cache(keep);
}

/* Processors this process may run on: the threads are for those that
 * mod_ssl's one thread leaves idle. */
static int sg_warm_cpus(void)
{
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        n = CPU_COUNT(&set);
    }
    return n < 1 ? 1 : (int)n;
}

/* The generation's startup state; what the workers read is settled
 * before the first of them starts. */
static sg_warm_t *sg_warm_get(sg_gen_t *g, server_rec *s)
{
    const sg_global_conf_t *gc = sg_config_global();
    sg_warm_t *w = g->warm;

    if (w == NULL) {
        w = apr_pcalloc(g->pool, sizeof(*w));
        w->g = g;
        w->items = apr_array_make(g->ptemp, SG_WARM_ITEMS_INITIAL,
                                  sizeof(sg_warm_item_t *));
        g->refresh.timeout = gc->timeout;
        g->refresh.skew = gc->skew;
        g->refresh.schedule = gc->schedule;
        sg_store_open(g, s, g->ptemp);
        w->carry = sg_carry_previous(s);
        g->warm = w;
    }
    return w;
}

/* With the first certificate: the threads. Without them (one processor,
 * or none could be made) the work is done at once, in the prime hook. */
static void sg_warm_start(sg_warm_t *w, server_rec *s)
{
    sg_gen_t *g = w->g;
    int threads = sg_warm_cpus() - 1;
    apr_status_t rv;

    w->started = 1;
    threads = threads > SG_WARM_THREADS_MAX ? SG_WARM_THREADS_MAX : threads;
    rv = sg_workq_create(&w->q, g->pool, g->ptemp, threads, sg_warm_init,
                         sg_warm_work, w);
    if (rv != APR_SUCCESS || sg_workq_threads(w->q) < threads) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "SG0007: started %d "
                     "of %d threads for the startup work; httpd's thread "
                     "does the rest", rv == APR_SUCCESS
                     ? sg_workq_threads(w->q) : 0, threads);
    }
    if (rv != APR_SUCCESS) {
        w->q = NULL;
    }
}

void sg_warm_prime(sg_gen_t *g, server_rec *s, sg_entry_t *e,
                   const char *pem)
{
    sg_warm_t *w = sg_warm_get(g, ap_server_conf);
    sg_warm_item_t *it = apr_pcalloc(g->ptemp, sizeof(*it));

    if (!w->started) {
        sg_warm_start(w, ap_server_conf);
    }
    it->e = e;
    it->s = s;
    it->pem = apr_pstrdup(g->ptemp, pem);
    APR_ARRAY_PUSH(w->items, sg_warm_item_t *) = it;
    if (w->q != NULL) {
        sg_workq_push(w->q, it);
    }
    else {
        sg_warm_work(w, it, g->pool, g->ptemp);
        w->done_inline++;
    }
}

void sg_warm_wait(sg_gen_t *g, sg_entry_t *e)
{
    sg_warm_t *w = g->warm;

    if (w != NULL && w->q != NULL && e->slot < w->items->nelts) {
        sg_workq_wait(w->q, APR_ARRAY_IDX(w->items, e->slot,
                                          sg_warm_item_t *));
    }
}

void sg_warm_finish(sg_gen_t *g, server_rec *s)
{
    sg_warm_t *w = sg_warm_get(g, s);
    int i, early = w->done_inline;

    if (w->q != NULL) {
        early = sg_workq_done(w->q);
        sg_workq_finish(w->q);
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "SG0008: startup work for "
                 "%d certificates: %d done before post_config by %d "
                 "threads, %d in post_config", w->items->nelts, early,
                 w->q ? sg_workq_threads(w->q) : 0, w->items->nelts - early);
    for (i = 0; i < w->items->nelts; i++) {
        sg_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sg_warm_item_t *);
        sg_entry_t *e = it->e;

        if (it->err != NULL) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, it->s, "SG0001: %s: no "
                         "OCSP stapling for a certificate: %s",
                         APR_ARRAY_IDX(e->vhosts, 0, const char *), it->err);
            sg_registry_drop(g->reg, e);
        }
        else if (!e->url_configured) {
            e->url = e->cert->url;
        }
    }
}

/* Validated while mod_ssl worked, taken now: what expired meanwhile (a
 * long start with thousands of hosts) is not taken. */
static void sg_warm_recheck(sg_warm_item_t *it, apr_pool_t *p,
                            apr_time_t now)
{
    if (it->carried != NULL && it->carried_r == SG_R_OK
        && it->carried_v.next_update <= now) {
        it->carried_r = SG_R_EXPIRED;
    }
    if (it->stored.present && it->stored.refused == NULL
        && it->stored.verdict.next_update <= now) {
        sg_store_refuse_for(&it->stored, p, SG_R_EXPIRED);
    }
}

void sg_warm_adopt(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    sg_warm_t *w = sg_warm_get(g, s);
    int i;

    for (i = 0; i < w->items->nelts; i++) {
        sg_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sg_warm_item_t *);
        sg_entry_t *e = it->e;

        if (it->err != NULL) {
            continue;
        }
        sg_warm_recheck(it, ptemp, apr_time_now());
        if (it->carried != NULL) {
            sg_carry_take(g, s, ptemp, e, it->carried, it->carried_r,
                          &it->carried_v);
        }
        if (e->url != NULL && e->held_next_update <= apr_time_now()) {
            sg_store_take(g, s, ptemp, e, &it->stored);
        }
    }
}

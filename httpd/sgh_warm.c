/* sgh_warm.c: the startup work for each certificate, beside mod_ssl's.
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
#include "sgh_carry.h"
#include "sgh_config.h"
#include "sgh_entry.h"
#include "sgh_msg.h"
#include "sgh_store.h"
#include "sgh_warm.h"

APLOG_USE_MODULE(staple_guard);

/* More threads than this find nothing left to do. */
#define SGH_WARM_THREADS_MAX 8
#define SGH_WARM_ITEMS_INITIAL 64
#define SGH_WARM_CACHE_KEY "staple_guard_cert_cache"

typedef struct {
    sg_entry_t *e;
    server_rec *s;                  /* the first host primed with it */
    const char *pem;                /* ours, in ptemp */
    const char *err;                /* why it cannot be used, or NULL */
    const sgh_carried_t *carried;    /* from the previous generation */
    sg_reason_t carried_r;
    sg_verdict_t carried_v;
    sgh_store_found_t stored;
} sgh_warm_item_t;

struct sgh_warm_t {
    sgh_gen_t *g;
    const sgh_carry_t *carry;
    int started;                    /* sgh_warm_start was called */
    sg_workq_t *q;                  /* NULL: the work is done at once */
    int done_inline;                /* that way */
    apr_array_header_t *items;      /* sgh_warm_item_t *, in slot order */
};

/* The thread's own cache of parsed chain certificates, kept with its keep
 * pool: the intermediate of a CA is parsed once per thread. */
static sg_cert_cache_t *sgh_warm_cache(apr_pool_t *keep)
{
    void *cache = NULL;

    apr_pool_userdata_get(&cache, SGH_WARM_CACHE_KEY, keep);
    if (cache == NULL) {
        cache = sg_cert_cache_create(keep);
        apr_pool_userdata_setn(cache, SGH_WARM_CACHE_KEY, NULL, keep);
    }
    return cache;
}

/* In a worker: everything that needs no lock and leaves no trace. */
static void sgh_warm_work(void *ctx, void *data, apr_pool_t *keep,
                          apr_pool_t *temp)
{
    sgh_warm_t *w = ctx;
    sgh_warm_item_t *it = data;
    sg_entry_t *e = it->e;
    sg_cert_t *cert;
    apr_time_t now = apr_time_now();

    if (sg_cert_parse(&cert, keep, it->pem, sgh_warm_cache(keep),
                      &it->err) != APR_SUCCESS) {
        return;
    }
    if (sg_registry_set_cert(e, keep, cert) != APR_SUCCESS) {
        it->err = "cannot build the OCSP request";
        return;
    }
    it->carried = sgh_carry_find(w->carry, e);
    if (it->carried != NULL) {
        it->carried_r = sgh_carry_check(it->carried, &it->carried_v, temp, e,
                                       &w->g->refresh, now);
    }
    /* the store only when nothing valid was carried over */
    if (it->carried == NULL || it->carried_r != SG_R_OK) {
        sgh_store_check(&it->stored, w->g, temp, e, now);
    }
}

/* Each thread's cache (and OpenSSL library context) is made here, in
 * httpd's thread: loading OpenSSL's configuration into a new context
 * rebuilds process-wide tables that mod_ssl reads while it goes on. */
static void sgh_warm_init(void *ctx, apr_pool_t *keep)
{
    (void)ctx;
    sgh_warm_cache(keep);
}

/* Processors this process may run on: the threads are for those that
 * mod_ssl's one thread leaves idle. */
static int sgh_warm_cpus(void)
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
static sgh_warm_t *sgh_warm_get(sgh_gen_t *g, server_rec *s)
{
    const sgh_global_conf_t *gc = sgh_config_global();
    sgh_warm_t *w = g->warm;

    if (w == NULL) {
        w = apr_pcalloc(g->pool, sizeof(*w));
        w->g = g;
        w->items = apr_array_make(g->ptemp, SGH_WARM_ITEMS_INITIAL,
                                  sizeof(sgh_warm_item_t *));
        g->refresh.timeout = sgh_config_timeout_sec();
        g->refresh.skew = gc->skew;
        g->refresh.max_age = gc->max_age;
        g->refresh.no_next_lifetime = gc->no_next_lifetime;
        g->refresh.schedule = gc->schedule;
        g->refresh.family = gc->family;
        sgh_store_open(g, s, g->ptemp);
        w->carry = sgh_carry_previous(s);
        g->warm = w;
    }
    return w;
}

/* With the first certificate: the threads. Without them (one processor,
 * or none could be made) the work is done at once, in the prime hook. */
static void sgh_warm_start(sgh_warm_t *w, server_rec *s)
{
    sgh_gen_t *g = w->g;
    int threads = sgh_warm_cpus() - 1;
    apr_status_t rv;

    w->started = 1;
    threads = threads > SGH_WARM_THREADS_MAX ? SGH_WARM_THREADS_MAX : threads;
    rv = sg_workq_create(&w->q, g->pool, g->ptemp, threads, sgh_warm_init,
                         sgh_warm_work, w);
    if (rv != APR_SUCCESS || sg_workq_threads(w->q) < threads) {
        sgh_log(SGH_M_THREADS, 0, s, rv, "started %d of %d threads for the "
                "startup work; httpd's thread does the rest",
                rv == APR_SUCCESS ? sg_workq_threads(w->q) : 0, threads);
    }
    if (rv != APR_SUCCESS) {
        w->q = NULL;
    }
}

void sgh_warm_prime(sgh_gen_t *g, server_rec *s, sg_entry_t *e,
                    const char *pem)
{
    sgh_warm_t *w = sgh_warm_get(g, ap_server_conf);
    sgh_warm_item_t *it = apr_pcalloc(g->ptemp, sizeof(*it));

    if (!w->started) {
        sgh_warm_start(w, ap_server_conf);
    }
    it->e = e;
    it->s = s;
    it->pem = apr_pstrdup(g->ptemp, pem);
    APR_ARRAY_PUSH(w->items, sgh_warm_item_t *) = it;
    if (w->q != NULL) {
        sg_workq_push(w->q, it, NULL);
    }
    else {
        sgh_warm_work(w, it, g->pool, g->ptemp);
        w->done_inline++;
    }
}

void sgh_warm_wait(sgh_gen_t *g, sg_entry_t *e)
{
    sgh_warm_t *w = g->warm;

    if (w != NULL && w->q != NULL && e->slot < w->items->nelts) {
        sg_workq_wait(w->q, APR_ARRAY_IDX(w->items, e->slot,
                                          sgh_warm_item_t *));
    }
}

void sgh_warm_finish(sgh_gen_t *g, server_rec *s)
{
    sgh_warm_t *w = sgh_warm_get(g, s);
    int i, early = w->done_inline;

    if (w->q != NULL) {
        early = sg_workq_done(w->q);
        (void)sg_workq_finish(w->q);    /* no deadline: none left out */
    }
    sgh_log(SGH_M_WARM_DONE, 0, s, 0, "startup work for %d certificates: %d "
            "done before post_config by %d threads, %d in post_config",
            w->items->nelts, early, w->q ? sg_workq_threads(w->q) : 0,
            w->items->nelts - early);
    for (i = 0; i < w->items->nelts; i++) {
        sgh_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sgh_warm_item_t *);
        sg_entry_t *e = it->e;

        if (it->err != NULL) {
            sgh_log(SGH_M_CERT_UNUSABLE, 0, it->s, 0, "%s: no OCSP stapling "
                    "for a certificate: %s", sgh_entry_vhost(e), it->err);
            sg_registry_drop(g->reg, e);
        }
        else {
            sgh_entry_settle_url(e);
        }
    }
}

/* Validated while mod_ssl worked, taken now: what expired meanwhile (a
 * long start with thousands of hosts) is not taken. */
static void sgh_warm_recheck(sgh_warm_item_t *it, apr_pool_t *p,
                             apr_time_t now)
{
    if (it->carried != NULL && it->carried_r == SG_R_OK
        && it->carried_v.next_update <= now) {
        it->carried_r = SG_R_EXPIRED;
    }
    if (it->stored.present && it->stored.refused == NULL
        && it->stored.verdict.next_update <= now) {
        sgh_store_refuse_for(&it->stored, p, SG_R_EXPIRED);
    }
}

apr_size_t sgh_warm_held(const sgh_gen_t *g)
{
    const sgh_warm_t *w = g->warm;
    apr_size_t sum = 0;
    int i;

    for (i = 0; w != NULL && i < w->items->nelts; i++) {
        const sgh_warm_item_t *it = APR_ARRAY_IDX(w->items, i,
                                                  sgh_warm_item_t *);

        if (it->err != NULL) {
            continue;
        }
        if (it->carried != NULL && it->carried_r == SG_R_OK) {
            sum += sgh_carry_len(it->carried);
        }
        else if (it->stored.present && it->stored.refused == NULL) {
            sum += it->stored.len;
        }
    }
    return sum;
}

void sgh_warm_adopt(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    sgh_warm_t *w = sgh_warm_get(g, s);
    int i;

    for (i = 0; i < w->items->nelts; i++) {
        sgh_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sgh_warm_item_t *);
        sg_entry_t *e = it->e;

        if (it->err != NULL) {
            continue;
        }
        sgh_warm_recheck(it, ptemp, apr_time_now());
        if (it->carried != NULL) {
            sgh_carry_take(g, s, ptemp, e, it->carried, it->carried_r,
                          &it->carried_v);
        }
        if (e->url != NULL && e->held_next_update <= apr_time_now()) {
            sgh_store_take(g, s, ptemp, e, &it->stored);
        }
    }
}

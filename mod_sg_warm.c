/* mod_sg_warm.c: the startup work for each certificate, beside mod_ssl's.
 *
 * httpd configures itself in one thread. With many virtual hosts most of a
 * start is mod_ssl reading keys and certificates, one host after the
 * other, priming us on the way. Parsing each certificate and validating
 * the response held for it would cost about a third as much again (every
 * X509 parse builds an OpenSSL 3 decoder; a validation is one more parse
 * and two signature checks). So the prime hook only queues it, threads on
 * the processors mod_ssl leaves idle do the work meanwhile, and
 * post_config collects the results in httpd's thread, which alone logs,
 * writes the shared table and touches the store's files.
 */
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
    sg_workq_t *q;                  /* NULL: the work is done at once */
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

/* What the workers read is settled before the first of them starts. */
static sg_warm_t *sg_warm_begin(sg_gen_t *g, server_rec *s)
{
    const sg_global_conf_t *gc = sg_config_global();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads;
    sg_warm_t *w;
    apr_status_t rv;

    if (g->warm != NULL) {
        return g->warm;
    }
    w = apr_pcalloc(g->pool, sizeof(*w));
    w->g = g;
    w->items = apr_array_make(g->ptemp, SG_WARM_ITEMS_INITIAL,
                              sizeof(sg_warm_item_t *));
    g->refresh.timeout = gc->timeout;
    g->refresh.skew = gc->skew;
    g->refresh.schedule = gc->schedule;
    sg_store_open(g, s, g->ptemp);
    w->carry = sg_carry_previous(s);
    /* httpd's own thread is busy with mod_ssl until post_config */
    threads = (int)(cpus - 1);
    threads = threads < 0 ? 0 : threads > SG_WARM_THREADS_MAX
              ? SG_WARM_THREADS_MAX : threads;
    rv = sg_workq_create(&w->q, g->pool, g->ptemp, threads, sg_warm_work, w);
    if (rv != APR_SUCCESS || sg_workq_threads(w->q) < threads) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "SG0007: started %d "
                     "of %d threads for the startup work; httpd's thread "
                     "does the rest in post_config",
                     rv == APR_SUCCESS ? sg_workq_threads(w->q) : 0, threads);
    }
    if (rv != APR_SUCCESS) {
        w->q = NULL;
    }
    g->warm = w;
    return w;
}

void sg_warm_prime(sg_gen_t *g, server_rec *s, sg_entry_t *e,
                   const char *pem)
{
    sg_warm_t *w = sg_warm_begin(g, ap_server_conf);
    sg_warm_item_t *it = apr_pcalloc(g->ptemp, sizeof(*it));

    it->e = e;
    it->s = s;
    it->pem = apr_pstrdup(g->ptemp, pem);
    APR_ARRAY_PUSH(w->items, sg_warm_item_t *) = it;
    if (w->q != NULL) {
        sg_workq_push(w->q, it);
    }
    else {
        sg_warm_work(w, it, g->pool, g->ptemp);
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
    sg_warm_t *w = sg_warm_begin(g, s);
    int i, early = 0;

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

void sg_warm_adopt(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    sg_warm_t *w = sg_warm_begin(g, s);
    int i;

    for (i = 0; i < w->items->nelts; i++) {
        sg_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sg_warm_item_t *);
        sg_entry_t *e = it->e;

        if (it->err != NULL) {
            continue;
        }
        if (it->carried != NULL) {
            sg_carry_take(g, s, ptemp, e, it->carried, it->carried_r,
                          &it->carried_v);
        }
        if (e->url != NULL && e->held_next_update <= apr_time_now()) {
            sg_store_take(g, s, ptemp, e, &it->stored);
        }
    }
}

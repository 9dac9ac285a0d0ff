/* sgh_warm.c: the startup work for each certificate, beside mod_ssl's.
 *
 * httpd configures itself in one thread. With many virtual hosts most of a
 * start is mod_ssl reading keys and certificates, one host after the
 * other, priming us on the way. Parsing each certificate and validating
 * the response held for it in httpd's thread made a warm start with 1,000
 * certificates take 1.16-1.25 times as long as one without stapling,
 * measured here (every X509 parse builds an OpenSSL 3 decoder; a
 * validation is one more parse and two signature checks). So the prime
 * hook sends it to helper processes (sgh_helper.c) on the processors
 * mod_ssl leaves idle and takes their results as they come; post_config
 * takes the rest, does in httpd's thread what no helper answered, and
 * alone logs, writes the shared table and touches the store's files.
 */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>
#include <http_main.h>

#include "sg_pack.h"
#include "sgh_carry.h"
#include "sgh_config.h"
#include "sgh_entry.h"
#include "sgh_helper.h"
#include "sgh_msg.h"
#include "sgh_store.h"
#include "sgh_warm.h"

APLOG_USE_MODULE(staple_guard);

/* More helpers than this find nothing left to do. */
#define SGH_WARM_HELPERS_MAX 8
#define SGH_WARM_ITEMS_INITIAL 64
#define SGH_WARM_CACHE_KEY "staple_guard_cert_cache"

typedef struct {
    sg_entry_t *e;
    server_rec *s;                  /* the first host primed with it */
    const char *pem;                /* ours, in ptemp */
    const char *err;                /* why it cannot be used, or NULL */
    const sgh_carried_t *carried;    /* from the previous generation */
    const unsigned char *carried_der; /* its response, or NULL */
    apr_size_t carried_len;
    sg_reason_t carried_r;
    sg_verdict_t carried_v;
    sgh_store_found_t stored;
    int done;                       /* by a helper or here */
} sgh_warm_item_t;

struct sgh_warm_t {
    sgh_gen_t *g;
    const sgh_carry_t *carry;
    int started;                    /* sgh_warm_start was called */
    sgh_helper_t *h;                /* NULL: the work is done here */
    sg_pack_t job;                  /* the job being sent, reused */
    int done_here;                  /* in httpd's thread */
    apr_array_header_t *items;      /* sgh_warm_item_t *, in slot order */
};

/* The process's cache of parsed chain certificates, kept with its keep
 * pool: the intermediate of a CA is parsed once per helper, and once in
 * httpd's process. */
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

/* Everything that needs no lock and leaves no trace, in a helper or
 * here: the certificate in keep, the rest in temp. */
static void sgh_warm_work(sgh_warm_t *w, sgh_warm_item_t *it,
                          sg_cert_cache_t *cache, apr_pool_t *keep,
                          apr_pool_t *temp)
{
    sg_entry_t *e = it->e;
    sg_cert_t *cert;
    apr_time_t now = apr_time_now();

    if (sg_cert_parse(&cert, keep, it->pem, cache, &it->err)
        != APR_SUCCESS) {
        return;
    }
    sg_registry_set_cert(e, cert);
    /* SG_R_COUNT: nothing carried over, or a schedule alone */
    it->carried_r = SG_R_COUNT;
    if (it->carried_der != NULL) {
        it->carried_r = sg_refresh_check(&it->carried_v, temp, e,
                                         &w->g->refresh, it->carried_der,
                                         it->carried_len, now);
    }
    /* the store only when nothing valid was carried over */
    if (it->carried_r != SG_R_OK) {
        sgh_store_check(&it->stored, w->g, temp, e, now);
    }
}

/* What a helper is sent: the item's index, the id, the PEM, the
 * response carried over. */
static void sgh_warm_pack_job(sg_pack_t *job, int index,
                              const sgh_warm_item_t *it)
{
    sg_pack_u32(job, (apr_uint32_t)index);
    sg_pack_bytes(job, it->e->id, it->e->id_len);
    sg_pack_str(job, it->pem);
    sg_pack_bytes(job, it->carried_der, it->carried_len);
}

/* What it sends back: the index, then an error or the certificate and
 * what was found for it. */
static void sgh_warm_pack_result(sg_pack_t *out, apr_uint32_t index,
                                 const sgh_warm_item_t *it)
{
    sg_pack_u32(out, index);
    sg_pack_str(out, it->err);
    if (it->err != NULL) {
        return;
    }
    sg_pack_cert(out, it->e->cert);
    sg_pack_u32(out, (apr_uint32_t)it->carried_r);
    sg_pack_verdict(out, &it->carried_v);
    sg_pack_u32(out, (apr_uint32_t)it->stored.present);
    sg_pack_str(out, it->stored.refused);
    sg_pack_bytes(out, it->stored.der, it->stored.der ? it->stored.len : 0);
    sg_pack_verdict(out, &it->stored.verdict);
}

/* In a helper: one certificate, with an entry of its own (the helper
 * has none of httpd's). Parsed in temp: only its bytes go back. */
static void sgh_warm_job(void *ctx, sg_unpack_t *job, sg_pack_t *out,
                         apr_pool_t *keep, apr_pool_t *temp)
{
    sgh_warm_t *w = ctx;
    apr_uint32_t index = sg_unpack_u32(job);
    sg_entry_t e;
    sgh_warm_item_t it;

    memset(&e, 0, sizeof(e));
    memset(&it, 0, sizeof(it));
    e.id = (const char *)sg_unpack_bytes(job, &e.id_len);
    it.e = &e;
    it.pem = sg_unpack_str(job, temp);
    it.carried_der = sg_unpack_bytes(job, &it.carried_len);
    if (it.carried_len == 0) {
        it.carried_der = NULL;
    }
    if (!sg_unpack_done(job) || it.pem == NULL) {
        return;                 /* an empty record: done in httpd's thread */
    }
    sgh_warm_work(w, &it, sgh_warm_cache(keep), temp, temp);
    sgh_warm_pack_result(out, index, &it);
}

/* The stored response's part of a result, copied out of the record. */
static void sgh_warm_unpack_stored(sg_unpack_t *r, sgh_store_found_t *f,
                                   apr_pool_t *p)
{
    const unsigned char *der;
    apr_size_t len;

    f->present = sg_unpack_u32(r) != 0;
    f->refused = sg_unpack_str(r, p);
    der = sg_unpack_bytes(r, &len);
    f->der = len > 0 ? apr_pmemdup(p, der, len) : NULL;
    f->len = f->der ? len : 0;
    sg_unpack_verdict(r, &f->verdict, p);
}

/* In httpd's thread: a helper's result for one item, taken only when
 * every byte of it makes sense (else the item is done here later). */
static void sgh_warm_result(void *ctx, sg_unpack_t *r)
{
    sgh_warm_t *w = ctx;
    sgh_gen_t *g = w->g;
    apr_uint32_t index = sg_unpack_u32(r);
    sgh_warm_item_t *it, got;
    sg_cert_t *cert = NULL;

    if (!r->ok || index >= (apr_uint32_t)w->items->nelts
        || (it = APR_ARRAY_IDX(w->items, index, sgh_warm_item_t *))->done) {
        return;
    }
    got = *it;
    got.err = sg_unpack_str(r, g->ptemp);
    if (got.err == NULL) {
        if (sg_unpack_cert(&cert, r, g->pool, sgh_warm_cache(g->pool))
            != APR_SUCCESS) {
            return;
        }
        got.carried_r = (sg_reason_t)sg_unpack_u32(r);
        sg_unpack_verdict(r, &got.carried_v, g->ptemp);
        sgh_warm_unpack_stored(r, &got.stored, g->ptemp);
    }
    if (!sg_unpack_done(r) || got.carried_r > SG_R_COUNT) {
        return;
    }
    if (cert != NULL) {
        sg_registry_set_cert(it->e, cert);
    }
    *it = got;
    it->done = 1;
}

/* What a helper needs of the configuration: where the store is, and
 * how responses are judged. */
static void sgh_warm_pack_hello(sg_pack_t *hello, const sgh_gen_t *g)
{
    sg_pack_init(hello, g->ptemp);
    sg_pack_str(hello, g->store_dir);
    sg_pack_time(hello, g->refresh.skew);
    sg_pack_time(hello, g->refresh.max_age);
    sg_pack_time(hello, g->refresh.no_next_lifetime);
}

/* In a helper: a generation of its own, with what httpd's sent. */
static int sgh_warm_hello(void *ctx, sg_unpack_t *r, apr_pool_t *keep)
{
    sgh_warm_t *w = ctx;
    sgh_gen_t *g = apr_pcalloc(keep, sizeof(*g));
    apr_interval_time_t skew, max_age, no_next;

    g->pool = keep;
    g->ptemp = keep;
    g->store_dir = sg_unpack_str(r, keep);
    skew = sg_unpack_time(r);
    max_age = sg_unpack_time(r);
    no_next = sg_unpack_time(r);
    /* a helper judges; it plans and fetches nothing */
    sg_refresh_conf_init(&g->refresh, 0, skew, max_age, no_next, NULL,
                         APR_UNSPEC);
    w->g = g;
    return sg_unpack_done(r);
}

void sgh_warm_serve(pid_t parent)
{
    static sgh_warm_t w;

    sgh_helper_serve(parent, sgh_warm_hello, sgh_warm_job, &w);
}

/* In httpd's thread: an item no helper did. */
static void sgh_warm_here(sgh_warm_t *w, sgh_warm_item_t *it)
{
    sgh_gen_t *g = w->g;

    sgh_warm_work(w, it, sgh_warm_cache(g->pool), g->pool, g->ptemp);
    it->done = 1;
    w->done_here++;
}

/* Processors this process may run on: the helpers are for those that
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

/* The generation's startup state, settled before the first helper
 * starts (the first record it is sent says what it needs of it). */
static sgh_warm_t *sgh_warm_get(sgh_gen_t *g, server_rec *s)
{
    sgh_warm_t *w = g->warm;

    if (w == NULL) {
        w = apr_pcalloc(g->pool, sizeof(*w));
        w->g = g;
        w->items = apr_array_make(g->ptemp, SGH_WARM_ITEMS_INITIAL,
                                  sizeof(sgh_warm_item_t *));
        sgh_store_open(g, s, g->ptemp);
        w->carry = sgh_carry_previous(s);
        g->warm = w;
    }
    return w;
}

/* With the first certificate: the helpers. Without them (one processor,
 * or none could be started) the work is done at once, in the prime
 * hook. httpd's process's own cache is made first, while nothing else
 * uses OpenSSL (loading a configuration into a new library context
 * touches process-wide tables). */
static void sgh_warm_start(sgh_warm_t *w, server_rec *s)
{
    sgh_gen_t *g = w->g;
    int n = sgh_warm_cpus() - 1;
    apr_status_t rv = APR_SUCCESS;
    sg_pack_t hello;

    w->started = 1;
    sgh_warm_cache(g->pool);
    sg_pack_init(&w->job, g->ptemp);
    n = n > SGH_WARM_HELPERS_MAX ? SGH_WARM_HELPERS_MAX : n;
    if (n > 0) {
        sgh_warm_pack_hello(&hello, g);
        rv = sgh_helper_start(&w->h, g->ptemp, n, &hello, sgh_warm_result, w);
    }
    if (n > 0 && (rv != APR_SUCCESS || sgh_helper_count(w->h) < n)) {
        sgh_log(SGH_M_HELPERS, 0, s, rv, "started %d of %d helper processes "
                "for the startup work; httpd's thread does the rest",
                rv == APR_SUCCESS ? sgh_helper_count(w->h) : 0, n);
    }
    if (rv != APR_SUCCESS) {
        w->h = NULL;
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
    it->carried = sgh_carry_find_id(w->carry, e->id, e->id_len);
    if (it->carried != NULL && sgh_carry_der(it->carried) != NULL) {
        it->carried_der = sgh_carry_der(it->carried);
        it->carried_len = sgh_carry_len(it->carried);
    }
    APR_ARRAY_PUSH(w->items, sgh_warm_item_t *) = it;
    if (w->h != NULL) {
        sg_pack_reset(&w->job);
        sgh_warm_pack_job(&w->job, w->items->nelts - 1, it);
        if (sgh_helper_send(w->h, &w->job) == APR_SUCCESS) {
            return;
        }
    }
    sgh_warm_here(w, it);
}

/* Every item done: the helpers' results taken, the rest done here. */
static void sgh_warm_collect(sgh_warm_t *w, server_rec *s)
{
    int i, helpers = w->h ? sgh_helper_count(w->h) : 0, lost = 0;
    apr_time_t waited = apr_time_now();

    /* the part of the start the helpers add: what httpd's thread waits
     * for here, after mod_ssl is done */
    if (w->h != NULL) {
        lost = sgh_helper_finish(w->h);
    }
    waited = apr_time_now() - waited;
    if (lost > 0) {
        sgh_log(SGH_M_HELPER_LOST, 0, s, 0, "%d startup helper process(es) "
                "stopped before their work was done (died, or sent nothing "
                "for 10 s); httpd's thread did the rest", lost);
    }
    for (i = 0; i < w->items->nelts; i++) {
        sgh_warm_item_t *it = APR_ARRAY_IDX(w->items, i, sgh_warm_item_t *);

        if (!it->done) {
            sgh_warm_here(w, it);
        }
    }
    sgh_log(SGH_M_WARM_DONE, 0, s, 0, "startup work for %d certificates: %d "
            "done by %d helper processes, %d in httpd's thread; waited "
            "%" APR_TIME_T_FMT " ms for the helpers' last results",
            w->items->nelts, w->items->nelts - w->done_here, helpers,
            w->done_here, apr_time_as_msec(waited));
}

void sgh_warm_finish(sgh_gen_t *g, server_rec *s)
{
    sgh_warm_t *w = sgh_warm_get(g, s);
    int i;

    sgh_warm_collect(w, s);
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

/* sgh_shared.c: take verified responses from StapleGuardSharedCache and
 * publish fetched ones to it (sgh_shared.h). */
#include <string.h>

#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "sg_store.h"
#include "sgh_config.h"
#include "sgh_log.h"
#include "sgh_msg.h"
#include "sgh_shared.h"
#include "sgh_shared_call.h"
#include "sgh_store.h"

APLOG_USE_MODULE(staple_guard);

/* Hints for the provider (most ignore them). */
#define SGH_SHARED_AVG_OBJECT 2048
#define SGH_SHARED_EXPIRY_INTERVAL apr_time_from_sec(60)
/* Less than this before it expires is not worth publishing: the
 * providers count expiry in whole seconds. */
#define SGH_SHARED_MIN_LIFETIME apr_time_from_sec(2)

/* In shared memory: the fetcher's child writes, every child's status
 * page reads. */
typedef struct {
    apr_uint32_t down;              /* the last call failed */
    apr_time_t retry_at;            /* while down: no call before */
    apr_uint64_t counts[SGH_SHARED_COUNT];
} sgh_shared_shm_t;

struct sgh_shared_t {
    const sgh_shared_conf_t *conf;
    sgh_shared_target_t target;
    sgh_shared_shm_t *shm;
    apr_interval_time_t retry;      /* after a failed call no other is made
                                     * for StapleGuardRetryMin: a cache that
                                     * is down costs one timeout (and one
                                     * line of the provider's) per interval,
                                     * not one per certificate */
    apr_uint32_t *said;             /* per slot, in this process: digest of
                                     * the refused entry logged last */
};

/* An entry read from the cache. */
typedef struct {
    unsigned char der[SG_RESPONSE_MAX];
    unsigned int len;
    sg_verdict_t v;
} sgh_shared_found_t;

static void sgh_shared_count(sgh_shared_t *sh, sgh_shared_counter_t c)
{
    __atomic_add_fetch(&sh->shm->counts[c], 1, __ATOMIC_RELAXED);
}

/* While down, calls wait for retry_at. */
static int sgh_shared_may_call(const sgh_shared_t *sh, apr_time_t now)
{
    return !__atomic_load_n(&sh->shm->down, __ATOMIC_ACQUIRE)
           || now >= __atomic_load_n(&sh->shm->retry_at, __ATOMIC_RELAXED);
}

/* A call failed: one line when sharing stops, not one per call. */
static void sgh_shared_went_down(sgh_shared_t *sh, server_rec *s,
                                 apr_status_t rv, const char *what)
{
    sgh_shared_count(sh, SGH_SHARED_ERRORS);
    __atomic_store_n(&sh->shm->retry_at, apr_time_now() + sh->retry,
                     __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&sh->shm->down, 1u, __ATOMIC_ACQ_REL) == 0) {
        sgh_log(SGH_M_SHARED_DOWN, 0, s, rv, "shared cache %s:%s: %s "
                "failed%s; sharing stops, each certificate is fetched from "
                "its responder here (tried again every %" APR_TIME_T_FMT
                " s)", sh->conf->name, sh->conf->shown, what,
                rv == APR_TIMEUP ? " (no answer within "
                "StapleGuardSharedCacheTimeout)" : "",
                apr_time_sec(sh->retry));
    }
}

/* A call worked. A miss of a retrieve tells nothing: the providers answer
 * "not found" for a server they marked dead, too. */
static void sgh_shared_came_up(sgh_shared_t *sh, server_rec *s)
{
    if (__atomic_exchange_n(&sh->shm->down, 0u, __ATOMIC_ACQ_REL) != 0) {
        sgh_log(SGH_M_SHARED_UP, 0, s, 0, "shared cache %s:%s answers "
                "again; sharing resumes", sh->conf->name, sh->conf->shown);
    }
}

/* "<prefix>:" and the certificate's SHA-256 (never a name from it). */
static const unsigned char *sgh_shared_id(apr_pool_t *p, const sgh_shared_t *sh,
                                          const sg_entry_t *e,
                                          unsigned int *len)
{
    apr_size_t plen = strlen(sh->conf->prefix);
    unsigned char *id = apr_palloc(p, plen + 1 + SG_STORE_HASH_LEN);

    memcpy(id, sh->conf->prefix, plen);
    id[plen] = ':';
    memcpy(id + plen + 1, e->cert->hash_bin, SG_STORE_HASH_LEN);
    *len = (unsigned int)(plen + 1 + SG_STORE_HASH_LEN);
    return id;
}

/* A refused entry is said once: again only when it changes. */
static void sgh_shared_refuse(sgh_shared_t *sh, server_rec *s,
                              const sg_entry_t *e, const sgh_shared_found_t *f,
                              sg_reason_t r, const char *detail)
{
    apr_ssize_t len = f->len;
    apr_uint32_t digest = apr_hashfunc_default((const char *)f->der, &len)
                          | 1u;

    sgh_shared_count(sh, SGH_SHARED_REFUSED);
    if (__atomic_exchange_n(&sh->said[e->slot], digest, __ATOMIC_RELAXED)
        != digest) {
        sgh_log(SGH_M_SHARED_REFUSED, 0, s, 0, "%s: the shared cache's entry "
                "(%u bytes) is refused: %s (%s)%s%s; it is never stapled, "
                "the responder is asked and the entry replaced",
                e->cert->subject, f->len, sg_reason_text(r), sg_reason_id(r),
                detail ? " - " : "", detail ? detail : "");
    }
}

/* Read e's entry. Returns 1 when one was read (f filled). */
static int sgh_shared_read(sgh_shared_t *sh, server_rec *s, apr_pool_t *p,
                           const sg_entry_t *e, apr_interval_time_t timeout,
                           sgh_shared_found_t *f)
{
    const unsigned char *id;
    unsigned int idlen;
    apr_status_t rv;

    id = sgh_shared_id(p, sh, e, &idlen);
    rv = sgh_shared_call_get(&sh->target, id, idlen, f->der, sizeof(f->der),
                             &f->len, timeout);
    if (rv == APR_ENOMEM) {
        /* larger than any response we hold: the provider said no more */
        f->len = 0;
        sgh_shared_refuse(sh, s, e, f, SG_R_TOO_LARGE, "larger than "
                          "SG_RESPONSE_MAX");
    }
    else if (rv == APR_NOTFOUND) {
        sgh_shared_count(sh, SGH_SHARED_MISSES);
    }
    else if (rv != APR_SUCCESS) {
        sgh_shared_went_down(sh, s, rv, "reading");
    }
    else {
        sgh_shared_came_up(sh, s);
    }
    return rv == APR_SUCCESS;
}

/* Look e up and hold what is there when it is valid and newer than what
 * is held. Returns 1 when it was taken. */
static int sgh_shared_lookup(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                             sg_entry_t *e, apr_interval_time_t timeout)
{
    sgh_shared_t *sh = g->shared;
    sgh_shared_found_t *f = apr_palloc(p, sizeof(*f));
    apr_time_t now = apr_time_now();
    sg_reason_t r;

    if (!sgh_shared_read(sh, s, p, e, timeout, f)) {
        return 0;
    }
    /* exactly the rules of a fetched response, "not older than held"
     * among them */
    r = sg_refresh_check(&f->v, p, e, &g->refresh, f->der, f->len, now);
    if (r != SG_R_OK) {
        sgh_shared_refuse(sh, s, e, f, r, f->v.detail);
        return 0;
    }
    if (f->v.this_update <= e->held_this_update) {
        sgh_shared_count(sh, SGH_SHARED_MISSES);    /* ours, or as old */
        return 0;
    }
    r = sg_refresh_take(e, g->table, &g->refresh, f->der, f->len, &f->v,
                        SG_SOURCE_SHARED, NULL, now, sgh_shared_random(g));
    if (r != SG_R_OK) {
        /* not held (no room in shared memory): no hit, nothing stored,
         * and the retry schedule stays as it is */
        sgh_shared_refuse(sh, s, e, f, r, NULL);
        return 0;
    }
    sg_refresh_continue(e, e->next_due, 0);
    sgh_shared_count(sh, SGH_SHARED_HITS);
    sgh_log_adopted(s, p, e, SG_SOURCE_SHARED, SG_R_OK, &f->v);
    sgh_store_save(g, s, p, e, f->der, f->len);
    return 1;
}

int sgh_shared_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                    sg_entry_t *e)
{
    apr_time_t now = apr_time_now();

    if (g->shared == NULL || !sgh_shared_may_call(g->shared, now)
        || !sgh_shared_lookup(g, s, p, e,
                              sgh_config_global()->shared_timeout)) {
        return 0;
    }
    /* a response that is itself due for refresh (a responder whose
     * answers are old already) is held, and asked for anew */
    return e->next_due > apr_time_now();
}

void sgh_shared_publish(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                        const sg_entry_t *e, const unsigned char *der,
                        apr_size_t len, apr_time_t valid_until)
{
    sgh_shared_t *sh = g->shared;
    const unsigned char *id;
    unsigned int idlen;
    apr_status_t rv;

    if (sh == NULL || valid_until - apr_time_now() < SGH_SHARED_MIN_LIFETIME
        || !sgh_shared_may_call(sh, apr_time_now())) {
        return;
    }
    id = sgh_shared_id(p, sh, e, &idlen);
    rv = sgh_shared_call_put(&sh->target, id, idlen, valid_until, der,
                             (unsigned int)len,
                             sgh_config_global()->shared_timeout);
    if (rv == APR_SUCCESS) {
        sgh_shared_count(sh, SGH_SHARED_PUBLISHED);
        sgh_shared_came_up(sh, s);
    }
    else {
        sgh_shared_went_down(sh, s, rv, "writing");
    }
}

/* Certificates that hold nothing valid and have a responder. */
static int sgh_shared_wanted(const sg_entry_t *e, apr_time_t now)
{
    return e->url != NULL && e->held_next_update <= now;
}

void sgh_shared_prime(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + sgh_config_global()->startup;
    apr_interval_time_t timeout;
    apr_pool_t *p;
    int i, wanted = 0, taken = 0;

    if (g->shared == NULL || apr_pool_create(&p, ptemp) != APR_SUCCESS) {
        return;
    }
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);
        apr_time_t now = apr_time_now();

        if (!sgh_shared_wanted(e, now)) {
            continue;
        }
        wanted++;
        timeout = deadline - now;
        if (timeout <= 0 || !sgh_shared_may_call(g->shared, now)) {
            continue;   /* the fetcher asks the responders */
        }
        if (timeout > sgh_config_global()->shared_timeout) {
            timeout = sgh_config_global()->shared_timeout;
        }
        taken += sgh_shared_lookup(g, s, p, e, timeout);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    if (wanted > 0) {
        sgh_log(SGH_M_SHARED_STARTUP, 0, s, 0, "shared cache at startup: %d "
                "of %d certificates without a valid response taken in %"
                APR_TIME_T_FMT " ms", taken, wanted,
                apr_time_as_msec(apr_time_now() - start));
    }
}

double sgh_shared_random(const sgh_gen_t *g)
{
    double rnd = sgh_random();

    return g->shared != NULL ? 0.5 + rnd / 2 : rnd;
}

void sgh_shared_startup_done(sgh_gen_t *g)
{
    if (g->shared != NULL) {
        sgh_shared_call_stop();
    }
}

/* The counters, in shared memory that the children inherit. */
static apr_status_t sgh_shared_shm(sgh_shared_t *sh, apr_pool_t *pool)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(*sh->shm), NULL, pool);

    if (rv == APR_SUCCESS) {
        sh->shm = apr_shm_baseaddr_get(shm);
        memset(sh->shm, 0, sizeof(*sh->shm));
    }
    return rv;
}

/* Whether the provider initialises with this configuration: an instance
 * made for the question alone, in ptemp (each process that uses the cache
 * makes its own, sgh_shared_call.c). */
static apr_status_t sgh_shared_probe(const sgh_shared_target_t *t,
                                     apr_pool_t *ptemp)
{
    ap_socache_instance_t *inst;

    if (t->provider->create(&inst, t->args, ptemp, ptemp) != NULL) {
        return APR_EINVAL;
    }
    return t->provider->init(inst, SGH_SHARED_CNAME, &t->hints, t->s, ptemp);
}

void sgh_shared_open(sgh_gen_t *g, server_rec *s)
{
    const sgh_shared_conf_t *c = sgh_config_global()->shared;
    sgh_shared_t *sh;
    apr_status_t rv;

    if (c == NULL) {
        return;
    }
    sh = apr_pcalloc(g->pool, sizeof(*sh));
    sh->conf = c;
    sh->retry = g->refresh.schedule.retry_min;
    sh->target.provider = c->provider;
    sh->target.args = c->args;
    sh->target.s = s;
    sh->target.hints.avg_id_len = strlen(c->prefix) + 1 + SG_STORE_HASH_LEN;
    sh->target.hints.avg_obj_size = SGH_SHARED_AVG_OBJECT;
    sh->target.hints.expiry_interval = SGH_SHARED_EXPIRY_INTERVAL;
    sh->said = apr_pcalloc(g->pool, sizeof(*sh->said)
                                    * (sg_registry_count(g->reg) + 1));
    rv = sgh_shared_probe(&sh->target, g->ptemp);
    if (rv == APR_SUCCESS) {
        rv = sgh_shared_shm(sh, g->pool);
    }
    if (rv != APR_SUCCESS) {
        sgh_log(SGH_M_SHARED_INIT, 0, s, rv, "the shared cache %s:%s cannot "
                "be initialised; this server works alone",
                c->name, c->shown);
        return;
    }
    g->shared = sh;
}

void sgh_shared_view(const sgh_gen_t *g, sgh_shared_view_t *v)
{
    const sgh_shared_t *sh = g ? g->shared : NULL;
    int i;

    memset(v, 0, sizeof(*v));
    v->conf = sgh_config_global()->shared;
    if (sh == NULL) {
        return;
    }
    v->in_use = 1;
    v->up = !__atomic_load_n(&sh->shm->down, __ATOMIC_RELAXED);
    for (i = 0; i < SGH_SHARED_COUNT; i++) {
        v->counts[i] = __atomic_load_n(&sh->shm->counts[i], __ATOMIC_RELAXED);
    }
}

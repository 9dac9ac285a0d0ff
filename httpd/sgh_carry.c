/* sgh_carry.c: responses survive graceful restarts in the parent. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "sgh_carry.h"
#include "sgh_log.h"

APLOG_USE_MODULE(staple_guard);

#define SGH_CARRY_KEY "staple_guard_carry"

struct sgh_carried_t {
    const char *url;
    sg_slot_info_t info;
    apr_size_t len;
    unsigned char *der;
};

struct sgh_carry_t {
    apr_pool_t *pool;               /* child of the process pool */
    apr_hash_t *by_hash;            /* cert hash -> sgh_carried_t */
    apr_hash_t *by_id;              /* the id httpd primes with -> the
                                     * same, before the certificate is
                                     * parsed */
    apr_uint64_t attempts[SG_R_COUNT];  /* the table's, by result */
    apr_size_t wanted;              /* responses that found no room */
};

typedef struct {
    sgh_gen_t *g;
    apr_pool_t *pproc;
} sgh_carry_ctx_t;

static sgh_carry_t *sgh_carry_get(apr_pool_t *pproc)
{
    void *v = NULL;

    apr_pool_userdata_get(&v, SGH_CARRY_KEY, pproc);
    return v;
}

static apr_status_t sgh_carry_save(void *data)
{
    sgh_carry_ctx_t *ctx = data;
    sgh_gen_t *g = ctx->g;
    sgh_carry_t *old = sgh_carry_get(ctx->pproc);
    sgh_carry_t *c;
    apr_pool_t *pool;
    unsigned char *buf;
    int i;

    /* Without memory for it, the next generation starts from the store;
     * the last one carried is kept. */
    if (apr_pool_create(&pool, ctx->pproc) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->pool = pool;
    c->by_hash = apr_hash_make(pool);
    c->by_id = apr_hash_make(pool);
    buf = apr_palloc(pool, SG_RESPONSE_MAX);
    for (i = 0; i < SG_R_COUNT; i++) {
        c->attempts[i] = sg_table_attempts(g->table, (sg_reason_t)i);
    }
    c->wanted = sg_table_wanted(g->table);
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);
        sgh_carried_t *it = apr_pcalloc(pool, sizeof(*it));

        it->url = e->url ? apr_pstrdup(pool, e->url) : NULL;
        sg_table_get_info(g->table, e->slot, &it->info);
        it->len = sg_table_get(g->table, e->slot, apr_time_now(), buf);
        it->der = it->len ? apr_pmemdup(pool, buf, it->len) : NULL;
        apr_hash_set(c->by_hash, apr_pstrdup(pool, e->cert->hash),
                     APR_HASH_KEY_STRING, it);
        apr_hash_set(c->by_id, apr_pmemdup(pool, e->id, e->id_len),
                     (apr_ssize_t)e->id_len, it);
    }
    apr_pool_userdata_set(c, SGH_CARRY_KEY, apr_pool_cleanup_null, ctx->pproc);
    if (old != NULL) {
        apr_pool_destroy(old->pool);
    }
    return APR_SUCCESS;
}

void sgh_carry_register(sgh_gen_t *g, server_rec *s)
{
    sgh_carry_ctx_t *ctx = apr_pcalloc(g->pool, sizeof(*ctx));

    ctx->g = g;
    ctx->pproc = s->process->pool;
    /* A pre-cleanup, so that it runs while the shared memory (a cleanup
     * of g->pool) and the certificates (in child pools of g->pool, see
     * sgh_warm.c) are still there. */
    apr_pool_pre_cleanup_register(g->pool, ctx, sgh_carry_save);
}

/* Without a response, continue the retry schedule of the last generation
 * so that restarts do not add requests, unless the responder changed. */
static void sgh_carry_schedule(sg_entry_t *e, const sgh_carried_t *it,
                               apr_time_t now)
{
    if (it->info.next_attempt > now && e->url != NULL && it->url != NULL
        && strcmp(e->url, it->url) == 0) {
        sg_refresh_continue(e, it->info.next_attempt, it->info.failures);
    }
}

void sgh_carry_release(server_rec *s)
{
    sgh_carry_t *c = sgh_carry_get(s->process->pool);

    if (c != NULL) {
        apr_pool_userdata_set(NULL, SGH_CARRY_KEY, apr_pool_cleanup_null,
                              s->process->pool);
        apr_pool_destroy(c->pool);
    }
}

const sgh_carry_t *sgh_carry_previous(server_rec *s)
{
    return sgh_carry_get(s->process->pool);
}

apr_size_t sgh_carry_wanted(const sgh_carry_t *c)
{
    return c ? c->wanted : 0;
}

void sgh_carry_counts(const sgh_carry_t *c, sg_table_t *t)
{
    int i;

    for (i = 0; c != NULL && i < SG_R_COUNT; i++) {
        sg_table_count_attempts(t, (sg_reason_t)i, c->attempts[i]);
    }
}

apr_size_t sgh_carry_len(const sgh_carried_t *it)
{
    return it->len;
}

const sgh_carried_t *sgh_carry_find_id(const sgh_carry_t *c, const char *id,
                                       apr_size_t id_len)
{
    return c ? apr_hash_get(c->by_id, id, (apr_ssize_t)id_len) : NULL;
}

const unsigned char *sgh_carry_der(const sgh_carried_t *it)
{
    return it->der;
}

void sgh_carry_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sgh_carried_t *it, sg_reason_t r,
                    const sg_verdict_t *v)
{
    apr_time_t now = apr_time_now();

    sgh_carry_schedule(e, it, now);
    if (it->der == NULL) {
        return;
    }
    if (r == SG_R_OK) {
        r = sg_refresh_take(e, g->table, &g->refresh, it->der, it->len, v,
                            SG_SOURCE_CARRIED, &it->info, now, sgh_random());
    }
    sgh_log_adopted(s, p, e, SG_SOURCE_CARRIED, r, v);
}

void sgh_carry_announce(sgh_gen_t *g, server_rec *s)
{
    const sgh_carry_t *c = sgh_carry_get(s->process->pool);
    int i;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (c == NULL || apr_hash_get(c->by_hash, e->cert->hash,
                                      APR_HASH_KEY_STRING) == NULL) {
            sgh_log_primed(s, e);
        }
    }
}

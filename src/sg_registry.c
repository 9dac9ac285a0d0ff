/* sg_registry.c: de-duplicate certificates on httpd's id. */
#include <string.h>

#include <apr_strings.h>

#include "sg_registry.h"

/* Most certificates serve a handful of names. */
#define SG_REGISTRY_VHOSTS_INITIAL 2
#define SG_REGISTRY_ENTRIES_INITIAL 16

sg_registry_t *sg_registry_create(apr_pool_t *p)
{
    sg_registry_t *reg = apr_pcalloc(p, sizeof(*reg));

    reg->pool = p;
    reg->by_id = apr_hash_make(p);
    reg->entries = apr_array_make(p, SG_REGISTRY_ENTRIES_INITIAL,
                                  sizeof(sg_entry_t *));
    return reg;
}

sg_entry_t *sg_registry_get(const sg_registry_t *reg, const char *id,
                            apr_size_t id_len)
{
    return apr_hash_get(reg->by_id, id, (apr_ssize_t)id_len);
}

sg_entry_t *sg_registry_add(sg_registry_t *reg, const char *id,
                            apr_size_t id_len, sg_cert_t *cert,
                            const char *url)
{
    sg_entry_t *e = apr_pcalloc(reg->pool, sizeof(*e));

    e->id = apr_pmemdup(reg->pool, id, id_len);
    e->id_len = id_len;
    e->cert = cert;
    e->url = url;
    e->vhosts = apr_array_make(reg->pool, SG_REGISTRY_VHOSTS_INITIAL,
                               sizeof(const char *));
    e->slot = reg->entries->nelts;
    e->last_logged = SG_R_COUNT;    /* nothing logged yet */
    APR_ARRAY_PUSH(reg->entries, sg_entry_t *) = e;
    apr_hash_set(reg->by_id, e->id, (apr_ssize_t)id_len, e);
    return e;
}

void sg_registry_add_vhost(sg_entry_t *e, const char *vhost)
{
    int i;

    for (i = 0; i < e->vhosts->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(e->vhosts, i, const char *), vhost) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(e->vhosts, const char *) =
        apr_pstrdup(e->vhosts->pool, vhost);
}

void sg_registry_drop(sg_registry_t *reg, sg_entry_t *e)
{
    sg_entry_t **v = (sg_entry_t **)reg->entries->elts;
    int i, n = reg->entries->nelts;

    if (e->slot < 0 || e->slot >= n || v[e->slot] != e) {
        return;
    }
    apr_hash_set(reg->by_id, e->id, (apr_ssize_t)e->id_len, NULL);
    for (i = e->slot; i < n - 1; i++) {
        v[i] = v[i + 1];
        v[i]->slot = i;
    }
    reg->entries->nelts--;
    e->slot = -1;
}

int sg_registry_count(const sg_registry_t *reg)
{
    return reg->entries->nelts;
}

sg_entry_t *sg_registry_at(const sg_registry_t *reg, int i)
{
    return APR_ARRAY_IDX(reg->entries, i, sg_entry_t *);
}

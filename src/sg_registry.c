/* sg_registry.c: de-duplicate certificates on httpd's id. */
#include <string.h>

#include <apr_strings.h>

#include "sg_registry.h"

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
                            apr_size_t id_len, void *owner)
{
    sg_entry_t *e = apr_pcalloc(reg->pool, sizeof(*e));

    e->id = apr_pmemdup(reg->pool, id, id_len);
    e->id_len = id_len;
    e->owner = owner;
    e->slot = reg->entries->nelts;
    APR_ARRAY_PUSH(reg->entries, sg_entry_t *) = e;
    apr_hash_set(reg->by_id, e->id, (apr_ssize_t)id_len, e);
    return e;
}

void sg_registry_set_cert(sg_entry_t *e, sg_cert_t *cert)
{
    e->cert = cert;
}

void sg_registry_set_url(sg_entry_t *e, const char *url)
{
    e->url = url;
    e->urls = NULL;
}

void sg_registry_set_urls(sg_entry_t *e, const apr_array_header_t *urls)
{
    e->urls = urls;
    e->url = urls->nelts > 0 ? APR_ARRAY_IDX(urls, 0, const char *) : NULL;
}

void sg_registry_set_proxy(sg_entry_t *e, const sg_proxy_t *px)
{
    e->proxy = px;
}

int sg_registry_url_count(const sg_entry_t *e)
{
    return e->urls != NULL ? e->urls->nelts : (e->url != NULL);
}

const char *sg_registry_url_at(const sg_entry_t *e, int i)
{
    return e->urls != NULL ? APR_ARRAY_IDX(e->urls, i, const char *)
                           : e->url;
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

/* sg_registry.h: one entry per certificate, however often httpd primes it
 * (once per virtual host that uses it, again at every restart).
 *
 * Callers read an entry's fields; only core functions change them. */
#ifndef SG_REGISTRY_H
#define SG_REGISTRY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "sg_cert.h"
#include "sg_proxy.h"
#include "sg_reason.h"

typedef struct {
    const char *id;             /* the key httpd primes and asks with */
    apr_size_t id_len;
    void *owner;                /* the caller's record of the certificate;
                                 * never read by the core */
    sg_cert_t *cert;            /* NULL until parsed */
    const char *url;            /* the first responder to ask, or NULL */
    const apr_array_header_t *urls; /* all, in order (const char *); NULL:
                                     * url alone */
    const sg_proxy_t *proxy;    /* to reach them through, or NULL */
    int slot;                   /* index in the shared table */

    /* Fetcher-side schedule; only the process that fetches touches it. */
    apr_time_t next_due;
    int failures;
    int force_post;             /* last answer was an error fetched by GET */
    apr_time_t held_this_update;
    apr_time_t held_next_update;
} sg_entry_t;

typedef struct {
    apr_pool_t *pool;
    apr_hash_t *by_id;
    apr_array_header_t *entries;    /* sg_entry_t *, in slot order */
} sg_registry_t;

sg_registry_t *sg_registry_create(apr_pool_t *p);

sg_entry_t *sg_registry_get(const sg_registry_t *reg, const char *id,
                            apr_size_t id_len);

/* Add a certificate under id, with the caller's record of it; returns the
 * new entry (slot = its index). */
sg_entry_t *sg_registry_add(sg_registry_t *reg, const char *id,
                            apr_size_t id_len, void *owner);

/* The parsed certificate. Safe in any thread for an entry no other thread
 * touches. */
void sg_registry_set_cert(sg_entry_t *e, sg_cert_t *cert);

/* The responder to ask (NULL: none). url must live as long as e. */
void sg_registry_set_url(sg_entry_t *e, const char *url);

/* The responders to ask, in order, each when the one before fails (an
 * empty array: none). urls must live as long as e. */
void sg_registry_set_urls(sg_entry_t *e, const apr_array_header_t *urls);

/* The proxy to ask e's responders through (NULL: direct). px must live
 * as long as e. */
void sg_registry_set_proxy(sg_entry_t *e, const sg_proxy_t *px);

/* How many responders e has, and the i-th of them. */
int sg_registry_url_count(const sg_entry_t *e);
const char *sg_registry_url_at(const sg_entry_t *e, int i);

/* Forget e (a certificate that turned out unusable); the entries after it
 * move down one slot. Only before the shared table is made. */
void sg_registry_drop(sg_registry_t *reg, sg_entry_t *e);

int sg_registry_count(const sg_registry_t *reg);
sg_entry_t *sg_registry_at(const sg_registry_t *reg, int i);

#endif

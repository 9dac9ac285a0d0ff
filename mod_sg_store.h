/* mod_sg_store.h: the persistent store, from httpd's side: where it is,
 * who owns it, loading at startup, saving after each fetch. */
#ifndef MOD_SG_STORE_H
#define MOD_SG_STORE_H

#include "mod_staple_guard.h"

/* Settle the directory, or go memory only (g->store_dir NULL). */
void sg_store_open(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* What the store holds for e, read and validated. */
typedef struct {
    int present;                    /* there is a file */
    const char *refused;            /* why it cannot be used, or NULL */
    const unsigned char *der;       /* when not refused */
    apr_size_t len;
    sg_verdict_t verdict;
} sg_store_found_t;

/* Read e's file and validate it; allocates from p. Has no side effects
 * and logs nothing, so it may run in any thread. */
void sg_store_check(sg_store_found_t *f, const sg_gen_t *g, apr_pool_t *p,
                    const sg_entry_t *e, apr_time_t now);

/* Refuse what sg_store_check found, for validation reason r. */
void sg_store_refuse_for(sg_store_found_t *f, apr_pool_t *p, sg_reason_t r);

/* In httpd's thread, once the table exists: hold what sg_store_check
 * accepted, or set a refused file aside; log either. */
void sg_store_take(sg_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                   const sg_store_found_t *f);

/* Remove the files of certificates no longer configured for a while. */
void sg_store_prune_unused(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* After a response was fetched and validated: keep it on disk. */
void sg_store_save(sg_gen_t *g, server_rec *s, apr_pool_t *p,
                   const sg_entry_t *e, const unsigned char *der,
                   apr_size_t len);

#endif

/* sgh_store.h: the persistent store, from httpd's side: where it is,
 * who owns it, loading at startup, saving after each fetch. */
#ifndef SGH_STORE_H
#define SGH_STORE_H

#include "sgh_gen.h"

/* Settle the directory, or go memory only (g->store_dir NULL). */
void sgh_store_open(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* What the store holds for e, read and validated. */
typedef struct {
    int present;                    /* there is a file */
    const char *refused;            /* why it cannot be used, or NULL */
    const unsigned char *der;       /* when not refused */
    apr_size_t len;
    sg_verdict_t verdict;
} sgh_store_found_t;

/* Read e's file and validate it; allocates from p. Has no side effects
 * and logs nothing, so it may run in any thread. */
void sgh_store_check(sgh_store_found_t *f, const sgh_gen_t *g, apr_pool_t *p,
                     const sg_entry_t *e, apr_time_t now);

/* Refuse what sgh_store_check found, for validation reason r. */
void sgh_store_refuse_for(sgh_store_found_t *f, apr_pool_t *p, sg_reason_t r);

/* In httpd's thread, once the table exists: hold what sgh_store_check
 * accepted, or set a refused file aside; log either. */
void sgh_store_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sgh_store_found_t *f);

/* Remove the files of certificates no longer configured for a while. */
void sgh_store_prune_unused(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* After a response was fetched and validated: keep it on disk. */
void sgh_store_save(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                    const sg_entry_t *e, const unsigned char *der,
                    apr_size_t len);

#endif

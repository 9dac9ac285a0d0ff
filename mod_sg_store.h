/* mod_sg_store.h: the persistent store, from httpd's side: where it is,
 * who owns it, loading at startup, saving after each fetch. */
#ifndef MOD_SG_STORE_H
#define MOD_SG_STORE_H

#include "mod_staple_guard.h"

/* In post_config: settle the directory (or go memory only), load the
 * responses of certificates that hold none yet, prune old files. */
void sg_store_startup(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* After a response was fetched and validated: keep it on disk. */
void sg_store_save(sg_gen_t *g, server_rec *s, apr_pool_t *p,
                   const sg_entry_t *e, const unsigned char *der,
                   apr_size_t len);

#endif

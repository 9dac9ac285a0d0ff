/* sgh_warm.h: the startup work for each certificate, done beside
 * mod_ssl's own: parse it, and validate what the last generation or the
 * store held for it. */
#ifndef SGH_WARM_H
#define SGH_WARM_H

#include <unistd.h>

#include "sgh_gen.h"

/* From the prime hook, for a certificate seen for the first time in this
 * generation (e->cert is still NULL): hand it to the helpers. pem must
 * live until sgh_warm_finish; it is copied. */
void sgh_warm_prime(sgh_gen_t *g, server_rec *s, sg_entry_t *e,
                    const char *pem);

/* In a helper process (StapleGuardStartupHelper): do the work httpd's
 * process parent sends, then _exit. Never returns. */
void sgh_warm_serve(pid_t parent);

/* In post_config, before the table is made: wait for the helpers, drop
 * the certificates that could not be parsed (logged), settle each
 * entry's responder URL. */
void sgh_warm_finish(sgh_gen_t *g, server_rec *s);

/* After sgh_warm_finish: bytes of the responses found valid,
 * which the table is sized for. */
apr_size_t sgh_warm_held(const sgh_gen_t *g);

/* Once the table exists: hold what was found valid, carried over
 * a graceful restart first, else from the store; log what was refused. */
void sgh_warm_adopt(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

#endif

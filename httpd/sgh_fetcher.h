/* sgh_fetcher.h: who fetches, and when: the parent at startup (within
 * StapleGuardStartupTimeout), then one child's watchdog,
 * chosen by a lock. */
#ifndef SGH_FETCHER_H
#define SGH_FETCHER_H

#include "sgh_gen.h"

/* In the parent, before children start: fetch what is missing. */
void sgh_fetcher_prefetch(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* In pre_config: name the fetcher's lock, for the Mutex directive. */
void sgh_fetcher_register(apr_pool_t *pconf);

/* Register the background refresh with mod_watchdog, and create the lock
 * which decides the one child that runs it. */
void sgh_fetcher_start(sgh_gen_t *g, server_rec *s, apr_pool_t *pconf);

/* In each new child: attach to that lock. */
void sgh_fetcher_child_init(sgh_gen_t *g, apr_pool_t *pchild);

#endif

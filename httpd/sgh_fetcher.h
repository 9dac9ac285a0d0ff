/* sgh_fetcher.h: who fetches, and when: the parent at startup (within
 * StapleGuardStartupTimeout), then one singleton watchdog for the server. */
#ifndef SGH_FETCHER_H
#define SGH_FETCHER_H

#include "sgh_gen.h"

/* In the parent, before children start: fetch what is missing. */
void sgh_fetcher_prefetch(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* Register the background refresh with mod_watchdog. */
void sgh_fetcher_start(sgh_gen_t *g, server_rec *s, apr_pool_t *pconf);

#endif

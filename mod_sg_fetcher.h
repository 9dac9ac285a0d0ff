/* mod_sg_fetcher.h: who fetches, and when: the parent at startup (within
 * StapleGuardStartupTimeout), then one singleton watchdog for the server. */
#ifndef MOD_SG_FETCHER_H
#define MOD_SG_FETCHER_H

#include "mod_staple_guard.h"

/* In the parent, before children start: fetch what is missing. */
void sg_fetcher_prefetch(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* Register the background refresh with mod_watchdog. */
void sg_fetcher_start(sg_gen_t *g, server_rec *s, apr_pool_t *pconf);

#endif

/* mod_sg_config.h: the directives and the configuration they build. */
#ifndef MOD_SG_CONFIG_H
#define MOD_SG_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "sg_schedule.h"

#define SG_UNSET (-1)

/* Per server (virtual host). */
typedef struct {
    int enabled;                    /* StapleGuard, SG_UNSET = inherit */
    const char *responder_url;      /* StapleGuardResponderURL */
} sg_srv_conf_t;

/* Server-wide: one fetcher serves all virtual hosts. */
typedef struct {
    int timeout;                    /* StapleGuardResponderTimeout, s */
    apr_interval_time_t skew;       /* StapleGuardClockSkew */
    apr_interval_time_t startup;    /* StapleGuardStartupTimeout */
    sg_schedule_conf_t schedule;    /* StapleGuardRefreshAt, RetryMin/Max */
    apr_interval_time_t warn_before;    /* StapleGuardWarnBefore */
    int concurrency;                /* StapleGuardFetchConcurrency */
    const char *store_dir;          /* StapleGuardStoreDir; NULL = default,
                                     * "" = none (memory only) */
} sg_global_conf_t;

/* At most this many fetches from one responder host at once: a CA is
 * one host (or one CDN name) for all of its certificates. */
#define SG_FETCH_PER_HOST 2

/* Relative to DefaultRuntimeDir when StapleGuardStoreDir is not given. */
#define SG_STORE_DEFAULT_NAME "staple-guard"

extern const command_rec sg_config_cmds[];

void *sg_config_create_srv(apr_pool_t *p, server_rec *s);
void *sg_config_merge_srv(apr_pool_t *p, void *basev, void *addv);

sg_srv_conf_t *sg_config_srv(server_rec *s);
int sg_config_enabled(server_rec *s);

/* The server-wide settings, with defaults for what was not given. */
const sg_global_conf_t *sg_config_global(void);

/* Reset the server-wide settings before a configuration is read. */
void sg_config_reset(void);

#endif

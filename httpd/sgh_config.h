/* sgh_config.h: the directives and the configuration they build. */
#ifndef SGH_CONFIG_H
#define SGH_CONFIG_H

#include <sys/types.h>

#include <httpd.h>
#include <http_config.h>

#include "sg_fetch.h"
#include "sg_schedule.h"

#define SGH_UNSET (-1)

/* Per server (virtual host). */
typedef struct {
    int enabled;                    /* StapleGuard, SGH_UNSET = inherit */
    const char *responder_url;      /* StapleGuardResponderURL */
    const sg_proxy_t *proxy;  /* StapleGuardProxy */
    apr_array_header_t *bypass;     /* StapleGuardProxyBypass */
} sgh_srv_conf_t;

/* Per directory (<Location> of the status page). */
typedef struct {
    int status_actions;             /* StapleGuardStatusActions, SGH_UNSET */
} sgh_dir_conf_t;

/* StapleGuardSharedCache, as parsed (sgh_shared.h). */
struct sgh_shared_conf_t;

/* Server-wide: one fetcher serves all virtual hosts. */
typedef struct {
    apr_interval_time_t timeout;    /* StapleGuardResponderTimeout */
    apr_interval_time_t skew;       /* StapleGuardClockSkew */
    apr_interval_time_t max_age;    /* StapleGuardMaxAge */
    apr_interval_time_t no_next_lifetime; /* StapleGuardNoNextUpdateLifetime */
    apr_interval_time_t startup;    /* StapleGuardStartupTimeout */
    sg_schedule_conf_t schedule;    /* StapleGuardRefreshAt, RetryMin/Max */
    apr_interval_time_t warn_before;    /* StapleGuardWarnBefore */
    int concurrency;                /* StapleGuardFetchConcurrency */
    apr_interval_time_t event_timeout;  /* StapleGuardEventTimeout */
    apr_interval_time_t event_interval; /* StapleGuardEventInterval */
    const char *event_command;      /* StapleGuardEventCommand, or NULL */
    int family;                     /* StapleGuardAddressFamily: APR_* */
    const char *store_dir;          /* StapleGuardStoreDir; NULL = default,
                                     * "" = none (memory only) */
    apr_interval_time_t shared_timeout; /* StapleGuardSharedCacheTimeout */
    const struct sgh_shared_conf_t *shared; /* StapleGuardSharedCache, or
                                     * NULL (sgh_shared.h) */
} sgh_global_conf_t;

/* At most this many fetches from one responder host at once: a CA is
 * one host (or one CDN name) for all of its certificates. */
#define SGH_FETCH_PER_HOST 2

/* Relative to DefaultRuntimeDir when StapleGuardStoreDir is not given. */
#define SGH_STORE_DEFAULT_NAME "staple-guard"

extern const command_rec sgh_config_cmds[];

void *sgh_config_create_srv(apr_pool_t *p, server_rec *s);
void *sgh_config_merge_srv(apr_pool_t *p, void *basev, void *addv);

void *sgh_config_create_dir(apr_pool_t *p, char *dir);
void *sgh_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* Whether StapleGuardStatusActions is On where r is served. */
int sgh_config_status_actions(request_rec *r);

sgh_srv_conf_t *sgh_config_srv(server_rec *s);
int sgh_config_enabled(server_rec *s);

/* The server-wide settings, with defaults for what was not given. */
const sgh_global_conf_t *sgh_config_global(void);

/* StapleGuardResponderTimeout in whole seconds, as OpenSSL's HTTP client
 * counts them (rounded up). */
int sgh_config_timeout_sec(void);

/* s's StapleGuardProxy with its StapleGuardProxyBypass list, made in p;
 * NULL when s has no proxy. */
const sg_proxy_t *sgh_config_proxy(apr_pool_t *p, server_rec *s);

/* What StapleGuardStartupHelper PID does when it is read: serve PID, and
 * never return; or return why this process may not (the directive's
 * error). Given by the hook file, which knows the startup work. */
typedef const char *sgh_config_helper_fn(pid_t parent);
void sgh_config_on_helper(sgh_config_helper_fn *serve);

/* StapleGuardSharedCache's arguments: provider:args and an optional
 * prefix (NULL: the default), parsed by sgh_shared_conf.c (the type is in
 * sgh_shared.h). Returns the error to show, naming the directive, or NULL
 * and *out. */
const char *sgh_shared_parse(const struct sgh_shared_conf_t **out,
                             cmd_parms *cmd, const char *spec,
                             const char *prefix);

/* Reset the server-wide settings before a configuration is read. */
void sgh_config_reset(void);

/* After the whole configuration is read: what no single directive can
 * check (logged, and the start refused). */
apr_status_t sgh_config_check(server_rec *s);

#endif

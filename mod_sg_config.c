/* mod_sg_config.c: directives, checked when the configuration is read so
 * that `apache2 -t` reports a bad value with the directive's name. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_sg_config.h"

extern module AP_MODULE_DECLARE_DATA staple_guard_module;

#define SG_SEC_US APR_USEC_PER_SEC

/* Defaults and accepted ranges, all in seconds unless named otherwise. */
#define SG_TIMEOUT_DEFAULT      10
#define SG_TIMEOUT_MIN          1
#define SG_TIMEOUT_MAX          300
#define SG_SKEW_DEFAULT         300
#define SG_SKEW_MAX             86400
#define SG_STARTUP_DEFAULT      10
#define SG_STARTUP_MAX          600
#define SG_REFRESH_DEFAULT      50      /* percent */
#define SG_REFRESH_MIN          10
#define SG_REFRESH_MAX          90
#define SG_RETRY_MIN_DEFAULT    60
#define SG_RETRY_MAX_DEFAULT    3600
#define SG_RETRY_LOWEST         1
#define SG_RETRY_HIGHEST        86400
#define SG_WARN_DEFAULT         (6 * 3600)
#define SG_CONCURRENCY_DEFAULT  4
#define SG_CONCURRENCY_MAX      64
#define SG_WARN_MAX             (10 * 86400)

static sg_global_conf_t sg_global;

void sg_config_reset(void)
{
    sg_global.timeout = SG_TIMEOUT_DEFAULT;
    sg_global.skew = apr_time_from_sec(SG_SKEW_DEFAULT);
    sg_global.startup = apr_time_from_sec(SG_STARTUP_DEFAULT);
    sg_global.schedule.refresh_percent = SG_REFRESH_DEFAULT;
    sg_global.schedule.retry_min = apr_time_from_sec(SG_RETRY_MIN_DEFAULT);
    sg_global.schedule.retry_max = apr_time_from_sec(SG_RETRY_MAX_DEFAULT);
    sg_global.store_dir = NULL;
    sg_global.warn_before = apr_time_from_sec(SG_WARN_DEFAULT);
    sg_global.concurrency = SG_CONCURRENCY_DEFAULT;
}

const sg_global_conf_t *sg_config_global(void)
{
    return &sg_global;
}

void *sg_config_create_srv(apr_pool_t *p, server_rec *s)
{
    sg_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->enabled = SG_UNSET;
    return c;
}

void *sg_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    sg_srv_conf_t *base = basev, *add = addv;
    sg_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = (add->enabled != SG_UNSET) ? add->enabled : base->enabled;
    c->responder_url = add->responder_url ? add->responder_url
                                          : base->responder_url;
    return c;
}

sg_srv_conf_t *sg_config_srv(server_rec *s)
{
    return ap_get_module_config(s->module_config, &staple_guard_module);
}

/* Loading the module is the opt-in: on unless a server says Off. */
int sg_config_enabled(server_rec *s)
{
    return sg_config_srv(s)->enabled != 0;
}

/* Parse whole seconds (or a value with a unit that httpd's timeouts accept:
 * ms, s, mi, h) and check the range. */
static const char *sg_config_seconds(cmd_parms *cmd, const char *arg,
                                     apr_interval_time_t lo,
                                     apr_interval_time_t hi,
                                     apr_interval_time_t *out)
{
    apr_interval_time_t t;

    if (ap_timeout_parameter_parse(arg, &t, "s") != APR_SUCCESS
        || t < apr_time_from_sec(lo) || t > apr_time_from_sec(hi)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a time between "
                            "%" APR_TIME_T_FMT " and %" APR_TIME_T_FMT
                            " seconds", cmd->cmd->name, arg, lo, hi);
    }
    *out = t;
    return NULL;
}

/* Parse a whole number (with a trailing "%" when percent) and check the
 * range. */
static const char *sg_config_int(cmd_parms *cmd, const char *arg, long lo,
                                 long hi, int percent, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (end == arg || (*end != '\0' && !(percent && *end == '%'
                                          && end[1] == '\0'))
        || v < lo || v > hi) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a %s between %ld "
                            "and %ld", cmd->cmd->name, arg,
                            percent ? "percentage" : "number", lo, hi);
    }
    *out = (int)v;
    return NULL;
}

static const char *sg_config_global_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

static const char *sg_cmd_enable(cmd_parms *cmd, void *dc, int flag)
{
    (void)dc;
    sg_config_srv(cmd->server)->enabled = flag;
    return NULL;
}

static const char *sg_cmd_url(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (ap_cstr_casecmpn(arg, "http://", sizeof("http://") - 1) != 0
        || arg[sizeof("http://") - 1] == '\0') {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an http:// URL "
                            "(https:// responders are not supported)",
                            cmd->cmd->name, arg);
    }
    sg_config_srv(cmd->server)->responder_url = arg;
    return NULL;
}

static const char *sg_cmd_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_interval_time_t t = 0;
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    if (err == NULL) {
        err = sg_config_seconds(cmd, arg, SG_TIMEOUT_MIN, SG_TIMEOUT_MAX, &t);
    }
    if (err == NULL) {
        /* OpenSSL's HTTP client counts whole seconds; round up. */
        sg_global.timeout = (int)((t + SG_SEC_US - 1) / SG_SEC_US);
    }
    return err;
}

static const char *sg_cmd_skew(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_seconds(cmd, arg, 0, SG_SKEW_MAX,
                                         &sg_global.skew);
}

static const char *sg_cmd_startup(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_seconds(cmd, arg, 0, SG_STARTUP_MAX,
                                         &sg_global.startup);
}

static const char *sg_cmd_refresh(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_int(cmd, arg, SG_REFRESH_MIN, SG_REFRESH_MAX,
                                     1, &sg_global.schedule.refresh_percent);
}

static const char *sg_cmd_retry_min(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_seconds(cmd, arg, SG_RETRY_LOWEST,
                                         SG_RETRY_HIGHEST,
                                         &sg_global.schedule.retry_min);
}

static const char *sg_cmd_retry_max(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_seconds(cmd, arg, SG_RETRY_LOWEST,
                                         SG_RETRY_HIGHEST,
                                         &sg_global.schedule.retry_max);
}

static const char *sg_cmd_warn(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_seconds(cmd, arg, 0, SG_WARN_MAX,
                                         &sg_global.warn_before);
}

static const char *sg_cmd_concurrency(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    return err ? err : sg_config_int(cmd, arg, 1, SG_CONCURRENCY_MAX, 0,
                                     &sg_global.concurrency);
}

static const char *sg_cmd_store(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_config_global_only(cmd);

    (void)dc;
    if (err != NULL) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "none") == 0) {
        sg_global.store_dir = "";
    }
    else {
        sg_global.store_dir = ap_server_root_relative(cmd->pool, arg);
        if (sg_global.store_dir == NULL) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid path",
                                cmd->cmd->name, arg);
        }
    }
    return NULL;
}

const command_rec sg_config_cmds[] = {
    AP_INIT_FLAG("StapleGuard", sg_cmd_enable, NULL, RSRC_CONF,
                 "On|Off: provide OCSP stapling for this server's "
                 "certificates (default On)"),
    AP_INIT_TAKE1("StapleGuardResponderURL", sg_cmd_url, NULL, RSRC_CONF,
                  "http:// URL used instead of the certificates' own "
                  "OCSP URL"),
    AP_INIT_TAKE1("StapleGuardResponderTimeout", sg_cmd_timeout, NULL,
                  RSRC_CONF, "seconds for a whole exchange with a responder "
                  "(1-300, default 10)"),
    AP_INIT_TAKE1("StapleGuardClockSkew", sg_cmd_skew, NULL, RSRC_CONF,
                  "seconds a response's thisUpdate may lie in the future "
                  "(0-86400, default 300)"),
    AP_INIT_TAKE1("StapleGuardStartupTimeout", sg_cmd_startup, NULL,
                  RSRC_CONF, "seconds startup may wait for missing responses "
                  "before fetching goes on in the background "
                  "(0-600, default 10)"),
    AP_INIT_TAKE1("StapleGuardRefreshAt", sg_cmd_refresh, NULL, RSRC_CONF,
                  "percent of a response's validity after which it is "
                  "refreshed (10-90, default 50)"),
    AP_INIT_TAKE1("StapleGuardRetryMin", sg_cmd_retry_min, NULL, RSRC_CONF,
                  "seconds before the first retry after a failure "
                  "(1-86400, default 60)"),
    AP_INIT_TAKE1("StapleGuardRetryMax", sg_cmd_retry_max, NULL, RSRC_CONF,
                  "longest delay between retries (1-86400, default 3600)"),
    AP_INIT_TAKE1("StapleGuardWarnBefore", sg_cmd_warn, NULL, RSRC_CONF,
                  "warn when the held response expires within this time "
                  "and cannot be refreshed (0-864000 s, default 6 h)"),
    AP_INIT_TAKE1("StapleGuardFetchConcurrency", sg_cmd_concurrency, NULL,
                  RSRC_CONF, "most fetches running at once (1-64, default "
                  "4; at most 2 of them to one responder host)"),
    AP_INIT_TAKE1("StapleGuardStoreDir", sg_cmd_store, NULL, RSRC_CONF,
                  "directory that keeps responses across restarts, or "
                  "'none' (default: staple-guard in DefaultRuntimeDir)"),
    { NULL }
};

/* sgh_config.c: directives, checked when the configuration is read so
 * that `apache2 -t` reports a bad value with the directive's name. */
#include <stddef.h>
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>

#include "sg_proxy.h"
#include "sg_text.h"
#include "sg_url.h"
#include "sgh_config.h"
#include "sgh_crl_conf.h"
#include "sgh_msg.h"

APLOG_USE_MODULE(staple_guard);

/* The numeric directives, declared once: name, kind, the field of
 * sgh_global_conf_t it sets, the accepted range and the default (seconds
 * for SECONDS, percent for PERCENT), and what it does. The command table,
 * the help strings (which get the range and the default appended), the
 * defaults and the range checks all follow from these rows, and
 * t/12-docs.t checks docs/directives.md against them.
 * The highest MaxAge (10 days) and NoNextUpdateLifetime (1 day) are what
 * Firefox accepts (sg_validate.h): a longer one would only staple what it
 * ignores. A MaxAge under an hour would refuse what CDNs serve (responses
 * some hours old); a lifetime under a minute leaves no time to refresh. */
#define SGH_NUMERIC_DIRECTIVES(X)                                            \
    X(StapleGuardResponderTimeout, SECONDS, timeout, 1, 300, 10,             \
      "time for a whole exchange with a responder")                         \
    X(StapleGuardClockSkew, SECONDS, skew, 0, 86400, 300,                    \
      "how far a response's thisUpdate may lie in the future")              \
    X(StapleGuardMaxAge, SECONDS, max_age, 3600, 864000, 864000,            \
      "longest a response is stapled after its thisUpdate, whatever its "   \
      "nextUpdate says")                                                    \
    X(StapleGuardNoNextUpdateLifetime, SECONDS, no_next_lifetime, 60, 86400, \
      86400, "how long a response without nextUpdate is stapled after its " \
      "thisUpdate")                                                         \
    X(StapleGuardStartupTimeout, SECONDS, startup, 0, 600, 10,               \
      "how long startup may wait for missing responses before fetching "    \
      "goes on in the background")                                          \
    X(StapleGuardRefreshAt, PERCENT, schedule.refresh_percent, 10, 90, 50,   \
      "share of a response's validity after which it is refreshed")         \
    X(StapleGuardRetryMin, SECONDS, schedule.retry_min, 1, 86400, 60,        \
      "delay before the first retry after a failure")                       \
    X(StapleGuardRetryMax, SECONDS, schedule.retry_max, 1, 86400, 3600,      \
      "longest delay between retries")                                      \
    X(StapleGuardWarnBefore, SECONDS, warn_before, 0, 864000, 21600,         \
      "warn when the held response expires within this time and cannot "    \
      "be refreshed")                                                       \
    X(StapleGuardFetchConcurrency, NUMBER, concurrency, 1, 64, 4,            \
      "most fetches running at once, at most 2 of them to one responder "   \
      "host")                                                               \
    X(StapleGuardEventTimeout, SECONDS, event_timeout, 1, 300, 10,           \
      "how long a StapleGuardEventCommand may run before it is killed")     \
    X(StapleGuardEventInterval, SECONDS, event_interval, 0, 86400, 3600,     \
      "least time between two runs of StapleGuardEventCommand for the "     \
      "same certificate and event")                                         \
    X(StapleGuardSharedCacheTimeout, SECONDS, shared_timeout, 1, 30, 1,      \
      "longest wait for one answer of StapleGuardSharedCache")

typedef enum { SGH_SECONDS, SGH_PERCENT, SGH_NUMBER } sgh_kind_t;

/* What the kinds say after a number in help strings. */
#define SGH_UNIT_SECONDS " s"
#define SGH_UNIT_PERCENT "%"
#define SGH_UNIT_NUMBER ""

typedef struct {
    sgh_kind_t kind;
    apr_size_t offset;          /* in sgh_global_conf_t */
    long lo, hi, def;
} sgh_directive_t;

#define SGH_DIRECTIVE_ENUM(name, kind, field, lo, hi, def, help) SGH_D_##name,
enum { SGH_NUMERIC_DIRECTIVES(SGH_DIRECTIVE_ENUM) SGH_D_COUNT };

#define SGH_DIRECTIVE_ROW(name, kind, field, lo, hi, def, help)              \
    [SGH_D_##name] = { SGH_##kind, offsetof(sgh_global_conf_t, field),       \
                       lo, hi, def },
static const sgh_directive_t sgh_directives[SGH_D_COUNT] = {
    SGH_NUMERIC_DIRECTIVES(SGH_DIRECTIVE_ROW)
};

static sgh_global_conf_t sgh_global;
/* Which numeric directives the configuration wrote (the others have their
 * default): a check across two of them blames only what was written. */
static int sgh_given[SGH_D_COUNT];

extern module AP_MODULE_DECLARE_DATA staple_guard_module;

static void *sgh_config_field(const sgh_directive_t *d)
{
    return (char *)&sgh_global + d->offset;
}

/* The field's unit per unit of the row's numbers. */
static apr_interval_time_t sgh_config_scale(const sgh_directive_t *d)
{
    return d->kind == SGH_SECONDS ? APR_USEC_PER_SEC : 1;
}

/* v in the field's unit. */
static void sgh_config_set(const sgh_directive_t *d, apr_interval_time_t v)
{
    if (d->kind == SGH_SECONDS) {
        *(apr_interval_time_t *)sgh_config_field(d) = v;
    }
    else {
        *(int *)sgh_config_field(d) = (int)v;
    }
}

void sgh_config_reset(void)
{
    int i;

    for (i = 0; i < SGH_D_COUNT; i++) {
        const sgh_directive_t *d = &sgh_directives[i];

        sgh_config_set(d, d->def * sgh_config_scale(d));
        sgh_given[i] = 0;
    }
    sgh_global.store_dir = NULL;
    sgh_global.family = APR_UNSPEC;
    sgh_global.event_command = NULL;
    sgh_global.shared = NULL;
    sgh_crl_conf_reset();
}

const sgh_global_conf_t *sgh_config_global(void)
{
    return &sgh_global;
}

int sgh_config_timeout_sec(void)
{
    return (int)((sgh_global.timeout + APR_USEC_PER_SEC - 1)
                 / APR_USEC_PER_SEC);
}

static apr_status_t sgh_config_check_retry(server_rec *s)
{
    const sg_schedule_conf_t *sc = &sgh_global.schedule;

    if (sc->retry_min > sc->retry_max) {
        sgh_log(SGH_M_RETRY_ORDER, 0, s, 0, "StapleGuardRetryMin (%"
                APR_TIME_T_FMT " s) is larger than StapleGuardRetryMax (%"
                APR_TIME_T_FMT " s)", apr_time_sec(sc->retry_min),
                apr_time_sec(sc->retry_max));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* A response without nextUpdate is refreshed no sooner than RetryMin
 * after it was fetched, and retried no sooner than RetryMin after a failed
 * refresh: a lifetime of this many RetryMin leaves room, at the default
 * StapleGuardRefreshAt (half of it), for the refresh and one retry. */
#define SGH_LIFETIME_RETRY_MIN_FACTOR 4

/* Refused when StapleGuardNoNextUpdateLifetime was written too short for
 * StapleGuardRetryMin; only said when the lifetime is the default, which
 * is the longest allowed: then no lifetime would do, only a shorter
 * RetryMin, and only responses without nextUpdate are concerned. */
static apr_status_t sgh_config_check_lifetime(server_rec *s)
{
    apr_interval_time_t life = sgh_global.no_next_lifetime;
    apr_interval_time_t floor = SGH_LIFETIME_RETRY_MIN_FACTOR
                                * sgh_global.schedule.retry_min;
    int given = sgh_given[SGH_D_StapleGuardNoNextUpdateLifetime];
    apr_status_t rv = APR_SUCCESS;

    if (life < floor) {
        sgh_log(SGH_M_LIFETIME_SHORT, given, s, 0,
                "StapleGuardNoNextUpdateLifetime (%" APR_TIME_T_FMT " s%s) "
                "is less than %d times StapleGuardRetryMin (%" APR_TIME_T_FMT
                " s): a response without nextUpdate would expire before its "
                "refresh could be retried", apr_time_sec(life),
                given ? "" : ", the default", SGH_LIFETIME_RETRY_MIN_FACTOR,
                apr_time_sec(sgh_global.schedule.retry_min));
        rv = given ? APR_EINVAL : APR_SUCCESS;
    }
    return rv;
}

apr_status_t sgh_config_check(server_rec *s)
{
    apr_status_t rv = sgh_config_check_retry(s);

    if (rv == APR_SUCCESS) {
        rv = sgh_config_check_lifetime(s);
    }
    return rv;
}

void *sgh_config_create_srv(apr_pool_t *p, server_rec *s)
{
    sgh_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->enabled = SGH_UNSET;
    return c;
}

void *sgh_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    sgh_srv_conf_t *base = basev, *add = addv;
    sgh_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = (add->enabled != SGH_UNSET) ? add->enabled : base->enabled;
    c->responder_url = add->responder_url ? add->responder_url
                                          : base->responder_url;
    c->proxy = add->proxy ? add->proxy : base->proxy;
    c->bypass = add->bypass ? add->bypass : base->bypass;
    return c;
}

void *sgh_config_create_dir(apr_pool_t *p, char *dir)
{
    sgh_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->status_actions = SGH_UNSET;
    return c;
}

void *sgh_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    sgh_dir_conf_t *base = basev, *add = addv;
    sgh_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->status_actions = (add->status_actions != SGH_UNSET)
                        ? add->status_actions : base->status_actions;
    return c;
}

/* Off unless a <Location> says On: a page that changes something must be
 * asked for. */
int sgh_config_status_actions(request_rec *r)
{
    const sgh_dir_conf_t *c = ap_get_module_config(r->per_dir_config,
                                                   &staple_guard_module);

    return c != NULL && c->status_actions == 1;
}

sgh_srv_conf_t *sgh_config_srv(server_rec *s)
{
    return ap_get_module_config(s->module_config, &staple_guard_module);
}

/* Loading the module is the opt-in: on unless a server says Off. */
int sgh_config_enabled(server_rec *s)
{
    return sgh_config_srv(s)->enabled != 0;
}

/* The units a time may have (httpd's), in microseconds; a bare number is
 * seconds. "min" too: httpd's parser reads only "mi" of it, so configs
 * written for httpd's directives use it. */
static const struct {
    const char *suffix;
    apr_int64_t usec;
} sgh_time_units[] = {
    { "", APR_USEC_PER_SEC }, { "s", APR_USEC_PER_SEC }, { "ms", 1000 },
    { "mi", 60 * APR_USEC_PER_SEC }, { "min", 60 * APR_USEC_PER_SEC },
    { "h", 3600 * APR_USEC_PER_SEC },
};

/* More digits than fit in 64 bits: refused before they are converted. */
#define SGH_DIGITS_MAX 18

/* What one of suffix is worth in d's field, or 0 when d takes no such
 * unit. */
static apr_int64_t sgh_config_unit(const sgh_directive_t *d,
                                   const char *suffix)
{
    apr_size_t i;

    if (d->kind != SGH_SECONDS) {
        return (*suffix == '\0'
                || (d->kind == SGH_PERCENT && strcmp(suffix, "%") == 0))
               ? 1 : 0;
    }
    for (i = 0; i < sizeof(sgh_time_units) / sizeof(sgh_time_units[0]); i++) {
        if (strcmp(suffix, sgh_time_units[i].suffix) == 0) {
            return sgh_time_units[i].usec;
        }
    }
    return 0;
}

/* arg in the unit of d's field: digits only (no sign, blank or base
 * prefix), then one of d's units, nothing else. httpd's own parser
 * (ap_timeout_parameter_parse) takes "10sx" for 10 s, "s" for 0 and lets
 * "18446744073711s" wrap around to 1.4 s; here such values are refused,
 * and a value that does not fit in 64 bits is never multiplied. */
static int sgh_config_parse(const sgh_directive_t *d, const char *arg,
                            apr_interval_time_t *v)
{
    apr_size_t digits = strspn(arg, "0123456789");
    apr_int64_t per = sgh_config_unit(d, arg + digits), n;

    if (digits == 0 || digits > SGH_DIGITS_MAX || per == 0) {
        return 0;
    }
    n = apr_atoi64(arg);
    if (n > APR_INT64_MAX / per) {
        return 0;
    }
    *v = n * per;
    return 1;
}

/* Any numeric directive: parsed by its kind, checked against its range. */
static const char *sgh_cmd_numeric(cmd_parms *cmd, void *dc, const char *arg)
{
    const sgh_directive_t *d = cmd->info;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_interval_time_t v = 0, scale = sgh_config_scale(d);

    (void)dc;
    if (err != NULL) {
        return err;
    }
    if (!sgh_config_parse(d, arg, &v) || v < d->lo * scale
        || v > d->hi * scale) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not %s between %ld and "
                            "%ld%s", cmd->cmd->name, arg,
                            d->kind == SGH_SECONDS ? "a time"
                            : d->kind == SGH_PERCENT ? "a percentage"
                            : "a number", d->lo, d->hi,
                            d->kind == SGH_SECONDS
                            ? " seconds (whole, or with ms, s, mi, min or h)"
                            : "");
    }
    sgh_config_set(d, v);
    sgh_given[d - sgh_directives] = 1;
    return NULL;
}

/* On or Off, into *flag. The On|Off directives are TAKE1, not httpd's
 * FLAG, which reads the first word and ignores the rest: "StapleGuard Off
 * On" would be Off without a word said. */
static const char *sgh_config_flag(cmd_parms *cmd, const char *arg,
                                   int *flag)
{
    const char *err = NULL;

    if (ap_cstr_casecmp(arg, "on") == 0) {
        *flag = 1;
    }
    else if (ap_cstr_casecmp(arg, "off") == 0) {
        *flag = 0;
    }
    else {
        err = apr_pstrcat(cmd->pool, cmd->cmd->name, " must be On or Off",
                          NULL);
    }
    return err;
}

static const char *sgh_cmd_enable(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    return sgh_config_flag(cmd, arg, &sgh_config_srv(cmd->server)->enabled);
}

/* Not in <Limit>: the page's POST is allowed or not, whatever a method
 * limit around this line would seem to say. */
static const char *sgh_cmd_actions(cmd_parms *cmd, void *dc, const char *arg)
{
    sgh_dir_conf_t *c = dc;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_LIMIT);

    return err ? err : sgh_config_flag(cmd, arg, &c->status_actions);
}

/* The program is not run here, only checked to be a path: it is run by
 * the fetcher, as the server's User, which may see other files. */
static const char *sgh_cmd_event(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dc;
    if (err != NULL) {
        return err;
    }
    if (arg[0] != '/') {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute path",
                            cmd->cmd->name, arg);
    }
    sgh_global.event_command = arg;
    return NULL;
}

static const char *sgh_cmd_url(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = sg_url_check_responder(arg);

    (void)dc;
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name,
                            sg_text_log(cmd->pool, arg), err);
    }
    sgh_config_srv(cmd->server)->responder_url = arg;
    return NULL;
}

/* The URL is checked here, so that `apache2 -t` names the directive; the
 * message repeats the URL without its credentials (nor anything that may
 * be part of them), escaped. */
static const char *sgh_cmd_proxy(cmd_parms *cmd, void *dc, const char *arg)
{
    sg_proxy_t *px = NULL;
    const char *err = sg_proxy_parse(&px, cmd->pool, arg);

    (void)dc;
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name,
                            sg_text_log(cmd->pool,
                                        sg_proxy_url_shown(cmd->pool, arg)),
                            err);
    }
    sgh_config_srv(cmd->server)->proxy = px;
    return NULL;
}

/* The words are taken here (RAW_ARGS), so that an empty one ("") is
 * refused: httpd's ITERATE stops at it and drops the words after it. */
static const char *sgh_cmd_bypass(cmd_parms *cmd, void *dc, const char *args)
{
    sgh_srv_conf_t *c = sgh_config_srv(cmd->server);
    const char *err = NULL, *w;

    (void)dc;
    if (*args == '\0') {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " requires at least "
                           "one argument, ", cmd->cmd->errmsg, NULL);
    }
    if (c->bypass == NULL) {
        c->bypass = apr_array_make(cmd->pool, 1, sizeof(const char *));
    }
    while (err == NULL && *args != '\0') {
        w = ap_getword_conf(cmd->pool, &args);
        err = sg_proxy_bypass_check(cmd->pool, w);
        if (err == NULL) {
            APR_ARRAY_PUSH(c->bypass, const char *) = w;
        }
    }
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err)
               : NULL;
}

/* StapleGuardAddressFamily's words, and what the resolver is asked. */
static const struct {
    const char *word;
    int family;
} sgh_families[] = {
    { "any", APR_UNSPEC }, { "ipv4", APR_INET }, { "ipv6", APR_INET6 },
};

static const char *sgh_cmd_family(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_size_t i;

    (void)dc;
    for (i = 0; err == NULL && i < sizeof(sgh_families)
                                  / sizeof(sgh_families[0]); i++) {
        if (ap_cstr_casecmp(arg, sgh_families[i].word) == 0) {
            sgh_global.family = sgh_families[i].family;
            return NULL;
        }
    }
    return err ? err : apr_psprintf(cmd->pool, "%s: '%s' is not any, ipv4 "
                                    "or ipv6", cmd->cmd->name, arg);
}

const sg_proxy_t *sgh_config_proxy(apr_pool_t *p, server_rec *s)
{
    const sgh_srv_conf_t *c = sgh_config_srv(s);

    return sg_proxy_with_bypass(p, c->proxy, c->bypass);
}

static const char *sgh_cmd_store(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dc;
    if (err != NULL) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "none") == 0) {
        sgh_global.store_dir = "";
        return NULL;
    }
    sgh_global.store_dir = ap_server_root_relative(cmd->pool, arg);
    if (sgh_global.store_dir == NULL) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid path",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *sgh_cmd_shared(cmd_parms *cmd, void *dc, const char *spec,
                                  const char *prefix)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dc;
    return err ? err : sgh_shared_parse(&sgh_global.shared, cmd, spec, prefix);
}

/* Not for configurations: the module starts its startup helpers as
 * httpd's program with this directive (httpd/sgh_helper.c). It is read
 * as the command line is (EXEC_ON_READ), before httpd asks for an MPM,
 * which a helper has none of: so it serves right here, through the
 * function the hook file gave (sgh_config_on_helper), and never returns.
 * The configuration stays a leaf: it calls down into nothing. */
static sgh_config_helper_fn *sgh_helper_serve;

void sgh_config_on_helper(sgh_config_helper_fn *serve)
{
    sgh_helper_serve = serve;
}

static const char *sgh_cmd_helper(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end = NULL;
    apr_int64_t pid = apr_strtoi64(arg, &end, 10);
    const char *err = NULL;

    (void)cmd;
    (void)dc;
    if (end == NULL || *end != '\0' || pid <= 0 || (pid_t)pid != pid) {
        err = "StapleGuardStartupHelper: not a process id";
    }
    else {
        if (sgh_helper_serve != NULL) {
            err = sgh_helper_serve((pid_t)pid);   /* returns on refusal */
        }
    }
    return err;
}


#define SGH_DIRECTIVE_CMD(name, kind, field, lo, hi, def, help)              \
    AP_INIT_TAKE1(#name, sgh_cmd_numeric, (void *)&sgh_directives[SGH_D_##name],\
                  RSRC_CONF, help " (" #lo "-" #hi SGH_UNIT_##kind           \
                  ", default " #def SGH_UNIT_##kind ")"),

const command_rec sgh_config_cmds[] = {
    AP_INIT_TAKE1("StapleGuard", sgh_cmd_enable, NULL, RSRC_CONF,
                  "On|Off: provide OCSP stapling for this server's "
                  "certificates (default On)"),
    AP_INIT_TAKE1("StapleGuardResponderURL", sgh_cmd_url, NULL, RSRC_CONF,
                  "http:// URL used instead of the certificates' own "
                  "OCSP URL"),
    AP_INIT_TAKE1("StapleGuardProxy", sgh_cmd_proxy, NULL, RSRC_CONF,
                  "http://[user:password@]host:port of the HTTP proxy that "
                  "responders are asked through (default: none)"),
    AP_INIT_RAW_ARGS("StapleGuardProxyBypass", sgh_cmd_bypass, NULL,
                     RSRC_CONF, "host names, addresses or .domain suffixes "
                     "of responders asked directly, not through "
                     "StapleGuardProxy"),
    AP_INIT_TAKE1("StapleGuardAddressFamily", sgh_cmd_family, NULL,
                  RSRC_CONF, "any|ipv4|ipv6: the addresses of responders "
                  "and proxies that are tried (default any)"),
    AP_INIT_TAKE1("StapleGuardStoreDir", sgh_cmd_store, NULL, RSRC_CONF,
                  "directory that keeps responses across restarts, or "
                  "'none' (default: staple-guard in DefaultRuntimeDir)"),
    AP_INIT_TAKE1("StapleGuardStatusActions", sgh_cmd_actions, NULL,
                  ACCESS_CONF, "On|Off: the status page here accepts POST "
                  "action=refresh (default Off)"),
    AP_INIT_TAKE1("StapleGuardEventCommand", sgh_cmd_event, NULL, RSRC_CONF,
                  "absolute path of a program run on a certificate's state "
                  "changes (default: none)"),
    AP_INIT_TAKE12("StapleGuardSharedCache", sgh_cmd_shared, NULL, RSRC_CONF,
                   "provider:address [prefix]: a socache (e.g. "
                   "redis:127.0.0.1:6379) that the servers of a fleet share "
                   "verified responses through (default: none)"),
    AP_INIT_TAKE1("StapleGuardStartupHelper", sgh_cmd_helper, NULL,
                  RSRC_CONF | EXEC_ON_READ, "internal: how the module starts "
                  "its startup helpers; never in a configuration"),
    /* the CRL watch and "why no staple" (sgh_crl_conf.c) */
    AP_INIT_TAKE1("StapleGuardCRLWatch", sgh_crl_conf_watch_cmd, NULL,
                  RSRC_CONF, "On|Off: watch the CRL of this server's "
                  "certificates that name no OCSP responder (default On)"),
    AP_INIT_TAKE1("StapleGuardCRLMaxSize", sgh_crl_conf_max_size_cmd, NULL,
                  RSRC_CONF, "largest CRL downloaded, in bytes (1024-"
                  "1073741824, default 33554432)"),
    AP_INIT_TAKE1("StapleGuardShortLived", sgh_crl_conf_short_lived_cmd,
                  NULL, RSRC_CONF, "certificates valid this long or less "
                  "are short-lived: nothing is checked for them (0-8640000 "
                  "s, default 864000 s)"),
    SGH_NUMERIC_DIRECTIVES(SGH_DIRECTIVE_CMD)
    { NULL }
};

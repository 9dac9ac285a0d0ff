/* sgh_crl_conf.c: StapleGuardCRLWatch, StapleGuardCRLMaxSize and
 * StapleGuardShortLived. Out-of-range values are refused when the
 * configuration is read, so `apache2 -t` names the directive and the
 * range. */
#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <httpd.h>

#include "sg_crl_fetch.h"
#include "sg_why.h"
#include "sgh_crl_conf.h"

static apr_size_t sgh_crl_max_size;
static apr_interval_time_t sgh_crl_short_lived;
/* StapleGuardCRLWatch per server_rec that wrote it; the main server's
 * value (SGH_CRL_UNSET: not written) is what the others inherit. */
#define SGH_CRL_UNSET (-1)
static apr_hash_t *sgh_crl_watch_by_server;
static int sgh_crl_watch_main;

void sgh_crl_conf_reset(void)
{
    sgh_crl_max_size = SG_CRL_FETCH_MAX_DEFAULT;
    sgh_crl_short_lived = apr_time_from_sec(SG_WHY_SHORT_LIVED_DEFAULT);
    sgh_crl_watch_by_server = NULL;
    sgh_crl_watch_main = SGH_CRL_UNSET;
}

const char *sgh_crl_conf_watch_cmd(cmd_parms *cmd, void *dc,
                                   const char *arg)
{
    static const int values[2] = { 0, 1 };
    int on = ap_cstr_casecmp(arg, "on") == 0;

    (void)dc;
    if (!on && ap_cstr_casecmp(arg, "off") != 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " must be On or Off",
                           NULL);
    }
    if (!cmd->server->is_virtual) {
        sgh_crl_watch_main = on;
    }
    if (sgh_crl_watch_by_server == NULL) {
        sgh_crl_watch_by_server = apr_hash_make(cmd->pool);
    }
    apr_hash_set(sgh_crl_watch_by_server, apr_pmemdup(cmd->pool, &cmd->server,
                                                      sizeof(cmd->server)),
                 sizeof(cmd->server), &values[on ? 1 : 0]);
    return NULL;
}

int sgh_crl_conf_watch(server_rec *s)
{
    const int *v = sgh_crl_watch_by_server
                   ? apr_hash_get(sgh_crl_watch_by_server, &s, sizeof(s))
                   : NULL;

    if (v != NULL) {
        return *v;
    }
    return sgh_crl_watch_main != 0;     /* unset: On */
}

/* A whole number from lo to hi, or the error naming the directive. */
static const char *sgh_crl_conf_number(cmd_parms *cmd, const char *arg,
                                       apr_int64_t lo, apr_int64_t hi,
                                       apr_int64_t *v)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end = NULL;

    if (err != NULL) {
        return err;
    }
    *v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || end == NULL || *end != '\0' || *v < lo || *v > hi) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number from %"
                            APR_INT64_T_FMT " to %" APR_INT64_T_FMT,
                            cmd->cmd->name, arg, lo, hi);
    }
    return NULL;
}

const char *sgh_crl_conf_max_size_cmd(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    apr_int64_t v = 0;
    const char *err = sgh_crl_conf_number(cmd, arg, SGH_CRL_MAX_SIZE_MIN,
                                          SGH_CRL_MAX_SIZE_MAX, &v);

    (void)dc;
    if (err == NULL) {
        sgh_crl_max_size = (apr_size_t)v;
    }
    return err;
}

const char *sgh_crl_conf_short_lived_cmd(cmd_parms *cmd, void *dc,
                                         const char *arg)
{
    apr_int64_t v = 0;
    const char *err = sgh_crl_conf_number(cmd, arg, 0,
                                          SG_WHY_SHORT_LIVED_MAX, &v);

    (void)dc;
    if (err == NULL) {
        sgh_crl_short_lived = apr_time_from_sec(v);
    }
    return err;
}

apr_size_t sgh_crl_conf_max_size(void)
{
    return sgh_crl_max_size;
}

apr_interval_time_t sgh_crl_conf_short_lived(void)
{
    return sgh_crl_short_lived;
}

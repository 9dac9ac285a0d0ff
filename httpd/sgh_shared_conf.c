/* sgh_shared_conf.c: StapleGuardSharedCache provider:args [prefix],
 * checked when the configuration is read so that `apache2 -t` names what
 * is wrong. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <ap_provider.h>

#include "sgh_shared.h"

/* Providers whose argument is a list of host:port: checked here, since
 * their create() accepts anything and init() logs only at startup. */
static int sgh_shared_conf_is_server_list(const char *name)
{
    return strcmp(name, "redis") == 0 || strcmp(name, "memcache") == 0;
}

/* NULL, or what is wrong with the list "host:port[,host:port...]". */
static const char *sgh_shared_conf_servers(apr_pool_t *p, const char *args)
{
    char *list = apr_pstrdup(p, args), *last, *item, *host, *scope;
    apr_port_t port;

    for (item = apr_strtok(list, ",", &last); item != NULL;
         item = apr_strtok(NULL, ",", &last)) {
        if (apr_parse_addr_port(&host, &scope, &port, item, p) != APR_SUCCESS
            || host == NULL || port == 0) {
            return apr_psprintf(p, "'%s' is not host:port", item);
        }
    }
    return *args == ',' || args[strlen(args) - 1] == ','
           ? "has an empty server in its list" : NULL;
}

/* args as shown on the status page: "user:password@" taken out of each
 * server, should a provider accept them. */
static const char *sgh_shared_conf_shown(apr_pool_t *p, const char *args)
{
    char *list = apr_pstrdup(p, args), *last, *item;
    const char *shown = NULL, *at;

    for (item = apr_strtok(list, ",", &last); item != NULL;
         item = apr_strtok(NULL, ",", &last)) {
        at = strrchr(item, '@');
        shown = apr_pstrcat(p, shown ? shown : "", shown ? "," : "",
                            at ? at + 1 : item, NULL);
    }
    return shown ? shown : "";
}

/* Letters, digits, '.', '_' and '-': the prefix goes into keys. */
static int sgh_shared_conf_prefix_ok(const char *prefix)
{
    apr_size_t n = strlen(prefix);

    return n > 0 && n <= SGH_SHARED_PREFIX_MAX
           && strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                             "VWXYZ0123456789._-") == n;
}

/* The provider named, or why it cannot be used. */
static const char *sgh_shared_conf_provider(cmd_parms *cmd,
                                            sgh_shared_conf_t *c)
{
    apr_array_header_t *names;

    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, c->name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (c->provider == NULL) {
        names = ap_list_provider_names(cmd->temp_pool,
                                       AP_SOCACHE_PROVIDER_GROUP,
                                       AP_SOCACHE_PROVIDER_VERSION);
        return apr_psprintf(cmd->pool, "no socache provider '%s' is loaded "
                            "(loaded: %s); load its module before this line "
                            "(LoadModule socache_%s_module "
                            "modules/mod_socache_%s.so)", c->name,
                            names && names->nelts
                            ? apr_array_pstrcat(cmd->temp_pool, names, ',')
                            : "none", c->name, c->name);
    }
    /* shmcb and dbm want a lock around every call, and live on one
     * machine: nothing for a fleet to share. */
    if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        return apr_psprintf(cmd->pool, "the socache provider '%s' is local "
                            "to one server and not safe for several "
                            "processes; name a cache server (redis, "
                            "memcache)", c->name);
    }
    return NULL;
}

static const char *sgh_shared_conf_check(cmd_parms *cmd, sgh_shared_conf_t *c,
                                         const char *spec)
{
    const char *colon = strchr(spec, ':'), *err;
    ap_socache_instance_t *inst;

    if (colon == NULL || colon == spec || colon[1] == '\0') {
        return apr_psprintf(cmd->pool, "'%s' is not provider:address (e.g. "
                            "redis:127.0.0.1:6379)", spec);
    }
    c->name = apr_pstrmemdup(cmd->pool, spec, colon - spec);
    c->args = colon + 1;
    c->shown = sgh_shared_conf_shown(cmd->pool, c->args);
    err = sgh_shared_conf_provider(cmd, c);
    if (err == NULL && sgh_shared_conf_is_server_list(c->name)) {
        err = sgh_shared_conf_servers(cmd->temp_pool, c->args);
        err = err ? apr_psprintf(cmd->pool, "the %s address '%s': %s",
                                 c->name, c->shown, err) : NULL;
    }
    if (err == NULL) {
        /* its own check of the arguments; each process that uses the
         * cache makes the instance it uses (sgh_shared_call.c) */
        err = c->provider->create(&inst, c->args, cmd->temp_pool,
                                  cmd->temp_pool);
    }
    return err;
}

const char *sgh_shared_parse(const sgh_shared_conf_t **out, cmd_parms *cmd,
                             const char *spec, const char *prefix)
{
    sgh_shared_conf_t *c = apr_pcalloc(cmd->pool, sizeof(*c));
    const char *err;

    c->prefix = prefix ? prefix : SGH_SHARED_PREFIX_DEFAULT;
    err = sgh_shared_conf_check(cmd, c, spec);
    if (err == NULL && !sgh_shared_conf_prefix_ok(c->prefix)) {
        err = apr_psprintf(cmd->pool, "the prefix '%s' is not 1 to %d "
                           "letters, digits, '.', '_' or '-'", c->prefix,
                           SGH_SHARED_PREFIX_MAX);
    }
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    *out = c;
    return NULL;
}

/* sgh_crl_conf.h: the directives of the CRL watch and of "why no staple"
 * (StapleGuardCRLWatch, StapleGuardCRLMaxSize, StapleGuardShortLived),
 * kept apart from sgh_config.c: their command table rows are there, the
 * rest is here. */
#ifndef SGH_CRL_CONF_H
#define SGH_CRL_CONF_H

#include <httpd.h>
#include <http_config.h>

/* StapleGuardCRLMaxSize bounds, bytes: under 1 KiB no CRL fits, over
 * 1 GiB the fetcher's child would hold more than a server should. */
#define SGH_CRL_MAX_SIZE_MIN 1024
#define SGH_CRL_MAX_SIZE_MAX 1073741824

/* TAKE1, not FLAG: httpd's FLAG takes "On Off" as On, silently. */
const char *sgh_crl_conf_watch_cmd(cmd_parms *cmd, void *dc,
                                   const char *arg);
const char *sgh_crl_conf_max_size_cmd(cmd_parms *cmd, void *dc,
                                      const char *arg);
const char *sgh_crl_conf_short_lived_cmd(cmd_parms *cmd, void *dc,
                                         const char *arg);

/* Before a configuration is read. */
void sgh_crl_conf_reset(void);

/* StapleGuardCRLWatch where s is configured (inherited from the main
 * server; default On). */
int sgh_crl_conf_watch(server_rec *s);

apr_size_t sgh_crl_conf_max_size(void);
apr_interval_time_t sgh_crl_conf_short_lived(void);

#endif

/* sg_proxy.h: an HTTP proxy between us and the responders
 * (StapleGuardProxy, StapleGuardProxyBypass). */
#ifndef SG_PROXY_H
#define SG_PROXY_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *host;           /* to connect to: no brackets */
    int port;
    const char *shown;          /* "http://host:port": never credentials */
    const char *auth;           /* Proxy-Authorization value, or NULL */
    apr_array_header_t *bypass; /* const char *: "host" or ".suffix" */
} sg_proxy_t;

/* Parse "http://[user:password@]host[:port][/]" into *px (bypass
 * empty). Returns NULL, or what is wrong (without the credentials). */
const char *sg_proxy_parse(sg_proxy_t **px, apr_pool_t *p,
                           const char *url);

/* url without its "user:password@", to be shown or logged. */
const char *sg_proxy_url_shown(apr_pool_t *p, const char *url);

/* NULL when name can be a StapleGuardProxyBypass entry ("host", an
 * address, or ".domain.suffix"), else what is wrong with it. */
const char *sg_proxy_bypass_check(apr_pool_t *p, const char *name);

/* Does host go direct? "name" matches itself (without regard to case),
 * ".suffix" any name that ends with it. */
int sg_proxy_bypassed(const sg_proxy_t *px, const char *host);

#endif

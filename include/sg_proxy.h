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
    const char *auth;           /* Proxy-Authorization value, or NULL:
                                 * never shown, wiped with the pool */
    apr_array_header_t *bypass; /* const char *: "host" or ".suffix" */
} sg_proxy_t;

/* Parse "http://[user:password@]host[:port][/]" into *px (bypass
 * empty), as RFC 3986 reads it: only its characters, the userinfo ends at
 * the last '@' of the authority, the user name at the first ':' of the
 * userinfo, both percent-decoded ("p%40ss" is "p@ss"). The credential is
 * made in p and wiped when p is destroyed. Returns NULL, or what is wrong
 * (never with the URL or any part of the credentials). */
const char *sg_proxy_parse(sg_proxy_t **px, apr_pool_t *p,
                           const char *url);

/* px with bypass as its StapleGuardProxyBypass list, made in p (px itself
 * when bypass is NULL): a virtual host may add its own list to the proxy
 * it inherits. */
const sg_proxy_t *sg_proxy_with_bypass(apr_pool_t *p, const sg_proxy_t *px,
                                       apr_array_header_t *bypass);

/* url with everything between "://" and its last '@' replaced by "***@",
 * to be shown or logged: whatever the URL, no part of a password shows.
 * Not escaped. */
const char *sg_proxy_url_shown(apr_pool_t *p, const char *url);

/* NULL when name can be a StapleGuardProxyBypass entry ("host", an
 * address, or ".domain.suffix"), else what is wrong with it. */
const char *sg_proxy_bypass_check(apr_pool_t *p, const char *name);

/* Does host go direct? "name" matches itself (without regard to case),
 * ".suffix" any name that ends with it. */
int sg_proxy_bypassed(const sg_proxy_t *px, const char *host);

#endif

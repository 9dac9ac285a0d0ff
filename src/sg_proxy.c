/* sg_proxy.c: the egress HTTP proxy: its URL, its credentials (never
 * shown), and the hosts that bypass it. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>

#include "sg_proxy.h"
#include "sg_url.h"

#define SG_PROXY_SCHEME "http://"
#define SG_PROXY_BASIC "Basic "

const char *sg_proxy_url_shown(apr_pool_t *p, const char *url)
{
    const char *auth = strstr(url, "://"), *at, *end;

    auth = auth ? auth + 3 : url;
    end = auth + strcspn(auth, "/?#");
    for (at = end; at > auth && at[-1] != '@'; at--) {
        ;
    }
    return at > auth ? apr_pstrcat(p, apr_pstrmemdup(p, url,
                                                     (apr_size_t)(auth - url)),
                                   at, NULL)
                     : url;
}

/* "Basic " and user:password in base64 (RFC 7617). */
static const char *sg_proxy_basic(apr_pool_t *p, const char *userinfo)
{
    int len = (int)strlen(userinfo);
    /* base64: 4 characters for every 3 bytes begun, and a NUL */
    char *out = apr_palloc(p, sizeof(SG_PROXY_BASIC) + 4 * ((len + 2) / 3));

    memcpy(out, SG_PROXY_BASIC, sizeof(SG_PROXY_BASIC) - 1);
    EVP_EncodeBlock((unsigned char *)out + sizeof(SG_PROXY_BASIC) - 1,
                    (const unsigned char *)userinfo, len);
    return out;
}

const char *sg_proxy_parse(sg_proxy_t **px, apr_pool_t *p,
                           const char *url)
{
    char *user = NULL, *host = NULL, *port = NULL, *path = NULL;
    char *query = NULL, *frag = NULL;
    int use_ssl = 0, port_num = 0;
    const char *err = NULL;
    sg_proxy_t *x = apr_pcalloc(p, sizeof(*x));
    apr_size_t hlen;

    if (!OSSL_HTTP_parse_url(url, &use_ssl, &user, &host, &port, &port_num,
                             &path, &query, &frag)) {
        err = "is not a URL of the form http://[user:password@]host:port";
    }
    else if (use_ssl || strncasecmp(url, SG_PROXY_SCHEME,
                                    sizeof(SG_PROXY_SCHEME) - 1) != 0) {
        err = "must start with http:// (the proxy is asked in plain HTTP)";
    }
    else if (strspn(path, "/") != strlen(path) || (query && *query != '\0')
             || (frag && *frag != '\0') || strchr(url, '?') != NULL) {
        err = "must not have a path, a query or a fragment";
    }
    else if ((err = sg_url_check_authority(url, host)) == NULL) {
        hlen = strlen(host);
        x->host = (hlen > 2 && host[0] == '[')
                  ? apr_pstrmemdup(p, host + 1, hlen - 2)
                  : apr_pstrdup(p, host);
        x->port = port_num;
        x->shown = apr_psprintf(p, "http://%s:%d", host, port_num);
        x->auth = (user != NULL && *user != '\0')
                  ? sg_proxy_basic(p, user) : NULL;
        x->bypass = apr_array_make(p, 1, sizeof(const char *));
        *px = x;
    }
    ERR_clear_error();
    OPENSSL_clear_free(user, user ? strlen(user) : 0);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    OPENSSL_free(query);
    OPENSSL_free(frag);
    return err;
}

/* A host name, or a .suffix of one: labels of letters, digits and '-'
 * (not at either end) between single dots. An IPv4 address is such a
 * name too. */
static int sg_proxy_name_ok(const char *name)
{
    const char *label = (*name == '.') ? name + 1 : name;
    apr_size_t len;
    int ok = (*label != '\0');

    while (ok && *label != '\0') {
        len = strspn(label, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
        ok = len > 0 && label[0] != '-' && label[len - 1] != '-'
             && (label[len] == '\0'
                 || (label[len] == '.' && label[len + 1] != '\0'));
        label += len + (label[len] == '.');
    }
    return ok;
}

const char *sg_proxy_bypass_check(apr_pool_t *p, const char *name)
{
    struct in6_addr a6;
    int ok = strchr(name, ':') != NULL
             ? inet_pton(AF_INET6, name, &a6) == 1 : sg_proxy_name_ok(name);

    return ok ? NULL : apr_psprintf(p, "'%s' is not a host name, an address "
                                    "or a .domain suffix", name);
}

/* Does host go direct? "name" matches itself, ".suffix" any name that
 * ends with it. */
int sg_proxy_bypassed(const sg_proxy_t *px, const char *host)
{
    apr_size_t hlen = strlen(host), len;
    const char *b;
    int i;

    for (i = 0; i < px->bypass->nelts; i++) {
        b = APR_ARRAY_IDX(px->bypass, i, const char *);
        len = strlen(b);
        if ((b[0] == '.' && hlen > len
             && strcasecmp(host + hlen - len, b) == 0)
            || strcasecmp(host, b) == 0) {
            return 1;
        }
    }
    return 0;
}

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
/* What stands for the credentials in what is shown. */
#define SG_PROXY_HIDDEN "***@"
#define SG_PROXY_DEL 0x7f

/* Everything before the last '@' is dropped, even past the authority: a
 * '/', '?' or '#' left unencoded in a password ends the authority early
 * (RFC 3986 3.2), and the rest of the password would read as a path. */
const char *sg_proxy_url_shown(apr_pool_t *p, const char *url)
{
    const char *auth = strstr(url, "://"), *at;

    auth = auth ? auth + 3 : url;
    at = strrchr(auth, '@');
    return at ? apr_pstrcat(p, apr_pstrmemdup(p, url,
                                              (apr_size_t)(auth - url)),
                            SG_PROXY_HIDDEN, at + 1, NULL)
              : url;
}

/* [s, end) percent-decoded at out; returns the byte after the last one
 * written, or NULL when a byte RFC 7617 does not allow in a user name or
 * password (a control) comes out. sg_url_check_chars made sure that every
 * '%' has two hex digits. */
static char *sg_proxy_decode(char *out, const char *s, const char *end)
{
    unsigned char c;

    for (; s < end && out != NULL; s++) {
        c = (unsigned char)*s;
        if (c == '%') {
            c = (unsigned char)(apr_isdigit(s[1]) ? s[1] - '0'
                                : apr_tolower(s[1]) - 'a' + 10) << 4;
            c |= (unsigned char)(apr_isdigit(s[2]) ? s[2] - '0'
                                 : apr_tolower(s[2]) - 'a' + 10);
            s += 2;
        }
        *out = (char)c;
        out = (c < 0x20 || c == SG_PROXY_DEL) ? NULL : out + 1;
    }
    return out;
}

static apr_status_t sg_proxy_wipe(void *data)
{
    OPENSSL_cleanse(data, strlen(data));
    return APR_SUCCESS;
}

/* "Basic " and user:password in base64 (RFC 7617), from the userinfo
 * [ui, end): the user name ends at its first ':' (RFC 3986 3.2.1), each
 * part is percent-decoded. The value stays in p as long as the
 * configuration and is wiped when p goes; the decoded copy at once. */
static const char *sg_proxy_basic(const char **basic, apr_pool_t *p,
                                  const char *ui, const char *end)
{
    const char *colon = memchr(ui, ':', (apr_size_t)(end - ui));
    apr_size_t cap = (apr_size_t)(end - ui) + 2;    /* ':' and a NUL */
    char *plain = OPENSSL_malloc(cap), *o, *out;
    const char *err = NULL;

    o = plain ? sg_proxy_decode(plain, ui, colon ? colon : end) : NULL;
    if (o != NULL && memchr(plain, ':', (apr_size_t)(o - plain)) != NULL) {
        err = "has a ':' (%3A) in its user name, which HTTP Basic "
              "authentication cannot carry";
    }
    else if (o != NULL) {
        *o++ = ':';
        o = colon ? sg_proxy_decode(o, colon + 1, end) : o;
    }
    if (err == NULL && o == NULL) {
        err = plain ? "has a control character in its user name or password"
                    : "cannot be parsed: out of memory";
    }
    if (err == NULL) {
        /* base64: 4 characters for every 3 bytes begun, and a NUL */
        out = apr_palloc(p, sizeof(SG_PROXY_BASIC)
                            + 4 * (((apr_size_t)(o - plain) + 2) / 3));
        memcpy(out, SG_PROXY_BASIC, sizeof(SG_PROXY_BASIC) - 1);
        EVP_EncodeBlock((unsigned char *)out + sizeof(SG_PROXY_BASIC) - 1,
                        (const unsigned char *)plain, (int)(o - plain));
        apr_pool_cleanup_register(p, out, sg_proxy_wipe,
                                  apr_pool_cleanup_null);
        *basic = out;
    }
    OPENSSL_clear_free(plain, cap);
    return err;
}

/* host[:port] of the proxy into x, checked as a responder's would be. */
static const char *sg_proxy_host(sg_proxy_t *x, apr_pool_t *p,
                                 const char *hostport, apr_size_t len)
{
    const char *url = apr_pstrcat(p, SG_PROXY_SCHEME,
                                  apr_pstrmemdup(p, hostport, len), NULL);
    char *host = NULL;
    int use_ssl = 0, port_num = 0;
    const char *err = NULL;
    apr_size_t hlen;

    if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, NULL, &port_num,
                             NULL, NULL, NULL)) {
        err = "is not a URL of the form http://[user:password@]host:port";
    }
    else if ((err = sg_url_check_authority(url, host)) == NULL) {
        hlen = strlen(host);
        x->host = (hlen > 2 && host[0] == '[')
                  ? apr_pstrmemdup(p, host + 1, hlen - 2)
                  : apr_pstrdup(p, host);
        x->port = port_num;
        x->shown = apr_psprintf(p, SG_PROXY_SCHEME "%s:%d", host, port_num);
    }
    ERR_clear_error();
    OPENSSL_free(host);
    return err;
}

/* RFC 3986: the authority ends at the first '/', '?' or '#'; the
 * userinfo in it at its last '@'. OpenSSL's parser ends the userinfo at
 * the first '@' of the whole URL: a password with an '@' would give part
 * of itself as the host name (then shown on the page and in logs). */
const char *sg_proxy_parse(sg_proxy_t **px, apr_pool_t *p,
                           const char *url)
{
    sg_proxy_t *x = apr_pcalloc(p, sizeof(*x));
    const char *auth, *end, *at;
    const char *err = sg_url_check_chars(url);

    if (err != NULL) {
        err = apr_pstrcat(p, err, " (write it percent-encoded in a user "
                          "name or password)", NULL);
    }
    else if (strncasecmp(url, SG_PROXY_SCHEME,
                         sizeof(SG_PROXY_SCHEME) - 1) != 0) {
        err = "must start with http:// (the proxy is asked in plain HTTP)";
    }
    else {
        auth = url + sizeof(SG_PROXY_SCHEME) - 1;
        end = auth + strcspn(auth, "/?#");
        for (at = end; at > auth && at[-1] != '@'; at--) {
            ;
        }
        if (end[strspn(end, "/")] != '\0') {
            err = "must not have a path, a query or a fragment (a '/', '?' "
                  "or '#' in a user name or password is written %2F, %3F "
                  "or %23)";
        }
        else if ((err = sg_proxy_host(x, p, at, (apr_size_t)(end - at)))
                 == NULL && at - 1 > auth) {
            err = sg_proxy_basic(&x->auth, p, auth, at - 1);
        }
    }
    if (err == NULL) {
        x->bypass = apr_array_make(p, 1, sizeof(const char *));
        *px = x;
    }
    return err;
}

const sg_proxy_t *sg_proxy_with_bypass(apr_pool_t *p, const sg_proxy_t *px,
                                       apr_array_header_t *bypass)
{
    sg_proxy_t *x;

    if (px == NULL || bypass == NULL) {
        return px;
    }
    x = apr_pmemdup(p, px, sizeof(*x));
    x->bypass = bypass;
    return x;
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

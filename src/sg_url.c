/* sg_url.c: what OpenSSL's URL parser lets through that no connection can
 * use, and what must never reach a request line. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/http.h>

#include "sg_url.h"

#define SG_URL_HTTP "http://"
/* More digits than any port has: refused before they are converted. */
#define SG_URL_PORT_DIGITS 5
/* Longest DNS name (RFC 1035), and an IPv6 address in brackets fits. */
#define SG_URL_HOST_MAX 253

/* The characters RFC 3986 allows in a URI besides '%' (section 2):
 * unreserved, gen-delims and sub-delims. */
#define SG_URL_ALLOWED "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
                       "0123456789-._~:/?#[]@!$&'()*+,;="

const char *sg_url_check_chars(const char *url)
{
    const char *c = url;

    for (;;) {
        c += strspn(c, SG_URL_ALLOWED);
        if (*c != '%' || !apr_isxdigit(c[1]) || !apr_isxdigit(c[2])) {
            break;
        }
        c += 3;                 /* a percent-encoded byte */
    }
    if (*c == '%') {
        return "has a '%' not followed by two hex digits";
    }
    return *c == '\0' ? NULL
           : "has a character that RFC 3986 does not allow in a URI (a "
             "control, a space, a byte outside ASCII, or one of \"<>\\^`{|})";
}

const apr_array_header_t *sg_url_usable(apr_pool_t *p,
                                        const apr_array_header_t *urls,
                                        apr_array_header_t **refused)
{
    apr_array_header_t *ok;
    const char *u;
    int i;

    *refused = NULL;
    for (i = 0; i < urls->nelts && *refused == NULL; i++) {
        if (sg_url_check_chars(APR_ARRAY_IDX(urls, i, const char *))) {
            *refused = apr_array_make(p, 1, sizeof(const char *));
        }
    }
    if (*refused == NULL) {
        /* the same array: certificates of one CA share theirs
         * (sg_cert_cache_t) */
        return urls;
    }
    ok = apr_array_make(p, urls->nelts, sizeof(const char *));
    for (i = 0; i < urls->nelts; i++) {
        u = APR_ARRAY_IDX(urls, i, const char *);
        APR_ARRAY_PUSH(sg_url_check_chars(u) ? *refused : ok,
                       const char *) = u;
    }
    return ok;
}

/* The port written in url's authority: [*port, *end), empty when none is
 * written. */
static void sg_url_port_span(const char *url, const char **port,
                             const char **end)
{
    const char *auth = strstr(url, "://"), *host, *c;

    auth = auth ? auth + 3 : url;
    *end = auth + strcspn(auth, "/?#");
    for (host = c = auth; c < *end; c++) {
        host = (*c == '@') ? c + 1 : host;      /* after the userinfo */
    }
    c = (*host == '[') ? memchr(host, ']', (apr_size_t)(*end - host)) : host;
    c = c ? c + strcspn(c, ":/?#") : *end;
    *port = (c < *end && *c == ':') ? c + 1 : *end;
}

/* OpenSSL 3.0 reads the port with sscanf("%u"): ":4294967376" wraps to
 * port 80, and ":0" is taken for no port (80 again). So the port is read
 * here from what is written: none, or 1-65535 in at most 5 digits. */
static int sg_url_port_ok(const char *url)
{
    const char *port, *end;
    apr_size_t len;

    sg_url_port_span(url, &port, &end);
    len = (apr_size_t)(end - port);
    return port == end
           || (len <= SG_URL_PORT_DIGITS && strspn(port, "0123456789") == len
               && strtol(port, NULL, 10) >= 1
               && strtol(port, NULL, 10) <= SG_URL_PORT_MAX);
}

static int sg_url_host_ok(const char *host)
{
    const char *c;

    for (c = host; *c != '\0'; c++) {
        if (apr_isspace(*c) || apr_iscntrl(*c)) {
            return 0;
        }
    }
    return *host != '\0' && strcmp(host, "[]") != 0
           && c - host <= SG_URL_HOST_MAX;
}

const char *sg_url_check_authority(const char *url, const char *host)
{
    const char *err = sg_url_check_chars(url);

    if (err == NULL && (host == NULL || !sg_url_host_ok(host))) {
        err = "has no host name or address (of at most "
              APR_STRINGIFY(SG_URL_HOST_MAX) " characters)";
    }
    else if (err == NULL && !sg_url_port_ok(url)) {
        err = "has no port from 1 to " APR_STRINGIFY(SG_URL_PORT_MAX);
    }
    return err;
}

const char *sg_url_check_responder(const char *url)
{
    char *host = NULL;
    int use_ssl = 0;
    /* the characters first: OpenSSL's parser would refuse a space with
     * words that do not say why */
    const char *err = sg_url_check_chars(url);

    if (err == NULL
        && strncasecmp(url, SG_URL_HTTP, sizeof(SG_URL_HTTP) - 1) != 0) {
        err = "is not an http:// URL (https:// responders are not "
              "supported)";
    }
    else if (err == NULL
             && !OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, NULL, NULL,
                                     NULL, NULL, NULL)) {
        err = "is not a URL of the form http://host[:port][/path]";
    }
    else if (err == NULL) {
        err = sg_url_check_authority(url, host);
    }
    ERR_clear_error();
    OPENSSL_free(host);
    return err;
}

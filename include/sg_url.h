/* sg_url.h: the http:// URLs the fetcher connects to (responders and the
 * proxy), checked the same way by `apache2 -t`, by the command and before
 * each fetch. */
#ifndef SG_URL_H
#define SG_URL_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Highest TCP port. */
#define SG_URL_PORT_MAX 65535

/* NULL when every character of url is one RFC 3986 allows in a URI
 * (letters, digits, "-._~:/?#[]@!$&'()*+,;=" and '%' with two hex digits);
 * else what is wrong (without the URL). Nothing else may be written into
 * a request line: a CR LF in a certificate's OCSP URL would end it and
 * start a request of the certificate's choosing (request smuggling). */
const char *sg_url_check_chars(const char *url);

/* Of urls (const char *), those sg_url_check_chars accepts, in order
 * (urls itself when it accepts all); the others in *refused, made in p
 * (NULL when there are none). */
const apr_array_header_t *sg_url_usable(apr_pool_t *p,
                                        const apr_array_header_t *urls,
                                        apr_array_header_t **refused);

/* NULL when url has only RFC 3986's characters, and host (as
 * OSSL_HTTP_parse_url found it in url) and the port written in url name a
 * place to connect to; else what is wrong (without the URL). */
const char *sg_url_check_authority(const char *url, const char *host);

/* NULL when url is an http:// URL of a responder that the fetcher can
 * ask (sg_url_check_chars, then sg_url_check_authority); else what is
 * wrong (without the URL). */
const char *sg_url_check_responder(const char *url);

#endif

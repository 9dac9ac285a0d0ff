/* sg_url.h: the http:// URLs the fetcher connects to (responders and the
 * proxy), checked the same way by `apache2 -t`, by the command and before
 * each fetch. */
#ifndef SG_URL_H
#define SG_URL_H

/* Highest TCP port. */
#define SG_URL_PORT_MAX 65535

/* NULL when host (as OSSL_HTTP_parse_url found it in url) and the port
 * written in url name a place to connect to; else what is wrong (without
 * the URL). */
const char *sg_url_check_authority(const char *url, const char *host);

/* NULL when url is an http:// URL of a responder that the fetcher can
 * ask; else what is wrong (without the URL). */
const char *sg_url_check_responder(const char *url);

#endif

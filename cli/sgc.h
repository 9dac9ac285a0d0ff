/* sgc.h: what the parts of the staple-guard command share. The command is
 * a fourth layer beside the module: it calls the core (include/), never
 * the glue (httpd/), so it judges responses by the module's own rules. */
#ifndef SGC_H
#define SGC_H

#include <apr_pools.h>

#include "sg_cert.h"
#include "sg_proxy.h"

#define SGC_NAME "staple-guard"

/* Exit codes, for monitoring probes and deploy hooks. */
#define SGC_EXIT_GOOD 0     /* a response that may be stapled, status good */
#define SGC_EXIT_BAD 1      /* revoked, refused, or no answer */
#define SGC_EXIT_LOCAL 2    /* usage, or a local file that will not do */

/* Print "staple-guard: <what>" on stderr; returns SGC_EXIT_LOCAL. */
int sgc_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Read a whole regular file of at most max bytes, NUL-terminated (so a
 * PEM file is a string). On failure returns non-zero and sets *err. */
int sgc_read_file(apr_pool_t *p, const char *path, apr_size_t max,
                  char **buf, apr_size_t *len, const char **err);

/* check of a certificate without a responder (sgc_crl.c): its CRL
 * downloaded and judged when it is crl-only, else why there is none. */
int sgc_crl_check(apr_pool_t *p, const sg_cert_t *c, const sg_proxy_t *px,
                  int timeout);

/* staple-guard show FILE.crl: a stored CRL verdict. */
int sgc_crl_show(apr_pool_t *p, const char *dir, const char *name,
                 const char *path);

/* staple-guard show FILE.ocsp (or FILE.crl) */
int sgc_show(apr_pool_t *p, const char *path);

#endif

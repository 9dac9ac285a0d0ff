/* sgh_entry.h: the glue's own record of a certificate, beside the core's
 * entry (sg_entry_t, whose owner it is): where its responder URL was
 * configured, which virtual hosts use it, and what was said about it in
 * the log already. */
#ifndef SGH_ENTRY_H
#define SGH_ENTRY_H

#include "sgh_gen.h"

typedef struct {
    sg_entry_t *e;
    int url_configured;         /* from StapleGuardResponderURL */
    const char *url_source;     /* the file that configured it, for logs */
    unsigned url_line;
    apr_array_header_t *refused_urls; /* const char *: the certificate's
                                 * OCSP URLs refused (SG0012), never
                                 * asked; NULL: none */
    apr_array_header_t *vhosts; /* const char *: "name:port" */
    sg_reason_t last_logged;    /* log state changes only; SG_R_COUNT:
                                 * nothing logged yet */
    int warned;                 /* "expires soon" said for this episode */
    int skew_warned;            /* clock skew said, until it goes away */
} sgh_entry_t;

/* The glue's record of a core entry. */
#define sgh_entry(e) ((sgh_entry_t *)(e)->owner)

/* A new certificate under httpd's id, both records made in g's pool. */
sg_entry_t *sgh_entry_add(sgh_gen_t *g, const char *id, apr_size_t id_len);

/* Record that virtual host s uses e (each once). */
void sgh_entry_add_vhost(sgh_gen_t *g, sg_entry_t *e, server_rec *s);

/* "name:port" of s, for lines about a certificate not yet parsed. */
const char *sgh_entry_vhost_name(apr_pool_t *p, server_rec *s);

/* The first virtual host that uses e. */
const char *sgh_entry_vhost(const sg_entry_t *e);

/* Take s's StapleGuardResponderURL (or none) for e, noting where it was
 * configured, and s's StapleGuardProxy (or none) with it. */
void sgh_entry_configure_url(sgh_gen_t *g, sg_entry_t *e, server_rec *s);

/* Once the certificate is parsed: without a configured URL, its own,
 * less those that sg_url_check_chars refuses (kept in refused_urls, made
 * in g's pool). */
void sgh_entry_settle_url(sgh_gen_t *g, sg_entry_t *e);

#endif

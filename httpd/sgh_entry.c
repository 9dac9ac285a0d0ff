/* sgh_entry.c: a certificate as the configuration gave it. */
#include <apr_strings.h>

#include "sg_text.h"
#include "sg_url.h"
#include "sgh_config.h"
#include "sgh_entry.h"

/* Most certificates serve a handful of names. */
#define SGH_ENTRY_VHOSTS_INITIAL 2

sg_entry_t *sgh_entry_add(sgh_gen_t *g, const char *id, apr_size_t id_len)
{
    sgh_entry_t *he = apr_pcalloc(g->pool, sizeof(*he));

    he->vhosts = apr_array_make(g->pool, SGH_ENTRY_VHOSTS_INITIAL,
                                sizeof(const char *));
    he->last_logged = SG_R_COUNT;
    he->e = sg_registry_add(g->reg, id, id_len, he);
    return he->e;
}

const char *sgh_entry_vhost_name(apr_pool_t *p, server_rec *s)
{
    return apr_psprintf(p, "%s:%u",
                        s->server_hostname ? s->server_hostname : "*",
                        s->addrs ? (unsigned)s->addrs->host_port : 0u);
}

void sgh_entry_add_vhost(sgh_gen_t *g, sg_entry_t *e, server_rec *s)
{
    sg_text_add_unique(sgh_entry(e)->vhosts,
                       sgh_entry_vhost_name(g->ptemp, s));
}

const char *sgh_entry_vhost(const sg_entry_t *e)
{
    return APR_ARRAY_IDX(sgh_entry(e)->vhosts, 0, const char *);
}


void sgh_entry_configure_url(sgh_gen_t *g, sg_entry_t *e, server_rec *s)
{
    sgh_entry_t *he = sgh_entry(e);
    const char *url = sgh_config_srv(s)->responder_url;

    /* The proxy goes with the responder: both are where the virtual host
     * that named the responder says. */
    sg_registry_set_proxy(e, sgh_config_proxy(g->pool, s));
    he->url_configured = (url != NULL);
    he->url_source = s->defn_name ? s->defn_name : "the main server";
    he->url_line = s->defn_line_number;
    sg_registry_set_url(e, url);
}

/* A URL with a CR LF, a space or a byte RFC 3986 does not allow would
 * be written into the request line as it is: refused here, and never
 * asked (sgh_log_primed says so, the status page shows it). */
void sgh_entry_settle_url(sgh_gen_t *g, sg_entry_t *e)
{
    sgh_entry_t *he = sgh_entry(e);

    if (!he->url_configured) {
        sg_registry_set_urls(e, sg_url_usable(g->pool, e->cert->urls,
                                              &he->refused_urls));
    }
}

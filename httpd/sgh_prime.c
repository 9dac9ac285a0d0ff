/* sgh_prime.c: one entry per certificate, one responder per entry.
 *
 * mod_ssl primes every certificate of every SSL virtual host, at every
 * start and graceful restart, so one certificate arrives once per host
 * that uses it. The first time, it goes to the startup work (sgh_warm.c);
 * each time, the host's name and configured responder are recorded. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "sgh_config.h"
#include "sgh_crl.h"
#include "sgh_diagnose.h"
#include "sgh_entry.h"
#include "sgh_msg.h"
#include "sgh_prime.h"
#include "sgh_warm.h"

APLOG_USE_MODULE(staple_guard);

/* A conflict found while priming, logged once the certificate is parsed
 * (sgh_prime_finish): its subject names it. */
typedef struct {
    sg_entry_t *e;
    server_rec *s;
    const char *text;
} sgh_prime_conflict_t;

#define SGH_PRIME_CONFLICTS_INITIAL 4

/* A StapleGuardResponderURL beats the certificate's own URL; between two,
 * the one written first in the configuration wins (mod_ssl primes virtual
 * hosts in reverse order), and the other is reported. */
static void sgh_prime_again(sgh_gen_t *g, server_rec *s, sg_entry_t *e)
{
    sgh_entry_t *he = sgh_entry(e);
    const char *url = sgh_config_srv(s)->responder_url;
    int earlier = s->defn_name && he->url_source
                  && strcmp(s->defn_name, he->url_source) == 0
                  && s->defn_line_number < he->url_line;
    sgh_prime_conflict_t *c;

    if (url == NULL || (e->url != NULL && strcmp(url, e->url) == 0)) {
        return;
    }
    if (!he->url_configured) {
        sgh_entry_configure_url(g, e, s);
        return;
    }
    if (g->conflicts == NULL) {
        g->conflicts = apr_array_make(g->ptemp, SGH_PRIME_CONFLICTS_INITIAL,
                                      sizeof(sgh_prime_conflict_t));
    }
    c = apr_array_push(g->conflicts);
    c->e = e;
    c->s = s;
    c->text = apr_psprintf(g->ptemp, "StapleGuardResponderURL %s (%s:%u) "
                           "and %s (%s:%u) name different responders for "
                           "one certificate; using %s", url,
                           s->defn_name ? s->defn_name : "?",
                           s->defn_line_number, e->url, he->url_source,
                           he->url_line, earlier ? url : e->url);
    if (earlier) {
        sgh_entry_configure_url(g, e, s);
    }
}

int sgh_prime(sgh_gen_t *g, server_rec *s, const char *id, apr_size_t id_len,
              const char *pem)
{
    sg_entry_t *e;

    if (!sgh_config_enabled(s)) {
        sgh_diagnose_declined(g, pem);
        return DECLINED;
    }
    e = sg_registry_get(g->reg, id, id_len);
    if (e == NULL) {
        e = sgh_entry_add(g, id, id_len);
        sgh_entry_configure_url(g, e, s);
        sgh_warm_prime(g, s, e, pem);
    }
    else {
        sgh_prime_again(g, s, e);
    }
    sgh_entry_add_vhost(g, e, s);
    sgh_crl_prime(g, s, e);
    return OK;
}

void sgh_prime_finish(sgh_gen_t *g)
{
    int i;

    for (i = 0; g->conflicts != NULL && i < g->conflicts->nelts; i++) {
        sgh_prime_conflict_t *c = &APR_ARRAY_IDX(g->conflicts, i,
                                                 sgh_prime_conflict_t);

        sgh_log(SGH_M_URL_CONFLICT, 0, c->s, 0, "%s: %s",
                c->e->cert ? c->e->cert->subject
                           : sgh_entry_vhost_name(g->ptemp, c->s), c->text);
    }
    g->conflicts = NULL;
}

/* sgh_crl.h: the CRL watch, from httpd's side: which certificates are
 * watched through which CRL URL, the downloads in the fetcher's child,
 * what the log, the store, the events and the status page get of it. */
#ifndef SGH_CRL_H
#define SGH_CRL_H

#include <httpd.h>

#include "sg_why.h"
#include "sgh_gen.h"

/* While priming: s uses e, and says StapleGuardCRLWatch On or Off. A
 * certificate is watched when any of its virtual hosts has it On. */
void sgh_crl_prime(sgh_gen_t *g, server_rec *s, sg_entry_t *e);

/* Whether one of e's virtual hosts has StapleGuardCRLWatch On (known
 * once primed, before sgh_crl_open). */
int sgh_crl_wanted(const sg_entry_t *e);

/* Why e gets no staple (SG_WHY_NONE: it has a responder). Any process. */
sg_why_t sgh_crl_why(const sg_entry_t *e);

/* The CRL URL e is watched through, or NULL. Any process. */
const char *sgh_crl_watched(const sg_entry_t *e);

/* In post_config, once the table exists and the others have marked their
 * certificates: the watched ones, their stored verdicts, their first
 * downloads due. */
void sgh_crl_open(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* At each look of the fetcher: take the status page's refresh requests,
 * and download at most one due CRL (a slow one holds the OCSP refreshes
 * of this tick only, within StapleGuardResponderTimeout). */
void sgh_crl_tick(sgh_gen_t *g, apr_pool_t *p);

/* ---- what the status page shows (sgh_status.c) ---- */

/* "<br>why no staple: ..." for the state cell; nothing for a certificate
 * that has a responder. */
void sgh_crl_html_why(request_rec *r, apr_pool_t *p, const sg_entry_t *e);

/* The staple cell of a watched certificate; 0 when info is not a CRL's
 * (the caller writes its own). */
int sgh_crl_html_staple(request_rec *r, apr_pool_t *p, const sg_entry_t *e,
                        const sg_slot_info_t *info);

/* ,"why":...,"crl":{...} for the certificate's JSON object. */
void sgh_crl_json(request_rec *r, apr_pool_t *p, const sg_entry_t *e,
                  const sg_slot_info_t *info);

/* " why=crl-only" for ?auto, ",why=\"crl-only\"" for a metric's labels;
 * "" for a certificate with a responder. */
const char *sgh_crl_auto(apr_pool_t *p, const sg_entry_t *e);
const char *sgh_crl_label(apr_pool_t *p, const sg_entry_t *e);

#endif

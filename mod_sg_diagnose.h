/* mod_sg_diagnose.h: what the module can tell about certificates httpd
 * never asked it about. */
#ifndef MOD_SG_DIAGNOSE_H
#define MOD_SG_DIAGNOSE_H

#include "mod_staple_guard.h"

/* A certificate of a virtual host with StapleGuard Off was primed. */
void sg_diagnose_declined(sg_gen_t *g, const char *pem);

/* After priming: every SSLCertificateFile whose certificate names an OCSP
 * responder but was never primed lacks its issuer (mod_ssl primes only
 * certificates whose issuer it found). Say so, with the fix. */
void sg_diagnose_unprimed(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp);

#endif

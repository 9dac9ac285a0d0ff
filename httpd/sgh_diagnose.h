/* sgh_diagnose.h: what the module can tell about certificates httpd
 * never asked it about. */
#ifndef SGH_DIAGNOSE_H
#define SGH_DIAGNOSE_H

#include "sgh_gen.h"

/* A certificate of a virtual host with StapleGuard Off was primed. */
void sgh_diagnose_declined(sgh_gen_t *g, const char *pem);

/* After priming: every SSLCertificateFile whose certificate names an OCSP
 * responder but was never primed lacks its issuer (mod_ssl primes only
 * certificates whose issuer it found). Say so, with the fix. */
void sgh_diagnose_unprimed(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

#endif

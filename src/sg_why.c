/* sg_why.c: the one word that says why a certificate has no staple. */
#include "sg_why.h"

static const struct {
    const char *name;
    const char *text;
} sg_whys[SG_WHY_COUNT] = {
    [SG_WHY_NONE] = { "", "" },
    [SG_WHY_SHORT_LIVED] = { "short-lived",
        "the certificate is valid for StapleGuardShortLived or less: it "
        "expires before a revocation would matter, so nothing is checked" },
    [SG_WHY_CRL_ONLY] = { "crl-only",
        "the certificate names no OCSP responder, only a CRL: nothing to "
        "staple; its revocation is watched through the CRL unless "
        "StapleGuardCRLWatch is Off" },
    [SG_WHY_OCSP_NOT_HTTP] = { "ocsp-not-http",
        "the certificate's OCSP URLs are not http://, which stapling cannot "
        "use: nothing to staple (set StapleGuardResponderURL)" },
    [SG_WHY_NO_REVOCATION_INFO] = { "no-revocation-info",
        "the certificate names neither an OCSP responder nor a CRL: "
        "nothing to staple and nothing to watch" },
};

sg_why_t sg_why_classify(const sg_cert_t *c, int has_responder,
                         apr_interval_time_t short_lived)
{
    sg_why_t w = SG_WHY_NO_REVOCATION_INFO;

    if (has_responder) {
        w = SG_WHY_NONE;
    }
    else if (c->not_before != 0 && c->not_after > c->not_before
             && c->not_after - c->not_before <= short_lived) {
        w = SG_WHY_SHORT_LIVED;
    }
    else if (c->crl_urls != NULL && c->crl_urls->nelts > 0) {
        w = SG_WHY_CRL_ONLY;
    }
    else if (c->ocsp_other > 0) {
        w = SG_WHY_OCSP_NOT_HTTP;
    }
    return w;
}

const char *sg_why_name(sg_why_t w)
{
    return (unsigned)w < SG_WHY_COUNT ? sg_whys[w].name : "";
}

const char *sg_why_text(sg_why_t w)
{
    return (unsigned)w < SG_WHY_COUNT ? sg_whys[w].text : "";
}

/* sg_crl_bench.c: the CRL watch's memory with a large CRL.
 *
 *   sg_crl_bench make DIR N    a CA, a leaf and a CRL of N entries (the
 *                              leaf's last, so the whole list is scanned),
 *                              written as DIR/chain.pem and DIR/big.crl.
 *                              The CRL's DER is written by hand: made with
 *                              X509_CRL it would take gigabytes here.
 *   sg_crl_bench judge URL CHAIN
 *                              what the fetcher's child does with a CRL
 *                              (sg_crl_fetch_run, then sg_crl_judge, the
 *                              core's code, not a copy), then prints
 *                              "bytes=... rss_before_kib=... peak_kib=...
 *                              verdict=..." */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sg_cert.h"
#include "sg_crl.h"
#include "sg_crl_fetch.h"
#include "sg_tool.h"

const char tool_name[] = "sg_crl_bench";

#define CB_LEAF_SERIAL 0x7fffffffL
#define CB_ENTRIES_MAX 10000000L
#define CB_TIMEOUT_SEC 120
#define CB_MAX_BYTES ((apr_size_t)1 << 30)
#define CB_DAY 86400L
/* ecdsa-with-SHA256 */
static const unsigned char cb_alg[] = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02
};

/* A DER header for tag and len into out; returns its length. */
static size_t cb_head(unsigned char *out, int tag, size_t len)
{
    size_t n = 0, i, bytes = 0;

    out[n++] = (unsigned char)tag;
    if (len < 0x80) {
        out[n++] = (unsigned char)len;
        return n;
    }
    for (i = len; i > 0; i >>= 8) {
        bytes++;
    }
    out[n++] = (unsigned char)(0x80 | bytes);
    for (i = bytes; i > 0; i--) {
        out[n++] = (unsigned char)(len >> (8 * (i - 1)));
    }
    return n;
}

/* One entry: SEQUENCE { INTEGER serial, UTCTime }. */
static size_t cb_entry(unsigned char *out, long serial, const char *utc)
{
    unsigned char body[64];
    size_t n = 0, h;

    int bytes = 4, i;

    /* DER: the fewest bytes that keep the number positive */
    while (bytes > 1 && ((serial >> (8 * (bytes - 1))) & 0xff) == 0
           && ((serial >> (8 * (bytes - 2))) & 0x80) == 0) {
        bytes--;
    }
    body[n++] = 0x02;
    body[n++] = (unsigned char)bytes;
    for (i = bytes - 1; i >= 0; i--) {
        body[n++] = (unsigned char)(serial >> (8 * i));
    }
    body[n++] = 0x17;
    body[n++] = 13;
    memcpy(body + n, utc, 13);
    n += 13;
    h = cb_head(out, 0x30, n);
    memcpy(out + h, body, n);
    return h + n;
}

static void cb_utc(char *out, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 14, "%y%m%d%H%M%SZ", &tm);
}

static void cb_write(const char *path, const void *b, size_t len)
{
    FILE *fp = tool_fopen(path, "wb");

    tool_fclose(fp, fwrite(b, 1, len, fp) == len, path);
}

static unsigned char *cb_tbs(X509 *ca, long n, size_t *len)
{
    size_t cap = (size_t)n * 32 + 4096, pos = 0, rev_len, body;
    unsigned char *rev = malloc(cap), *tbs = malloc(cap + 4096), *name = NULL;
    char now[14], next[14], when[14];
    int name_len = i2d_X509_NAME(X509_get_subject_name(ca), &name);
    long i;

    if (rev == NULL || tbs == NULL || name_len <= 0) {
        tool_die("out of memory", "tbs");
    }
    cb_utc(now, time(NULL) - 3600);
    cb_utc(next, time(NULL) + 7 * CB_DAY);
    cb_utc(when, time(NULL) - CB_DAY);
    for (i = 0; i < n; i++) {
        pos += cb_entry(rev + pos, i == n - 1 ? CB_LEAF_SERIAL : 0x100000 + i,
                        when);
    }
    rev_len = pos;
    body = 3 + sizeof(cb_alg) + (size_t)name_len + 15 + 15
           + cb_head(tbs, 0x30, rev_len) + rev_len;
    pos = cb_head(tbs, 0x30, body);
    memcpy(tbs + pos, "\x02\x01\x01", 3);
    pos += 3;
    memcpy(tbs + pos, cb_alg, sizeof(cb_alg));
    pos += sizeof(cb_alg);
    memcpy(tbs + pos, name, (size_t)name_len);
    pos += (size_t)name_len;
    tbs[pos++] = 0x17;
    tbs[pos++] = 13;
    memcpy(tbs + pos, now, 13);
    pos += 13;
    tbs[pos++] = 0x17;
    tbs[pos++] = 13;
    memcpy(tbs + pos, next, 13);
    pos += 13;
    pos += cb_head(tbs + pos, 0x30, rev_len);
    memcpy(tbs + pos, rev, rev_len);
    pos += rev_len;
    free(rev);
    OPENSSL_free(name);
    *len = pos;
    return tbs;
}

static void cb_make(const char *dir, long n)
{
    EVP_PKEY *ca_key = tool_key_new(), *leaf_key = tool_key_new();
    X509 *ca = tool_cert_new(1, "SG Bench CRL CA", NULL, ca_key);
    X509 *leaf = tool_cert_new(CB_LEAF_SERIAL, "localhost", ca, leaf_key);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[128], head[16], *tbs, *crl;
    size_t tbs_len, sig_len = sizeof(sig), body, pos, h;
    char path[4096];
    FILE *fp;

    tool_cert_sign(ca, ca_key);
    tool_cert_sign(leaf, ca_key);
    tbs = cb_tbs(ca, n, &tbs_len);
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ca_key) != 1
        || EVP_DigestSign(ctx, sig, &sig_len, tbs, tbs_len) != 1) {
        tool_die("cannot sign", "crl");
    }
    body = tbs_len + sizeof(cb_alg) + cb_head(head, 0x03, sig_len + 1)
           + sig_len + 1;
    crl = malloc(body + 16);
    if (crl == NULL) {
        tool_die("out of memory", "crl");
    }
    pos = cb_head(crl, 0x30, body);
    memcpy(crl + pos, tbs, tbs_len);
    pos += tbs_len;
    memcpy(crl + pos, cb_alg, sizeof(cb_alg));
    pos += sizeof(cb_alg);
    h = cb_head(crl + pos, 0x03, sig_len + 1);
    pos += h;
    crl[pos++] = 0;
    memcpy(crl + pos, sig, sig_len);
    pos += sig_len;
    snprintf(path, sizeof(path), "%s/big.crl", dir);
    cb_write(path, crl, pos);
    snprintf(path, sizeof(path), "%s/chain.pem", dir);
    fp = tool_fopen(path, "w");
    tool_fclose(fp, PEM_write_X509(fp, leaf) && PEM_write_X509(fp, ca), path);
    printf("entries=%ld bytes=%zu\n", n, pos);
    free(tbs);
    free(crl);
    EVP_MD_CTX_free(ctx);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ca_key);
}

static long cb_peak_kib(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static char *cb_slurp(apr_pool_t *p, const char *path)
{
    FILE *fp = tool_fopen(path, "r");
    char *buf = apr_palloc(p, 65536);
    size_t n = fread(buf, 1, 65535, fp);

    buf[n] = '\0';
    tool_fclose(fp, 1, path);
    return buf;
}

static int cb_judge(const char *url, const char *chain)
{
    apr_pool_t *p;
    sg_cert_t *c = NULL;
    const char *err = NULL;
    sg_crl_fetch_args_t fa;
    sg_crl_fetch_result_t res;
    sg_crl_args_t ca;
    sg_crl_verdict_t v;
    sg_reason_t r;
    long before;

    apr_initialize();
    apr_pool_create(&p, NULL);
    if (sg_cert_parse(&c, p, cb_slurp(p, chain), NULL, &err) != APR_SUCCESS) {
        tool_die(err, chain);
    }
    before = cb_peak_kib();
    memset(&fa, 0, sizeof(fa));
    fa.url = url;
    fa.family = APR_UNSPEC;
    fa.timeout = apr_time_from_sec(CB_TIMEOUT_SEC);
    fa.max_len = CB_MAX_BYTES;
    r = sg_crl_fetch_run(&res, p, &fa);
    if (r != SG_R_OK) {
        tool_die(sg_reason_name(r), res.detail ? res.detail : url);
    }
    ca.now = apr_time_now();
    ca.skew = apr_time_from_sec(300);
    ca.grace = SG_CRL_GRACE;
    ca.url = url;
    r = sg_crl_judge(&v, p, res.body, res.len, c, &ca);
    printf("bytes=%zu rss_before_kib=%ld peak_kib=%ld verdict=%s\n",
           res.len, before, cb_peak_kib(),
           r != SG_R_OK ? sg_reason_name(r) : v.revoked ? "revoked" : "good");
    apr_pool_destroy(p);
    apr_terminate();
    return r == SG_R_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "make") == 0) {
        cb_make(argv[2], tool_arg_long(argv[3], 1, CB_ENTRIES_MAX,
                                       "entries"));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "judge") == 0) {
        return cb_judge(argv[2], argv[3]);
    }
    tool_usage("make DIR N | judge URL CHAIN");
}

/* staple_guard.c: the staple-guard command. Asks a certificate's OCSP
 * responders and judges the answer exactly as the module does, with the
 * core's own registry, refresh step and validation, and the defaults of
 * the module's directives; prefetches into the module's store; shows a
 * store file.
 *
 *   staple-guard check CERT.pem [--issuer F] [--url U] [--proxy U]
 *                               [--timeout S]
 *   staple-guard prefetch CERT.pem --store DIR [the same options]
 *   staple-guard show FILE.ocsp
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "sg_cert.h"
#include "sg_proxy.h"
#include "sg_refresh.h"
#include "sg_registry.h"
#include "sg_store.h"
#include "sg_table.h"
#include "sg_text.h"
#include "sg_url.h"
#include "sgc.h"

/* The defaults of the module's directives (the table of
 * httpd/sgh_config.c): a response this command calls good is one the
 * module staples with its default configuration. */
#define SGC_TIMEOUT 10                      /* StapleGuardResponderTimeout */
#define SGC_TIMEOUT_MAX 300                 /* ... and its range */
#define SGC_SKEW 300                        /* StapleGuardClockSkew */
#define SGC_MAX_AGE 864000                  /* StapleGuardMaxAge */
#define SGC_NO_NEXT_LIFETIME 86400          /* StapleGuardNoNextUpdateLifetime */
#define SGC_REFRESH_PERCENT 50              /* StapleGuardRefreshAt */
#define SGC_RETRY_MIN 60                    /* StapleGuardRetryMin */
#define SGC_RETRY_MAX 3600                  /* StapleGuardRetryMax */

/* A certificate file with its chain is a few KiB; anything much larger is
 * not what it claims to be. */
#define SGC_PEM_MAX (1024 * 1024)

/* The ids of the module's log lines that this command's verdicts stand
 * for (httpd/sgh_msg.c, docs/troubleshooting.md); outcomes of a fetch or
 * a check carry the core's own ids (src/sg_reason.c). */
#define SGC_ID_NO_ISSUER "SG0005"
#define SGC_ID_URL_REFUSED "SG0012"
#define SGC_ID_GOOD "SG0020"
#define SGC_ID_REVOKED "SG0021"
#define SGC_ID_SKEW "SG0026"

/* The middle of [0, 1): the schedule's jitter does not matter here. */
#define SGC_RND 0.5

#define SGC_USAGE \
    "usage: " SGC_NAME " check CERT.pem [--issuer ISSUER.pem] [--url URL]\n" \
    "                    [--proxy URL] [--timeout SECONDS]\n" \
    "       " SGC_NAME " prefetch CERT.pem --store DIR [same options]\n" \
    "       " SGC_NAME " show FILE.ocsp|FILE.crl\n" \
    "exit: 0 good (or crl-good), 1 revoked or no usable answer (or CRL),\n" \
    "      2 usage or local error\n"

typedef struct {
    const char *command;
    const char *cert_path;
    const char *issuer_path;    /* NULL: the issuer follows in cert_path */
    const char *url;            /* NULL: the certificate's own */
    const char *proxy_url;
    const char *store_dir;      /* prefetch only */
    int timeout;
} sgc_opts_t;

typedef struct {
    apr_pool_t *p;
    const sgc_opts_t *o;
    sg_cert_t *cert;
    sg_entry_t *e;
    sg_table_t *table;
    sg_refresh_conf_t conf;
    sg_refresh_result_t res;
    apr_array_header_t *refused;    /* the certificate's URLs refused */
    uid_t store_uid;            /* the store directory's owner */
    gid_t store_gid;
} sgc_run_t;

static int sgc_usage(const char *why)
{
    if (why != NULL) {
        fprintf(stderr, SGC_NAME ": %s\n", why);
    }
    fputs(SGC_USAGE, stderr);
    return SGC_EXIT_LOCAL;
}

/* ---- options --------------------------------------------------------- */

enum { SGC_OPT_ISSUER = 'i', SGC_OPT_URL = 'u', SGC_OPT_PROXY = 'x',
       SGC_OPT_TIMEOUT = 't', SGC_OPT_STORE = 's' };

static const struct option sgc_long_opts[] = {
    { "issuer", required_argument, NULL, SGC_OPT_ISSUER },
    { "url", required_argument, NULL, SGC_OPT_URL },
    { "proxy", required_argument, NULL, SGC_OPT_PROXY },
    { "timeout", required_argument, NULL, SGC_OPT_TIMEOUT },
    { "store", required_argument, NULL, SGC_OPT_STORE },
    { NULL, 0, NULL, 0 }
};

/* The timeout as the module's directive accepts it: whole seconds. */
static int sgc_parse_timeout(const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    return (*arg != '\0' && *end == '\0' && v >= 1 && v <= SGC_TIMEOUT_MAX)
           ? (int)v : 0;
}

/* One option; returns NULL or what is wrong. */
static const char *sgc_opt(sgc_opts_t *o, int c, const char *arg)
{
    const char *bad = NULL;

    switch (c) {
    case SGC_OPT_ISSUER:  o->issuer_path = arg; break;
    case SGC_OPT_URL:     o->url = arg; break;
    case SGC_OPT_PROXY:   o->proxy_url = arg; break;
    case SGC_OPT_STORE:   o->store_dir = arg; break;
    case SGC_OPT_TIMEOUT:
        o->timeout = sgc_parse_timeout(arg);
        bad = o->timeout ? NULL : "--timeout takes whole seconds, 1 to 300";
        break;
    default:              bad = "unknown option"; break;
    }
    return bad;
}

/* argv after the command: options, and one file. */
static const char *sgc_parse_args(sgc_opts_t *o, int argc, char **argv)
{
    const char *bad = NULL;
    int c;

    o->timeout = SGC_TIMEOUT;
    opterr = 0;
    optind = 1;
    while (bad == NULL
           && (c = getopt_long(argc, argv, "", sgc_long_opts, NULL)) != -1) {
        bad = sgc_opt(o, c, optarg);
    }
    if (bad == NULL && optind != argc - 1) {
        bad = "give exactly one file";
    }
    if (bad == NULL) {
        o->cert_path = argv[optind];
    }
    if (bad == NULL && (o->store_dir != NULL)
                       != (strcmp(o->command, "prefetch") == 0)) {
        bad = o->store_dir ? "--store is for prefetch"
                           : "prefetch needs --store DIR";
    }
    return bad;
}

/* ---- local inputs ---------------------------------------------------- */

/* The certificate, with its issuer from the same file or --issuer. */
static int sgc_load_cert(sgc_run_t *r)
{
    const sgc_opts_t *o = r->o;
    char *pem, *issuer = "";
    apr_size_t len;
    const char *err;

    if (sgc_read_file(r->p, o->cert_path, SGC_PEM_MAX, &pem, &len, &err)) {
        return sgc_fail("cannot read %s: %s", o->cert_path, err);
    }
    if (o->issuer_path != NULL && sgc_read_file(r->p, o->issuer_path,
                                                SGC_PEM_MAX, &issuer, &len,
                                                &err)) {
        return sgc_fail("cannot read %s: %s", o->issuer_path, err);
    }
    if (sg_cert_parse(&r->cert, r->p, apr_pstrcat(r->p, pem, "\n", issuer,
                                                  NULL), NULL, &err)
        == APR_SUCCESS) {
        return SGC_EXIT_GOOD;
    }
    /* sg_cert_parse names this case only in its sentence, whose advice
     * is for httpd's configuration. */
    if (strstr(err, "issuer certificate is missing") == NULL) {
        return sgc_fail("%s: not a usable PEM certificate: %s",
                        o->cert_path, err);
    }
    return o->issuer_path
           ? sgc_fail("%s " SGC_ID_NO_ISSUER ": %s did not issue it",
                      o->cert_path, o->issuer_path)
           : sgc_fail("%s " SGC_ID_NO_ISSUER ": the issuer certificate (the "
                      "intermediate) is missing: append it to the file "
                      "(certbot: fullchain.pem) or give --issuer",
                      o->cert_path);
}

/* The store directory exists, is one, and we may write in it; its owner
 * will own the file, so that the module's User keeps owning its store. */
static int sgc_check_store(sgc_run_t *r)
{
    struct stat st;
    const char *dir = r->o->store_dir;

    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return sgc_fail("--store %s: not a directory (symlinks are not "
                        "followed); nothing written", dir);
    }
    if (access(dir, W_OK | X_OK) != 0) {
        return sgc_fail("--store %s: cannot write there; nothing written",
                        dir);
    }
    r->store_uid = st.st_uid;
    r->store_gid = st.st_gid;
    return SGC_EXIT_GOOD;
}

/* ---- asking ---------------------------------------------------------- */

static void sgc_conf(sg_refresh_conf_t *conf, int timeout)
{
    memset(conf, 0, sizeof(*conf));
    conf->timeout = timeout;
    conf->skew = apr_time_from_sec(SGC_SKEW);
    conf->max_age = apr_time_from_sec(SGC_MAX_AGE);
    conf->no_next_lifetime = apr_time_from_sec(SGC_NO_NEXT_LIFETIME);
    conf->schedule.refresh_percent = SGC_REFRESH_PERCENT;
    conf->schedule.retry_min = apr_time_from_sec(SGC_RETRY_MIN);
    conf->schedule.retry_max = apr_time_from_sec(SGC_RETRY_MAX);
    conf->family = APR_UNSPEC;
}

/* One certificate in a registry and a table of one slot, as the module
 * holds it; --url replaces every URL of the certificate, as
 * StapleGuardResponderURL does. */
static int sgc_entry(sgc_run_t *r, const sg_proxy_t *px)
{
    sg_registry_t *reg = sg_registry_create(r->p);
    apr_size_t arena = sg_table_arena_size(1, 0, 0);
    void *mem = apr_pcalloc(r->p, sg_table_size(1, arena));

    r->table = sg_table_init(mem, 1, arena);
    r->e = sg_registry_add(reg, r->cert->hash, SG_CERT_HASH_HEX_LEN, NULL);
    if (r->table == NULL) {
        return sgc_fail("cannot make the table");
    }
    sg_registry_set_cert(r->e, r->cert);
    sg_registry_set_proxy(r->e, px);
    if (r->o->url != NULL) {
        sg_registry_set_url(r->e, r->o->url);
    }
    else {
        sg_registry_set_urls(r->e, sg_url_usable(r->p, r->cert->urls,
                                                 &r->refused));
    }
    return SGC_EXIT_GOOD;
}

/* Everything local first: nothing is asked when an input will not do. */
static int sgc_prepare(sgc_run_t *r)
{
    sg_proxy_t *px = NULL;
    const char *err;
    int rc;

    if (r->o->url != NULL
        && (err = sg_url_check_responder(r->o->url)) != NULL) {
        return sgc_fail("--url '%s' %s", sg_text_log(r->p, r->o->url), err);
    }
    if (r->o->proxy_url != NULL
        && (err = sg_proxy_parse(&px, r->p, r->o->proxy_url)) != NULL) {
        return sgc_fail("--proxy '%s' %s",
                        sg_text_log(r->p, sg_proxy_url_shown(r->p,
                                                             r->o->proxy_url)),
                        err);
    }
    rc = sgc_load_cert(r);
    if (rc == SGC_EXIT_GOOD && r->o->store_dir != NULL) {
        rc = sgc_check_store(r);
    }
    if (rc == SGC_EXIT_GOOD) {
        sgc_conf(&r->conf, r->o->timeout);
        rc = sgc_entry(r, px);
    }
    return rc;
}

/* ---- the verdict ----------------------------------------------------- */

static const char *sgc_time(apr_pool_t *p, apr_time_t t)
{
    const char *s = sg_text_time(p, t);

    return s ? s : "none";
}

/* "; failed first: URL (reason); ..." and a clock that disagrees. */
static const char *sgc_notes(const sgc_run_t *r)
{
    const sg_refresh_result_t *res = &r->res;

    return apr_psprintf(r->p, "%s%s%s", res->failed ? "; failed first: " : "",
                        res->failed ? res->failed : "",
                        res->produced_ahead == 0 ? "" : apr_psprintf(r->p,
                        "; " SGC_ID_SKEW ": producedAt is %" APR_TIME_T_FMT
                        " s ahead of this clock: one of the two is wrong",
                        apr_time_sec(res->produced_ahead)));
}

static int sgc_say_answer(const sgc_run_t *r)
{
    const sg_verdict_t *v = &r->res.verdict;

    if (v->revoked) {
        printf(SGC_ID_REVOKED " REVOKED: %s: revoked at %s, says %s "
               "(thisUpdate %s): install a new certificate%s\n",
               r->cert->subject, sgc_time(r->p, v->revoked_at), r->res.url,
               sgc_time(r->p, v->this_update), sgc_notes(r));
        return SGC_EXIT_BAD;
    }
    printf(SGC_ID_GOOD " good: %s: good until %s (thisUpdate %s, nextUpdate "
           "%s) from %s%s\n", r->cert->subject, sgc_time(r->p, v->next_update),
           sgc_time(r->p, v->this_update),
           sgc_time(r->p, v->response_next_update), r->res.url, sgc_notes(r));
    return SGC_EXIT_GOOD;
}

static int sgc_say_refused(const sgc_run_t *r)
{
    const sg_refresh_result_t *res = &r->res;
    const char *detail = sg_text_log(r->p, res->fetch.detail
                                           ? res->fetch.detail
                                           : res->verdict.detail);

    printf("%s %s: %s: %s: %s%s%s%s%s\n", sg_reason_id(res->reason),
           sg_reason_name(res->reason), r->cert->subject, res->url,
           sg_reason_text(res->reason), detail ? " - " : "",
           detail ? detail : "", res->failed ? "; failed before: " : "",
           res->failed ? res->failed : "");
    return SGC_EXIT_BAD;
}

/* Each of the certificate's URLs that is never asked, as the module's
 * line (SG0012) says it. */
static void sgc_say_url_refused(const sgc_run_t *r)
{
    int i;

    for (i = 0; r->refused != NULL && i < r->refused->nelts; i++) {
        const char *u = APR_ARRAY_IDX(r->refused, i, const char *);

        printf(SGC_ID_URL_REFUSED " OCSP URL refused: %s: \"%s\" %s; never "
               "asked\n", r->cert->subject, sg_text_log(r->p, u),
               sg_url_check_chars(u));
    }
}

/* Ask, and say in one line what the module would make of it. */
static int sgc_ask(sgc_run_t *r)
{
    sgc_say_url_refused(r);
    if (sg_registry_url_count(r->e) == 0 && r->refused != NULL) {
        return SGC_EXIT_BAD;
    }
    if (sg_registry_url_count(r->e) == 0) {
        /* as the module: why, and the CRL watched when crl-only */
        return sgc_crl_check(r->p, r->cert, r->e->proxy, r->o->timeout);
    }
    sg_refresh_run(&r->res, r->p, r->e, r->table, &r->conf, apr_time_now(),
                   SGC_RND);
    /* An error answer to a GET may be a CDN's cached copy: ask once more
     * with POST at once, as the module's next attempt does (the refresh
     * step set force_post). */
    if (r->res.reason != SG_R_OK && r->e->force_post
        && !r->res.fetch.used_post) {
        sg_refresh_run(&r->res, r->p, r->e, r->table, &r->conf,
                       apr_time_now(), SGC_RND);
    }
    return r->res.reason == SG_R_OK ? sgc_say_answer(r) : sgc_say_refused(r);
}

/* ---- prefetch -------------------------------------------------------- */

/* The answer, as the module's store keeps it, under the name the module
 * looks for (httpd/sgh_store.c). */
static int sgc_store(sgc_run_t *r)
{
    const char *name = apr_pstrcat(r->p, r->cert->hash, SG_STORE_SUFFIX,
                                   NULL);
    unsigned char *buf;
    apr_size_t len;
    apr_status_t rv;
    char eb[128];

    rv = sg_store_encode(r->p, r->cert->hash_bin, r->res.fetch.der,
                         r->res.fetch.der_len, &buf, &len);
    if (rv == APR_SUCCESS) {
        rv = sg_store_write(r->p, r->o->store_dir, name, buf, len,
                            r->store_uid, r->store_gid);
    }
    if (rv != APR_SUCCESS) {
        return sgc_fail("cannot write %s/%s: %s; nothing written",
                        r->o->store_dir, name,
                        apr_strerror(rv, eb, sizeof(eb)));
    }
    printf("stored %s/%s: the module staples it from its next start or "
           "graceful restart\n", r->o->store_dir, name);
    return SGC_EXIT_GOOD;
}

static int sgc_check_or_prefetch(apr_pool_t *p, const sgc_opts_t *o)
{
    sgc_run_t r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.p = p;
    r.o = o;
    rc = sgc_prepare(&r);
    if (rc == SGC_EXIT_GOOD) {
        rc = sgc_ask(&r);
        if (o->store_dir != NULL && rc == SGC_EXIT_GOOD) {
            rc = sgc_store(&r);
        }
        else if (o->store_dir != NULL) {
            printf("nothing written to %s: only a good answer is stored\n",
                   o->store_dir);
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    apr_pool_t *p = NULL;
    sgc_opts_t o;
    const char *bad;
    int rc;

    if (argc < 2) {
        return sgc_usage(NULL);
    }
    memset(&o, 0, sizeof(o));
    o.command = argv[1];
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return sgc_fail("cannot initialize APR");
    }
    if (strcmp(o.command, "show") == 0) {
        rc = argc == 3 ? sgc_show(p, argv[2])
                       : sgc_usage("show takes one store file");
    }
    else if (strcmp(o.command, "check") != 0
             && strcmp(o.command, "prefetch") != 0) {
        rc = sgc_usage("the command is check, prefetch or show");
    }
    else if ((bad = sgc_parse_args(&o, argc - 1, argv + 1)) != NULL) {
        rc = sgc_usage(bad);
    }
    else {
        rc = sgc_check_or_prefetch(p, &o);
    }
    fflush(stdout);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}

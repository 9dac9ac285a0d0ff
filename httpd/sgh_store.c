/* sgh_store.c: glue between httpd and sg_store. */
#include <errno.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <unixd.h>

#include "sg_store.h"
#include "sgh_config.h"
#include "sgh_log.h"
#include "sgh_msg.h"
#include "sgh_store.h"

APLOG_USE_MODULE(staple_guard);

/* Files of certificates no longer configured stay this long, so that
 * taking a virtual host out for a while does not lose its response. */
#define SGH_STORE_GRACE apr_time_from_sec(7 * 24 * 3600)

/* Write failures are logged once, and again after a success. */
static apr_uint32_t sgh_store_write_failing;

static const char *sgh_store_name(apr_pool_t *p, const sg_entry_t *e)
{
    return apr_pstrcat(p, e->cert->hash, SG_STORE_SUFFIX, NULL);
}

static const char *sgh_store_dir(apr_pool_t *p)
{
    const char *dir = sgh_config_global()->store_dir;

    if (dir == NULL) {
        dir = ap_runtime_dir_relative(p, SGH_STORE_DEFAULT_NAME);
    }
    return (dir != NULL && *dir != '\0') ? dir : NULL;
}

static void sgh_store_refuse(server_rec *s, apr_pool_t *p, const char *dir,
                             const sg_entry_t *e, const char *why)
{
    const char *name = sgh_store_name(p, e);
    apr_status_t rv = sg_store_set_aside(p, dir, name);

    sgh_log(SGH_M_STORE_REFUSED, 0, s, rv, "%s: stored response %s/%s "
            "refused: %s; %s, fetching a new one", e->cert->subject, dir,
            name, why, rv == APR_SUCCESS ? "set aside as " SG_STORE_BAD_SUFFIX
                                         : "could not set it aside");
}

void sgh_store_refuse_for(sgh_store_found_t *f, apr_pool_t *p, sg_reason_t r)
{
    f->refused = apr_pstrcat(p, sg_reason_text(r), " (", sg_reason_id(r), ")",
                             NULL);
}

void sgh_store_check(sgh_store_found_t *f, const sgh_gen_t *g, apr_pool_t *p,
                     const sg_entry_t *e, apr_time_t now)
{
    unsigned char *buf;
    const unsigned char *der;
    apr_size_t len, der_len;
    sg_store_format_t fmt;
    sg_reason_t r;
    apr_status_t rv;
    char err[128];

    memset(f, 0, sizeof(*f));
    if (g->store_dir == NULL) {
        return;
    }
    rv = sg_store_read(p, g->store_dir, sgh_store_name(p, e),
                       SG_STORE_FILE_MAX, &buf, &len);
    if (APR_STATUS_IS_ENOENT(rv)) {
        return;
    }
    f->present = 1;
    if (rv != APR_SUCCESS) {
        f->refused = rv == APR_FROM_OS_ERROR(ELOOP)
                     ? "it is a symlink, and symlinks are never followed"
                     : rv == APR_EINVAL ? "not a regular file"
                     : rv == SG_STORE_E_TOO_LARGE
                     ? sg_store_format_text(SG_STORE_TOO_LARGE)
                     : apr_pstrdup(p, apr_strerror(rv, err, sizeof(err)));
        return;
    }
    fmt = sg_store_decode(buf, len, e->cert->hash_bin, &der, &der_len);
    if (fmt != SG_STORE_OK) {
        f->refused = sg_store_format_text(fmt);
        return;
    }
    r = sg_refresh_check(&f->verdict, p, e, &g->refresh, der, der_len, now);
    if (r != SG_R_OK) {
        sgh_store_refuse_for(f, p, r);
        return;
    }
    f->der = der;
    f->len = der_len;
}

void sgh_store_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sgh_store_found_t *f)
{
    if (!f->present) {
        return;
    }
    if (f->refused != NULL) {
        sgh_store_refuse(s, p, g->store_dir, e, f->refused);
        return;
    }
    sgh_log_adopted(s, p, e, SG_SOURCE_STORE,
                    sg_refresh_take(e, g->table, &g->refresh, f->der, f->len,
                                    &f->verdict, SG_SOURCE_STORE, NULL,
                                    apr_time_now(), sgh_random()),
                    &f->verdict);
}

void sgh_store_open(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    const char *dir = sgh_store_dir(ptemp), *err = NULL;
    apr_status_t rv;

    g->store_dir = NULL;
    if (dir == NULL) {
        return;
    }
    rv = sg_store_prepare(ptemp, dir, ap_unixd_config.user_id,
                          ap_unixd_config.group_id, &err);
    if (rv != APR_SUCCESS) {
        sgh_log(SGH_M_STORE_UNUSABLE, 0, s, rv, "the store directory %s %s: "
                "responses are kept in memory only and will not survive a "
                "full restart", dir, err);
        return;
    }
    g->store_dir = apr_pstrdup(g->pool, dir);
}

void sgh_store_prune_unused(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    apr_hash_t *keep = apr_hash_make(ptemp);
    int i, removed;

    if (g->store_dir == NULL) {
        return;
    }
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        apr_hash_set(keep, sgh_store_name(ptemp, e), APR_HASH_KEY_STRING, e);
    }
    removed = sg_store_prune(ptemp, g->store_dir, keep, SGH_STORE_GRACE,
                             apr_time_now());
    if (removed > 0) {
        sgh_log(SGH_M_STORE_PRUNED, 0, s, 0, "removed %d stored responses of "
                "certificates no longer configured", removed);
    }
}

void sgh_store_save(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                    const sg_entry_t *e, const unsigned char *der,
                    apr_size_t len)
{
    unsigned char *buf;
    apr_size_t buf_len;
    apr_status_t rv;

    if (g->store_dir == NULL) {
        return;
    }
    rv = sg_store_encode(p, e->cert->hash_bin, der, len, &buf, &buf_len);
    if (rv == APR_SUCCESS) {
        rv = sg_store_write(p, g->store_dir, sgh_store_name(p, e), buf,
                            buf_len, ap_unixd_config.user_id,
                            ap_unixd_config.group_id);
    }
    /* Fetcher threads save at once: one of them says it. */
    if (apr_atomic_xchg32(&sgh_store_write_failing, rv != APR_SUCCESS) == 0
        && rv != APR_SUCCESS) {
        sgh_log(SGH_M_STORE_WRITE, 0, s, rv, "cannot write to the store "
                "directory %s: the response is kept in memory only",
                g->store_dir);
    }
}

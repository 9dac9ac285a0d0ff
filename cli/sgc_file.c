/* sgc_file.c: messages and local files for the staple-guard command. */
#include <stdarg.h>
#include <stdio.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "sgc.h"

/* Room for an OS error message. */
#define SGC_ERRBUF 128

int sgc_fail(const char *fmt, ...)
{
    va_list ap;

    fputs(SGC_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SGC_EXIT_LOCAL;
}

int sgc_read_file(apr_pool_t *p, const char *path, apr_size_t max,
                  char **buf, apr_size_t *len, const char **err)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char eb[SGC_ERRBUF];

    *err = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE, f);
    }
    if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
        *err = "not a regular file";
    }
    else if (rv == APR_SUCCESS && (apr_size_t)fi.size > max) {
        *err = apr_psprintf(p, "larger than %" APR_SIZE_T_FMT " bytes", max);
    }
    else if (rv == APR_SUCCESS) {
        *len = (apr_size_t)fi.size;
        *buf = apr_palloc(p, *len + 1);
        rv = apr_file_read_full(f, *buf, *len, NULL);
        (*buf)[*len] = '\0';
    }
    if (rv != APR_SUCCESS) {
        *err = apr_pstrdup(p, apr_strerror(rv, eb, sizeof(eb)));
    }
    if (f != NULL) {
        apr_file_close(f);
    }
    return *err != NULL;
}

/* sg_text.c: escaping for JSON and the Prometheus text format. */
#include <string.h>

#include <apr_strings.h>

#include "sg_text.h"

#define SG_TEXT_JSON_WORST 6    /* \uXXXX per input byte */
#define SG_TEXT_SPACE 0x20

const char *sg_text_json(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len * SG_TEXT_JSON_WORST + 3), *o = out;
    const unsigned char *c;

    *o++ = '"';
    for (c = (const unsigned char *)s; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c < SG_TEXT_SPACE || *c == '<' || *c == '>' || *c == '&') {
            apr_snprintf(o, SG_TEXT_JSON_WORST + 1, "\\u%04x", *c);
            o += SG_TEXT_JSON_WORST;
        }
        else {
            *o++ = (char)*c;    /* UTF-8 passes through as is */
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *sg_text_label(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len * 2 + 1), *o = out;

    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

const char *sg_text_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;

    if (t == 0 || apr_time_exp_gmt(&x, t) != APR_SUCCESS) {
        return NULL;
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", x.tm_year + 1900,
                        x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min,
                        x.tm_sec);
}

void sg_text_add_unique(apr_array_header_t *set, const char *s)
{
    int i;

    for (i = 0; i < set->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(set, i, const char *), s) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(set, const char *) = apr_pstrdup(set->pool, s);
}

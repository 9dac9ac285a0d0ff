/* sg_text.c: escaping for the error log, JSON and the Prometheus text
 * format. */
#include <string.h>

#include <apr_strings.h>

#include "sg_text.h"

#define SG_TEXT_JSON_WORST 6    /* \uXXXX per input byte */
#define SG_TEXT_LOG_WORST 4     /* \xHH per input byte */
#define SG_TEXT_SPACE 0x20
#define SG_TEXT_DEL 0x7f

/* A continuation byte of UTF-8: 10xxxxxx. */
#define SG_TEXT_CONT(c) (((c) & 0xc0) == 0x80)

/* The length of the well-formed UTF-8 sequence (RFC 3629 section 4: no
 * overlong form, no surrogate, nothing past U+10FFFF) that c starts, or 0
 * when c starts none. Reads no further than a NUL: it is no continuation
 * byte. */
static int sg_text_utf8_len(const unsigned char *c)
{
    if (c[0] < 0x80) {
        return 1;
    }
    if (c[0] >= 0xc2 && c[0] <= 0xdf) {
        return SG_TEXT_CONT(c[1]) ? 2 : 0;
    }
    if (c[0] >= 0xe0 && c[0] <= 0xef) {
        return ((c[0] == 0xe0 && c[1] >= 0xa0 && c[1] <= 0xbf)
                || (c[0] == 0xed && c[1] >= 0x80 && c[1] <= 0x9f)
                || (c[0] != 0xe0 && c[0] != 0xed && SG_TEXT_CONT(c[1])))
               && SG_TEXT_CONT(c[2]) ? 3 : 0;
    }
    if (c[0] >= 0xf0 && c[0] <= 0xf4) {
        return ((c[0] == 0xf0 && c[1] >= 0x90 && c[1] <= 0xbf)
                || (c[0] == 0xf4 && c[1] >= 0x80 && c[1] <= 0x8f)
                || (c[0] > 0xf0 && c[0] < 0xf4 && SG_TEXT_CONT(c[1])))
               && SG_TEXT_CONT(c[2]) && SG_TEXT_CONT(c[3]) ? 4 : 0;
    }
    return 0;
}

/* "\xHH" for byte c at o (SG_TEXT_LOG_WORST bytes and a NUL). */
static char *sg_text_hex(char *o, unsigned char c)
{
    apr_snprintf(o, SG_TEXT_LOG_WORST + 1, "\\x%02x", c);
    return o + SG_TEXT_LOG_WORST;
}

const char *sg_text_log(apr_pool_t *p, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    char *out, *o;

    if (s == NULL) {
        return NULL;
    }
    while (*c >= SG_TEXT_SPACE && *c < SG_TEXT_DEL && *c != '"'
           && *c != '\\') {
        c++;
    }
    if (*c == '\0') {
        return s;               /* nothing to escape: most strings */
    }
    out = apr_palloc(p, strlen(s) * SG_TEXT_LOG_WORST + 1);
    o = out;
    for (c = (const unsigned char *)s; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c < SG_TEXT_SPACE || *c >= SG_TEXT_DEL) {
            o = sg_text_hex(o, *c);
        }
        else {
            *o++ = (char)*c;
        }
    }
    *o = '\0';
    return out;
}

const char *sg_text_json(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len * SG_TEXT_JSON_WORST + 3), *o = out;
    const unsigned char *c;
    int n;

    *o++ = '"';
    for (c = (const unsigned char *)s; *c != '\0'; c += n) {
        n = sg_text_utf8_len(c);
        if (n == 0) {
            /* not UTF-8: the text "\xHH", as the log shows the byte */
            *o++ = '\\';
            o = sg_text_hex(o, *c);
            n = 1;
        }
        else if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c < SG_TEXT_SPACE || *c == SG_TEXT_DEL || *c == '<'
                 || *c == '>' || *c == '&') {
            apr_snprintf(o, SG_TEXT_JSON_WORST + 1, "\\u%04x", *c);
            o += SG_TEXT_JSON_WORST;
        }
        else {
            memcpy(o, c, (apr_size_t)n);    /* UTF-8 passes through */
            o += n;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *sg_text_label(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len * (SG_TEXT_LOG_WORST + 1) + 1), *o = out;
    const unsigned char *c;
    int n;

    for (c = (const unsigned char *)s; *c != '\0'; c += n) {
        n = sg_text_utf8_len(c);
        if (*c == '\\' || *c == '"') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (n == 0 || *c < SG_TEXT_SPACE || *c == SG_TEXT_DEL) {
            /* the format has no escape for these: the text "\xHH" */
            *o++ = '\\';
            o = sg_text_hex(o, *c);
            n = 1;
        }
        else {
            memcpy(o, c, (apr_size_t)n);
            o += n;
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

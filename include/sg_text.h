/* sg_text.h: putting certificate-derived strings (which an attacker who
 * got a certificate issued may have chosen), and what responders and
 * proxies answer, into the error log, JSON and Prometheus output safely.
 * HTML uses httpd's ap_escape_html2. */
#ifndef SG_TEXT_H
#define SG_TEXT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* s for a line of the error log or of the command's output: printable
 * ASCII stays, '"' and '\\' get a backslash, every other byte (controls,
 * DEL, non-ASCII) is written \xHH: a CR is "\x0d". The rule of httpd's
 * ap_escape_logitem, except that it writes a few controls as \r, \n, \t.
 * Returns s itself when nothing needs escaping; NULL for NULL. */
const char *sg_text_log(apr_pool_t *p, const char *s);

/* A JSON string literal, quotes included; "<", ">" and "&" are escaped
 * too, so that the JSON is also safe to embed in HTML. Well-formed UTF-8
 * passes through; a byte that is not part of it becomes the text "\xHH"
 * (as the log shows it), so the JSON is always valid UTF-8. */
const char *sg_text_json(apr_pool_t *p, const char *s);

/* A Prometheus label value (without the quotes): \, " and newline get a
 * backslash; other controls and bytes that are not UTF-8 become the text
 * "\xHH". */
const char *sg_text_label(apr_pool_t *p, const char *s);

/* Append a copy of s to an array of strings unless it is there already
 * (a certificate's virtual host names, each once). */
void sg_text_add_unique(apr_array_header_t *set, const char *s);

/* "2026-11-23T12:00:00Z", or NULL for 0. */
const char *sg_text_time(apr_pool_t *p, apr_time_t t);

#endif

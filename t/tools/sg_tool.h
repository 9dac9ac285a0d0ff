/*
 * sg_tool.h -- what the test and benchmark tools share: sg_responder,
 * sg_mkcerts and sg_staplecheck (t/tools/, built into build/tools/) and
 * the benchmarks' load client sg_bench (bench/, build/bench/).
 *
 * The tools are short-lived programs that nothing links against: on any
 * error these helpers say why on stderr and exit, so none of them returns
 * a failure for the caller to pass on.
 */
#ifndef SG_TOOL_H
#define SG_TOOL_H

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Every key a tool makes: EC keys are quick to make. */
#define TOOL_CURVE		"P-256"
/* A certificate a tool makes is valid from a little in the past (clock
 * skew between the tool and whoever checks it) until long after any run. */
#define TOOL_BACKDATE		3600L
#define TOOL_LIFETIME		(30L * 24 * 3600)

/* Each tool defines this: the name its messages start with. */
extern const char tool_name[];

/* "usage: NAME args" (args ends with a newline), exit 2. */
void	 tool_usage(const char *args) __attribute__((noreturn));
/* "NAME: what[: arg]" and OpenSSL's error queue, exit 1. */
void	 tool_die(const char *what, const char *arg)
	    __attribute__((noreturn));

/* A whole decimal number in min..max: 0, or -1 when s is not one. */
int	 tool_parse_long(const char *s, long min, long max, long *out);
/* The same for a command line argument: dies with "what: s". */
long	 tool_arg_long(const char *s, long min, long max, const char *what);

FILE	*tool_fopen(const char *path, const char *mode);
/* Closes fp; dies if that or the writing before (ok == 0) failed. */
void	 tool_fclose(FILE *fp, int ok, const char *path);

X509	*tool_load_cert(const char *path);
EVP_PKEY *tool_load_key(const char *path);

EVP_PKEY *tool_key_new(void);
/* A v3 certificate for CN=cn with the key pub, issued by issuer (NULL:
 * by itself), valid TOOL_BACKDATE ago to TOOL_LIFETIME ahead; without
 * extensions and not yet signed. */
X509	*tool_cert_new(long serial, const char *cn, X509 *issuer,
	    EVP_PKEY *pub);
void	 tool_cert_sign(X509 *x, EVP_PKEY *key);

/* Every send and receive on fd gives up after secs (best effort). */
void	 tool_sock_timeouts(int fd, long secs);

#endif

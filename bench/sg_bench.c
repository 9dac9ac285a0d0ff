/*
 * sg_bench -- TLS handshake load client that asks for an OCSP staple.
 *
 * Every connection is a full handshake (no session cache, no tickets, no
 * resumption) with status_request, so each one costs the server what a
 * new visitor costs it, and each one shows whether a staple came along.
 * A staple counts as valid only if it parses, is "successful", answers
 * for this very certificate with status good, is inside its validity
 * window, and (with -C) is signed by the issuer or a responder the issuer
 * authorized (OCSP_basic_verify against the presented chain).  A staple
 * byte-identical to the last valid one for the same certificate is only
 * checked against its validity window again (see struct bn_cache).
 *
 * Flat out (default), each connection starts its next handshake when the
 * last is done; with -q RATE handshakes start at a fixed rate, so that
 * every server under test does the same work per second.
 *
 * Output: one machine-readable line ("sg_bench key=value ...") and one
 * line for people; with -L FILE also every handshake's latency (ms, one
 * per line, sorted), so that runs can be pooled into one percentile; with
 * -O FILE one line per handshake as it ends (wall-clock time, outcome,
 * and the valid staple's thisUpdate and nextUpdate), so that a long run
 * can be laid over what the server and its responder did meanwhile.
 * SIGTERM or SIGINT ends a run early, with its report (a run under a
 * restart storm lasts as long as the storm).
 * Exit status 0 when at least one handshake completed.
 *
 * Build: make build/bench/sg_bench (with t/tools/sg_tool.c, -lssl -lcrypto
 * -lpthread)
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sg_tool.h"

#define BN_NAME			"sg_bench"

#define BN_DEFAULT_HOST		"127.0.0.1"
#define BN_DEFAULT_SNI		"localhost"
#define BN_DEFAULT_CONC		1
#define BN_DEFAULT_TIMEOUT	30	/* seconds per socket operation */
#define BN_CONC_MAX		1024
#define BN_NAME_MAX		256	/* one SNI name, expanded */
#define BN_LAT_INITIAL		4096	/* latency samples per thread, grows */
#define BN_CLOCK_SKEW		300	/* seconds, as mod_staple_guard's default */
#define BN_MS_PER_S		1000.0
#define BN_NS_PER_S		1000000000.0
#define BN_PERCENT		100.0
#define BN_P50			0.50
#define BN_P99			0.99
#define BN_READ_CHUNK		4096
#define BN_LATE_MS		1.0	/* -q: a start this late counts as late */

/* What one connection ended with. */
enum bn_outcome {
	BN_FAILED,		/* no handshake (connect, TLS or verify error) */
	BN_NO_STAPLE,		/* handshake, but no status response sent */
	BN_BAD_STAPLE,		/* a staple that is not a valid good response */
	BN_VALID_STAPLE,	/* a staple that passed every check */
	BN_OUTCOMES
};

static const char *bn_outcome_key[BN_OUTCOMES] = {
	"failed", "no_staple", "bad_staple", "valid_staple"
};

struct bn_opts {
	const char	*host;
	int		 port;
	const char	*sni;		/* may hold one %d, see -R */
	long		 names;		/* -R: rotate %d over 0..names-1 */
	int		 conc;
	double		 duration;	/* -d, seconds; 0 when -N is used */
	long		 count;		/* -N, total handshakes */
	const char	*cafile;	/* -C: verify chain and staple signature */
	const char	*label;		/* -l: echoed in the machine line */
	int		 request;	/* -r: send HEAD / and read the answer */
	int		 timeout;	/* -t */
	int		 verbose;	/* -v: print why staples were refused */
	int		 no_status;	/* -S: do not ask for a staple (control) */
	double		 rate;		/* -q: handshakes/s in all; 0 = flat out */
	const char	*latfile;	/* -L: every latency, for pooling */
	const char	*outfile;	/* -O: one line per handshake */
};

/* Shared by all workers; only the atomics change while they run. */
struct bn_run {
	const struct bn_opts	*o;
	SSL_CTX			*ctx;
	struct sockaddr_in	 addr;
	struct timespec		 start;
	double			 deadline;	/* seconds since start; 0 = none */
	atomic_long		 next;		/* next handshake number (-N, -R) */
	atomic_long		 late;		/* -q: started > BN_LATE_MS late */
	FILE			*out;		/* -O, or NULL */
};

/* Set by SIGTERM or SIGINT: no handshake starts after it. */
static volatile sig_atomic_t bn_stop;

/*
 * The last staple a worker found valid, and for which certificate.
 * Checking a staple (parse, CertID hashes, signature) costs the client
 * more CPU than serving it costs the server; the client shares the
 * machine with httpd, so paying that on every handshake would slow the
 * stapling configurations down for a reason that is not theirs (and "no
 * stapling" gives the client nothing to check).  A staple byte-identical
 * to one fully checked for the same certificate has the same status,
 * CertID and signature; only time moves, so its validity window is
 * checked again on every handshake.
 */
struct bn_cache {
	unsigned char	*der;
	int		 len;
	X509		*leaf;
	time_t		 this_upd, next_upd;
};

struct bn_worker {
	struct bn_run	*run;
	pthread_t	 tid;
	long		 outcome[BN_OUTCOMES];
	double		*lat;		/* handshake latencies, ms */
	size_t		 nlat, caplat;
	struct bn_cache	 cache;
	char		 why[BN_NAME_MAX];	/* first refusal reason */
	const char	*last_why;	/* the last handshake's, for -O */
};

const char tool_name[] = BN_NAME;

static void __attribute__((noreturn))
bn_usage(void)
{
	tool_usage("-p port [-h host] [-n sni] [-R names] [-c concurrency]\n"
	    "       (-d seconds | -N count) [-C cafile] [-l label] [-r] "
	    "[-t timeout] [-v] [-S] [-q rate] [-L file] [-O file]\n"
	    "  -n sni    server name; with -R, may hold one %d that is "
	    "replaced by\n"
	    "            0..names-1 in turn (e.g. -n 'h%d.bench.test' "
	    "-R 1000)\n"
	    "  -r        after the handshake send HEAD / and read the "
	    "answer\n"
	    "  -S        do not ask for a staple (a control run)\n"
	    "  -q rate   start handshakes at this rate (per second, all "
	    "connections\n"
	    "            together) instead of each right after the last\n"
	    "  -L file   write every handshake latency (ms, sorted) to file\n"
	    "  -O file   write a line per handshake as it ends: wall-clock "
	    "time,\n"
	    "            outcome, the valid staple's thisUpdate and nextUpdate "
	    "(epoch\n"
	    "            seconds, 0 without one) and why a staple was bad\n");
}

static double
bn_parse_seconds(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		tool_die("bad duration", s);
	return v;
}

/* Only "%d" may appear, once: the name is a format string. */
static void
bn_check_sni(const char *sni)
{
	const char	*p = strchr(sni, '%');

	if (p != NULL && (p[1] != 'd' || strchr(p + 2, '%') != NULL))
		tool_die("-n may hold a single %d and no other %", sni);
}

static void
bn_parse_args(int argc, char *argv[], struct bn_opts *o)
{
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->host = BN_DEFAULT_HOST;
	o->sni = BN_DEFAULT_SNI;
	o->names = 1;
	o->conc = BN_DEFAULT_CONC;
	o->timeout = BN_DEFAULT_TIMEOUT;
	o->label = "-";
	while ((ch = getopt(argc, argv, "h:p:n:R:c:d:N:C:l:rt:vSq:L:O:")) != -1) {
		switch (ch) {
		case 'h': o->host = optarg; break;
		case 'p':
			o->port = (int)tool_arg_long(optarg, 1, 65535,
			    "bad port");
			break;
		case 'n': o->sni = optarg; break;
		case 'R':
			o->names = tool_arg_long(optarg, 1, INT_MAX, "bad -R");
			break;
		case 'c':
			o->conc = (int)tool_arg_long(optarg, 1, BN_CONC_MAX,
			    "bad concurrency");
			break;
		case 'd': o->duration = bn_parse_seconds(optarg); break;
		case 'N':
			o->count = tool_arg_long(optarg, 1, LONG_MAX, "bad -N");
			break;
		case 'C': o->cafile = optarg; break;
		case 'l': o->label = optarg; break;
		case 'r': o->request = 1; break;
		case 't':
			o->timeout = (int)tool_arg_long(optarg, 1, 3600,
			    "bad timeout");
			break;
		case 'v': o->verbose = 1; break;
		case 'S': o->no_status = 1; break;
		case 'q': o->rate = bn_parse_seconds(optarg); break;
		case 'L': o->latfile = optarg; break;
		case 'O': o->outfile = optarg; break;
		default: bn_usage();
		}
	}
	if (optind != argc || o->port == 0 ||
	    (o->duration > 0) == (o->count > 0))
		bn_usage();
	bn_check_sni(o->sni);
}

/* ---- time -------------------------------------------------------------- */

static double
bn_since(const struct timespec *t0)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / BN_NS_PER_S;
}

/* ---- TLS context --------------------------------------------------------- */

static SSL_CTX *
bn_make_ctx(const struct bn_opts *o)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		tool_die("SSL_CTX_new", NULL);
	/* Full handshakes only: nothing to resume from, nothing kept. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (o->cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1)
			tool_die("cannot load CA file", o->cafile);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

/* ---- checking a staple ------------------------------------------------- */

static void
bn_cache_clear(struct bn_cache *c)
{
	free(c->der);
	X509_free(c->leaf);
	memset(c, 0, sizeof(*c));
}

static int
bn_cache_hit(const struct bn_cache *c, const unsigned char *der, int len,
    X509 *leaf)
{
	return c->der != NULL && c->len == len &&
	    memcmp(c->der, der, (size_t)len) == 0 && X509_cmp(c->leaf, leaf) == 0;
}

static void
bn_cache_put(struct bn_cache *c, const unsigned char *der, int len,
    X509 *leaf, time_t this_upd, time_t next_upd)
{
	bn_cache_clear(c);
	if ((c->der = malloc((size_t)len)) == NULL)
		return;
	memcpy(c->der, der, (size_t)len);
	c->len = len;
	X509_up_ref(leaf);
	c->leaf = leaf;
	c->this_upd = this_upd;
	c->next_upd = next_upd;
}

/* The same test as OCSP_check_validity(this, next, BN_CLOCK_SKEW, -1). */
static int
bn_in_window(time_t this_upd, time_t next_upd)
{
	time_t	 now = time(NULL);

	return this_upd <= now + BN_CLOCK_SKEW && next_upd >= now - BN_CLOCK_SKEW;
}

/* An ASN1_TIME as seconds since the epoch, by its distance from now. */
static int
bn_asn1_time(const ASN1_TIME *t, time_t *out)
{
	int	 days, secs;

	if (!ASN1_TIME_diff(&days, &secs, NULL, t))
		return 0;
	*out = time(NULL) + (time_t)days * 86400 + secs;
	return 1;
}

/* The certificate in the presented chain that issued the leaf. */
static X509 *
bn_find_issuer(STACK_OF(X509) *chain, X509 *leaf)
{
	int	 i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		X509	*x = sk_X509_value(chain, i);

		if (X509_cmp(x, leaf) != 0 && X509_check_issued(x, leaf) ==
		    X509_V_OK)
			return x;
	}
	return NULL;
}

/* Status good for this certificate, within its validity window. */
static const char *
bn_check_status(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer,
    time_t *this_t, time_t *next_t)
{
	ASN1_GENERALIZEDTIME	*thisupd, *nextupd;
	OCSP_CERTID		*id;
	int			 status, reason, found;

	if ((id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL)
		return "cannot build CertID";
	found = OCSP_resp_find_status(bs, id, &status, &reason, NULL,
	    &thisupd, &nextupd);
	OCSP_CERTID_free(id);
	if (!found)
		return "response is not for this certificate";
	if (status != V_OCSP_CERTSTATUS_GOOD)
		return "certificate status is not good";
	if (nextupd == NULL)
		return "no nextUpdate";
	if (!OCSP_check_validity(thisupd, nextupd, BN_CLOCK_SKEW, -1))
		return "outside its validity window";
	if (!bn_asn1_time(thisupd, this_t) || !bn_asn1_time(nextupd, next_t))
		return "unreadable thisUpdate or nextUpdate";
	return NULL;
}

/* Everything about a staple not seen before; NULL when it is valid. */
static const char *
bn_check_new_staple(struct bn_worker *w, SSL *ssl, const unsigned char *der,
    int len, X509 *leaf)
{
	const unsigned char	*p = der;
	OCSP_RESPONSE		*rsp;
	OCSP_BASICRESP		*bs = NULL;
	STACK_OF(X509)		*chain = SSL_get_peer_cert_chain(ssl);
	X509			*issuer;
	const char		*why;
	time_t			 this_t = 0, next_t = 0;

	if ((issuer = bn_find_issuer(chain, leaf)) == NULL)
		return "issuer not in the presented chain";
	if ((rsp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL)
		return "not DER OCSPResponse";
	if (OCSP_response_status(rsp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		why = "response status is not successful";
	else if ((bs = OCSP_response_get1_basic(rsp)) == NULL)
		why = "not a basic response";
	else
		why = bn_check_status(bs, leaf, issuer, &this_t, &next_t);

	if (why == NULL && w->run->o->cafile != NULL &&
	    OCSP_basic_verify(bs, chain, SSL_CTX_get_cert_store(w->run->ctx),
	    0) <= 0)
		why = "signature or signer does not verify";
	if (why == NULL)
		bn_cache_put(&w->cache, der, len, leaf, this_t, next_t);
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(rsp);
	return why;
}

/* NULL when the staple is valid, else why not. */
static const char *
bn_check_staple(struct bn_worker *w, SSL *ssl, const unsigned char *der,
    int len)
{
	X509	*leaf = SSL_get0_peer_certificate(ssl);

	if (leaf == NULL)
		return "no server certificate";
	if (bn_cache_hit(&w->cache, der, len, leaf))
		return bn_in_window(w->cache.this_upd, w->cache.next_upd) ? NULL
		    : "outside its validity window";
	return bn_check_new_staple(w, ssl, der, len, leaf);
}

/* ---- one connection ------------------------------------------------------ */

static int
bn_connect(const struct bn_run *r)
{
	int	 fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* A hung server must not hang the benchmark. */
	tool_sock_timeouts(fd, r->o->timeout);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (const struct sockaddr *)&r->addr,
	    sizeof(r->addr)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
bn_sni_for(const struct bn_opts *o, long n, char *buf, size_t len)
{
	if (strchr(o->sni, '%') == NULL) {
		snprintf(buf, len, "%s", o->sni);
		return;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(buf, len, o->sni, (int)(n % o->names));
#pragma GCC diagnostic pop
}

/* A tiny request, read to EOF: the server has then finished for sure. */
static void
bn_request(SSL *ssl, const char *sni)
{
	char	 buf[BN_READ_CHUNK];
	int	 n;

	n = snprintf(buf, sizeof(buf), "HEAD / HTTP/1.0\r\nHost: %s\r\n\r\n",
	    sni);
	if (SSL_write(ssl, buf, n) != n)
		return;
	while (SSL_read(ssl, buf, sizeof(buf)) > 0)
		;
}

static void
bn_note_why(struct bn_worker *w, const char *why)
{
	if (why != NULL && w->why[0] == '\0')
		snprintf(w->why, sizeof(w->why), "%s", why);
}

static enum bn_outcome
bn_classify(struct bn_worker *w, SSL *ssl)
{
	const unsigned char	*der = NULL;
	long			 len;
	const char		*why;

	len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
	if (len <= 0 || der == NULL || len > INT_MAX)
		return BN_NO_STAPLE;
	why = bn_check_staple(w, ssl, der, (int)len);
	bn_note_why(w, why);
	w->last_why = why;
	return why == NULL ? BN_VALID_STAPLE : BN_BAD_STAPLE;
}

static void
bn_record_latency(struct bn_worker *w, double ms)
{
	if (w->nlat == w->caplat) {
		size_t	 cap = w->caplat ? w->caplat * 2 : BN_LAT_INITIAL;
		double	*p = realloc(w->lat, cap * sizeof(*p));

		if (p == NULL)
			return;		/* keep counting, drop the sample */
		w->lat = p;
		w->caplat = cap;
	}
	w->lat[w->nlat++] = ms;
}

/* Latency: from before connect() until the handshake is complete. */
static enum bn_outcome
bn_one(struct bn_worker *w, long n)
{
	const struct bn_run	*r = w->run;
	char			 sni[BN_NAME_MAX];
	struct timespec		 t0;
	enum bn_outcome		 out = BN_FAILED;
	SSL			*ssl;
	int			 fd;

	bn_sni_for(r->o, n, sni, sizeof(sni));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((fd = bn_connect(r)) == -1) {
		bn_note_why(w, strerror(errno));
		return BN_FAILED;
	}
	if ((ssl = SSL_new(r->ctx)) == NULL)
		tool_die("SSL_new", NULL);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, sni);
	if (!r->o->no_status)
		SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	if (r->o->cafile != NULL)
		SSL_set1_host(ssl, sni);
	if (SSL_connect(ssl) == 1) {
		bn_record_latency(w, bn_since(&t0) * BN_MS_PER_S);
		out = bn_classify(w, ssl);
		if (r->o->request)
			bn_request(ssl, sni);
		SSL_shutdown(ssl);
	} else {
		bn_note_why(w, ERR_reason_error_string(ERR_peek_error()));
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return out;
}

/* ---- workers ----------------------------------------------------------- */

/*
 * With -q, handshake n is due n/rate seconds after the start, whichever
 * thread makes it: the server then sees the same load whatever it costs,
 * so its CPU time per handshake and its latency compare between
 * configurations (flat out, a cheaper server also gets more handshakes
 * per wake-up, and latency is mostly queueing).  A thread that finds its
 * handshake already due starts at once; those are counted as late.
 */
static int
bn_pace(struct bn_run *r, long n)
{
	struct timespec	 due;
	double		 at = (double)n / r->o->rate, wait;
	long		 whole;

	if (r->deadline > 0 && at >= r->deadline)
		return -1;
	wait = at - bn_since(&r->start);
	if (wait > 0) {
		whole = (long)at;
		due.tv_sec = r->start.tv_sec + whole;
		due.tv_nsec = r->start.tv_nsec + (long)((at - (double)whole) *
		    BN_NS_PER_S);
		if (due.tv_nsec >= (long)BN_NS_PER_S) {
			due.tv_sec++;
			due.tv_nsec -= (long)BN_NS_PER_S;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due,
		    NULL) == EINTR)
			;
	} else if (-wait * BN_MS_PER_S > BN_LATE_MS) {
		atomic_fetch_add(&r->late, 1);
	}
	return 0;
}

/* The number of the next handshake to make, or -1 when done. */
static long
bn_claim(struct bn_run *r)
{
	long	 n = atomic_fetch_add(&r->next, 1);

	if (bn_stop)
		return -1;
	if (r->o->count > 0 && n >= r->o->count)
		return -1;
	if (r->o->rate > 0)
		return bn_pace(r, n) == 0 ? n : -1;
	if (r->o->count > 0)
		return n;
	return bn_since(&r->start) < r->deadline ? n : -1;
}

/*
 * -O: one line per handshake, written whole (stdio locks the stream, so
 * the workers' lines do not interleave).  The times of a valid staple are
 * those the worker's cache holds: it was checked against them just now.
 */
static void
bn_log_outcome(struct bn_worker *w, enum bn_outcome out)
{
	struct timespec	 now;
	int		 valid = out == BN_VALID_STAPLE;

	if (w->run->out == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(w->run->out, "%lld.%03ld %s %lld %lld%s%s\n",
	    (long long)now.tv_sec, now.tv_nsec / (long)(BN_NS_PER_S /
	    BN_MS_PER_S), bn_outcome_key[out],
	    valid ? (long long)w->cache.this_upd : 0LL,
	    valid ? (long long)w->cache.next_upd : 0LL,
	    out == BN_BAD_STAPLE && w->last_why ? " " : "",
	    out == BN_BAD_STAPLE && w->last_why ? w->last_why : "");
}

static void *
bn_worker_main(void *arg)
{
	struct bn_worker	*w = arg;
	enum bn_outcome		 out;
	long			 n;

	while ((n = bn_claim(w->run)) >= 0) {
		w->last_why = NULL;
		out = bn_one(w, n);
		w->outcome[out]++;
		bn_log_outcome(w, out);
	}
	bn_cache_clear(&w->cache);
	return NULL;
}

/* ---- report ------------------------------------------------------------ */

static int
bn_cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double
bn_percentile(const double *v, size_t n, double q)
{
	size_t	 rank;

	if (n == 0)
		return 0;
	rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

struct bn_totals {
	long	 outcome[BN_OUTCOMES];
	double	*lat;
	size_t	 nlat;
	char	 why[BN_NAME_MAX];
};

static void
bn_merge(struct bn_worker *ws, int n, struct bn_totals *t)
{
	size_t	 total = 0;
	int	 i, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++)
		total += ws[i].nlat;
	if ((t->lat = malloc((total ? total : 1) * sizeof(double))) == NULL)
		tool_die("out of memory", NULL);
	for (i = 0; i < n; i++) {
		for (k = 0; k < BN_OUTCOMES; k++)
			t->outcome[k] += ws[i].outcome[k];
		memcpy(t->lat + t->nlat, ws[i].lat, ws[i].nlat * sizeof(double));
		t->nlat += ws[i].nlat;
		if (t->why[0] == '\0' && ws[i].why[0] != '\0')
			memcpy(t->why, ws[i].why, sizeof(t->why));
	}
	qsort(t->lat, t->nlat, sizeof(double), bn_cmp_double);
}

static void
bn_report(const struct bn_opts *o, const struct bn_totals *t, double elapsed,
    long late)
{
	long	 done = t->outcome[BN_NO_STAPLE] + t->outcome[BN_BAD_STAPLE] +
	    t->outcome[BN_VALID_STAPLE];
	double	 hps = elapsed > 0 ? (double)done / elapsed : 0;
	double	 share = done ? BN_PERCENT * (double)t->outcome[BN_VALID_STAPLE]
	    / (double)done : 0;
	double	 p50 = bn_percentile(t->lat, t->nlat, BN_P50);
	double	 p99 = bn_percentile(t->lat, t->nlat, BN_P99);
	double	 max = t->nlat ? t->lat[t->nlat - 1] : 0;
	int	 k;

	printf(BN_NAME " label=%s conc=%d handshakes=%ld", o->label, o->conc,
	    done);
	for (k = 0; k < BN_OUTCOMES; k++)
		printf(" %s=%ld", bn_outcome_key[k], t->outcome[k]);
	printf(" elapsed_s=%.3f hps=%.1f valid_pct=%.2f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f verified=%s rate=%.1f late=%ld\n",
	    elapsed, hps, share, p50, p99, max,
	    o->cafile ? "signature" : "status", o->rate, late);
	printf("%s: %ld handshakes in %.2f s (%.1f/s) over %d connections; "
	    "%.1f%% carried a valid staple (%ld none, %ld bad, %ld failed); "
	    "handshake p50 %.2f ms, p99 %.2f ms\n", o->label, done, elapsed,
	    hps, o->conc, share, t->outcome[BN_NO_STAPLE],
	    t->outcome[BN_BAD_STAPLE], t->outcome[BN_FAILED], p50, p99);
	if (o->rate > 0)
		printf("%s: paced at %.1f/s; %ld handshakes started over %.0f ms "
		    "late (the client or the server could not keep up)\n",
		    o->label, o->rate, late, BN_LATE_MS);
	if (o->verbose && t->why[0] != '\0')
		printf("%s: first problem seen: %s\n", o->label, t->why);
}

/* Every latency, sorted, one per line: runs pool into one percentile. */
static void
bn_write_latencies(const char *path, const struct bn_totals *t)
{
	FILE	*f = tool_fopen(path, "w");
	size_t	 i;

	for (i = 0; i < t->nlat; i++)
		fprintf(f, "%.3f\n", t->lat[i]);
	tool_fclose(f, !ferror(f), path);
}

/* ---- main -------------------------------------------------------------- */

static void
bn_init_run(struct bn_run *r, const struct bn_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->ctx = bn_make_ctx(o);
	r->addr.sin_family = AF_INET;
	r->addr.sin_port = htons((unsigned short)o->port);
	if (inet_pton(AF_INET, o->host, &r->addr.sin_addr) != 1)
		tool_die("not an IPv4 address", o->host);
	r->deadline = o->duration;
	atomic_init(&r->next, 0);
	atomic_init(&r->late, 0);
	if (o->outfile != NULL)
		r->out = tool_fopen(o->outfile, "w");
}

static void
bn_on_stop(int sig)
{
	(void)sig;
	bn_stop = 1;
}

int
main(int argc, char *argv[])
{
	struct bn_opts		 o;
	struct bn_run		 run;
	struct bn_worker	*ws;
	struct bn_totals	 t;
	double			 elapsed;
	int			 i;

	bn_parse_args(argc, argv, &o);
	/* A server that resets the connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, bn_on_stop);
	signal(SIGINT, bn_on_stop);
	bn_init_run(&run, &o);
	if ((ws = calloc((size_t)o.conc, sizeof(*ws))) == NULL)
		tool_die("out of memory", NULL);

	clock_gettime(CLOCK_MONOTONIC, &run.start);
	for (i = 0; i < o.conc; i++) {
		ws[i].run = &run;
		if (pthread_create(&ws[i].tid, NULL, bn_worker_main, &ws[i]))
			tool_die("pthread_create", NULL);
	}
	for (i = 0; i < o.conc; i++)
		pthread_join(ws[i].tid, NULL);
	elapsed = bn_since(&run.start);

	bn_merge(ws, o.conc, &t);
	bn_report(&o, &t, elapsed, atomic_load(&run.late));
	if (o.latfile != NULL)
		bn_write_latencies(o.latfile, &t);
	if (run.out != NULL)
		tool_fclose(run.out, !ferror(run.out), o.outfile);
	for (i = 0; i < o.conc; i++)
		free(ws[i].lat);
	free(ws);
	free(t.lat);
	SSL_CTX_free(run.ctx);
	return t.nlat > 0 ? 0 : 1;
}

/* sgh_helper.c: the startup work's helper processes (see sgh_helper.h).
 *
 * One socket pair per helper carries jobs down and results up, each a
 * record: its length (apr_uint32_t), then its bytes; a length of 0 down
 * says there are no more jobs. Records go in batches of about
 * SGH_HELPER_BATCH bytes both ways: each send wakes the other process,
 * and a wake-up across processors is dear (in a virtual machine above
 * all). httpd's thread never blocks on a helper
 * for long: it sends without waiting, and while the socket is full it
 * takes the helper's results (the helper may be waiting for room to
 * write them); a helper that takes and sends nothing for
 * SGH_HELPER_STALL_MS is killed, and its unanswered jobs are left to the
 * caller. A helper dies with httpd's process (PR_SET_PDEATHSIG), so a
 * start that fails on the way leaves none behind.
 *
 * A helper is httpd's own program started afresh (posix_spawn), with
 * only this module loaded and told by StapleGuardStartupHelper to serve
 * on its standard input: a fork would share httpd's memory with it, and
 * every page httpd's thread then writes would be copied (docs/design.md,
 * "Startup work"). What it needs of the configuration comes in the
 * first record. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <apr_strings.h>

#include "sgh_helper.h"

/* Long enough for any one job (a parse and two signature checks take
 * about a millisecond), short enough that a hung helper does not hold up
 * the start for long. */
#define SGH_HELPER_STALL_MS 10000
/* A record larger than this did not come from our helper: a
 * certificate's result is a few kilobytes. */
#define SGH_HELPER_RECORD_MAX (1024 * 1024)
#define SGH_HELPER_READ_CHUNK 65536
/* About 30 certificates' jobs, or their results. */
#define SGH_HELPER_BATCH 65536

/* Bytes that grow with realloc: the batches outlive no pool. */
typedef struct {
    unsigned char *data;
    apr_size_t len, cap;
} sgh_buf_t;

typedef struct {
    pid_t pid;                  /* 0: reaped */
    int fd;                     /* our end of the socket, -1: closed */
    int eof;                    /* the helper closed its end */
    sgh_buf_t in;               /* received, not yet a whole record */
    sgh_buf_t out;              /* jobs not sent yet */
} sgh_helper_proc_t;

/* The helper's command line: httpd's program, this module, the
 * directive; no configuration file. */
#define SGH_HELPER_MODULE "staple_guard_module"
#define SGH_HELPER_DIRECTIVE "StapleGuardStartupHelper"
/* program -d / -f /dev/null -C LoadModule... -C directive, and NULL */
#define SGH_HELPER_ARGV 10

extern char **environ;

struct sgh_helper_t {
    pid_t owner;                /* the process that started them */
    int n;
    int next;                   /* round robin */
    int lost;                   /* killed, or died, before the end */
    sgh_helper_proc_t *procs;
    sgh_helper_result_fn *result;
    void *ctx;
};

/* ---- both sides ---------------------------------------------------------- */

/* Room for more bytes; 0 when memory ran out. */
static int sgh_buf_room(sgh_buf_t *b, apr_size_t more)
{
    apr_size_t cap = b->cap ? b->cap : SGH_HELPER_READ_CHUNK;
    unsigned char *data;

    while (cap - b->len < more) {
        cap *= 2;
    }
    if (cap != b->cap) {
        data = realloc(b->data, cap);
        if (data == NULL) {
            return 0;
        }
        b->data = data;
        b->cap = cap;
    }
    return 1;
}

/* Append one record (its length, then its bytes). */
static int sgh_buf_record(sgh_buf_t *b, const void *data, apr_size_t len)
{
    apr_uint32_t n = (apr_uint32_t)len;

    if (!sgh_buf_room(b, sizeof(n) + len)) {
        return 0;
    }
    memcpy(b->data + b->len, &n, sizeof(n));
    if (len > 0) {
        memcpy(b->data + b->len + sizeof(n), data, len);
    }
    b->len += sizeof(n) + len;
    return 1;
}

/* Drop the first n bytes. */
static void sgh_buf_consume(sgh_buf_t *b, apr_size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static void sgh_buf_free(sgh_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* The record at the start of b: 1 and its bytes when whole, 0 when more
 * must come, -1 when it cannot be one of ours. */
static int sgh_buf_next(const sgh_buf_t *b, const unsigned char **data,
                        apr_uint32_t *len)
{
    if (b->len < sizeof(*len)) {
        return 0;
    }
    memcpy(len, b->data, sizeof(*len));
    if (*len > SGH_HELPER_RECORD_MAX) {
        return -1;
    }
    if (b->len - sizeof(*len) < *len) {
        return 0;
    }
    *data = b->data + sizeof(*len);
    return 1;
}

/* ---- in the helper ------------------------------------------------------ */

static int sgh_helper_write_full(int fd, const void *b, apr_size_t len)
{
    const unsigned char *pos = b;
    ssize_t n;

    while (len > 0) {
        n = send(fd, pos, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        pos += n;
        len -= (apr_size_t)n;
    }
    return 1;
}

/* More jobs from httpd's thread; before waiting for them, the results
 * held back are sent (httpd's thread may be waiting for them). 0 at the
 * end of the socket. */
static int sgh_helper_read_more(int fd, sgh_buf_t *in, sgh_buf_t *out)
{
    struct pollfd pfd;
    ssize_t n;

    pfd.fd = fd;
    pfd.events = POLLIN;
    if (out->len > 0 && poll(&pfd, 1, 0) == 0) {
        if (!sgh_helper_write_full(fd, out->data, out->len)) {
            return 0;
        }
        out->len = 0;
    }
    if (!sgh_buf_room(in, SGH_HELPER_READ_CHUNK)) {
        return 0;
    }
    do {
        n = read(fd, in->data + in->len, in->cap - in->len);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return 0;
    }
    in->len += (apr_size_t)n;
    return 1;
}

/* The next whole record from httpd's thread: 1 with its bytes, 0 at
 * the end of the socket or a record that cannot be ours. */
static int sgh_helper_take(int fd, sgh_buf_t *in, sgh_buf_t *out,
                           const unsigned char **data, apr_uint32_t *len)
{
    int got;

    while ((got = sgh_buf_next(in, data, len)) == 0) {
        if (!sgh_helper_read_more(fd, in, out)) {
            return 0;
        }
    }
    return got > 0;
}

const char *sgh_helper_check(pid_t parent)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0
        || type != SOCK_STREAM || getppid() != parent) {
        return SGH_HELPER_DIRECTIVE " is for mod_staple_guard's own use: "
               "it starts its helpers with it";
    }
    return NULL;
}

void sgh_helper_serve(pid_t parent, sgh_helper_hello_fn *hello,
                      sgh_helper_job_fn *job, void *ctx)
{
    apr_pool_t *keep, *temp;
    sgh_buf_t in = { NULL, 0, 0 }, out = { NULL, 0, 0 };
    const unsigned char *data = NULL;
    apr_uint32_t len = 0;
    sg_unpack_t r;
    sg_pack_t result;
    int fd = 0;

#if defined(__linux__)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() != parent || apr_pool_create(&keep, NULL) != APR_SUCCESS
        || apr_pool_create(&temp, keep) != APR_SUCCESS
        || !sgh_helper_take(fd, &in, &out, &data, &len)) {
        _exit(1);
    }
    sg_unpack_init(&r, data, len);
    if (!hello(ctx, &r, keep)) {
        _exit(1);
    }
    sgh_buf_consume(&in, sizeof(len) + len);
    while (sgh_helper_take(fd, &in, &out, &data, &len)) {
        if (len == 0) {                 /* the end: send what is left */
            sgh_helper_write_full(fd, out.data, out.len);
            break;
        }
        sg_unpack_init(&r, data, len);
        sg_pack_init(&result, temp);
        job(ctx, &r, &result, keep, temp);
        sgh_buf_consume(&in, sizeof(len) + len);
        apr_pool_clear(temp);
        if (!sgh_buf_record(&out, result.data, result.len)) {
            break;
        }
        if (out.len >= SGH_HELPER_BATCH) {
            if (!sgh_helper_write_full(fd, out.data, out.len)) {
                break;
            }
            out.len = 0;
        }
    }
    _exit(0);
}

/* ---- in httpd's process ------------------------------------------------- */

/* Kill (if broken) and reap one helper; its results so far stay. */
static void sgh_helper_drop(sgh_helper_t *h, sgh_helper_proc_t *hp,
                            int broken)
{
    int status;

    if (hp->fd >= 0) {
        close(hp->fd);
        hp->fd = -1;
    }
    if (hp->pid > 0) {
        if (broken) {
            kill(hp->pid, SIGKILL);
            h->lost++;
        }
        while (waitpid(hp->pid, &status, 0) < 0 && errno == EINTR) {
        }
        hp->pid = 0;
    }
    sgh_buf_free(&hp->in);
    sgh_buf_free(&hp->out);
}

static apr_status_t sgh_helper_cleanup(void *data)
{
    sgh_helper_t *h = data;
    int i;

    if (getpid() == h->owner) {
        for (i = 0; i < h->n; i++) {
            sgh_helper_drop(h, &h->procs[i], 1);
        }
    }
    return APR_SUCCESS;
}

/* Hand the whole records received to the caller; 0 when one is bad. */
static int sgh_helper_dispatch(sgh_helper_t *h, sgh_helper_proc_t *hp)
{
    const unsigned char *data;
    apr_uint32_t len;
    sg_unpack_t r;
    int got;

    while ((got = sgh_buf_next(&hp->in, &data, &len)) > 0) {
        sg_unpack_init(&r, data, len);
        h->result(h->ctx, &r);
        sgh_buf_consume(&hp->in, sizeof(len) + len);
    }
    return got == 0;
}

/* Take what the helper sent so far, without waiting. 0: it is broken. */
static int sgh_helper_receive(sgh_helper_t *h, sgh_helper_proc_t *hp)
{
    ssize_t n;

    for (;;) {
        if (!sgh_buf_room(&hp->in, SGH_HELPER_READ_CHUNK)) {
            return 0;
        }
        n = recv(hp->fd, hp->in.data + hp->in.len, hp->in.cap - hp->in.len,
                 MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            hp->eof = n == 0;
            return n == 0 || errno == EAGAIN || errno == EWOULDBLOCK;
        }
        hp->in.len += (apr_size_t)n;
        if (!sgh_helper_dispatch(h, hp)) {
            return 0;
        }
    }
}

/* Wait until the helper can take more (events POLLOUT) or has sent
 * something, taking what it sent. 0: it is broken, gone or stalled. */
static int sgh_helper_wait(sgh_helper_t *h, sgh_helper_proc_t *hp,
                           short events)
{
    struct pollfd pfd;
    int n;

    pfd.fd = hp->fd;
    pfd.events = events | POLLIN;
    pfd.revents = 0;
    while ((n = poll(&pfd, 1, SGH_HELPER_STALL_MS)) < 0 && errno == EINTR) {
    }
    if (n <= 0) {
        return 0;
    }
    if ((pfd.revents & (POLLIN | POLLHUP | POLLERR))
        && !sgh_helper_receive(h, hp)) {
        return 0;
    }
    return !hp->eof;
}

static int sgh_helper_send_all(sgh_helper_t *h, sgh_helper_proc_t *hp,
                               const void *b, apr_size_t len)
{
    const unsigned char *pos = b;
    ssize_t n;

    while (len > 0) {
        n = send(hp->fd, pos, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            pos += n;
            len -= (apr_size_t)n;
        }
        else if (n < 0 && errno == EINTR) {
            continue;
        }
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!sgh_helper_wait(h, hp, POLLOUT)) {
                return 0;
            }
        }
        else {
            return 0;
        }
    }
    return 1;
}

/* httpd's program and this module's file, for the helpers' command
 * line; NULL when either cannot be known. */
static const char **sgh_helper_argv(apr_pool_t *p, pid_t parent)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    Dl_info info;
    const char **argv;

    if (n <= 0 || !dladdr((void *)sgh_helper_argv, &info)
        || info.dli_fname == NULL || info.dli_fname[0] != '/') {
        return NULL;
    }
    exe[n] = '\0';
    argv = apr_pcalloc(p, SGH_HELPER_ARGV * sizeof(*argv));
    argv[0] = apr_pstrdup(p, exe);
    argv[1] = "-d";
    argv[2] = "/";
    argv[3] = "-f";
    argv[4] = "/dev/null";
    argv[5] = "-C";
    argv[6] = apr_pstrcat(p, "LoadModule " SGH_HELPER_MODULE " ",
                          info.dli_fname, NULL);
    argv[7] = "-C";
    argv[8] = apr_psprintf(p, SGH_HELPER_DIRECTIVE " %" APR_PID_T_FMT,
                           parent);
    return argv;
}

/* One helper, its socket as standard input, every signal as a new
 * program has it. */
static apr_status_t sgh_helper_spawn(sgh_helper_t *h, int i,
                                     const char **argv, const sg_pack_t *hello)
{
    sgh_helper_proc_t *hp = &h->procs[i];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    pid_t pid;
    int sv[2], rc;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK
                                  | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    rc = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return APR_FROM_OS_ERROR(rc);
    }
    hp->pid = pid;
    hp->fd = sv[0];
    if (!sgh_buf_record(&hp->out, hello->data, hello->len)) {
        return APR_ENOMEM;
    }
    return APR_SUCCESS;
}

apr_status_t sgh_helper_start(sgh_helper_t **ph, apr_pool_t *p, int n,
                              const sg_pack_t *hello,
                              sgh_helper_result_fn *result, void *ctx)
{
    sgh_helper_t *h = apr_pcalloc(p, sizeof(*h));
    const char **argv;
    apr_status_t rv = APR_SUCCESS;
    int i;

    h->owner = getpid();
    h->result = result;
    h->ctx = ctx;
    h->procs = apr_pcalloc(p, (apr_size_t)(n > 0 ? n : 1) * sizeof(*h->procs));
    apr_pool_cleanup_register(p, h, sgh_helper_cleanup, apr_pool_cleanup_null);
    for (i = 0; i < n; i++) {
        h->procs[i].fd = -1;
    }
    argv = sgh_helper_argv(p, h->owner);
    if (argv == NULL) {
        rv = APR_ENOENT;
    }
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        rv = sgh_helper_spawn(h, i, argv, hello);
        h->n += h->procs[i].fd >= 0;
    }
    *ph = h;
    return h->n > 0 ? APR_SUCCESS : rv;
}

int sgh_helper_count(const sgh_helper_t *h)
{
    int i, alive = 0;

    for (i = 0; i < h->n; i++) {
        alive += h->procs[i].fd >= 0;
    }
    return alive;
}

/* Send the batch of jobs waiting for hp, and take its results so far. */
static int sgh_helper_flush(sgh_helper_t *h, sgh_helper_proc_t *hp)
{
    int ok = sgh_helper_send_all(h, hp, hp->out.data, hp->out.len)
             && sgh_helper_receive(h, hp) && !hp->eof;

    hp->out.len = 0;
    return ok;
}

apr_status_t sgh_helper_send(sgh_helper_t *h, const sg_pack_t *job)
{
    sgh_helper_proc_t *hp;
    int tries;

    for (tries = 0; tries < h->n; tries++) {
        hp = &h->procs[h->next];
        if (hp->fd < 0) {
            h->next = (h->next + 1) % h->n;
            continue;
        }
        if (!sgh_buf_record(&hp->out, job->data, job->len)) {
            return APR_ENOMEM;
        }
        if (hp->out.len < SGH_HELPER_BATCH) {
            return APR_SUCCESS;
        }
        /* a batch to this helper; the next one to the next helper */
        h->next = (h->next + 1) % h->n;
        if (sgh_helper_flush(h, hp)) {
            return APR_SUCCESS;
        }
        sgh_helper_drop(h, hp, 1);
        return APR_SUCCESS;     /* its jobs are done in httpd's thread */
    }
    return APR_EGENERAL;
}

int sgh_helper_finish(sgh_helper_t *h)
{
    int i, ok;

    for (i = 0; i < h->n; i++) {
        sgh_helper_proc_t *hp = &h->procs[i];

        if (hp->fd >= 0 && (!sgh_buf_record(&hp->out, NULL, 0)
                            || !sgh_helper_send_all(h, hp, hp->out.data,
                                                    hp->out.len))) {
            sgh_helper_drop(h, hp, 1);
        }
    }
    for (i = 0; i < h->n; i++) {
        sgh_helper_proc_t *hp = &h->procs[i];

        ok = 1;
        while (hp->fd >= 0 && !hp->eof && ok) {
            ok = sgh_helper_wait(h, hp, 0) || hp->eof;
        }
        if (hp->fd >= 0) {
            sgh_helper_drop(h, hp, !ok);
        }
    }
    return h->lost;
}

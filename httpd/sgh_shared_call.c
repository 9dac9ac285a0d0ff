/* sgh_shared_call.c: one worker thread per process makes the socache
 * calls; callers wait for it within their timeout (sgh_shared_call.h). */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <apr_allocator.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_portable.h>
#include <apr_thread_proc.h>

#include "sg_table.h"
#include "sgh_shared.h"
#include "sgh_shared_call.h"

/* The longest id: "<prefix>:" and a SHA-256. */
#define SGH_CALL_ID_MAX (SGH_SHARED_PREFIX_MAX + 1 + 32)

typedef enum {
    SGH_CALL_IDLE,              /* the slot is free */
    SGH_CALL_POSTED,            /* a job waits for the worker */
    SGH_CALL_RUNNING,
    SGH_CALL_DONE               /* its result waits for its caller */
} sgh_call_state_t;

/* In a pool of its own, unmanaged: not destroyed with the process's
 * pools at exit (apr_terminate), which would wait forever for the worker
 * on its condition; a call left behind writes to it whenever it returns. */
typedef struct {
    pid_t pid;                  /* the process this worker runs in */
    apr_pool_t *pool;
    ap_socache_instance_t *inst;    /* this process's */
    apr_thread_t *thread;
    int quit;                   /* asked to end (sgh_shared_call_stop) */
    apr_pool_t *call_pool;      /* the provider's, cleared after each call */
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;      /* any change of state */
    sgh_call_state_t state;
    int abandoned;              /* its caller gave up on the running job */
    /* the job */
    int put;
    sgh_shared_target_t target;
    unsigned char id[SGH_CALL_ID_MAX];
    unsigned int idlen;
    apr_time_t expiry;
    unsigned char data[SG_RESPONSE_MAX];
    unsigned int len;           /* put: of data; get: in, cap; out, got */
    apr_status_t rv;
} sgh_call_worker_t;

/* This process's worker. Written under sgh_call_worker_mu, by the first
 * call of a process (any of the fetcher's threads may make it) and by
 * sgh_shared_call_stop; the pid tells a child the parent's from its own.
 * The lock is never held across a fork: the parent calls only from
 * httpd's one thread while it starts, and stops its worker before it
 * forks. */
static sgh_call_worker_t *sgh_call_worker;
static pthread_mutex_t sgh_call_worker_mu = PTHREAD_MUTEX_INITIALIZER;

/* The provider reads a value whole into the call's pool before it
 * compares its size with the room given (mod_socache_redis and
 * _memcache both do): a hostile entry of many MiB costs that much for
 * the call. The call pool's allocator gives back to the system all but
 * this much of what a call took, so such an entry is not kept. */
#define SGH_CALL_POOL_KEEP (4 * SG_RESPONSE_MAX)

static apr_status_t sgh_call_do(sgh_call_worker_t *w)
{
    const sgh_shared_target_t *t = &w->target;

    if (w->put) {
        return t->provider->store(w->inst, t->s, w->id, w->idlen, w->expiry,
                                  w->data, w->len, w->call_pool);
    }
    return t->provider->retrieve(w->inst, t->s, w->id, w->idlen, w->data,
                                 &w->len, w->call_pool);
}

static void *APR_THREAD_FUNC sgh_call_main(apr_thread_t *thd, void *data)
{
    sgh_call_worker_t *w = data;
    apr_status_t rv;

    (void)thd;
    apr_thread_mutex_lock(w->mu);
    for (;;) {
        while (w->state != SGH_CALL_POSTED && !w->quit) {
            apr_thread_cond_wait(w->cv, w->mu);
        }
        if (w->quit) {
            break;
        }
        w->state = SGH_CALL_RUNNING;
        apr_thread_mutex_unlock(w->mu);
        rv = sgh_call_do(w);
        apr_pool_clear(w->call_pool);
        apr_thread_mutex_lock(w->mu);
        w->rv = rv;
        w->state = w->abandoned ? SGH_CALL_IDLE : SGH_CALL_DONE;
        w->abandoned = 0;
        apr_thread_cond_broadcast(w->cv);
    }
    apr_thread_mutex_unlock(w->mu);
    return NULL;
}

/* The process's own instance of the provider. */
static apr_status_t sgh_call_instance(sgh_call_worker_t *w,
                                      const sgh_shared_target_t *t)
{
    const char *err = t->provider->create(&w->inst, t->args, w->pool,
                                          w->pool);

    if (err != NULL) {
        return APR_EINVAL;  /* the directive's check passed: not expected */
    }
    return t->provider->init(w->inst, SGH_SHARED_CNAME, &t->hints, t->s,
                             w->pool);
}

/* The provider's pool for each call, with an allocator of its own. */
static apr_status_t sgh_call_pool(sgh_call_worker_t *w)
{
    apr_allocator_t *a;
    apr_status_t rv = apr_allocator_create(&a);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_allocator_max_free_set(a, SGH_CALL_POOL_KEEP);
    rv = apr_pool_create_ex(&w->call_pool, w->pool, NULL, a);
    if (rv != APR_SUCCESS) {
        apr_allocator_destroy(a);
        return rv;
    }
    apr_allocator_owner_set(a, w->call_pool);
    return APR_SUCCESS;
}

static apr_status_t sgh_call_start(sgh_call_worker_t *w,
                                   const sgh_shared_target_t *t)
{
    apr_status_t rv = sgh_call_pool(w);

    if (rv == APR_SUCCESS) {
        rv = sgh_call_instance(w, t);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&w->mu, APR_THREAD_MUTEX_DEFAULT,
                                     w->pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&w->cv, w->pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&w->thread, NULL, sgh_call_main, w, w->pool);
    }
    return rv;
}

/* This process's worker, started at its first call. A child inherits
 * the parent's pointer but not its thread: the pid tells them apart.
 * With sgh_call_worker_mu held. */
static apr_status_t sgh_call_make_worker(sgh_call_worker_t **out,
                                         const sgh_shared_target_t *t)
{
    sgh_call_worker_t *w = sgh_call_worker;
    apr_pool_t *pool;
    apr_status_t rv;

    if (w != NULL && w->pid == getpid()) {
        *out = w;
        return APR_SUCCESS;
    }
    rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    w = apr_pcalloc(pool, sizeof(*w));
    w->pid = getpid();
    w->pool = pool;
    rv = sgh_call_start(w, t);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
    sgh_call_worker = *out = w;
    return APR_SUCCESS;
}

/* One worker however many threads make their first call at once. */
static apr_status_t sgh_call_get_worker(sgh_call_worker_t **out,
                                        const sgh_shared_target_t *t)
{
    apr_status_t rv;

    *out = NULL;
    pthread_mutex_lock(&sgh_call_worker_mu);
    rv = sgh_call_make_worker(out, t);
    pthread_mutex_unlock(&sgh_call_worker_mu);
    return rv;
}

/* Wait on the worker's condition until deadline; with the lock held.
 * Returns 0 once the deadline has passed. */
static int sgh_call_wait(sgh_call_worker_t *w, apr_time_t deadline)
{
    apr_time_t left = deadline - apr_time_now();

    if (left <= 0) {
        return 0;
    }
    apr_thread_cond_timedwait(w->cv, w->mu, left);
    return 1;
}

/* Take the slot: other fetcher threads may be calling. With the lock
 * held. */
static apr_status_t sgh_call_take_slot(sgh_call_worker_t *w,
                                       apr_time_t deadline)
{
    while (w->state != SGH_CALL_IDLE) {
        if (w->abandoned || !sgh_call_wait(w, deadline)) {
            return APR_TIMEUP;  /* a call left behind still runs */
        }
    }
    return APR_SUCCESS;
}

/* Post the job written into the slot and wait for its result. With the
 * lock held; on APR_TIMEUP the job is left to the worker. */
static apr_status_t sgh_call_finish(sgh_call_worker_t *w, apr_time_t deadline)
{
    w->state = SGH_CALL_POSTED;
    apr_thread_cond_broadcast(w->cv);
    while (w->state != SGH_CALL_DONE) {
        if (!sgh_call_wait(w, deadline) && w->state != SGH_CALL_DONE) {
            w->abandoned = 1;
            return APR_TIMEUP;
        }
    }
    return w->rv;
}

/* A call as its caller gives it: copied into the slot (a call left
 * behind never reads the caller's memory) and, for a retrieve, out. */
typedef struct {
    int put;
    const unsigned char *id;
    unsigned int idlen;
    apr_time_t expiry;                  /* put */
    const unsigned char *data;          /* put */
    unsigned int len;                   /* put: of data; get: room in buf */
    unsigned char *buf;                 /* get */
    unsigned int *got;                  /* get */
} sgh_call_job_t;

static void sgh_call_set(sgh_call_worker_t *w, const sgh_shared_target_t *t,
                         const sgh_call_job_t *job)
{
    w->put = job->put;
    w->target = *t;
    memcpy(w->id, job->id, job->idlen);
    w->idlen = job->idlen;
    w->expiry = job->expiry;
    w->len = job->len < sizeof(w->data) ? job->len : sizeof(w->data);
    if (job->put) {
        memcpy(w->data, job->data, w->len);
    }
}

static apr_status_t sgh_call(const sgh_shared_target_t *t,
                             const sgh_call_job_t *job,
                             apr_interval_time_t timeout)
{
    sgh_call_worker_t *w;
    apr_time_t deadline = apr_time_now() + timeout;
    apr_status_t rv = sgh_call_get_worker(&w, t);

    if (rv != APR_SUCCESS || job->idlen > SGH_CALL_ID_MAX
        || (job->put && job->len > sizeof(w->data))) {
        return rv != APR_SUCCESS ? rv : APR_EINVAL;
    }
    apr_thread_mutex_lock(w->mu);
    rv = sgh_call_take_slot(w, deadline);
    if (rv == APR_SUCCESS) {
        sgh_call_set(w, t, job);
        rv = sgh_call_finish(w, deadline);
        /* done, and ours: the lock was held since it was */
        if (w->state == SGH_CALL_DONE) {
            if (rv == APR_SUCCESS && !job->put) {
                memcpy(job->buf, w->data, w->len);
                *job->got = w->len;
            }
            w->state = SGH_CALL_IDLE;
            apr_thread_cond_broadcast(w->cv);
        }
    }
    apr_thread_mutex_unlock(w->mu);
    return rv;
}

apr_status_t sgh_shared_call_get(const sgh_shared_target_t *t,
                                 const unsigned char *id, unsigned int idlen,
                                 unsigned char *buf, unsigned int cap,
                                 unsigned int *len,
                                 apr_interval_time_t timeout)
{
    sgh_call_job_t job = { 0, id, idlen, 0, NULL, cap, buf, len };

    *len = 0;
    return sgh_call(t, &job, timeout);
}

apr_status_t sgh_shared_call_put(const sgh_shared_target_t *t,
                                 const unsigned char *id, unsigned int idlen,
                                 apr_time_t expiry, const unsigned char *data,
                                 unsigned int len,
                                 apr_interval_time_t timeout)
{
    sgh_call_job_t job = { 1, id, idlen, expiry, data, len, NULL, NULL };

    return sgh_call(t, &job, timeout);
}

void sgh_shared_call_stop(void)
{
    sgh_call_worker_t *w;
    apr_os_thread_t *tid;
    apr_status_t rv;
    int stuck;

    pthread_mutex_lock(&sgh_call_worker_mu);
    w = sgh_call_worker;
    if (w != NULL && w->pid == getpid()) {
        sgh_call_worker = NULL;     /* a call from now on makes another */
    }
    pthread_mutex_unlock(&sgh_call_worker_mu);
    if (w == NULL || w->pid != getpid()) {
        return;
    }
    apr_thread_mutex_lock(w->mu);
    w->quit = 1;
    /* Calls are waited for by their callers: one still running was left
     * behind, and waiting more for it would only hold the start. */
    stuck = w->state != SGH_CALL_IDLE;
    apr_thread_cond_broadcast(w->cv);
    apr_thread_mutex_unlock(w->mu);
    if (stuck && apr_os_thread_get(&tid, w->thread) == APR_SUCCESS) {
        /* Left behind (apr_memcache reads without a timeout), it would
         * return, some day, into a provider's code that a restart
         * unloaded. It is blocked in a socket call, a cancellation point,
         * and holds no lock of ours; past the call the worker reaches no
         * other cancellation point before it ends. */
        pthread_cancel(*tid);
    }
    apr_thread_join(&rv, w->thread);
    if (!stuck) {
        apr_pool_destroy(w->pool);
    }
    /* else the cancelled call may hold a connection of the instance: the
     * pool, a few KiB, stays until the process exits */
}

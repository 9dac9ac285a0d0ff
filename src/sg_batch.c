/* sg_batch.c: a few worker threads take the entries in order, skipping
 * those whose responder host is already at its limit. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "sg_batch.h"

typedef struct {
    sg_entry_t **entries;
    const char **hosts;
    char *started;
    int n;
    int next;               /* every entry before it has begun */
    int left_out;
    int running;
    apr_hash_t *busy;       /* host -> int * (fetches running) */
    const sg_batch_conf_t *conf;
    sg_batch_fn_t *fn;
    void *ctx;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
} sg_batch_t;

const char *sg_batch_host(apr_pool_t *p, const char *url)
{
    const char *start = strstr(url, "://"), *end;

    start = start ? start + 3 : url;
    end = strchr(start, '/');
    return end ? apr_pstrmemdup(p, start, (apr_size_t)(end - start))
               : apr_pstrdup(p, start);
}

static int *sg_batch_busy(sg_batch_t *b, const char *host)
{
    return apr_hash_get(b->busy, host, APR_HASH_KEY_STRING);
}

/* With the mutex held: the next entry that may begin now, or -1. Sets
 * *all_begun when nothing is left to begin. */
static int sg_batch_pick(sg_batch_t *b, int *all_begun)
{
    int i;

    while (b->next < b->n && b->started[b->next]) {
        b->next++;
    }
    *all_begun = (b->next >= b->n);
    for (i = b->next; i < b->n; i++) {
        if (!b->started[i] && *sg_batch_busy(b, b->hosts[i])
                              < b->conf->per_host) {
            return i;
        }
    }
    return -1;
}

/* With the mutex held: past the deadline, nothing more begins. */
static int sg_batch_expired(sg_batch_t *b)
{
    int i;

    if (b->conf->deadline == 0 || apr_time_now() < b->conf->deadline) {
        return 0;
    }
    for (i = b->next; i < b->n; i++) {
        if (!b->started[i]) {
            b->started[i] = 1;
            b->left_out++;
        }
    }
    b->next = b->n;
    return 1;
}

static void sg_batch_one(sg_batch_t *b, int i)
{
    apr_pool_t *p = NULL;

    /* An unmanaged pool has an allocator of its own: pools are not
     * thread-safe, and this one is used by this thread only. */
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) == APR_SUCCESS) {
        b->fn(b->ctx, b->entries[i], p);
        apr_pool_destroy(p);
    }
}

static void sg_batch_loop(sg_batch_t *b)
{
    int i, all_begun;

    apr_thread_mutex_lock(b->mutex);
    for (;;) {
        if (sg_batch_expired(b)) {
            break;
        }
        i = sg_batch_pick(b, &all_begun);
        if (i < 0) {
            if (all_begun) {
                break;
            }
            /* every remaining host is at its limit: wait for a slot */
            apr_thread_cond_wait(b->cond, b->mutex);
            continue;
        }
        b->started[i] = 1;
        (*sg_batch_busy(b, b->hosts[i]))++;
        apr_thread_mutex_unlock(b->mutex);
        sg_batch_one(b, i);
        apr_thread_mutex_lock(b->mutex);
        (*sg_batch_busy(b, b->hosts[i]))--;
        apr_thread_cond_broadcast(b->cond);
    }
    apr_thread_mutex_unlock(b->mutex);
}

static void *APR_THREAD_FUNC sg_batch_thread(apr_thread_t *t, void *data)
{
    sg_batch_loop(data);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void sg_batch_prepare(sg_batch_t *b, apr_pool_t *p)
{
    int i;

    b->hosts = apr_pcalloc(p, sizeof(*b->hosts) * (apr_size_t)b->n);
    b->started = apr_pcalloc(p, (apr_size_t)b->n);
    b->busy = apr_hash_make(p);
    for (i = 0; i < b->n; i++) {
        b->hosts[i] = sg_batch_host(p, b->entries[i]->url);
        if (sg_batch_busy(b, b->hosts[i]) == NULL) {
            apr_hash_set(b->busy, b->hosts[i], APR_HASH_KEY_STRING,
                         apr_pcalloc(p, sizeof(int)));
        }
    }
}

int sg_batch_run(apr_pool_t *p, sg_entry_t **entries, int n,
                 const sg_batch_conf_t *conf, sg_batch_fn_t *fn, void *ctx)
{
    sg_batch_t b;
    apr_thread_t **threads;
    apr_status_t trv;
    int i, nthreads = conf->concurrency < n ? conf->concurrency : n, made = 0;

    memset(&b, 0, sizeof(b));
    b.entries = entries;
    b.n = n;
    b.conf = conf;
    b.fn = fn;
    b.ctx = ctx;
    sg_batch_prepare(&b, p);
    apr_thread_mutex_create(&b.mutex, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_cond_create(&b.cond, p);
    threads = apr_pcalloc(p, sizeof(*threads) * (apr_size_t)(nthreads + 1));
    /* The caller is one of the workers; the others are new threads. */
    for (i = 1; i < nthreads; i++) {
        if (apr_thread_create(&threads[made], NULL, sg_batch_thread, &b, p)
            == APR_SUCCESS) {
            made++;
        }
    }
    sg_batch_loop(&b);
    for (i = 0; i < made; i++) {
        apr_thread_join(&trv, threads[i]);
    }
    apr_thread_cond_destroy(b.cond);
    apr_thread_mutex_destroy(b.mutex);
    return b.left_out;
}

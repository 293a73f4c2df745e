#ifndef KUBEIP_CCURL_SHIM_H
#define KUBEIP_CCURL_SHIM_H
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>

/* curl_easy_setopt is variadic, which Swift cannot call: one typed wrapper per argument kind. */
static inline CURLcode kubeip_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kubeip_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kubeip_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kubeip_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode kubeip_curl_setopt_offset(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*kubeip_curl_write_callback)(char *, size_t, size_t, void *);
static inline CURLcode kubeip_curl_setopt_write_function(CURL *h, CURLoption o, kubeip_curl_write_callback f) { return curl_easy_setopt(h, o, f); }
typedef int (*kubeip_curl_xferinfo_callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode kubeip_curl_setopt_xferinfo_function(CURL *h, kubeip_curl_xferinfo_callback f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
static inline CURLcode kubeip_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }

/* A `*_BLOB` option (CAINFO_BLOB, SSLCERT_BLOB, SSLKEY_BLOB): libcurl copies the bytes. */
static inline CURLcode kubeip_curl_setopt_blob(CURL *h, CURLoption o, const void *data, size_t length) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &blob);
}

/*
 * A share handle for the DNS cache and TLS sessions, guarded by one mutex per kind of data
 * (easy handles using it run concurrently on several threads). The connection cache is not
 * shared here: libcurl does not support sharing connections between concurrent threads; each
 * pooled easy handle keeps its own connection instead.
 */
typedef struct kubeip_curl_share {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} kubeip_curl_share;

static inline void kubeip_curl_share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *context) {
    (void)handle; (void)access;
    kubeip_curl_share *s = (kubeip_curl_share *)context;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&s->locks[data]);
}

static inline void kubeip_curl_share_unlock(CURL *handle, curl_lock_data data, void *context) {
    (void)handle;
    kubeip_curl_share *s = (kubeip_curl_share *)context;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&s->locks[data]);
}

/* Frees a share created by kubeip_curl_share_create; no easy handle may still use it. */
static inline void kubeip_curl_share_destroy(kubeip_curl_share *s) {
    if (s == NULL) return;
    if (s->share != NULL) curl_share_cleanup(s->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&s->locks[i]);
    free(s);
}

/* A new share of DNS and TLS sessions with its locks installed; NULL when out of memory. */
static inline kubeip_curl_share *kubeip_curl_share_create(void) {
    kubeip_curl_share *s = (kubeip_curl_share *)calloc(1, sizeof(kubeip_curl_share));
    if (s == NULL) return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&s->locks[i], NULL);
    s->share = curl_share_init();
    if (s->share == NULL
        || curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, kubeip_curl_share_lock) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, kubeip_curl_share_unlock) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_USERDATA, (void *)s) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        kubeip_curl_share_destroy(s);
        return NULL;
    }
    return s;
}

/* Attaches `s` (or detaches, with NULL) to an easy handle. */
static inline CURLcode kubeip_curl_setopt_share(CURL *h, kubeip_curl_share *s) {
    return curl_easy_setopt(h, CURLOPT_SHARE, s == NULL ? NULL : s->share);
}
#endif

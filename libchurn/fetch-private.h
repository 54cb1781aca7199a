/*
 * Internal fetch helpers (fetch.c) shared with the alert webhook
 * (alerts-webhook.c): the one libcurl, loaded with dlopen on first use, and
 * the URL redaction of messages and records.
 */
#ifndef CH_FETCH_PRIVATE_H
#define CH_FETCH_PRIVATE_H

#include <curl/curl.h>

/* libcurl's functions, called through this table (fetch.c loads it once per process). */
struct ch_curl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/*
 * libcurl, loaded and initialised on the first call (thread-safe; never
 * unloaded); NULL with the detail set (CHURN_E_INTERNAL) when it cannot be.
 */
const struct ch_curl *ch_curl_load(void);

/*
 * @p src as shown in messages and records (malloc'd; NULL on OOM): in a URL,
 * the userinfo and every query value become "***" and a fragment "#***";
 * anything else is copied.
 */
char *ch_redact_url(const char *src);

#endif

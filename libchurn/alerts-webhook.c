/*
 * The alert webhook: a commit's fired alerts POSTed as JSON to
 * alerts.webhook_url through the library's one libcurl (fetch-private.h,
 * loaded on first use), with a timeout, retries with a doubling delay and an
 * X-Churn-Signature header (HMAC-SHA256 of the body with
 * alerts.webhook_secret). It never fails a run: the outcome is logged and
 * handed back for the run record. Redirects are not followed (a POST moved
 * elsewhere is a failure to fix in the configuration), and only http(s) is
 * spoken. The secret reaches nothing but the header.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts-private.h"
#include "churn/param-keys.h"
#include "churn/version.h"
#include "core-private.h"
#include "fetch-private.h"
#include "params-private.h"

#define MAX_RESPONSE_BYTES 65536 /* a receiver's answer is read and dropped; more is not waited for */

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static size_t discard(char *buf, size_t size, size_t nmemb, void *ud)
{
	size_t *seen = ud;
	(void)buf;
	*seen += size * nmemb;
	return *seen > MAX_RESPONSE_BYTES ? 0 : size * nmemb;
}

/* One POST; its HTTP status in *code (0 when none); the detail in @p why; whether to retry on failure. */
static bool post_once(const struct ch_curl *cu, const char *url, const char *body, struct curl_slist *headers,
                      double timeout_s, long *code, char why[512], bool *retry)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	size_t seen = 0;
	long ms = (long)(timeout_s * 1000 + 0.5);
	CURL *h = cu->easy_init();
	*code = 0;
	*retry = false;
	if (!h) {
		snprintf(why, 512, "libcurl: no handle");
		return false;
	}
	CURLcode rc = CURLE_OK;
#define SET(opt, val) \
	if (rc == CURLE_OK) \
		rc = cu->easy_setopt(h, opt, val)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "libchurn/" CHURN_VERSION_STRING);
	SET(CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, discard);
	SET(CURLOPT_WRITEDATA, &seen);
#undef SET
	if (rc == CURLE_OK)
		rc = cu->easy_perform(h);
	cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	cu->easy_cleanup(h);
	if (rc == CURLE_WRITE_ERROR && *code >= 200 && *code < 300)
		rc = CURLE_OK; /* a long answer to a delivered POST */
	if (rc != CURLE_OK) {
		snprintf(why, 512, "%s", errbuf[0] ? errbuf : cu->easy_strerror(rc));
		*retry = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
		         rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
		return false;
	}
	if (*code >= 200 && *code < 300)
		return true;
	snprintf(why, 512, "HTTP %ld%s", *code, *code >= 300 && *code < 400 ? " (redirects are not followed)" : "");
	*retry = *code >= 500 || *code == 408 || *code == 429;
	return false;
}

/* The request headers: JSON, and the signature when there is a secret (NULL on OOM). */
static struct curl_slist *request_headers(const struct ch_curl *cu, const char *body, const churn_params *p)
{
	const char *secret = churn_params_get_str(p, CHURN_KEY_ALERTS_WEBHOOK_SECRET);
	struct curl_slist *h = cu->slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	struct curl_slist *more = h ? cu->slist_append(h, "Expect:") : NULL;
	if (more && secret[0]) {
		char hex[65], line[128];
		ch_hmac_sha256_hex(secret, strlen(secret), body, strlen(body), hex);
		snprintf(line, sizeof line, "X-Churn-Signature: sha256=%s", hex);
		more = cu->slist_append(h, line);
	}
	if (!more && h) {
		cu->slist_free_all(h);
		h = NULL;
	}
	return h;
}

/* The outcome object of the record. */
static cJSON *outcome(const char *shown, bool ok, unsigned attempts, long code, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "url", shown ? shown : "");
	cJSON_AddStringToObject(o, "status", ok ? "delivered" : "failed");
	cJSON_AddNumberToObject(o, "attempts", attempts);
	if (code > 0)
		cJSON_AddNumberToObject(o, "http_status", (double)code);
	else
		cJSON_AddNullToObject(o, "http_status");
	if (!ok)
		cJSON_AddStringToObject(o, "error", why);
	return o;
}

void ch_alerts_webhook(const cJSON *alerts, const churn_params *p, cJSON **out)
{
	*out = NULL;
	const char *url = churn_params_get_str(p, CHURN_KEY_ALERTS_WEBHOOK_URL);
	if (!url[0] || !cJSON_GetArraySize(alerts))
		return;
	char *shown = ch_redact_url(url), why[512] = "out of memory", *body = NULL;
	cJSON *doc = cJSON_CreateObject();
	bool ok = false;
	unsigned attempts = 0;
	long code = 0;
	if (ch_alerts_check_params(p) != CHURN_OK) /* never posted to a URL the run refused */
		snprintf(why, sizeof why, "%s", churn_last_error());
	else if (doc && cJSON_AddItemToObject(doc, "alerts", cJSON_Duplicate(alerts, 1)))
		body = ch_json_print(doc, false);
	cJSON_Delete(doc);
	const struct ch_curl *cu = body ? ch_curl_load() : NULL;
	if (body && !cu)
		snprintf(why, sizeof why, "%s", churn_last_error());
	struct curl_slist *headers = cu ? request_headers(cu, body, p) : NULL;
	if (headers) {
		double timeout = churn_params_get_double(p, CHURN_KEY_ALERTS_WEBHOOK_TIMEOUT_S);
		double delay = churn_params_get_double(p, CHURN_KEY_ALERTS_WEBHOOK_RETRY_DELAY_S);
		int64_t retries = churn_params_get_int(p, CHURN_KEY_ALERTS_WEBHOOK_RETRIES);
		bool retry = true;
		while (!ok && retry && attempts <= (unsigned)retries) {
			if (attempts)
				sleep_s(delay * pow(2, attempts - 1));
			attempts++;
			ok = post_once(cu, url, body, headers, timeout, &code, why, &retry);
			if (!ok)
				ch_log(p, CHURN_LOG_INFO, "alerts webhook %s: attempt %u failed: %s", shown ? shown : "", attempts,
				       why);
		}
		cu->slist_free_all(headers);
	}
	if (ok)
		ch_log(p, CHURN_LOG_INFO, "alerts webhook %s: %d alert(s) delivered (HTTP %ld, attempt %u)",
		       shown ? shown : "", cJSON_GetArraySize(alerts), code, attempts);
	else
		ch_log(p, CHURN_LOG_WARN, "alerts webhook %s: not delivered after %u attempt(s): %s (the run goes on)",
		       shown ? shown : "", attempts, why);
	*out = outcome(shown, ok, attempts, code, why);
	free(body);
	free(shown);
	ch_clear_error();
}

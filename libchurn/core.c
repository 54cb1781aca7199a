/* Core: status messages, thread-local error detail, versions, small helpers. */
#include "churn/common.h"
#include "churn/version.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core-private.h"

static _Thread_local char last_error[1024];
static _Thread_local bool defer_fsync;

const char *churn_strerror(churn_status st)
{
	switch (st) {
	case CHURN_OK: return "success";
	case CHURN_E_NOMEM: return "out of memory";
	case CHURN_E_INVALID_ARG: return "invalid argument";
	case CHURN_E_IO: return "input/output error";
	case CHURN_E_PARSE: return "malformed input";
	case CHURN_E_STATE: return "invalid state for this call";
	case CHURN_E_NUMERIC: return "numerical problem";
	case CHURN_E_UNSUPPORTED: return "unsupported";
	case CHURN_E_FORMAT: return "unknown or unsupported file format";
	case CHURN_E_LIMIT: return "limit exceeded";
	case CHURN_E_INTERNAL: return "internal error";
	case CHURN_E_NETWORK: return "source unavailable";
	case CHURN_E_BUSY: return "workdir busy";
	case CHURN_E_NOTFOUND: return "not found";
	case CHURN_E_CREATE: return "cannot create output";
	}
	return "unknown status";
}

const char *churn_last_error(void)
{
	return last_error;
}

void churn_free(void *p)
{
	free(p);
}

const char *churn_version(void)
{
	return CHURN_VERSION_STRING;
}

unsigned churn_version_num(void)
{
	return CHURN_VERSION_NUM;
}

churn_status ch_fail(churn_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return st;
}

churn_status ch_fail_prefix(churn_status st, const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error)];
	memcpy(old, last_error, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%.500s: %.500s", prefix, old);
	return st;
}

void ch_clear_error(void)
{
	last_error[0] = '\0';
}

char *ch_strdup(const char *s)
{
	return s ? ch_strndup(s, strlen(s)) : NULL;
}

char *ch_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *ch_vasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return s;
}

char *ch_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ch_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---- numbers ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool ch_parse_double(const char *s, size_t n, double *out)
{
	const char *p = s, *end = s + n;
	bool neg = false;
	if (p < end && (*p == '+' || *p == '-'))
		neg = (*p++ == '-');
	uint64_t mant = 0;
	int digits = 0, frac_digits = 0, int_digits = 0;
	bool exact = true;
	while (p < end && *p >= '0' && *p <= '9') {
		if (mant < 1000000000000000000ull) {
			mant = mant * 10 + (uint64_t)(*p - '0');
			if (mant)
				digits++;
		} else {
			exact = false;
		}
		int_digits++;
		p++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			if (mant < 1000000000000000000ull) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				frac_digits++;
			} else {
				exact = false;
			}
			p++;
		}
	}
	if (int_digits == 0 && frac_digits == 0 && exact)
		return false;
	long exp10 = 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		bool eneg = false;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = (*p++ == '-');
		if (p >= end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9') {
			if (exp10 < 100000)
				exp10 = exp10 * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp10 = -exp10;
	}
	if (p != end)
		return false;
	(void)digits;
	long e = exp10 - frac_digits;
	if (exact && mant <= (1ull << 53) && e >= -22 && e <= 22) {
		double v = (double)mant;
		v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
		*out = neg ? -v : v;
		return true;
	}
	/* Slow path: strtod in the C locale on a NUL-terminated copy. */
	char buf[128];
	char *tmp = n < sizeof(buf) ? buf : malloc(n + 1);
	if (!tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	pthread_once(&c_locale_once, make_c_locale);
	char *ep;
	double v = c_locale ? strtod_l(tmp, &ep, c_locale) : strtod(tmp, &ep);
	bool ok = (ep == tmp + n);
	if (tmp != buf)
		free(tmp);
	if (ok)
		*out = v;
	return ok;
}

bool ch_parse_int64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	const char *p = s;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');
	if (!*p)
		return false;
	uint64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static void fix_decimal_point(char *buf)
{
	/* The host program may have set a locale with ',' as decimal point. */
	for (char *q = buf; *q; q++)
		if (*q == ',')
			*q = '.';
}

void ch_format_double(char *buf, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(buf, cap, "nan");
		return;
	}
	snprintf(buf, cap, "%.17g", v);
	fix_decimal_point(buf);
}

void ch_format_double_short(char *buf, size_t cap, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
		return;
	}
	if (ch_dtoa_short(v, buf, cap))
		return;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		fix_decimal_point(buf);
		double back;
		if (ch_parse_double(buf, strlen(buf), &back) && back == v)
			return;
	}
}

void ch_format_time_utc(char *buf, size_t cap, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- files ---- */

churn_status ch_mkdir_p(const char *path)
{
	char *tmp = ch_strdup(path);
	if (!tmp)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
				churn_status st = ch_fail(CHURN_E_CREATE, "%s: cannot create directory: %s", tmp, strerror(errno));
				free(tmp);
				return st;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		free(tmp);
		return ch_fail(CHURN_E_CREATE, "%s: not a directory", path);
	}
	free(tmp);
	return CHURN_OK;
}

churn_status ch_atomic_open(ch_atomic *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->path = ch_strdup(path);
	a->tmp = ch_asprintf("%s.tmp.%ld.XXXXXX", path, (long)getpid());
	if (!a->path || !a->tmp) {
		ch_atomic_abort(a);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	int fd = mkstemp(a->tmp);
	if (fd < 0) {
		churn_status st = ch_fail(CHURN_E_CREATE, "%s: cannot create: %s", path, strerror(errno));
		free(a->tmp);
		a->tmp = NULL;
		ch_atomic_abort(a);
		return st;
	}
	fchmod(fd, 0644);
	a->fp = fdopen(fd, "wb");
	if (!a->fp) {
		close(fd);
		ch_atomic_abort(a);
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	}
	return CHURN_OK;
}

static void fsync_dir_of(const char *path)
{
	char *d = ch_strdup(path);
	if (!d)
		return;
	char *slash = strrchr(d, '/');
	const char *dir = ".";
	if (slash) {
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
		dir = d;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
}

churn_status ch_atomic_commit(ch_atomic *a)
{
	churn_status st = CHURN_OK;
	if (!a->fp)
		return ch_fail(CHURN_E_STATE, "atomic file is not open");
	int err = 0;
	if (fflush(a->fp) != 0 || ferror(a->fp))
		err = errno ? errno : EIO;
	if (!err && !defer_fsync && fsync(fileno(a->fp)) != 0)
		err = errno;
#ifdef SYNC_FILE_RANGE_WRITE
	/* deferred: start the writeback now, so the one syncfs at commit has less to wait for */
	if (!err && defer_fsync)
		sync_file_range(fileno(a->fp), 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
	if (fclose(a->fp) != 0 && !err)
		err = errno;
	a->fp = NULL;
	if (err) {
		st = ch_fail(CHURN_E_IO, "%s: write failed: %s", a->path, strerror(err));
		ch_atomic_abort(a);
		return st;
	}
	if (rename(a->tmp, a->path) != 0) {
		st = ch_fail(CHURN_E_IO, "%s: cannot replace: %s", a->path, strerror(errno));
		ch_atomic_abort(a);
		return st;
	}
	if (!defer_fsync)
		fsync_dir_of(a->path);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	return CHURN_OK;
}

void ch_set_defer_fsync(bool on)
{
	defer_fsync = on;
}

void ch_sync_fs_of(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || syncfs(fd) != 0)
		sync();
	if (fd >= 0)
		close(fd);
}

void ch_atomic_abort(ch_atomic *a)
{
	if (a->fp)
		fclose(a->fp);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

churn_status ch_write_file_atomic(const char *path, const void *data, size_t n)
{
	ch_atomic a;
	churn_status st = ch_atomic_open(&a, path);
	if (st)
		return st;
	if (n && fwrite(data, 1, n, a.fp) != n) {
		st = ch_fail(CHURN_E_IO, "%s: write failed: %s", path, strerror(errno));
		ch_atomic_abort(&a);
		return st;
	}
	return ch_atomic_commit(&a);
}

churn_status ch_read_file(const char *path, size_t max, char **out, size_t *out_n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ch_fail(errno == ENOENT ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: cannot open: %s", path, strerror(errno));
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	churn_status st = CHURN_OK;
	if (!buf) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				st = ch_fail(CHURN_E_LIMIT, "%s: larger than %zu bytes", path, max);
				goto out;
			}
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				st = ch_fail(CHURN_E_NOMEM, "out of memory");
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f))
				st = ch_fail(CHURN_E_IO, "%s: read failed: %s", path, strerror(errno));
			break;
		}
	}
out:
	fclose(f);
	if (st) {
		free(buf);
		return st;
	}
	buf[n] = '\0';
	*out = buf;
	if (out_n)
		*out_n = n;
	return CHURN_OK;
}

static void to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void ch_sha256_buf(const void *data, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	to_hex(md, hex);
}

/* RFC 2104 over OpenSSL's SHA-256 (the library's one digest); keys of any length. */
void ch_hmac_sha256_hex(const void *key, size_t key_n, const void *data, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	static const unsigned char empty = 0;
	HMAC(EVP_sha256(), key_n ? key : &empty, (int)key_n, n ? data : &empty, n, md, &len);
	to_hex(md, hex);
}

churn_status ch_sha256_file(const char *path, char hex[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ch_fail(errno == ENOENT ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: cannot open: %s", path, strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	churn_status st = CHURN_OK;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		st = ch_fail(CHURN_E_NOMEM, "cannot create a SHA-256 context");
		goto out;
	}
	static const size_t bufsz = 1 << 16;
	unsigned char *buf = malloc(bufsz);
	if (!buf) {
		st = ch_fail(CHURN_E_NOMEM, "out of memory");
		goto out;
	}
	size_t r;
	while ((r = fread(buf, 1, bufsz, f)) > 0)
		EVP_DigestUpdate(ctx, buf, r);
	if (ferror(f))
		st = ch_fail(CHURN_E_IO, "%s: read failed", path);
	free(buf);
	if (!st) {
		unsigned char md[32];
		unsigned int len = 0;
		EVP_DigestFinal_ex(ctx, md, &len);
		to_hex(md, hex);
	}
out:
	EVP_MD_CTX_free(ctx);
	fclose(f);
	return st;
}

churn_status ch_list_split(const char *spec, char ***out, size_t *out_n)
{
	char **names = NULL;
	size_t n = 0;
	*out = NULL;
	*out_n = 0;
	for (const char *s = spec ? spec : ""; *s;) {
		const char *e = strchr(s, ',');
		const char *a = s, *b = e ? e : s + strlen(s);
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			char **grown = realloc(names, (n + 1) * sizeof(*names));
			char *name = grown ? ch_strndup(a, (size_t)(b - a)) : NULL;
			if (grown)
				names = grown;
			if (!name) {
				for (size_t k = 0; k < n; k++)
					free(names[k]);
				free(names);
				return ch_fail(CHURN_E_NOMEM, "out of memory");
			}
			names[n++] = name;
		}
		if (!e)
			break;
		s = e + 1;
	}
	*out = names;
	*out_n = n;
	return CHURN_OK;
}

bool ch_dl_load(const char *soname, const ch_dl_sym *syms, size_t nsyms, char *err, size_t errsize)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, errsize, "cannot load %s: %s", soname, dlerror());
		return false;
	}
	for (size_t i = 0; i < nsyms; i++)
		if (!(*syms[i].slot = dlsym(lib, syms[i].name))) {
			snprintf(err, errsize, "%s has no %s", soname, syms[i].name);
			return false;
		}
	return true;
}

/*
 * CSV reader (see churn/csv.h for the rules, csv-private.h for its design):
 * the input buffer, records split into fields, the header, the UTF-8 check,
 * the main loop and the public read calls. The columns are csv-infer.c's.
 */
#include "churn/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "csv-private.h"
#include "params-private.h"
#include "utf8-private.h"

#define PROGRESS_EVERY (16u << 20) /* bytes between progress reports */

/* Bytes that stop the scan of an unquoted / quoted field. */
#if !defined(__SSE2__)
static const unsigned char stop_unq[256] = {[0] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};
#endif
static const unsigned char stop_q[256] = {[0] = 1, ['\n'] = 1, ['"'] = 1};

/* ---- input ---- */

/*
 * Position of the first byte at or after buf[from] with its high bit set, or
 * r->len. 64 bytes per step (the buffer has PAD readable bytes after its
 * data), so that ASCII input costs the UTF-8 check one quick pass per chunk
 * and no work per record.
 */
static size_t next_high(const rd *r, size_t from)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t i = from, n = r->len;
	for (; i < n; i += 64) {
#ifdef __SSE2__
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 16));
		__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 32));
		__m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 48));
		if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))))
			continue;
		uint64_t m = (uint64_t)(unsigned)_mm_movemask_epi8(v0) | (uint64_t)(unsigned)_mm_movemask_epi8(v1) << 16 |
		             (uint64_t)(unsigned)_mm_movemask_epi8(v2) << 32 | (uint64_t)(unsigned)_mm_movemask_epi8(v3) << 48;
		size_t k = i + (size_t)__builtin_ctzll(m);
		return k < n ? k : n;
#else
		uint64_t w[8];
		memcpy(w, b + i, 64);
		if (!((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) & 0x8080808080808080ull))
			continue;
		for (size_t k = i; k < i + 64 && k < n; k++)
			if (b[k] & 0x80)
				return k;
#endif
	}
	return n;
}

static churn_status refill(rd *r, size_t keep_from)
{
	size_t keep = r->len - keep_from;
	r->base += keep_from;
	if (keep && keep_from)
		memmove(r->buf, r->buf + keep_from, keep);
	r->len = keep;
	/* Read at least a chunk, and at least as much as is kept (a long record then costs O(n)). */
	size_t want = r->chunk > keep ? r->chunk : keep;
	if (r->cap < keep + want) {
		size_t nc = keep + want;
		char *nb = realloc(r->buf, nc + PAD);
		if (!nb)
			return ch_csv_nomem();
		r->buf = nb;
		r->cap = nc;
	}
	size_t got = 0;
	while (got < want) {
		if (r->mem) {
			size_t n = r->mem_n - r->mem_pos;
			if (n > want - got)
				n = want - got;
			memcpy(r->buf + r->len, r->mem + r->mem_pos, n);
			r->mem_pos += n;
			r->len += n;
			got += n;
			if (r->mem_pos == r->mem_n)
				r->eof = true;
			break;
		}
		ssize_t n = read(r->fd, r->buf + r->len, want - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ch_fail(CHURN_E_IO, "%s: read failed: %s", r->name, strerror(errno));
		}
		if (n == 0) {
			r->eof = true;
			break;
		}
		r->len += (size_t)n;
		got += (size_t)n;
	}
	memset(r->buf + r->len, 0, PAD);
	r->expect = NULL;
	r->hi_at = next_high(r, 0);
	return CHURN_OK;
}

/* ---- records ---- */

/*
 * Bit k set when byte b[k] is ',', LF, CR, '"' or NUL, for the 64 bytes at
 * b (the buffer has PAD zero bytes after its data, so whole blocks can be
 * read). Blocks are computed independently of where fields end, so the CPU
 * overlaps them; a field end is then one bit search.
 */
static inline uint64_t block_mask(const char *b)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
	              quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
	uint64_t bits = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
		                         _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)),
		                                      _mm_cmpeq_epi8(v, zero)));
		bits |= (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
	}
	return bits;
#else
	uint64_t bits = 0;
	for (int k = 0; k < 64; k++)
		bits |= (uint64_t)stop_unq[(unsigned char)b[k]] << k;
	return bits;
#endif
}

/* Where the unquoted-field scanner is: the 64-byte block at bb, its stops not yet consumed, valid when a field starts at expect. */
typedef struct scanner {
	char *bb, *expect;
	uint64_t bm;
} scanner;

static __attribute__((noinline, cold)) int after_quote_error(const rd *r, unsigned char c, size_t nf,
                                                             churn_status *st)
{
	char msg[64];
	if (c >= 0x20 && c < 0x7f)
		snprintf(msg, sizeof msg, "unexpected '%c' after a closing quote", c);
	else
		snprintf(msg, sizeof msg, "unexpected byte 0x%02x after a closing quote", c);
	*st = ch_csv_fail_at(r, CHURN_E_PARSE, nf + 1, msg);
	return R_FAIL;
}

/*
 * The quoted field at *pp (field nf of the record; end: r->buf + r->len, passed
 * because a store of a span may alias r->buf): its text between the
 * quotes in *content, *flen (doubled quotes still in: F_ESC in *flags), *pp
 * past the closing quote, *nl counting the line breaks inside. R_DONE,
 * R_NEED_MORE (the buffer ends before the field does) or R_FAIL (*st set).
 */
static inline __attribute__((always_inline)) int quoted_field(rd *r, char *end, char **pp, size_t nf, size_t *nl,
                                                              char **content, size_t *flen, unsigned *flags,
                                                              churn_status *st)
{
	char *p = *pp, *q = p + 1;
	*flags = F_QUOTED;
	for (;;) {
		while (!stop_q[(unsigned char)*q])
			q++;
		if (*q == '"') {
			if (q + 1 == end && !r->eof)
				return R_NEED_MORE;
			if (q + 1 < end && q[1] == '"') {
				*flags |= F_ESC;
				q += 2;
				continue;
			}
			break;
		}
		if (*q == '\n') {
			(*nl)++;
			q++;
			continue;
		}
		if (q == end) {
			if (!r->eof)
				return R_NEED_MORE;
			*st = ch_csv_fail_at(r, CHURN_E_PARSE, nf + 1, "unterminated quoted field");
			return R_FAIL;
		}
		*st = ch_csv_fail_at(r, CHURN_E_PARSE, nf + 1, "NUL byte in quoted field");
		return R_FAIL;
	}
	*content = p + 1;
	*flen = (size_t)(q - *content);
	p = q + 1;
	if (p == end && !r->eof)
		return R_NEED_MORE;
	if (p < end && *p != ',' && *p != '\n') {
		if (*p == '\r' && p + 1 == end && !r->eof)
			return R_NEED_MORE;
		if (!(*p == '\r' && (p + 1 == end || p[1] == '\n')))
			return after_quote_error(r, (unsigned char)*p, nf, st);
	}
	*pp = p;
	return R_DONE;
}

/*
 * The unquoted field at *pp: *content, *flen, *pp at the byte that ends it
 * (',', a line break or the end of input). One bit search per field in the
 * stops of 64-byte blocks (block_mask), carried in *sc from field to field.
 */
static inline __attribute__((always_inline)) int unquoted_field(rd *r, char *end, char **pp, scanner *sc,
                                                                size_t nf, char **content, size_t *flen,
                                                                churn_status *st)
{
	char *p = *pp, *q;
	char *bb = sc->bb;
	uint64_t bm = sc->bm;
	if (p != sc->expect) {
		bb = r->buf + ((size_t)(p - r->buf) & ~(size_t)63);
		bm = block_mask(bb) & (~0ull << (p - bb));
	}
	for (;;) {
		while (!bm) {
			bb += 64;
			bm = block_mask(bb);
		}
		q = bb + __builtin_ctzll(bm);
		bm &= bm - 1;
		unsigned char c = (unsigned char)*q;
		if (c == ',' || c == '\n')
			break;
		if (c == '"')
			continue;
		if (c == '\r') {
			if (q + 1 == end) {
				if (!r->eof)
					return R_NEED_MORE;
				break;
			}
			if (q[1] == '\n')
				break;
			continue;
		}
		if (q == end) {
			if (!r->eof)
				return R_NEED_MORE;
			break;
		}
		*st = ch_csv_fail_at(r, CHURN_E_PARSE, nf + 1, "NUL byte");
		return R_FAIL;
	}
	sc->bb = bb;
	sc->bm = bm;
	sc->expect = q + 1;
	*content = p;
	*flen = (size_t)(q - p);
	*pp = q;
	return R_DONE;
}

static __attribute__((noinline, cold)) int too_long(const rd *r, size_t col, const char *what, size_t n, size_t max,
                                                    churn_status *st)
{
	char msg[96];
	snprintf(msg, sizeof msg, "%s of %zu bytes is longer than csv.max_%s_bytes (%zu)", what, n,
	         what[0] == 'f' ? "field" : "line", max);
	*st = ch_csv_fail_at(r, CHURN_E_LIMIT, col, msg);
	return R_FAIL;
}

/*
 * The buffer ends inside the record at buf[start] (in field nf, which starts
 * at fs): R_NEED_MORE, or R_FAIL when what is already there passes
 * csv.max_line_bytes or csv.max_field_bytes.
 */
static int need_more(rd *r, size_t start, const char *fs, size_t nf, churn_status *st)
{
	const char *end = r->buf + r->len;
	r->expect = NULL;
	if ((size_t)(end - (r->buf + start)) > r->max_line + 2) {
		char msg[160];
		snprintf(msg, sizeof msg, "record longer than csv.max_line_bytes (%zu)%s", r->max_line,
		         *fs == '"' ? " (inside a quoted field: an unterminated quote?)" : "");
		*st = ch_csv_fail_at(r, CHURN_E_LIMIT, nf + 1, msg);
		return R_FAIL;
	}
	if ((size_t)(end - fs) > r->max_field + 2) {
		char msg[96];
		snprintf(msg, sizeof msg, "field longer than csv.max_field_bytes (%zu)", r->max_field);
		*st = ch_csv_fail_at(r, CHURN_E_LIMIT, nf + 1, msg);
		return R_FAIL;
	}
	return R_NEED_MORE;
}

/*
 * Split the record starting at buf[start] into r->sp (at most r->sp_max
 * spans; r->nf counts all fields). Returns R_DONE (*next = start of the next
 * record), R_NEED_MORE, or R_FAIL with the detail set in *st.
 */
static int split_record(rd *r, size_t start, size_t *next, churn_status *st)
{
	char *const end = r->buf + r->len;
	char *p = r->buf + start;
	size_t nf = 0, nl = 0;
	scanner sc = {r->bb, r->expect, r->bm};
	for (;;) {
		char *fs = p, *content;
		size_t flen;
		unsigned flags = 0;
		int rc = *p == '"' ? quoted_field(r, end, &p, nf, &nl, &content, &flen, &flags, st)
		                   : unquoted_field(r, end, &p, &sc, nf, &content, &flen, st);
		if (rc == R_NEED_MORE)
			return need_more(r, start, fs, nf, st);
		if (rc == R_FAIL)
			return R_FAIL;
		if (flen > r->max_field && !(flags & F_ESC))
			return too_long(r, nf + 1, "field", flen, r->max_field, st);
		if (nf < r->sp_max)
			r->sp[nf] = (span){content, (uint32_t)flen, flags};
		nf++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		/* end of record: '\n', "\r\n", '\r' at the end of input, or the end of input */
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		break;
	}
	if ((size_t)(p - (r->buf + start)) > r->max_line + 2)
		return too_long(r, 1, "record", (size_t)(p - (r->buf + start)), r->max_line, st);
	r->bb = sc.bb;
	r->bm = sc.bm;
	r->expect = sc.expect;
	r->nf = nf;
	r->rec_nl = nl;
	*next = (size_t)(p - r->buf);
	return R_DONE;
}

/*
 * The record just split at buf[start..next), which has a byte with its high
 * bit set (r->hi_at), must be UTF-8 (see churn/csv.h). An invalid sequence
 * is reported at its field. A data row of the wrong width is left to commit_row, which
 * fails or skips it (its bytes never reach the dataset).
 */
static churn_status check_utf8(const rd *r, size_t start, size_t next, bool header)
{
	int why;
	size_t from = r->hi_at > start ? r->hi_at : start; /* ASCII before it */
	size_t n = next - from, at = ch_utf8_check(r->buf + from, n, &why);
	if (at == n || (!header && r->nf != r->ncols))
		return CHURN_OK;
	const char *bad = r->buf + from + at;
	size_t nf = r->nf < r->sp_max ? r->nf : r->sp_max;
	for (size_t j = 0; j < nf; j++) {
		const span *f = &r->sp[j];
		if (bad < f->s || bad >= f->s + f->len)
			continue;
		char where[160];
		if (header)
			snprintf(where, sizeof where, "the header");
		else
			snprintf(where, sizeof where, "column \"%.120s\"", r->cols[j].name);
		char msg[320];
		snprintf(msg, sizeof msg,
		         "invalid UTF-8 (byte 0x%02x: %s) in %s; the file must be UTF-8: convert it "
		         "(e.g. iconv -f latin1 -t utf-8 IN > OUT)",
		         (unsigned char)*bad, ch_utf8_reason(why), where);
		return ch_csv_fail_at(r, CHURN_E_PARSE, j + 1, msg);
	}
	return CHURN_OK;
}

typedef struct name_ref {
	const char *s;
	size_t j;
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
	const name_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	if (c)
		return c;
	return x->j < y->j ? -1 : x->j > y->j;
}

static churn_status take_header(rd *r)
{
	size_t n = r->nf;
	if (n > r->max_cols) {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu columns, more than csv.max_cols (%zu)", n, r->max_cols);
		return ch_csv_fail_at(r, CHURN_E_LIMIT, r->max_cols + 1, msg);
	}
	r->cols = calloc(n, sizeof(ccol));
	if (!r->cols)
		return ch_csv_nomem();
	r->ncols = n;
	for (size_t j = 0; j < n; j++) {
		span *f = &r->sp[j];
		if (f->flags & F_ESC)
			ch_csv_unescape(f);
		const char *s = f->s;
		size_t len = f->len;
		const char *a = s, *b = s + len;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		r->cols[j].name = a < b ? ch_strndup(a, (size_t)(b - a)) : ch_asprintf("column_%zu", j + 1);
		if (!r->cols[j].name)
			return ch_csv_nomem();
	}
	/* Duplicates: sort (name, position) pairs. */
	name_ref *refs = malloc((n ? n : 1) * sizeof(*refs));
	if (!refs)
		return ch_csv_nomem();
	for (size_t j = 0; j < n; j++)
		refs[j] = (name_ref){r->cols[j].name, j};
	qsort(refs, n, sizeof(*refs), cmp_name_ref);
	size_t dup = SIZE_MAX, first = 0;
	for (size_t k = 1; k < n; k++)
		if (strcmp(refs[k].s, refs[k - 1].s) == 0 && refs[k].j < dup) {
			dup = refs[k].j;
			first = refs[k - 1].j;
		}
	free(refs);
	if (dup != SIZE_MAX) {
		/* report the earliest first occurrence of that name */
		for (size_t j = 0; j < dup; j++)
			if (strcmp(r->cols[j].name, r->cols[dup].name) == 0) {
				first = j;
				break;
			}
		return ch_fail(CHURN_E_PARSE, "%s:%zu:%zu: duplicate column name '%s' (also column %zu)", r->name,
		               r->line, dup + 1, r->cols[dup].name, first + 1);
	}
	for (size_t j = 0; j < n; j++) {
		ccol *c = &r->cols[j];
		c->st = ST_NUM;
	}
	r->sp_max = n + 1;
	return r->sample ? ch_csv_sample_header(r) : CHURN_OK;
}

/* ---- setup, main loop, result ---- */

static churn_status read_params(rd *r, const churn_params *p)
{
	churn_params *def = NULL;
	if (!p) {
		churn_status st = churn_params_new(&def);
		if (st)
			return st;
		p = def;
	}
	r->max_field = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_MAX_FIELD_BYTES);
	r->max_line = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_MAX_LINE_BYTES);
	r->max_rows = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_MAX_ROWS);
	r->max_cols = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_MAX_COLS);
	r->max_cat = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_MAX_CATEGORIES);
	r->chunk = (size_t)churn_params_get_int(p, CHURN_KEY_CSV_CHUNK_BYTES);
	r->skip_ragged = churn_params_get_bool(p, CHURN_KEY_CSV_SKIP_RAGGED);
	if (r->max_cat > INT32_MAX - 1)
		r->max_cat = INT32_MAX - 1;
	const char *na = churn_params_get_str(p, CHURN_KEY_CSV_NA_TOKENS);
	r->na_min = SIZE_MAX;
	r->na_max = 0;
	while (*na && r->nna < MAX_NA) {
		const char *e = strchr(na, ',');
		size_t n = e ? (size_t)(e - na) : strlen(na);
		const char *t = na;
		size_t tn = n;
		ch_csv_trim(&t, &tn);
		if (tn > 0 && tn < sizeof(r->na[0].s)) {
			memcpy(r->na[r->nna].s, t, tn);
			r->na[r->nna].len = tn;
			r->nna++;
			if (tn < r->na_min)
				r->na_min = tn;
			if (tn > r->na_max)
				r->na_max = tn;
			unsigned char f = ch_csv_lower((unsigned char)t[0]);
			r->na_first[f] = 1;
			if (f >= 'a' && f <= 'z')
				r->na_first[f - 32] = 1;
		}
		na += n;
		if (*na == ',')
			na++;
	}
	r->p = p == def ? NULL : p;
	churn_params_free(def);
	return CHURN_OK;
}

static churn_status run(rd *r, churn_dataset **out)
{
	churn_status st;
	size_t pos = 0;
	bool header = false, bom_checked = false;
	r->line = 1;
	r->sp_max = r->max_cols + 1;
	r->sp = malloc(r->sp_max * sizeof(span)); /* pages past the widest record are never touched */
	if (!r->sp)
		return ch_csv_nomem();
	for (;;) {
		if ((st = refill(r, pos)))
			return st;
		pos = 0;
		if (!bom_checked) {
			if (r->len < 3 && !r->eof)
				continue;
			bom_checked = true;
			if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
				pos = 3;
		}
		while (pos < r->len) {
			size_t next;
			int rc = split_record(r, pos, &next, &st);
			if (rc == R_FAIL)
				return st;
			if (rc == R_NEED_MORE)
				break;
			if (r->hi_at < next) {
				if ((st = check_utf8(r, pos, next, !header)))
					return st;
				r->hi_at = next_high(r, next);
			}
			if (!header) {
				if (!(r->nf == 1 && r->sp[0].len == 0 && !(r->sp[0].flags & F_QUOTED))) {
					if ((st = take_header(r)))
						return st;
					header = true;
				}
			} else if ((st = ch_csv_commit_row(r, next))) {
				return st;
			}
			r->line += r->rec_nl + 1;
			pos = next;
		}
		uint64_t done = r->base + pos;
		if (done >= r->next_progress || (r->eof && pos >= r->len)) {
			r->next_progress = done + PROGRESS_EVERY;
			if (!ch_progress(r->p, "parse", done, r->total))
				return ch_fail(CHURN_E_STATE, "%s: parse cancelled at line %zu", r->name, r->line);
		}
		if (r->eof && pos >= r->len)
			break;
	}
	if (!header)
		return ch_fail(CHURN_E_PARSE, "%s:1:1: empty file (a header line is required)", r->name);
	if (r->nrows == 0) {
		if (r->skipped)
			return ch_fail(CHURN_E_PARSE, "%s:%zu:1: no data rows: all %zu rows were skipped as ragged", r->name,
			               r->line, r->skipped);
		return ch_fail(CHURN_E_PARSE, "%s:%zu:1: no data rows after the header", r->name, r->line);
	}
	if (r->sample && (st = ch_csv_sample_finish(r)))
		return st;
	return ch_csv_finish(r, out);
}

static void rd_free(rd *r)
{
	for (size_t j = 0; j < r->ncols; j++)
		ch_csv_col_free(&r->cols[j]);
	free(r->cols);
	free(r->sp);
	free(r->buf);
	free(r->lines);
	ch_csv_sample_free(r->sample);
}

static churn_status read_any(rd *r, const churn_params *p, churn_dataset **out, size_t *out_skipped)
{
	churn_dataset *ds = NULL;
	churn_status st = read_params(r, p);
	if (!st)
		st = run(r, &ds);
	rd_free(r);
	if (st)
		return st;
	ch_clear_error();
	if (r->sample)
		ds->rows_read = r->nread;
	*out = ds;
	if (out_skipped)
		*out_skipped = r->skipped;
	return CHURN_OK;
}

/* churn_csv_read_file(), with the sample of @p sample when not NULL (taken over). */
static churn_status read_path(const char *path, const churn_params *p, struct ch_csv_sampler *sample,
                              churn_dataset **out, size_t *out_skipped_rows)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ch_csv_sample_free(sample);
		return ch_fail(errno == ENOENT || errno == ENOTDIR ? CHURN_E_NOTFOUND : CHURN_E_IO, "%s: cannot open: %s",
		               path, strerror(errno));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
		int e = S_ISDIR(sb.st_mode) ? EISDIR : errno;
		close(fd);
		ch_csv_sample_free(sample);
		return ch_fail(CHURN_E_IO, "%s: cannot read: %s", path, strerror(e));
	}
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	rd r = {0};
	r.name = path;
	r.fd = fd;
	r.total = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	r.sample = sample;
	churn_status st = read_any(&r, p, out, out_skipped_rows);
	close(fd);
	return st;
}

churn_status churn_csv_read_file(const char *path, const churn_params *p, churn_dataset **out, size_t *out_skipped_rows)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_read_file: NULL argument");
	return read_path(path, p, NULL, out, out_skipped_rows);
}

churn_status churn_csv_read_file_sampled(const char *path, const churn_params *p, churn_dataset **out,
                                         size_t *out_skipped_rows, size_t *out_rows_read)
{
	if (!path || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_read_file_sampled: NULL argument");
	churn_params *def = NULL;
	churn_status st = p ? CHURN_OK : churn_params_new(&def);
	if (st)
		return st;
	struct ch_csv_sampler *s = NULL;
	if (churn_params_get_int(p ? p : def, CHURN_KEY_TRAIN_MAX_ROWS) > 0 && !(s = ch_csv_sampler_new(p ? p : def)))
		st = ch_csv_nomem();
	churn_dataset *ds = NULL;
	if (!st)
		st = read_path(path, p, s, &ds, out_skipped_rows);
	churn_params_free(def);
	if (st)
		return st;
	if (out_rows_read)
		*out_rows_read = churn_dataset_get_rows_read(ds);
	*out = ds;
	return CHURN_OK;
}

churn_status churn_csv_read_buffer(const char *data, size_t n, const char *name, const churn_params *p,
                                   churn_dataset **out, size_t *out_skipped_rows)
{
	if ((!data && n) || !out)
		return ch_fail(CHURN_E_INVALID_ARG, "churn_csv_read_buffer: NULL argument");
	rd r = {0};
	r.name = name ? name : "<buffer>";
	r.fd = -1;
	r.mem = data ? data : "";
	r.mem_n = n;
	r.total = n;
	if (n == 0)
		r.eof = true;
	return read_any(&r, p, out, out_skipped_rows);
}


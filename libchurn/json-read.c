/*
 * Reading JSON safely: one iterative pass over the text before cJSON's
 * recursive parser sees it. The pass bounds the nesting depth (cJSON's parser,
 * printer and cJSON_Delete recurse once per level: 700 levels overflow a small
 * worker stack), checks that the bytes are UTF-8, and counts the elements of a
 * top-level array up to a cap, so that an oversized request is refused before
 * anything is built from it.
 */
#include "core-private.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s[0..n) (1..4), or 0 when it is not valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && s[1] >= 0xa0) /* surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xf4 && s[1] >= 0x90) /* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

churn_status ch_json_scan(const char *text, size_t len, const ch_json_limits *lim, const char *what,
                          size_t *out_top_count)
{
	const unsigned char *s = (const unsigned char *)text;
	int depth = 0;
	bool in_str = false, top_array = false, top_value = false;
	size_t count = 0;
	if (!what)
		what = "JSON document";
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		if (c >= 0x80) {
			size_t k = utf8_seq(s + i, len - i);
			if (!k)
				return ch_fail(CHURN_E_PARSE, "%s: byte %zu: invalid UTF-8 (0x%02x)", what, i + 1, c);
			if (!in_str)
				return ch_fail(CHURN_E_PARSE, "%s: byte %zu: not valid JSON", what, i + 1);
			i += k;
			continue;
		}
		if (in_str) {
			if (c == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (c == '"')
				in_str = false;
			else if (c == 0)
				return ch_fail(CHURN_E_PARSE, "%s: byte %zu: NUL byte", what, i + 1);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			if (depth == 1 && top_array)
				top_value = true;
			break;
		case '[':
		case '{':
			if (depth == 0 && c == '[')
				top_array = true;
			if (depth == 1 && top_array)
				top_value = true;
			if (++depth > lim->max_depth)
				return ch_fail(CHURN_E_PARSE, "%s: byte %zu: JSON nested deeper than %d levels", what, i + 1,
				               lim->max_depth);
			break;
		case ']':
		case '}':
			if (depth == 1 && top_array && top_value) {
				count++;
				top_value = false;
			}
			if (depth > 0)
				depth--;
			break;
		case ',':
			if (depth == 1 && top_array) {
				count++;
				top_value = false;
				if (lim->max_elements && count >= lim->max_elements)
					return ch_fail(CHURN_E_LIMIT, "%s: more than %zu records; at most %zu are accepted", what,
					               lim->max_elements, lim->max_elements);
			}
			break;
		case 0:
			return ch_fail(CHURN_E_PARSE, "%s: byte %zu: NUL byte", what, i + 1);
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (depth == 1 && top_array)
				top_value = true;
			break;
		}
		i++;
	}
	if (lim->max_elements && count > lim->max_elements)
		return ch_fail(CHURN_E_LIMIT, "%s: %zu records; at most %zu are accepted", what, count, lim->max_elements);
	if (out_top_count)
		*out_top_count = top_array ? count : 1;
	return CHURN_OK;
}

cJSON *ch_json_parse(const char *text, size_t len, const char *what, churn_status *out_st)
{
	static const ch_json_limits doc = {CH_JSON_MAX_DEPTH, 0};
	churn_status st = ch_json_scan(text, len, &doc, what, NULL);
	cJSON *o = NULL;
	if (!st && !(o = cJSON_ParseWithLength(text, len)))
		st = ch_fail(CHURN_E_PARSE, "%s: not valid JSON", what ? what : "JSON document");
	if (out_st)
		*out_st = st;
	return o;
}

cJSON *ch_json_parse_str(const char *text, const char *what)
{
	return text ? ch_json_parse(text, strlen(text), what, NULL) : NULL;
}

churn_status ch_json_read_file(const char *dir, const char *rel, size_t max, char **out, size_t *out_n)
{
	char *path = ch_asprintf("%s/%s", dir, rel);
	if (!path)
		return ch_fail(CHURN_E_NOMEM, "out of memory");
	char *buf = NULL;
	size_t n = 0;
	churn_status st = ch_read_file(path, max, &buf, &n);
	if (st)
		goto out;
	cJSON *o = ch_json_parse(buf, n, path, &st);
	if (!o) {
		if (!st)
			st = ch_fail(CHURN_E_PARSE, "%s: not valid JSON", path);
		free(buf);
		goto out;
	}
	cJSON_Delete(o);
	*out = buf;
	if (out_n)
		*out_n = n;
out:
	free(path);
	return st;
}

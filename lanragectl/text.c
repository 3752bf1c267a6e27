/*
 * Text for people.  Names, errors and settings come from lanraged, and
 * names from remote peers: none of them may move the cursor, change
 * colours, hide characters or reorder a line on the user's terminal.
 * Printable characters of the locale's charset are kept, so a UTF-8
 * terminal shows accented and CJK names as they are.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "lanragectl/lanragectl.h"

/* One source character, escaped: up to MB_LEN_MAX bytes as \xNN each. */
struct text_char {
	char		 out[MB_LEN_MAX * 4];
	size_t		 outlen;
	size_t		 inlen;		/* source bytes consumed */
	size_t		 width;		/* terminal columns of out */
};

/* Printable by iswprint() yet invisible or reordering: bidi, zero width. */
static int
text_is_format(wchar_t wc)
{
	return (wc >= 0x200b && wc <= 0x200f) ||
	    (wc >= 0x202a && wc <= 0x202e) ||
	    (wc >= 0x2060 && wc <= 0x206f) ||
	    wc == 0x061c || wc == 0x180e || wc == 0xfeff;
}

static void
text_hex(struct text_char *tc, const unsigned char *s, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	tc->outlen = 0;
	for (i = 0; i < n; i++) {
		tc->out[tc->outlen++] = '\\';
		tc->out[tc->outlen++] = 'x';
		tc->out[tc->outlen++] = hex[s[i] >> 4];
		tc->out[tc->outlen++] = hex[s[i] & 0xf];
	}
	tc->inlen = n;
	tc->width = tc->outlen;
}

/* A byte >= 0x80 in a multibyte locale: keep the character if printable. */
static void
text_next_mb(struct text_char *tc, const unsigned char *s, size_t len)
{
	mbstate_t	 st;
	wchar_t		 wc;
	size_t		 n;
	int		 w;

	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, (const char *)s, len, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
	    n > sizeof(tc->out)) {
		text_hex(tc, s, 1);
		return;
	}
	if (!iswprint(wc) || (w = wcwidth(wc)) < 0 || text_is_format(wc)) {
		text_hex(tc, s, n);
		return;
	}
	memcpy(tc->out, s, n);
	tc->outlen = n;
	tc->inlen = n;
	tc->width = w;
}

static void
text_next(struct text_char *tc, const unsigned char *s, size_t len)
{
	if (*s >= 0x80 && MB_CUR_MAX > 1) {
		text_next_mb(tc, s, len);
		return;
	}
	if (*s == '\\') {
		memcpy(tc->out, "\\\\", 2);
		tc->outlen = tc->width = 2;
	} else if (*s >= 0x20 && *s < 0x7f) {
		tc->out[0] = *s;
		tc->outlen = tc->width = 1;
	} else {
		text_hex(tc, s, 1);
		return;
	}
	tc->inlen = 1;
}

void
text_print(FILE *fp, const char *s, size_t len)
{
	struct text_char	 tc;
	const unsigned char	*p = (const unsigned char *)s;

	while (len > 0) {
		text_next(&tc, p, len);
		fwrite(tc.out, 1, tc.outlen, fp);
		p += tc.inlen;
		len -= tc.inlen;
	}
}

size_t
text_width(const char *s, size_t len)
{
	struct text_char	 tc;
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 width = 0;

	while (len > 0) {
		text_next(&tc, p, len);
		width += tc.width;
		p += tc.inlen;
		len -= tc.inlen;
	}
	return width;
}

void
text_escape(char *dst, size_t dstlen, const char *s, size_t len)
{
	struct text_char	 tc;
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 off = 0;

	if (dstlen == 0)
		return;
	while (len > 0) {
		text_next(&tc, p, len);
		/* keep room for "..." and the NUL, whole characters only */
		if (off + tc.outlen + 4 > dstlen) {
			snprintf(dst + off, dstlen - off, "...");
			return;
		}
		memcpy(dst + off, tc.out, tc.outlen);
		off += tc.outlen;
		p += tc.inlen;
		len -= tc.inlen;
	}
	dst[off] = '\0';
}

void
text_size(char *dst, size_t dstlen, uint64_t bytes)
{
	static const char	*unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
				    "EiB" };
	double			 v = bytes;
	size_t			 i = 0;

	if (bytes < 1024) {
		snprintf(dst, dstlen, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	/* 1023.96 would print as "1024.0": move up a unit instead */
	while (v >= 1023.95 && i < sizeof(unit) / sizeof(unit[0]) - 1) {
		v /= 1024;
		i++;
	}
	snprintf(dst, dstlen, "%.1f %s", v, unit[i]);
}

void
text_age(char *dst, size_t dstlen, uint64_t s)
{
	unsigned long long	 t = s;

	if (t < 60)
		snprintf(dst, dstlen, "%llus", t);
	else if (t < 3600)
		snprintf(dst, dstlen, "%llum%02llus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(dst, dstlen, "%lluh%02llum", t / 3600, t % 3600 / 60);
	else
		snprintf(dst, dstlen, "%llud%02lluh", t / 86400,
		    t % 86400 / 3600);
}

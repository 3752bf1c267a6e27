/*
 * Reader of the hex test vectors of proto/NAME.md (tests/lib/vectors.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/lib/vectors.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Append one token of hex digit pairs to v (data has room for it). */
static void
tvec_hex(struct tvec *v, const char *tok, const char *file, int lineno)
{
	size_t	 i, n = strlen(tok);

	ck_assert_msg(n % 2 == 0, "%s:%d: odd hex digit count in %s", file,
	    lineno, tok);
	for (i = 0; i < n; i += 2) {
		ck_assert_msg(hexval(tok[i]) >= 0 && hexval(tok[i + 1]) >= 0,
		    "%s:%d: not hex: %s", file, lineno, tok);
		v->data[v->len++] = hexval(tok[i]) << 4 | hexval(tok[i + 1]);
	}
}

static void
tvec_parse(struct tvec *v, char *line, const char *file, int lineno)
{
	char	*tok, *save, *name, *verdict;
	int	 ntok = 0, empty = 0;

	memset(v, 0, sizeof(*v));
	v->line = lineno;
	/* Never more bytes than hex digits on the line. */
	v->data = malloc(strlen(line) / 2 + 1);
	ck_assert_ptr_nonnull(v->data);
	strtok_r(line, " \t\r\n", &save);
	name = strtok_r(NULL, " \t\r\n", &save);
	verdict = strtok_r(NULL, " \t\r\n", &save);
	ck_assert_msg(name != NULL && verdict != NULL,
	    "%s:%d: vector needs a name and a verdict", file, lineno);
	ck_assert_msg(strlen(name) < TVEC_NAMEMAX, "%s:%d: name too long",
	    file, lineno);
	snprintf(v->name, sizeof(v->name), "%s", name);
	ck_assert_msg(strcmp(verdict, "ok") == 0 || strcmp(verdict, "bad") == 0,
	    "%s:%d: verdict %s is neither ok nor bad", file, lineno, verdict);
	v->ok = strcmp(verdict, "ok") == 0;
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
	    tok[0] != '#') {
		ntok++;
		if (strcmp(tok, "-") == 0)
			empty++;
		else
			tvec_hex(v, tok, file, lineno);
	}
	ck_assert_msg(ntok > 0 && (empty == 0 || ntok == 1),
	    "%s:%d: bytes must be hex or a lone -", file, lineno);
}

/* Loaded files stay here: parsed once, reachable to the end (LSan). */
#define TVEC_FILES	8
static struct {
	char		 file[64];
	struct tvec	*v;
	size_t		 n;
} tvec_cache[TVEC_FILES];

static const struct tvec *tvec_read(const char *, size_t *);

const struct tvec *
tvec_load(const char *file, size_t *n)
{
	size_t	 i;

	for (i = 0; i < TVEC_FILES && tvec_cache[i].v != NULL; i++) {
		if (strcmp(tvec_cache[i].file, file) == 0) {
			*n = tvec_cache[i].n;
			return (tvec_cache[i].v);
		}
	}
	ck_assert_msg(i < TVEC_FILES, "more than %d vector files",
	    TVEC_FILES);
	snprintf(tvec_cache[i].file, sizeof(tvec_cache[i].file), "%s", file);
	tvec_cache[i].v = (struct tvec *)tvec_read(file, &tvec_cache[i].n);
	*n = tvec_cache[i].n;
	return (tvec_cache[i].v);
}

static const struct tvec *
tvec_read(const char *file, size_t *n)
{
	struct tvec	*v = NULL, *nv;
	const char	*dir;
	char		 path[4096], *line = NULL;
	size_t		 cap = 0, count = 0;
	FILE		*f;
	int		 lineno = 0;

	if ((dir = getenv("LR_SRCDIR")) != NULL)
		snprintf(path, sizeof(path), "%s/proto/%s", dir, file);
	else
		snprintf(path, sizeof(path), "proto/%s", file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (strncmp(line, "vector", 6) != 0 ||
		    (line[6] != ' ' && line[6] != '\t'))
			continue;
		nv = realloc(v, (count + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(nv);
		v = nv;
		tvec_parse(&v[count++], line, file, lineno);
	}
	free(line);
	fclose(f);
	ck_assert_msg(count > 0, "%s: no test vectors", path);
	*n = count;
	return (v);
}

const struct tvec *
tvec_find(const struct tvec *v, size_t n, const char *file, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return (&v[i]);
	ck_abort_msg("proto/%s has no vector %s", file, name);
	return (NULL);
}

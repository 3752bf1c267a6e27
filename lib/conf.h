/*
 * WireGuard-style INI files: "[Section]", "Key = Value", '#' comments,
 * blank lines.  Section and key names are case-insensitive ASCII; values
 * are trimmed.  Parsing is table driven: each conf_spec names a key, its
 * type and where its value goes in the caller's struct.  Every error is
 * reported as "file:line: key: reason" and the first one stops the parse.
 * Unknown sections and keys are errors.  Lines are at most CONF_LINE_MAX
 * bytes, files at most CONF_FILE_MAX bytes.
 */
#ifndef LR_LIB_CONF_H
#define LR_LIB_CONF_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define CONF_LINE_MAX	1024
#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_ERR_MAX	512

enum conf_type {
	CONF_BOOL,		/* bool: true/false/yes/no/on/off/1/0 */
	CONF_UINT,		/* unsigned long in [min, max] */
	CONF_STRING,		/* char[size], NUL-terminated, non-empty */
	CONF_PATH,		/* char[size], absolute path */
	CONF_USER,		/* struct conf_user: name or numeric uid */
	CONF_PREFIX_LIST,	/* struct conf_prefixes: canonical prefixes */
	CONF_PORT_LIST,		/* struct conf_ports: "53, 6112-6119" */
	CONF_IFNAME,		/* char[16]: a valid interface name */
};

#define CONF_LIST_MAX	32

struct conf_user {
	char		 name[64];
	uid_t		 uid;
	gid_t		 gid;
};

struct conf_prefixes {
	struct prefix	 p[CONF_LIST_MAX];
	size_t		 n;
};

struct conf_port_range {
	uint16_t	 lo;
	uint16_t	 hi;
};

struct conf_ports {
	struct conf_port_range r[CONF_LIST_MAX];
	size_t		 n;
};

/*
 * One key.  List types replace the default on their first occurrence in
 * a file and append on later ones; other types may appear only once.
 */
struct conf_spec {
	const char	*section;
	const char	*key;
	enum conf_type	 type;
	size_t		 offset;	/* offsetof(struct yours, field) */
	size_t		 size;		/* sizeof the field (strings) */
	unsigned long	 min;		/* CONF_UINT */
	unsigned long	 max;		/* CONF_UINT */
};

/*
 * Parse path into dst according to specs[nspecs].  dst must hold the
 * defaults already.  When secret is true the file must not be readable
 * or writable by group or others.  -1 with err filled on any error.
 */
int	 conf_load(const char *path, const struct conf_spec *, size_t nspecs,
	    void *dst, bool secret, char *err, size_t errlen);
/* Same on a buffer; name is used in error messages. */
int	 conf_load_buf(const char *name, const char *text, size_t len,
	    const struct conf_spec *, size_t nspecs, void *dst,
	    char *err, size_t errlen);

/* Typed value parsers: 0, or -1 with a reason in why (static string). */
int	 conf_parse_bool(const char *, bool *, const char **why);
int	 conf_parse_uint(const char *, unsigned long min, unsigned long max,
	    unsigned long *, const char **why);
int	 conf_parse_user(const char *, struct conf_user *, const char **why);
int	 conf_parse_ports(const char *, struct conf_ports *, const char **why);
int	 conf_parse_prefixes(const char *, struct conf_prefixes *,
	    const char **why);
/*
 * Interface addresses, "a/len" with host bits kept, or "a" alone for a
 * host (full length): a comma-separated list, as conf_parse_prefixes.
 */
int	 conf_parse_addresses(const char *, struct conf_prefixes *,
	    const char **why);
bool	 conf_ifname_valid(const char *);

#endif

/*
 * lanragectl: parse the command line into one request of proto/api.md,
 * send it to lanraged, print the result.  See lanragectl(1).
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanragectl/lanragectl.h"
#include "lib/log.h"

#define INVITE_EXPIRY_MAX	UINT32_MAX	/* proto/control.md: u32 */
#define INVITE_USES_MAX		UINT16_MAX	/* proto/control.md: u16 */

struct command;
typedef void	(*command_parse)(const struct command *, int, char *[],
		    json_t *);

/* A command line: one or two words, then arguments for one api.md cmd. */
struct command {
	const char	*word;
	const char	*sub;		/* second word, or NULL */
	const char	*cmd;		/* api.md "cmd" */
	const char	*synopsis;	/* the arguments, for usage */
	const char	*arg;		/* api.md name of the one argument */
	command_parse	 parse;
	int		(*show)(json_t *, json_t *);
};

static void	parse_none(const struct command *, int, char *[], json_t *);
static void	parse_one(const struct command *, int, char *[], json_t *);
static void	parse_optional(const struct command *, int, char *[],
		    json_t *);
static void	parse_set(const struct command *, int, char *[], json_t *);
static void	parse_level(const struct command *, int, char *[], json_t *);
static void	parse_invite(const struct command *, int, char *[], json_t *);
static void	parse_deny(const struct command *, int, char *[], json_t *);

static const struct command commands[] = {
	{ "status", NULL, "status", "", NULL, parse_none, show_status },
	{ "peers", NULL, "peers", "", NULL, parse_none, show_peers },
	{ "party", "create", "party.create", "name", "name", parse_one,
	    show_party },
	{ "party", "join", "party.join", "link", "invite", parse_one,
	    show_join },
	{ "party", "leave", "party.leave", "", NULL, parse_none, show_none },
	{ "party", "kick", "party.kick", "peer", "peer", parse_one,
	    show_kick },
	{ "party", "close", "party.close", "", NULL, parse_none, show_none },
	{ "party", "approve", "party.approve", "peer", "peer", parse_one,
	    show_answered },
	{ "party", "deny", "party.approve", "peer", "peer", parse_deny,
	    show_answered },
	/* DESIGN.md's story says "lanragectl join LINK" */
	{ "join", NULL, "party.join", "link", "invite", parse_one,
	    show_join },
	{ "invite", NULL, "invite", "[-a] [-e seconds] [-u uses]", NULL,
	    parse_invite, show_invite },
	{ "settings", "get", "settings.get", "[key]", "key", parse_optional,
	    show_settings },
	{ "settings", "set", "settings.set", "key value", NULL, parse_set,
	    show_setting },
	{ "log", NULL, "log", "verbose | brief", "level", parse_level,
	    show_log },
	{ "netcheck", NULL, "netcheck", "", NULL, parse_none, show_netcheck },
	{ "lan", NULL, "lan", "", NULL, parse_none, show_lan },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* "party create", for messages. */
static const char *
command_name(const struct command *c)
{
	static char	 name[64];

	snprintf(name, sizeof(name), "%s%s%s", c->word,
	    c->sub != NULL ? " " : "", c->sub != NULL ? c->sub : "");
	return name;
}

static void
usage_line(const struct command *c, const char *lead)
{
	fprintf(stderr, "%s%s%s%s\n", lead, command_name(c),
	    c->synopsis[0] != '\0' ? " " : "", c->synopsis);
}

static void LR_DEAD
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: lanragectl [-j] [-s socket] command "
	    "[argument ...]\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		usage_line(&commands[i], "\t");
	exit(CTL_EXIT_USAGE);
}

/*
 * The reason on one line, then the synopsis of the commands named word
 * (and sub, when not NULL).
 */
static void LR_DEAD LR_LOG_PRINTF(3, 4)
usage_for(const char *word, const char *sub, const char *fmt, ...)
{
	const struct command	*c;
	va_list			 ap;
	size_t			 i;

	fprintf(stderr, "lanragectl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (i = 0; i < NCOMMANDS; i++) {
		c = &commands[i];
		if (strcmp(c->word, word) == 0 && (sub == NULL ||
		    (c->sub != NULL && strcmp(c->sub, sub) == 0)))
			usage_line(c, "usage: lanragectl [-j] [-s socket] ");
	}
	exit(CTL_EXIT_USAGE);
}

/* Arguments come from the user's shell: escape them all the same. */
static const char *
arg_escape(const char *s)
{
	static char	 buf[128];

	text_escape(buf, sizeof(buf), s, strlen(s));
	return buf;
}

static void
args_set(const struct command *c, json_t *args, const char *key,
    const char *value)
{
	json_t	*v;

	if ((v = json_string(value)) == NULL)
		usage_for(c->word, c->sub, "%s: %s is not valid UTF-8: %s",
		    command_name(c), key, arg_escape(value));
	if (json_object_set_new(args, key, v) == -1)
		fatalx("out of memory");
}

static void
args_count(const struct command *c, int argc, int min, int max)
{
	if (argc == 1 && min > 0)
		usage_for(c->word, c->sub, "%s: missing %s", command_name(c),
		    c->synopsis);
	if (argc - 1 < min)
		usage_for(c->word, c->sub, "%s: missing arguments",
		    command_name(c));
	if (argc - 1 > max)
		usage_for(c->word, c->sub, "%s: too many arguments",
		    command_name(c));
}

static void
parse_none(const struct command *c, int argc, char *argv[], json_t *args)
{
	args_count(c, argc, 0, 0);
}

static void
parse_one(const struct command *c, int argc, char *argv[], json_t *args)
{
	args_count(c, argc, 1, 1);
	args_set(c, args, c->arg, argv[1]);
}

/* APPROVE with the verdict "no". */
static void
parse_deny(const struct command *c, int argc, char *argv[], json_t *args)
{
	parse_one(c, argc, argv, args);
	json_object_set_new(args, "accept", json_false());
}

static void
parse_optional(const struct command *c, int argc, char *argv[],
    json_t *args)
{
	args_count(c, argc, 0, 1);
	if (argc == 2)
		args_set(c, args, c->arg, argv[1]);
}

static void
parse_set(const struct command *c, int argc, char *argv[], json_t *args)
{
	args_count(c, argc, 2, 2);
	args_set(c, args, "key", argv[1]);
	args_set(c, args, "value", argv[2]);
}

static void
parse_level(const struct command *c, int argc, char *argv[], json_t *args)
{
	args_count(c, argc, 1, 1);
	if (strcmp(argv[1], "verbose") != 0 && strcmp(argv[1], "brief") != 0)
		usage_for(c->word, c->sub, "log: level must be verbose or brief, "
		    "not %s", arg_escape(argv[1]));
	args_set(c, args, c->arg, argv[1]);
}

/* Decimal digits only: no sign, no space, no base prefix. */
static int
parse_number(const char *s, unsigned long long max, unsigned long long *v)
{
	char	*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v > max)
		return -1;
	return 0;
}

/* Seconds, or a number of minutes, hours or days: "90", "30m", "7d". */
static int
parse_duration(const char *s, unsigned long long *v)
{
	static const char	 units[] = "smhd";
	static const unsigned	 mult[] = { 1, 60, 3600, 86400 };
	char			 num[32];
	const char		*u;
	size_t			 len = strlen(s);

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	if ((u = strchr(units, num[len - 1])) == NULL)
		return parse_number(num, INVITE_EXPIRY_MAX, v);
	num[len - 1] = '\0';
	if (parse_number(num, INVITE_EXPIRY_MAX / mult[u - units], v) == -1)
		return -1;
	*v *= mult[u - units];
	return 0;
}

static void
invite_number(json_t *args, const char *key, unsigned long long v)
{
	if (json_object_set_new(args, key, json_integer(v)) == -1)
		fatalx("out of memory");
}

static void
parse_invite(const struct command *c, int argc, char *argv[], json_t *args)
{
	unsigned long long	 v;
	int			 ch;

	opterr = 0;
	optind = 0;		/* glibc and musl: start a new scan */
	while ((ch = getopt(argc, argv, "+:ae:u:")) != -1) {
		switch (ch) {
		case 'a':
			if (json_object_set_new(args, "approval",
			    json_true()) == -1)
				fatalx("out of memory");
			break;
		case 'e':
			if (parse_duration(optarg, &v) == -1)
				usage_for(c->word, c->sub, "invite: -e: not a number "
				    "of seconds up to %lu: %s",
				    (unsigned long)INVITE_EXPIRY_MAX,
				    arg_escape(optarg));
			invite_number(args, "expiry", v);
			break;
		case 'u':
			if (parse_number(optarg, INVITE_USES_MAX, &v) == -1)
				usage_for(c->word, c->sub, "invite: -u: not a number "
				    "from 0 to %u: %s", INVITE_USES_MAX,
				    arg_escape(optarg));
			invite_number(args, "uses", v);
			break;
		case ':':
			usage_for(c->word, c->sub, "invite: -%c needs an argument",
			    optopt);
		default:
			usage_for(c->word, c->sub, "invite: unknown option -%c",
			    optopt);
		}
	}
	if (optind != argc)
		usage_for(c->word, c->sub, "invite: too many arguments");
}

/* The command that argv starts with; *nwords says how many words it used. */
static const struct command *
command_find(int argc, char *argv[], int *nwords)
{
	size_t	 i;
	int	 group = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].word, argv[0]) != 0)
			continue;
		group = 1;
		*nwords = commands[i].sub == NULL ? 1 : 2;
		if (commands[i].sub == NULL || (argc > 1 &&
		    strcmp(commands[i].sub, argv[1]) == 0))
			return &commands[i];
	}
	if (group && argc > 1)
		usage_for(argv[0], NULL, "%s: unknown command: %s", argv[0],
		    arg_escape(argv[1]));
	if (group)
		usage_for(argv[0], NULL, "%s: missing command", argv[0]);
	fprintf(stderr, "lanragectl: unknown command: %s\n",
	    arg_escape(argv[0]));
	usage();
}

static const char *
socket_path(void)
{
	const char	*env = getenv(LANRAGECTL_SOCKET_ENV);

	return env != NULL && env[0] != '\0' ? env : LANRAGECTL_SOCKET;
}

/* Build, send, print: the exit status. */
static int
run(const char *path, const struct command *c, json_t *args, int json)
{
	json_t	*result;
	char	*line, err[2048];
	size_t	 len;
	int	 rv;

	if (client_encode(c->cmd, args, &line, &len) == -1) {
		if (errno != EMSGSIZE)
			fatal("encoding the request");
		log_warnx("request too long: %zu bytes, lanraged takes at "
		    "most %d", len, CTL_REQUEST_MAX);
		return CTL_EXIT_USAGE;
	}
	rv = client_call(path, line, len, &result, err, sizeof(err));
	free(line);
	if (rv == -1) {
		log_warnx("%s", err);
		return CTL_EXIT_FAIL;
	}
	rv = json ? show_json(result) : c->show(args, result);
	json_decref(result);
	return rv == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int
main(int argc, char *argv[])
{
	const struct command	*c;
	const char		*path;
	json_t			*args;
	int			 ch, json = 0, nwords, status;

	/* names print as themselves on a UTF-8 terminal, escaped elsewhere */
	setlocale(LC_CTYPE, "");
	log_init("lanragectl", 1, 0);
	path = socket_path();
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:js:")) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		case ':':
			fprintf(stderr, "lanragectl: -%c needs an argument\n",
			    optopt);
			usage();
		default:
			fprintf(stderr, "lanragectl: unknown option -%c\n",
			    optopt);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	c = command_find(argc, argv, &nwords);
	if ((args = json_object()) == NULL)
		fatalx("out of memory");
	/* the parser sees its last command word as argv[0], as getopt wants */
	c->parse(c, argc - nwords + 1, argv + nwords - 1, args);
	status = run(path, c, args, json);
	json_decref(args);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("standard output");
		return CTL_EXIT_FAIL;
	}
	return status;
}

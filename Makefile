# LANrage: one non-recursive GNU Makefile.  Objects go under $(BUILD).
#
#   make            build everything (installs missing Debian packages first)
#   make check      unit, proto and integration tests
#   make sanitize   the same tests, built with ASan + UBSan
#   make fuzz       build the libFuzzer harnesses and run each FUZZ_SECONDS
#   make demo       a local party in network namespaces
#   make install    PREFIX, DESTDIR, SYSCONFDIR, RUNSTATEDIR are honoured

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
DATADIR		?= $(PREFIX)/share
SYSCONFDIR	?= /etc
RUNSTATEDIR	?= /run
LOCALSTATEDIR	?= /var
UNITDIR		?= $(PREFIX)/lib/systemd/system
DESTDIR		?=

BUILD		?= build
CC		?= cc
WERROR		?= 1
SAN		?= 0
FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang

PKGS		:= libevent sqlite3 libsodium jansson libnl-3.0 \
		   libnl-route-3.0 libnl-genl-3.0 libpcap libcap-ng libseccomp

# Evaluated once, on first use: after `deps` has installed pkg-config.
PKG_CFLAGS	= $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS	= $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
CHECK_CFLAGS	= $(eval CHECK_CFLAGS := $(shell pkg-config --cflags check))$(CHECK_CFLAGS)
CHECK_LIBS	= $(eval CHECK_LIBS := $(shell pkg-config --libs check))$(CHECK_LIBS)

WARN		:= -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
		   -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN		+= -Werror
endif
ifeq ($(SAN),1)
SANFLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
# The sanitizer runtimes make syscalls no daemon allowlist should carry.
SANDEFS		:= -DLR_SANITIZE
endif

CFLAGS		?= -O2 -g
ALL_CFLAGS	= -std=gnu11 -pthread $(WARN) $(SANFLAGS) $(SANDEFS) -D_GNU_SOURCE \
		  -DLR_SYSCONFDIR='"$(SYSCONFDIR)"' \
		  -DLR_RUNSTATEDIR='"$(RUNSTATEDIR)"' \
		  -DLR_LOCALSTATEDIR='"$(LOCALSTATEDIR)"' \
		  -DLR_DATADIR='"$(DATADIR)"' \
		  -I. $(PKG_CFLAGS) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS	= -pthread $(SANFLAGS) $(LDFLAGS)

# Debian packages: to build, to test, to fuzz.
DEB_BUILD	:= gcc make pkg-config libevent-dev libsqlite3-dev \
		   libsodium-dev libjansson-dev libnl-3-dev libnl-route-3-dev \
		   libnl-genl-3-dev libpcap-dev libcap-ng-dev libseccomp-dev
DEB_TEST	:= check iproute2 util-linux procps iputils-ping wireguard-go \
		   wireguard-tools iperf3 jq nftables stun-client curl sqlite3 \
		   prometheus chromium chromium-driver socat
DEB_FUZZ	:= clang libclang-rt-14-dev

LIB_SRCS	:= $(wildcard lib/*.c) $(wildcard lib/wg/*.c) $(wildcard proto/*.c)
LIB_OBJS	:= $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB		:= $(BUILD)/liblanrage.a

NETD_MAIN	:= lanrage-netd/netd.c
NETD_SRCS	:= $(filter-out $(NETD_MAIN),$(wildcard lanrage-netd/*.c))
NETD_OBJS	:= $(NETD_SRCS:%.c=$(BUILD)/%.o)
NETD_LIB	:= $(BUILD)/liblanrage-netd.a
NETD_BIN	:= $(BUILD)/sbin/lanrage-netd

LANRAGED_MAIN	:= lanraged/lanraged.c
LANRAGED_SRCS	:= $(filter-out $(LANRAGED_MAIN),$(wildcard lanraged/*.c))
LANRAGED_OBJS	:= $(LANRAGED_SRCS:%.c=$(BUILD)/%.o)
LANRAGED_LIB	:= $(BUILD)/liblanraged.a
LANRAGED_BIN	:= $(BUILD)/sbin/lanraged

# The control server: its internals as a library, main on its own.
CONTROLD_MAIN	:= lanrage-controld/controld.c
CONTROLD_SRCS	:= $(filter-out $(CONTROLD_MAIN),$(wildcard lanrage-controld/*.c))
CONTROLD_OBJS	:= $(CONTROLD_SRCS:%.c=$(BUILD)/%.o)
CONTROLD_LIB	:= $(if $(CONTROLD_SRCS),$(BUILD)/liblanrage-controld.a)
CONTROLD_BIN	:= $(BUILD)/sbin/lanrage-controld

# The relay: the same shape.
RELAYD_MAIN	:= lanrage-relayd/relayd.c
RELAYD_SRCS	:= $(filter-out $(RELAYD_MAIN),$(wildcard lanrage-relayd/*.c))
RELAYD_OBJS	:= $(RELAYD_SRCS:%.c=$(BUILD)/%.o)
RELAYD_LIB	:= $(BUILD)/liblanrage-relayd.a
RELAYD_BIN	:= $(BUILD)/sbin/lanrage-relayd

# The CLI: a client of lanraged's control socket (proto/api.md).
CTL_SRCS	:= $(wildcard lanragectl/*.c)
CTL_OBJS	:= $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_BIN		:= $(if $(CTL_SRCS),$(BUILD)/bin/lanragectl)

# Load generators and reference programs of bench/*.sh.
BENCH_SRCS	:= $(wildcard bench/*.c)
BENCH_BINS	:= $(BENCH_SRCS:%.c=$(BUILD)/%)

SBIN_PROGS	:= $(NETD_BIN) $(LANRAGED_BIN) $(CONTROLD_BIN) $(RELAYD_BIN)
PROGS		:= $(SBIN_PROGS) $(CTL_BIN)
DAEMON_LIBS	:= $(NETD_LIB) $(LANRAGED_LIB) $(CONTROLD_LIB) $(RELAYD_LIB)

# Helpers the tests share (hex vectors, ...), one archive.
TLIB_SRCS	:= $(wildcard tests/lib/*.c)
TLIB		:= $(BUILD)/libtests.a
UNIT_SRCS	:= $(wildcard tests/unit/check_*.c) $(wildcard tests/proto/check_*.c)
UNIT_BINS	:= $(UNIT_SRCS:%.c=$(BUILD)/%)
ITEST_SRCS	:= $(wildcard tests/integration/*.c)
ITEST_BINS	:= $(ITEST_SRCS:%.c=$(BUILD)/%)
ITESTS		:= $(sort $(wildcard tests/integration/[0-9]*.sh))
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

MAN1		:= $(wildcard man/*.1)
MAN8		:= $(wildcard man/*.8)
MAN5		:= $(wildcard man/*.5)
UNITS		:= $(wildcard etc/systemd/*.service)
RCSCRIPTS	:= $(wildcard etc/rc.d/*)
INITDIR		?= $(SYSCONFDIR)/init.d
CONFS		:= $(wildcard etc/*.conf)
UI_FILES	:= ui/index.html ui/app.js ui/style.css

.SECONDARY:

.PHONY: all deps deps-fuzz check unit integration sanitize fuzz demo \
	install uninstall clean

all: $(PROGS) $(BENCH_BINS)

deps:
	@sh tests/deps.sh $(DEB_BUILD) $(DEB_TEST)

deps-fuzz:
	@sh tests/deps.sh $(DEB_BUILD) $(DEB_FUZZ)

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(NETD_LIB): $(NETD_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(NETD_BIN): $(BUILD)/lanrage-netd/netd.o $(NETD_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LANRAGED_LIB): $(LANRAGED_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/liblanrage-controld.a: $(CONTROLD_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(LANRAGED_BIN): $(BUILD)/lanraged/lanraged.o $(LANRAGED_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CONTROLD_BIN): $(BUILD)/lanrage-controld/controld.o $(CONTROLD_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(RELAYD_LIB): $(RELAYD_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(RELAYD_BIN): $(BUILD)/lanrage-relayd/relayd.o $(RELAYD_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bin/lanragectl: $(CTL_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(DAEMON_LIBS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(TLIB): $(TLIB_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

# Tests link the real internals of every daemon.
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TLIB) $(DAEMON_LIBS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

$(BUILD)/tests/%.o: tests/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

check: $(PROGS) $(UNIT_BINS) $(ITEST_BINS)
	@BUILD=$(BUILD) sh tests/run.sh $(UNIT_BINS) -- $(ITESTS)

unit: $(UNIT_BINS)
	@BUILD=$(BUILD) sh tests/run.sh $(UNIT_BINS) --

integration: $(PROGS) $(ITEST_BINS)
	@BUILD=$(BUILD) sh tests/run.sh -- $(ITESTS)

sanitize:
	$(MAKE) BUILD=build/san SAN=1 check

# libFuzzer harnesses are built with clang against the library sources.
FUZZ_CFLAGS	= -std=gnu11 -pthread -g -O1 -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
		  -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) | deps-fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)

# The API harness takes lanraged's request handling with it.
$(BUILD)/fuzz/fuzz_api: lanraged/api.c
$(BUILD)/fuzz/fuzz_http: lanraged/http_check.c

fuzz: $(FUZZ_BINS)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BINS)

demo: $(PROGS) $(ITEST_BINS)
	@BUILD=$(BUILD) DURATION=$(DURATION) sh tests/demo.sh

install: $(PROGS) $(BENCH_BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/lanrage
	install -m 755 $(SBIN_PROGS) $(DESTDIR)$(SBINDIR)/
	$(if $(CTL_BIN),install -m 755 $(CTL_BIN) $(DESTDIR)$(BINDIR)/)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN8),install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	install -d $(DESTDIR)$(DATADIR)/lanrage/ui
	install -m 644 $(UI_FILES) $(DESTDIR)$(DATADIR)/lanrage/ui/
	@for u in $(UNITS); do \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' "$$u" > \
	        $(DESTDIR)$(UNITDIR)/$${u##*/} && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	done
	install -d $(DESTDIR)$(INITDIR)
	@for r in $(RCSCRIPTS); do \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' "$$r" > \
	        $(DESTDIR)$(INITDIR)/$${r##*/} && \
	    chmod 755 $(DESTDIR)$(INITDIR)/$${r##*/}; \
	done
	@for f in $(CONFS); do \
	    t=$(DESTDIR)$(SYSCONFDIR)/lanrage/$${f#etc/}; \
	    if [ -e "$$t" ]; then echo "keeping existing $$t"; \
	    else install -m 644 "$$f" "$$t"; fi; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(SBIN_PROGS)))
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(CTL_BIN)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/lanrage/ui/,$(notdir $(UI_FILES)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -f $(addprefix $(DESTDIR)$(INITDIR)/,$(notdir $(RCSCRIPTS)))
	@echo "configuration in $(DESTDIR)$(SYSCONFDIR)/lanrage left in place"

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

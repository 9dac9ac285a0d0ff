# mod_staple_guard
#
# Three layers, built in this order, everything into build/:
#   core   include/ + src/      -> build/libsg.a (APR and OpenSSL only, no
#                                  httpd header on the include path)
#   glue   httpd/ + the hooks   -> build/mod_staple_guard.so (with apxs's
#                                  flags and headers, linked with libsg.a)
#   cli    cli/                 -> build/staple-guard (the core alone, no
#                                  httpd: check, prefetch, show)
#   tests  t/unit/test_*.c      -> build/unit/test_* (cmocka, linked with
#                                  libsg.a); tools for tests and benchmarks
#                                  -> build/tools/, build/bench/
APXS    ?= apxs
B        = build

# Flags are looked up only when a rule needs them (`make clean` needs no
# apxs or pkg-config).
HTTPD_CC     = $(shell $(APXS) -q CC)
HTTPD_CFLAGS = $(shell $(APXS) -q CFLAGS) $(shell $(APXS) -q CPPFLAGS) \
               $(shell $(APXS) -q EXTRA_CPPFLAGS) -I$(shell $(APXS) -q INCLUDEDIR) \
               $(APR_CFLAGS)
LDHARDEN = -Wl,--as-needed -Wl,-z,relro -Wl,-z,now
APR_CFLAGS   = $(shell pkg-config --cflags apr-1 apr-util-1)
APR_LIBS     = $(shell pkg-config --libs apr-1 apr-util-1)

CC      ?= cc
OPT     ?= -O2 -g
# Sanitizers, for `make asan` (empty in a normal build).
SAN     ?=
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
WARN     = -Wall -Wextra -Werror
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2
DEPS     = -MMD -MP

CORE_SRC  = $(wildcard src/*.c)
CORE_OBJ  = $(CORE_SRC:src/%.c=$(B)/core/%.o)
CORE_LIB  = $(B)/libsg.a
CORE_CFLAGS = $(OPT) $(SAN) $(WARN) $(HARDEN) -fPIC -D_GNU_SOURCE -Iinclude $(APR_CFLAGS)

GLUE_SRC  = mod_staple_guard.c $(wildcard httpd/*.c)
GLUE_OBJ  = $(GLUE_SRC:%.c=$(B)/%.o)
GLUE_CFLAGS = $(HTTPD_CFLAGS) $(SAN) $(WARN) -fPIC -Iinclude -Ihttpd
MODULE    = $(B)/mod_staple_guard.so

CLI_SRC   = $(wildcard cli/*.c)
CLI_OBJ   = $(CLI_SRC:%.c=$(B)/%.o)
CLI_CFLAGS = $(OPT) $(SAN) $(WARN) $(HARDEN) -D_GNU_SOURCE -Iinclude -Icli $(APR_CFLAGS)
CLI       = $(B)/staple-guard
PREFIX   ?= /usr

UNIT_SRC  = $(wildcard t/unit/test_*.c)
UNIT      = $(UNIT_SRC:t/unit/%.c=$(B)/unit/%)
UNIT_CFLAGS = -O0 -g $(SAN) $(WARN) -Iinclude -It/unit $(APR_CFLAGS)

# Test and benchmark tools: plain OpenSSL programs sharing one helper file.
# What a test needs is in t/tools/ and build/tools/ (sg_mkcerts makes the
# many certificates of t/34, t/35 and t/37, and of the benchmarks);
# bench/ builds on it, never the other way.
TOOL_HELP = t/tools/sg_tool.c
TOOL_CFLAGS = -O2 -g $(WARN) -It/tools -It/unit
TOOLS     = $(B)/tools/sg_responder $(B)/tools/sg_mkcerts \
            $(B)/tools/sg_staplecheck $(B)/tools/mod_sg_failcache.so
BENCH_TOOLS = $(B)/bench/sg_bench $(B)/tools/sg_mkcerts \
              $(B)/bench/sg_crl_bench

.PHONY: fuzz fuzz-build fuzz-ci fuzz-seeds
.PHONY: tsan tsan-build asan asan-build asan-test all install unit unit-build tools bench-tools test check clean demo bench bench-long

all: $(MODULE) $(CLI)

# ---- core ----
$(B)/core/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) $(DEPS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $(CORE_OBJ)

# ---- glue: the module ----
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(HTTPD_CC) $(GLUE_CFLAGS) $(DEPS) -c -o $@ $<

$(MODULE): $(GLUE_OBJ) $(CORE_LIB)
	$(HTTPD_CC) -shared -fPIC $(SAN) $(LDHARDEN) -o $@ $(GLUE_OBJ) \
	    $(CORE_LIB) -lcrypto -lpthread

install: $(MODULE) $(CLI)
	install -d $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)
	install -m 644 $(MODULE) $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)/
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 docs/staple-guard.1 $(DESTDIR)$(PREFIX)/share/man/man1/

# ---- the command: the core without httpd ----
$(B)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) $(DEPS) -c -o $@ $<

$(CLI): $(CLI_OBJ) $(CORE_LIB)
	$(CC) $(SAN) $(LDHARDEN) -o $@ $(CLI_OBJ) $(CORE_LIB) -lcrypto \
	    -lpthread $(APR_LIBS)

# ---- unit tests ----
$(B)/unit/sg_testpki.o: t/unit/sg_testpki.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(DEPS) -c -o $@ $<

$(B)/unit/%: t/unit/%.c $(B)/unit/sg_testpki.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(DEPS) -o $@ $< $(B)/unit/sg_testpki.o \
	    $(CORE_LIB) -lcmocka -lcrypto -lpthread $(APR_LIBS)

unit-build: $(UNIT)

unit: $(UNIT)
	@set -e; for t in $(UNIT); do ./$$t; done

# ---- tools for tests and benchmarks ----
$(B)/tools/sg_responder: t/tools/sg_responder.c $(TOOL_HELP) t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lcrypto

$(B)/tools/sg_mkcerts: t/tools/sg_mkcerts.c $(TOOL_HELP) t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lcrypto

# One handshake per host name, checking whose response is stapled (t/37).
$(B)/tools/sg_staplecheck: t/tools/sg_staplecheck.c $(TOOL_HELP) \
                           t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lssl -lcrypto

# A socache provider whose init fails (t/36-shared-init.t): an httpd
# module, built like ours.
$(B)/tools/mod_sg_failcache.so: t/tools/mod_sg_failcache.c
	@mkdir -p $(@D)
	$(HTTPD_CC) $(GLUE_CFLAGS) -shared $(LDHARDEN) -o $@ $<

$(B)/bench/sg_bench: bench/sg_bench.c $(TOOL_HELP) t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lssl -lcrypto -lpthread

# The CRL watch's memory (bench/s11_crl.sh): the core's own code.
$(B)/bench/sg_crl_bench: bench/sg_crl_bench.c $(TOOL_HELP) t/tools/sg_tool.h \
                         $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -Iinclude $(APR_CFLAGS) -o $@ $< $(TOOL_HELP) \
	    $(CORE_LIB) -lcrypto -lpthread $(APR_LIBS)

tools: $(TOOLS)

bench-tools: $(BENCH_TOOLS)

# ---- sanitizers ----
# The core, the module and the unit tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer into build/asan; the unit tests are run.
asan-build:
	$(MAKE) B=$(B)/asan SAN="$(ASAN_FLAGS)" OPT="-O1 -g" \
	    $(B)/asan/mod_staple_guard.so unit-build

asan: asan-build
	@set -e; for t in $(UNIT:$(B)/%=$(B)/asan/%); do \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t; \
	done

# The core and the unit tests built with ThreadSanitizer into build/tsan
# (the table's writers, the work queue, the resolver's lookups); the unit
# tests are run, and any report fails them (t/00-unit.t runs them too).
TSAN_FLAGS = -fsanitize=thread -fno-omit-frame-pointer
TSAN_RUN   = TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"

tsan-build:
	$(MAKE) B=$(B)/tsan SAN="$(TSAN_FLAGS)" OPT="-O1 -g" unit-build

tsan: tsan-build
	@set -e; for t in $(UNIT:$(B)/%=$(B)/tsan/%); do \
	    $(TSAN_RUN) ./$$t; \
	done

# The whole integration suite against the instrumented module, the
# sanitizers' runtime preloaded into apache2 (t/lib/SGTest.pm, SG_ASAN).
asan-test: asan-build tools bench-tools
	SG_ASAN=1 prove -j2 t/*.t

# ---- fuzzing (docs/fuzzing.md) ----
# libFuzzer harnesses, one per input that crosses a trust boundary, linked
# with a copy of the core built with clang for fuzzing and the sanitizers
# into build/fuzz. `make fuzz` runs each for FUZZ_TIME seconds, one after
# the other, each from a fresh work corpus in FUZZ_WORK (the seeds
# in fuzz/seeds stay as committed); `make fuzz-ci` runs each over its
# seeds and FUZZ_CI_TIME seconds more.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_CI_TIME ?= 4
FUZZ_WORK    ?= $(B)/fuzz/work
FUZZ_SAN     = -fsanitize=fuzzer-no-link,address,undefined \
               -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_NAMES   = $(patsubst fuzz/fuzz_%.c,%, \
                   $(filter-out fuzz/fuzz_util.c,$(wildcard fuzz/fuzz_*.c)))
FUZZ_BINS    = $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)
FUZZ_CFLAGS  = -O1 -g $(WARN) -fsanitize=fuzzer,address,undefined \
               -fno-omit-frame-pointer -fno-sanitize-recover=all \
               -Iinclude -Ifuzz $(APR_CFLAGS) \
               -DFUZZ_PKI_DIR='"$(CURDIR)/fuzz/pki"'

$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.c fuzz/fuzz_util.h \
                  $(B)/fuzz/libsg.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< fuzz/fuzz_util.c \
	    $(B)/fuzz/libsg.a -lcrypto -lpthread $(APR_LIBS)

fuzz-build:
	$(MAKE) B=$(B)/fuzz CC=$(FUZZ_CC) SAN="$(FUZZ_SAN)" OPT="-O1 -g" \
	    $(B)/fuzz/libsg.a
	$(MAKE) $(FUZZ_BINS)

fuzz: fuzz-build
	@st=0; for n in $(FUZZ_NAMES); do \
	    FUZZ_BIN=$(B)/fuzz sh fuzz/run.sh $$n $(FUZZ_TIME) \
	        $(FUZZ_WORK) || st=1; \
	done; exit $$st

fuzz-ci:
	$(MAKE) fuzz FUZZ_TIME=$(FUZZ_CI_TIME)

# Regenerate the PKI and the seeds (new keys: every seed changes).
fuzz-seeds:
	sh fuzz/mkseeds.sh

# ---- running ----
# The whole suite: C unit tests, then real httpd against real responders.
test check: all tools bench-tools unit-build
	prove -j2 t/*.t

demo: all tools
	sh scripts/demo.sh

# Benchmarks against no stapling, mod_ssl's and mod_md's (not part of CI):
# results go to docs/benchmarks.md.
bench: all tools bench-tools
	sh bench/run.sh

# Scenarios 9 and 10 (restart storm, half-hour soak with a flapping
# responder): most of an hour, so on their own; their part of the doc.
bench-long: all tools bench-tools
	SG_BENCH_LONG=1 sh bench/run.sh

# The Debian package libapache2-mod-staple-guard (debian/): built with
# debhelper from a copy of the sources in build/deb/src, where its work
# files stay; the .deb lands in build/deb/. lintian fails it on errors.
.PHONY: deb
deb:
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/src
	tar -cf - --exclude=./$(B) --exclude=./.git --exclude=./bench/out . \
	    | tar -xf - -C $(B)/deb/src
	cd $(B)/deb/src && dpkg-buildpackage -us -uc -b -jauto \
	    >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	lintian --fail-on error $(B)/deb/*.changes

clean:
	rm -rf $(B)

-include $(wildcard $(B)/*.d $(B)/*/*.d)

# mod_staple_guard
#
# Three layers, built in this order, everything into build/:
#   core   include/ + src/      -> build/libsg.a (APR and OpenSSL only, no
#                                  httpd header on the include path)
#   glue   httpd/ + the hooks   -> build/mod_staple_guard.so (with apxs's
#                                  flags and headers, linked with libsg.a)
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
HTTPD_LDFLAGS = -Wl,--as-needed -Wl,-z,relro -Wl,-z,now
APR_CFLAGS   = $(shell pkg-config --cflags apr-1 apr-util-1)
APR_LIBS     = $(shell pkg-config --libs apr-1 apr-util-1)

CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Werror
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2
DEPS     = -MMD -MP

CORE_SRC  = $(wildcard src/*.c)
CORE_OBJ  = $(CORE_SRC:src/%.c=$(B)/core/%.o)
CORE_LIB  = $(B)/libsg.a
CORE_CFLAGS = $(OPT) $(WARN) $(HARDEN) -fPIC -D_GNU_SOURCE -Iinclude $(APR_CFLAGS)

GLUE_SRC  = mod_staple_guard.c $(wildcard httpd/*.c)
GLUE_OBJ  = $(GLUE_SRC:%.c=$(B)/%.o)
GLUE_CFLAGS = $(HTTPD_CFLAGS) $(WARN) -fPIC -Iinclude -Ihttpd
MODULE    = $(B)/mod_staple_guard.so

UNIT_SRC  = $(wildcard t/unit/test_*.c)
UNIT      = $(UNIT_SRC:t/unit/%.c=$(B)/unit/%)
UNIT_CFLAGS = -O0 -g $(WARN) -Iinclude -It/unit $(APR_CFLAGS)

# Test and benchmark tools: plain OpenSSL programs sharing one helper file.
TOOL_HELP = t/tools/sg_tool.c
TOOL_CFLAGS = -O2 -g $(WARN) -It/tools -It/unit
TOOLS     = $(B)/tools/sg_responder
BENCH_TOOLS = $(B)/bench/sg_bench $(B)/bench/sg_mkcerts

.PHONY: all install unit unit-build tools bench-tools test check clean demo bench

all: $(MODULE)

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
	$(HTTPD_CC) -shared -fPIC $(HTTPD_LDFLAGS) -o $@ $(GLUE_OBJ) \
	    $(CORE_LIB) -lcrypto -lpthread

install: $(MODULE)
	install -d $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)
	install -m 644 $(MODULE) $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)/

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

$(B)/bench/sg_bench: bench/sg_bench.c $(TOOL_HELP) t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lssl -lcrypto -lpthread

$(B)/bench/sg_mkcerts: bench/sg_mkcerts.c $(TOOL_HELP) t/tools/sg_tool.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(TOOL_HELP) -lcrypto

tools: $(TOOLS)

bench-tools: $(BENCH_TOOLS)

# ---- running ----
# The whole suite: C unit tests, then real httpd against real responders.
test check: all tools unit-build
	prove -j2 t/*.t

demo: all tools
	sh scripts/demo.sh

# Benchmarks against no stapling, mod_ssl's and mod_md's (not part of CI):
# results go to docs/benchmarks.md.
bench: all tools bench-tools
	sh bench/run.sh

clean:
	rm -rf $(B)

-include $(wildcard $(B)/*.d $(B)/*/*.d)

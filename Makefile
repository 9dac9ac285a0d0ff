# mod_staple_guard: build with apxs, test with prove and cmocka.
APXS    ?= apxs
CC      ?= cc
WARN     = -Wall -Wextra
CORE     = src/sg_batch.c src/sg_cert.c src/sg_fetch.c src/sg_reason.c src/sg_refresh.c \
           src/sg_registry.c src/sg_request.c src/sg_schedule.c \
           src/sg_store.c src/sg_table.c src/sg_text.c src/sg_validate.c \
           src/sg_workq.c
GLUE     = mod_staple_guard.c mod_sg_carry.c mod_sg_config.c \
           mod_sg_diagnose.c mod_sg_fetcher.c mod_sg_log.c mod_sg_status.c \
           mod_sg_store.c mod_sg_warm.c
HEADERS  = $(wildcard include/*.h) $(wildcard mod_*.h)
APR_CFLAGS = $(shell pkg-config --cflags apr-1 apr-util-1)
APR_LIBS   = $(shell pkg-config --libs apr-1 apr-util-1)
MODULE   = .libs/mod_staple_guard.so

UNIT_TESTS = t/unit/test_validate t/unit/test_request t/unit/test_schedule \
             t/unit/test_table t/unit/test_registry t/unit/test_batch \
             t/unit/test_store t/unit/test_workq
TOOLS      = t/tools/sg_responder

.PHONY: all install unit unit-build tools test check clean demo bench

all: $(MODULE)

$(MODULE): $(GLUE) $(CORE) $(HEADERS)
	$(APXS) -c -I include -Wc,-Wall -Wc,-Wextra -Wc,-Werror \
	    -o mod_staple_guard.la $(GLUE) $(CORE) -lcrypto

install: $(MODULE)
	$(APXS) -i -n staple_guard mod_staple_guard.la

t/unit/%: t/unit/%.c t/unit/sg_testpki.c t/unit/sg_testpki.h $(CORE) $(HEADERS)
	$(CC) $(WARN) -Werror -g -I include -I t/unit $(APR_CFLAGS) -o $@ $< \
	    t/unit/sg_testpki.c $(CORE) -lcmocka -lcrypto $(APR_LIBS)

t/tools/sg_responder: t/tools/sg_responder.c
	$(CC) $(WARN) -Werror -O2 -o $@ $< -lcrypto

unit-build: $(UNIT_TESTS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do ./$$t; done

tools: $(TOOLS)

# The whole suite: C unit tests, then real httpd against real responders.
test check: all tools $(UNIT_TESTS)
	prove -j2 t/*.t

demo: all tools
	./scripts/demo.sh

# Benchmarks against no stapling, mod_ssl's and mod_md's (not part of CI):
# results go to docs/benchmarks.md.
bench: all tools
	sh bench/run.sh

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs \
	    $(UNIT_TESTS) $(TOOLS)

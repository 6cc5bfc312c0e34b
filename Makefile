# callbridge: one Makefile. Outputs go to build/<variant>/ (rel, asan); generated code to build/gen/.
#   make            build build/rel/callbridged and build/rel/cbctl
#   make run        install missing packages, build, start the daemon in the foreground (./var)
#   make test       install missing packages, build, check includes and man pages, run every
#                   suite (test daemons on PostgreSQL), then again under ASan+UBSan (on
#                   SQLite); ends with each run's backend, counts and skips
#   make lint       the include rules (scripts/check-includes.sh), then cppcheck
#   make man-check  lint man/*.[0-9]; callbridged.8 must name every --help option
#   make bench      wrk benchmark against the daemon and a minimal MHD server (scripts/bench/)
#   make fuzz       libFuzzer harnesses (fuzz/), FUZZ_SECONDS each (default 60; make test runs 5)
#   make tsan       the threaded suites (tag net) and their daemons under ThreadSanitizer
#   make soak       10 minutes of mixed API, TURN and media load (scripts/soak.sh; not in CI)
#   WERROR=0        escape hatch for newer compilers (CI keeps -Werror)

CC ?= cc
Q ?= @
WERROR ?= 1
PKGS := libmicrohttpd libxml-2.0 sqlite3 openssl libidn libsrtp2 jansson libcurl
TEST_PKGS := check libcurl

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef \
	-Wwrite-strings -Wcast-qual -Wpointer-arith -Wvla -Wimplicit-fallthrough -Wnull-dereference \
	-Wold-style-definition
ifeq ($(WERROR),1)
WARN += -Werror
endif

# Recursive (=) on purpose: pkg-config runs when a recipe needs it, after install-deps.sh.
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -g $(WARN) -I. -MMD -MP $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) -pthread
# LDAP syncs (api/ldap_sync.c): OpenLDAP's libldap
LIBS += $(shell pkg-config --libs ldap)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
CLI_PKGS := libcurl libxml-2.0 jansson
CLI_CFLAGS = $(shell pkg-config --cflags $(CLI_PKGS))
CLI_LIBS = $(shell pkg-config --libs $(CLI_PKGS))
# rtcpeer --codecs (scripts/bench/rtcpeer_codec.c): real VP8 and Opus for the browsers it meets
CODEC_PKGS := vpx opus
CODEC_CFLAGS = $(shell pkg-config --cflags $(CODEC_PKGS))
CODEC_LIBS = $(shell pkg-config --libs $(CODEC_PKGS)) -lm
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

rel_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
rel_LDFLAGS := -pie -Wl,-z,relro,-z,now
asan_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
asan_LDFLAGS := -fsanitize=address,undefined
tsan_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=thread
tsan_LDFLAGS := -fsanitize=thread

SCHEMA := $(sort $(wildcard schema/*.sql))
SCHEMA_PG := $(sort $(wildcard schema/pg/*.sql))
WEB := $(sort $(wildcard web/*.html web/*.js web/*.css))
BASE_SRCS := $(wildcard base/*.c)
STORE_SRCS := $(wildcard store/*.c store/sqlite/*.c)
# The PostgreSQL driver (store/pg/, libpq) is built in when its sources are present.
PG_SRCS := $(wildcard store/pg/*.c)
ifneq ($(PG_SRCS),)
STORE_SRCS += $(PG_SRCS)
PKGS += libpq
PG_DEFS := -DSTORE_WITH_PG
BASE_CFLAGS += $(PG_DEFS)
endif
TURN_SRCS := $(wildcard turnclient/*.c)
MEDIA_SRCS := $(wildcard media/*.c media/webrtc/*.c)
API_SRCS := $(filter-out api/main.c,$(wildcard api/*.c api/http/*.c api/res/*.c))
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/*.c)
LIB_SRCS := $(BASE_SRCS) $(STORE_SRCS) $(TURN_SRCS) $(MEDIA_SRCS) $(API_SRCS)

.PHONY: all run test test-concurrent check-suites bench clean format format-check lint check-includes man-check \
	deps fuzz tsan soak
all: build/rel/callbridged build/rel/cbctl

build/gen/migrations.c: $(SCHEMA) $(SCHEMA_PG) scripts/sql2c.sh
	@mkdir -p $(@D)
	scripts/sql2c.sh $@ sqlite $(SCHEMA) -- pg $(SCHEMA_PG)

# The guest join page, embedded into the daemon (api/http/web.h).
build/gen/web.c: $(WEB) scripts/web2c.sh
	@mkdir -p $(@D)
	scripts/web2c.sh $@ $(WEB)

define variant
build/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/gen/web.o: build/gen/web.c
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/tests/%.o: tests/%.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$(TEST_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

$(1)_LIB_OBJS := $$(LIB_SRCS:%.c=build/$(1)/%.o) build/$(1)/gen/migrations.o build/$(1)/gen/web.o

build/$(1)/callbridged: build/$(1)/api/main.o $$($(1)_LIB_OBJS)
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(LIBS)

build/$(1)/cbctl: $$(CLI_SRCS:%.c=build/$(1)/%.o)
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(CLI_LIBS)

build/$(1)/cli/%.o: cli/%.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$(CLI_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/cb-tests: $$(TEST_SRCS:%.c=build/$(1)/%.o) $$($(1)_LIB_OBJS)
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS)

build/$(1)/bench-minimal: build/$(1)/scripts/bench/minimal.o
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(LIBS)

build/$(1)/bench-prober: build/$(1)/scripts/bench/prober.o $$(BASE_SRCS:%.c=build/$(1)/%.o) $$(TURN_SRCS:%.c=build/$(1)/%.o)
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(LIBS)

build/$(1)/bench-media: build/$(1)/scripts/bench/media.o $$(BASE_SRCS:%.c=build/$(1)/%.o) $$(TURN_SRCS:%.c=build/$(1)/%.o) $$(MEDIA_SRCS:%.c=build/$(1)/%.o)
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(LIBS)

build/$(1)/bench-stall: build/$(1)/scripts/bench/stall.o
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^

build/$(1)/soakgen: build/$(1)/scripts/bench/soakgen.o
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^

build/$(1)/rtcpeer: $$(patsubst %.c,build/$(1)/%.o,$$(wildcard scripts/bench/rtcpeer*.c)) \
		$$(BASE_SRCS:%.c=build/$(1)/%.o) $$(TURN_SRCS:%.c=build/$(1)/%.o) \
		$$(patsubst %.c,build/$(1)/%.o,$$(wildcard media/webrtc/*.c))
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(CLI_LIBS) $$(CODEC_LIBS) $$(LIBS)

build/$(1)/scripts/bench/rtcpeer_codec.o: scripts/bench/rtcpeer_codec.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$(CODEC_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/bench-cospaces: build/$(1)/scripts/bench/cospaces.o
	$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS)
endef
$(eval $(call variant,rel))
$(eval $(call variant,asan))
$(eval $(call variant,tsan))

# libFuzzer harnesses (fuzz/), clang with ASan + UBSan; the library built again for them.
FUZZERS := stun channeldata form auth config router framing sdp ice rtcp dtls transform \
	ldap_expand
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -g -O1 -fno-omit-frame-pointer $(WARN) -I. \
	$(shell pkg-config --cflags $(PKGS)) $(PG_DEFS) -fsanitize=address,undefined \
	-fno-sanitize-recover=all
build/fuzz/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC [fuzz] $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build/fuzz/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/gen/web.o: build/gen/web.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/fuzz_%: build/fuzz/fuzz/fuzz_%.o $(LIB_SRCS:%.c=build/fuzz/%.o) build/fuzz/gen/migrations.o \
	build/fuzz/gen/web.o
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)
# Made by the pattern rule above, so intermediate to make, which would delete them after each
# link and compile them all again for the next fuzzer and the next run.
.SECONDARY: $(LIB_SRCS:%.c=build/fuzz/%.o) $(FUZZERS:%=build/fuzz/fuzz/fuzz_%.o)

deps:
	scripts/install-deps.sh build

run: deps
	$(MAKE) build/rel/callbridged build/rel/cbctl
	./build/rel/callbridged --data-dir var --bind 0.0.0.0 --listen 8443

# Every suite, then every suite again under AddressSanitizer + UndefinedBehaviorSanitizer. The
# last lines are each run's counts and its skipped tests (build/VARIANT/test-summary.txt).
# The builds take -j$(TEST_JOBS) unless make was given a -j of its own. The ASan suites (SQLite)
# and the fuzzers run beside the rel suites (PostgreSQL) and the clients (test-concurrent); the
# WebRTC browsers, the heaviest, run after them alone, whether or not a phase before failed
# (the run fails at the end, after the summaries).
TEST_JOBS ?= $(shell nproc)
TEST_J = $(if $(filter -j% j%,$(MAKEFLAGS)),,-j$(TEST_JOBS))
test:
	scripts/install-deps.sh test
	$(MAKE) $(TEST_J) build/rel/callbridged build/rel/cb-tests build/rel/cbctl build/rel/rtcpeer build/asan/callbridged build/asan/cb-tests build/asan/cbctl build/asan/rtcpeer
	scripts/check-includes.sh
	$(MAKE) man-check
	@rm -f build/test-failed
	$(MAKE) test-concurrent || touch build/test-failed
	scripts/test-webrtc.sh build/rel/callbridged || touch build/test-failed
	@for v in rel asan; do echo "== cb-tests [$$v], test daemons on $$(cat build/$$v/test-backend.txt)"; \
	    cat build/$$v/test-summary.txt; done
	@if [ -e build/test-failed ]; then echo "make test: a phase above FAILED"; exit 1; fi

# Two lanes at once, each its phases one after another (two, not more: the suites' timing
# tests hold on two cores with two; more failed them under load). Every phase runs to its end
# with its output in build/test-PHASE.log; then each is printed whole, in TEST_PHASES order,
# with its wall time, and any that failed fails the target. A SIGINT, SIGTERM or SIGHUP to the
# recipe's shell (Ctrl-C) stops every lane (their subshells ignore SIGINT): SIGTERM to the
# process group. The lanes as measured at 19ad60b: suites-asan 424 s + fuzz 105 s + clients
# 65 s beside suites-rel 573 s (the PostgreSQL lane, with the pgserver cases).
TEST_LANES := suites-asan,fuzz,clients suites-rel
TEST_PHASES := suites-rel suites-asan clients fuzz
test-concurrent:
	@mkdir -p build; rm -f $(TEST_PHASES:%=build/test-%.rc); \
	trap 'trap - TERM; kill -TERM 0' INT TERM HUP; \
	for lane in $(TEST_LANES); do \
	    ( for p in $$(echo $$lane | tr , ' '); do \
	          s=$$(date +%s); rc=0; \
	          $(MAKE) --no-print-directory test-phase-$$p >build/test-$$p.log 2>&1 || rc=$$?; \
	          echo "$$rc $$(( $$(date +%s) - s ))" >build/test-$$p.rc; \
	      done ) & \
	done; wait; \
	fail=""; for p in $(TEST_PHASES); do \
	    read rc secs <build/test-$$p.rc || { rc=1; secs=?; }; \
	    echo "== $$p: $$secs s"; cat build/test-$$p.log; \
	    [ "$$rc" -eq 0 ] || { echo "== $$p FAILED (exit $$rc)"; fail="$$fail $$p"; }; \
	done; \
	[ -z "$$fail" ] || { echo "test-concurrent: failed:$$fail"; exit 1; }
# The API suites run on both backends: the suites of the variants in TEST_PG_VARIANTS start
# their test daemons on PostgreSQL (CB_TEST_PG, tests/helpers.c: a database of each daemon's
# own), on a server that scripts/pg-test-server.sh run starts for the phase and removes when it
# ends, or when it is killed (its guard); the others on SQLite. TEST_PG_VARIANTS= keeps both on
# SQLite. The test cases tagged pgserver start PostgreSQL servers of their own (primaries,
# replicas, failovers: suites pg, it_unique, it_notify, it_cluster, it_calls) and test the same
# whichever backend the phase's daemons use: they run once, in the PostgreSQL phases, not again
# in the SQLite ones (about 4 minutes of the ASan lane; run them under ASan by hand with
# CK_RUN_SUITE=... make check-suites VARIANT=asan).
TEST_PG_VARIANTS ?= rel
test-phase-suites-%:
	$(if $(filter $*,$(TEST_PG_VARIANTS)),scripts/pg-test-server.sh run ,$(if $(TEST_PG_VARIANTS),CK_EXCLUDE_TAGS="$$CK_EXCLUDE_TAGS pgserver" ))$(MAKE) check-suites VARIANT=$*
test-phase-clients:
	scripts/test-clients.sh build/rel/callbridged
test-phase-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=5

# Each harness for FUZZ_SECONDS from its seeds (fuzz/corpus/NAME, left as they are); what it
# finds goes to build/fuzz/corpus-NAME, a crash to build/fuzz/crash-NAME-*, and fails the run.
fuzz:
	$(MAKE) $(TEST_J) $(FUZZERS:%=build/fuzz/fuzz_%)
	@set -e; for f in $(FUZZERS); do \
	    mkdir -p build/fuzz/corpus-$$f; \
	    echo "fuzz $$f: $(FUZZ_SECONDS) s"; \
	    build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=build/fuzz/crash-$$f- \
	        build/fuzz/corpus-$$f fuzz/corpus/$$f 2>build/fuzz/$$f.log \
	        || { tail -50 build/fuzz/$$f.log; exit 1; }; \
	    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" build/fuzz/$$f.log | tr '\n' ' '; echo; \
	done

# Tests that skip are listed after Check's summary; a missing dependency fails the run unless
# CB_ALLOW_MISSING=1; CK_EXCLUDE_TAGS=root leaves out the tests that need root. Under the
# sanitizers every test case gets twice its timeout (CK_TIMEOUT_MULTIPLIER): ASan runs the
# daemons and peers two to three times slower, and it_rtcpeer's forged-fingerprint case once
# ran past its 60 s while the rel lane ran beside it.
check-suites:
	@mkdir -p build/$(VARIANT); \
	if [ -n "$$CB_TEST_PG" ]; then echo "PostgreSQL (CB_TEST_PG)"; else echo "SQLite"; fi \
	    | tee build/$(VARIANT)/test-backend.txt | sed 's/^/check-suites: test daemons on /'; \
	if [ -n "$${CK_EXCLUDE_TAGS# }" ]; then echo "check-suites: leaving out the test cases tagged$$CK_EXCLUDE_TAGS" \
	    | tee -a build/$(VARIANT)/test-backend.txt; fi
	$(if $(filter asan,$(VARIANT)),CK_TIMEOUT_MULTIPLIER=2) \
	CALLBRIDGED=build/$(VARIANT)/callbridged CBCTL=build/$(VARIANT)/cbctl \
	CB_TEST_SUMMARY=build/$(VARIANT)/test-summary.txt \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	./build/$(VARIANT)/cb-tests

# Every process (the tests, each callbridged and cbctl they start) writes what ThreadSanitizer
# reports to build/tsan/report.PID; any such file fails the run.
tsan: deps
	$(MAKE) build/tsan/cb-tests build/tsan/callbridged build/tsan/cbctl build/tsan/rtcpeer
	@rm -f build/tsan/report.*
	CALLBRIDGED=build/tsan/callbridged CBCTL=build/tsan/cbctl CK_INCLUDE_TAGS=net \
	TSAN_OPTIONS="log_path=$(CURDIR)/build/tsan/report second_deadlock_stack=1" ./build/tsan/cb-tests
	@if ls build/tsan/report.* >/dev/null 2>&1; then cat build/tsan/report.*; \
	echo "ThreadSanitizer reported the above (build/tsan/report.*)"; exit 1; fi
	@echo "ThreadSanitizer: no reports"

soak:
	scripts/install-deps.sh bench
	$(MAKE) build/rel/callbridged build/rel/soakgen
	scripts/soak.sh build/rel

bench:
	scripts/install-deps.sh bench
	$(MAKE) build/rel/callbridged build/rel/bench-minimal build/rel/bench-stall build/rel/bench-prober build/rel/bench-cospaces build/rel/bench-media $(if $(wildcard scripts/bench/rtcpeer.c),build/rel/rtcpeer)
	scripts/bench/bench.sh build/rel
	scripts/bench/prober.sh build/rel
	scripts/bench/cospaces.sh build/rel
	scripts/bench/cluster.sh build/rel
	scripts/bench/media.sh build/rel
	scripts/bench/auth.sh build/rel
	scripts/bench/webrtc.sh build/rel
	scripts/bench/join.sh build/rel

format:
	clang-format -i $(wildcard base/*.[ch] api/*.[ch] api/http/*.[ch] api/res/*.[ch] store/*.[ch] store/sqlite/*.[ch] store/pg/*.[ch] turnclient/*.[ch] media/*.[ch] media/webrtc/*.[ch] tests/*.[ch] cli/*.[ch] fuzz/*.c scripts/bench/*.c)

format-check:
	clang-format --dry-run --Werror $(wildcard base/*.[ch] api/*.[ch] api/http/*.[ch] api/res/*.[ch] store/*.[ch] store/sqlite/*.[ch] store/pg/*.[ch] turnclient/*.[ch] media/*.[ch] media/webrtc/*.[ch] tests/*.[ch] cli/*.[ch] fuzz/*.c scripts/bench/*.c)

# The one-way module rules (scripts/check-includes.sh; known exceptions in
# scripts/check-includes.allow), then cppcheck.
check-includes:
	scripts/check-includes.sh

lint: check-includes
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability -I. base api store turnclient media tests cli fuzz

man-check: build/rel/callbridged
	scripts/check-man.sh build/rel/callbridged

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# mod_reqprof: build, test, demo. See README for what each target does.
#
#   make            build mod_reqprof.so with apxs
#   make test       install missing Debian packages (as root), build, check
#                   the glue's layers, run unit tests (plain and ASan/UBSan)
#                   and integration tests
#   make demo       start a private httpd on 127.0.0.1:$(DEMO_PORT) with the
#                   module on a demo site, send requests, show the profiles
#   make demo-stop  stop it
#   make fuzz       run every libFuzzer harness in tests/fuzz for
#                   FUZZ_SECONDS each (fuzz-smoke: a few seconds, in make test)
#   make bench      side-by-side req/s, ns per call, instructions, memory,
#                   Werkzeug peer (bench-smoke: a few seconds, in make test)
#   make bench-perf us of CPU per request, kernel included (perf, root)

APXS      ?= apxs
PYTHON    ?= /usr/bin/python3
CC        ?= gcc
BUILD     := build
DEMO_PORT ?= 8080

APR_INC   = $(shell apr-1-config --includes --cppflags 2>/dev/null)
APR_LIBS  = $(shell apr-1-config --link-ld --libs 2>/dev/null) \
            $(shell apu-1-config --link-ld 2>/dev/null)

# Warnings are errors in the tests and CI (make test sets WERROR), not in a
# user's build: a newer compiler's new warning must not stop an install.
WERROR    ?=
WARN_BASE := -Wall -Wextra -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2
WARN      := $(WARN_BASE) -Werror
MOD_WARN  := $(WARN_BASE) $(WERROR)
LIB_SRC   := $(wildcard lib/*.c)
LIB_HDR   := $(wildcard lib/*.h)
GLUE_SRC  := mod_reqprof.c $(wildcard reqprof_*.c)
GLUE_HDR  := $(wildcard reqprof_*.h)
MODULE    := .libs/mod_reqprof.so
comma     := ,

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
ASAN_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRC))
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
PSTATS_TOOL := $(BUILD)/tools/rp_pstats_tool

# libFuzzer harnesses: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME/.
# Adding a harness is adding that one file (and, if you like, seeds).
CLANG     ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -Wl,--wrap=apr_palloc

.PHONY: all deps demo-deps test unit unit-asan integration demo demo-stop install uninstall deb check-layers clean \
        fuzz fuzz-smoke bench bench-smoke bench-deps bench-perf asan-module \
        viewer-deps

all: $(MODULE)

$(MODULE): $(GLUE_SRC) $(GLUE_HDR) $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(BUILD)
	$(APXS) -c -Wc,-O2 -Wc,-g -Wc,-fvisibility=hidden $(addprefix -Wc$(comma),$(MOD_WARN)) -Wc,-Wno-missing-prototypes \
	    -I lib -o mod_reqprof.la $(GLUE_SRC) $(LIB_SRC) -lm >$(BUILD)/apxs.log 2>&1 \
	    || { cat $(BUILD)/apxs.log; exit 1; }
	@grep -E ': (warning|error):' $(BUILD)/apxs.log || true

# Three dependency lists (scripts/deps.sh): what the tests need, what the
# demo needs (a small subset), what the benchmark adds.
deps:
	@sh scripts/deps.sh test

demo-deps:
	@sh scripts/deps.sh demo

$(BUILD)/unit/%: tests/unit/%.c $(LIB_SRC) $(LIB_HDR) tests/unit/rp_test.h tests/unit/rp_test_ops.h
	@mkdir -p $(@D)
	$(CC) -O1 -g $(WARN) -Ilib -Itests/unit $(APR_INC) -o $@ $< $(LIB_SRC) $(APR_LIBS) -lcmocka -lm

$(BUILD)/asan/%: tests/unit/%.c $(LIB_SRC) $(LIB_HDR) tests/unit/rp_test.h tests/unit/rp_test_ops.h
	@mkdir -p $(@D)
	$(CC) -O1 -g $(WARN) $(SAN_FLAGS) -Ilib -Itests/unit $(APR_INC) -o $@ $< $(LIB_SRC) $(APR_LIBS) -lcmocka -lm

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CLANG) -O1 -g $(WARN) $(FUZZ_FLAGS) -Ilib -Itests/fuzz $(APR_INC) -o $@ $< $(LIB_SRC) $(APR_LIBS) -lm

# Drives lib/'s pstats writer and report for tests/integration/test_pstats_format.py.
$(PSTATS_TOOL): tests/tools/rp_pstats_tool.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) -O1 -g $(WARN) -Ilib $(APR_INC) -o $@ $< $(LIB_SRC) $(APR_LIBS) -lm

# A test-only module that adds a hook after httpd sorted them (see
# tests/integration/test_robust.py); never installed.
TESTMOD_LATE := $(BUILD)/testmods/mod_reqprof_late.so
$(TESTMOD_LATE): tests/modules/mod_reqprof_late.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -g $(WARN) -Wno-missing-prototypes \
	    -I$(shell $(APXS) -q INCLUDEDIR) $(APR_INC) -o $@ $<

# LD_PRELOAD shim: writes under $$RP_ENOSPC_DIR fail with ENOSPC (see
# tests/integration/test_faults.py); never installed.
TESTMOD_ENOSPC := $(BUILD)/testmods/rp_enospc.so
$(TESTMOD_ENOSPC): tests/modules/rp_enospc.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -g $(WARN) -o $@ $< -ldl

# LD_PRELOAD shim: every linkat sleeps $$RP_SLOWLINK_MS ms first (see
# tests/integration/test_write_path.py); never installed.
TESTMOD_SLOWLINK := $(BUILD)/testmods/rp_slowlink.so
$(TESTMOD_SLOWLINK): tests/modules/rp_slowlink.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -g $(WARN) -o $@ $< -ldl

# LD_PRELOAD shim: apr_shm_create fails for mod_reqprof when $$RP_NOSHM is
# set (see tests/integration/test_faults.py); never installed.
TESTMOD_NOSHM := $(BUILD)/testmods/rp_noshm.so
$(TESTMOD_NOSHM): tests/modules/rp_noshm.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -g $(WARN) $(APR_INC) -o $@ $< -ldl

# The module built with AddressSanitizer + UndefinedBehaviorSanitizer, for
# tests/integration/test_asan.py: Debian's (uninstrumented) apache2 loads it
# with the runtime in LD_PRELOAD ($$(clang -print-file-name=
# libclang_rt.asan-x86_64.so)). clang, not gcc: clang's shared ASan runtime
# holds the UBSan handlers too, so both report to ASAN_OPTIONS's log_path;
# gcc's separate libubsan, dlopened with the module, sends every report to
# stderr. -Wl,--wrap=apr_palloc gives each of the module's pool
# allocations its own malloc() (tests/modules/rp_asan_palloc.c). UBSan
# reports and goes on, so one run shows every report; the test fails on any.
# The two -Wno- are for APR's headers and `{ NULL }` table ends under clang.
ASAN_MODULE := $(BUILD)/asan-mod/mod_reqprof.so
ASAN_CANARY := $(BUILD)/testmods/mod_asan_canary.so
ASAN_MOD_FLAGS := -O1 -g -fsanitize=address,undefined,float-cast-overflow -shared-libasan \
                  -fno-omit-frame-pointer $(WARN) -Wno-missing-prototypes \
                  -Wno-null-pointer-subtraction -Wno-missing-field-initializers \
                  -I$(shell $(APXS) -q INCLUDEDIR) $(APR_INC)
$(ASAN_MODULE): $(GLUE_SRC) $(GLUE_HDR) $(LIB_SRC) $(LIB_HDR) tests/modules/rp_asan_palloc.c Makefile
	@mkdir -p $(@D)
	$(CLANG) -shared -fPIC $(ASAN_MOD_FLAGS) -Ilib -Wl,--wrap=apr_palloc -o $@ \
	    $(GLUE_SRC) $(LIB_SRC) tests/modules/rp_asan_palloc.c -lm

# Commits one bug on purpose on request, to prove the sanitizers report.
$(ASAN_CANARY): tests/modules/mod_asan_canary.c Makefile
	@mkdir -p $(@D)
	$(CLANG) -shared -fPIC $(ASAN_MOD_FLAGS) -o $@ $<

asan-module: $(ASAN_MODULE) $(ASAN_CANARY)

# The portable C trampolines that other architectures build in place of
# the x86-64 stubs (reqprof_tramp.h), built here too so that test_core
# runs them against a real httpd.
CTRAMP_MODULE := $(BUILD)/ctramp/mod_reqprof.so
$(CTRAMP_MODULE): $(GLUE_SRC) $(GLUE_HDR) $(LIB_SRC) $(LIB_HDR) Makefile
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -fvisibility=hidden -DREQPROF_C_TRAMPOLINES $(WARN) \
	    -Wno-missing-prototypes -I$(shell $(APXS) -q INCLUDEDIR) $(APR_INC) -Ilib -o $@ \
	    $(GLUE_SRC) $(LIB_SRC) -lm

ctramp-module: $(CTRAMP_MODULE)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

unit-asan: $(ASAN_BIN)
	@set -e; for t in $(ASAN_BIN); do echo "== $$t (ASan+UBSan)"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

fuzz: $(FUZZ_BIN)
	@sh scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@sh scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_BIN)

# The benchmark (scripts/bench/bench.py; BENCH_SECONDS, BENCH_ROUNDS, ...).
PALLOC_SO := $(BUILD)/bench/palloc_count.so
$(PALLOC_SO): scripts/bench/palloc_count.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 $(WARN) $(APR_INC) -o $@ $< -ldl

bench-deps:
	@sh scripts/deps.sh bench

# The kernel's floor for a file per request (scripts/bench/floor.c).
FLOOR_BIN := $(BUILD)/bench/floor
$(FLOOR_BIN): scripts/bench/floor.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) -o $@ $<

# What counting a request into the status page costs (scripts/bench/count_cost.c).
COUNT_BIN := $(BUILD)/bench/count_cost
$(COUNT_BIN): scripts/bench/count_cost.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) -Ilib $(APR_INC) -o $@ $< $(LIB_SRC) $(APR_LIBS) -lm

bench: deps bench-deps $(MODULE) $(PALLOC_SO) $(FLOOR_BIN) $(COUNT_BIN)
	$(PYTHON) scripts/bench/bench.py

bench-smoke: $(MODULE) $(PALLOC_SO) $(FLOOR_BIN) $(COUNT_BIN)
	BENCH_SMOKE=1 $(PYTHON) scripts/bench/bench.py

# Kernel time included: perf samples the machine while wrk runs (root).
bench-perf: deps $(MODULE)
	@sh scripts/deps.sh perf
	$(PYTHON) scripts/bench/perf_split.py

# The viewers tests/integration/test_viewers.py opens the files in:
# speedscope (a static web app) and playwright-core (drives Debian's
# chromium), pinned, from the npm registry into build/node; offline after.
SPEEDSCOPE_VERSION ?= 1.25.0
PLAYWRIGHT_VERSION ?= 1.57.0
VIEWER_STAMP := $(BUILD)/node/.installed-$(SPEEDSCOPE_VERSION)-$(PLAYWRIGHT_VERSION)
$(VIEWER_STAMP):
	@command -v npm >/dev/null || sh scripts/deps.sh npm
	@mkdir -p $(BUILD)/node
	npm install --prefix $(BUILD)/node --no-audit --no-fund --no-save \
	    speedscope@$(SPEEDSCOPE_VERSION) playwright-core@$(PLAYWRIGHT_VERSION)
	@touch $@

viewer-deps: $(VIEWER_STAMP)

integration: $(MODULE) asan-module ctramp-module viewer-deps
	$(PYTHON) -m pytest -q -ra tests/integration

test: deps
	$(MAKE) all WERROR=-Werror
	$(MAKE) check-layers
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz-smoke
	$(MAKE) integration
	$(MAKE) bench-smoke

demo: demo-deps
	$(MAKE) all
	@sh scripts/demo.sh start $(DEMO_PORT)

demo-stop:
	@sh scripts/demo.sh stop $(DEMO_PORT)

# Where Debian's apache2 keeps modules and its a2enmod files; DESTDIR for
# staged installs (the Debian package's build uses dh_apache2 instead).
LIBEXECDIR := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
SYSCONFDIR := $(shell $(APXS) -q SYSCONFDIR 2>/dev/null)
MODS_AVAIL := $(DESTDIR)$(SYSCONFDIR)/mods-available
MODS_ENABLED := $(DESTDIR)$(SYSCONFDIR)/mods-enabled

install: $(MODULE)
	install -d $(DESTDIR)$(LIBEXECDIR) $(MODS_AVAIL)
	install -m 0644 $(MODULE) $(DESTDIR)$(LIBEXECDIR)/mod_reqprof.so
	install -m 0644 conf/reqprof.load conf/reqprof.conf $(MODS_AVAIL)/
	@echo "installed; enable with: a2enmod reqprof && systemctl restart apache2"

# Takes back exactly what install put there, and the a2enmod links to it.
uninstall:
	rm -f $(MODS_ENABLED)/reqprof.load $(MODS_ENABLED)/reqprof.conf
	rm -f $(MODS_AVAIL)/reqprof.load $(MODS_AVAIL)/reqprof.conf
	rm -f $(DESTDIR)$(LIBEXECDIR)/mod_reqprof.so
	@echo "uninstalled; restart apache2 if it had the module loaded"

# A Debian package (libapache2-mod-reqprof) from the committed tree: the
# packaging in packaging/debian/ is copied in as debian/ and built with
# debhelper + dh_apache2; the .deb lands in build/deb/.
DEB_VERSION := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' packaging/debian/changelog)
DEB_SRC     := $(BUILD)/deb/mod-reqprof-$(DEB_VERSION)
deb:
	@sh scripts/deps.sh deb
	rm -rf $(BUILD)/deb && mkdir -p $(DEB_SRC)
	git archive --format=tar HEAD | tar -x -C $(DEB_SRC)
	rm -rf $(DEB_SRC)/debian && cp -r packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 \
	    || { tail -40 ../build.log; exit 1; }
	@ls $(BUILD)/deb/*.deb

# The glue's files must form layers (no include cycles), each header must
# declare only its own unit's functions, each RP tag must start one
# message, and lib/ must stay APR-only (scripts/check_includes.py; part of
# make test, right after the build).
check-layers:
	$(PYTHON) scripts/check_includes.py .

clean:
	rm -rf $(BUILD) .libs *.la *.lo *.slo *.o lib/*.lo lib/*.slo lib/*.o lib/.libs

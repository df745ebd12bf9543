# keepwarm — plain GNU make. `make` builds build/keepwarm; `make test` runs every test;
# `make run` starts keepwarm with the default configuration. SANITIZE=address,undefined builds
# everything with sanitizers into build/san/.

PKGS      := libevent jansson inih libcurl libzstd
BUILD     ?= build
ifdef SANITIZE
BUILD     := build/san
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS     ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += $(SAN_FLAGS)
LDLIBS     := $(PKG_LIBS) -lm

VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
override CFLAGS += -DKEEPWARM_VERSION='"$(VERSION)"'

# proxy/ holds main.c and one folder per layer (net, api, fast, control, upstream, base; each
# includes only from its own floor and the ones below); headers are found by name in any of them.
PROXY_DIRS := $(sort $(dir $(wildcard proxy/*/*.c)))
PROXY_SRCS := $(wildcard proxy/*.c proxy/*/*.c)
override CFLAGS += $(addprefix -I,$(PROXY_DIRS:%/=%))
PROXY_OBJS := $(PROXY_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS   := $(filter-out $(BUILD)/proxy/main.o,$(PROXY_OBJS))
FAKE_SRCS  := $(wildcard tests/fake_ollama/*.c)
# The stand-in links none of keepwarm's objects: a bug shared by both would go unnoticed.
FAKE_OBJS  := $(FAKE_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
# The configuration goes to /etc for PREFIX=/usr (a package), else under the prefix.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

.PHONY: all deps deps-build test test-more unit integration integration-curl run demo clean format format-check bench fuzz install valgrind

all: $(BUILD)/keepwarm $(BUILD)/fake_ollama

$(BUILD)/keepwarm: $(PROXY_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fake_ollama: $(FAKE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

# The stand-in's duration parser, tested with keepwarm's vectors but linked with the stand-in's
# objects only (an explicit rule: it wins over the pattern above).
$(BUILD)/tests/test_fake_duration: tests/unit/test_fake_duration.c \
		$(BUILD)/tests/fake_ollama/goduration.o $(BUILD)/tests/fake_ollama/goquote.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fake_ollama $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka

# The stand-in's float32 writer, the same way.
$(BUILD)/tests/test_fake_gofloat: tests/unit/test_fake_gofloat.c $(BUILD)/tests/fake_ollama/gofloat.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fake_ollama $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

-include $(PROXY_OBJS:.o=.d) $(FAKE_OBJS:.o=.d) $(UNIT_BINS:=.d)

# Checks (and, as root on Debian, installs) the libraries, cmocka, node and the npm packages.
deps:
	@sh tests/deps.sh

# What `make run` needs: the libraries only (no test tools, browser or npm packages).
deps-build:
	@sh tests/deps.sh --build

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; TRANSLATE_CASES=tests/translate $$t; done

integration: all
	KEEPWARM_BIN=$(CURDIR)/$(BUILD)/keepwarm FAKE_OLLAMA_BIN=$(CURDIR)/$(BUILD)/fake_ollama \
	  node --test --test-concurrency=1 tests/integration/ tests/clients/ tests/agents/

test: deps
	@sh tests/layers.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory integration

# What CI runs besides `make test` (.ci/run), kept out of it so that `make test` stays under
# five minutes on two cores: the libcurl backend's second pass below (about a minute).
test-more: all
	@$(MAKE) --no-print-directory integration-curl

# (`make test-more`, run by CI.) The core, warm, streaming, cancellation and error tests again
# with every keepwarm on the
# libcurl backend against plain http:// (harness.js: KEEPWARM_TEST_UPSTREAM_CLIENT), and the
# wire tests of upstream-http.test.js whose outcome is the contract's. Its others check the
# builtin client's own ways, which libcurl does differently: its LIFO pool and which
# connection a retry lands on, its 64 KiB request-head cap (libcurl has none; both cap the
# answer head at 32 KiB), its descriptor wait queue and upstream_close_idle (libcurl has its
# own pool), the Content-Length placement in the request head, and its lookup's wording.
CURL_TESTS := core warm streaming-writes upstream-errors hardening
CURL_WIRE  := chunked answer dripped|interim 100 head|split head|native answers of known length
CURL_WIRE  := $(CURL_WIRE)|small answer of known length|host name is resolved|more than 64 headers
CURL_WIRE  := $(CURL_WIRE)|new connection closed|Ollama dies mid-body|unasked 101|read_timeout
CURL_WIRE  := $(CURL_WIRE)|model management is sent|warm-loop load ping|endless answer head
integration-curl: all
	KEEPWARM_TEST_UPSTREAM_CLIENT=curl KEEPWARM_BIN=$(CURDIR)/$(BUILD)/keepwarm \
	  FAKE_OLLAMA_BIN=$(CURDIR)/$(BUILD)/fake_ollama node --test --test-concurrency=1 \
	  $(CURL_TESTS:%=tests/integration/%.test.js)
	KEEPWARM_TEST_UPSTREAM_CLIENT=curl KEEPWARM_BIN=$(CURDIR)/$(BUILD)/keepwarm \
	  FAKE_OLLAMA_BIN=$(CURDIR)/$(BUILD)/fake_ollama node --test --test-concurrency=1 \
	  --test-name-pattern='$(CURL_WIRE)' tests/integration/upstream-http.test.js

run: deps-build $(BUILD)/keepwarm
	$(BUILD)/keepwarm $(ARGS)

demo: deps all
	@sh tests/demo.sh $(BUILD)

# The core and warm-loop integration tests with keepwarm under valgrind: any memory error or
# definite leak makes keepwarm exit 99, which the harness reports as a failure.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite
valgrind: all
	KEEPWARM_WRAPPER="$(VALGRIND)" KEEPWARM_BIN=$(CURDIR)/$(BUILD)/keepwarm \
	  FAKE_OLLAMA_BIN=$(CURDIR)/$(BUILD)/fake_ollama \
	  node --test --test-concurrency=1 tests/integration/core.test.js tests/integration/warm.test.js

# Benchmarks against nginx and the direct backend (tests/bench/README.md); not part of `make test`.
bench: deps all
	@bash tests/bench/run.sh $(BUILD)
	@if command -v valgrind >/dev/null; then bash tests/bench/stream_insns.sh; \
	 else echo "bench: valgrind is missing, tests/bench/stream_insns.sh skipped"; fi

# libFuzzer targets, time-boxed (FUZZ_SECONDS each); `make test` replays their corpora.
fuzz:
	@sh tests/fuzz/run.sh

# The fuzz targets built with $(CC) and tests/fuzz/standalone.c instead of libFuzzer, under
# the normal (or SANITIZE) flags, each replaying its corpus tests/fuzz/corpus/<target>/.
.PHONY: fuzz-replay
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/standalone.o $(LIB_OBJS) $(LDLIBS)

$(FUZZ_BINS): $(BUILD)/tests/fuzz/standalone.o

fuzz-replay: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_BINS); do n=$${t##*/}; $$t tests/fuzz/corpus/$${n#fuzz_}; done

-include $(FUZZ_BINS:=.d) $(BUILD)/tests/fuzz/standalone.d

install: $(BUILD)/keepwarm
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/keepwarm
	install -m 0755 $(BUILD)/keepwarm $(DESTDIR)$(BINDIR)/keepwarm
	install -m 0644 docs/keepwarm.1 $(DESTDIR)$(MANDIR)/man1/keepwarm.1
	test -e $(DESTDIR)$(SYSCONFDIR)/keepwarm/keepwarm.ini || \
	  install -m 0644 conf/keepwarm.ini $(DESTDIR)$(SYSCONFDIR)/keepwarm/keepwarm.ini

FORMAT_SRCS := proxy/*.[ch] proxy/*/*.[ch] tests/fake_ollama/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] \
	tests/bench/*.c

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build

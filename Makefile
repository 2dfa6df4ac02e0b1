# navixy-lua: build the C core for Lua 5.4 and LuaJIT, run the demo and tests.
# `make demo` and `make test` install missing Debian packages first (as root;
# otherwise they print the apt-get command to run).

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes
PIC     := -fPIC
LIBS    := -lcurl -lz

SRC     := $(wildcard csrc/*.c)
HDR     := $(wildcard csrc/*.h)

LUA54_INC := /usr/include/lua5.4
LUAJIT_INC := /usr/include/luajit-2.1

BUILD   := build
CORE54  := $(BUILD)/lua5.4/navixy/core.so
COREJIT := $(BUILD)/luajit/navixy/core.so

.PHONY: all deps demo test test-5.4 test-luajit lint check-memory bench clean fake-start fake-stop \
        fuzz asan

all: $(CORE54) $(COREJIT)

# Built aside and renamed, so a process that has the old module loaded
# never sees a half-written file.
$(CORE54): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PIC) -I$(LUA54_INC) -shared -o $@.tmp $(SRC) $(LIBS) && mv $@.tmp $@

$(COREJIT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PIC) -I$(LUAJIT_INC) -shared -o $@.tmp $(SRC) $(LIBS) && mv $@.tmp $@

deps:
	@.ci/deps test

demo:
	@.ci/deps demo
	@$(MAKE) --no-print-directory -s all
	@spec/support/fake-navixy start >/dev/null
	@NAVIXY_URL=http://127.0.0.1:$${NAVIXY_FAKE_PORT:-18080}/v2 \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 examples/quickstart.lua; status=$$?; \
	  spec/support/fake-navixy stop >/dev/null; exit $$status

test: deps all
	@spec/support/run-tests

lint: deps
	luacheck -q $(wildcard lua spec bench examples bin/navixy)
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --std=c99 --inline-suppr -DLUA_VERSION_NUM=504 -Icsrc csrc bench fuzz

# Timings, not tests: see bench/run and the README's "Performance" section.
# BENCH_ROUNDS=n rounds (default 9; 3 for a quick look), BENCH_ONLY=sections;
# NAVIXY_BENCH_PORT (+1 TLS, +2 client nginx). bench/deps: the bench's own packages.
BENCH_RAW := $(BUILD)/bench/raw

$(BENCH_RAW): bench/raw.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LIBS)

bench: deps all $(BENCH_RAW)
	@bench/deps
	@bench/run $(BENCH_ROUNDS)

# ---- hardening (issue 3): fuzzing and the suite under sanitizers/valgrind ----
# Each fuzz target in fuzz/ checks properties (see its header comment). The
# pure C ones link what they need of csrc/ (curl only for curl_getdate); the
# others run navixy.core in a Lua 5.4 state (fuzz/lua_core.h), the whole
# core linked in, and check JSON with the decoder: one grammar.
FUZZ_C_TARGETS   := url_escape headers retry_after reply ws_parser ws_answer
FUZZ_LUA_TARGETS := json_string auth decode values reentry mask
FUZZ_TARGETS     := $(FUZZ_C_TARGETS) $(FUZZ_LUA_TARGETS)
FUZZ_SRC     := csrc/buffer.c csrc/encode.c csrc/auth.c csrc/settings.c csrc/reply.c \
                csrc/ws_frame.c csrc/ws_handshake.c csrc/sha1.c csrc/base64.c csrc/random.c
FUZZ_SECONDS ?= 60
SAN_FLAGS    := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all

$(FUZZ_C_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c fuzz/check.h $(FUZZ_SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -o $@ $< $(FUZZ_SRC) $(LIBS)

$(FUZZ_LUA_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c fuzz/check.h fuzz/lua_core.h $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -I$(LUA54_INC) -o $@ $< \
	  $(SRC) $(LIBS) -llua5.4

# FUZZ_SECONDS in all, split evenly over the targets; fails on any finding.
fuzz: deps $(FUZZ_TARGETS:%=build/fuzz/%)
	@fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

ASAN54  := $(BUILD)/asan/lua5.4/navixy/core.so
ASANJIT := $(BUILD)/asan/luajit/navixy/core.so

$(ASAN54): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=address,undefined -shared-libasan $(WARN) $(PIC) -I$(LUA54_INC) \
	  -shared -o $@.tmp $(SRC) $(LIBS) && mv $@.tmp $@

$(ASANJIT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=address,undefined -shared-libasan $(WARN) $(PIC) -I$(LUAJIT_INC) \
	  -shared -o $@.tmp $(SRC) $(LIBS) && mv $@.tmp $@

asan: $(ASAN54) $(ASANJIT)

# The whole suite under ASan+UBSan (Lua 5.4, LuaJIT) and valgrind (Lua 5.4).
check-memory: deps all asan
	@spec/support/check-memory

fake-start:
	spec/support/fake-navixy start

fake-stop:
	spec/support/fake-navixy stop

clean:
	rm -rf $(BUILD)

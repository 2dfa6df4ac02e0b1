# navixy-lua: build the C core for every Lua it supports, run the demo and
# the tests, make the offline rocks server.
# `make demo` and `make test` install missing Debian packages first (as root;
# otherwise they print the apt-get command to run).

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
           -Wstrict-prototypes
PIC     := -fPIC
LIBS    := -lcurl -lz -ldl

SRC     := $(wildcard csrc/*.c)
HDR     := $(wildcard csrc/*.h)

# One build of the core per Lua, in build/<flavour>/navixy/core.so; the
# flavour is also the name of the interpreter's command. INC_<flavour>: its
# headers (Debian's packages: liblua5.x-dev, libluajit2-5.1-dev).
FLAVOURS := lua5.1 lua5.2 lua5.3 lua5.4 luajit
INC_lua5.1 := /usr/include/lua5.1
INC_lua5.2 := /usr/include/lua5.2
INC_lua5.3 := /usr/include/lua5.3
INC_lua5.4 := /usr/include/lua5.4
INC_luajit := /usr/include/luajit-2.1
LUA54_INC  := $(INC_lua5.4)
LUAJIT_INC := $(INC_luajit)

BUILD   := build
CORES   := $(FLAVOURS:%=$(BUILD)/%/navixy/core.so)

.PHONY: all deps demo test check lint check-memory bench clean fake-start fake-stop fuzz asan rock

all: $(CORES)

# Built aside and renamed, so a process that has the old module loaded
# never sees a half-written file.
$(CORES): $(BUILD)/%/navixy/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PIC) -I$(INC_$*) -shared -o $@.tmp $(SRC) $(LIBS) && mv $@.tmp $@

deps:
	@.ci/deps test

demo:
	@.ci/deps demo
	@$(MAKE) --no-print-directory -s all
	@spec/support/fake-navixy start >/dev/null
	@NAVIXY_URL=http://127.0.0.1:$${NAVIXY_FAKE_PORT:-18080}/v2 NAVIXY_LOGIN=demo@example.com NAVIXY_PASSWORD=demo-pass \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 examples/quickstart.lua; status=$$?; \
	  spec/support/fake-navixy stop >/dev/null; exit $$status

# The contributor's loop: Lua 5.4, the specs of spec/unit, client, cli, fake
# and docs, in lanes side by side (spec/support/run-tests).
test: deps $(BUILD)/lua5.4/navixy/core.so
	@spec/support/run-tests test

# Everything CI runs (.ci/run): the specs on every Lua, nginx, shared state,
# lint, the rock and its installs, fuzzing, ASan/UBSan and valgrind.
check: deps all
	@spec/support/run-tests check

# An offline rocks server in build/rocks/ (the release's src.rock, rockspec
# and manifest) from the working tree: see rockspec/make-rock.
rock: deps
	@rockspec/make-rock $(BUILD)/rocks

lint: deps
	luacheck -q $(wildcard lua spec bench examples bin/navixy)
	cppcheck $(CPPCHECK) -DLUA_VERSION_NUM=504 -DLIBCURL_VERSION_NUM=0x$(shell curl-config --vernum) \
	  csrc bench fuzz
	cppcheck $(CPPCHECK) -DLUA_VERSION_NUM=501 -DLIBCURL_VERSION_NUM=0x075000 csrc

# The core as built here, and as built for Lua 5.1 against the oldest
# libcurl it supports (the shims and fallbacks of csrc/compat.h).
CPPCHECK := --quiet --error-exitcode=1 --enable=warning,style,performance,portability --std=c99 \
            --inline-suppr -Icsrc

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
FUZZ_SECONDS ?= 90
SAN_FLAGS    := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all

$(FUZZ_C_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c fuzz/check.h $(FUZZ_SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -o $@ $< $(FUZZ_SRC) $(LIBS)

$(FUZZ_LUA_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c fuzz/check.h fuzz/lua_core.h $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -I$(LUA54_INC) -o $@ $< \
	  $(SRC) $(LIBS) -llua5.4

# FUZZ_SECONDS in all; fails on any finding. The C targets run tens of
# thousands of inputs a second, the Lua-state ones a few hundred: these get
# four fifths of the time, or they would not get through their seeds.
fuzz: deps $(FUZZ_TARGETS:%=build/fuzz/%)
	@c=0; fuzz/run $$(($(FUZZ_SECONDS) / 5)) $(FUZZ_C_TARGETS) || c=1; \
	  fuzz/run $$(($(FUZZ_SECONDS) * 4 / 5)) $(FUZZ_LUA_TARGETS) || c=1; exit $$c

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

# also what `luarocks make` leaves in the checkout (see .gitignore)
clean:
	rm -rf $(BUILD) csrc/*.o navixy/core.so
	@rmdir navixy 2>/dev/null || true

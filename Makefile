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

# Two layers (tools/check-layers): the Lua bindings in csrc/, the pure C
# below them in csrc/<concern>/, which never sees a Lua header. Each source
# is compiled to its own object (with -MMD, the headers it includes as
# prerequisites: touching one recompiles only what includes it); the pure
# objects are built once for every flavour (build/obj/), the bindings once
# per flavour (build/<flavour>/obj/).
BIND_SRC := $(wildcard csrc/*.c)
PURE_SRC := $(wildcard csrc/*/*.c)
SRC      := $(BIND_SRC) $(PURE_SRC)
# objects of sources $(2) in folder $(1): csrc/a/b.c -> $(1)/a/b.o
objs = $(patsubst csrc/%.c,$(1)/%.o,$(2))

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

.PHONY: all deps demo test check lint check-memory check-asan check-valgrind check-layers bench clean fake-start fake-stop fuzz asan rock

all: $(CORES)

# $(call compile,OBJDIR,COMMAND): the rule making OBJDIR/x/y.o from
# csrc/x/y.c with COMMAND (compiler and flags), and its dependency file.
define compile
$(1)/%.o: csrc/%.c
	@mkdir -p $$(dir $$@)
	$(2) -Icsrc -MMD -MP -c -o $$@ $$<
endef

# $(call core,SO,OBJDIR,PURE_OBJDIR,COMMAND): SO linked from the bindings
# compiled in OBJDIR and the pure C in PURE_OBJDIR. Built aside and renamed,
# so a process that has the old module loaded never sees a half-written file.
define core
$(1): $(call objs,$(2),$(BIND_SRC)) $(call objs,$(3),$(PURE_SRC))
	@mkdir -p $$(dir $$@)
	$(4) -shared -o $$@.tmp $$^ $$(LIBS) && mv $$@.tmp $$@
endef

$(eval $(call compile,$(BUILD)/obj,$$(CC) $$(CFLAGS) $$(WARN) $$(PIC)))
$(foreach f,$(FLAVOURS),$(eval $(call compile,$(BUILD)/$(f)/obj,$$(CC) $$(CFLAGS) $$(WARN) $$(PIC) -I$$(INC_$(f)))))
$(foreach f,$(FLAVOURS),$(eval $(call core,$(BUILD)/$(f)/navixy/core.so,$(BUILD)/$(f)/obj,$(BUILD)/obj,$$(CC) $$(CFLAGS))))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# No Lua header below csrc/'s top (see the comment on BIND_SRC).
check-layers:
	@tools/check-layers csrc

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
# the fake server (nginx, LuaJIT) loads navixy.catalogue and so the LuaJIT core
test: deps $(BUILD)/lua5.4/navixy/core.so $(BUILD)/luajit/navixy/core.so
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
	luacheck -q $(wildcard lua spec bench examples tools bin/navixy)
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
FUZZ_C_TARGETS   := url_escape headers retry_after reply ws_parser ws_answer http_head
FUZZ_LUA_TARGETS := json_string auth decode values reentry mask inflate lazy
FUZZ_TARGETS     := $(FUZZ_C_TARGETS) $(FUZZ_LUA_TARGETS)
FUZZ_SECONDS ?= 90
SAN_FLAGS    := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_CC      := clang $(SAN_FLAGS) $(WARN) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_PURE    := $(call objs,$(BUILD)/fuzz/obj,$(PURE_SRC))
FUZZ_BIND    := $(call objs,$(BUILD)/fuzz/lua5.4/obj,$(BIND_SRC))

$(eval $(call compile,$(BUILD)/fuzz/obj,$$(FUZZ_CC)))
$(eval $(call compile,$(BUILD)/fuzz/lua5.4/obj,$$(FUZZ_CC) -I$$(LUA54_INC)))

# The targets' own dependency files are build/fuzz/<target>.d.
$(FUZZ_C_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c $(FUZZ_PURE)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -MMD -MP -o $@ $< \
	  $(FUZZ_PURE) $(LIBS)

$(FUZZ_LUA_TARGETS:%=build/fuzz/%): build/fuzz/%: fuzz/%.c $(FUZZ_PURE) $(FUZZ_BIND)
	@mkdir -p $(dir $@)
	clang $(SAN_FLAGS) -fsanitize=fuzzer,address,undefined $(WARN) -Icsrc -I$(LUA54_INC) -MMD -MP \
	  -o $@ $< $(FUZZ_PURE) $(FUZZ_BIND) $(LIBS) -llua5.4

# FUZZ_SECONDS in all; fails on any finding. The C targets run tens of
# thousands of inputs a second, the Lua-state ones a few hundred: these get
# four fifths of the time, or they would not get through their seeds.
fuzz: deps $(FUZZ_TARGETS:%=build/fuzz/%)
	@c=0; fuzz/run $$(($(FUZZ_SECONDS) / 5)) $(FUZZ_C_TARGETS) || c=1; \
	  fuzz/run $$(($(FUZZ_SECONDS) * 4 / 5)) $(FUZZ_LUA_TARGETS) || c=1; exit $$c

ASAN54  := $(BUILD)/asan/lua5.4/navixy/core.so
ASANJIT := $(BUILD)/asan/luajit/navixy/core.so
ASAN_CC := clang $(SAN_FLAGS) -fsanitize=address,undefined -shared-libasan

$(eval $(call compile,$(BUILD)/asan/obj,$$(ASAN_CC) $$(WARN) $$(PIC)))
$(eval $(call compile,$(BUILD)/asan/lua5.4/obj,$$(ASAN_CC) $$(WARN) $$(PIC) -I$$(LUA54_INC)))
$(eval $(call compile,$(BUILD)/asan/luajit/obj,$$(ASAN_CC) $$(WARN) $$(PIC) -I$$(LUAJIT_INC)))
$(eval $(call core,$(ASAN54),$(BUILD)/asan/lua5.4/obj,$(BUILD)/asan/obj,$$(ASAN_CC)))
$(eval $(call core,$(ASANJIT),$(BUILD)/asan/luajit/obj,$(BUILD)/asan/obj,$$(ASAN_CC)))

asan: $(ASAN54) $(ASANJIT)

# The whole suite under ASan+UBSan (Lua 5.4, LuaJIT) and valgrind (Lua 5.4).
check-memory: deps all asan
	@spec/support/check-memory
# its two halves, run side by side by make check (spec/support/run-tests)
check-asan: deps all asan
	@spec/support/check-memory asan
check-valgrind: deps all
	@spec/support/check-memory valgrind

fake-start: $(BUILD)/luajit/navixy/core.so
	spec/support/fake-navixy start

fake-stop:
	spec/support/fake-navixy stop

# also what `luarocks make` leaves in the checkout (see .gitignore)
clean:
	rm -rf $(BUILD) csrc/*.o csrc/*/*.o navixy/core.so
	@rmdir navixy 2>/dev/null || true

# The catalogue of documented actions (lua/navixy/catalogue/data.lua), from a
# checkout of Navixy/navixy-public-docs: make catalogue DOCS=../navixy-public-docs
# (DOCS_COMMIT=<sha> when DOCS is not a git checkout). Files only, no network.
.PHONY: catalogue
catalogue:
	@test -n "$(DOCS)" || { echo "usage: make catalogue DOCS=<navixy-public-docs checkout>"; exit 2; }
	@DOCS_COMMIT=$(DOCS_COMMIT) lua5.4 tools/catalogue/generate.lua "$(DOCS)" lua/navixy/catalogue/data.lua

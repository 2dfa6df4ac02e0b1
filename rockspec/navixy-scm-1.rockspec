-- The development version, from git. From a checkout:
--   luarocks make rockspec/navixy-scm-1.rockspec
-- The release, rockspec/navixy-0.2.0-1.rockspec, is this file with its own
-- version and source (spec/support/check-rockspec holds them to that).
package = "navixy"
version = "scm-1"
rockspec_format = "3.0"

source = {
  url = "git+https://github.com/navixy-lua/navixy-lua.git",
}

description = {
  summary = "Client for the Navixy telematics API v2: C core on libcurl, Lua on top",
  detailed = [[
navixy talks to the Navixy GPS-tracking API (v2): logs in or uses an API key,
calls any action (client.tracker.list{}), returns the decoded answer or a
precise error, retries what is safe to retry, and runs non-blocking inside
OpenResty. Includes the `navixy` command for calls from a shell.
Runs on PUC Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1 (OpenResty); builds
against libcurl 7.80.0 or newer and zlib.
]],
  homepage = "https://github.com/navixy-lua/navixy-lua",
  license = "MIT",
  labels = { "navixy", "telematics", "gps", "http", "openresty" },
}

dependencies = {
  "lua >= 5.1, < 5.5",
}

external_dependencies = {
  -- only the library is looked up: on Debian the header lives in a multiarch
  -- directory (/usr/include/<triplet>/curl) that luarocks does not search but
  -- the C compiler does
  CURL = { library = "curl" },
  ZLIB = { header = "zlib.h" },
}

build = {
  type = "builtin",
  modules = {
    ["navixy.core"] = {
      sources = {
        "csrc/client.c", "csrc/core.c", "csrc/head_lua.c", "csrc/inflate.c", "csrc/json_decode.c",
        "csrc/json_encode.c", "csrc/json_lazy.c", "csrc/metatable.c", "csrc/options.c", "csrc/raise.c",
        "csrc/scratch.c", "csrc/transfer_lua.c", "csrc/trim.c", "csrc/waiter.c", "csrc/ws_client.c",
        "csrc/ws_lua.c",
        "csrc/http/auth.c", "csrc/http/easy.c", "csrc/http/engine.c", "csrc/http/engine_loop.c",
        "csrc/http/head.c", "csrc/http/multipart.c",
        "csrc/http/phase.c", "csrc/http/reply.c", "csrc/http/settings.c", "csrc/http/transfer.c",
        "csrc/util/base64.c", "csrc/util/buffer.c", "csrc/util/clock.c", "csrc/util/escape.c",
        "csrc/util/interrupt.c", "csrc/util/json_scan.c",
        "csrc/util/mask.c", "csrc/util/random.c", "csrc/util/sha1.c", "csrc/ws/conn.c",
        "csrc/ws/frame.c", "csrc/ws/handshake.c",
      },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl", "z", "dl" },
      incdirs = { "csrc", "$(CURL_INCDIR)", "$(ZLIB_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(ZLIB_LIBDIR)" },
    },
    ["navixy"] = "lua/navixy/init.lua",
    ["navixy.batch"] = "lua/navixy/batch.lua",
    ["navixy.batch.scheduler"] = "lua/navixy/batch/scheduler.lua",
    ["navixy.call"] = "lua/navixy/call.lua",
    ["navixy.catalogue"] = "lua/navixy/catalogue.lua",
    ["navixy.catalogue.calls"] = "lua/navixy/catalogue/calls.lua",
    ["navixy.catalogue.data"] = "lua/navixy/catalogue/data.lua",
    ["navixy.catalogue.params"] = "lua/navixy/catalogue/params.lua",
    ["navixy.cli"] = "lua/navixy/cli/init.lua",
    ["navixy.cli.catalogue"] = "lua/navixy/cli/catalogue.lua",
    ["navixy.cli.batch"] = "lua/navixy/cli/batch.lua",
    ["navixy.cli.format"] = "lua/navixy/cli/format.lua",
    ["navixy.cli.input"] = "lua/navixy/cli/input.lua",
    ["navixy.cli.options"] = "lua/navixy/cli/options.lua",
    ["navixy.cli.profiles"] = "lua/navixy/cli/profiles.lua",
    ["navixy.cli.prompt"] = "lua/navixy/cli/prompt.lua",
    ["navixy.cli.request"] = "lua/navixy/cli/request.lua",
    ["navixy.cli.session_file"] = "lua/navixy/cli/session_file.lua",
    ["navixy.cli.shell"] = "lua/navixy/cli/shell.lua",
    ["navixy.cli.subscribe"] = "lua/navixy/cli/subscribe.lua",
    ["navixy.client"] = "lua/navixy/client.lua",
    ["navixy.closest"] = "lua/navixy/closest.lua",
    ["navixy.compat"] = "lua/navixy/compat.lua",
    ["navixy.controls"] = "lua/navixy/controls.lua",
    ["navixy.dates"] = "lua/navixy/dates.lua",
    ["navixy.errors"] = "lua/navixy/errors.lua",
    ["navixy.fleet"] = "lua/navixy/fleet.lua",
    ["navixy.hash_source"] = "lua/navixy/hash_source.lua",
    ["navixy.graphql"] = "lua/navixy/graphql.lua",
    ["navixy.keys"] = "lua/navixy/keys.lua",
    ["navixy.pages"] = "lua/navixy/pages.lua",
    ["navixy.presigned"] = "lua/navixy/presigned.lua",
    ["navixy.report"] = "lua/navixy/report.lua",
    ["navixy.help"] = "lua/navixy/help.lua",
    ["navixy.history_limits"] = "lua/navixy/history_limits.lua",
    ["navixy.json"] = "lua/navixy/json.lua",
    ["navixy.loop"] = "lua/navixy/loop/init.lua",
    ["navixy.loop.copas"] = "lua/navixy/loop/copas.lua",
    ["navixy.loop.cqueues"] = "lua/navixy/loop/cqueues.lua",
    ["navixy.loop.luv"] = "lua/navixy/loop/luv.lua",
    ["navixy.namespace"] = "lua/navixy/namespace.lua",
    ["navixy.options"] = "lua/navixy/options.lua",
    ["navixy.pretty"] = "lua/navixy/pretty.lua",
    ["navixy.ratelimit"] = "lua/navixy/ratelimit.lua",
    ["navixy.response"] = "lua/navixy/response.lua",
    ["navixy.retry"] = "lua/navixy/retry.lua",
    ["navixy.runtime"] = "lua/navixy/runtime.lua",
    ["navixy.session"] = "lua/navixy/session.lua",
    ["navixy.sink"] = "lua/navixy/sink.lua",
    ["navixy.store"] = "lua/navixy/store/init.lua",
    ["navixy.store.fallback"] = "lua/navixy/store/fallback.lua",
    ["navixy.store.ngx"] = "lua/navixy/store/ngx.lua",
    ["navixy.store.process"] = "lua/navixy/store/process.lua",
    ["navixy.store.redis"] = "lua/navixy/store/redis.lua",
    ["navixy.store.registry"] = "lua/navixy/store/registry.lua",
    ["navixy.store.rules"] = "lua/navixy/store/rules.lua",
    ["navixy.subscription"] = "lua/navixy/subscription.lua",
    ["navixy.subscription_set"] = "lua/navixy/subscription_set.lua",
    ["navixy.transport"] = "lua/navixy/transport/init.lua",
    ["navixy.transport.curl"] = "lua/navixy/transport/curl.lua",
    ["navixy.transport.dns"] = "lua/navixy/transport/dns.lua",
    ["navixy.transport.http1"] = "lua/navixy/transport/http1.lua",
    ["navixy.transport.loop"] = "lua/navixy/transport/loop.lua",
    ["navixy.transport.ngx"] = "lua/navixy/transport/ngx.lua",
    ["navixy.transport.ws_ngx"] = "lua/navixy/transport/ws_ngx.lua",
    ["navixy.upload"] = "lua/navixy/upload.lua",
    ["navixy.url"] = "lua/navixy/url.lua",
  },
  install = {
    -- the navixy command; luarocks wraps it to run with the Lua it installs for
    bin = { navixy = "bin/navixy" },
    -- README.md, LICENSE, CHANGELOG.md and CONTRIBUTING.md at the top of the
    -- rock's directory (`luarocks show --rock-dir navixy`), where luarocks puts
    -- them by itself only when copy_directories copies nothing
    conf = { ["../README.md"] = "README.md", ["../LICENSE"] = "LICENSE",
             ["../CHANGELOG.md"] = "CHANGELOG.md", ["../CONTRIBUTING.md"] = "CONTRIBUTING.md" },
  },
  -- into the rock's directory too: the guides and the reference navixy.help()
  -- names, and the examples they run (`luarocks doc navixy` lists docs/)
  copy_directories = { "docs", "examples" },
}

-- `luarocks test` in a checkout: the specs, with busted (they start the
-- fake Navixy server: nginx with its Lua module, see the README)
test = {
  type = "busted",
}

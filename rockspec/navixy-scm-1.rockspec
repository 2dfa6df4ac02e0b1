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
        "csrc/auth.c", "csrc/base64.c", "csrc/buffer.c", "csrc/client.c", "csrc/core.c",
        "csrc/decode.c", "csrc/encode.c", "csrc/engine.c", "csrc/inflate.c", "csrc/interrupt.c",
        "csrc/mask.c", "csrc/multipart.c", "csrc/phase.c", "csrc/raise.c", "csrc/random.c", "csrc/reply.c",
        "csrc/scratch.c", "csrc/settings.c", "csrc/sha1.c", "csrc/transfer.c", "csrc/trim.c",
        "csrc/values.c", "csrc/ws_client.c", "csrc/ws_conn.c", "csrc/ws_frame.c",
        "csrc/ws_handshake.c", "csrc/ws_lua.c",
      },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl", "z", "dl" },
      incdirs = { "$(CURL_INCDIR)", "$(ZLIB_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(ZLIB_LIBDIR)" },
    },
    ["navixy"] = "lua/navixy/init.lua",
    ["navixy.batch"] = "lua/navixy/batch.lua",
    ["navixy.call"] = "lua/navixy/call.lua",
    ["navixy.cli"] = "lua/navixy/cli/init.lua",
    ["navixy.cli.prompt"] = "lua/navixy/cli/prompt.lua",
    ["navixy.cli.session_file"] = "lua/navixy/cli/session_file.lua",
    ["navixy.cli.shell"] = "lua/navixy/cli/shell.lua",
    ["navixy.cli.subscribe"] = "lua/navixy/cli/subscribe.lua",
    ["navixy.client"] = "lua/navixy/client.lua",
    ["navixy.compat"] = "lua/navixy/compat.lua",
    ["navixy.dates"] = "lua/navixy/dates.lua",
    ["navixy.errors"] = "lua/navixy/errors.lua",
    ["navixy.fleet"] = "lua/navixy/fleet.lua",
    ["navixy.graphql"] = "lua/navixy/graphql.lua",
    ["navixy.keys"] = "lua/navixy/keys.lua",
    ["navixy.pages"] = "lua/navixy/pages.lua",
    ["navixy.presigned"] = "lua/navixy/presigned.lua",
    ["navixy.report"] = "lua/navixy/report.lua",
    ["navixy.help"] = "lua/navixy/help.lua",
    ["navixy.json"] = "lua/navixy/json.lua",
    ["navixy.namespace"] = "lua/navixy/namespace.lua",
    ["navixy.options"] = "lua/navixy/options.lua",
    ["navixy.platform"] = "lua/navixy/platform.lua",
    ["navixy.policy"] = "lua/navixy/policy.lua",
    ["navixy.pretty"] = "lua/navixy/pretty.lua",
    ["navixy.ratelimit"] = "lua/navixy/ratelimit.lua",
    ["navixy.response"] = "lua/navixy/response.lua",
    ["navixy.session"] = "lua/navixy/session.lua",
    ["navixy.sink"] = "lua/navixy/sink.lua",
    ["navixy.store"] = "lua/navixy/store/init.lua",
    ["navixy.store.fallback"] = "lua/navixy/store/fallback.lua",
    ["navixy.store.ngx"] = "lua/navixy/store/ngx.lua",
    ["navixy.store.process"] = "lua/navixy/store/process.lua",
    ["navixy.store.redis"] = "lua/navixy/store/redis.lua",
    ["navixy.store.rules"] = "lua/navixy/store/rules.lua",
    ["navixy.subscription"] = "lua/navixy/subscription.lua",
    ["navixy.subscription_set"] = "lua/navixy/subscription_set.lua",
    ["navixy.transport"] = "lua/navixy/transport/init.lua",
    ["navixy.transport.curl"] = "lua/navixy/transport/curl.lua",
    ["navixy.transport.http1"] = "lua/navixy/transport/http1.lua",
    ["navixy.transport.ngx"] = "lua/navixy/transport/ngx.lua",
    ["navixy.transport.scheduler"] = "lua/navixy/transport/scheduler.lua",
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

-- luarocks make rockspec/navixy-scm-1.rockspec   (from the repository root)
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
]],
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
}

build = {
  type = "builtin",
  modules = {
    ["navixy.core"] = {
      sources = {
        "csrc/auth.c", "csrc/buffer.c", "csrc/client.c", "csrc/core.c", "csrc/decode.c",
        "csrc/encode.c", "csrc/multi.c", "csrc/reply.c", "csrc/settings.c",
        "csrc/transfer.c", "csrc/values.c",
        -- WebSocket
        "csrc/base64.c", "csrc/random.c", "csrc/sha1.c", "csrc/ws_client.c", "csrc/ws_conn.c",
        "csrc/ws_frame.c", "csrc/ws_handshake.c", "csrc/ws_lua.c",
      },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["navixy"] = "lua/navixy/init.lua",
    ["navixy.batch"] = "lua/navixy/batch.lua",
    ["navixy.cli"] = "lua/navixy/cli.lua",
    ["navixy.client"] = "lua/navixy/client.lua",
    ["navixy.curl"] = "lua/navixy/curl.lua",
    ["navixy.errors"] = "lua/navixy/errors.lua",
    ["navixy.fleet"] = "lua/navixy/fleet.lua",
    ["navixy.help"] = "lua/navixy/help.lua",
    ["navixy.json"] = "lua/navixy/json.lua",
    ["navixy.jsonparse"] = "lua/navixy/jsonparse.lua",
    ["navixy.multi"] = "lua/navixy/multi.lua",
    ["navixy.namespace"] = "lua/navixy/namespace.lua",
    ["navixy.ngx"] = "lua/navixy/ngx.lua",
    ["navixy.options"] = "lua/navixy/options.lua",
    ["navixy.policy"] = "lua/navixy/policy.lua",
    ["navixy.pretty"] = "lua/navixy/pretty.lua",
    ["navixy.prompt"] = "lua/navixy/prompt.lua",
    ["navixy.ratelimit"] = "lua/navixy/ratelimit.lua",
    ["navixy.response"] = "lua/navixy/response.lua",
    ["navixy.session_file"] = "lua/navixy/session_file.lua",
    ["navixy.shell"] = "lua/navixy/shell.lua",
    ["navixy.transport"] = "lua/navixy/transport.lua",
  },
  -- the navixy command; luarocks wraps it to run with the Lua it installs for
  install = {
    bin = { navixy = "bin/navixy" },
  },
}

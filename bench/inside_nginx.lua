-- luacheck: globals ngx
--- The locations of the client-side nginx of `make bench`
-- (bench/client-nginx.conf.in): the same request to the bench server,
-- POST /v2/tracker/list (about 5 KB back), made by our client and by
-- lua-resty-http; the same without decoding, plain and gzip-compressed; and
-- one history call to the server's gzip location.
-- Each answers 200 with what it got, or 502 with why not, so that wrk's
-- count of non-2xx answers catches a location that fails.
local navixy = require "navixy"

local HASH = "a6aa75587e5c59c32d347da438505fc3"
local RAW = { decode = false }

local M = {}
local server, client, gz_client

--- One client per worker, made before any request (as the README advises).
function M.init_worker(url)
  server = url
  client = navixy.new { url = url .. "/v2", hash = HASH, transport = "ngx", retries = 0 }
  gz_client = navixy.new { url = url .. "/gz/v2", hash = HASH, transport = "ngx", retries = 0 }
end

local function fail(why)
  ngx.status = 502
  ngx.say(tostring(why))
  return ngx.exit(502)
end

-- The decoded answer's list length.
local function say_count(res, err)
  if not res then return fail(err) end
  ngx.say(#res.list)
end

function M.ours()
  say_count(client:call("tracker/list"))
end

function M.ours_raw()
  local body, err = client:call("tracker/list", nil, RAW)
  if not body then return fail(err) end
  ngx.print(body)
end

-- What an OpenResty user writes without this module: lua-resty-http (its
-- keepalive pool) and cjson.
local ok_http, http = pcall(require, "resty.http")
local cjson = require "cjson"
local RESTY_HEADERS = {
  ["Content-Type"] = "application/json", Accept = "application/json", Authorization = "NVX " .. HASH,
}

function M.resty()
  if not ok_http then return fail("lua-resty-http is not on lua_package_path: " .. tostring(http)) end
  local res, err = http.new():request_uri(server .. "/v2/tracker/list", {
    method = "POST", body = "{}", headers = RESTY_HEADERS, keepalive_timeout = 60000, keepalive_pool = 64,
  })
  if not res then return fail(err) end
  if res.status ~= 200 then return fail("HTTP " .. res.status) end
  local value = cjson.decode(res.body)
  if value.success ~= true then return fail("not a success") end
  ngx.say(#value.list)
end

-- The same pass-through, the answer gzip-compressed by the server (its
-- gzip_static copy): the inflating is ours.
function M.ours_gz_raw()
  local body, err = gz_client:call("tracker/list", nil, RAW)
  if not body then return fail(err) end
  ngx.print(body)
end

function M.wire()
  say_count(gz_client:call("history/tracker/list"))
end

return M

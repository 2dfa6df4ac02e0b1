-- luacheck: globals ngx
--- The locations of the client-side nginx of `make bench`
-- (bench/client-nginx.conf.in): the same request to the bench server,
-- POST /v2/tracker/list (about 5 KB back), made by our client and by
-- lua-resty-http; the same without decoding, plain and gzip-compressed; and
-- one history call to the server's gzip location; issue 22's pass-through at 5
-- and 100 KB beside the least Lua that does the same (the floor) and
-- lua-resty-http without decoding.
-- Each answers 200 with what it got, or 502 with why not, so that wrk's
-- count of non-2xx answers catches a location that fails.
local core = require "navixy.core"
local navixy = require "navixy"

local HASH = "a6aa75587e5c59c32d347da438505fc3"
local RAW = { decode = false }

local M = {}
local server, client, gz_client, mid_client, gz_mid_client

--- One client per worker, made before any request (as the README advises).
function M.init_worker(url)
  server = url
  client = navixy.new { url = url .. "/v2", hash = HASH, transport = "ngx", retries = 0 }
  gz_client = navixy.new { url = url .. "/gz/v2", hash = HASH, transport = "ngx", retries = 0 }
  -- the history asked with no params, the same "{}" as proxy_pass sends
  mid_client = navixy.new { url = url .. "/mid/v2", hash = HASH, transport = "ngx", retries = 0, validate = false }
  gz_mid_client = navixy.new { url = url .. "/gz/mid/v2", hash = HASH, transport = "ngx", retries = 0,
                               validate = false }
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

---------------------------------------------------------------- issue 22: pass-through

-- decode = false through `c`, the answer passed on: 5 KB tracker/list or the
-- 100 KB history, plain or from the server's gzip copy
local function pass(c, action)
  local body, err = c:call(action, nil, RAW)
  if not body then return fail(err) end
  ngx.print(body)
end
function M.ours_raw_100k() pass(mid_client, "history/tracker/list") end
function M.ours_gz_raw_100k() pass(gz_mid_client, "history/tracker/list") end

-- The floor: the least Lua that does the same job on cosockets. A fixed
-- request on a pooled connection, the head read line by line for its length,
-- the body with one receive(n), inflated (the core's inflater, one per worker)
-- when it came gzip-compressed. No checks beyond what keeps it correct on this
-- server: what any Lua client's pass-through costs at least.
local inflater
local function floor(path, gzip)
  local host, port = server:match("^http://([^:/]+):(%d+)")
  local sock = ngx.socket.tcp()
  sock:settimeout(10000)
  local ok, err = sock:connect(host, tonumber(port), { pool = "floor" })
  if not ok then return fail(err) end
  ok, err = sock:send("POST " .. path .. " HTTP/1.1\r\nHost: " .. host .. "\r\nContent-Type: application/json\r\n"
    .. "Accept: application/json\r\nAuthorization: NVX " .. HASH .. "\r\nAccept-Encoding: gzip\r\n"
    .. "Content-Length: 2\r\n\r\n{}")
  if not ok then return fail(err) end
  local line, length, coded
  line, err = sock:receive("*l")
  if not line then return fail(err) end
  repeat
    line, err = sock:receive("*l")
    if not line then return fail(err) end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      name = name:lower()
      if name == "content-length" then length = tonumber(value) end
      if name == "content-encoding" then coded = true end
    end
  until line == ""
  local body
  body, err = sock:receive(length)
  if not body then return fail(err) end
  sock:setkeepalive()
  if gzip then
    if not coded then return fail("not gzip-compressed") end
    inflater = inflater and inflater:reset(false) or core.inflater(false)
    body, err = inflater:feed(body, math.huge)
    if not body then return fail(err) end
  end
  ngx.print(body)
end
function M.floor() floor("/v2/tracker/list") end
function M.floor_100k() floor("/mid/v2/history/tracker/list") end
function M.floor_gz() floor("/gz/v2/tracker/list", true) end
function M.floor_gz_100k() floor("/gz/mid/v2/history/tracker/list", true) end

-- lua-resty-http, the answer passed on undecoded (it does not inflate)
local function resty_raw(path)
  if not ok_http then return fail("lua-resty-http is not on lua_package_path: " .. tostring(http)) end
  local res, err = http.new():request_uri(server .. path, {
    method = "POST", body = "{}", headers = RESTY_HEADERS, keepalive_timeout = 60000, keepalive_pool = 64,
  })
  if not res then return fail(err) end
  if res.status ~= 200 then return fail("HTTP " .. res.status) end
  ngx.print(res.body)
end
function M.resty_raw() resty_raw("/v2/tracker/list") end
function M.resty_raw_100k() resty_raw("/mid/v2/history/tracker/list") end

-- what the docs require of history/tracker/list (the client checks it)
local HISTORY = { trackers = { 1 }, from = "2024-01-01 00:00:00", to = "2024-01-02 00:00:00" }

function M.wire()
  say_count(gz_client:call("history/tracker/list", HISTORY))
end

return M

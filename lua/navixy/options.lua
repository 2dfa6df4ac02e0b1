--- The one validator: checks what users pass to navixy.new, to calls and to
-- batches, and computes every default. Misuse raises here, with a message
-- that names the option, before anything is sent; the C core then checks
-- only what memory safety needs (csrc/client.c).
local core = require "navixy.core"
local errors = require "navixy.errors"
local json = require "navixy.json"
local registry = require "navixy.store.registry"
local sink = require "navixy.sink"
local url = require "navixy.url"

local M = {}

M.MAX_TIMEOUT = 1e6           -- seconds: the C core takes at most 1e9 ms
M.MAX_SIZE = 2 ^ 53           -- bytes: exact in a double
M.DEFAULT_CONCURRENCY = 8
M.MAX_CONCURRENCY = 256       -- the C core's slots per client

-- The documented base URLs (NAVIXY.md, "Endpoints"): Europe, the Americas, the
-- Middle East.
M.regions = {
  eu = "https://api.eu.navixy.com/v2",
  us = "https://api.us.navixy.com/v2",
  me = "https://api.me.navixy.com/v2",
}

-- Where the Admin Panel API lives below a base URL: a panel client's actions
-- are relative to it.
M.PANEL_PATH = "/panel"

local fail = errors.misuse

local function has_ctl(s)
  return s:find("[\r\n%z]") ~= nil
end

-- Each checker raises on a bad value; nil values never reach them.
local function string_opt(name, v)
  if type(v) ~= "string" then fail("option '%s' must be a string, got %s", name, type(v)) end
  if has_ctl(v) then fail("option '%s' must not hold CR, LF or NUL", name) end
end

local function nonempty_string(name, v)
  string_opt(name, v)
  if v == "" then fail("option '%s' must not be empty", name) end
end

local function boolean_opt(name, v)
  if type(v) ~= "boolean" then fail("option '%s' must be a boolean, got %s", name, type(v)) end
end

local function positive_number(name, v)
  if type(v) ~= "number" or v ~= v then fail("option '%s' must be a number, got %s", name, type(v)) end
  if v <= 0 or v == math.huge then fail("option '%s' must be a positive number, got %s", name, tostring(v)) end
end

local function seconds(name, v)
  positive_number(name, v)
  if v > M.MAX_TIMEOUT then
    fail("option '%s' must be at most %d seconds, got %s", name, M.MAX_TIMEOUT, tostring(v))
  end
end

local function size_opt(name, v)
  positive_number(name, v)
  if v > M.MAX_SIZE then fail("option '%s' must be at most 2^53 bytes, got %s", name, tostring(v)) end
end

-- A check of whole numbers from lo to hi: raises "<kind> '<name>' must be
-- <what>, got ..." (kind: "option" unless given).
local function whole_in(lo, hi, what, kind)
  return function(name, v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
      fail("%s '%s' must be %s, got %s", kind or "option", name, what, tostring(v))
    end
  end
end

local count_opt = whole_in(0, 100, "a whole number from 0 to 100")

-- A login is a string; a panel ID may be given as a number too (a panel
-- client's login is numeric on Navixy's own platforms).
local function login_opt(name, v)
  if type(v) == "number" then
    if v ~= math.floor(v) or v < 1 or v >= 2 ^ 53 then
      fail("option '%s' must be a string or a whole panel ID, got %s", name, tostring(v))
    end
    return
  end
  nonempty_string(name, v)
end

local function one_of(...)
  local allowed = { ... }
  return function(name, v)
    for _, a in ipairs(allowed) do
      if v == a then return end
    end
    fail("option '%s' must be one of %s, got %s", name,
      '"' .. table.concat(allowed, '", "') .. '"', type(v) == "string" and '"' .. v .. '"' or tostring(v))
  end
end

local function function_opt(name, v)
  if type(v) ~= "function" then fail("option '%s' must be a function, got %s", name, type(v)) end
end

local function headers_opt(name, v)
  if type(v) ~= "table" then fail("option '%s' must be a table of name = value", name) end
  for k, value in pairs(v) do
    if type(k) ~= "string" or not k:find("^[%w!#$%%&'*+.^_`|~-]+$") then
      fail("option '%s' has an invalid header name %q", name, tostring(k))
    end
    if type(value) ~= "string" or has_ctl(value) then
      fail("option '%s': header %s must be a string without CR, LF or NUL", name, k)
    end
  end
end

-- A store made by navixy.store.ngx or navixy.store.redis.
local function store_opt(name, v)
  if not registry.is_store(v) then
    fail("option '%s' must be a store made by navixy.store.ngx(dict_name) or navixy.store.redis{...}, got %s",
      name, type(v))
  end
end

local CLIENT = {
  url = nonempty_string, region = one_of("eu", "us", "me"), hash = nonempty_string,
  login = login_opt, password = nonempty_string, panel = boolean_opt,
  auth = one_of("header", "query", "body"), encoding = one_of("json", "form"),
  timeout = seconds, connect_timeout = seconds,
  retries = count_opt, rate_limit = positive_number,
  ssl_verify = boolean_opt, ca_file = nonempty_string, proxy = nonempty_string,
  user_agent = nonempty_string, iso_datetime = boolean_opt, insecure = boolean_opt,
  transport = one_of("curl", "ngx"), headers = headers_opt, max_size = size_opt,
  on_request = function_opt, store = store_opt, validate = boolean_opt,
  loop = function(_, v) require("navixy.loop").adapter(v) end,
  -- sent with user/auth (commons/user/index.md "auth": dealer_id; app_key as API.md names it)
  dealer_id = whole_in(1, 2 ^ 53, "a dealer ID (a whole number)"), app_key = nonempty_string,
}

local function query_opt(name, v)
  if type(v) ~= "table" then fail("call option '%s' must be a table of name = value", name) end
end

-- A call's `decode`: true (tables), false (the raw body) or "lazy" (json_lazy.h).
local function decode_opt(name, v)
  if v ~= "lazy" and type(v) ~= "boolean" then
    fail("option '%s' must be a boolean or \"lazy\", got %s", name, type(v) == "string" and '"' .. v .. '"' or type(v))
  end
end

local CALL = {
  timeout = seconds, retries = count_opt, idempotent = boolean_opt, decode = decode_opt,
  method = one_of("POST", "GET"), sink = function(_, v) sink.check(v) end,
  -- headers replace the client's of the same name (Accept: text/csv); query
  -- is a query string for any method (form rules)
  headers = headers_opt, query = query_opt, validate = boolean_opt,
}

-- A subscription's failed connection attempts in a row: any whole number,
-- or math.huge for no limit.
local function attempts_opt(name, v)
  if type(v) ~= "number" or v < 0 or (v ~= math.huge and v ~= math.floor(v)) then
    fail("option '%s' must be a whole number of at least 0 (math.huge: no limit), got %s", name, tostring(v))
  end
end

local SUBSCRIBE = {
  decode = boolean_opt, max_message = size_opt, on_status = function_opt, reconnect = boolean_opt,
  retries = attempts_opt, silence = seconds, timeout = seconds, connect_timeout = seconds,
}

--- The name in `known` (a set: name = anything) closest to `key`, for "did
-- you mean" hints (the command's options too): navixy.closest.
M.closest = require("navixy.closest").closest

local function unknown(kind, key, known)
  local best = M.closest(key, known)
  local hint = best and (" (did you mean '" .. best .. "'?)") or ""
  fail("unknown %s '%s'%s", kind, tostring(key), hint)
end

local function check_table(kind, t, known)
  for k, v in pairs(t) do
    local check = known[k]
    if not check then unknown(kind, k, known) end
    check(k, v)
  end
end

-- A copy of `opts` (nil: none given) checked against `known` (`kind` names
-- an option in messages); `not_table` is the message for a value that is not
-- a table. The caller fills the defaults into the copy.
local function checked_copy(opts, not_table, kind, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(not_table, type(opts)) end
  check_table(kind, opts, known)
  return M.into({}, opts)
end

--- Milliseconds for the C core: rounded, at least 1 (a timeout never
-- silently becomes "none").
function M.milliseconds(secs)
  return math.max(1, math.floor(secs * 1000 + 0.5))
end

-- The header lines every request carries, in a stable order (the C core
-- adds Content-Type and Authorization per request).
local function header_lines(o)
  local lines = {
    "Accept: application/json",
    "User-Agent: " .. o.user_agent,
  }
  if o.iso_datetime then lines[#lines + 1] = "NVX-ISO-DateTime: true" end
  if o.headers then
    local names = {}
    for name in pairs(o.headers) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do lines[#lines + 1] = name .. ": " .. o.headers[name] end
  end
  return lines
end

--- Validates navixy.new options; returns a new table with every default
-- filled in, plus what follows from them: `u` (the parsed URL),
-- `header_lines`, and `core` (the settings of navixy.core.new; times in
-- seconds, as everywhere between Lua and C).
function M.client(opts, version)
  local o = checked_copy(opts, "navixy.new expects a table of options, got %s", "option", CLIENT)
  if o.url and o.region then fail("give either option 'url' or option 'region', not both") end
  if o.ca_file then
    local f, why = io.open(o.ca_file, "rb")
    if not f then fail("option 'ca_file': cannot read %s", tostring(why)) end
    f:close()
  end
  o.url = (o.url or M.regions[o.region or "eu"]):gsub("/+$", "")
  local u, why = url.parse(o.url)
  if not u then fail("option 'url' must be an http:// or https:// base URL (%s), got %q", why, o.url) end
  if u.scheme == "http" and not o.insecure and not url.is_loopback(u.host) then
    fail("refusing plain http:// to %s: credentials would cross the network in clear text "
      .. "(use https://, or set insecure = true)", u.host)
  end
  o.u = u
  if (o.login == nil) ~= (o.password == nil) then
    fail("options 'login' and 'password' go together")
  end
  if (o.dealer_id or o.app_key) and (not o.login or o.panel) then
    fail("options 'dealer_id' and 'app_key' go with a user login (login and password)")
  end
  if type(o.login) == "number" then
    if not o.panel then fail("option 'login' must be a string (a number is a panel ID: set panel = true)") end
    o.login = string.format("%d", o.login) -- sent as the docs show it: "20410"
  end
  o.panel = o.panel == true
  o.auth = o.auth or "header"
  o.encoding = o.encoding or "json"
  o.timeout = o.timeout or 30
  o.connect_timeout = o.connect_timeout or 10
  o.retries = o.retries or 2
  o.max_size = math.floor(o.max_size or core.default_max_size)
  if o.ssl_verify == nil then o.ssl_verify = true end
  o.user_agent = o.user_agent or ("navixy-lua/" .. version)
  o.header_lines = header_lines(o)
  o.core = {
    url = o.panel and o.url .. M.PANEL_PATH or o.url, hash = o.hash, auth = o.auth, encoding = o.encoding,
    timeout = o.timeout, connect_timeout = o.connect_timeout, max_size = o.max_size,
    ssl_verify = o.ssl_verify, ca_file = o.ca_file, proxy = o.proxy, headers = o.header_lines,
    loop = o.loop ~= nil, -- an engine of its own, driven by the loop (navixy.transport.loop)
  }
  if o.loop ~= nil then
    if o.transport == "ngx" then fail("options 'loop' and transport = \"ngx\" do not go together") end
    o.loop = require("navixy.loop").adapter(o.loop)
  end
  return o
end

local port_opt = whole_in(1, 65535, "a port number from 1 to 65535")
local db_opt = whole_in(0, 1e6, "a database number (0, 1, ...)")

local REDIS = {
  host = nonempty_string, port = port_opt, password = nonempty_string, db = db_opt,
  prefix = string_opt, timeout = seconds, connect = function_opt,
}

--- Validates the options of navixy.store.redis; returns a new table with the
-- defaults filled in (host 127.0.0.1, port 6379, prefix "navixy:", timeout 1 s).
function M.redis_store(opts)
  if type(opts) ~= "table" then fail("navixy.store.redis expects a table of options, got %s", type(opts)) end
  check_table("option of navixy.store.redis", opts, REDIS)
  if opts.connect and (opts.host or opts.port or opts.password or opts.db) then
    fail("navixy.store.redis: give either 'connect' or host, port, password and db, not both")
  end
  return {
    -- whole numbers as integers (a port from JSON may be 6379.0)
    host = opts.host or "127.0.0.1", port = math.floor(opts.port or 6379), password = opts.password,
    db = opts.db and math.floor(opts.db),
    prefix = opts.prefix or "navixy:", timeout = opts.timeout or 1, connect = opts.connect,
  }
end

--- A call's header lines, "Name: value\n" each, sorted by name (nil: none).
function M.header_text(headers)
  if not headers or next(headers) == nil then return nil end
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do names[i] = name .. ": " .. headers[name] .. "\n" end
  return table.concat(names)
end

-- Params must encode as a JSON object: a table whose keys are all strings
-- (an empty one included). An array would send "[...]" as the body.
local function check_params(params)
  if params == nil then return end
  if type(params) ~= "table" then fail("params must be a table, got %s", type(params)) end
  if params[1] ~= nil or getmetatable(params) == json.array_mt then
    fail("params must be a table of name = value (a JSON object), not an array")
  end
end

--- t with the pairs of opts (nil: none) set in it, and t: a copy of a
-- caller's table with some fields added or replaced (the caller's table is
-- left alone).
function M.into(t, opts)
  if opts ~= nil then
    for k, v in pairs(opts) do t[k] = v end
  end
  return t
end

--- Validates call options (nil allowed).
function M.call_options(call_opts)
  if call_opts == nil then return end
  if type(call_opts) ~= "table" then fail("call options must be a table, got %s", type(call_opts)) end
  check_table("call option", call_opts, CALL)
end

-- Action names already found valid: checked on every call, and a program
-- uses few (the cache starts over if one uses very many).
local valid_actions, cached = {}, 0

--- Validates a call: its action, params and call_opts (both nil allowed).
-- (Checked on every call: an action already found valid and absent params
-- or call_opts cost no call.)
function M.call(action, params, call_opts)
  if not valid_actions[action] then M.action(action) end
  if params ~= nil then check_params(params) end
  if call_opts ~= nil then M.call_options(call_opts) end
end

--- Validates batch options (nil allowed); returns the concurrency.
local concurrency_opt = whole_in(1, M.MAX_CONCURRENCY,
  "a whole number from 1 to " .. M.MAX_CONCURRENCY, "batch option")

function M.batch(opts)
  if opts == nil then return M.DEFAULT_CONCURRENCY end
  if type(opts) ~= "table" then fail("batch options must be a table, got %s", type(opts)) end
  for k in pairs(opts) do
    if k ~= "concurrency" then fail("unknown batch option '%s'", tostring(k)) end
  end
  local c = opts.concurrency
  if c == nil then return M.DEFAULT_CONCURRENCY end
  concurrency_opt("concurrency", c)
  return c
end

-- An action is a path below the base URL: segments of letters, digits,
-- "_", "-" and ".", one "/" between them (one at either end is tolerated).
-- Nothing that could climb out of the base URL or name another host gets
-- through: no "..", no "%" escapes, no empty segment ("//host"), no ":".
local function valid_action(action)
  local path = action:gsub("^/", ""):gsub("/$", "")
  if path == "" then return false end
  for segment in (path .. "/"):gmatch("([^/]*)/") do
    if not segment:find("^[%w_.-]+$") or segment:find("^%.+$") then return false end
  end
  return true
end

-- Seconds without a frame from the server after which a subscription's
-- connection is taken as lost. Atmosphere's server heartbeat is a setting
-- of its own, 60 s by default (HeartbeatInterceptor), separate from the
-- interval the greeting announces (the client's); 1.5 times it allows one
-- late heartbeat, the margin used against the announced interval until now.
-- (atmosphere.js itself waits its request timeout, 300 s.)
M.SILENCE = 90

--- Validates client:subscribe options (nil allowed); returns a new table
-- with every default filled in, the client's (`o`: its checked options,
-- see M.client) where the subscription has none of its own.
function M.subscribe(opts, o)
  local s = checked_copy(opts, "subscribe options must be a table, got %s", "subscribe option", SUBSCRIBE)
  if s.decode == nil then s.decode = true end
  if s.reconnect == nil then s.reconnect = true end
  s.silence = s.silence or M.SILENCE
  s.max_message = math.floor(s.max_message or o.max_size)
  s.retries = s.retries or math.huge
  s.timeout = s.timeout or o.timeout
  s.connect_timeout = s.connect_timeout or o.connect_timeout
  return s
end

--- Validates an action name; raises on misuse.
function M.action(action)
  if valid_actions[action] then return end
  if type(action) ~= "string" then
    fail("action must be a string, got %s", type(action))
  end
  if not valid_action(action) then
    fail("invalid action %q: expected a path such as \"tracker/list\"", action)
  end
  if cached >= 1000 then valid_actions, cached = {}, 0 end
  valid_actions[action], cached = true, cached + 1
end

--- Validates a hash given to set_hash.
function M.hash(h)
  if h == nil then return end
  nonempty_string("hash", h)
end

return M

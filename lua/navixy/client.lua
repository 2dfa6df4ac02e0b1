--- The client: a navixy.core handle (HTTP, auth placement) plus the call
-- pipeline around it: encoding, sessions, rate limit, retries, errors.
local core = require "navixy.core"
local curl = require "navixy.curl"
local errors = require "navixy.errors"
local json = require "navixy.json"
local namespace = require "navixy.namespace"
local options = require "navixy.options"
local policy = require "navixy.policy"
local ratelimit = require "navixy.ratelimit"
local response = require "navixy.response"

local M = {}

local Client = {}
M.Client = Client

-- Private state per client, out of reach of pairs() and of action names:
-- the client table itself stays empty so that every name it is indexed
-- with is either a method or a namespace.
local states = setmetatable({}, { __mode = "k" })

local function state_of(client)
  local st = states[client]
  if not st then error("navixy: expected a client (use client:method(...), not client.method(...))", 3) end
  if st.closed then error("navixy: client is closed", 3) end
  return st
end

local function secrets(st)
  local list = {}
  local hash = st.handle:get_hash()
  if hash then list[#list + 1] = hash end
  if st.password then list[#list + 1] = st.password end
  return list
end

local function encode(st, params)
  if st.encoding == "form" then return json.form(params or {}) end
  return json.encode(params or {})
end

local function new_job(st, action, params, call_opts)
  call_opts = call_opts or {}
  return {
    action = action,
    body = encode(st, params),
    timeout = call_opts.timeout,
    retries = call_opts.retries or st.retries,
    idempotent = call_opts.idempotent,
    attempts = 0,
    retried = 0,
  }
end

local function notify(st, job, started, status, err)
  if not st.on_request then return end
  st.on_request {
    action = job.action, attempt = job.attempts, status = status,
    elapsed = st.transport:now() - started, kind = err and err.kind or nil,
  }
end

-- One request: waits for the rate limit, sends, interprets.
-- Returns res, or nil, err, retry_after.
local function attempt(st, job)
  local t = st.transport
  if st.bucket then
    local wait = st.bucket:reserve(t:now())
    if wait > 0 then t:sleep(wait) end
  end
  job.attempts = job.attempts + 1
  local started = t:now()
  local status, body, retry_after, phase = t:send(job.action, job.body, job.timeout)
  local res, err
  if status then
    res, err = response.interpret(job.action, status, body, secrets(st))
  else
    err = errors.new({ kind = body, description = retry_after, phase = phase, action = job.action },
      secrets(st))
    retry_after = nil
  end
  if err and status then err.retry_after = retry_after end
  notify(st, job, started, status, err)
  return res, err, retry_after
end

-- Runs a job through attempts and retries, without any session handling.
local function run_plain(st, job)
  while true do
    local res, err, retry_after = attempt(st, job)
    if res then return res end
    local delay = policy.next_delay(job, err, retry_after)
    if not delay then return nil, err end
    st.transport:sleep(delay)
  end
end

local function two_factor_error(action)
  return errors.new {
    kind = "api", action = action,
    description = "two-factor authentication required: call client:verify_code(code) first",
  }
end

-- Logs in with the stored credentials. The hash is cleared while user/auth
-- runs (it needs none) and restored if the login fails.
local function do_login(st)
  local old = st.handle:get_hash()
  st.handle:set_hash(nil)
  local params = { login = st.login, password = st.password }
  local res, err = run_plain(st, new_job(st, "user/auth", params, nil))
  if not res then
    st.handle:set_hash(old)
    return nil, err
  end
  if type(res.hash) ~= "string" or res.hash == "" or res.hash:find("[\r\n%z]") then
    st.handle:set_hash(old)
    return nil, errors.new({ kind = "decode", action = "user/auth", status = 200,
      description = "the login answer holds no usable hash" }, secrets(st))
  end
  st.handle:set_hash(res.hash)
  st.second_factor = res.type == "second_factor_required"
  st.logins = st.logins + 1
  return res
end

-- One login at a time: concurrent callers (batch items, nginx light threads)
-- wait for the one in progress and share its outcome.
local function login_once(st)
  if st.logging_in then
    while st.logging_in do st.transport:sleep(0.005) end
    if st.handle:get_hash() then return true end
    return nil, st.last_login_error
  end
  st.logging_in = true
  local ok, res, err = pcall(do_login, st)
  st.logging_in = false
  if not ok then error(res, 0) end
  st.last_login_error = err
  return res, err
end

-- Runs a job with sessions: a lazy first login, and one re-login and repeat
-- when the API says the session ended (codes 3 and 4).
local function run(st, job)
  local relogged = false
  while true do
    if st.second_factor then return nil, two_factor_error(job.action) end
    if st.login and not st.handle:get_hash() then
      local res, err = login_once(st)
      if not res then return nil, err end
      if st.second_factor then return nil, two_factor_error(job.action) end
    end
    local used = st.handle:get_hash()
    local res, err = run_plain(st, job)
    if res then return res end
    if relogged or not st.login or err.kind ~= "api" or (err.code ~= 3 and err.code ~= 4) then
      return nil, err
    end
    relogged = true
    -- another caller may have logged in again already: then just repeat
    if st.handle:get_hash() == used then
      local ok, lerr = login_once(st)
      if not ok then return nil, lerr end
    end
  end
end
M.run = run

--- client:call(action, params, call_opts) -> res | nil, err
function Client:call(action, params, call_opts)
  local st = state_of(self)
  options.action(action, 2)
  if params ~= nil and type(params) ~= "table" then
    error("navixy: params must be a table, got " .. type(params), 2)
  end
  options.call(call_opts)
  if st.auth == "body" and params and params.hash ~= nil and st.handle:get_hash() then
    error("navixy: params.hash conflicts with the client's hash (auth = \"body\")", 2)
  end
  return run(st, new_job(st, action, params, call_opts))
end

--- client:login([login, password]) -> res | nil, err
function Client:login(login, password)
  local st = state_of(self)
  if login ~= nil or password ~= nil then
    if type(login) ~= "string" or login == "" or type(password) ~= "string" or password == "" then
      error("navixy: client:login(login, password) expects two non-empty strings", 2)
    end
    st.login, st.password = login, password
  end
  if not st.login then
    error("navixy: client:login() needs credentials: pass login and password, here or to navixy.new", 2)
  end
  st.second_factor = false
  return login_once(st)
end

--- client:verify_code(code): the second step of a two-factor login.
function Client:verify_code(code)
  local st = state_of(self)
  if type(code) ~= "string" and type(code) ~= "number" then
    error("navixy: client:verify_code(code) expects a string", 2)
  end
  local res, err = run_plain(st, new_job(st, "user/auth/code/verify", { code = tostring(code) }))
  if not res then return nil, err end
  if type(res.hash) == "string" and res.hash ~= "" and not res.hash:find("[\r\n%z]") then
    st.handle:set_hash(res.hash)
  end
  st.second_factor = false
  return res
end

--- client:logout() -> true | nil, err. The hash is forgotten once the
-- session is over (or was already).
function Client:logout()
  local st = state_of(self)
  if not st.handle:get_hash() then return true end
  local res, err = run_plain(st, new_job(st, "user/logout", nil))
  if res or (err.kind == "api" and (err.code == 3 or err.code == 4)) then
    st.handle:set_hash(nil)
    st.second_factor = false
    return true
  end
  return nil, err
end

function Client:get_hash()
  return state_of(self).handle:get_hash()
end

function Client:set_hash(hash)
  local st = state_of(self)
  options.hash(hash)
  st.handle:set_hash(hash)
  st.second_factor = false
end

--- Frees the connection(s). Idempotent.
function Client:close()
  local st = states[self]
  if not st or st.closed then return end
  st.closed = true
  st.transport:close()
  st.handle:close()
end

local function describe(self)
  local st = states[self]
  if st.closed then return "navixy client (closed)" end
  local hash = st.handle:get_hash()
  return string.format("navixy client (%s, auth %s, %s)", st.url, st.auth,
    hash and "hash " .. errors.masked(hash) or (st.login and "not logged in" or "no hash"))
end

local Meta = {
  __index = function(self, key)
    local method = Client[key]
    if method then return method end
    if type(key) == "string" and states[self] then return namespace.new(self, key) end
    return nil
  end,
  __tostring = describe,
  __close = function(self) self:close() end,
}

local function open_transport(o, handle)
  if o.transport == "ngx" then return require("navixy.ngx").new(handle, o) end
  return curl.new(handle)
end

local function header_lines(o)
  local lines = {}
  if o.iso_datetime then lines[#lines + 1] = "NVX-ISO-DateTime: true" end
  if o.headers then
    local names = {}
    for name in pairs(o.headers) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do lines[#lines + 1] = name .. ": " .. o.headers[name] end
  end
  return lines
end

--- navixy.new(opts) -> client; raises on bad options.
function M.new(opts, version)
  local o = options.client(opts, version)
  local handle = core.new {
    url = o.url, hash = o.hash, auth = o.auth, encoding = o.encoding,
    timeout = o.timeout, connect_timeout = o.connect_timeout, max_size = o.max_size,
    ssl_verify = o.ssl_verify, ca_file = o.ca_file, proxy = o.proxy,
    user_agent = o.user_agent, headers = header_lines(o),
  }
  local client = setmetatable({}, Meta)
  local st = {
    handle = handle, url = o.url:gsub("/+$", ""), auth = o.auth, encoding = o.encoding,
    retries = o.retries, login = o.login, password = o.password, on_request = o.on_request,
    logins = 0, second_factor = false, closed = false,
  }
  st.transport = open_transport(o, handle)
  if o.rate_limit then st.bucket = ratelimit.new(o.rate_limit, st.transport:now()) end
  states[client] = st
  return client
end

function M.is_client(v)
  return states[v] ~= nil
end

--- The state behind a client, for the batch and transport modules.
function M.state(client)
  return state_of(client)
end

return M

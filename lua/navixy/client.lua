--- The client: a navixy.core handle (HTTP, auth placement) plus the call
-- pipeline around it: encoding, sessions, rate limit, retries, errors.
local core = require "navixy.core"
local errors = require "navixy.errors"
local json = require "navixy.json"
local namespace = require "navixy.namespace"
local options = require "navixy.options"
local policy = require "navixy.policy"
local ratelimit = require "navixy.ratelimit"
local response = require "navixy.response"
local transports = require "navixy.transport"

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

-- What errors must mask: the hash in use, the one set aside while a login
-- runs, and the password (never shown even in part).
local function secrets(st)
  local list = {}
  local hash = st.handle:get_hash()
  if hash then list[#list + 1] = hash end
  if st.saved_hash then list[#list + 1] = st.saved_hash end
  if st.password then list[#list + 1] = errors.hidden(st.password) end
  return list
end

local function encode(st, params)
  if st.encoding == "form" then return json.form(params or {}) end
  return json.encode(params or {})
end

local NO_OPTS = {} -- call_opts when none are given (no table per call)

-- A job is one call on its way through the pipeline. `transport` is what
-- it sends and sleeps with: the client's own, or a batch worker's.
local function new_job(st, action, params, call_opts, transport)
  call_opts = call_opts or NO_OPTS
  return {
    transport = transport or st.transport,
    action = action,
    body = encode(st, params),
    timeout = call_opts.timeout,
    retries = call_opts.retries or st.retries,
    idempotent = call_opts.idempotent,
    attempts = 0,
    retried = 0,
  }
end

-- The on_request hook: one call per request sent, once its outcome is
-- known. Only names, numbers and kinds: nothing that could hold a secret.
local function notify(st, job, err, delay)
  if not st.on_request then return end
  st.on_request {
    action = job.action, attempt = job.attempts, status = job.status,
    elapsed = job.elapsed, kind = err and err.kind or nil, code = err and err.code or nil,
    retry_in = delay, transport = job.transport.name and job.transport:name() or nil,
  }
end

-- Waits (sleeping on `t`, the caller's transport) while another caller logs
-- in, so that nothing goes out without the hash meanwhile. Returns false at
-- once in the coroutine running the login: waiting there would never end
-- (the on_request hook calling the client during a login).
local function await_login(st, t)
  if not st.logging_in or coroutine.running() == st.login_co then return false end
  local round = st.login_round
  while st.login_round == round do t:sleep(0.005) end
  return true
end

-- One request: waits for the rate limit, sends, interprets.
-- Returns res, or nil, err, retry_after; leaves status and elapsed in job.
local function attempt(st, job)
  local t = job.transport
  if st.logging_in and not job.login then await_login(st, t) end
  if st.bucket then
    local wait = st.bucket:reserve(t:now())
    if wait > 0 then t:sleep(wait) end
  end
  job.attempts = job.attempts + 1
  local started = st.on_request and t:now() -- timed only for the hook
  local status, body, retry_after, phase = t:send(job.action, job.body, job.timeout, not policy.safe(job))
  job.status = status
  if started then job.elapsed = t:now() - started end
  local res, err
  if status then
    res, err = response.interpret(job.action, status, body, st.secrets)
  else
    err = errors.new({ kind = body, description = retry_after, phase = phase, action = job.action },
      secrets(st))
    retry_after = nil
  end
  if err and status then err.retry_after = retry_after end
  return res, err, retry_after
end

-- Runs a job through attempts and retries, without any session handling.
local function run_plain(st, job)
  while true do
    local res, err, retry_after = attempt(st, job)
    if res then
      if st.on_request then notify(st, job, nil, nil) end
      return res
    end
    local delay = policy.next_delay(job, err, retry_after)
    notify(st, job, err, delay)
    if not delay then return nil, err end
    job.transport:sleep(delay)
  end
end

-- Nothing was sent for this one (attempts = 0).
local function two_factor_error(action)
  return errors.new {
    kind = "api", action = action, attempts = 0,
    description = "two-factor authentication required: call client:verify_code(code) first",
  }
end

-- A login the API refused for good (wrong password, user not activated,
-- logins limit) is not tried again by every later call: that is how a
-- cron job would run into error 104. New credentials or a hash clear it.
local function refused_again(refused)
  return errors.new {
    kind = refused.kind, code = refused.code, status = refused.status, action = refused.action,
    description = tostring(refused.description) .. " (an earlier login was refused; "
      .. "call client:login(login, password) or client:set_hash(hash))",
    attempts = 0,
  }
end

-- Logs in with the stored credentials. The hash is cleared while user/auth
-- runs (it needs none; errors still mask it) and restored if the login fails.
local function do_login(st, t)
  local old = st.handle:get_hash()
  st.saved_hash = old
  st.handle:set_hash(nil)
  local params = { login = st.login, password = st.password }
  local job = new_job(st, "user/auth", params, nil, t)
  job.login = true
  local res, err = run_plain(st, job)
  if res and (type(res.hash) ~= "string" or res.hash == "" or res.hash:find("[\r\n%z]")) then
    res, err = nil, errors.new({ kind = "decode", action = "user/auth", status = job.status,
      attempts = job.attempts, description = "the login answer holds no usable hash" }, secrets(st))
  end
  st.saved_hash = nil
  if not res then
    st.handle:set_hash(old)
    if err.kind == "api" and not err.retryable then
      st.login_refused, st.login_refused_until = err, t:now() + policy.login_refusal_ttl(err)
    end
    return nil, err
  end
  st.handle:set_hash(res.hash)
  st.second_factor = res.type == "second_factor_required"
  st.logins = st.logins + 1
  return res
end

-- One login at a time: concurrent callers (batch items, nginx light threads)
-- wait for the one in progress and share its outcome. `t` is the caller's
-- transport (its sleep must not block the login it waits for). Each finished
-- login moves login_round on and leaves its outcome in login_res/login_err.
-- A login cut short by an error (an on_request hook, a batch being aborted)
-- leaves the hash as it was.
local function login_once(st, t)
  t = t or st.transport
  if st.logging_in then
    if await_login(st, t) then return st.login_res, st.login_err end
    error("navixy: the client was called from its own on_request hook during a login", 0)
  end
  if st.login_refused and t:now() < st.login_refused_until then
    return nil, refused_again(st.login_refused)
  end
  st.logging_in, st.login_co = true, coroutine.running()
  local old = st.handle:get_hash()
  local ok, res, err = pcall(do_login, st, t)
  st.logging_in, st.login_co, st.saved_hash = false, nil, nil
  if ok then
    st.login_res, st.login_err = res, err
  else
    st.handle:set_hash(old)
    st.login_res, st.login_err = nil, errors.new { kind = "transport", action = "user/auth",
      attempts = 0, description = "the login was cut short by a Lua error" }
  end
  st.login_round = st.login_round + 1
  if not ok then error(res, 0) end
  return res, err
end

-- Runs a job with sessions: a lazy first login, and one re-login and repeat
-- when the API says the session ended (codes 3 and 4). The repeat does not
-- use up `retries`.
local function run(st, job)
  local relogged = false
  while true do
    if st.second_factor then return nil, two_factor_error(job.action) end
    if st.login and not st.handle:get_hash() then
      local res, err = login_once(st, job.transport)
      if not res then return nil, err end
      if st.second_factor then return nil, two_factor_error(job.action) end
    end
    local round = st.login_round
    local res, err = run_plain(st, job)
    if res then return res end
    if relogged or not st.login or err.kind ~= "api" or (err.code ~= 3 and err.code ~= 4) then
      return nil, err
    end
    relogged = true
    if st.login_round == round then
      -- the first caller to see the session end logs in again (or, when a
      -- login started meanwhile, waits for it and shares its outcome)
      local ok, lerr = login_once(st, job.transport)
      if not ok then return nil, lerr end
    elseif not st.login_res then
      return nil, st.login_err -- another caller's login since our request, failed
    end
    -- else another caller logged in since our request was sent: just repeat
  end
end
M.run = run

--- The job for client:call(action, params, call_opts), encoded; raises on
-- misuse (with messages starting "navixy:"). Batches check their items here.
local function call_job(st, action, params, call_opts)
  options.action(action, 0)
  if params ~= nil and type(params) ~= "table" then
    error("navixy: params must be a table, got " .. type(params), 0)
  end
  options.call(call_opts)
  if st.auth == "body" and params and params.hash ~= nil and st.handle:get_hash() then
    error("navixy: params.hash conflicts with the client's hash (auth = \"body\")", 0)
  end
  return new_job(st, action, params, call_opts)
end
M.call_job = call_job

--- client:call(action, params, call_opts) -> res | nil, err
function Client:call(action, params, call_opts)
  local st = state_of(self)
  return run(st, call_job(st, action, params, call_opts))
end

--- client:batch(calls, opts) -> array of { result = res } | { err = err }:
-- the calls side by side, each through `run` (see navixy.batch).
function Client:batch(calls, opts)
  return require("navixy.batch").run(state_of(self), calls, opts)
end

--- Helpers over batch for the API's hard limits (see navixy.fleet).
function Client:get_states(ids, opts)
  state_of(self)
  return require("navixy.fleet").get_states(self, ids, opts)
end

function Client:get_history(params, opts)
  state_of(self)
  return require("navixy.fleet").get_history(self, params, opts)
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
  st.login_refused = nil -- asked for explicitly: try again
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
  st.login_refused = nil
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

-- curl, ngx, or (inside nginx, by default) the one the phase of each call
-- allows: see navixy.transport.
local function open_transport(o, handle)
  return transports.open(o, handle)
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
    logins = 0, login_round = 0, second_factor = false, closed = false,
  }
  st.secrets = function() return secrets(st) end -- for errors.new: listed only on failure
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

--- The client object: its methods, its names (client.tracker.list) and its
-- private state. The work is done elsewhere: navixy.call (one call, from
-- options to answer), navixy.session (the hash: logins), navixy.batch (many
-- calls), navixy.transport (the wire).
local batch = require "navixy.batch"
local call = require "navixy.call"
local core = require "navixy.core"
local errors = require "navixy.errors"
local hash_source = require "navixy.hash_source"
local namespace = require "navixy.namespace"
local options = require "navixy.options"
local fallback = require "navixy.store.fallback"
local process = require "navixy.store.process"
local ratelimit = require "navixy.ratelimit"
local rules = require "navixy.store.rules"
local session = require "navixy.session"
local transports = require "navixy.transport"

local type, setmetatable = type, setmetatable

local misuse = errors.misuse

local M = {}

local Client = {}

-- Private state per client, out of reach of pairs() and of action names:
-- the client table itself stays empty, so that every name it is indexed
-- with is either a method or a namespace. Nothing outside this module gets
-- at it.
local states = setmetatable({}, { __mode = "k" })

local function state_of(client)
  local st = states[client]
  if not st then misuse("expected a client (use client:method(...), not client.method(...))") end
  if st.closed then misuse("client is closed") end
  return st
end

-- What errors must mask: the hash in use, the one before it (answers to
-- requests still in flight with it), and the password and app key (never
-- shown even in part).
local function secrets(st)
  local list = {}
  if st.hash then list[#list + 1] = st.hash end
  if st.old_hash then list[#list + 1] = st.old_hash end
  if st.password then list[#list + 1] = errors.hidden(st.password) end
  if st.options.app_key then list[#list + 1] = errors.hidden(st.options.app_key) end -- sent with the login
  return list
end

--- client:call(action, params, call_opts) -> res | nil, err. With
-- call_opts.decode = false a 2xx answer comes back as its bytes, with a
-- third value: { status =, content_type =, filename = }.
function Client:call(action, params, call_opts)
  return call.call(state_of(self), action, params, call_opts)
end

--- client:batch(calls, opts) -> array of { result = res } | { err = err }:
-- the calls side by side, each through navixy.call (see navixy.batch).
function Client:batch(calls, opts)
  return batch.run(state_of(self), calls, opts)
end

--- for i, res, err in client:each(calls, opts) do ... end: the calls of a
-- batch, each result as it completes (see navixy.batch).
function Client:each(calls, opts)
  return batch.each(state_of(self), calls, opts)
end

-- Methods of the user API that a panel client does not have.
local function user_api(st, method)
  if st.panel then
    misuse("client:%s is a user API method; a panel client acts as a user through "
      .. "panel_client:user_session(user_id)", method)
  end
  return st
end

--- Helpers over batch for the API's hard limits (see navixy.fleet).
function Client:get_states(ids, opts)
  user_api(state_of(self), "get_states")
  return require("navixy.fleet").get_states(self, ids, opts)
end

function Client:get_history(params, opts)
  local st = user_api(state_of(self), "get_history")
  return require("navixy.fleet").get_history(self, params, opts, st.fleet)
end

-- A client of a sibling API (`base`: its base URL), made once per base:
-- the client's options (the hash goes as the Authorization header those
-- APIs document), sharing its session: with credentials through
-- hash_source.shared (a re-login there is this client's re-login), else its hash
-- (the one in use now: a key rotated since is passed on).
local function sibling_api(st, base)
  st.siblings = st.siblings or {}
  local c = st.siblings[base]
  if c then
    if not st.source and states[c].hash ~= st.hash then
      session.set_hash(states[c], st.hash)
      session.identify(states[c]) -- an API key is the account
    end
    return c
  end
  local o = {}
  for k, v in pairs(st.opts) do
    if k ~= "hash" and k ~= "login" and k ~= "password" and k ~= "url" and k ~= "region" and k ~= "dealer_id"
      and k ~= "app_key" then
      o[k] = v
    end
  end
  o.url, o.auth, o.hash = base, "header", not st.source and st.hash or nil
  c = M.new(o, st.version)
  if st.source then
    local cst = states[c]
    cst.source = hash_source.shared(st)
    session.identify(cst)
  end
  st.siblings[base] = c
  return c
end

-- What navixy.graphql needs of a client: its URL's origin, and the client
-- of an endpoint's base URL sharing its session.
local function graphql_ctx(st)
  return { origin = st.options.u.origin, can_login = st.source ~= nil,
           sibling = function(base) return sibling_api(st, base) end }
end

--- Workflows over client:call (one module each, named for the job):
-- client:pages (navixy.pages; GraphQL connections with opts.cursor),
-- client:get_report (navixy.report), client:graphql (navixy.graphql).
function Client:pages(action, params, opts)
  local st = state_of(self)
  return require("navixy.pages").iterate(self, action, params, opts, function() return graphql_ctx(st) end)
end

function Client:graphql(query, variables, opts)
  local st = user_api(state_of(self), "graphql")
  return require("navixy.graphql").run(self, graphql_ctx(st), query, variables, opts)
end

function Client:get_report(params, opts)
  local st = user_api(state_of(self), "get_report")
  return require("navixy.report").get(self, { clock = st.transport, timeout = st.timeout }, params, opts)
end

--- client:presigned_upload(action, params, file): create, then upload to
-- the URL the answer names (see navixy.presigned).
function Client:presigned_upload(action, params, file)
  local st = user_api(state_of(self), "presigned_upload")
  return require("navixy.presigned").upload(self, st, action, params, file)
end

--- Session chores (see navixy.keys).
function Client:renew_session()
  user_api(state_of(self), "renew_session")
  return require("navixy.keys").renew(self)
end

function Client:rotate_key(opts)
  local st = user_api(state_of(self), "rotate_key")
  return require("navixy.keys").rotate(self, opts, function(login, password)
    local o = { login = login, password = password }
    for k, v in pairs(st.opts) do
      if k ~= "hash" and k ~= "login" and k ~= "password" and k ~= "store" then o[k] = v end
    end
    return M.new(o, st.version)
  end, st.login, st.password)
end

--- client:dwh(), client:eco_fleet(): clients of the Raw IoT Data API
-- (/dwh/v1) and the Eco Fleet API (/eco_fleet) sharing this client's session.
function Client:dwh()
  local st = user_api(state_of(self), "dwh")
  return sibling_api(st, st.options.u.origin .. "/dwh/v1")
end

function Client:eco_fleet()
  local st = user_api(state_of(self), "eco_fleet")
  return sibling_api(st, st.options.u.origin .. "/eco_fleet")
end

--- client:subscribe(requests, opts) -> a subscription to real-time events
-- (see navixy.subscription); it connects when first read.
function Client:subscribe(requests, opts)
  local st = user_api(state_of(self), "subscribe")
  return require("navixy.subscription").new(st, requests, opts)
end

--- client:login([login, password]) -> res | nil, err
function Client:login(login, password)
  local st = state_of(self)
  if login ~= nil or password ~= nil then
    if type(login) ~= "string" or login == "" or type(password) ~= "string" or password == "" then
      misuse("client:login(login, password) expects two non-empty strings")
    end
    st.login, st.password = login, password
    st.source = hash_source.password(st.login_action)
    session.identify(st) -- the account may be another one now
  end
  if not st.source then
    misuse("client:login() needs credentials: pass login and password, here or to navixy.new")
  end
  st.second_factor = false
  local t = st.transport
  -- asked for explicitly: a new login, whatever is remembered
  return session.login(st, t, t:now() + st.timeout, rules.ANY)
end

--- client:verify_code(code): the second step of a two-factor login.
function Client:verify_code(code)
  local st = user_api(state_of(self), "verify_code")
  if type(code) ~= "string" and type(code) ~= "number" then
    misuse("client:verify_code(code) expects a string")
  end
  local res, err = call.sessionless(st, st.transport, "user/auth/code/verify", { code = tostring(code) })
  if not res then return nil, err end
  if session.usable_hash(res.hash) then session.set_hash(st, res.hash) end
  st.second_factor = false
  return res
end

--- client:resend_code() -> res | nil, err: user/auth/code/resend, for a
-- two-factor login waiting for its code. It goes out with the interim hash,
-- as verify_code does (the only other action that hash works for); the API
-- allows one every 5 minutes (error 264 with timeout and remainder in
-- err.response when asked too soon).
function Client:resend_code()
  local st = user_api(state_of(self), "resend_code")
  local res, err = call.sessionless(st, st.transport, "user/auth/code/resend", nil)
  return res, err
end

--- client:logout() -> true | nil, err. The hash is forgotten once the
-- session is over (or was already).
function Client:logout()
  local st = state_of(self)
  if not st.hash then return true end
  local hash = st.hash
  local res, err = call.sessionless(st, st.transport, st.logout_action, nil)
  if res or (err.kind == "api" and (err.code == 3 or err.code == 4)) then
    session.retire(st, hash) -- no client of the store takes it again
    session.set_hash(st, nil)
    st.second_factor = false
    return true
  end
  return nil, err
end

function Client:get_hash()
  return state_of(self).hash
end

function Client:set_hash(hash)
  local st = state_of(self)
  options.hash(hash)
  session.set_hash(st, hash)
  st.second_factor = false
  if not st.source then session.identify(st) end -- an API key is the account
  session.forget_refusal(st)
end

--- panel_client:user_session(user_id) -> user client | nil, err: a client of
-- the user API (same URL and options, no credentials of its own) holding
-- the hash of the panel's user/session/create for that user. When that
-- session ends, the client gets a new one the same way, through this panel
-- client (which logs in again itself if its own session ended).
function Client:user_session(user_id)
  local st = state_of(self)
  if not st.panel then
    misuse("client:user_session(user_id) is a method of panel clients (navixy.new{ panel = true, ... })")
  end
  if type(user_id) ~= "number" or user_id ~= math.floor(user_id) or user_id < 1 or user_id >= 2 ^ 53 then
    misuse("client:user_session(user_id) expects a user ID (a whole number), got %s", tostring(user_id))
  end
  local opts = {}
  for k, v in pairs(st.opts) do
    if k ~= "panel" and k ~= "hash" and k ~= "login" and k ~= "password" then opts[k] = v end
  end
  local user = M.new(opts, st.version)
  local ust = states[user]
  ust.user_id = user_id
  ust.source = hash_source.delegated(st, "user/session/create", { user_id = user_id }, "panel client")
  session.identify(ust)
  local t = ust.transport
  local res, err = session.login(ust, t, t:now() + ust.timeout, rules.NONE)
  if not res then
    user:close()
    return nil, err
  end
  return user
end

--- Frees the connection(s). Idempotent.
function Client:close()
  local st = states[self]
  if not st or st.closed then return end
  for sub in pairs(st.subscriptions) do sub:close() end
  for _, sibling in pairs(st.siblings or {}) do sibling:close() end
  st.closed = true
  st.transport:close()
  st.handle:close()
end

local function describe(self)
  local st = states[self]
  local kind = st.panel and "navixy panel client" or "navixy client"
  if st.closed then return kind .. " (closed)" end
  return string.format("%s (%s, auth %s, %s%s%s)", kind, st.url, st.auth,
    st.hash and "hash " .. errors.masked(st.hash) or (st.source and "not logged in" or "no hash"),
    st.user_id and ", user " .. string.format("%d", st.user_id) .. " through a panel" or "",
    st.shared and ", store " .. st.shared:describe() or "")
end

local function close(self) self:close() end

-- Each client has a metatable of its own, whose __index is a table holding
-- the methods and, once used, the namespaces of that client: a method call
-- is a plain table lookup, and client.tracker is made once.
local function metatable_for(client, base)
  local names = setmetatable({}, {
    __index = function(names, key)
      if type(key) ~= "string" then return nil end
      return namespace.child(names, client, key, key, base)
    end,
  })
  for name, method in pairs(Client) do names[name] = method end
  return { __index = names, __tostring = describe, __close = close, __name = "navixy client" }
end

local serial = 0 -- clients made in this process: each a member of its rate windows

--- navixy.new(opts) -> client; raises on bad options.
function M.new(opts, version)
  local o = options.client(opts, version)
  local handle = core.new(o.core)
  local client = {}
  -- a panel client's base URL is <url>/panel (see options.client): its
  -- actions, login and logout included, are relative to it
  local st = {
    handle = handle, url = o.url, auth = o.auth, encoding = o.encoding, hash = o.hash,
    timeout = o.timeout, retries = o.retries, login = o.login, password = o.password,
    on_request = o.on_request, panel = o.panel, validate = o.validate ~= false,
    login_action = o.panel and "account/auth" or "user/auth",
    catalogue_base = o.panel and "panel/" or "", -- where its actions are in navixy.catalogue
    logout_action = o.panel and "account/logout" or "user/logout",
    second_factor = false, closed = false,
    options = o, -- for what opens connections of its own (subscriptions)
    subscriptions = setmetatable({}, { __mode = "k" }), -- open ones, closed with the client
    fleet = { iso_datetime = o.iso_datetime == true }, -- what navixy.fleet learns and keeps
  }
  -- for the clients made from this one (user_session, rotate_key)
  st.version, st.opts = version, options.into({}, opts)
  if o.login then st.source = hash_source.password(st.login_action) end
  st.secrets = function() return secrets(st) end -- for errors.new: listed only on failure
  st.transport = transports.open(o, handle)
  -- the session and the rate limit live in a store: the client's own, or a
  -- shared one with the own one behind it (navixy.store)
  serial = serial + 1
  st.serial, st.own = ":c" .. serial, process.new()
  if o.store then st.shared = fallback.new(o.store, st.own) end
  session.identify(st)
  if o.rate_limit then st.rate_count, st.rate_window = ratelimit.window(o.rate_limit) end
  states[client] = st
  return setmetatable(client, metatable_for(client, st.catalogue_base))
end

function M.is_client(v)
  return states[v] ~= nil
end

return M

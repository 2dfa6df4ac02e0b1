--- The session of a client: the hash it sends, the login that gets one,
-- and the one re-login when the API says the session ended (codes 3 and 4).
--
-- There is one login mechanism; what varies is where a hash comes from, the
-- client's `source` (see M.password and M.delegated): user/auth with a login
-- and password, panel/account/auth with a panel ID and password, or a call
-- of another client's session (a panel's panel/user/session/create for one of
-- its users). Whatever the source, the lazy first login, the one shared
-- re-login and the memory of refused logins are the same.
--
-- The session lives in the client's store (navixy.store): its own tables,
-- or a store shared by every client of the same base URL and account in
-- other workers and on other hosts. Whoever needs a session claims it there:
-- it adopts the hash the record holds, or takes the login lock and logs in,
-- or waits (polling the store, sleeping on its own transport, so that others
-- run meanwhile) while someone else does. A re-login happens only when the
-- hash that ended is still the record's, so calls that fail together on one
-- ended session share one re-login, across every process. A waiter never
-- waits longer than its own call's timeout, nor for a login that cannot
-- finish while it waits (its coroutine is dead, or the waiter's transport
-- blocks the process that runs it): it then takes the lock over and logs in
-- itself.
local call = require "navixy.call"
local errors = require "navixy.errors"
local json = require "navixy.json"
local ngx_transport = require "navixy.transport.ngx"
local policy = require "navixy.policy"
local rules = require "navixy.store.rules"
local store = require "navixy.store"

local coroutine, error, type = coroutine, error, type
local pcall = require("navixy.compat").pcall -- a batch worker's login yields inside it

local M = {}

M.WAIT_STEP = 0.005 -- seconds between the first looks at a login in progress
M.WAIT_MAX = 0.05   -- and at most between later ones (each look asks the store)

-- The main thread, for Lua 5.1 where coroutine.running() gives nil there.
local MAIN = {}

local function current()
  return coroutine.running() or MAIN
end

-- Whether a coroutine can still run (and finish a login). Only asked of a
-- coroutine of the request running now (see can_finish).
local function alive(co)
  return co == MAIN or coroutine.status(co) ~= "dead"
end

-- Who holds a login lock: this process's id and a number per coroutine.
-- `running` finds the coroutine of an owner of this process (weak: a
-- coroutine dropped mid-login is collected and can finish nothing), and
-- `request_of` the nginx request it ran for. Inside nginx a coroutine
-- outlives its request: when a request ends, ngx_lua leaves its light
-- threads suspended for good and hands its main coroutine to a later
-- request; and ngx_lua's coroutine.status, asked about a coroutine of an
-- ended request, reads that request's freed memory (a worker crashed on
-- it). So a coroutine is looked at only from its own request, and one that
-- turns up in another request gets a new token. All start over in a forked
-- process (an nginx worker), whose id differs.
local tokens, running, request_of, tokens_of, issued

local function owner_token()
  local id = store.process_id()
  if tokens_of ~= id then
    tokens = setmetatable({}, { __mode = "k" })
    running = setmetatable({}, { __mode = "v" })
    request_of = setmetatable({}, { __mode = "v" })
    tokens_of, issued = id, 0
  end
  local co, request = current(), ngx_transport.request()
  local token = tokens[co]
  if not token or request_of[token] ~= request then
    issued = issued + 1
    token = id .. ":" .. issued
    tokens[co], running[token], request_of[token] = token, co, request
  end
  return token
end

-- Whether the login of `owner` can finish while a caller on transport `t`
-- waits for it: an owner in another process always can, and so can one in
-- another nginx request of this worker, as far as we can tell (the wait
-- still ends at the caller's deadline, when it logs in itself); one in this
-- request or plain Lua only if its coroutine lives and `t` lets it run
-- meanwhile.
local function can_finish(owner, t)
  if owner:sub(1, #tokens_of + 1) ~= tokens_of .. ":" then return true end
  local co = running[owner]
  if co == nil then return false end
  if request_of[owner] ~= ngx_transport.request() then return true end
  return t.yields and alive(co)
end

--- Sets the hash the client sends (nil: none). The previous one is kept
-- for masking answers to requests still in flight with it.
function M.set_hash(st, hash)
  if st.hash and st.hash ~= hash then st.old_hash = st.hash end
  st.hash = hash
  st.handle:set_hash(hash)
end

-- Nothing was sent for this one (attempts = 0).
local function two_factor_error(action)
  return errors.new {
    kind = "api", action = action, attempts = 0,
    description = "two-factor authentication required: call client:verify_code(code) first "
      .. "(client:resend_code() sends the code again)",
  }
end

-- The error of a login that failed, as the store remembers it: for a
-- refusal (wrong password, user not activated, logins limit) every later
-- call gets it without sending anything, since logging in again and again is
-- how a cron job or an nginx worker runs into error 104; for a failure
-- waited for, the waiters get it instead of each trying in turn.
local function remembered(rec, refused)
  local description = tostring(rec.err_description)
  if refused then
    description = description .. " (an earlier login was refused; "
      .. "call client:login(login, password) or client:set_hash(hash))"
  end
  return errors.new {
    kind = rec.err_kind, code = rec.err_code, status = rec.err_status, action = rec.err_action,
    description = description, attempts = 0,
  }
end

-- The account whose session and rate limit a client shares (nil: none).
local function account_of(st)
  if st.source then return st.source.account(st) end
  if st.hash then return "key:" .. st.hash end -- an API key or a saved session
  return nil
end

local function usable_hash(h)
  return type(h) == "string" and h ~= "" and not h:find("[\r\n%z]")
end

--- A source of hashes: `action` (user/auth, or account/auth below a panel
-- client's base URL) with the client's login and password, sent without a
-- hash.
function M.password(action)
  return {
    action = action,
    account = function(st) return (st.panel and "panel:" or "user:") .. st.login end,
    fetch = function(st, t)
      local job = call.job(st, action, { login = st.login, password = st.password,
        dealer_id = st.options.dealer_id, app_key = st.options.app_key })
      job.anonymous = true
      local res, err = call.plain(st, job, t)
      return res, err, job
    end,
  }
end

--- A source of hashes: `action` with `params` called through another
-- client's session `owner` (its own hash, login and re-login), on its own
-- transport. A panel's user/session/create is one: the hash it answers is
-- for the user API, and the two sessions never share a hash. `what` names
-- the owner in the error raised once it is closed.
function M.delegated(owner, action, params, what)
  return {
    action = action,
    -- the account is the owner's, through this action and these params
    account = function()
      local of_owner = account_of(owner)
      return of_owner and of_owner .. " " .. action .. " " .. json.encode(params)
    end,
    fetch = function()
      if owner.closed then
        error("navixy: the " .. what .. " this client gets its session from is closed", 0)
      end
      local job = call.job(owner, action, params)
      local res, err = M.run(owner, job, owner.transport)
      return res, err, job
    end,
  }
end

--- A source that shares the session of another client, `owner`: the sibling
-- APIs on the same host (/dwh/v1, /eco_fleet) take the user's hash. The
-- hash is the owner's; when the one that ended here is the owner's own, the
-- owner logs in again first (once for both: its own store decides).
function M.shared(owner)
  return {
    action = owner.login_action,
    account = function()
      local of_owner = account_of(owner)
      return of_owner and "shared " .. of_owner
    end,
    fetch = function(st)
      if owner.closed then error("navixy: the client this one shares its session with is closed", 0) end
      local t = owner.transport
      if not owner.hash or owner.hash == st.hash then
        local ok, err = M.login(owner, t, t:now() + owner.timeout, owner.hash or rules.NONE)
        if not ok then return nil, err, {} end
      end
      return { hash = owner.hash }, nil, {}
    end,
  }
end

-- Gets a hash from the client's source and makes it the client's.
local function do_login(st, t)
  local source = st.source
  local res, err, job = source.fetch(st, t)
  if res and not usable_hash(res.hash) then
    res, err = nil, errors.new({ kind = "decode", action = source.action, status = job.status,
      attempts = job.attempts, description = "the login answer holds no usable hash" }, st.secrets)
  end
  if not res then return nil, err end
  M.set_hash(st, res.hash)
  st.second_factor = res.type == "second_factor_required"
  return res
end

-- What the store keeps of a failed login. Only a refusal of this source
-- itself is remembered for later calls (another session's refused login is
-- remembered by that session); any failure is told to those who waited.
local function failure_of(st, err)
  local change = { err_kind = err.kind, err_code = err.code, err_status = err.status,
                   err_action = err.action, err_description = err.description }
  if err.kind == "api" and not err.retryable and err.action == st.source.action then
    change.refused_for = policy.login_refusal_ttl(err)
  end
  return change
end

-- Logs in holding the store's login lock, and settles the record with the
-- outcome: the new hash (an interim two-factor hash is this client's alone),
-- or the failure. Raises what the login raised, releasing the lock.
local function login_holding(st, t, owner)
  st.logging_in[owner] = true -- (a panel's login may run inside its user client's)
  local ok, res, err = pcall(do_login, st, t)
  st.logging_in[owner] = nil
  if not ok then
    st.store:settle(st.key, owner, failure_of(st, errors.new {
      kind = "transport", action = st.source.action, attempts = 0,
      description = "the login was cut short by a Lua error" }))
    error(res, 0)
  end
  if res then
    st.store:settle(st.key, owner, st.second_factor and {} or { hash = res.hash })
    return res
  end
  st.store:settle(st.key, owner, failure_of(st, err))
  return nil, err
end

--- Gets the client a session through its store (see the top of this file):
-- `ended` is the hash a request failed with (codes 3 and 4), rules.NONE for
-- a first login, rules.ANY for an explicit one (always a new login). `t` is
-- the caller's transport, `deadline` (on t:now()'s clock) how long it may
-- wait for another's login. With `adopt_only`, it takes a hash someone else
-- logged in for but never logs in itself (then returns nothing). Returns the
-- login answer (true when a hash was adopted) or nil, err; raises what the
-- login raised, leaving the hash as it was.
function M.login(st, t, deadline, ended, adopt_only)
  local owner = owner_token()
  st.logging_in = st.logging_in or {}
  if st.logging_in[owner] then
    error("navixy: the client was called from its own on_request hook during a login", 0)
  end
  local takeover, waited, step = nil, nil, M.WAIT_STEP
  while true do
    local verdict, rec = st.store:claim(st.key, owner, ended, st.timeout, takeover, waited)
    if verdict == "adopt" then
      M.set_hash(st, rec.hash)
      st.second_factor = false
      return true
    elseif verdict == "refused" or verdict == "failed" then
      return nil, remembered(rec, verdict == "refused")
    elseif verdict == "login" then
      if adopt_only then
        st.store:settle(st.key, owner, {})
        return nil
      end
      return login_holding(st, t, owner)
    end
    -- "wait": someone else is logging in
    waited = rec.attempt
    if not can_finish(rec.owner, t) or t:now() >= deadline then
      takeover = rec.owner -- it cannot finish for us: log in ourselves
    else
      t:sleep(step)
      step = math.min(step * 2, M.WAIT_MAX)
    end
  end
end

--- Forgets a refused or failed login, for every client of the store: new
-- credentials or a hash were given.
function M.forget_refusal(st)
  st.store:settle(st.key, nil, { forget = true })
end

--- The hash `hash` was logged out: the store forgets it, so that no client
-- adopts it again.
function M.retire(st, hash)
  st.store:settle(st.key, nil, { retire = hash })
end

--- Names the client's records in its store, by base URL and account (see
-- navixy.store). A client with no account keeps to its own store.
function M.identify(st)
  local account = account_of(st)
  st.key = account and store.key(st.url, account) or "anonymous"
  st.store = account and st.shared or st.own
end

local function deadline_of(st, job, t)
  return t:now() + (job.timeout_ms and job.timeout_ms / 1000 or st.timeout)
end

-- Sessions a call may see end while it runs (each ended session is logged
-- in again once): with a long rate-limit queue a call can outlive one.
M.MAX_RENEWALS = 3

--- Runs a job with sessions on transport `t`: a lazy first login, and one
-- re-login and repeat when the API says the session ended (codes 3 and 4).
-- A repeat that fails on the very session this call renewed is not logged in
-- for again: there is no loop (it still takes a newer session someone else
-- logged in for, which a long wait for the rate limit may need). The repeat
-- does not use up `retries`.
-- Whether a failure says the session ended: API codes 3 and 4, or an HTTP
-- 401 (how the sibling APIs say it: an RFC 7807 or GraphQL "unauthorized").
local function ended_session(err)
  return err.status == 401 or (err.kind == "api" and (err.code == 3 or err.code == 4))
end

function M.run(st, job, t)
  local renewed, renewals = nil, 0
  while true do
    if st.second_factor then return nil, two_factor_error(job.action) end
    if st.source and not st.hash then
      local ok, err = M.login(st, t, deadline_of(st, job, t), rules.NONE)
      if not ok then return nil, err end
      if st.second_factor then return nil, two_factor_error(job.action) end
    end
    local res, err = call.plain(st, job, t)
    if res then return res end
    local ended = job.sent_with -- the hash of the failed request
    if not st.source or not ended_session(err)
      or ended == nil or renewals >= M.MAX_RENEWALS then
      return nil, err
    end
    renewals = renewals + 1
    if st.hash == ended then
      -- the hash that ended is still ours: log in again, or take the hash
      -- another caller (in any process) logged in for meanwhile
      local ok, lerr = M.login(st, t, deadline_of(st, job, t), ended, ended == renewed)
      if not ok then return nil, lerr or err end
    end
    -- (else another caller of this client took a new hash meanwhile)
    renewed = st.hash
  end
end

return M

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
-- One login at a time per client: concurrent callers (batch items, nginx
-- light threads) wait for the one in progress and share its outcome, but
-- never longer than their own call's timeout, and never for a login that
-- cannot finish while they wait (its coroutine is dead, or the waiter's
-- transport blocks the process, so the login's coroutine cannot run): they
-- then log in themselves. A re-login happens only when the hash that ended is
-- still the client's, so calls that fail together on one ended session share
-- one re-login.
local call = require "navixy.call"
local errors = require "navixy.errors"
local policy = require "navixy.policy"

local coroutine, error, type = coroutine, error, type
local pcall = require("navixy.compat").pcall -- a batch worker's login yields inside it

local M = {}

M.WAIT_STEP = 0.005 -- seconds between looks at a login in progress

-- The main thread, for Lua 5.1 where coroutine.running() gives nil there.
local MAIN = {}

local function current()
  return coroutine.running() or MAIN
end

-- Whether the coroutine that runs a login can still finish it.
local function alive(owner)
  return owner == MAIN or coroutine.status(owner) ~= "dead"
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

local function usable_hash(h)
  return type(h) == "string" and h ~= "" and not h:find("[\r\n%z]")
end

--- A source of hashes: `action` (user/auth, or account/auth below a panel
-- client's base URL) with the client's login and password, sent without a
-- hash.
function M.password(action)
  return {
    action = action,
    fetch = function(st, t)
      local job = call.job(st, action, { login = st.login, password = st.password })
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

-- Gets a hash from the client's source and makes it the client's.
local function do_login(st, t)
  local source = st.source
  local res, err, job = source.fetch(st, t)
  if res and not usable_hash(res.hash) then
    res, err = nil, errors.new({ kind = "decode", action = source.action, status = job.status,
      attempts = job.attempts, description = "the login answer holds no usable hash" }, st.secrets)
  end
  if not res then
    -- remembered only when this source itself was refused (another
    -- session's refused login is remembered by that session)
    if err.kind == "api" and not err.retryable and err.action == source.action then
      st.login_refused, st.login_refused_until = err, t:now() + policy.login_refusal_ttl(err)
    end
    return nil, err
  end
  M.set_hash(st, res.hash)
  st.second_factor = res.type == "second_factor_required"
  st.logins = st.logins + 1
  return res
end

-- Whether `t` can wait for login `pending` to finish.
local function can_wait(pending, t)
  if not t.yields then return false end -- blocking: the login's coroutine could not run
  return alive(pending.owner)
end

-- Waits until `pending` is done, the deadline passes or its coroutine dies.
local function wait_for(pending, t, deadline)
  while not pending.done and t:now() < deadline and alive(pending.owner) do
    t:sleep(M.WAIT_STEP)
  end
end

--- Logs in once, or shares the login in progress (see the top of this
-- file). `t` is the caller's transport, `deadline` (on t:now()'s clock) how
-- long the caller may wait for another's login. Returns res or nil, err;
-- raises what the login raised (an on_request hook's error, a batch abort),
-- leaving the hash as it was.
function M.login(st, t, deadline)
  local pending = st.pending_login
  if pending and not pending.done then
    if pending.owner == current() then
      error("navixy: the client was called from its own on_request hook during a login", 0)
    end
    if can_wait(pending, t) then
      wait_for(pending, t, deadline or t:now() + st.timeout)
      if pending.done then return pending.res, pending.err end
    end
    -- the login in progress cannot finish for us: log in ourselves
  end
  if st.login_refused and t:now() < st.login_refused_until then
    return nil, refused_again(st.login_refused)
  end
  local mine = { owner = current(), done = false }
  st.pending_login = mine
  local ok, res, err = pcall(do_login, st, t)
  mine.done = true
  if st.pending_login == mine then st.pending_login = nil end
  if not ok then
    mine.err = errors.new { kind = "transport", action = st.source.action, attempts = 0,
      description = "the login was cut short by a Lua error" }
    error(res, 0)
  end
  mine.res, mine.err = res, err
  return res, err
end

local function deadline_of(st, job, t)
  return t:now() + (job.timeout_ms and job.timeout_ms / 1000 or st.timeout)
end

--- Runs a job with sessions on transport `t`: a lazy first login, and one
-- re-login and repeat when the API says the session ended (codes 3 and 4).
-- The repeat does not use up `retries`.
function M.run(st, job, t)
  local relogged = false
  while true do
    if st.second_factor then return nil, two_factor_error(job.action) end
    if st.source and not st.hash then
      local res, err = M.login(st, t, deadline_of(st, job, t))
      if not res then return nil, err end
      if st.second_factor then return nil, two_factor_error(job.action) end
    end
    local sent_with = st.hash
    local res, err = call.plain(st, job, t)
    if res then return res end
    if relogged or not st.source or err.kind ~= "api" or (err.code ~= 3 and err.code ~= 4) then
      return nil, err
    end
    relogged = true
    if st.hash == sent_with then
      -- the hash that ended is still ours: log in again (or share the
      -- login another caller started meanwhile)
      local ok, lerr = M.login(st, t, deadline_of(st, job, t))
      if not ok then return nil, lerr end
    end
    -- else another caller logged in since our request was sent: just repeat
  end
end

return M

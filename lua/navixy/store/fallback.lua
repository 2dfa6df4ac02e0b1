--- A shared store with the client's process-local store behind it: what a
-- client with a `store` option talks to (contract: navixy.store).
--
-- When the shared store fails (unreachable, full, slower than its timeout)
-- the client goes on alone: its session and rate limit in its own tables, as
-- without a store. The failure is told once (take_report, for the
-- on_request hook; describe, for tostring(client)); the shared store is
-- asked again RETRY_AFTER seconds later, and used again as soon as it
-- answers. So calls never wait on a dead store for more than its timeout.
--
-- Going on alone keeps to the rate: the client's own window lets through its
-- share of the limit, the limit divided by the clients that shared the window
-- when the store last answered, after the slots the shared store gave it
-- (which it notes in its own window: their callers still wait for them, store
-- or no store). And it keeps to the session: the own store
-- learns every hash the client takes from the shared one, so a session that
-- ends while the store is away is compared with the right hash.
local core = require "navixy.core"
local session = require "navixy.session"

local M = {}

M.RETRY_AFTER = 1 -- seconds: a store that failed is not asked again sooner
-- Seconds after a store came back during which the own window still counts
-- too: the shared window holds nothing of what the clients sent on their own
-- during the last second (and Redis may have come back empty).
M.BOTH_FOR = 2

local Fallback = {}
Fallback.__index = Fallback

--- `shared`: the store of the `store` option; `own`: the client's
-- process-local store (navixy.store.process).
function M.new(shared, own)
  return setmetatable({ shared = shared, own = own, share = 1, granted = {}, asked = {} }, Fallback)
end

function Fallback:available()
  return not self.retry_at or core.now() >= self.retry_at
end

function Fallback:failed(message)
  self.retry_at = core.now() + M.RETRY_AFTER
  if not self.failure then self.report = message end -- once per outage
  self.failure = message
end

function Fallback:answered()
  if self.failure then self.both_until = core.now() + M.BOTH_FOR end
  self.failure, self.retry_at = nil, nil
end

--- The failure not yet reported (once), or nil.
function Fallback:take_report()
  local report = self.report
  self.report = nil
  return report
end

function Fallback:describe()
  local name = self.shared:describe()
  if not self.failure then return name end
  return name .. " failing (" .. self.failure .. "): on its own meanwhile"
end

-- A slot in the own window: this client's share of the limit.
function Fallback:reserve_own(key, member, limit, window, urgent, max_wait)
  return self.own:reserve(key, member, math.max(1, math.floor(limit / self.share)), window, urgent,
    max_wait)
end

function Fallback:reserve(key, member, limit, window, urgent, max_wait)
  if self:available() then
    local wait, members = self.shared:reserve(key, member, limit, window, urgent, max_wait)
    if wait then
      self:answered()
      if self.both_until and core.now() < self.both_until then
        wait = math.max(wait, (self:reserve_own(key, member, limit, window, urgent, max_wait)))
      else
        self.share = members
        -- (a slot past max_wait was not given: nothing to note)
        if not max_wait or wait <= max_wait then self.own:note(key, wait) end
      end
      return wait, members
    end
    self:failed(members)
  end
  return self:reserve_own(key, member, limit, window, urgent, max_wait)
end

-- The store that answers for `owner` now. A waiter whose store changed
-- waited for an attempt of the other one: its number means nothing here.
function Fallback:pick(owner, waited)
  local backend = self:available() and self.shared or self.own
  if self.asked[owner] and self.asked[owner] ~= backend then waited = nil end
  self.asked[owner] = backend
  return backend, waited
end

function Fallback:claim(key, owner, ended, ttl, takeover, waited)
  local backend
  backend, waited = self:pick(owner, waited)
  if backend == self.shared then
    local verdict, rec = self.shared:claim(key, owner, ended, ttl, takeover, waited)
    if verdict then
      self:answered()
      if verdict == "adopt" then self.own:settle(key, nil, { hash = rec.hash }) end
      self.granted[owner] = verdict == "login" and self.shared or nil
      if verdict ~= "wait" then self.asked[owner] = nil end
      return verdict, rec
    end
    self:failed(rec)
    waited = select(2, self:pick(owner, waited))
  end
  local verdict, rec = self.own:claim(key, owner, ended, ttl, takeover, waited)
  self.granted[owner] = verdict == "login" and self.own or nil
  if verdict ~= "wait" then self.asked[owner] = nil end
  return verdict, rec
end

-- A refusal kept in a shared store outlives this process: a corrected
-- password in a new process, or an nginx reload, must not stay refused, so
-- there it lasts at most as long as a passing refusal (and the fleet tries a
-- wrong password at most that often).
local function for_shared(change)
  if not change.refused_for or change.refused_for <= session.LOGIN_RETRY_AFTER then return change end
  local capped = {}
  for k, v in pairs(change) do capped[k] = v end
  capped.refused_for = session.LOGIN_RETRY_AFTER
  return capped
end

function Fallback:settle(key, owner, change)
  local backend = owner and self.granted[owner]
  if owner then self.granted[owner] = nil end
  -- changes that hold no lock (a logout, a hash given) go to both stores
  local both = backend == nil
  if backend ~= self.own and self:available() then
    local ok, err = self.shared:settle(key, owner, for_shared(change))
    if ok then
      self:answered()
    else
      self:failed(err)
    end
    -- the own store learns the hash (see the top) and keeps a failure the
    -- shared one could not
    if ok and not (both or change.hash) then return true end
  end
  return self.own:settle(key, owner, change)
end

return M

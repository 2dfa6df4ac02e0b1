--- The process-local store: records in Lua tables, for one client. It is what
-- a client without a `store` option uses (its session and rate limit are its
-- own, as they always were), and what a client with one falls back to while
-- its store cannot be reached. It never fails. Contract: navixy.store.
local core = require "navixy.core"
local rules = require "navixy.store.rules"

local Process = {}
Process.__index = Process

local M = {}

function M.new()
  return setmetatable({ sessions = {}, rates = {} }, Process)
end

Process.now = core.now -- the transports' monotonic clock

local function rate_of(self, key)
  local rate = self.rates[key]
  if not rate then
    rate = rules.new_rate()
    self.rates[key] = rate
  end
  return rate
end

function Process:reserve(key, member, limit, window, urgent, max_wait)
  return rules.reserve(rate_of(self, key), self.now(), member, limit, window, urgent, max_wait)
end

--- Notes a slot `wait` seconds from now that another store gave (not part of
-- the contract: navixy.store.fallback keeps the client's shared slots here).
function Process:note(key, wait)
  rules.note(rate_of(self, key), self.now() + wait)
end

local function record(self, key)
  local rec = self.sessions[key]
  if not rec then
    rec = {}
    self.sessions[key] = rec
  end
  return rec
end

function Process:claim(key, owner, ended, ttl, takeover, waited)
  local rec = record(self, key)
  local verdict = rules.claim(rec, self.now(), owner, ended, ttl, takeover, waited)
  return verdict, rec
end

function Process:settle(key, owner, change)
  rules.settle(record(self, key), self.now(), owner, change)
  return true
end

function Process.describe() return "process" end

return M

--- The store of an nginx lua_shared_dict: one session and one rate limit for
-- every worker of one nginx (navixy.store.ngx(dict_name)). Contract:
-- navixy.store.
--
-- Each operation reads a record, applies navixy.store.rules and writes it
-- back while holding a lock made with the dict's atomic add(), so that no
-- two workers act on the same state: nothing is spent twice. The lock is
-- held for a few dict operations and no yield; should a worker die holding
-- it, it expires by itself. Writes use safe_set, which never evicts another
-- record to make room: a full dict is a failure the client sees (and goes on
-- without the store), not a silently forgotten rate window.
local core = require "navixy.core"
local errors = require "navixy.errors"
local rules = require "navixy.store.rules"
local runtime = require "navixy.runtime"
local store = require "navixy.store"

local M = {}

M.PREFIX = "navixy:"      -- every key of ours in the dict starts so
M.TIMEOUT = 1             -- seconds an operation may wait for the lock
M.LOCK_TTL = 0.5          -- seconds after which a lock left by a dead worker lapses
M.PAUSE = 0.001           -- seconds between tries for a lock someone holds
M.SESSION_TTL = 31 * 86400 -- a session unused for 30 days has ended anyway

local Dict = {}
Dict.__index = Dict

--- The store of lua_shared_dict `dict_name` (declared in nginx.conf).
function M.new(dict_name)
  if type(dict_name) ~= "string" or dict_name == "" then
    errors.misuse("navixy.store.ngx(dict_name) expects the name of a lua_shared_dict")
  end
  if not runtime.in_nginx() then
    errors.misuse("navixy.store.ngx needs nginx with the Lua module (lua_shared_dict); "
      .. "elsewhere use navixy.store.redis")
  end
  local dict = ngx.shared[dict_name]
  if not dict then
    errors.misuse("no lua_shared_dict named '%s' in nginx.conf (add: lua_shared_dict %s 1m;)",
      dict_name, dict_name)
  end
  return store.register(setmetatable({ dict = dict, name = dict_name }, Dict))
end

function Dict:describe()
  return "lua_shared_dict " .. self.name
end

-- A pause while another worker holds the lock: a yield where nginx allows
-- one, else a short sleep (the phase blocks the worker anyway).
local function pause()
  if runtime.yieldable() then ngx.sleep(M.PAUSE) else core.sleep(M.PAUSE / 10) end
end

-- Runs fn(dict) holding the lock of record `name`; returns what fn returns,
-- or nil, message when the lock cannot be had.
function Dict:locked(name, fn)
  local dict, lock = self.dict, name .. "|lock"
  local deadline = core.now() + M.TIMEOUT
  while true do
    local ok, err = dict:add(lock, true, M.LOCK_TTL)
    if ok then break end
    if err ~= "exists" then return nil, self:describe() .. ": " .. tostring(err) end
    if core.now() >= deadline then
      return nil, self:describe() .. ": a record stayed locked for " .. M.TIMEOUT .. " s"
    end
    pause()
  end
  local ok, a, b = pcall(fn, dict)
  dict:delete(lock)
  if not ok then error(a, 0) end -- a bug, not a store failure
  return a, b
end

function Dict:write(name, text, ttl)
  local ok, err = self.dict:safe_set(name, text, ttl)
  if ok then return true end
  return nil, self:describe() .. ": " .. tostring(err) -- "no memory": the dict is full
end

function Dict:reserve(key, member, limit, window, urgent, max_wait)
  local name = M.PREFIX .. key .. ":rate"
  return self:locked(name, function(dict)
    local rate, now = rules.unpack_rate(dict:get(name)), core.now()
    local wait, members = rules.reserve(rate, now, member, limit, window, urgent, max_wait)
    local ok, err = self:write(name, rules.pack_rate(rate), rules.rate_ttl(rate, now))
    if not ok then return nil, err end
    return wait, members
  end)
end

function Dict:claim(key, owner, ended, ttl, takeover, waited)
  local name = M.PREFIX .. key .. ":session"
  return self:locked(name, function(dict)
    local rec = rules.unpack(dict:get(name))
    local verdict = rules.claim(rec, core.now(), owner, ended, ttl, takeover, waited)
    if verdict == "login" then
      local ok, err = self:write(name, rules.pack(rec), M.SESSION_TTL)
      if not ok then return nil, err end
    end
    return verdict, rec
  end)
end

function Dict:settle(key, owner, change)
  local name = M.PREFIX .. key .. ":session"
  return self:locked(name, function(dict)
    local rec = rules.unpack(dict:get(name))
    rules.settle(rec, core.now(), owner, change)
    return self:write(name, rules.pack(rec), M.SESSION_TTL)
  end)
end

return M

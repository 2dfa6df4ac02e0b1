--- Stores: where clients keep what they share, so that every nginx worker
-- and every host using one account logs in once and keeps to one rate limit.
--
--   navixy.store.ngx(dict_name)   a lua_shared_dict: the workers of one nginx
--   navixy.store.redis{ ... }     Redis: every process and host using it
--   navixy.store.process          one client's own tables (no `store` option,
--                                 and the fallback while a store is away)
--
-- The contract every store keeps (navixy.session and navixy.ratelimit rely
-- on nothing else). What each operation does to a record is defined once,
-- in navixy.store.rules; a store makes it atomic: no two callers, in any
-- process, ever see the same record state and both act on it.
--
-- `key` names the records of one base URL and account (M.key); a store adds
-- its own prefix. Times are on the store's own clock (Redis: its TIME, so
-- that hosts need no common clock); what comes back is relative (seconds to
-- wait).
--
--   s:reserve(key, member, limit, window, urgent, max_wait) -> wait, members
--       a slot for one request of client `member`: at most `limit` requests
--       in any `window` seconds, `urgent` (a login) before the queue
--       (rules.reserve); `wait` seconds until the slot, `members` the clients
--       that asked for slots lately; a slot more than `max_wait` seconds
--       away is not taken (the caller gives up)
--   s:claim(key, owner, ended, ttl, takeover, waited) -> verdict, record
--       what a caller needing a session does: "adopt" record.hash, "refused",
--       "failed" (record.err_* say why), "wait", or "login" holding the lock
--       (rules.claim)
--   s:settle(key, owner, change) -> true
--       what came of a login; releases owner's lock (rules.settle)
--   s:describe() -> text        what the store is, for tostring(client): never
--                               a password
--
-- Any operation may instead return nil, message (the store cannot be
-- reached, is full, or took longer than its timeout); the caller then goes
-- on without it (navixy.store.fallback). No operation raises for such
-- failures, and none takes longer than the store's timeout.
local core = require "navixy.core"
local registry = require "navixy.store.registry"

local M = {}

--- The store of a lua_shared_dict (inside nginx).
function M.ngx(dict_name)
  return require("navixy.store.ngx").new(dict_name)
end

--- The store of a Redis server: { host =, port =, password =, db =, prefix =,
-- timeout = } or { connect = function() return conn end, prefix =, timeout = }.
function M.redis(opts)
  return require("navixy.store.redis").new(opts)
end

-- What navixy.new accepts as `store`: made by the constructors above, which
-- register what they make (see navixy.store.registry).
M.register = registry.register

-- This process's id: random, made on first use, and again in a forked
-- process (an nginx worker forked after init_by_lua used it).
local id, id_pid

local function pid()
  local n = rawget(_G, "ngx")
  if type(n) == "table" and type(n.worker) == "table" and n.worker.pid then return n.worker.pid() end
  return 0 -- plain Lua does not fork
end

local function random_id()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(16) or ""
  if f then f:close() end
  -- without /dev/urandom: what differs between processes and moments
  return core.sha1hex(bytes .. tostring({}) .. string.format("%.9f", core.now()) .. os.time()
    .. os.clock() .. pid()):sub(1, 16)
end

--- An id for this process, unique among those sharing a store: it names the
-- owners of login locks and the clients sharing a rate.
function M.process_id()
  local p = pid()
  if not id or id_pid ~= p then id, id_pid = random_id(), p end
  return id
end

--- The name of an account's records: a digest of the base URL and the
-- account, so that no login or API key is ever written out in a key name.
function M.key(url, account)
  return core.sha1hex(url .. "\n" .. account)
end

return M

--- The store of a Redis server: one session and one rate limit for every
-- process and host that uses it (navixy.store.redis{ ... }). Contract:
-- navixy.store.
--
-- Every operation is one EVAL of one script: the rules of
-- navixy.store.rules (its source, sent as part of the script) applied to one
-- record inside Redis, which runs a script alone: atomic across every
-- client of the server. The clock is Redis's own (TIME), so the hosts need
-- no common clock; only relative waits come back.
--
-- Connections: inside nginx lua-resty-redis on cosockets (OpenResty's
-- resty.redis, or Debian's lua-nginx-redis, which installs it as
-- nginx.redis), kept in the worker's pool; elsewhere redis-lua (Debian:
-- lua-redis) over LuaSocket, one connection per store, made again after a
-- failure. `connect` replaces both: a function returning a connected client
-- object with an eval(script, numkeys, ...) method (raising or returning
-- nil, err on failure), asked for one each operation; when that object has
-- set_keepalive, it is called after use (a cosocket back to its pool).
local core = require "navixy.core"
local http1 = require "navixy.transport.http1"
local options = require "navixy.options"
local rules = require "navixy.store.rules"
local store = require "navixy.store"
local runtime = require "navixy.runtime"
local misuse = require("navixy.errors").misuse

local M = {}

M.SESSION_TTL = 31 * 86400 -- a session unused for 30 days has ended anyway
M.KEEPALIVE_MS = 60000     -- idle time of a pooled cosocket connection
M.POOL_SIZE = 32           -- pooled cosocket connections per worker
M.MAX_REPLY = 1024 * 1024  -- bytes of one bulk string in a reply (the script's are small)

-- The source of navixy.store.rules, from the file it was loaded from: the
-- script holds the very code the other stores run.
local function rules_source()
  local file = debug.getinfo(rules.reserve, "S").source:match("^@(.+)$")
  local f = file and io.open(file, "rb")
  if not f then
    misuse("navixy.store.redis needs the source file of navixy.store.rules (it runs inside Redis)")
  end
  local text = f:read("*a")
  f:close()
  return text
end

local SCRIPT_BODY = [==[
-- Redis before 5 replicates scripts by their text: TIME would then forbid writes
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local op, key = ARGV[1], KEYS[1]
local function none(s) if s == "" then return nil end return s end
if op == "reserve" then
  local rate = rules.unpack_rate(redis.call("GET", key) or nil)
  local wait, members = rules.reserve(rate, now, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
    ARGV[5] == "urgent", tonumber(ARGV[6]))
  redis.call("SET", key, rules.pack_rate(rate), "PX", math.ceil(rules.rate_ttl(rate, now) * 1000))
  return { string.format("%.6f", wait), members }
end
local rec = rules.unpack(redis.call("GET", key) or nil)
local keep = tonumber(ARGV[2])
if op == "claim" then
  local verdict = rules.claim(rec, now, ARGV[3], ARGV[4], tonumber(ARGV[5]), none(ARGV[6]), tonumber(ARGV[7]))
  if verdict == "login" then redis.call("SET", key, rules.pack(rec), "PX", keep) end
  return { verdict, rules.pack(rec) }
end
rules.settle(rec, now, none(ARGV[3]), rules.unpack(ARGV[4]))
redis.call("SET", key, rules.pack(rec), "PX", keep)
return "OK"
]==]

local script -- made once, when the first Redis store is

local Redis = {}
Redis.__index = Redis

--- opts: see navixy.store (checked by navixy.options).
function M.new(opts)
  local o = options.redis_store(opts)
  script = script or ("local rules = (function()\n" .. rules_source() .. "\nend)()\n" .. SCRIPT_BODY)
  local self = setmetatable({
    host = o.host, port = o.port, password = o.password, db = o.db, prefix = o.prefix,
    timeout = o.timeout, connect = o.connect,
  }, Redis)
  -- connections of other servers or databases never share a cosocket pool
  self.pool = ("navixy-redis:%s:%d:%d"):format(o.host, o.port, o.db or 0)
  return store.register(self)
end

function Redis:describe()
  if self.connect then return "redis (connect function)" end
  return ("redis %s:%d%s"):format(self.host, self.port, self.db and "/" .. self.db or "")
end

-- Error texts of the Lua Redis clients, made one line and never holding the
-- password (an AUTH error names the command, not its argument).
local function failure(self, why)
  why = tostring(why):gsub("^[^\n]-redis%.lua:%d+: ", ""):gsub("%s+", " ")
  if self.password then why = why:gsub(self.password:gsub("%p", "%%%0"), "***") end
  return self:describe() .. ": " .. why
end

---------------------------------------------------------------- connections

-- The cosocket client library, by either name it is installed under.
local function resty_redis()
  local ok, lib = pcall(require, "resty.redis")
  if ok then return lib end
  ok, lib = pcall(require, "nginx.redis")
  if ok then return lib end
  return nil, "lua-resty-redis is not installed (OpenResty bundles it; Debian: lua-nginx-redis)"
end

-- Calls method `name` of conn, whether the library raises or returns nil, err.
local function ask(conn, name, ...)
  local ok, res, err = pcall(conn[name], conn, ...)
  if not ok then return nil, res end
  if res == nil or res == false then return nil, err or (name .. " failed") end
  return res
end

-- The cosocket `sock` as lua-resty-redis uses it (send, receive of a line
-- or of n bytes), every read and write ending by `deadline`, and the reader
-- holding what came beyond the reply. lua-resty-redis gives each operation
-- its own timeout, which every byte that arrives starts again: a server that
-- trickles its reply would hold the caller for as long as it likes.
local function bounded(sock, deadline)
  local reader = http1.reader(sock, deadline)
  local b = {}
  function b.receive(_, what)
    if what == nil or what == "*l" then return reader:line(http1.MAX_LINE) end
    if type(what) ~= "number" or what > M.MAX_REPLY + 2 then return nil, "reply over the limit" end
    local parts = {}
    local ok, err = reader:exact(what, function(piece)
      parts[#parts + 1] = piece
      return true
    end)
    if not ok then return nil, err end
    return table.concat(parts)
  end
  function b.send(_, data)
    local ms = http1.left_ms(deadline)
    if not ms then return nil, "timeout" end
    sock:settimeout(ms)
    return sock:send(data)
  end
  return setmetatable(b, { __index = function(_, name) -- close, setkeepalive, ...: the socket's own
    return function(_, ...) return sock[name](sock, ...) end
  end }), reader
end

-- lua-resty-redis client -> { socket, reader } while it runs bounded
local bounded_of = setmetatable({}, { __mode = "k" })

function Redis:cosocket(deadline)
  local lib, why = resty_redis()
  if not lib then return nil, why end
  local conn = lib:new()
  conn:set_timeout(options.milliseconds(self.timeout))
  local ok, err = conn:connect(self.host, self.port, { pool = self.pool })
  if not ok then return nil, "connect: " .. tostring(err) end
  local sock = rawget(conn, "_sock")
  local wrapper, reader = bounded(sock, deadline)
  conn._sock = wrapper
  bounded_of[conn] = { sock = sock, reader = reader }
  if conn:get_reused_times() == 0 then -- a new connection: not yet logged in nor in its db
    if self.password then
      ok, err = ask(conn, "auth", self.password)
      if not ok then conn:close(); return nil, err end
    end
    if self.db then
      ok, err = ask(conn, "select", self.db)
      if not ok then conn:close(); return nil, err end
    end
  end
  return conn
end

-- Where Debian's lua-redis puts redis-lua (for 5.1-5.3: the same pure-Lua
-- file works on 5.4, which it does not install for).
local DEBIAN_COPIES = { "/usr/share/lua/5.3/redis.lua", "/usr/share/lua/5.2/redis.lua", "/usr/share/lua/5.1/redis.lua" }

-- Why require "redis" failed, and what to do: where this Lua looked, and a
-- copy that another Lua's path holds, when there is one.
local function redis_lua_missing(loader_error)
  local version = rawget(_G, "jit") and "LuaJIT" or _VERSION
  if not tostring(loader_error):find("module 'redis' not found", 1, true) then
    -- found, but it failed to load: the loader's own words
    return "redis-lua failed to load in " .. version .. ": " .. tostring(loader_error):gsub("%s+", " ")
  end
  local msg = "redis-lua (require \"redis\") is not on the path of " .. version .. ", which looked in "
    .. package.path
  for _, copy in ipairs(DEBIAN_COPIES) do
    local f = io.open(copy, "r")
    if f then
      f:close()
      return msg .. "; it is installed as " .. copy .. " (for another Lua): add that folder to this Lua's path, "
        .. "e.g. LUA_PATH='" .. copy:gsub("redis%.lua$", "?.lua") .. ";;' (the same file works on every Lua)"
    end
  end
  return msg .. "; install it (Debian: apt-get install lua-redis; LuaRocks: luarocks install redis-lua)"
end

function Redis:luasocket()
  if self.conn then return self.conn end
  local ok, lib = pcall(require, "redis")
  if not ok then return nil, redis_lua_missing(lib) end
  local conn
  ok, conn = pcall(lib.connect, { host = self.host, port = self.port, timeout = self.timeout })
  if not ok then return nil, conn end
  if self.password then
    local done, err = ask(conn, "auth", self.password)
    if not done then pcall(conn.quit, conn); return nil, err end
  end
  if self.db then
    local done, err = ask(conn, "select", self.db)
    if not done then pcall(conn.quit, conn); return nil, err end
  end
  self.conn = conn
  return conn
end

-- A connected client for one operation ending by `deadline` (core.now()'s
-- clock), and what to do with it after.
function Redis:connection(deadline)
  if self.connect then
    local ok, conn = pcall(self.connect)
    if not ok or conn == nil then return nil, ok and "the connect function returned nothing" or conn end
    return conn, "keep"
  end
  if runtime.in_nginx() then
    if not runtime.yieldable() then
      return nil, "no cosockets in nginx's " .. ngx.get_phase() .. " phase"
    end
    return self:cosocket(deadline)
  end
  return self:luasocket()
end

-- Done with conn: back to a pool, or dropped after a failure.
function Redis:release(conn, ok)
  if conn == self.conn then
    if not ok then
      self.conn = nil
      pcall(function() conn.network.socket:close() end)
    end
  elseif conn.set_keepalive then
    local b = bounded_of[conn]
    if b then -- back to the socket itself; bytes beyond the reply: not reusable
      bounded_of[conn] = nil
      conn._sock = b.sock
      if b.reader.pos <= #b.reader.buf then ok = false end
    end
    if ok then
      pcall(conn.set_keepalive, conn, M.KEEPALIVE_MS, M.POOL_SIZE)
    elseif conn.close then
      pcall(conn.close, conn)
    end
  end
end

-- One run of the script on record `kind` of `key`; returns its answer, or
-- nil, message, also when valid(answer) says it is not of the script's
-- shape: a server that is not Redis, or a proxy in between, may answer
-- anything, and that is a failure of the store like any other (never a
-- raise, never a nil wait), its connection dropped. Key names carry a hash
-- tag ({digest}): an account's records live on one node of a Redis Cluster.
function Redis:eval(key, kind, valid, ...)
  local conn, err = self:connection(core.now() + self.timeout)
  if not conn then return nil, failure(self, err) end
  if conn == self.conn then -- LuaSocket: one bound for the whole exchange
    pcall(function() conn.network.socket:settimeout(self.timeout, "t") end)
  end
  local res
  res, err = ask(conn, "eval", script, 1, self.prefix .. "{" .. key .. "}:" .. kind, ...)
  local ok = res ~= nil and valid(res)
  self:release(conn, ok)
  if res == nil then return nil, failure(self, err) end
  if not ok then return nil, failure(self, "an answer that is not the script's (" .. type(res) .. ")") end
  return res
end

---------------------------------------------------------------- the contract
-- The shape of each of the script's answers (see eval).

local function rate_answer(res)
  if type(res) ~= "table" then return false end
  local wait, members = tonumber(res[1]), tonumber(res[2])
  return wait ~= nil and members ~= nil and wait >= 0 and wait < math.huge and members >= 1
end

local VERDICTS = { adopt = true, refused = true, failed = true, wait = true, login = true }

local function claim_answer(res)
  return type(res) == "table" and VERDICTS[res[1]] ~= nil and type(res[2]) == "string"
end

local function settle_answer(res) return res == "OK" end

function Redis:reserve(key, member, limit, window, urgent, max_wait)
  local res, err = self:eval(key, "rate", rate_answer, "reserve", member, limit, window, urgent and "urgent" or "",
    max_wait or "")
  if not res then return nil, err end
  return tonumber(res[1]), tonumber(res[2])
end

local KEEP_MS = tostring(M.SESSION_TTL * 1000)

function Redis:claim(key, owner, ended, ttl, takeover, waited)
  local res, err = self:eval(key, "session", claim_answer, "claim", KEEP_MS, owner, ended, ttl, takeover or "",
    waited or "")
  if not res then return nil, err end
  return res[1], rules.unpack(res[2])
end

function Redis:settle(key, owner, change)
  local res, err = self:eval(key, "session", settle_answer, "settle", KEEP_MS, owner or "", rules.pack(change))
  if not res then return nil, err end
  return true
end

return M

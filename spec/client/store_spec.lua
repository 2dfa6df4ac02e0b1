-- store = S: one session and one rate limit per base URL and account, shared
-- by every client on the same store. Here the rules every store applies, and
-- the Redis store (the tests' own redis-server) from plain Lua: clients and
-- processes sharing it, what it keeps (never a password, never a login in a
-- key name), and its faults: unreachable, silent, full, back again.
local navixy = require "navixy"
local fake = require "fake"
local hostile_redis = require "hostile_redis"
local redis = require "redis_server"
local rules = require "navixy.store.rules"
local sockets = require "sockets"
local cjson = require "cjson"

local demo = fake.users.demo

local function login_client(opts)
  local o = { url = fake.url, login = demo.login, password = demo.password }
  for k, v in pairs(opts or {}) do o[k] = v end
  return navixy.new(o)
end

describe("the session record", function()
  it("is logged in for once: the first caller takes the lock, the others wait, then adopt", function()
    local rec = {}
    assert.equal("login", rules.claim(rec, 0, "a", rules.NONE, 30))
    assert.equal("wait", rules.claim(rec, 0, "b", rules.NONE, 30))
    rules.settle(rec, 0.1, "a", { hash = "h1" })
    assert.equal("adopt", rules.claim(rec, 0.2, "b", rules.NONE, 30))
    assert.is_nil(rec.owner)
  end)

  it("compares the ended hash: one re-login for all who failed on it", function()
    local rec = { hash = "h1" }
    assert.equal("login", rules.claim(rec, 0, "a", "h1", 30))
    assert.equal("wait", rules.claim(rec, 0, "b", "h1", 30))
    rules.settle(rec, 0.1, "a", { hash = "h2" })
    assert.equal("adopt", rules.claim(rec, 0.2, "b", "h1", 30)) -- h1 was replaced: no second login
    assert.same({ "h2", "h1" }, { rec.hash, rec.replaced })
    assert.equal("login", rules.claim(rec, 0.3, "c", rules.ANY, 30)) -- an explicit login always logs in
  end)

  it("lets a lock lapse, or be taken over from a login that cannot finish", function()
    local rec = {}
    rules.claim(rec, 0, "a", rules.NONE, 1)
    assert.equal("wait", rules.claim(rec, 0.5, "b", rules.NONE, 1))
    assert.equal("login", rules.claim(rec, 0.5, "b", rules.NONE, 1, "a"))
    assert.equal("login", rules.claim(rec, 2, "c", rules.NONE, 1)) -- b's lock lapsed
  end)

  it("remembers a refusal for everyone, and a failure for those who waited for it", function()
    local rec = {}
    rules.claim(rec, 0, "a", rules.NONE, 30)
    rules.settle(rec, 0, "a", { err_kind = "api", err_code = 102, refused_for = 60 })
    assert.equal("refused", rules.claim(rec, 59, "b", rules.NONE, 30))
    assert.equal("login", rules.claim(rec, 61, "b", rules.NONE, 30))
    local waited = rec.attempt
    rules.settle(rec, 61, "b", { err_kind = "timeout" })
    assert.equal("failed", rules.claim(rec, 62, "c", rules.NONE, 30, nil, waited))
    assert.equal("login", rules.claim(rec, 62, "d", rules.NONE, 30)) -- a newcomer tries again
    rules.settle(rec, 62, "d", { forget = true })
    assert.is_nil(rec.err_kind)
  end)

  it("travels as text, secrets and all bytes intact", function()
    local rec = { hash = "h\n1\t\\", attempt = 3, lock_until = 1796017178.561144, refused_until = math.huge,
                  err_description = "a\nb" }
    assert.same(rec, rules.unpack(rules.pack(rec)))
  end)
end)

describe("navixy.store.redis", function()
  setup(function() redis.ensure() end)
  teardown(function() redis.stop() end)
  before_each(function()
    redis.fresh()
    fake.reset()
  end)

  local function store(opts)
    local o = { port = redis.port, timeout = 0.5 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return navixy.store.redis(o)
  end

  it("gives clients of one account one login and one re-login", function()
    local s = store()
    local a, b = login_client { store = s }, login_client { store = s }
    assert(a.tracker.list())
    assert(b.tracker.list())
    assert.equal(1, fake.stats().logins)
    assert.equal(a:get_hash(), b:get_hash())
    fake.expire_sessions()
    assert(a.tracker.list())
    assert(b.tracker.list()) -- fails on the ended hash, adopts a's new one
    assert.equal(2, fake.stats().logins)
    assert.matches("store redis 127.0.0.1:" .. redis.port .. ")", tostring(a), 1, true)
  end)

  it("shares a refused login: the others send nothing", function()
    local s = store()
    local a = login_client { store = s, password = "wrong-pass" }
    local b = login_client { store = s, password = "wrong-pass" }
    assert.equal(102, select(2, a.tracker.list()).code)
    local _, err = b.tracker.list()
    assert.equal(102, err.code)
    assert.equal(0, err.attempts)
    assert.matches("earlier login was refused", err.description)
    assert.equal(1, fake.stats().logins)
    -- remembered for a minute at most, though a lone client keeps a 102 for good: a
    -- corrected password in another process must not stay refused
    local r = redis.raw()
    local rec = rules.unpack(r:get(r:keys("navixy:*:session")[1]))
    local now = tonumber(r:time()[1])
    assert.is_true(rec.refused_until > now + 50 and rec.refused_until <= now + 61, tostring(rec.refused_until))
    assert(b:login(demo.login, demo.password)) -- new credentials: a new login, the refusal gone
    assert(a.tracker.list()) -- and the account's session is everyone's
    assert.equal(2, fake.stats().logins)
  end)

  it("shares the rate limit between clients", function()
    fake.rate_limit(10)
    finally(function() fake.rate_limit(false) end)
    local s = store()
    local a = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 10, store = s }
    local b = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 10, store = s }
    local secs = sockets.timed(function()
      for _ = 1, 8 do assert(a.tracker.list()); assert(b.tracker.list()) end
    end)
    assert.is_true(secs >= 1, "16 calls at 10 a second took only " .. secs .. " s: two windows?")
    assert.equal(0, fake.stats().rate_limited)
  end)

  -- slots dated ahead of Redis's clock: a backward step of its clock, or a hand-edited
  -- record. They are pulled back to now (a window's wait at most), and a legitimate
  -- queue longer than the call's timeout is a timeout error at once, its slot not taken.
  it("bounds a wait for the rate limit by the call's timeout, whatever the record holds", function()
    local r = redis.raw()
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 1, timeout = 3,
      store = store() }
    assert(c.tracker.list())
    local key = r:keys("navixy:*:rate")[1]
    local function dated(offsets)
      local t = r:time()
      local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
      local out = {}
      for i, d in ipairs(offsets) do out[i] = string.format("%.6f", now + d) end
      r:set(key, table.concat(out, " "))
    end
    dated { 3600, 3600.5, 3601 } -- an hour ahead: a clock stepped back
    local secs = sockets.timed(function() assert(c.tracker.list()) end)
    assert.is_true(secs < sockets.bound(2.5), "waited " .. secs .. " s for slots an hour ahead")
    dated { 1, 2, 3, 4, 5 } -- a queue of five one-second windows: longer than timeout = 3
    local err
    secs = sockets.timed(function() err = select(2, c.tracker.list()) end)
    assert.equal("timeout", err and err.kind)
    assert.is_false(err.retryable)
    assert.matches("rate limit", err.description)
    assert.is_true(secs < sockets.bound(1), "waited " .. secs .. " s before the timeout error")
    assert.equal(5, #rules.unpack_rate(r:get(key)).times) -- no slot taken for it
    assert(c.tracker.list({}, { timeout = 10 })) -- a longer timeout waits its turn
  end)

  it("keeps keys named by a digest and never the password", function()
    local s = store { prefix = "test:" }
    assert(login_client { store = s, rate_limit = 5 }.tracker.list())
    local dump = redis.dump()
    assert.matches("^test:{%x+}:", dump)
    assert.no.matches(demo.login, dump, 1, true)
    assert.no.matches(demo.password, dump, 1, true)
  end)

  it("uses its database and password", function()
    local r = redis.raw()
    r:config("set", "requirepass", "redis-secret")
    finally(function()
      local again = require("redis").connect { host = "127.0.0.1", port = redis.port }
      again:auth("redis-secret")
      again:config("set", "requirepass", "")
    end)
    local events = {}
    local c = login_client { store = store { password = "redis-secret", db = 3 },
      on_request = function(info) events[#events + 1] = info.store_error or false end }
    assert(c.tracker.list())
    assert.same({ false, false }, events)
    local bad = login_client { store = store { password = "not-it" },
      on_request = function(info) events[#events + 1] = info.store_error or false end }
    assert(bad.tracker.list()) -- goes on alone
    assert.matches("redis 127.0.0.1:%d+: .*WRONGPASS", events[#events - 1] or events[#events])
    assert.no.matches("not-it", tostring(bad), 1, true)
  end)

  it("takes any connected client object with eval (connect)", function()
    local conn = redis.raw()
    local s = navixy.store.redis { connect = function() return conn end }
    assert(login_client { store = s }.tracker.list())
    assert(login_client { store = s }.tracker.list())
    assert.equal(1, fake.stats().logins)
  end)

  it("checks its options", function()
    assert.has_error(function() navixy.store.redis { prot = 1 } end,
      "navixy: unknown option of navixy.store.redis 'prot' (did you mean 'port'?)")
    assert.has_error(function() navixy.store.redis { port = 0 } end)
    assert.has_error(function() navixy.store.redis { connect = print, host = "x" } end)
    assert.has_error(function() navixy.new { url = fake.url, store = {} } end)
    assert.has_error(function() navixy.store.ngx("navixy") end) -- not inside nginx
  end)
end)

describe("a store that fails", function()
  before_each(fake.reset)

  it("unreachable: calls go on alone, the failure told once, and in tostring", function()
    local port = tonumber(sockets.refused())
    local events = {}
    local c = login_client { store = navixy.store.redis { port = port, timeout = 0.5 },
      on_request = function(info) events[#events + 1] = info.store_error or false end }
    for _ = 1, 3 do assert(c.tracker.list()) end
    assert.equal(1, fake.stats().logins)
    assert.matches("redis 127.0.0.1:" .. port .. ": .*refused", events[1])
    assert.same({ false, false, false }, { events[2], events[3], events[4] })
    assert.matches("failing %(.*%): on its own meanwhile", tostring(c))
  end)

  it("redis-lua not on this Lua's path: says where it looked and where a copy is", function()
    -- a Lua whose path holds no redis-lua (as Lua 5.4 with Debian's lua-redis,
    -- which installs it for 5.1-5.3 only)
    local out = require("local_files").lua_output(([[
      package.path = "lua/?.lua;lua/?/init.lua;/nonexistent/?.lua"
      local navixy = require "navixy"
      local c = navixy.new { url = %q, hash = %q, rate_limit = 5, store = navixy.store.redis { port = 1 } }
      assert(c:call("tracker/list"))
      print(tostring(c))
    ]]):format(fake.url, fake.api_key))
    assert.truthy(out:find('redis-lua (require "redis") is not on the path of ', 1, true), out)
    assert.truthy(out:find("which looked in lua/?.lua;lua/?/init.lua;/nonexistent/?.lua", 1, true), out)
    local copy = io.open("/usr/share/lua/5.1/redis.lua") -- Debian's lua-redis, installed for the tests
    if copy then
      copy:close()
      assert.truthy(out:find("it is installed as /usr/share/lua/5.%d/redis.lua %(for another Lua%): add that folder "
        .. "to this Lua's path, e.g. LUA_PATH='/usr/share/lua/5.%d/%?.lua;;'"), out)
    end
  end)

  it("silent: nothing waits on it longer than its timeout", function()
    local port, close = sockets.blackhole()
    port = tonumber(port)
    finally(close)
    local c = login_client { store = navixy.store.redis { port = port, timeout = 0.3 }, rate_limit = 20 }
    local secs = sockets.timed(function()
      for _ = 1, 5 do assert(c.tracker.list()) end
    end)
    assert.is_true(secs < sockets.bound(0.3 + 0.5), "took " .. secs .. " s")
  end)

  it("full: the same, and the shared path comes back when the store does", function()
    local r = redis.fresh()
    local events = {}
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 50,
      store = navixy.store.redis { port = redis.port, timeout = 0.5 },
      on_request = function(info) events[#events + 1] = info.store_error or false end }
    r:config("set", "maxmemory", "1")
    finally(function() r:config("set", "maxmemory", "64mb") end)
    assert(c.tracker.list())
    assert.matches("OOM", events[1])
    r:config("set", "maxmemory", "64mb")
    require("navixy.core").sleep(require("navixy.store.fallback").RETRY_AFTER)
    assert(c.tracker.list())
    assert.is_false(events[2])
    assert.no.matches("failing", tostring(c), 1, true)
  end)
end)

describe("a Redis store that answers wrongly", function()
  before_each(fake.reset)

  for _, mode in ipairs { "not_resp", "integer", "status", "short_array", "nested", "error",
                          "huge_bulk", "trickle", "drop" } do
    it(mode .. ": the client goes on alone, the failure told once, no call waits past its timeout", function()
      hostile_redis.with(mode, function(port)
        local events = {}
        local on_request = function(info) events[#events + 1] = info.store_error or false end
        local store = navixy.store.redis { port = port, timeout = 0.5 }
        -- the rate limit (reserve) and the session (claim, settle), each a client of its own
        local clients = {
          navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 50, store = store, on_request = on_request },
          login_client { store = store, on_request = on_request },
        }
        for _, c in ipairs(clients) do
          events = {}
          local secs = sockets.timed(function()
            for _ = 1, 3 do assert(c.tracker.list()) end
          end)
          assert.is_true(secs < sockets.bound(0.5 * 3 + 1), "took " .. secs .. " s")
          assert.matches("^redis 127%.0%.0%.1:" .. port .. ": ", events[1])
          for i = 2, #events do assert.is_false(events[i], events[i]) end
          assert.matches("failing %(.*%): on its own meanwhile", tostring(c))
        end
        assert.equal(1, fake.stats().logins)
      end)
    end)
  end
end)

describe("processes sharing Redis", function()
  setup(function() redis.ensure() end)
  teardown(function() redis.stop() end)
  before_each(function()
    redis.fresh()
    fake.reset()
    -- two processes at the full rate: the server's window absorbs a busy machine's jitter
    -- between a send and its arrival (fake.LOADED_WINDOW); limits kept per process are refused
    fake.rate_limit(20, { window = fake.LOADED_WINDOW })
  end)
  after_each(function() fake.rate_limit(false) end)

  -- Two plain Lua processes (Lua 5.4 and LuaJIT), n calls each.
  local function hosts(n)
    local root = fake.root
    local handles = {}
    for _, interpreter in ipairs { "lua5.4", "luajit" } do
      local env = ('LUA_PATH="%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/support/?.lua;;" LUA_CPATH="%s/build/%s/?.so;;"')
        :format(root, root, root, root, interpreter)
      local config = { url = fake.url, login = demo.login, password = demo.password, rate_limit = 20,
                       calls = n, concurrency = 10, redis = { port = redis.port, timeout = 0.5 } }
      handles[#handles + 1] = io.popen(("env -u LD_PRELOAD %s %s %s/spec/support/store-host '%s'")
        :format(env, interpreter, root, cjson.encode(config)))
    end
    return handles
  end

  local function summaries(handles)
    local out = {}
    for _, h in ipairs(handles) do
      out[#out + 1] = cjson.decode(h:read("*a"))
      h:close()
    end
    return out
  end

  it("log in once and keep to one rate limit, a session ending mid-way included", function()
    local running = hosts(20)
    -- the session ends once calls have been answered, whenever the processes got that far:
    -- a fixed second was, on a busy machine, sometimes before their first login. Of the 40
    -- calls, 20 fit in the first window: the rest wait a second, in which the session ends.
    assert.is_true(sockets.eventually(function() return fake.sent("tracker/get_state") > 0 end, 10))
    fake.expire_sessions()
    for _, s in ipairs(summaries(running)) do
      assert.equal(20, s.ok, table.concat(s.errors or {}, "\n"))
      assert.equal(0, s.refused)
    end
    assert.equal(2, fake.stats().logins)
    assert.equal(0, fake.stats().rate_limited)
  end)
end)

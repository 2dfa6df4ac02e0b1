-- One session and one rate limit per account across nginx workers and hosts,
-- on the real components: nginx with 4 workers sharing a lua_shared_dict, and
-- Redis (the tests' own redis-server) shared by two nginx instances and two
-- plain Lua processes (Lua 5.4 and LuaJIT) as if they were four hosts. Many
-- concurrent requests come from outside (curl --parallel); the fake Navixy
-- server enforces 50 requests in any one-second window per account (429 and
-- error 15 above it) and counts logins. Run by spec/support/run-tests, or:
--   lua5.4 /usr/bin/busted spec/ngx/shared_spec.lua   (starts what it needs)
local socket = require "socket"
local cjson = require "cjson"
local fake = require "fake"
local redis = require "redis_server"
local sockets = require "sockets"
local hostile_redis = require "hostile_redis"
local example = require "nginx_example"

local demo = fake.users.demo
local RATE, CALLS = 50, 400
-- The server counts RATE arrivals per fake.LOADED_WINDOW (see fake.lua).
local SERVER_WINDOW = fake.LOADED_WINDOW
-- Seconds the 400 calls may take. The issue's target, 1.15 × 400/50 s, is a
-- time and belongs to `make bench`, which runs these tests with
-- NAVIXY_STORE_TARGET=1.15; here, on a machine that runs the sanitizers
-- beside, a bound that still catches a limiter holding calls back for good.
local FACTOR = tonumber(os.getenv("NAVIXY_STORE_TARGET")) or 2
local BOUND = FACTOR * CALLS / RATE
local PORT = tonumber(os.getenv("NAVIXY_STORE_NGX_PORT")) or redis.port + 10 -- and PORT + 1, PORT + 2
local root = fake.root

local local_files = require "local_files"
local read, sh = local_files.read, local_files.output_trimmed

local function ok(r) return r == true or r == 0 end

-- lua-resty-redis as Debian's lua-nginx-redis has it (nginx.redis), unpacked
-- by .ci/deps into build/deps/ (the package itself would pull in nginx-extras)
local RESTY = root .. "/build/deps/lua-nginx-redis/usr/share/lua/5.1"
local USER = sh("id -u") == "0" and "user root;" or ""


local port_open = require("sockets").port_open

-- An nginx of spec/ngx/store.conf.in on `port` with `workers` workers, each
-- with a client made from `config` (see store_harness.lua); stop() ends it.
local function nginx(name, port, workers, config)
  local dir = root .. "/build/store-" .. name
  assert(ok(os.execute("mkdir -p " .. dir .. "/tmp")))
  assert(not port_open(port), "port " .. port .. " is taken")
  local conf = read(root .. "/spec/ngx/store.conf.in"):gsub("@(%u+)@", {
    DIR = dir, REPO = root, PORT = tostring(port), WORKERS = tostring(workers), USER = USER,
    RESTY = RESTY, CONFIG = cjson.encode(config),
  })
  local f = assert(io.open(dir .. "/nginx.conf", "wb"))
  f:write(conf)
  f:close()
  -- never the sanitizers' LD_PRELOAD of a check-memory run: nginx is not under test
  assert(ok(os.execute(("env -u LD_PRELOAD nginx -p %s/ -c %s/nginx.conf -e %s/error.log"):format(dir, dir, dir))),
    "nginx did not start: see " .. dir .. "/error.log")
  for _ = 1, 50 do
    if port_open(port) then break end
    socket.sleep(0.1)
  end
  local instance = { port = port, dir = dir }
  function instance.stop()
    local pid = sh("cat " .. dir .. "/nginx.pid 2>/dev/null")
    if pid == "" then return end
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 50 do
      if not ok(os.execute("kill -0 " .. pid .. " 2>/dev/null")) then break end
      socket.sleep(0.1)
    end
    os.execute("rm -f " .. dir .. "/nginx.pid")
  end
  function instance.describe()
    local status, body = fake.http("GET", "http://127.0.0.1:" .. port .. "/describe")
    assert.equal(200, status)
    return cjson.decode(body).client
  end
  return instance
end

-- The config of a client inside nginx or in a store-host.
local function config(store, extra)
  local c = { url = fake.url, login = demo.login, password = demo.password, rate_limit = RATE, store = store,
              redis = { port = redis.port, timeout = 0.5 } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- `n` calls through nginx on `port`, all requests sent at once (at most 300 in
-- flight); started now, read by results().
local function through_nginx(port, n)
  return io.popen(("curl -s --no-progress-meter --max-time 120 --parallel --parallel-immediate --parallel-max 300 "
    .. "'http://127.0.0.1:%d/call?[1-%d]'"):format(port, n))
end

-- A plain Lua process making `n` calls (a batch) with the store in Redis.
local function lua_host(interpreter, n)
  local flavour = interpreter == "luajit" and "luajit" or "lua5.4"
  local env = ('LUA_PATH="%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/support/?.lua;;" LUA_CPATH="%s/build/%s/?.so;;"')
    :format(root, root, root, root, flavour)
  return io.popen(("env -u LD_PRELOAD %s %s %s/spec/support/store-host '%s'"):format(env, interpreter, root,
    cjson.encode(config(nil, { calls = n, concurrency = 50 }))))
end

-- What the started drivers answered: one table per call (nginx) or per
-- process (store-host), added up.
local function results(handles)
  local total = { ok = 0, failed = 0, errors = {}, refused = 0, store_errors = {}, workers = {}, processes = 0 }
  for _, h in ipairs(handles) do
    for line in h:lines() do
      local r = cjson.decode(line)
      if r.calls == nil and r.elapsed == nil then -- one call through nginx
        if r.ok then total.ok = total.ok + 1 else total.failed = total.failed + 1; table.insert(total.errors, r.err) end
        total.workers[r.worker] = true
        total.refused = total.refused + r.refused
        if r.store_error then table.insert(total.store_errors, r.store_error) end
      else -- a store-host's summary
        total.processes = total.processes + 1
        total.ok, total.failed = total.ok + r.ok, total.failed + r.failed
        for _, e in ipairs(r.errors or {}) do table.insert(total.errors, e) end
        total.refused = total.refused + r.refused
        for _, e in ipairs(r.store_errors or {}) do table.insert(total.store_errors, e) end
      end
    end
    h:close()
  end
  total.worker_count = 0
  for _ in pairs(total.workers) do total.worker_count = total.worker_count + 1 end
  return total
end

-- The measured ratio elapsed / (N / rate), kept for the report of the run.
local function note(what, elapsed)
  os.execute("mkdir -p " .. root .. "/build/results")
  local f = io.open(root .. "/build/results/store-timings.txt", "a")
  if f then
    f:write(("%s: %d calls at %d/s in %.2f s: ratio %.3f (target <= 1.15)\n")
      :format(what, CALLS, RATE, elapsed, elapsed / (CALLS / RATE)))
    f:close()
  end
end

local function check_run(total, elapsed)
  assert.equal(0, total.failed, table.concat(total.errors, "\n"))
  assert.equal(CALLS, total.ok)
  local stats = fake.stats()
  assert.equal(0, stats.rate_limited, "the server refused " .. stats.rate_limited .. " requests")
  assert.equal(0, total.refused)
  assert.is_true(fake.rate_stats().accounts["user:1"].max_in_window <= RATE)
  if elapsed then assert.is_true(elapsed <= BOUND, ("took %.2f s, more than %.2f s"):format(elapsed, BOUND)) end
  return stats
end

describe("four nginx workers sharing a lua_shared_dict", function()
  local instance
  setup(function()
    fake.ensure()
    instance = nginx("dict", PORT, 4, config("ngx"))
  end)
  teardown(function() instance.stop() end)
  before_each(function()
    fake.reset()
    fake.rate_limit(RATE, { window = SERVER_WINDOW })
  end)
  after_each(function() fake.rate_limit(false) end)

  it("400 calls at rate_limit = 50: no 429, one login, within the bound (make bench: 1.15 × 400/50 s)", function()
    local t0 = socket.gettime()
    local total = results { through_nginx(instance.port, CALLS) }
    local elapsed = socket.gettime() - t0
    note("4 nginx workers, lua_shared_dict", elapsed)
    assert.equal(4, total.worker_count, "the calls did not spread over the 4 workers")
    assert.equal(1, check_run(total, elapsed).logins)
    assert.matches("store lua_shared_dict navixy_store)", instance.describe(), 1, true)
  end)

  it("a session ended by the server mid-run: exactly one re-login across the workers", function()
    local run = through_nginx(instance.port, CALLS)
    socket.sleep(3)
    fake.expire_sessions()
    local total = results { run }
    assert.equal(4, total.worker_count)
    assert.equal(2, check_run(total).logins)
  end)
end)

describe("two nginx instances and two Lua processes sharing Redis", function()
  local a, b
  setup(function()
    fake.ensure()
    redis.ensure()
    a = nginx("redis-a", PORT, 2, config("redis"))
    b = nginx("redis-b", PORT + 1, 2, config("redis"))
  end)
  teardown(function()
    a.stop()
    b.stop()
    redis.stop()
  end)
  before_each(function()
    redis.fresh()
    fake.reset()
    fake.rate_limit(RATE, { window = SERVER_WINDOW })
  end)
  after_each(function() fake.rate_limit(false) end)

  local function run_all()
    return { through_nginx(a.port, CALLS / 4), through_nginx(b.port, CALLS / 4),
             lua_host("lua5.4", CALLS / 4), lua_host("luajit", CALLS / 4) }
  end

  it("400 calls at rate_limit = 50: no 429, one login, within the bound (make bench: 1.15 × 400/50 s)", function()
    local t0 = socket.gettime()
    local total = results(run_all())
    local elapsed = socket.gettime() - t0
    note("2 nginx instances + 2 Lua processes, Redis", elapsed)
    assert.equal(2, total.processes)
    assert.equal(6, total.worker_count + total.processes, "2 workers of each nginx, 2 processes")
    assert.same({}, total.store_errors)
    assert.equal(1, check_run(total, elapsed).logins)
  end)

  it("a session ended by the server mid-run: exactly one re-login across every host", function()
    local runs = run_all()
    socket.sleep(3)
    fake.expire_sessions()
    assert.equal(2, check_run(results(runs)).logins)
  end)

  it("Redis stopped mid-run and started again: no call lost or failed because of it", function()
    local runs = run_all()
    socket.sleep(2)
    redis.stop()
    socket.sleep(2)
    redis.start()
    local total = results(runs)
    assert.equal(0, total.failed, table.concat(total.errors, "\n"))
    assert.equal(CALLS, total.ok)
    assert.is_true(#total.store_errors >= 1, "no client reported the store's failure")
    assert.matches("redis 127.0.0.1:" .. redis.port .. ": ", total.store_errors[1], 1, true)
    -- the shared path is back: the hosts use Redis again
    local after = results { through_nginx(a.port, 8), through_nginx(b.port, 8) }
    assert.equal(16, after.ok)
    assert.no.matches("failing", a.describe(), 1, true)
    assert.no.matches("failing", b.describe(), 1, true)
    assert.matches(":rate = ", redis.dump(), 1, true) -- (Redis came back empty)
  end)
end)

-- A wait for the rate limit inside nginx (cosockets to Redis, ngx.sleep) is
-- bounded by the call's timeout as with curl (spec/store_spec.lua): slots an
-- hour ahead of Redis's clock count as given now, and a queue longer than the
-- timeout is a timeout error at once.
describe("a worker whose Redis record holds slots ahead of the clock", function()
  local instance
  setup(function()
    fake.ensure()
    redis.ensure()
    instance = nginx("redis-ahead", PORT + 2, 1, config("redis", { rate_limit = 1, timeout = 3 }))
  end)
  teardown(function()
    instance.stop()
    redis.stop()
  end)

  local function call()
    local t0 = socket.gettime()
    local status, body = fake.http("GET", "http://127.0.0.1:" .. instance.port .. "/call")
    assert.equal(200, status)
    return cjson.decode(body), socket.gettime() - t0
  end

  it("waits a window at most for slots an hour ahead; a queue past the timeout fails at once", function()
    local r = redis.fresh()
    fake.reset()
    assert.is_true(call().ok)
    local key = r:keys("navixy:*:rate")[1]
    local function dated(offsets)
      local t = r:time()
      local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
      local out = {}
      for i, d in ipairs(offsets) do out[i] = ("%.6f"):format(now + d) end
      r:set(key, table.concat(out, " "))
    end
    dated { 3600, 3600.5, 3601 }
    local res, secs = call()
    assert.is_true(res.ok, res.err)
    -- slots an hour ahead would hold it past its timeout of 3 s
    assert.is_true(sockets.below(secs, 3), "waited " .. secs .. " s for slots an hour ahead")
    dated { 1, 2, 3, 4, 5 }
    res, secs = call()
    assert.matches("timeout.*rate limit", res.err)
    assert.is_true(sockets.below(secs, 3), "waited " .. secs .. " s before the timeout error")
  end)
end)

describe("a lua_shared_dict store after a worker died", function()
  local instance
  local TIMEOUT = 3 -- the clients' timeout: also how long a login may hold the login lock

  local function call(path)
    local status, body = fake.http("GET", "http://127.0.0.1:" .. PORT .. (path or "/call"))
    assert.equal(200, status, body)
    return cjson.decode(body)
  end

  before_each(function()
    fake.ensure()
    fake.reset()
    instance = nginx("dict-dead", PORT, 1, config("ngx", { timeout = TIMEOUT }))
  end)
  after_each(function() instance.stop() end)

  it("holding a record's lock: the lock lapses and the next call goes through, no store error", function()
    assert.is_true(call().ok)
    assert.equal(2, call("/hold_locks").held) -- the session and the rate records
    local t0 = socket.gettime()
    local r = call()
    local elapsed = socket.gettime() - t0
    assert.is_true(r.ok, r.err)
    assert.is_nil(r.store_error)
    -- LOCK_TTL is 0.5 s; a lock that never lapsed would hold the call to its timeout
    assert.is_true(sockets.below(elapsed, TIMEOUT), ("took %.2f s"):format(elapsed))
    assert.equal(1, fake.stats().logins)
  end)

  it("in the middle of a login: the next worker logs in once the dead one's login lock lapses", function()
    fake.fault { action = "user/auth", type = "delay", seconds = 30 }
    local first = io.popen(("curl -s --max-time 60 http://127.0.0.1:%d/call"):format(PORT))
    local deadline = socket.gettime() + 5
    while fake.stats().logins == 0 and socket.gettime() < deadline do socket.sleep(0.05) end
    assert.equal(1, fake.stats().logins, "the first login did not start")
    local master = sh("cat " .. instance.dir .. "/nginx.pid")
    local worker = sh("ps -o pid= --ppid " .. master):match("^%s*(.-)%s*$") -- ps pads pids to a width
    assert.truthy(worker:match("^%d+$"), worker)
    os.execute("kill -KILL " .. worker) -- dies holding the login lock; the master starts another
    first:close()
    deadline = socket.gettime() + 5
    while sh("ps -o pid= --ppid " .. master) == "" and socket.gettime() < deadline do socket.sleep(0.05) end
    local t0 = socket.gettime()
    local r = call()
    local elapsed = socket.gettime() - t0
    assert.is_true(r.ok, r.err)
    assert.equal(2, fake.stats().logins)
    assert.is_true(elapsed < TIMEOUT * 2 + 1, ("took %.2f s"):format(elapsed))
  end)
end)

describe("a Redis store that answers wrongly, on cosockets (lua-resty-redis)", function()
  before_each(function()
    fake.ensure()
    fake.reset()
  end)

  -- spec/support/hostile-redis: garbage, too slow, or closed mid-EVAL
  for _, mode in ipairs { "not_resp", "integer", "short_array", "nested", "huge_bulk", "trickle", "drop" } do
    it(mode .. ": the worker goes on alone, the failure told once, no call waits past its timeout", function()
      hostile_redis.with(mode, function(port)
        local instance = nginx("hostile-" .. mode, PORT, 1,
          config("redis", { redis = { port = port, timeout = 0.5 }, rate_limit = 20 }))
        local done, err = pcall(function()
          local answers = {}
          local t0 = socket.gettime()
          for i = 1, 3 do
            local status, body = fake.http("GET", "http://127.0.0.1:" .. PORT .. "/call")
            assert.equal(200, status, body)
            answers[i] = cjson.decode(body)
          end
          local elapsed = socket.gettime() - t0
          -- a trickle re-arms lua-resty-redis's timeout with every byte: 5 s for a reply
          assert.is_true(sockets.below(elapsed, 5), ("took %.2f s"):format(elapsed))
          for i = 1, 3 do assert.is_true(answers[i].ok, answers[i].err) end
          assert.matches("redis 127.0.0.1:" .. port .. ": ", answers[1].store_error, 1, true)
          assert.same({ cjson.null, cjson.null }, { answers[2].store_error or cjson.null,
                                                    answers[3].store_error or cjson.null })
          assert.equal(1, fake.stats().logins)
        end)
        instance.stop()
        if not done then error(err, 0) end
      end)
    end)
  end
end)

describe("the shared-state guide's examples", function()
  local shown_in = require("docs").showing

  before_each(function()
    fake.ensure()
    fake.reset()
  end)

  it("examples/nginx-shared.conf, as printed: four workers, one login, [] kept", function()
    local text = read(root .. "/examples/nginx-shared.conf")
    assert.equal("docs/shared-state.md", shown_in("```nginx\n" .. text .. "```", root))
    local dir, port = root .. "/build/store-example", PORT + 2
    example.prepare("nginx-shared", dir, port)
    -- only the documented environment: the account, and the fake's URL (plain HTTP on
    -- loopback: the system CA bundle the file names does not vouch for the fake)
    local stop = example.start(dir, port, { NAVIXY_LOGIN = demo.login, NAVIXY_PASSWORD = demo.password,
      NAVIXY_URL = fake.url })
    finally(stop)
    local p = io.popen(("curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max 60 "
      .. "'http://127.0.0.1:%d/state?id=1&[1-60]'"):format(port))
    local n = 0
    for line in p:lines() do
      assert.equal("parked", cjson.decode(line).movement_status, line .. "\n" .. example.errors(dir))
      assert.truthy(line:find('"inputs":[]', 1, true), line) -- not {}
      n = n + 1
    end
    p:close()
    assert.equal(60, n)
    assert.equal(1, fake.stats().logins)
  end)

  it("examples/shared-redis.lua, as printed: hosts at once, one login", function()
    local text = read(root .. "/examples/shared-redis.lua")
    assert.equal("docs/shared-state.md", shown_in("```lua\n" .. text .. "```", root))
    redis.ensure()
    finally(redis.stop)
    local runs = {}
    for _, interpreter in ipairs { "lua5.4", "luajit", "lua5.4" } do
      local env = ('LUA_PATH="%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/support/?.lua;;" LUA_CPATH="%s/build/%s/?.so;;"')
        :format(root, root, root, root, interpreter)
      -- redis_server makes Debian's redis-lua loadable on 5.4 (see docs/shared-state.md)
      runs[#runs + 1] = io.popen(("env -u LD_PRELOAD %s NAVIXY_URL=%s NAVIXY_LOGIN=%s NAVIXY_PASSWORD=%s "
        .. "REDIS_PORT=%d "
        .. "%s -l redis_server %s/examples/shared-redis.lua")
        :format(env, fake.url, demo.login, demo.password, redis.port, interpreter, root))
    end
    for _, h in ipairs(runs) do
      local out = h:read("*a")
      h:close()
      assert.equal("1\tparked\n2\tparked\n"
        .. "3\tnavixy: tracker/get_state: api error 208 (HTTP 403): Device blocked\n", out)
    end
    assert.equal(1, fake.stats().logins)
  end)
end)

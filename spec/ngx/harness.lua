-- The Lua side of the test nginx (spec/ngx/nginx.conf.in): locations that use
-- the navixy module as an application would, and report what happened as
-- JSON for spec/ngx/nginx_spec.lua. Runs inside nginx (LuaJIT, ngx_lua).
local cjson = require "cjson.safe"
local navixy = require "navixy"

local M = {}

-- What the fake server's URLs and key are; set by init() from the config.
local env = {}

-- on_request events of the current request (ngx.ctx), or of the init phase.
local init_events = {}

local function events()
  local ctx = require("navixy.runtime").request() -- nil in the init phase
  if not ctx then return init_events end
  ctx.events = ctx.events or {}
  return ctx.events
end

local function record(info) table.insert(events(), info) end

-- An error as plain JSON-able fields (the error object has a metatable).
local function render_err(err)
  if err == nil then return nil end
  if not navixy.is_error(err) then return { raised = tostring(err) } end
  return {
    kind = err.kind, code = err.code, status = err.status, description = err.description,
    retryable = err.retryable, attempts = err.attempts, phase = err.phase, action = err.action,
    retry_after = err.retry_after, text = tostring(err),
  }
end

local function new_client(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.on_request = record
  return navixy.new(o)
end

local function reply(t)
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode(t))
end

local function json_body()
  ngx.req.read_body()
  return cjson.decode(ngx.req.get_body_data() or "{}") or {}
end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- The clients of this worker process, made in init_worker_by_lua as the
-- README recommends: `auto` picks the transport by the phase of each call.
local worker = {}
local shared = {} -- clients of /call kept by name across requests

-- A client made in init_by_lua and first called by requests: the phase of
-- the call decides its transport, not the phase it was made in.
local from_init

--- init_by_lua: a call from the master process while nginx starts (no
-- cosockets here: the client must fall back to libcurl), and an explicit
-- transport = "ngx" client, which must refuse to run here.
function M.init(config)
  env = config
  from_init = new_client { url = env.url, hash = env.key }
  local c = new_client { url = env.url, hash = env.key }
  local t0 = now()
  local res, err = c.tracker.list()
  M.init_result = {
    phase = ngx.get_phase(), ok = res ~= nil, count = res and #res.list, err = render_err(err),
    elapsed = now() - t0, events = init_events,
  }
  c:close()
  local forced = navixy.new { url = env.url, hash = env.key, transport = "ngx" }
  local ok, raised = pcall(forced.call, forced, "tracker/list")
  M.init_result.forced_ngx = { ok = ok, raised = not ok and tostring(raised) or nil }
  forced:close()
end

function M.init_worker()
  worker.auto = new_client { url = env.url, hash = env.key }
  worker.curl = new_client { url = env.url, hash = env.key, transport = "curl" }
end

function M.init_report() reply(M.init_result) end

--- GET /from-init: one call through the client made in init_by_lua.
function M.from_init()
  local res, err = from_init.tracker.list()
  reply { ok = res ~= nil, err = render_err(err), events = events() }
end

-- What JSON cannot carry, made from what it can: call_opts.sink = "count"
-- is a function counting the bytes it gets (the count is in the reply), a
-- string a path; req.files = { name = { data =, filename =, content_type = }
-- } are navixy.file params.
local function prepare_call(req, counted)
  if req.call_opts and req.call_opts.sink == "count" then
    req.call_opts.sink = function(chunk)
      counted.bytes = counted.bytes + #chunk
      counted.chunks = counted.chunks + 1
    end
  end
  for name, f in pairs(req.files or {}) do
    req.params = req.params or {}
    req.params[name] = navixy.file(f.data, { data = true, filename = f.filename, content_type = f.content_type })
  end
end

--- POST /call {opts, shared, action, params, call_opts, times, files}: the
-- call made `times` times (default 1) in a row by one client, fresh or shared
-- by name.
function M.call()
  local req = json_body()
  local counted = { bytes = 0, chunks = 0 }
  prepare_call(req, counted)
  local c
  if req.shared then
    c = shared[req.shared]
    if not c then
      c = new_client(req.opts)
      shared[req.shared] = c
    end
  else
    local ok, made = pcall(new_client, req.opts)
    if not ok then return reply { raised = tostring(made) } end
    c = made
  end
  local calls = {}
  local t0 = now()
  for i = 1, req.times or 1 do
    local started = now()
    local ok, res, err = pcall(c.call, c, req.action, req.params, req.call_opts)
    if not ok then
      calls[i] = { raised = tostring(res) }
    else
      calls[i] = { res = res, err = render_err(err), elapsed = now() - started }
    end
  end
  if not req.shared then c:close() end
  reply { calls = calls, events = events(), elapsed = now() - t0, pid = ngx.worker.pid(), counted = counted }
end

-- One step of /methods: client:name(arg, ...), or for "pages" (an iterator)
-- the loop over client:pages(arg, ...), giving the items it handed over. An
-- argument { file = { data =, filename =, content_type = } } is a navixy.file.
local function step_of(c, step)
  for i, arg in ipairs(step) do
    if type(arg) == "table" and type(arg.file) == "table" then
      step[i] = navixy.file(arg.file.data, { data = true, filename = arg.file.filename,
        content_type = arg.file.content_type })
    end
  end
  if step[1] == "pages" then
    return pcall(function()
      local items = {}
      for item in c:pages((table.unpack or unpack)(step, 2)) do items[#items + 1] = item end
      return items
    end)
  end
  return pcall(c[step[1]], c, (table.unpack or unpack)(step, 2))
end

--- POST /methods {opts, steps = { { "name", arg, ... }, ... }}: one client
-- runs client:name(arg, ...) for each step in turn (get_history, resend_code,
-- verify_code, pages, get_report, ...); each step's res and err rendered, or
-- what it raised.
function M.methods()
  local req = json_body()
  local ok, c = pcall(new_client, req.opts)
  if not ok then return reply { raised = tostring(c) } end
  local steps = {}
  for i, step in ipairs(req.steps) do
    local done, res, err = step_of(c, step)
    steps[i] = done and { res = res, err = render_err(err) } or { raised = tostring(res) }
  end
  local text = tostring(c)
  c:close()
  reply { steps = steps, events = events(), text = text }
end

--- POST /siblings {opts, read}: client:dwh() reads `read` as CSV, asks for a tracker
-- that is not there (an RFC 7807 problem), and client:eco_fleet() resamples (a POST
-- with a query and Accept: text/csv).
function M.siblings()
  local req = json_body()
  local ok, c = pcall(new_client, req.opts)
  if not ok then return reply { raised = tostring(c) } end
  local csv_accept = { headers = { Accept = "text/csv" } }
  local csv, err1 = c:dwh():call("tracker/raw_data/read", req.read, csv_accept)
  local _, problem = c:dwh():call("tracker/raw_data/get_inputs", { tracker_id = 99 })
  local eco, err2 = c:eco_fleet():call("trackers/1/resampling", { step_size = 10 },
    { query = { interval = "PT1H/2020-12-31T00:00Z" }, headers = { Accept = "text/csv" } })
  c:close()
  reply { csv = csv and { content_type = csv.content_type } or render_err(err1), problem = render_err(problem),
          eco = eco and { content_type = eco.content_type } or render_err(err2), events = events() }
end

--- POST /catalogue {opts, topic, namespace}: what a program finds out
-- inside nginx: navixy.help's text on `topic`, tostring of the client's
-- namespace `namespace` ("tracker") and the names pairs() gives of it.
function M.catalogue()
  local req = json_body()
  local c = new_client(req.opts)
  local ns, names = c[req.namespace], {}
  for name in pairs(ns) do -- with __pairs (LuaJIT built for 5.2 compatibility), else raw keys
    if type(name) == "string" then names[#names + 1] = name end
  end
  local text = tostring(ns)
  c:close()
  reply { help = require("navixy.help").topic(req.topic), namespace = text, names = names,
          actions = navixy.actions(req.namespace) }
end

--- POST /dict-full {opts}: a client whose store is the tiny lua_shared_dict
-- navixy_tiny, filled with other keys until it takes no more: two calls, its
-- text; then the dict emptied and, after the fallback's pause, one more call.
-- The on_request events show store_error.
function M.dict_full()
  local req = json_body()
  local dict = ngx.shared.navixy_tiny
  dict:flush_all()
  dict:flush_expired()
  local filler, n = ("x"):rep(100), 0
  while true do
    local ok, err = dict:safe_set("filler:" .. n, filler)
    if not ok then
      if err ~= "no memory" then error(err) end
      break
    end
    n = n + 1
  end
  local opts = req.opts
  opts.store = navixy.store.ngx("navixy_tiny")
  local c = new_client(opts)
  local calls = {}
  for i = 1, 2 do
    local res, err = c:call("tracker/list")
    calls[i] = { ok = res ~= nil, err = render_err(err) }
  end
  local full_text = tostring(c)
  dict:flush_all()
  dict:flush_expired()
  ngx.sleep(require("navixy.store.fallback").RETRY_AFTER + 0.05)
  local res, err = c:call("tracker/list")
  calls[3] = { ok = res ~= nil, err = render_err(err) }
  local in_dict = false -- the client's records are in the dict again
  for _, key in ipairs(dict:get_keys(0)) do
    if key:find("^navixy:") then in_dict = true end
  end
  local after_text = tostring(c)
  c:close()
  reply { fillers = n, calls = calls, events = events(), full_text = full_text,
          after_text = after_text, shared = in_dict }
end

--- POST /panel-user {opts, shared, panel_action, user_id, action, params}: a panel
-- client calls `panel_action`, then the user API client of
-- panel:user_session(user_id) calls `action`. With `shared`, both clients are
-- kept across requests (the user client's session is then renewed through the
-- panel by a later request).
function M.panel_user()
  local req = json_body()
  local kept = req.shared and shared[req.shared]
  if not kept then
    kept = { panel = new_client(req.opts) }
    if req.shared then shared[req.shared] = kept end
  end
  local out = { events = events() }
  if req.panel_action then
    local res, err = kept.panel:call(req.panel_action)
    out.panel = { res = res, err = render_err(err), hash = kept.panel:get_hash() }
  end
  if not kept.user then
    local user, err = kept.panel:user_session(req.user_id)
    if not user then
      out.session_err = render_err(err)
      return reply(out)
    end
    kept.user = user
  end
  local res, err = kept.user:call(req.action, req.params)
  out.user = { res = res, err = render_err(err), hash = kept.user:get_hash(), text = tostring(kept.user) }
  if not req.shared then
    kept.user:close()
    kept.panel:close()
  end
  reply(out)
end

--- POST /abandon-login {opts, shared}: the shared client's first call (a lazy
-- login) starts in a light thread, and the request ends at once with
-- ngx.exit, which kills the thread mid-login.
function M.abandon_login()
  local req = json_body()
  local c = shared[req.shared]
  if not c then
    c = new_client(req.opts)
    shared[req.shared] = c
  end
  ngx.thread.spawn(function() return c.tracker.list() end)
  ngx.sleep(0.2) -- the login's request is at the server by now
  ngx.say('{"left":true}')
  return ngx.exit(ngx.HTTP_OK)
end

--- POST /subscribe {opts, requests, sub_opts, collect, timeout, reads, for_secs,
-- zero_backoff}: a subscription made and read in this request (content phase:
-- cosockets) until `collect` messages (default 1) came or a read ended without
-- one (its error is in the reply); then closed. With `reads` or `for_secs`,
-- timeouts do not stop it: it reads at most `reads` times, for `for_secs`
-- seconds. zero_backoff: the retry backoff's random draw is 0 meanwhile (every
-- backoff 0 s). Replies with the messages, the on_status notices, tostring(sub)
-- while it was open, how long it took, and how long each read took (`times`).
function M.subscribe()
  local req = json_body()
  local c = new_client(req.opts)
  local statuses, messages, times = {}, {}, {}
  local sub_opts = req.sub_opts or {}
  sub_opts.on_status = function(info) statuses[#statuses + 1] = info end
  local ok, sub = pcall(c.subscribe, c, req.requests, sub_opts)
  if not ok then
    c:close()
    return reply { raised = tostring(sub) }
  end
  local random = math.random
  if req.zero_backoff then rawset(math, "random", function() return 0 end) end
  local t0, err = now(), nil
  local patient = req.reads or req.for_secs
  while #messages < (req.collect or 1) and #times < (req.reads or math.huge)
    and now() - t0 < (req.for_secs or math.huge) do
    local t1 = now()
    local msg, e = sub:next(req.timeout or 5)
    times[#times + 1] = now() - t1
    if msg then
      messages[#messages + 1] = msg
    else
      err = e
      if not patient or e.kind ~= "timeout" then break end
    end
  end
  rawset(math, "random", random)
  local text = tostring(sub)
  sub:close()
  c:close()
  reply { messages = messages, err = render_err(err), statuses = statuses, text = text, elapsed = now() - t0,
          times = times }
end

--- POST /batch {opts, calls, concurrency}: client:batch, its items rendered.
-- With `each`, the results come through client:each: `order` lists the
-- indexes as they came, `most_held` how many results were alive at most at
-- any one time (weak table, full collections between results).
function M.batch()
  local req = json_body()
  local c = new_client(req.opts)
  local t0 = now()
  local out, order, alive, most = {}, {}, setmetatable({}, { __mode = "k" }), 0
  local calls = req.calls
  if req.iterator then -- the calls from an iterator, taken as the light threads need them
    local k = 0
    calls = function()
      k = k + 1
      return req.calls[k]
    end
  end
  local ok, results = pcall(function()
    if not req.each then return c:batch(calls, { concurrency = req.concurrency }) end
    for i, res, err in c:each(calls, { concurrency = req.concurrency }) do
      order[#order + 1] = i
      out[i] = { ok = res ~= nil, err = render_err(err) }
      if res then alive[res] = true end
      collectgarbage()
      collectgarbage()
      local n = 0
      for _ in pairs(alive) do n = n + 1 end
      most = math.max(most, n)
    end
  end)
  local elapsed = now() - t0
  c:close()
  if not ok then return reply { raised = tostring(results), elapsed = elapsed } end
  if req.each then
    return reply { results = out, order = order, most_held = most, events = events(), elapsed = elapsed }
  end
  for i, item in ipairs(results) do
    out[i] = { result = item.result, err = render_err(item.err) }
  end
  reply { results = out, events = events(), elapsed = elapsed }
end

--- GET /batch-shared: a batch of 3 tracker/list calls through this worker's
-- client, which other requests use at the same time.
function M.batch_shared()
  local t0 = now()
  local ok, results = pcall(worker.auto.batch, worker.auto,
    { { "tracker/list" }, { "tracker/list" }, { "tracker/list" } })
  if not ok then return reply { raised = tostring(results), elapsed = now() - t0 } end
  local counts = {}
  for i, item in ipairs(results) do counts[i] = item.result and #item.result.list or render_err(item.err) end
  reply { counts = counts, elapsed = now() - t0 }
end

--- GET /slow?client=auto|curl: one tracker/list through this worker's client.
function M.slow()
  local c = worker[ngx.var.arg_client or "auto"]
  local t0 = now()
  local res, err = c.tracker.list()
  reply { ok = res ~= nil, err = render_err(err), elapsed = now() - t0, events = events() }
end

-- Calls made outside the content phase by this worker's auto client, kept
-- until a later request reads them.
local later = {}

local function call_later(name)
  local t0 = now()
  local res, err = worker.auto.tracker.list()
  later[name] = { phase = ngx.get_phase(), ok = res ~= nil, err = render_err(err),
                  elapsed = now() - t0, events = events() }
end

--- log_by_lua of /log-phase: no cosockets in the log phase.
function M.log_phase() call_later("log") end

--- GET /timer: a call from a zero-delay timer (cosockets work there).
function M.timer()
  local ok, err = ngx.timer.at(0, function(premature)
    if not premature then call_later("timer") end
  end)
  reply { scheduled = ok and true or false, err = err }
end

--- GET /later?name=log|timer: what that call did (null until it ran); each
-- result is given once, so a poll never sees one left by an earlier run.
function M.later()
  local name = ngx.var.arg_name
  local result = later[name]
  later[name] = nil
  reply { result = result or cjson.null }
end

return M

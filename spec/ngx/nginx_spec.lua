-- The navixy module inside real nginx: spec/support/ngx-client runs nginx with
-- our module (spec/ngx/nginx.conf.in, spec/ngx/harness.lua) and the README's
-- OpenResty example; this spec drives them over HTTP with LuaSocket and checks
-- what reached the fake Navixy server. Run by spec/support/run-tests, or alone:
--   lua5.4 /usr/bin/busted spec/ngx/nginx_spec.lua   (starts what it needs)
local socket = require "socket"
local cjson = require "cjson"
local fake = require "fake"
local hostile = require "hostile"
local sockets = require "sockets"

local KEY = fake.api_key
local script = fake.root .. "/spec/support/ngx-client"
local port = tonumber(os.getenv("NAVIXY_NGX_PORT")) or fake.port + 10
local base = "http://127.0.0.1:" .. port
local example = "http://127.0.0.1:" .. (port + 1)
local https_local = ("https://localhost:%d/v2"):format(fake.tls_port)
local mismatch_url = ("https://localhost:%d/v2"):format(port + 2)
local untrusted_url = ("https://localhost:%d/v2"):format(port + 3)
local close_url = ("http://127.0.0.1:%d/v2"):format(port + 4) -- answers end by closing
local sse_port = port + 5 -- the real-time guide's Server-Sent Events example (examples/sse.conf)

local sh = require("local_files").output_trimmed

local rundir = sh(("%q rundir"):format(script))

local function ensure_nginx()
  if fake.http("GET", base .. "/init") == 200 then return end
  local r = os.execute(("%q start >/dev/null"):format(script))
  assert(r == true or r == 0, "could not start the test nginx with " .. script)
end

local function get(url)
  local status, body = fake.http("GET", url)
  assert.equal(200, status, body)
  return cjson.decode(body)
end

local function post(path, t)
  local status, body = fake.http("POST", base .. path, cjson.encode(t), { ["content-type"] = "application/json" })
  assert.equal(200, status, body)
  return cjson.decode(body)
end

local function opts(extra)
  local o = { url = fake.url, hash = KEY }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- One call made by a client inside nginx (content phase); returns the
-- decoded report: calls[1].res / calls[1].err, events (on_request), elapsed.
local function call(req)
  req.opts = req.opts or opts()
  req.action = req.action or "tracker/list"
  local r = post("/call", req)
  assert.is_nil(r.raised, r.raised)
  return r, r.calls[1]
end

-- n GET requests to `path`, all sent before any answer is read; returns the
-- seconds until the last answer was in, and the decoded bodies.
local function concurrent(path, n)
  local t0 = socket.gettime()
  local socks = {}
  for i = 1, n do
    local s = socket.tcp()
    s:settimeout(30)
    assert(s:connect("127.0.0.1", port))
    assert(s:send("GET " .. path .. " HTTP/1.0\r\nHost: test\r\n\r\n"))
    socks[i] = s
  end
  local bodies = {}
  for i, s in ipairs(socks) do
    local all = assert(s:receive("*a"))
    s:close()
    bodies[i] = cjson.decode(all:match("\r\n\r\n(.*)$"))
  end
  return socket.gettime() - t0, bodies
end

-- Polls /later until the call made outside a request's content phase ran.
local function later(name)
  for _ = 1, 100 do
    local r = get(base .. "/later?name=" .. name).result
    if r ~= cjson.null then return r end
    socket.sleep(0.05)
  end
  error("no result for " .. name)
end

-- A POST whose answer is read later: sent now, read by the function returned.
local function post_async(path, t)
  local body = cjson.encode(t)
  local s = socket.tcp()
  s:settimeout(30)
  assert(s:connect("127.0.0.1", port))
  assert(s:send(("POST %s HTTP/1.0\r\nHost: test\r\nContent-Type: application/json\r\n"
    .. "Content-Length: %d\r\n\r\n%s"):format(path, #body, body)))
  return function()
    local all = assert(s:receive("*a"))
    s:close()
    local status = tonumber(all:match("^HTTP/1%.%d (%d+)"))
    assert.equal(200, status, all)
    return cjson.decode(all:match("\r\n\r\n(.*)$"))
  end
end

local eventually = sockets.eventually

-- The fake's record of the open WebSocket connection subscribed to event type `name`.
local function ws_conn(name)
  for _, c in ipairs(fake.ws_stats().connections) do
    if c.open and c.subs and c.subs[name] then return c end
  end
end

local function last_requests(n)
  local all = fake.requests()
  local out = {}
  for i = math.max(1, #all - n + 1), #all do out[#out + 1] = all[i] end
  return out
end

describe("inside nginx", function()
  setup(ensure_nginx)
  before_each(fake.reset)

  describe("calls with the ngx transport", function()
    it("place the hash as each auth mode says, in JSON and form bodies", function()
      for _, auth in ipairs { "header", "query", "body" } do
        for _, encoding in ipairs { "json", "form" } do
          local r, c = call { opts = opts { auth = auth, encoding = encoding }, params = { labels = { "Truck" } } }
          assert.is_nil(c.err, auth .. "/" .. encoding)
          assert.equal(1, #c.res.list)
          assert.equal("ngx", r.events[1].transport)
          local req = fake.last_request()
          assert.equal(auth, req.hash_from, auth .. "/" .. encoding)
          assert.equal(KEY, req.hash)
          assert.same({ "Truck" }, req.params.labels)
          assert.matches(encoding == "json" and "json" or "form", req.content_type)
        end
      end
    end)

    it("log in with login and password once, and again after the session ended", function()
      local u = fake.users.demo
      local req = { opts = { url = fake.url, login = u.login, password = u.password }, shared = "session" }
      local _, c = call(req)
      assert.is_nil(c.err)
      assert.equal(1, fake.stats().logins)
      fake.expire_sessions()
      _, c = call(req)
      assert.is_nil(c.err)
      assert.equal(3, #c.res.list)
      assert.equal(2, fake.stats().logins)
    end)

    it("return API errors with kind, code and HTTP status", function()
      local _, c = call { action = "tracker/get_state", params = { tracker_id = 2000000 } }
      assert.same({ "api", 201, 400, false }, { c.err.kind, c.err.code, c.err.status, c.err.retryable })
      assert.equal("navixy: tracker/get_state: api error 201 (HTTP 400): Not found in database", c.err.text)
    end)

    it("return an HTML 502 as an http error, and a 200 that says JSON but is not as a decode error", function()
      fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>bad gateway</html>" }
      local _, c = call { opts = opts { retries = 0 } }
      assert.same({ "http", 502, true }, { c.err.kind, c.err.status, c.err.retryable })
      fake.fault { action = "tracker/list", type = "raw", body = "not json", content_type = "application/json" }
      _, c = call {}
      assert.equal("decode", c.err.kind)
      -- a 200 that says it is text is a file
      fake.fault { action = "tracker/list", type = "raw", body = "not json", content_type = "text/plain" }
      _, c = call {}
      assert.same({ "text/plain", "not json" }, { c.res.content_type, c.res.body })
    end)

    it("read chunked answers", function()
      fake.fault { action = "tracker/list", type = "chunked" }
      local _, c = call {}
      assert.is_nil(c.err)
      assert.equal(3, #c.res.list)
    end)

    it("read answers that end by closing the connection, two in a row", function()
      fake.fault { action = "tracker/list", type = "chunked", times = 3 }
      -- what the server at close_url sends: no length, no chunks
      local _, _, h = fake.http("POST", close_url .. "/tracker/list", "{}", { authorization = "NVX " .. KEY })
      assert.same({ "close" }, { h.connection, h["content-length"], h["transfer-encoding"] })
      local r = call { opts = opts { url = close_url }, shared = "close", times = 2 }
      for _, c in ipairs(r.calls) do
        assert.is_nil(c.err)
        assert.equal(3, #c.res.list)
      end
      assert.equal(3, fake.stats().by_action["tracker/list"])
    end)

    for _, how in ipairs { "a length", "chunks", "closing the connection" } do
      it("refuse an answer larger than max_size, sent with " .. how, function()
        fake.fault { action = "tracker/list", type = how == "a length" and "raw" or "large", bytes = 200000,
          body = how == "a length" and string.rep("x", 200000) or nil }
        local url = how == "closing the connection" and close_url or fake.url
        local _, c = call { opts = opts { url = url, max_size = 10000 } }
        assert.same({ "transport", "limit", false }, { c.err.kind, c.err.phase, c.err.retryable })
        assert.matches("max_size", c.err.description)
      end)
    end
  end)

  describe("timeouts and retries", function()
    it("time out a slow answer within the call's timeout", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 2 }
      local _, c = call { opts = opts { retries = 0 }, call_opts = { timeout = 0.3 } }
      assert.same({ "timeout", "send" }, { c.err.kind, c.err.phase })
      assert.is_true(sockets.below(c.elapsed, 2), "took " .. c.elapsed) -- the answer comes after 2 s
    end)

    it("bound the whole attempt, not each read, by the timeout", function()
      -- half the answer at once, the rest 3 s later: each read is short, the total is not
      fake.fault { action = "tracker/list", type = "stall", seconds = 3 }
      local _, c = call { opts = opts { retries = 0, timeout = 1 } }
      assert.equal("timeout", c.err.kind)
      assert.is_true(c.elapsed >= 0.9 and c.elapsed < 2, "took " .. c.elapsed)
    end)

    for _, case in ipairs {
      { "trickle_status", "the status line a byte at a time" },
      { "trickle_body", "the body a byte at a time" },
      { "hang", "nothing at all" },
    } do
      it("bound an attempt by the timeout when the server sends " .. case[2], function()
        local url = hostile.url(case[1], { every = 0.3 })
        local _, c = call { opts = opts { url = url, retries = 0, timeout = 2 } }
        assert.same({ "timeout", "send" }, { c.err.kind, c.err.phase })
        assert.is_true(c.elapsed >= 1.9 and c.elapsed < sockets.bound(2), "took " .. c.elapsed)
      end)
    end

    it("recover from a stalled read by retrying a safe action", function()
      fake.fault { action = "tracker/list", type = "stall", seconds = 3 }
      local r, c = call { call_opts = { timeout = 0.5 } }
      assert.is_nil(c.err)
      assert.equal(3, #c.res.list)
      assert.equal("timeout", r.events[1].kind)
      assert.equal(200, r.events[2].status)
      assert.equal(2, fake.stats().by_action["tracker/list"])
    end)

    it("retry a 502 and honour Retry-After on a 429", function()
      fake.fault { action = "tracker/list", type = "status", status = 502 }
      local r, c = call {}
      assert.is_nil(c.err)
      assert.same({ 502, 200 }, { r.events[1].status, r.events[2].status })
      fake.fault { action = "tracker/list", type = "status", status = 429, headers = { ["Retry-After"] = "1" } }
      r, c = call {}
      assert.is_nil(c.err)
      assert.equal(1, r.events[1].retry_in)
      assert.is_true(c.elapsed >= 0.9, "took " .. c.elapsed)
    end)

    it("report a refused connection as a retryable transport error at connect", function()
      local _, c = call { opts = opts { url = "http://127.0.0.1:1/v2", retries = 1 } }
      assert.same({ "transport", "connect", true, 2 }, { c.err.kind, c.err.phase, c.err.retryable, c.err.attempts })
    end)
  end)

  describe("files, uploads and GET", function()
    local HOUR = { tracker_id = 1, from = "2024-05-01 00:00:00", to = "2024-05-01 01:00:00" }

    it("gives a file answer as a file result; its JSON error stays an API error", function()
      local _, c = call { action = "track/download", params = HOUR }
      assert.is_nil(c.err)
      assert.same({ "application/vnd.google-earth.kml+xml", "track_1_2024-05-01.kml" },
        { c.res.content_type, c.res.filename })
      assert.matches("^<%?xml", c.res.body)
      assert.equal(#c.res.body, c.res.size)
      _, c = call { action = "track/download", params = { tracker_id = 99, from = HOUR.from, to = HOUR.to } }
      assert.same({ "api", 201 }, { c.err.kind, c.err.code })
    end)

    it("streams a file answer to a sink: a function, a path", function()
      fake.fault { action = "x/file", type = "file", bytes = 3000000, content_type = "text/csv", length = false }
      local r, c = call { action = "x/file", call_opts = { sink = "count" } }
      assert.is_nil(c.err)
      assert.same({ 3000000, 3000000 }, { c.res.size, r.counted.bytes })
      assert.is_true(r.counted.chunks > 1)
      assert.is_nil(c.res.body)
      local path = os.tmpname()
      fake.fault { action = "x/file", type = "file", bytes = 1500000, content_type = "text/csv" }
      c = select(2, call { action = "x/file", call_opts = { sink = path } })
      assert.is_nil(c.err)
      local f = assert(io.open(path, "rb"))
      assert.equal(fake.file_bytes(0, 1500000), f:read("*a"))
      f:close()
      os.remove(path)
    end)

    it("a path sink, a link to a file included: the file replaced on success, untouched on failure", function()
      local dir = sh("mktemp -d")
      finally(function() os.execute("rm -rf " .. dir) end)
      os.execute(("printf old > %s/target.csv && ln -s target.csv %s/link.csv"):format(dir, dir))
      local function content()
        local f = assert(io.open(dir .. "/target.csv", "rb"))
        local s = f:read("*a")
        f:close()
        return s
      end
      fake.fault { action = "x/file", type = "file", bytes = 2000000, content_type = "text/csv",
                   stall_after = 1000000, seconds = 5 }
      local c = select(2, call { action = "x/file", call_opts = { sink = dir .. "/link.csv", timeout = 1 } })
      assert.equal("timeout", c.err.kind)
      assert.is_true(content() == "old", "the linked file changed: " .. #content() .. " bytes now")
      assert.equal("link.csv target.csv", sh("ls -A " .. dir .. " | tr '\\n' ' '"))
      fake.fault { action = "x/file", type = "file", bytes = 300000, content_type = "text/csv" }
      c = select(2, call { action = "x/file", call_opts = { sink = dir .. "/link.csv" } })
      assert.is_nil(c.err)
      assert.is_true(fake.file_bytes(0, 300000) == content(), "the linked file: " .. #content() .. " bytes")
      assert.equal("target.csv", sh("readlink " .. dir .. "/link.csv"))
      assert.equal("link.csv target.csv", sh("ls -A " .. dir .. " | tr '\\n' ' '"))
    end)

    it("uploads a file as multipart/form-data, with the same bytes as the curl transport", function()
      local bytes = ("\0\1\r\n--x\r\n"):rep(1000)
      local _, c = call { action = "tracker/avatar/upload", params = { tracker_id = 1 },
        files = { file = { data = bytes, filename = "t.png", content_type = "image/png" } } }
      assert.is_nil(c.err)
      local req = fake.last_request()
      assert.matches("^multipart/form%-data; boundary=", req.content_type)
      local parts = {}
      for _, p in ipairs(req.parts) do parts[p.name] = p end
      assert.same({ "t.png", "image/png", #bytes }, { parts.file.filename, parts.file.content_type, parts.file.size })
      assert.equal("1", parts.tracker_id.base64 and "1" or nil)
    end)

    it("sends a GET action's params as its query string", function()
      local _, c = call { action = "iot/logic/flow/read", params = { flow_id = 1 }, call_opts = { method = "GET" } }
      assert.is_nil(c.err)
      local req = fake.last_request()
      assert.same({ "GET", "/v2/iot/logic/flow/read?flow_id=1", "header" }, { req.method, req.uri, req.hash_from })
    end)
  end)

  describe("sessions", function()
    -- ngx_lua leaves no safe way to tell that a coroutine of another request
    -- is gone, so the next request waits for the abandoned login until its
    -- own deadline, then logs in itself (see session.lua, can_finish)
    it("a login abandoned by its request (ngx.exit) holds up the next request no longer than its timeout", function()
      local u = fake.users.demo
      local o = { url = fake.url, login = u.login, password = u.password }
      fake.fault { action = "user/auth", type = "delay", seconds = 3 }
      post("/abandon-login", { shared = "abandoned", opts = o })
      assert.equal(1, fake.stats().logins) -- it reached the server, which holds it for 3 s
      local t0 = socket.gettime()
      local _, c = call { shared = "abandoned", opts = o, call_opts = { timeout = 1 } }
      assert.is_nil(c.err)
      assert.equal(3, #c.res.list)
      -- the abandoned login holds the server for 3 s
      assert.is_true(sockets.below(socket.gettime() - t0, 3), ("took %.2f s"):format(socket.gettime() - t0))
      assert.equal(2, fake.stats().logins)
    end)
  end)

  describe("the API beyond JSON calls, on cosockets", function()
    it("get_history learns the platform's limits and cuts windows that adjoin", function()
      fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P1D" } }
      local r = post("/methods", { opts = { url = fake.url, hash = fake.api_key, transport = "ngx" }, steps = {
        { "get_history", { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-04 00:00:00" } },
      } })
      local res = r.steps[1].res
      assert.is_nil(r.steps[1].err)
      assert.equal(144, res.total)
      assert.equal("2024-05-01 00:00:00", res.list[1].time)
      assert.equal("2024-05-03 23:00:00", res.list[144].time)
      local windows = fake.requests_of("history/tracker/list")
      for _, req in ipairs(windows) do assert.equal(10, req.params.limit) end
      assert.is_true(#windows >= 3)
      assert.equal(1, fake.sent("dealer/get_ui_config"))
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)

    it("a two-factor login waits for the code; resend_code and verify_code go on", function()
      local twofa = fake.users.twofa
      local r = post("/methods", { opts = { url = fake.url, login = twofa.login, password = twofa.password,
                                            transport = "ngx" }, steps = {
        { "login" }, { "resend_code" }, { "resend_code" }, { "verify_code", twofa.code }, { "get_hash" },
      } })
      assert.is_nil(r.steps[1].err)
      assert.truthy(r.steps[2].res and r.steps[2].res.success)
      assert.equal(264, r.steps[3].err.code) -- once per 5 minutes, says the API
      assert.is_nil(r.steps[4].err)
      assert.equal(2, fake.stats().by_action["user/auth/code/resend"])
      assert.equal(1, fake.stats().logins)
      assert.matches("^%x+$", r.steps[5].res)
    end)

    it("runs the workflows: pages (ahead, a batch), get_report, renew_session, rotate_key", function()
      local demo = fake.users.demo
      local maker = post("/methods", { opts = { url = fake.url, login = demo.login, password = demo.password,
        transport = "ngx" }, steps = { { "call", "api/key/create", { title = "old" } }, { "renew_session" } } })
      local old = maker.steps[1].res.value.hash
      assert.is_true(maker.steps[2].res)
      local every_day = { from = "00:00", to = "23:59", weekdays = { 1, 2, 3, 4, 5, 6, 7 } }
      local report = { title = "Trips", trackers = { 1, 2 }, from = "2024-05-01 00:00:00",
                       to = "2024-05-02 00:00:00", time_filter = every_day, plugin = { plugin_id = 4 } }
      local r = post("/methods", { opts = { url = fake.url, hash = old, transport = "ngx" }, steps = {
        { "pages", "employee/list", {}, { limit = 5, ahead = 2 } },
        { "get_report", report },
        { "get_report", report, { format = "pdf" } },
        { "rotate_key", { title = "new", login = demo.login, password = demo.password } },
        { "get_hash" },
        { "call", "report/tracker/generate", { trackers = { 1 }, from = "x", to = "2024-05-02 00:00:00",
          time_filter = every_day, plugin = { plugin_id = 4 } } },
      } })
      assert.is_nil(r.raised)
      assert.equal(23, #r.steps[1].res)
      assert.equal(23, r.steps[1].res[23].id)
      assert.equal("Trips", r.steps[2].res.title)
      assert.equal("application/pdf", r.steps[3].res.content_type)
      assert.equal(2, #fake.requests_of("report/tracker/delete"))
      assert.equal(r.steps[4].res, r.steps[5].res)
      assert.not_equal(old, r.steps[5].res)
      assert.equal(old, fake.requests_of("api/key/delete")[1].params.key)
      assert.matches("(from: Wrong date format)", r.steps[6].err.text, 1, true)
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)

    it("asks GraphQL, its errors[] at 200 an error, and pages a Relay connection", function()
      local q = "query($first: Int, $after: String) { devices(organizationId: \"o\", first: $first, after: $after) "
        .. "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }"
      local one = "query($id: ID!) { device(id: $id) { id title } }"
      local r = post("/methods", { opts = { url = fake.url, hash = KEY, transport = "ngx" }, steps = {
        { "graphql", one, { id = "019a6a3f-0000-7000-8000-000000000003" } },
        { "graphql", one, { id = "nope" } },
        { "pages", q, {}, { cursor = "devices", limit = 20 } },
      } })
      assert.is_nil(r.raised)
      assert.equal("Device 3", r.steps[1].res.device.title)
      assert.equal("NOT_FOUND", r.steps[2].err.code)
      assert.equal(200, r.steps[2].err.status)
      assert.equal(45, #r.steps[3].res)
      assert.equal(5, #fake.requests_of("graphql")) -- 1 + 1 + 3 pages
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)

    it("calls the sibling APIs with a call's Accept and query, sharing the session", function()
      local demo = fake.users.demo
      local read = { tracker_id = 1, from = "2024-10-10T00:00:00Z", to = "2024-10-10T00:00:30Z", columns = { "lat" } }
      local r = post("/siblings", { opts = { url = fake.url, login = demo.login, password = demo.password,
        transport = "ngx" }, read = read })
      assert.is_nil(r.raised)
      assert.equal("text/csv", r.csv.content_type)
      assert.equal("text/csv", r.eco.content_type)
      assert.equal("errors/default/bad-request", r.problem.code)
      assert.equal(1, fake.stats().logins)
      local eco = fake.requests_of("trackers/1/resampling")[1]
      assert.equal("/eco_fleet/trackers/1/resampling?interval=PT1H%2F2020-12-31T00%3A00Z", eco.uri)
      assert.equal("text/csv", eco.headers.accept)
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)

    it("uploads a presigned file to the other host, the file last, without the hash", function()
      local r = post("/methods", { opts = { url = fake.url, hash = KEY, transport = "ngx" }, steps = {
        { "presigned_upload", "task/form/file/create", { task_id = 1, field_id = "f", size = 100 },
          { file = { data = "hello", filename = "a.txt", content_type = "text/plain" } } },
        { "presigned_upload", "checkin/image/create", { size = 100 },
          { file = { data = "hello", filename = "b.txt" } } },
      } })
      assert.is_nil(r.raised)
      assert.is_nil(r.steps[1].err)
      assert.is_number(r.steps[1].res.value.file_id)
      assert.is_nil(r.steps[2].err)
      local up = {}
      for _, req in ipairs(fake.requests()) do
        if req.action == "presigned upload" then up[#up + 1] = req end
      end
      assert.equal(2, #up)
      assert.equal("file", up[1].parts[#up[1].parts].name)
      assert.equal("a.txt", up[1].parts[#up[1].parts].filename)
      assert.is_nil(up[1].headers.authorization)
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)

    it("takes the Middle East region", function()
      local r = post("/methods", { opts = { region = "me", hash = fake.api_key, transport = "ngx" }, steps = {} })
      assert.is_nil(r.raised)
      assert.matches("api%.me%.navixy%.com/v2", r.text)
    end)
  end)

  describe("a lua_shared_dict store that is full", function()
    it("is told once; calls go on on their own, and share again once it has room", function()
      local u = fake.users.demo
      local r = post("/dict-full", { opts = { url = fake.url, login = u.login, password = u.password,
                                              rate_limit = 50 } })
      assert.is_true(r.fillers > 0)
      for i = 1, 3 do assert.is_true(r.calls[i].ok, cjson.encode(r.calls[i].err)) end
      local reports = {}
      for _, e in ipairs(r.events) do
        if e.store_error then reports[#reports + 1] = e.store_error end
      end
      assert.equal(1, #reports, cjson.encode(r.events)) -- once, not per request
      assert.matches("lua_shared_dict navixy_tiny", reports[1])
      assert.matches("no memory", reports[1])
      assert.matches("failing", r.full_text)
      assert.is_nil(r.after_text:find("failing", 1, true), r.after_text)
      assert.is_true(r.shared) -- its records are in the dict again
      assert.equal(1, fake.stats().logins)
    end)
  end)

  describe("the Admin Panel", function()
    local main = fake.panels.main
    local panel_opts = { url = fake.url, panel = true, login = main.login, password = main.password }

    it("a panel client and its user_session client work from a request, on cosockets", function()
      local r = post("/panel-user", { opts = panel_opts, panel_action = "user/list", user_id = 1,
                                      action = "tracker/list" })
      assert.is_nil(r.session_err)
      assert.is_nil(r.panel.err)
      assert.equal(2, r.panel.res.count)
      assert.is_nil(r.user.err)
      assert.equal(3, #r.user.res.list)
      assert.matches(", user 1 through a panel%)$", r.user.text)
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
      local actions = {}
      for _, req in ipairs(fake.requests()) do
        actions[#actions + 1] = req.action
        if req.action == "tracker/list" then assert.equal(r.user.hash, req.hash)
        elseif req.action ~= "panel/account/auth" then assert.equal(r.panel.hash, req.hash) end
      end
      assert.same({ "panel/account/auth", "panel/user/list", "panel/user/session/create", "tracker/list" },
        actions)
      r = post("/panel-user", { opts = panel_opts, user_id = 99, action = "tracker/list" })
      assert.equal(201, r.session_err.code)
    end)

    it("a user_session client gets a new session through the panel in a later request", function()
      local req = { opts = panel_opts, shared = "panel-" .. socket.gettime(), user_id = 2, action = "user/get_info" }
      local r = post("/panel-user", req)
      assert.is_nil(r.user.err)
      assert.equal("2fa@example.com", r.user.res.user_info.login)
      local first = r.user.hash
      fake.expire_sessions()
      fake.expire_panel_sessions()
      r = post("/panel-user", req)
      assert.is_nil(r.user.err)
      assert.equal("2fa@example.com", r.user.res.user_info.login)
      assert.are_not.equal(first, r.user.hash)
      assert.equal(2, fake.stats().panel_logins)
      assert.equal(0, fake.stats().logins)
      for _, e in ipairs(r.events) do assert.equal("ngx", e.transport) end
    end)
  end)

  describe("limits on what is read", function()
    for _, case in ipairs {
      { "huge_header", { bytes = 8 * 1024 * 1024 }, "a header line of 8 MB" },
      { "many_headers", { count = 100000 }, "100,000 header lines" },
      { "huge_chunk_line", { bytes = 8 * 1024 * 1024 }, "a chunk-size line of 8 MB" },
      { "long_length", { length = "1000000000000" }, "a Content-Length of 1 TB" },
    } do
      it("refuses " .. case[3] .. " at once, not retried, without holding it", function()
        local _, c = call { opts = opts { url = hostile.url(case[1], case[2]), timeout = 10 } }
        assert.same({ "transport", "limit", false, 1 }, { c.err.kind, c.err.phase, c.err.retryable, c.err.attempts })
        assert.is_true(c.elapsed < sockets.bound(0.5), "took " .. c.elapsed) -- not the timeout of 10 s
      end)
    end

    it("asks for gzip and inflates it; a gzip bomb is a limit error, not a worker out of memory", function()
      local _, c = call { opts = opts { url = hostile.url("gzip_json") } }
      assert.is_nil(c.err)
      assert.equal(1, c.res.value)
      _, c = call { opts = opts { url = hostile.url("gzip_bomb", { bytes = 256 * 1024 * 1024 }), max_size = 1e6 } }
      assert.same({ "transport", "limit", false }, { c.err.kind, c.err.phase, c.err.retryable })
      assert.is_true(c.elapsed < sockets.bound(2), "took " .. c.elapsed)
      _, c = call { opts = opts { url = hostile.url("gzip_truncated"), retries = 0 } }
      assert.same({ "transport", "send" }, { c.err.kind, c.err.phase })
      assert.matches("truncated compressed body", c.err.description)
      -- the fake's real answers, compressed by nginx
      fake.fault { action = "x/file", type = "file", bytes = 300000, content_type = "text/csv", gzip = true }
      _, c = call { action = "x/file" }
      assert.is_nil(c.err)
      assert.equal(300000, c.res.size)
      assert.equal("gzip", fake.last_request().headers["accept-encoding"])
    end)

    -- spec/support/hostile's "encoded" variants: the valid answer, or an error of the
    -- attempt (kind transport, counted), never a crash, a hang or the wrong data
    for _, case in ipairs {
      { "deflate" }, { "deflate_raw" }, { "gzip_gzip" }, { "gzip_identity" }, { "te_gzip" },
      { "members", "data after the end of the compressed body" },
      { "trailing", "data after the end of the compressed body" },
      { "bad_crc", "corrupt compressed body" },
      { "bad_isize", "corrupt compressed body" },
      { "bad_header", "corrupt compressed body" },
      { "empty", "truncated compressed body" },
      { "br", "unsupported content%-encoding br" },
    } do
      local variant, failure = case[1], case[2]
      it("takes a " .. variant .. " answer as " .. (failure or "the answer it encodes"), function()
        local _, c = call { opts = opts { url = hostile.url("encoded", { variant = variant }), retries = 1 } }
        assert.is_true(c.elapsed < 5, "took " .. c.elapsed)
        if not failure then
          assert.is_nil(c.err)
          assert.equal(1, c.res.value)
        else
          assert.same({ "transport", "send", 2 }, { c.err.kind, c.err.phase, c.err.attempts })
          assert.matches(failure, c.err.description)
        end
      end)
    end

    it("takes a lying Content-Length as a failure of that attempt", function()
      local _, c = call { opts = opts { url = hostile.url("close_after_headers"), retries = 0 } }
      assert.same({ "transport", "send" }, { c.err.kind, c.err.phase })
    end)
  end)

  describe("keep-alive", function()
    for _, scheme in ipairs { "http", "https" } do
      it("sends calls in a row over one pooled connection (" .. scheme .. ")", function()
        local url = scheme == "https" and https_local or fake.url
        local r = call { opts = opts { url = url }, shared = "keepalive-" .. scheme, times = 4 }
        for _, c in ipairs(r.calls) do assert.is_nil(c.err) end
        local reqs = last_requests(4)
        assert.equal(scheme, reqs[1].scheme)
        for i = 2, 4 do
          assert.equal(reqs[1].connection, reqs[i].connection)
          assert.equal(reqs[i - 1].connection_requests + 1, reqs[i].connection_requests)
        end
      end)
    end

    it("never puts back a connection cut short by a timeout", function()
      local req = { shared = "after-timeout", call_opts = { timeout = 0.5, retries = 0 } }
      call(req) -- a pooled connection to start from
      fake.fault { action = "tracker/list", type = "stall", seconds = 2 }
      local _, c = call(req)
      assert.equal("timeout", c.err.kind)
      _, c = call(req)
      assert.is_nil(c.err)
      assert.equal(3, #c.res.list) -- its own answer, not the rest of the stalled one
      local reqs = last_requests(3)
      assert.equal(reqs[1].connection, reqs[2].connection)
      assert.are_not.equal(reqs[2].connection, reqs[3].connection)
    end)

    it("sends an action not safe to repeat on a new connection, and never twice", function()
      call { shared = "writes" } -- a pooled connection
      local write = { shared = "writes", call_opts = { idempotent = false } }
      local _, c = call(write)
      assert.is_nil(c.err)
      call { shared = "writes" }
      local reqs = last_requests(3)
      assert.are_not.equal(reqs[1].connection, reqs[2].connection)
      assert.equal(reqs[1].connection, reqs[3].connection) -- the pool kept its connection
      fake.fault { action = "tracker/list", type = "drop" } -- read, then closed unanswered
      _, c = call(write)
      assert.same({ "transport", "send", 1 }, { c.err.kind, c.err.phase, c.err.attempts })
      assert.equal(4, fake.stats().by_action["tracker/list"])
    end)

    it("sends a safe action again on a new connection when the pooled one was closed, as an attempt", function()
      local req = { shared = "stale", opts = opts { retries = 0 } }
      call(req)
      fake.fault { action = "tracker/list", type = "drop" } -- closes without answering
      local r, c = call(req)
      assert.is_nil(c.err)
      -- every request that left is an attempt the hook saw, even with retries = 0
      assert.equal(2, #r.events)
      assert.same({ "transport", 0 }, { r.events[1].kind, r.events[1].retry_in })
      assert.equal(200, r.events[2].status)
      assert.equal(2, r.events[2].attempt)
      local reqs = last_requests(2)
      assert.are_not.equal(reqs[1].connection, reqs[2].connection)
    end)
  end)

  describe("TLS", function()
    it("verifies the server against lua_ssl_trusted_certificate", function()
      local _, c = call { opts = opts { url = https_local } }
      assert.is_nil(c.err)
      assert.equal("https", fake.last_request().scheme)
    end)

    it("rejects a certificate for another name, every time, without retrying", function()
      -- ngx_lua 0.10.23 can report such a handshake as a success when it completes
      -- at once (a resumed session): the repetition is what catches that
      local r = call { opts = opts { url = mismatch_url, retries = 3 }, times = 4 }
      for _, c in ipairs(r.calls) do
        assert.same({ "transport", "tls", false, 1 }, { c.err.kind, c.err.phase, c.err.retryable, c.err.attempts })
        assert.matches("certificate", c.err.description)
      end
      assert.equal(0, fake.stats().requests)
    end)

    it("rejects a certificate no trusted CA signed", function()
      local _, c = call { opts = opts { url = untrusted_url, retries = 2 } }
      assert.same({ "transport", "tls", 1 }, { c.err.kind, c.err.phase, c.err.attempts })
      assert.matches("lua_ssl_trusted_certificate", c.err.description)
    end)

    it("says that a URL with an IP address cannot be verified (nginx checks names only)", function()
      local _, c = call { opts = opts { url = fake.tls_url } }
      assert.equal("tls", c.err.phase)
      assert.matches("host name", c.err.description)
    end)

    it("accepts any certificate with ssl_verify = false, in a pool of its own", function()
      local _, c = call { opts = opts { url = mismatch_url, ssl_verify = false }, shared = "noverify" }
      assert.is_nil(c.err)
      _, c = call { opts = opts { url = mismatch_url } } -- same host and port, verifying
      assert.equal("tls", c.err.phase)
    end)

    it("warns that ca_file is not used, and trusts nginx's CAs", function()
      local _, c = call { opts = opts { url = https_local, ca_file = fake.ca_file } }
      assert.is_nil(c.err)
      local log = assert(io.open(rundir .. "/error.log")):read("*a")
      assert.matches("ca_file %(" .. fake.ca_file:gsub("%p", "%%%0") .. "%) is not used by the ngx transport", log)
    end)
  end)

  describe("transport selection", function()
    it("uses cosockets in the content phase unless transport = \"curl\"", function()
      local r = call {}
      assert.equal("ngx", r.events[1].transport)
      r = call { opts = opts { transport = "curl" } }
      assert.equal("curl", r.events[1].transport)
    end)

    it("falls back to curl in init_by_lua, where transport = \"ngx\" refuses to run", function()
      local r = get(base .. "/init")
      assert.equal("init", r.phase)
      assert.is_true(r.ok)
      assert.equal(3, r.count)
      assert.equal("curl", r.events[1].transport)
      assert.is_false(r.forced_ngx.ok)
      assert.matches('transport "ngx" cannot run in the init phase', r.forced_ngx.raised)
    end)

    it("uses cosockets in a request for a client made in init_by_lua", function()
      local r = get(base .. "/from-init")
      assert.is_true(r.ok)
      assert.equal("ngx", r.events[1].transport)
    end)

    it("decides per call: one worker's client uses curl in log_by_lua, cosockets in a timer", function()
      get(base .. "/log-phase")
      local r = later("log")
      assert.equal("log", r.phase)
      assert.is_true(r.ok)
      assert.equal("curl", r.events[1].transport)
      assert.is_true(get(base .. "/timer").scheduled)
      r = later("timer")
      assert.equal("timer", r.phase)
      assert.is_true(r.ok)
      assert.equal("ngx", r.events[1].transport)
    end)

    it("refuses a proxy inside nginx unless transport = \"curl\"", function()
      local r = post("/call", { opts = opts { proxy = "http://127.0.0.1:1" }, action = "tracker/list" })
      assert.matches("option 'proxy' is not supported by the ngx transport", r.raised)
      local _, c = call { opts = opts { proxy = "http://127.0.0.1:1", transport = "curl", retries = 0 } }
      assert.equal("transport", c.err.kind) -- it tried the (closed) proxy
    end)

    it("refuses transport = \"ngx\" outside nginx, at navixy.new", function()
      local navixy = require "navixy"
      assert.has_error(function() navixy.new { url = fake.url, transport = "ngx" } end,
        'navixy: transport "ngx" needs OpenResty (nginx with the Lua module, http subsystem); '
        .. 'this Lua has no ngx.socket: use transport = "curl" or leave it unset')
    end)
  end)

  describe("one worker", function()
    it("serves 8 concurrent calls that each wait 1 s in about 1 s with cosockets", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 1, times = 8 }
      local elapsed, bodies = concurrent("/slow?client=auto", 8)
      for _, b in ipairs(bodies) do
        assert.is_true(b.ok)
        assert.equal("ngx", b.events[1].transport)
      end
      assert.is_true(sockets.below(elapsed, 8), ("8 calls took %.2f s"):format(elapsed)) -- one after another: 8 s
      assert.equal(8, fake.stats().max_in_flight)
    end)

    it("is stalled by transport = \"curl\": 4 such calls take 4 s, one at a time", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 1, times = 4 }
      local elapsed, bodies = concurrent("/slow?client=curl", 4)
      for _, b in ipairs(bodies) do assert.is_true(b.ok) end
      assert.is_true(elapsed >= 3.5, ("4 calls took %.2f s"):format(elapsed))
      assert.equal(1, fake.stats().max_in_flight)
    end)
  end)

  describe("the catalogue of documented actions", function()
    local catalogue = require "navixy.catalogue"
    local NOW = { ["Retry-After"] = "0" }

    local function raised(req)
      local _, c = call(req)
      assert.is_string(c.raised, "expected a raise")
      return c.raised
    end

    it("refuses near-typos and params that do not fit the docs before sending; sends the rest", function()
      assert.equal('navixy: unknown action "tracker/lsit" (did you mean "tracker/list"?)',
        raised { action = "tracker/lsit" })
      assert.matches("tracker_id: required, missing", raised { action = "tracker/get_state", params = {} }, 1, true)
      assert.matches("labels: item count 0 is below the minimum 1",
        raised { action = "tracker/list", params = { labels = {} } }, 1, true)
      assert.equal(0, fake.stats().requests)
      local _, c = call { action = "tracker/list", params = { labels = {} }, call_opts = { validate = false } }
      assert.is_nil(c.raised)
      assert.equal('{"labels":[]}', fake.last_request().body)
      _, c = call { action = "tracker/get_stat_xy", params = { tracker_id = 1 } }
      assert.equal(1, fake.sent("tracker/get_stat_xy"))
      assert.matches("nearest: tracker/get_state, tracker/get_states", c.err.text, 1, true)
    end)

    it("sends GET operations as GET, retries a read-only action after a 502 and never a write", function()
      local _, c = call { action = "iot/logic/flow/list" }
      assert.is_nil(c.err)
      assert.equal("GET", fake.last_request().method)
      fake.fault { action = "report/tracker/status", type = "status", status = 502, times = 1, headers = NOW }
      call { opts = opts { retries = 2 }, action = "report/tracker/status", params = { report_id = 1 } }
      assert.equal(2, fake.sent("report/tracker/status"))
      fake.fault { action = "tag/create", type = "status", status = 502, times = 1, headers = NOW }
      _, c = call { opts = opts { retries = 2 }, action = "tag/create",
                    params = { tag = { name = "x", color = "FF0000" } } }
      assert.equal(502, c.err.status)
      assert.equal(1, fake.sent("tag/create"))
    end)

    it("sends panel/timezone/list with no hash and no login", function()
      local _, c = call { opts = { url = fake.url, login = fake.users.demo.login, password = fake.users.demo.password },
                          action = "panel/timezone/list", params = { locale = "en" } }
      assert.is_nil(c.err)
      assert.is_nil(fake.last_request().hash)
      assert.equal(0, fake.stats().logins)
    end)

    it("gives help for any action, lists a namespace, and names a mistyped method", function()
      local r = post("/catalogue", { opts = opts(), topic = "report/tracker/status", namespace = "tracker" })
      assert.matches("^\nreport/tracker/status: ", r.help)
      assert.matches("Docs: https://", r.help, 1, true)
      assert.matches("^navixy namespace tracker: .*get_state", r.namespace)
      assert.same(catalogue.actions("tracker"), r.actions)
      -- pairs gives the children where LuaJIT honours __pairs (5.2 compatibility), else nothing
      assert.is_true(#r.names == 0 or #r.names == #catalogue.children("tracker"))
      local m = post("/methods", { opts = opts(), steps = { { "bacth", {} } } })
      assert.matches("client:bacth is not a method of the client (did you mean client:batch?)",
        m.steps[1].raised, 1, true)
    end)
  end)

  describe("client:batch", function()
    it("runs the items in light threads, at most `concurrency` at a time, results in order", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.5, times = 5 }
      local calls = {}
      for i = 1, 6 do calls[i] = { "tracker/list" } end
      calls[4] = { "tracker/get_state", { tracker_id = 2000000 } }
      local r = post("/batch", { opts = opts(), calls = calls, concurrency = 3 })
      assert.is_nil(r.raised, r.raised)
      for i, item in ipairs(r.results) do
        if i == 4 then
          assert.equal(201, item.err.code)
        else
          assert.equal(3, #item.result.list)
        end
      end
      assert.equal("ngx", r.events[1].transport)
      assert.equal(3, fake.stats().max_in_flight)
      -- side by side, as the server counted (max_in_flight); one at a time would take 2.5 s
      assert.is_true(r.elapsed >= 0.9, ("took only %.2f s"):format(r.elapsed))
    end)

    it("takes the calls from an iterator as the light threads need them", function()
      fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 8 }
      local calls = {}
      for i = 1, 8 do calls[i] = { "tracker/get_state", { tracker_id = 999 + i } } end
      local r = post("/batch", { opts = opts(), calls = calls, concurrency = 3, iterator = true })
      assert.is_nil(r.raised, r.raised)
      assert.equal(8, #r.results)
      for i, item in ipairs(r.results) do assert.equal(10999 + i, item.result.state.source_id) end
      assert.equal(3, fake.stats().max_in_flight)
    end)

    it("client:each hands results over as they complete, an error in its place, few held", function()
      fake.fault { action = "user/get_info", type = "delay", seconds = 0.4 }
      local calls = { { "user/get_info" } }
      for i = 1, 30 do calls[#calls + 1] = { "tracker/get_state", { tracker_id = 1000 + i } } end
      calls[#calls + 1] = { "tracker/get_state", { tracker_id = 99 } }
      local r = post("/batch", { opts = opts(), calls = calls, concurrency = 4, each = true })
      assert.is_nil(r.raised, r.raised)
      assert.equal(#calls, #r.order)
      assert.equal(1, r.order[#r.order]) -- the slow one last, though first in the input
      for i = 2, #calls - 1 do assert.is_true(r.results[i].ok) end
      assert.equal(201, r.results[#calls].err.code) -- an error fills its own place
      assert.is_true(r.most_held <= 4 + 1, "results held at once: " .. r.most_held)
      assert.equal("ngx", r.events[1].transport)
    end)

    it("runs at once for requests that share the worker's client", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.5, times = 12 }
      local _, bodies = concurrent("/batch-shared", 4)
      for _, b in ipairs(bodies) do
        assert.is_nil(b.raised, b.raised)
        assert.same({ 3, 3, 3 }, b.counts)
      end
      -- side by side: 12 calls of 0.5 s each in about 0.5 s, not 4 batches in a row
      assert.equal(12, fake.stats().max_in_flight)
    end)

    it("shares one login among the items", function()
      local u = fake.users.demo
      local calls = {}
      for i = 1, 4 do calls[i] = { "tracker/list" } end
      local r = post("/batch", { opts = { url = fake.url, login = u.login, password = u.password }, calls = calls })
      for _, item in ipairs(r.results) do assert.equal(3, #item.result.list) end
      assert.equal(1, fake.stats().logins)
    end)
  end)

  describe("client:subscribe", function()
    local STATE_2 = { { type = "state", trackers = { 2 } } }

    it("reads events on cosockets in a request, never blocking the worker", function()
      local finish = post_async("/subscribe", { opts = opts(), requests = STATE_2, collect = 3 })
      assert.is_true(eventually(function() return ws_conn("state") ~= nil end))
      local t0 = socket.gettime()
      local slow = get(base .. "/slow?client=auto") -- the one worker serves it meanwhile
      assert.is_true(slow.ok)
      assert.is_true(socket.gettime() - t0 < 1)
      assert.equal(1, fake.ws_emit{ event = "state", trackers = { 2 } })
      local r = finish()
      assert.is_nil(r.err, r.err and r.err.text)
      assert.same({ "response", "event", "event" }, { r.messages[1].type, r.messages[2].type, r.messages[3].type })
      assert.equal(10002, r.messages[3].data.source_id)
      assert.equal("connected", r.statuses[1].status)
      assert.matches("^navixy subscription %(127%.0%.0%.1:%d+/v2/event/subscription, open, state, hash a6aa%.%.%.%)$",
        r.text)
      assert.is_true(eventually(function() return fake.ws_stats().open == 0 end))
      assert.equal(1000, fake.ws_stats().connections[1].client_close.code) -- sub:close(): the close handshake
      assert.equal(KEY, cjson.decode(fake.ws_messages()[1].text).hash)
    end)

    it("connects again on cosockets after a drop and after a silence over `silence`", function()
      fake.ws_config{ server_heartbeat_ms = 100 }
      local finish = post_async("/subscribe", { opts = opts(), requests = STATE_2, collect = 6,
                                                sub_opts = { silence = 0.4 } })
      assert.is_true(eventually(function() return ws_conn("state") ~= nil end))
      fake.ws_fault{ type = "drop", conn = ws_conn("state").id }
      assert.is_true(eventually(function() return fake.ws_stats().handshakes == 2 and ws_conn("state") end))
      fake.ws_fault{ type = "stop_heartbeats", conn = ws_conn("state").id }
      local r = finish()
      assert.is_nil(r.err, r.err and r.err.text)
      local seen = {}
      for i, st in ipairs(r.statuses) do seen[i] = st.status .. (st.phase and ":" .. st.phase or "") end
      assert.same({ "connected", "reconnecting:recv", "connected", "reconnecting:heartbeat", "connected" }, seen)
      assert.equal(3, fake.ws_stats().handshakes)
      assert.is_true(eventually(function() return fake.ws_stats().open == 0 end))
    end)

    -- issue 21 item 7: the client's "X" at the announced interval, the server's own apart
    it("sends the heartbeat X on cosockets every announced interval", function()
      fake.ws_config{ heartbeat_ms = 100 }
      local r = post("/subscribe", { opts = opts(), requests = STATE_2, collect = 100, for_secs = 0.9, timeout = 0.3 })
      assert.is_nil(r.raised, r.raised)
      assert.equal("timeout", r.err.kind, r.err.text)
      local conn = fake.ws_stats().connections[1]
      assert.is_true(conn.heartbeats_in >= 3 and conn.heartbeats_in <= r.elapsed / 0.1 + 1,
        conn.heartbeats_in .. " in " .. r.elapsed .. " s")
      assert.equal(1, #r.statuses) -- connected once: 1.5 announced intervals of quiet are not a loss
    end)

    -- issue 19 items 1, 2 and 4: next(1) ends by its time on cosockets too
    for _, frame in ipairs { "ping", "pong", "heartbeat" } do
      it("returns from next(1) in time while the server floods " .. frame .. "s", function()
        local r = post("/subscribe", { opts = opts { url = hostile.url("ws_flood", { frame = frame }), timeout = 5 },
                                       requests = STATE_2, timeout = 1, reads = 2 })
        assert.is_nil(r.raised, r.raised)
        assert.equal("timeout", r.err.kind, r.err.text)
        assert.equal(2, #r.times)
        for _, secs in ipairs(r.times) do assert.is_true(secs >= 0.9 and secs < 3, "took " .. secs .. " s") end
      end)
    end

    for _, hb in ipairs { 30000, 100 } do
      it("answers pings and sends its heartbeats within next's time on cosockets (" .. hb .. ")", function()
        local r = post("/subscribe", { opts = opts { url = hostile.url("ws_deaf", { hb = hb }), timeout = 8 },
                                       requests = STATE_2, timeout = 1, reads = 15, sub_opts = { reconnect = false } })
        assert.is_nil(r.raised, r.raised)
        for _, secs in ipairs(r.times) do assert.is_true(secs < 3, "took " .. secs .. " s") end
        assert.equal("transport", r.err.kind, r.err.text) -- the writes could not go
        assert.equal("send", r.err.phase)
      end)
    end

    -- issue 19 item 6
    local function reconnects(r) return require("reconnects")(r.statuses) end

    it("counts a connection that drops at once as a failure in a row on cosockets", function()
      local r = post("/subscribe", { opts = opts { url = hostile.url("ws_greet_drop") }, requests = STATE_2,
                                     collect = 1000, for_secs = 3, timeout = 1 })
      assert.is_nil(r.raised, r.raised)
      local failures = reconnects(r)
      assert.is_true(#failures >= 2, #failures .. " reconnects")
      for i, n in ipairs(failures) do assert.equal(i, n) end
    end)

    it("opens at most CONNECTS_PER_MINUTE connections a minute on cosockets", function()
      local r = post("/subscribe", { opts = opts { url = hostile.url("ws_greet_drop") }, requests = STATE_2,
                                     collect = 1000, for_secs = 2, timeout = 0.5, zero_backoff = true })
      assert.is_nil(r.raised, r.raised)
      local failures, connected = reconnects(r)
      assert.equal(require("navixy.subscription").CONNECTS_PER_MINUTE, connected)
      assert.equal(connected, #failures)
      assert.is_true(r.statuses[#r.statuses].retry_in > 50)
    end)

    for _, case in ipairs {
      { "trickle_status", { every = 0.3 }, "timeout", "the status line of the upgrade a byte at a time" },
      { "hang", {}, "timeout", "no answer to the upgrade" },
      { "huge_header", { bytes = 8 * 1024 * 1024 }, "transport", "a header line of 8 MB" },
    } do
      it("ends on a hostile server within the timeout: " .. case[4], function()
        local t0 = socket.gettime()
        local r = post("/subscribe", { opts = opts { url = hostile.url(case[1], case[2]), retries = 0, timeout = 2 },
                                       requests = STATE_2, sub_opts = { reconnect = false } })
        local secs = socket.gettime() - t0
        assert.is_nil(r.raised, r.raised)
        assert.equal(case[3], r.err.kind, r.err.text)
        assert.is_true(secs < sockets.bound(2), "took " .. secs .. " s")
      end)
    end

    it("verifies the server over TLS with nginx's CAs", function()
      local r = post("/subscribe", { opts = opts { url = https_local }, requests = STATE_2, collect = 2 })
      assert.is_nil(r.err, r.err and r.err.text)
      assert.equal("response", r.messages[1].type)
      r = post("/subscribe", { opts = opts { url = untrusted_url }, requests = STATE_2 })
      assert.equal("transport", r.err.kind)
      assert.equal("tls", r.err.phase)
      assert.same({}, r.statuses) -- never tried again
    end)

    it("ends with a clear error on a message over max_message, telling the server with 1009", function()
      local finish = post_async("/subscribe", { opts = opts(), requests = STATE_2, collect = 3,
                                                sub_opts = { max_message = 65536 } })
      assert.is_true(eventually(function() return ws_conn("state") ~= nil end))
      fake.ws_fault{ type = "oversized", bytes = 100000, conn = ws_conn("state").id }
      local r = finish()
      assert.equal("transport", r.err.kind)
      assert.equal("limit", r.err.phase)
      assert.equal(1, #r.statuses)
      assert.is_true(eventually(function() return fake.ws_stats().open == 0 end))
      assert.equal(1009, fake.ws_stats().connections[1].client_close.code)
    end)
  end)

  describe("the real-time guide's Server-Sent Events example", function()
    -- A browser: GET /events over HTTP/1.1 (as EventSource asks; ngx_lua buffers a whole
    -- HTTP/1.0 answer), the stream read line by line out of its chunks.
    local function listen()
      local s = socket.tcp()
      s:settimeout(10)
      assert(s:connect("127.0.0.1", sse_port))
      assert(s:send("GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"))
      local head = {}
      repeat
        local line = assert(s:receive("*l"))
        head[#head + 1] = line
      until line == ""
      assert.matches(" 200 ", head[1])
      local headers = table.concat(head, "\n"):lower()
      assert.truthy(headers:find("content-type: text/event-stream", 1, true))
      assert.truthy(headers:find("transfer-encoding: chunked", 1, true))
      return { sock = s, buf = "" }
    end

    local function line_of(stream)
      while not stream.buf:find("\n", 1, true) do
        local size = tonumber(assert(stream.sock:receive("*l")), 16)
        stream.buf = stream.buf .. assert(stream.sock:receive(size))
        assert(stream.sock:receive("*l")) -- the CRLF after the chunk
      end
      local line, rest = stream.buf:match("^(.-)\n(.*)$")
      stream.buf = rest
      return line
    end

    -- The next message of a stream: { id =, data = decoded }.
    local function message(stream)
      local msg = {}
      while true do
        local line = line_of(stream)
        if line == "" and msg.data then return msg end
        local field, value = line:match("^(%a+): (.*)$")
        if field == "id" then msg.id = tonumber(value) end
        if field == "data" then msg.data = cjson.decode(value) end
      end
    end

    it("streams each message to every browser from one subscription per worker, while they listen", function()
      local a, b
      finally(function()
        for _, stream in ipairs{ a, b } do stream.sock:close() end
      end)
      a = listen()
      assert.is_true(eventually(function() return ws_conn("state_batch") ~= nil end))
      local first = message(a)
      assert.equal("response", first.data.type)
      local states = message(a)
      assert.equal("state_batch", states.data.event) -- the states sent on subscribing
      assert.equal(first.id + 1, states.id)
      b = listen()
      assert.equal(1, fake.ws_emit{ event = "state_batch", trackers = { 1 }, conn = ws_conn("state_batch").id })
      local ev = message(a)
      assert.equal(states.id + 1, ev.id)
      assert.equal(10001, ev.data.data[1].source_id)
      local for_b = message(b)
      if for_b.data.type ~= "response" then -- b is served by a's worker: the same feed, the same message
        assert.same(ev, for_b)
      end -- else by the other worker, whose feed has subscriptions of its own
      assert.is_true(fake.ws_stats().open <= 2) -- at most one subscription per worker
      a.sock:close()
      b.sock:close()
      -- nobody listens: the feeds close their subscriptions
      assert.is_true(eventually(function() return fake.ws_stats().open == 0 end, 5))
      assert.equal(1000, fake.ws_stats().connections[1].client_close.code)
      local sent = cjson.decode(fake.ws_messages()[1].text)
      assert.same({ { type = "state_batch", target = { type = "all" }, rate_limit = "5s" } }, sent.requests)
      -- the URL as NAVIXY_URL gives it (plain HTTP here: wss:// inside nginx is tested above)
      assert.equal("event/subscription", fake.requests()[1].action)
    end)

    it("is the text in the real-time guide", function()
      local conf = assert(io.open(fake.root .. "/examples/sse.conf")):read("*a")
      assert.equal("docs/real-time.md", require("docs").showing("```nginx\n" .. conf .. "```", fake.root))
    end)
  end)

  describe("the README's OpenResty example", function()
    it("runs as printed, its prefix and environment naming this machine (and its port)", function()
      local status, body = fake.http("GET", example .. "/trackers")
      assert.equal(200, status, body)
      assert.equal(3, #cjson.decode(body))
      local req = fake.last_request()
      assert.equal("header", req.hash_from)
      assert.equal("tracker/list", req.action)
    end)

    it("is the text in README.md", function()
      local conf = assert(io.open(fake.root .. "/examples/nginx.conf")):read("*a")
      assert.equal("README.md", require("docs").showing("```nginx\n" .. conf .. "```", fake.root))
    end)
  end)
end)

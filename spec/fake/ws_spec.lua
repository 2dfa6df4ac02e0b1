-- The fake Navixy WebSocket endpoint (spec/support/fake/subscription.lua) against Navixy's
-- docs (api-docs/platform-api/user-api/backend-api/websocket/: README.md, subscription.md,
-- events.md), driven by the C ws object and, for what that never sends, by a raw LuaSocket
-- client (spec/support/ws_raw.lua).
local core = require "navixy.core"
local cjson = require "cjson"
local fake = require "fake"
local raw = require "ws_raw"
local frames = require "ws_frames"
local sockets = require "sockets"
local socket = require "socket"

local demo, twofa = fake.users.demo, fake.users.twofa

local function open()
  return assert(core.ws_connect{ url = fake.ws_url, timeout = 5 })
end

local function recv_json(ws, timeout)
  local msg, err = ws:recv(timeout or 2)
  assert(msg, err and err.description)
  return cjson.decode(msg.data), msg.data
end

-- A connection past the Atmosphere handshake frame, which it returns too.
local function ready()
  local ws = open()
  return ws, assert(ws:recv(2)).data
end

-- The fake's record of the connection that greeted with `first`: looked up by
-- its id, since a record of an earlier test's connection, ending as this test
-- began, may still be listed first.
local function record_of(first)
  local uuid = first:match("^([^|]+)|")
  for _, c in ipairs(fake.ws_stats().connections) do
    if c.id == uuid then return c end
  end
end

local function send(ws, action, requests, hash)
  assert(ws:send_text(cjson.encode{ action = action, hash = hash or fake.api_key, requests = requests }))
end

-- How far a plain "YYYY-MM-DD hh:mm:ss" is ahead of UTC now, in seconds: both read by
-- os.time as local wall times, so their difference does not depend on the machine's zone.
local function ahead_of_utc(wall)
  local y, mo, d, h, mi, s = wall:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)$")
  local now = os.date("!*t")
  now.isdst = false
  return os.time{ year = y, month = mo, day = d, hour = h, min = mi, sec = s, isdst = false } - os.time(now)
end

local function subscribe(ws, requests, hash) send(ws, "subscribe", requests, hash) end

local function nothing_within(ws, secs)
  local msg, err = ws:recv(secs)
  assert.is_nil(msg, msg and msg.data)
  return err.kind == "timeout"
end

local eventually = sockets.eventually

local function login(user)
  local status, res = fake.call("user/auth", { login = user.login, password = user.password })
  assert.equal(200, status)
  return res.hash
end

describe("the fake WebSocket endpoint", function()
  before_each(fake.reset)
  after_each(function() collectgarbage() end)

  describe("connecting (README.md)", function()
    it("starts with the Atmosphere handshake frame, then heartbeats 'X' of its own interval", function()
      -- Atmosphere: the greeting announces the client's interval; the server's is its own
      fake.ws_config{ heartbeat_ms = 50, server_heartbeat_ms = 400 }
      local ws, first = ready()
      local uuid, ms = first:match("^(%x+%-%x+%-%x+%-%x+%-%x+)|(%d+)|X|$")
      assert.truthy(uuid, first)
      assert.equal("50", ms)
      assert.equal(uuid, record_of(first).id)
      assert.is_true(nothing_within(ws, 0.25)) -- not at the announced 50 ms
      for _ = 1, 2 do assert.equal("X", assert(ws:recv(1)).data) end
      ws:close()
      fake.reset()
      ws, first = ready()
      assert.matches("|30000|X|$", first) -- the docs' value, unless configured
      assert.is_true(nothing_within(ws, 0.5)) -- and the server's own: Atmosphere's 60 s
      ws:close()
    end)

    it('heartbeats at the announced interval with server_heartbeat_ms = "announced" (its old way)', function()
      fake.ws_config{ heartbeat_ms = 50, server_heartbeat_ms = "announced" }
      local ws = ready()
      for _ = 1, 3 do assert.equal("X", assert(ws:recv(1)).data) end
      ws:close()
    end)

    it("counts the client's heartbeats, on each connection", function()
      local ws, first = ready()
      for _ = 1, 3 do assert(ws:send_text("X")) end
      assert.is_true(eventually(function() return record_of(first).heartbeats_in == 3 end))
      assert.equal(3, fake.ws_stats().heartbeats_in)
      assert.equal(0, fake.ws_stats().messages)
      ws:close()
    end)

    it("stops heartbeats on the stop_heartbeats fault", function()
      fake.ws_config{ heartbeat_ms = 30, server_heartbeat_ms = 30 }
      local ws = ready()
      assert.equal("X", assert(ws:recv(1)).data)
      assert.equal(1, fake.ws_fault{ type = "stop_heartbeats" })
      socket.sleep(0.05)
      while ws:recv(0) do end -- any already on the way
      assert.is_true(nothing_within(ws, 0.2))
      ws:close()
    end)

    it("wants the Atmosphere query and a WebSocket upgrade", function()
      local c = raw.open(fake.port, fake.ws_path) -- no query
      assert.equal(400, c.status)
      assert.equal(5, cjson.decode(c.body).status.code)
      c:close()
      local query = fake.ws_query:gsub("X%-atmo%-protocol=true", "X-atmo-protocol=false")
      c = raw.open(fake.port, fake.ws_path .. "?" .. query)
      assert.equal(400, c.status)
      c:close()
      local status, body = fake.http("GET", fake.ws_url) -- no upgrade
      assert.equal(400, status)
      assert.equal(5, cjson.decode(body).status.code)
      status = fake.http("GET", fake.base .. "/v2/event/subscriptions?" .. fake.ws_query)
      assert.equal(404, status)
      c = raw.open(fake.port, fake.ws_path .. "/?" .. fake.ws_query) -- the docs' trailing slash
      assert.equal(101, c.status)
      -- the Atmosphere handshake frame: the server counted the handshake before sending it
      -- (the 101 itself goes out before the count)
      assert.truthy(c:frame(5))
      c:close()
      assert.equal(1, fake.ws_stats().handshakes)
      local reqs = fake.requests()
      assert.equal("event/subscription", reqs[#reqs].action)
    end)

    it("counts connections, and ends them all on reset with code 1001", function()
      local a, b = ready(), ready()
      local stats = fake.ws_stats()
      assert.equal(2, stats.open)
      assert.equal(2, stats.handshakes)
      fake.reset()
      for _, ws in ipairs{ a, b } do
        local msg, err = ws:recv(2)
        assert.is_nil(msg)
        assert.equal("closed", err.kind)
        assert.equal(1001, err.code)
      end
      assert.is_true(eventually(function() return fake.ws_stats().open == 0 end))
      a:close()
      b:close()
    end)
  end)

  describe("subscribing (subscription.md)", function()
    it("answers state_batch with each tracker's status, then sends the current states", function()
      local ws = ready()
      subscribe(ws, { { type = "state_batch", target = { type = "all" }, rate_limit = "5s", format = "compact" } })
      local res = recv_json(ws)
      local value = { ["1"] = "normal", ["2"] = "normal", ["3"] = "blocked" }
      assert.same({ type = "response", action = "subscription/subscribe", events = { "state_batch" },
                    data = { state_batch = { success = true, value = value } } }, res)
      local ev = recv_json(ws)
      assert.equal("event", ev.type)
      assert.equal("state_batch", ev.event)
      assert.matches("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$", ev.user_time)
      -- in Europe/Berlin, the fixed users' zone (events.md: "current time in user's timezone"):
      -- one or two hours ahead of UTC, give or take a busy machine
      local ahead = ahead_of_utc(ev.user_time)
      assert.is_true(math.abs(ahead - 3600) < 600 or math.abs(ahead - 7200) < 600, ev.user_time)
      assert.equal(2, #ev.data) -- the blocked tracker is left out
      local keys = {}
      for k in pairs(ev.data[1]) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "connection_status", "gps", "ignition", "ignition_update", "last_update", "movement_status",
                    "movement_status_update", "source_id" }, keys) -- events.md, "Compact source state"
      assert.same({ 10001, 10002 }, { ev.data[1].source_id, ev.data[2].source_id })
      ws:close()
    end)

    it("answers state with normal, blocked, disallowed and unknown, one event per tracker", function()
      local ws = ready()
      subscribe(ws, { { type = "state", trackers = { 1, 2, 3, fake.ws_disallowed_tracker, 99 } } })
      local res = recv_json(ws)
      assert.same({ ["1"] = "normal", ["2"] = "normal", ["3"] = "blocked",
                    [tostring(fake.ws_disallowed_tracker)] = "disallowed", ["99"] = "unknown" },
                  res.data.state.value)
      local a, b = recv_json(ws), recv_json(ws)
      assert.same({ 10001, 10002 }, { a.data.source_id, b.data.source_id })
      for _, field in ipairs{ "movement_status_update", "ignition", "inputs_update", "outputs_update",
                              "actual_track_update", "battery_level" } do
        assert.not_nil(a.data[field], field) -- events.md's full state sample
      end
      assert.equal(cjson.null, a.data.gsm)
      assert.is_true(nothing_within(ws, 0.1))
      ws:close()
    end)

    it("answers readings_batch and iot_monitor with their documented events", function()
      local ws = ready()
      subscribe(ws, { { type = "readings_batch", target = { type = "selected", tracker_ids = { 1 } } },
                      { type = "iot_monitor", target = { type = "selected", tracker_ids = { 2 } },
                        rate_limit = "5s" } })
      local res = recv_json(ws)
      assert.same({ "readings_batch", "iot_monitor" }, res.events)
      local readings, iot = recv_json(ws), recv_json(ws)
      assert.equal("readings_batch", readings.event)
      assert.equal("lls_level_1", readings.data[1]["1"].inputs[1].name)
      assert.equal("odometer", readings.data[1]["1"].counters[1].type)
      assert.equal("iot_monitor", iot.event)
      local v = iot.data.iot_last_values[1]
      assert.equal(2, v.tracker_id)
      assert.equal(cjson.null, v.all_fields.speed[1].value)
      assert.equal(43, v.nonnull_fields.speed[1].value)
      ws:close()
    end)

    it("takes the deprecated trackers + events form", function()
      local ws = ready()
      assert(ws:send_text(cjson.encode{ action = "subscribe", hash = fake.api_key, trackers = { 2 },
                                        events = { "state" } }))
      assert.same({ ["2"] = "normal" }, recv_json(ws).data.state.value)
      assert.equal(10002, recv_json(ws).data.source_id)
      ws:close()
    end)

    it("takes session hashes and API keys, and errs with 3 and 4 on bad ones", function()
      local ws = ready()
      local function try(hash)
        subscribe(ws, { { type = "state", trackers = { 1 } } }, hash)
        local msg = recv_json(ws)
        if msg.type == "response" then recv_json(ws) end -- the state
        return msg
      end
      assert.equal("response", try(login(demo)).type)
      local err = try("not-a-hash")
      assert.same({ code = 3, description = "Wrong hash" }, err.status)
      assert.equal("error", err.type)
      assert.equal("subscription/subscribe", err.action)
      assert.equal(4, try("0123456789abcdef0123456789abcdef").status.code)
      assert.equal(4, try(login(twofa)).status.code) -- an interim 2FA hash
      local _, key = fake.call("api/key/create", { title = "ws" }, login(demo))
      assert.equal("response", try(key.value.hash).type)
      ws:close()
    end)

    it("errs with 7 on requests it cannot take, and 5 on what is not an action", function()
      local ws, first = ready()
      local bad = {
        {}, { { type = "nope" } }, { { type = "state" } }, { { type = "state", trackers = { "1" } } },
        { { type = "state_batch" } }, { { type = "state_batch", target = { type = "some" } } },
        { { type = "state_batch", target = { type = "selected" } } },
        { { type = "state", trackers = { 1 }, format = "tiny" } },
        { { type = "state_batch", target = { type = "all" }, rate_limit = "soon" } },
        { { type = "iot_monitor", target = { type = "all" } } },
        { { type = "iot_monitor",
            target = { type = "selected", tracker_ids = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 } } } },
      }
      for i, requests in ipairs(bad) do
        subscribe(ws, requests)
        local err = recv_json(ws)
        assert.equal("error", err.type, i)
        assert.equal(7, err.status.code, i)
        assert.equal("Invalid parameters", err.status.description)
      end
      for _, text in ipairs{ "{oops", '{"action":"resubscribe"}', "[1,2]" } do
        assert(ws:send_text(text))
        local err = recv_json(ws)
        assert.same({ type = "error", action = "null",
                      status = { code = 5, description = "Wrong request format" } }, err)
      end
      assert.is_nil(record_of(first).uid) -- no subscription was taken
      ws:close()
    end)

    it("unsubscribes with the same shape, and then sends nothing more", function()
      local ws, first = ready()
      subscribe(ws, { { type = "state", trackers = { 1, 2 } } })
      for _ = 1, 3 do recv_json(ws) end
      send(ws, "unsubscribe", { { type = "state", trackers = { 1 } } })
      local res = recv_json(ws)
      assert.equal("subscription/unsubscribe", res.action)
      assert.same({ ["1"] = "normal" }, res.data.state.value)
      assert.equal(1, fake.ws_emit{ event = "state", trackers = { 1, 2 } })
      assert.equal(10002, recv_json(ws).data.source_id) -- only tracker 2 is left
      send(ws, "unsubscribe", { { type = "state", trackers = { 2 } } })
      recv_json(ws)
      assert.equal(0, fake.ws_emit{ event = "state", trackers = { 1, 2 } })
      local stats = fake.ws_stats()
      assert.equal(1, stats.subscribes)
      assert.equal(2, stats.unsubscribes)
      local sent = fake.ws_messages()
      assert.equal(3, #sent)
      assert.equal("unsubscribe", cjson.decode(sent[3].text).action)
      assert.equal(record_of(first).id, sent[1].conn)
      ws:close()
    end)
  end)

  describe("events (events.md) sent through the control API", function()
    it("go to the connections whose subscriptions cover them", function()
      local a, b = ready(), ready()
      subscribe(a, { { type = "state", trackers = { 1 } } })
      subscribe(b, { { type = "state_batch", target = { type = "all" } } })
      for _ = 1, 2 do recv_json(a); recv_json(b) end
      assert.equal(1, fake.ws_emit{ event = "state", trackers = { 1 } })
      assert.equal(10001, recv_json(a).data.source_id)
      assert.equal(0, fake.ws_emit{ event = "state", trackers = { 2 } })
      assert.equal(1, fake.ws_emit{ event = "state_batch", trackers = { 2, 3, 1000 } })
      local batch = recv_json(b)
      assert.same({ 10002, 11000 }, { batch.data[1].source_id, batch.data[2].source_id })
      assert.equal(1, fake.ws_emit{ event = "state_batch", count = 5, data = { { source_id = 7 } } })
      for _ = 1, 5 do assert.same({ { source_id = 7 } }, recv_json(b).data) end
      assert.is_true(nothing_within(a, 0.05))
      a:close()
      b:close()
    end)

    it("send lifecycle events for blocked trackers too, and logout to every subscriber", function()
      local ws = ready()
      subscribe(ws, { { type = "state", trackers = { 3 } } })
      assert.equal("blocked", recv_json(ws).data.state.value["3"])
      assert.equal(1, fake.ws_emit{ event = "lifecycle", trackers = { 3 }, lifecycle_event = "unblock" })
      assert.same({ type = "event", event = "lifecycle", data = { source_id = 10003, lifecycle_event = "unblock" } },
                  recv_json(ws))
      assert.equal(1, fake.ws_emit{ event = "logout" })
      assert.same({ type = "event", event = "logout", data = "session closed" }, recv_json(ws))
      assert.equal(0, fake.ws_emit{ event = "state", trackers = { 3 } }) -- the subscriptions went with it
      ws:close()
    end)

    it("send logout when the session behind a subscription ends", function()
      for _, finish in ipairs{ fake.expire_sessions, function(hash) fake.call("user/logout", {}, hash) end } do
        local hash = login(demo)
        local ws = ready()
        subscribe(ws, { { type = "state", trackers = { 1 } } }, hash)
        recv_json(ws)
        recv_json(ws)
        finish(hash)
        assert.same({ type = "event", event = "logout", data = "session closed" }, recv_json(ws, 1))
        ws:close()
      end
    end)
  end)

  describe("raw clients", function()
    local function raw_ready()
      local c = raw.open(fake.port, fake.ws_path .. "?" .. fake.ws_query)
      assert.equal(101, c.status)
      assert.equal(core.ws_accept_ok(raw.KEY, c.headers["sec-websocket-accept"]), true)
      assert.matches("|30000|X|$", c:frame().payload)
      return c
    end
    local MASK = "\55\250\33\61"

    it("get a pong for a ping, and their heartbeats counted apart from messages", function()
      local c = raw_ready()
      c:send(frames.frame("ping", "hi", { mask = MASK }))
      local f = c:frame()
      assert.equal(10, f.opcode)
      assert.equal("hi", f.payload)
      assert.is_false(f.masked)
      c:send(frames.frame("text", "X", { mask = MASK }))
      c:send(frames.frame("close", frames.close_payload(1000), { mask = MASK }))
      assert.equal(8, c:frame().opcode)
      c:close()
      local stats = fake.ws_stats()
      assert.equal(1, stats.heartbeats_in)
      assert.equal(0, stats.messages)
    end)

    it("may send a message in fragments", function()
      local c = raw_ready()
      local text = cjson.encode{ action = "subscribe", hash = fake.api_key,
                                 requests = { { type = "state", trackers = { 2 } } } }
      c:send(frames.frame("text", text:sub(1, 10), { mask = MASK, fin = false }))
      c:send(frames.frame("continuation", text:sub(11), { mask = MASK }))
      assert.equal("response", cjson.decode(c:frame().payload).type)
      c:close()
    end)

    it("are closed with 1002 when they do not mask", function()
      local c = raw_ready()
      c:send(frames.frame("text", "{}"))
      local f = c:frame()
      assert.equal(8, f.opcode)
      assert.equal(1002, f.code)
      assert.equal(nil, (c:frame()))
      c:close()
      -- the record of why is written as the connection ends: looked for, not indexed
      assert.is_true(eventually(function()
        for _, conn in ipairs(fake.ws_stats().connections) do
          if conn.failure and conn.failure:find("unmasked", 1, true) then return true end
        end
      end), "no connection ended for an unmasked frame")
    end)
  end)

  it("refuses control calls it cannot follow", function()
    assert.has_error(function() fake.ws_fault{ type = "explode" } end)
    assert.has_error(function() fake.ws_emit{} end)
    assert.has_error(function() fake.ws_emit{ event = "state", trackers = "1" } end)
    assert.has_error(function() fake.ws_config{ heartbeat_ms = -1 } end)
    assert.has_error(function() fake.ws_config{ server_heartbeat_ms = 0 } end)
    assert.has_error(function() fake.ws_config{ server_heartbeat_ms = "sometimes" } end)
  end)
end)

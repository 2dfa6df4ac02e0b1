-- client:subscribe against the fake Navixy WebSocket endpoint (spec/support/fake/
-- subscription.lua): the protocol as Navixy's docs describe it (websocket/README.md,
-- subscription.md, events.md), and every fault the fake can make, each ending in a
-- reconnect or a clear error.
local navixy = require "navixy"
local cjson = require "cjson"
local fake = require "fake"
local frames = require "ws_frames"
local sockets = require "sockets"

local KEY = fake.api_key
local demo = fake.users.demo
local STATE_BATCH = { { type = "state_batch", target = { type = "all" } } }

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

-- Everything a test opened, closed after it.
local opened = {}

local function client(opts)
  local o = { url = fake.url, hash = KEY }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.hash == false then o.hash = nil end
  local c = navixy.new(o)
  opened[#opened + 1] = c
  return c
end

-- A subscription and the list its on_status fills.
local function subscribe(requests, opts, client_opts)
  local statuses = {}
  opts = opts or {}
  opts.on_status = opts.on_status or function(info) statuses[#statuses + 1] = info end
  local c = client(client_opts)
  local sub = c:subscribe(requests or STATE_BATCH, opts)
  opened[#opened + 1] = sub
  return sub, statuses, c
end

local function next_msg(sub, secs)
  local msg, err = sub:next(secs or sockets.bound(2))
  assert(msg, err and tostring(err))
  return msg
end

-- Reads the subscribe answer and the states sent after it.
local function past_response(sub, states)
  local res = next_msg(sub)
  assert.equal("response", res.type)
  for _ = 1, states or 1 do assert.equal("event", next_msg(sub).type) end
  return res
end

local eventually = sockets.eventually

local function open_connections() return fake.ws_stats().open end

local function last_connection()
  local list = fake.ws_stats().connections
  return list[#list]
end

-- What the client sent, decoded, heartbeats aside.
local function sent()
  local out = {}
  for i, m in ipairs(fake.ws_messages()) do out[i] = cjson.decode(m.text) end
  return out
end

describe("client:subscribe", function()
  before_each(fake.reset)
  after_each(function()
    for i = #opened, 1, -1 do opened[i]:close() end
    opened = {}
    collectgarbage()
  end)

  describe("the protocol", function()
    it("connects when first read, subscribes with the hash, and hands on the answer and the states", function()
      local sub = subscribe({ { type = "state_batch", target = { type = "all" }, rate_limit = "5s",
                                format = "compact" } })
      assert.equal(0, fake.ws_stats().handshakes) -- nothing before the first read
      local res = next_msg(sub)
      assert.same({ type = "response", action = "subscription/subscribe", events = { "state_batch" },
                    data = { state_batch = { success = true,
                                             value = { ["1"] = "normal", ["2"] = "normal", ["3"] = "blocked" } } } },
                  res)
      local ev = next_msg(sub)
      assert.equal("state_batch", ev.event)
      assert.same({ 10001, 10002 }, { ev.data[1].source_id, ev.data[2].source_id })
      assert.equal("number", type(ev.data[1].gps.location.lat))
      local msgs = sent()
      assert.equal(1, #msgs)
      assert.same({ action = "subscribe", hash = KEY, requests = { { type = "state_batch", target = { type = "all" },
                    rate_limit = "5s", format = "compact" } } }, msgs[1])
      local upgrade = fake.last_request()
      assert.equal("event/subscription", upgrade.action)
      assert.equal("websocket", upgrade.query["X-Atmosphere-Transport"])
      assert.equal("true", upgrade.query["X-atmo-protocol"])
      assert.equal("0", upgrade.query["X-Atmosphere-tracking-id"])
      assert.equal("navixy-lua/" .. navixy.VERSION, upgrade.headers["user-agent"])
      assert.is_nil(upgrade.headers.authorization) -- the hash goes in the subscribe message only
      assert.is_nil(upgrade.query.hash)
    end)

    it("hands on each documented event as a decoded message", function()
      local sub = subscribe({ { type = "state", trackers = { 1 } },
                              { type = "readings_batch", target = { type = "selected", tracker_ids = { 1 } } },
                              { type = "iot_monitor", target = { type = "selected", tracker_ids = { 2 } } } })
      assert.equal("response", next_msg(sub).type)
      for _ = 1, 3 do assert.equal("event", next_msg(sub).type) end
      assert.equal(1, fake.ws_emit{ event = "state", trackers = { 1 } })
      local state = next_msg(sub)
      assert.same({ "event", "state", 10001 }, { state.type, state.event, state.data.source_id })
      assert.equal(navixy.null, state.data.gsm)
      fake.ws_emit{ event = "readings_batch" }
      assert.equal("odometer", next_msg(sub).data[1]["1"].counters[1].type)
      fake.ws_emit{ event = "iot_monitor" }
      assert.equal(2, next_msg(sub).data.iot_last_values[1].tracker_id)
      fake.ws_emit{ event = "lifecycle", trackers = { 1 }, lifecycle_event = "block" }
      assert.same({ type = "event", event = "lifecycle", data = { source_id = 10001, lifecycle_event = "block" } },
                  next_msg(sub))
    end)

    it("never hands on the greeting or the server's heartbeats", function()
      fake.ws_config{ server_heartbeat_ms = 30 }
      local sub = subscribe()
      past_response(sub)
      local msg, err = sub:next(0.3)
      assert.is_nil(msg)
      assert.equal("timeout", err.kind)
      assert.is_true(last_connection().heartbeats >= 3)
      assert.equal(0, fake.ws_stats().heartbeats_in) -- not answered: ours have their own interval
      assert.equal(1, fake.ws_stats().handshakes)
    end)

    -- issue 21 item 7: the greeting's number is how often the client sends "X" (Atmosphere)
    it("sends the heartbeat X every announced interval, whatever the server sends", function()
      fake.ws_config{ heartbeat_ms = 100 } -- the server's own: 60 s
      local sub = subscribe()
      past_response(sub)
      local secs = sockets.timed(sub.next, sub, 0.65)
      local n = last_connection().heartbeats_in
      -- one each 100 ms: never more than the time allows, and not none for a busy machine
      assert.is_true(n >= 2 and n <= secs / 0.1 + 1, n .. " in " .. secs .. " s")
      assert.equal(0, last_connection().heartbeats)
      assert.equal(1, fake.ws_stats().handshakes)
    end)

    it("times out next(timeout) within its time, and goes on afterwards", function()
      local sub = subscribe()
      past_response(sub)
      local secs, msg, err = sockets.timed(sub.next, sub, 0.2)
      assert.is_nil(msg)
      assert.equal("timeout", err.kind)
      assert.equal("event/subscription", err.action)
      assert.is_true(secs >= 0.19 and secs < sockets.bound(0.5), secs)
      secs, msg, err = sockets.timed(sub.next, sub, 0)
      assert.is_nil(msg)
      assert.equal("timeout", err.kind)
      assert.is_true(secs < sockets.bound(0.05))
      fake.ws_emit{ event = "state_batch" }
      assert.equal("state_batch", next_msg(sub).event)
    end)

    it("gives JSON text with decode = false", function()
      local sub = subscribe(nil, { decode = false })
      local text = next_msg(sub)
      assert.equal("string", type(text))
      assert.equal("response", cjson.decode(text).type)
      next_msg(sub)
      fake.ws_emit{ event = "state_batch", data = { { source_id = 7 } } }
      text = next_msg(sub)
      assert.matches('^{.*"data":%[{"source_id":7}%].*}$', text) -- as sent
      assert.equal("state_batch", cjson.decode(text).event)
    end)

    it("iterates with events() until the subscription is closed", function()
      local sub = subscribe()
      local seen = {}
      for msg in sub:events() do
        seen[#seen + 1] = msg.type
        if #seen == 2 then fake.ws_emit{ event = "state_batch", count = 3 } end
        if #seen == 5 then sub:close() end
      end
      assert.same({ "response", "event", "event", "event", "event" }, seen)
      assert.has_error(function() sub:next() end, "navixy: subscription is closed")
    end)

    it("hands on error answers as messages (code 7 here) and goes on", function()
      local sub = subscribe({ { type = "state_batch", target = { type = "all" }, rate_limit = "soon" } })
      local msg = next_msg(sub)
      assert.equal("error", msg.type)
      assert.equal(7, msg.status.code)
      assert.is_true(sub:subscribe{ { type = "state", trackers = { 2 } } })
      assert.same({ ["2"] = "normal" }, next_msg(sub).data.state.value)
    end)
  end)

  describe("sub:subscribe and sub:unsubscribe", function()
    it("change the subscriptions on the open connection", function()
      local sub = subscribe({ { type = "state", trackers = { 1 } } })
      past_response(sub)
      assert.is_true(sub:subscribe{ { type = "state", trackers = { 2 } } })
      assert.equal("response", next_msg(sub).type)
      assert.equal(10002, next_msg(sub).data.source_id)
      assert.is_true(sub:unsubscribe{ { type = "state", trackers = { 1 } } })
      assert.equal("subscription/unsubscribe", next_msg(sub).action)
      assert.equal(1, fake.ws_emit{ event = "state", trackers = { 1, 2 } })
      assert.equal(10002, next_msg(sub).data.source_id)
      assert.same({ "subscribe", "subscribe", "unsubscribe" },
                  { sent()[1].action, sent()[2].action, sent()[3].action })
    end)

    it("are remembered before the first read, and sent with the first connection", function()
      local sub = subscribe({ { type = "state", trackers = { 1, 2 } } })
      sub:subscribe{ { type = "state_batch", target = { type = "selected", tracker_ids = { 2 } } } }
      sub:unsubscribe{ { type = "state", trackers = { 1 } } }
      next_msg(sub)
      assert.same({ { action = "subscribe", hash = KEY, requests = {
        { type = "state", trackers = { 2 } },
        { type = "state_batch", target = { type = "selected", tracker_ids = { 2 } } } } } }, sent())
    end)

    it("raise on requests they cannot follow, and on a closed subscription", function()
      local sub = subscribe()
      for _, bad in ipairs{ "x", {}, { { type = 1 } }, { { type = "state" } },
                            { { type = "state", trackers = { 1.5 } } },
                            { { type = "state_batch" } }, { { type = "state_batch", target = { type = "some" } } },
                            { { type = "state_batch", target = { type = "selected" } } },
                            { [1] = { type = "state", trackers = { 1 } }, x = 1 } } do
        assert.has_error(function() sub:subscribe(bad) end)
        assert.has_error(function() sub:unsubscribe(bad) end)
      end
      sub:close()
      assert.has_error(function() sub:subscribe(STATE_BATCH) end, "navixy: subscription is closed")
      assert.equal(0, fake.ws_stats().handshakes)
    end)
  end)

  describe("when the connection is lost", function()
    it("connects again after the backoff and subscribes to the current set; events resume", function()
      local sub, statuses = subscribe({ { type = "state", trackers = { 1 } } })
      past_response(sub)
      sub:subscribe{ { type = "state_batch", target = { type = "all" }, rate_limit = "5s" } }
      sub:unsubscribe{ { type = "state_batch", target = { type = "selected", tracker_ids = { 2 } } } }
      for _ = 1, 3 do next_msg(sub) end
      local before = last_connection()
      assert.equal(1, fake.ws_fault{ type = "drop" })
      local t0 = sockets.now()
      local res = next_msg(sub, sockets.bound(3))
      assert.equal("response", res.type)
      local reconnecting = statuses[2]
      assert.equal("reconnecting", reconnecting.status)
      assert.equal("transport", reconnecting.kind)
      assert.is_true(reconnecting.retry_in >= 0 and reconnecting.retry_in <= 0.5)
      assert.equal("connected", statuses[3].status)
      assert.equal(2, statuses[3].connection)
      repeat -- the states sent after subscribing, up to the answer to the unsubscribe
        local msg = next_msg(sub)
      until msg.action == "subscription/unsubscribe"
      local after = last_connection()
      assert.are_not.equal(before.id, after.id)
      assert.same(before.subs, after.subs) -- the same set on the new connection
      fake.ws_emit{ event = "state", trackers = { 1 } }
      local ev = next_msg(sub)
      assert.equal(10001, ev.data.source_id)
      assert.is_true(sockets.now() - t0 < 1 + reconnecting.retry_in + sockets.bound(0.5))
      assert.is_true(eventually(function() return open_connections() == 1 end)) -- the old one is gone
      local msgs = sent()
      assert.same({ action = "subscribe", hash = KEY, requests = {
        { type = "state", trackers = { 1 } },
        { type = "state_batch", target = { type = "all" }, rate_limit = "5s" } } }, msgs[4])
      assert.same({ action = "unsubscribe", hash = KEY, requests = {
        { type = "state_batch", target = { type = "selected", tracker_ids = { 2 } } } } }, msgs[5])
    end)

    it("takes silence longer than `silence` as a lost connection", function()
      fake.ws_config{ server_heartbeat_ms = 100 }
      local sub, statuses = subscribe(nil, { silence = 0.3 })
      past_response(sub)
      fake.ws_fault{ type = "stop_heartbeats" }
      local t0 = sockets.now()
      assert.equal("response", next_msg(sub, sockets.bound(3)).type)
      local secs = sockets.now() - t0
      assert.equal("reconnecting", statuses[2].status)
      assert.equal("timeout", statuses[2].kind)
      assert.equal("heartbeat", statuses[2].phase)
      assert.matches("no frame from the server for", statuses[2].description)
      assert.is_true(secs >= 0.2 and secs < sockets.bound(0.3 + 0.1 + 0.5 + 0.5), secs)
      assert.is_true(eventually(function() return open_connections() == 1 end))
      assert.equal(2, fake.ws_stats().handshakes)
    end)

    -- issue 21 item 7: the client gave up after 1.5 announced intervals without an "X",
    -- though Atmosphere's server sends its own far less often (60 s by default)
    it("keeps a quiet connection while frames come within `silence`, whatever was announced", function()
      fake.ws_config{ heartbeat_ms = 50, server_heartbeat_ms = 250 }
      -- silence: 12 of the server's 250 ms intervals, so that a busy machine delaying its frames
      -- (a second's gap was seen under valgrind) does not end the connection the spec keeps
      local sub, statuses = subscribe(nil, { silence = 3 })
      past_response(sub)
      local msg, err = sub:next(0.8) -- 16 announced intervals without a frame of the server's
      assert.is_nil(msg)
      assert.equal("timeout", err.kind)
      assert.equal(1, #statuses)
      assert.equal(1, fake.ws_stats().handshakes)
      assert.is_true(last_connection().heartbeats_in >= 2)
    end)

    it("connects again when the server closes, and says with which code", function()
      local sub, statuses = subscribe()
      past_response(sub)
      fake.ws_fault{ type = "close", code = 4000, reason = "maintenance" }
      assert.equal("response", next_msg(sub, sockets.bound(3)).type)
      assert.equal("closed", statuses[2].phase)
      assert.matches("code 4000", statuses[2].description)
      assert.matches("maintenance", statuses[2].description)
      assert.is_true(eventually(function() return fake.ws_stats().connections[1].client_close ~= nil end))
      assert.equal(4000, fake.ws_stats().connections[1].client_close.code) -- the close was echoed
    end)

    it("connects again after frames a server must not send", function()
      local sub, statuses = subscribe()
      past_response(sub)
      fake.ws_fault{ type = "raw", hex = hex(frames.frame("text", "x", { rsv = 0x20 })) }
      assert.equal("response", next_msg(sub, sockets.bound(3)).type)
      assert.equal("transport", statuses[2].kind)
      assert.is_true(eventually(function() return fake.ws_stats().connections[1].client_close ~= nil end))
      assert.equal(1002, fake.ws_stats().connections[1].client_close.code)
    end)

    it("keeps trying with a growing backoff, up to `retries` attempts in a row", function()
      local port = sockets.refused()
      local sub, statuses = subscribe(nil, { retries = 2 }, { url = ("http://127.0.0.1:%d/v2"):format(port) })
      local secs, msg, err = sockets.timed(sub.next, sub)
      assert.is_nil(msg)
      assert.equal("transport", err.kind)
      assert.equal("connect", err.phase)
      assert.equal(2, #statuses)
      for i, s in ipairs(statuses) do
        assert.equal("reconnecting", s.status)
        assert.equal(i, s.failures)
        assert.is_true(s.retry_in <= 0.5 * 2 ^ (i - 1))
      end
      assert.is_true(secs < sockets.bound(0.5 + 1 + 1))
      assert.equal(err, select(2, sub:next())) -- final: the same error again
      assert.equal("navixy subscription (127.0.0.1:" .. port .. "/v2/event/subscription, ended: transport, "
        .. "state_batch, hash a6aa...)", tostring(sub))
    end)

    it("takes a server that upgrades and then says nothing as lost, after `timeout`", function()
      local port = require("ws_peer").start("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        .. "Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n")
      -- `timeout` bounds the upgrade too, which the peer (another process) answers: 1 s, not
      -- the 0.3 s this spec had, which a busy machine's peer missed now and then (the spec then
      -- saw a timeout in the handshake); the greeting's wait is still the whole timeout
      local sub, statuses = subscribe(nil, { timeout = 1, retries = 0 },
                                      { url = ("http://127.0.0.1:%d/v2"):format(port) })
      local secs, msg, err = sockets.timed(sub.next, sub)
      assert.is_nil(msg)
      assert.equal("timeout", err.kind)
      assert.equal("recv", err.phase)
      assert.equal("no greeting from the server in time", err.description)
      assert.is_true(secs >= 0.99 and secs < sockets.bound(1 + 1), secs) -- the upgrade, then the wait
      assert.equal(0, #statuses)
    end)

    it("ends at the first failure with reconnect = false", function()
      local sub, statuses = subscribe(nil, { reconnect = false })
      past_response(sub)
      fake.ws_fault{ type = "drop" }
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("transport", err.kind)
      assert.equal("recv", err.phase)
      assert.equal(1, #statuses)
      assert.equal(1, fake.ws_stats().handshakes)
    end)

    it("reads the next message across calls of next(timeout) while it waits to reconnect", function()
      local sub = subscribe()
      past_response(sub)
      fake.ws_fault{ type = "drop" }
      local msg
      for _ = 1, 200 do
        msg = sub:next(0.01)
        if msg then break end
      end
      assert.equal("response", msg and msg.type)
    end)
  end)

  describe("when the session ends", function()
    it("logs in again once with credentials, and subscribes again", function()
      local sub, statuses = subscribe(nil, nil, { hash = false, login = demo.login, password = demo.password })
      past_response(sub)
      assert.equal(1, fake.stats().logins)
      fake.expire_sessions() -- the fake sends a logout event
      local res = next_msg(sub, sockets.bound(3))
      assert.equal("response", res.type)
      assert.equal(2, fake.stats().logins)
      assert.equal("login", statuses[2].status)
      assert.equal(1, fake.ws_stats().handshakes) -- on the same connection
      local msgs = sent()
      assert.are_not.equal(msgs[1].hash, msgs[2].hash)
      next_msg(sub)
      fake.ws_emit{ event = "state_batch" }
      assert.equal("state_batch", next_msg(sub).event)
      -- and again later: once per ended session
      fake.expire_sessions()
      assert.equal("response", next_msg(sub, sockets.bound(3)).type)
      assert.equal(3, fake.stats().logins)
    end)

    it("logs in again on error 4, with a hash that has ended", function()
      local c = client { hash = false, login = demo.login, password = demo.password }
      assert(c:login())
      local old = c:get_hash()
      fake.expire_sessions()
      c:set_hash(old)
      local statuses = {}
      local sub = c:subscribe(STATE_BATCH, { on_status = function(i) statuses[#statuses + 1] = i end })
      opened[#opened + 1] = sub
      assert.equal("response", next_msg(sub).type)
      assert.equal(2, fake.stats().logins)
      assert.same({ "connected", "login" }, { statuses[1].status, statuses[2].status })
    end)

    it("ends with the error without credentials: a logout event", function()
      local sub = subscribe()
      past_response(sub)
      fake.ws_fault{ type = "logout" }
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("api", err.kind)
      assert.equal(4, err.code)
      assert.matches("logout event", err.description)
      assert.equal("logout", err.response.event)
      assert.is_true(eventually(function() return open_connections() == 0 end))
    end)

    it("ends with the error without credentials: error 3 (a malformed hash)", function()
      local sub = subscribe(nil, nil, { hash = "not-a-real-hash-at-all" })
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("api", err.kind)
      assert.equal(3, err.code)
      assert.equal("subscription/subscribe", err.action)
      assert.equal("navixy: subscription/subscribe: api error 3: Wrong hash", tostring(err))
    end)

    it("gives up when the new session ends at once too (logs in once)", function()
      local sub = subscribe(nil, nil, { hash = false, login = demo.login, password = demo.password })
      past_response(sub)
      -- two logout events in one write: the second comes before any answer to the new subscription
      local logout = frames.frame("text", '{"type":"event","event":"logout","data":"session closed"}')
      fake.ws_fault{ type = "raw", hex = hex(logout .. logout) }
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("api", err.kind)
      assert.equal(4, err.code)
      assert.equal(2, fake.stats().logins)
    end)
  end)

  describe("faults that end in an error", function()
    it("a message larger than max_message ends it, without reconnecting", function()
      local sub, statuses = subscribe(nil, { max_message = 64 * 1024 })
      past_response(sub)
      fake.ws_fault{ type = "oversized", bytes = 100 * 1024 }
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("transport", err.kind)
      assert.equal("limit", err.phase)
      assert.matches("65536 bytes", err.description)
      assert.equal(1, #statuses)
      assert.equal(1, fake.ws_stats().handshakes)
      assert.is_true(eventually(function() return fake.ws_stats().connections[1].client_close ~= nil end))
      assert.equal(1009, fake.ws_stats().connections[1].client_close.code)
    end)

    it("a large message within max_message, and a fragmented one, arrive whole", function()
      local sub = subscribe()
      past_response(sub)
      fake.ws_fault{ type = "oversized", bytes = 2 * 1024 * 1024 }
      assert.equal(2 * 1024 * 1024 - 64, #next_msg(sub).data.pad)
      fake.ws_fault{ type = "fragmented", parts = 4, ping = true }
      assert.equal(10001, next_msg(sub).data.source_id)
      assert.is_true(eventually(function() return fake.ws_stats().pongs_in == 1 end))
    end)

    it("a certificate nobody vouches for ends it at once", function()
      local sub, statuses = subscribe(nil, nil, { url = fake.tls_url })
      local msg, err = sub:next(sockets.bound(2))
      assert.is_nil(msg)
      assert.equal("transport", err.kind)
      assert.equal("tls", err.phase)
      assert.equal(0, #statuses)
    end)

    it("an upgrade refused with a 4xx ends it; a 5xx is tried again", function()
      fake.fault{ action = "event/subscription", type = "status", status = 503, body = "<html>busy</html>" }
      fake.fault{ action = "event/subscription", type = "status", status = 404, body = "<html>no</html>" }
      local sub, statuses = subscribe()
      local msg, err = sub:next(sockets.bound(3))
      assert.is_nil(msg)
      assert.equal("http", err.kind)
      assert.equal(404, err.status)
      assert.equal("<html>no</html>", err.body)
      assert.equal(1, #statuses)
      assert.equal("http", statuses[1].kind)
      assert.equal(503, statuses[1].http_status)
    end)

    it("over TLS, verified with ca_file, it works", function()
      local sub = subscribe(nil, nil, { url = fake.tls_url, ca_file = fake.ca_file })
      assert.equal("response", next_msg(sub).type)
      assert.equal("https", fake.last_request().scheme)
    end)
  end)

  describe("closing", function()
    it("does the close handshake once; close is idempotent and so is <close>", function()
      local sub = subscribe()
      past_response(sub)
      sub:close()
      sub:close()
      assert.is_true(eventually(function() return open_connections() == 0 end))
      assert.equal(1000, fake.ws_stats().connections[1].client_close.code)
      assert.equal("navixy subscription (closed)", tostring(sub))
      if _VERSION == "Lua 5.4" then
        local c = client()
        local run = load([[
          local c = ...
          local sub <close> = c:subscribe({ { type = "state", trackers = { 1 } } })
          assert(sub:next(2))
        ]])
        run(c)
        assert.is_true(eventually(function() return open_connections() == 0 end))
        assert.equal(1000, fake.ws_stats().connections[2].client_close.code)
      end
    end)

    it("closes with its client", function()
      local sub, _, c = subscribe()
      past_response(sub)
      c:close()
      assert.is_true(eventually(function() return open_connections() == 0 end))
      assert.has_error(function() sub:next() end, "navixy: subscription is closed")
    end)
  end)

  -- issue 19 items 1, 2, 4 and 6: servers that keep next busy, or drop it at once
  -- (spec/support/hostile's WebSocket modes)
  describe("against hostile servers", function()
    local hostile = require "hostile"
    local subscription = require "navixy.subscription"

    for _, frame in ipairs { "ping", "pong", "heartbeat" } do
      it("returns from next(1) in time while the server floods " .. frame .. "s", function()
        local sub = subscribe(nil, nil, { url = hostile.url("ws_flood", { frame = frame }), timeout = 5 })
        for _ = 1, 2 do
          local secs, msg, err = sockets.timed(sub.next, sub, 1)
          assert.is_nil(msg)
          assert.equal("timeout", err and err.kind)
          assert.is_true(secs >= 0.9 and secs < sockets.bound(3), "took " .. secs .. " s")
        end
      end)
    end

    -- the server floods pings and reads nothing: the answers pile up until a write blocks
    -- (hb: the interval it announces, so that the client also sends "X" every 0.1 s)
    for _, hb in ipairs { 30000, 100 } do
      it("answers pings and sends its heartbeats within next's time, not the client's timeout (" .. hb .. ")",
        function()
          local sub = subscribe(nil, { reconnect = false }, { url = hostile.url("ws_deaf", { hb = hb }), timeout = 8 })
          local err
          for _ = 1, 15 do -- until the writes block: a busy server may take a while to fill them
            local secs, msg, e = sockets.timed(sub.next, sub, 1)
            assert.is_nil(msg)
            assert.is_true(secs < sockets.bound(3), "took " .. secs .. " s")
            err = e
            if err.kind ~= "timeout" then break end
          end
          assert.equal("transport", err.kind) -- the writes could not go: the connection is lost
          assert.equal("send", err.phase)
        end)
    end

    -- Reads from `sub` for `secs` seconds; returns the reconnecting statuses' failures and
    -- how many connections it made.
    local function storm(sub, statuses, secs)
      local deadline = sockets.now() + secs
      while sockets.now() < deadline do sub:next(math.max(0, deadline - sockets.now())) end
      return require("reconnects")(statuses)
    end

    it("counts a connection that drops at once as a failure in a row, though it answered", function()
      local sub, statuses = subscribe(nil, nil, { url = hostile.url("ws_greet_drop") })
      local failures = storm(sub, statuses, 3)
      assert.is_true(#failures >= 2, #failures .. " reconnects")
      for i, n in ipairs(failures) do assert.equal(i, n) end -- the backoff grows: never reset
    end)

    it("opens at most CONNECTS_PER_MINUTE connections a minute, whatever the backoff", function()
      local random = math.random
      rawset(math, "random", function() return 0 end) -- a backoff of 0 every time
      local sub, statuses = subscribe(nil, nil, { url = hostile.url("ws_greet_drop") })
      local ok, failures, connected = pcall(storm, sub, statuses, 2)
      rawset(math, "random", random)
      assert(ok, failures)
      assert.equal(subscription.CONNECTS_PER_MINUTE, connected)
      assert.is_true(statuses[#statuses].retry_in > 50, statuses[#statuses].retry_in)
      assert.equal(subscription.CONNECTS_PER_MINUTE, #failures)
    end)
  end)

  describe("misuse", function()
    it("raises on bad requests and options, and for clients that cannot subscribe", function()
      local c = client()
      assert.has_error(function() c:subscribe() end)
      assert.has_error(function() c:subscribe(STATE_BATCH, { silense = 2 }) end,
        "navixy: unknown subscribe option 'silense' (did you mean 'silence'?)")
      assert.has_error(function() c:subscribe(STATE_BATCH, { silence = 0 }) end)
      assert.has_error(function() c:subscribe(STATE_BATCH, { silence = "long" }) end)
      assert.has_error(function() c:subscribe(STATE_BATCH, { retries = -1 }) end)
      assert.has_error(function() c:subscribe(STATE_BATCH, { on_status = "print" }) end)
      assert.has_error(function() c:subscribe(STATE_BATCH, "fast") end)
      assert.has_error(function() client{ hash = false }:subscribe(STATE_BATCH) end,
        "navixy: client:subscribe needs a hash or credentials (login and password)")
      local panel = client{ hash = false, panel = true, login = "20410", password = "panel-pass" }
      assert.has_error(function() panel:subscribe(STATE_BATCH) end)
      local sub = c:subscribe(STATE_BATCH)
      opened[#opened + 1] = sub
      assert.has_error(function() sub:next(-1) end)
      assert.has_error(function() sub:next("1") end)
      assert.has_error(function() sub.next() end)
      assert.equal(0, fake.ws_stats().handshakes)
    end)
  end)

  describe("secrets", function()
    it("never shows the hash in tostring, errors or statuses", function()
      local texts = {}
      local c = client{ hash = false, login = demo.login, password = demo.password }
      local sub = c:subscribe(STATE_BATCH, { on_status = function(i) texts[#texts + 1] = cjson.encode(i) end })
      opened[#opened + 1] = sub
      texts[#texts + 1] = tostring(sub)
      assert.equal("response", next_msg(sub).type)
      local hash = c:get_hash()
      texts[#texts + 1] = tostring(sub)
      local function until_response()
        repeat local msg = next_msg(sub, sockets.bound(3)) until msg.type == "response"
        assert.equal("event", next_msg(sub).type) -- the states after it
      end
      next_msg(sub)
      fake.ws_fault{ type = "drop" }
      until_response()
      fake.ws_fault{ type = "close", code = 4001, reason = "bye " .. hash }
      until_response()
      sub:close()
      local sub2 = client{ hash = KEY }:subscribe(STATE_BATCH, { retries = 0 })
      opened[#opened + 1] = sub2
      next_msg(sub2)
      fake.ws_fault{ type = "close", code = 4001, reason = "bye " .. KEY }
      local msg, err
      repeat msg, err = sub2:next(sockets.bound(2)) until not msg
      texts[#texts + 1] = tostring(err)
      texts[#texts + 1] = tostring(sub2)
      local all = table.concat(texts, "\n")
      assert.truthy(all:find("bye " .. hash:sub(1, 4) .. "...", 1, true), all)
      assert.truthy(all:find("a6aa...", 1, true), all)
      assert.falsy(all:find(hash, 1, true), all)
      assert.falsy(all:find(KEY, 1, true), all)
      assert.falsy(all:find(demo.password, 1, true), all)
    end)
  end)
end)

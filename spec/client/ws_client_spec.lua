-- The curl WebSocket transport of the C core (core.ws_connect and its ws object), against
-- the fake Navixy server's /v2/event/subscription and, for answers the fake never gives, a
-- one-shot peer (spec/support/ws_peer.lua). What client:subscribe will be built on.
local core = require "navixy.core"
local fake = require "fake"
local sockets = require "sockets"
local files = require "local_files"
local peer = require "ws_peer"
local proxy = require "tunnel_proxy"
local frames = require "ws_frames"
local socket = require "socket"
local setup = require "setup"

-- misuse our own checks catch raises "navixy: ..." with no position
local function raises_navixy(fn, label)
  assert.matches("^navixy: ", setup.raised(fn), nil, label)
end

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

local function connect(opts)
  opts = opts or {}
  opts.url = opts.url or fake.ws_url
  opts.timeout = opts.timeout or 5
  return core.ws_connect(opts)
end

-- A connection past the Atmosphere handshake frame.
local function open(opts)
  local ws = assert(connect(opts))
  local first = assert(ws:recv(2))
  assert.matches("^[%x-]+|%d+|X|$", first.data)
  return ws
end

local function subscribe(ws, requests)
  assert(ws:send_text(('{"action":"subscribe","hash":"%s","requests":%s}'):format(fake.api_key, requests)))
end

-- The fake's record of a connection (the only one, unless an id is given).
local function conn_record(id)
  local list = fake.ws_stats().connections
  if not id then return list[#list] end
  for _, c in ipairs(list) do if c.id == id then return c end end
end

-- Waits until the fake has seen the connection end.
local function wait_closed()
  local deadline = sockets.now() + sockets.bound(2)
  while fake.ws_stats().open > 0 and sockets.now() < deadline do socket.sleep(0.01) end
  return fake.ws_stats().open == 0
end

describe("core.ws_connect", function()
  before_each(fake.reset)
  after_each(function() collectgarbage() end)

  it("upgrades to a WebSocket over http:// and ws:// URLs", function()
    for _, url in ipairs{ fake.ws_url, (fake.ws_url:gsub("^http:", "ws:")) } do
      local ws = open{ url = url }
      assert.equal("open", ws:state())
      ws:close()
    end
    assert.equal(2, fake.ws_stats().handshakes)
  end)

  it("sends the extra header lines with the upgrade", function()
    local ws = open{ headers = { "User-Agent: navixy-lua/test", "Authorization: NVX " .. fake.api_key } }
    local req = fake.last_request()
    assert.equal("event/subscription", req.action)
    assert.equal("GET", req.method)
    assert.equal("navixy-lua/test", req.headers["user-agent"])
    assert.equal("NVX " .. fake.api_key, req.headers.authorization)
    assert.equal("13", req.headers["sec-websocket-version"])
    assert.equal("true", req.query["X-atmo-protocol"])
    ws:close()
  end)

  it("names host and path in tostring, never the query", function()
    local ws = open{ url = fake.ws_url .. "&hash=" .. fake.api_key }
    local s = tostring(ws)
    assert.equal(("navixy.core ws (127.0.0.1:%d/v2/event/subscription, open)"):format(fake.port), s)
    ws:close()
    assert.equal("navixy.core ws (closed)", tostring(ws))
  end)

  describe("over TLS", function()
    it("verifies the server with ca_file", function()
      local ws = open{ url = fake.ws_tls_url, ca_file = fake.ca_file }
      ws:close()
    end)

    it("refuses a certificate nobody vouches for, or one for another name", function()
      local ws, err = connect{ url = fake.ws_tls_url }
      assert.is_nil(ws)
      assert.equal("transport", err.kind)
      assert.equal("tls", err.phase)
      assert.matches("certificate", err.description:lower())
      local other = fake.ws_tls_url:gsub(":" .. fake.tls_port .. "/", ":" .. fake.other_tls_port .. "/")
      ws, err = connect{ url = other, ca_file = fake.ca_file }
      assert.is_nil(ws)
      assert.equal("tls", err.phase)
      assert.matches("name", err.description)
      assert.equal(0, fake.ws_stats().handshakes)
    end)

    it("skips verification with ssl_verify = false", function()
      open{ url = fake.ws_tls_url, ssl_verify = false }:close()
    end)
  end)

  it("goes through an HTTP proxy in a tunnel (CONNECT), TLS inside it", function()
    for _, opts in ipairs{ { url = fake.ws_url }, { url = fake.ws_tls_url, ca_file = fake.ca_file } } do
      local port, log = proxy.start()
      opts.proxy = ("http://127.0.0.1:%d"):format(port)
      local ws = open(opts)
      assert.is_true(ws:ping())
      ws:close()
      local target = opts.url:match("^https?://([^/]+)")
      assert.equal("CONNECT " .. target .. " HTTP/1.1\n", log())
    end
    assert.equal(2, fake.ws_stats().handshakes)
  end)

  describe("fails with an error table", function()
    it("when nothing listens", function()
      local ws, err = connect{ url = ("http://127.0.0.1:%d/v2/event/subscription"):format(sockets.refused()) }
      assert.is_nil(ws)
      assert.equal("transport", err.kind)
      assert.equal("connect", err.phase)
    end)

    it("when the connect takes longer than connect_timeout", function()
      local port, close = sockets.blackhole()
      local secs, ws, err = sockets.timed(connect, { url = ("http://127.0.0.1:%d/"):format(port),
                                                     connect_timeout = 0.3 })
      close()
      assert.is_nil(ws)
      assert.equal("timeout", err.kind)
      assert.equal("connect", err.phase)
      assert.is_true(secs >= 0.25 and secs < sockets.bound(2))
    end)

    it("when the upgrade gets no answer within timeout", function()
      local server = assert(socket.bind("127.0.0.1", 0)) -- listens, never answers
      local _, port = server:getsockname()
      local secs, ws, err = sockets.timed(connect, { url = ("http://127.0.0.1:%d/"):format(port), timeout = 0.3 })
      server:close()
      assert.is_nil(ws)
      assert.equal("timeout", err.kind)
      assert.equal("handshake", err.phase)
      assert.is_true(secs >= 0.25 and secs < sockets.bound(2))
    end)

    it("when the server refuses the upgrade, with its status and body", function()
      fake.fault{ action = "event/subscription", type = "error", code = 4 }
      local ws, err = connect()
      assert.is_nil(ws)
      assert.equal("http", err.kind)
      assert.equal(400, err.status)
      assert.equal(4, require("cjson").decode(err.body).status.code)
      fake.fault{ action = "event/subscription", type = "status", status = 503, body = "<html>busy</html>" }
      ws, err = connect()
      assert.is_nil(ws)
      assert.equal(503, err.status)
      assert.equal("<html>busy</html>", err.body)
      assert.matches("HTTP 503", err.description)
      ws, err = connect{ url = fake.base .. "/v2/event/subscription" } -- no Atmosphere query
      assert.is_nil(ws)
      assert.equal(400, err.status)
    end)

    it("when the answer is not a valid upgrade", function()
      local cases = {
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          .. "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "wrong Sec%-WebSocket%-Accept" },
        { "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", "Upgrade" },
        { "HTTP/1.1 101 Switching Protocols\r\nX-Pad: " .. ("x"):rep(20000), "too long" },
      }
      for _, c in ipairs(cases) do
        local port = peer.start(c[1])
        local ws, err = connect{ url = ("http://127.0.0.1:%d/"):format(port), timeout = 2 }
        assert.is_nil(ws, c[2])
        assert.equal("protocol", err.kind)
        assert.equal("handshake", err.phase)
        assert.matches(c[2], err.description)
      end
      local port = peer.start("HTTP/1.1 101 Switch", "close") -- and the connection closes
      local ws, err = connect{ url = ("http://127.0.0.1:%d/"):format(port), timeout = 2 }
      assert.is_nil(ws)
      assert.equal("transport", err.kind)
      assert.equal("handshake", err.phase)
    end)
  end)

  it("raises on misuse, before connecting", function()
    local bad = {
      {}, { url = 42 }, { url = "ftp://h/" }, { url = "http://" }, { url = "http://u:p@h/" },
      { url = "http://h/#frag" }, { url = "http://h/ x" }, { url = fake.ws_url, timeout = -1 },
      { url = fake.ws_url, timeout = "5" }, { url = fake.ws_url, max_message = 0 },
      { url = fake.ws_url, headers = "User-Agent: x" }, { url = fake.ws_url, headers = { "Host: other" } },
      { url = fake.ws_url, headers = { "X-A: b\r\nX-C: d" } }, { url = fake.ws_url, ca_file = "a\nb" },
      { url = fake.ws_url, nonsense = true },
    }
    for i, opts in ipairs(bad) do
      raises_navixy(function() core.ws_connect(opts) end, "case " .. i)
    end
    assert.has_error(function() core.ws_connect() end)
    assert.equal(0, fake.ws_stats().handshakes)
  end)
end)

describe("a ws object", function()
  before_each(fake.reset)
  after_each(function() collectgarbage() end)

  it("receives messages and times out with kind 'timeout' when none comes", function()
    local ws = open()
    local secs, msg, err = sockets.timed(ws.recv, ws, 0.2)
    assert.is_nil(msg)
    assert.equal("timeout", err.kind)
    assert.is_true(secs >= 0.15 and secs < sockets.bound(1))
    assert.equal("open", ws:state())
    subscribe(ws, '[{"type":"state","trackers":[1]}]')
    msg = assert(ws:recv(2))
    assert.equal("text", msg.type)
    assert.matches('"type":"response"', msg.data)
    assert.matches('"event":"state"', assert(ws:recv(2)).data)
    msg, err = ws:recv(0) -- only what has arrived
    assert.is_nil(msg)
    assert.equal("timeout", err.kind)
    ws:close()
  end)

  it("keeps a frame that arrived in part for the next call", function()
    local ws = open()
    local bytes = hex(frames.frame("text", "hello, world"))
    fake.ws_fault{ type = "raw", hex = bytes:sub(1, 10) }
    local msg, err = ws:recv(0.3)
    assert.is_nil(msg)
    assert.equal("timeout", err.kind)
    fake.ws_fault{ type = "raw", hex = bytes:sub(11) }
    assert.same({ type = "text", data = "hello, world" }, assert(ws:recv(2)))
    ws:close()
  end)

  it("joins a fragmented message and answers the ping between its fragments", function()
    local ws = open()
    fake.ws_fault{ type = "fragmented", parts = 5, ping = true, text = '{"type":"event","event":"state","data":{}}' }
    local msg = assert(ws:recv(2))
    assert.equal('{"type":"event","event":"state","data":{}}', msg.data)
    ws:close()
    assert.equal(1, fake.ws_stats().pongs_in)
  end)

  it("sends text, binary and pings; the pong it gets back is not a message", function()
    local ws = open()
    assert.is_true(ws:ping("are you there"))
    assert.is_true(ws:send_binary("\0\1"))
    assert.matches('"code":5', assert(ws:recv(2)).data) -- not JSON: the fake says so
    subscribe(ws, '[{"type":"state_batch","target":{"type":"all"}}]')
    assert.matches('"type":"response"', assert(ws:recv(2)).data)
    raises_navixy(function() ws:ping(("x"):rep(126)) end)
    assert.has_error(function() ws:send_text(nil) end)
    raises_navixy(function() ws:recv(-1) end)
    ws:close()
    local sent = fake.ws_messages()
    assert.equal(2, #sent)
    assert.equal("\0\1", sent[1].text)
    assert.matches('"action":"subscribe"', sent[2].text)
  end)

  it("reports the server's close with its code and reason, after echoing it", function()
    local ws = open()
    local id = conn_record().id
    fake.ws_fault{ type = "close", code = 4001, reason = "bye now" }
    local msg, err = ws:recv(2)
    assert.is_nil(msg)
    assert.same({ kind = "closed", code = 4001, reason = "bye now", phase = "recv",
                  description = "the server closed the WebSocket (code 4001)" }, err)
    assert.equal("ended", ws:state())
    assert.matches("ended: closed", tostring(ws))
    local none, again = ws:recv(1)
    assert.is_nil(none)
    assert.same(err, again)
    none, again = ws:send_text("x")
    assert.is_nil(none)
    assert.same(err, again)
    assert.is_true(wait_closed())
    assert.equal(4001, conn_record(id).client_close.code)
    ws:close()
  end)

  it("reports a dropped connection as a transport error with code 1006", function()
    local ws = open()
    fake.ws_fault{ type = "drop" }
    local msg, err = ws:recv(2)
    assert.is_nil(msg)
    assert.equal("transport", err.kind)
    assert.equal(1006, err.code)
    assert.equal("ended", ws:state())
    ws:close()
  end)

  it("fails a message over max_message with 1009, and tells the server so", function()
    local ws = open{ max_message = 4096 }
    fake.ws_fault{ type = "oversized", bytes = 5000 }
    local msg, err = ws:recv(2)
    assert.is_nil(msg)
    assert.equal("protocol", err.kind)
    assert.equal(1009, err.code)
    assert.is_true(wait_closed())
    assert.equal(1009, conn_record().client_close.code)
    ws:close()
  end)

  it("fails on frames a server must not send, with the close code RFC 6455 gives", function()
    local cases = {
      { frames.frame("text", "hello", { mask = "\1\2\3\4" }), 1002 },
      { frames.frame("text", "\192\128"), 1007 },
      { frames.frame("text", "x", { rsv = 0x20 }), 1002 },
      { frames.frame("binary", "", { length = 2 ^ 62, length_bytes = 8 }), 1009 },
      { frames.frame("binary", "", { length = 2 ^ 63, length_bytes = 8 }), 1002 },
    }
    for _, c in ipairs(cases) do
      local ws = open()
      fake.ws_fault{ type = "raw", hex = hex(c[1]) }
      local msg, err = ws:recv(2)
      assert.is_nil(msg)
      assert.equal("protocol", err.kind)
      assert.equal(c[2], err.code)
      assert.is_true(wait_closed())
      assert.equal(c[2], conn_record().client_close.code)
      ws:close()
    end
  end)

  it("closes with a close handshake, once; then raises on use", function()
    local ws = open()
    local id = conn_record().id
    assert.is_true(ws:close(4000, "done here"))
    assert.is_true(ws:close())
    assert.equal("closed", ws:state())
    assert.is_true(wait_closed())
    assert.same({ code = 4000, reason = "done here" }, conn_record(id).client_close)
    assert.has_error(function() ws:recv(0) end, "navixy: ws is closed")
    assert.has_error(function() ws:send_text("x") end, "navixy: ws is closed")
    assert.has_error(function() ws:ping() end, "navixy: ws is closed")
  end)

  it("sends its close without waiting for the server's with wait = 0", function()
    local ws = open()
    local id = conn_record().id
    raises_navixy(function() ws:close(1000, nil, -1) end)
    assert.has_error(function() ws:close(1000, nil, "soon") end)
    assert.equal("open", ws:state())
    local secs = sockets.timed(ws.close, ws, 4002, "gone", 0)
    assert.is_true(secs < sockets.bound(0.05))
    assert.equal("closed", ws:state())
    assert.is_true(wait_closed())
    assert.same({ code = 4002, reason = "gone" }, conn_record(id).client_close)
  end)

  it("refuses close codes and reasons that may not be sent", function()
    local ws = open()
    for i, args in ipairs{ { 1005 }, { 999 }, { 1000, ("x"):rep(124) }, { 1000, "\255" } } do
      raises_navixy(function() ws:close(args[1], args[2]) end, "case " .. i)
    end
    assert.has_error(function() ws:close("x") end)
    assert.equal("open", ws:state())
    ws:close()
  end)

  it("is closed by the collector with code 1001, without waiting", function()
    local function abandon() open() end
    abandon()
    local id = conn_record().id
    collectgarbage()
    collectgarbage()
    assert.is_true(wait_closed())
    assert.equal(1001, conn_record(id).client_close.code)
  end)

  if _VERSION == "Lua 5.4" then
    it("is closed at the end of a <close> scope", function()
      local run = assert(load([[
        local ws <close> = ...
        return ws:state()
      ]]))
      local ws = open()
      local id = conn_record().id
      assert.equal("open", run(ws))
      assert.equal("closed", ws:state())
      assert.equal(1000, conn_record(id).client_close.code)
    end)
  end

  it("leaves no descriptor behind", function()
    local function abandon(n) for _ = 1, n do assert(connect()) end end -- left to the collector
    local function cycle(n)
      for _ = 1, n do open():close() end
      abandon(n)
      collectgarbage()
      collectgarbage()
    end
    cycle(1) -- whatever the first use opens for good
    local before = files.open_fds()
    cycle(20)
    -- a leak would keep 40 (20 closed, 20 abandoned); libcurl may hold one or two
    -- of its own for a moment (its resolver's thread, its connection cache) on a busy
    -- machine, and may have closed a pooled connection meanwhile
    local after = files.open_fds()
    assert.is_true(after <= before + 2, ("%d descriptors, %d before"):format(after, before))
  end)

  it("gets an event the fake emits within milliseconds", function()
    local ws = open()
    subscribe(ws, '[{"type":"state_batch","target":{"type":"all"}}]')
    assert(ws:recv(2)) -- the response
    assert(ws:recv(2)) -- the current states
    local t0 = sockets.now()
    assert.equal(1, fake.ws_emit{ event = "state_batch", trackers = { 1 } })
    local msg = assert(ws:recv(2))
    assert.matches('"event":"state_batch"', msg.data)
    assert.is_true(sockets.now() - t0 < sockets.bound(0.1))
    ws:close()
  end)
end)

-- The WebSocket framing of the C core as Lua sees it (core.ws_handshake, ws_accept_ok,
-- ws_check_answer, ws_frame, ws_parser): what the nginx transport builds on, and the same
-- C the curl transport runs. Pure: no server. The other side of each exchange is written
-- by hand (spec/support/ws_frames.lua), from RFC 6455.
local core = require "navixy.core"
local frames = require "ws_frames"
local files = require "local_files"

local frame, close_payload = frames.frame, frames.close_payload
local RFC_KEY, RFC_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" -- RFC 6455 1.3

local function answer(lines)
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function good_answer(extra)
  local lines = { "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                  "Sec-WebSocket-Accept: " .. RFC_ACCEPT }
  for _, l in ipairs(extra or {}) do lines[#lines + 1] = l end
  return answer(lines)
end

-- Feeds the bytes in one piece and byte by byte: both must give the same events and reply.
local function feed_both(max, bytes)
  local whole = core.ws_parser(max)
  local events, reply = whole:feed(bytes)
  local split = core.ws_parser(max)
  local events2, replies = {}, {}
  for i = 1, #bytes do
    local evs, r = split:feed(bytes:sub(i, i))
    for _, e in ipairs(evs) do events2[#events2 + 1] = e end
    replies[#replies + 1] = r
  end
  assert.same(events, events2)
  -- the replies hold fresh masks: compare what they carry
  local a, b = frames.read(reply), frames.read(table.concat(replies))
  assert.equal(#a, #b)
  for i = 1, #a do
    assert.equal(a[i].opcode, b[i].opcode)
    assert.equal(a[i].payload, b[i].payload)
  end
  return events, reply
end

-- The error a stream ends with; the reply must end with our close frame carrying its code.
local function error_of(max, bytes)
  local events, reply = feed_both(max, bytes)
  local last = events[#events]
  assert.equal("error", last.type)
  local close = frames.read_one(reply:sub(-(2 + 4 + 2)))
  assert.equal(8, close.opcode)
  assert.equal(last.code, close.code)
  return last.code, last.description
end

describe("the SHA-1 and base64 of the WebSocket handshake", function()
  -- names of this process's own: lanes run this spec on several Luas at once
  local driver = files.unique("ws_vectors")

  setup(function()
    local r = os.execute("cc -std=c99 -Wall -Werror -Icsrc -o " .. driver ..
      " spec/support/ws_vectors.c csrc/util/sha1.c csrc/util/base64.c")
    assert(r == true or r == 0, "cannot build the driver")
  end)

  local function run(lines)
    local input = driver .. ".in"
    local f = assert(io.open(input, "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    local out = {}
    local p = io.popen(driver .. " < " .. input)
    for l in p:lines() do out[#out + 1] = l end
    p:close()
    return out
  end

  local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

  it("gives the FIPS 180 SHA-1 test vectors", function()
    local out = run{
      "sha1 ", "sha1 " .. hex("abc"),
      "sha1 " .. hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "sha1 " .. hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                     .. "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
      "sha1 million-a",
    }
    assert.same({
      "da39a3ee5e6b4b0d3255bfef95601890afd80709", "a9993e364706816aba3e25717850c26c9cd0d89d",
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "a49b2446a02c645bf419f995b67091253a04a259",
      "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
    }, out)
  end)

  it("gives the RFC 4648 base64 test vectors", function()
    local inputs, lines = { "", "f", "fo", "foo", "foob", "fooba", "foobar" }, {}
    for i, s in ipairs(inputs) do lines[i] = "base64 " .. hex(s) end
    assert.same({ "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" }, run(lines))
  end)

  it("agrees with Python's hashlib and base64 on every length around the block edges", function()
    local lines, py = {}, {}
    for n = 0, 200 do
      local s = {}
      for i = 1, n do s[i] = string.char((i * 7 + n) % 256) end
      lines[#lines + 1] = "sha1 " .. hex(table.concat(s))
      lines[#lines + 1] = "base64 " .. hex(table.concat(s))
    end
    local script = "import sys,hashlib,base64\n" ..
      "for n in range(201):\n" ..
      "  s=bytes((i*7+n)%256 for i in range(1,n+1))\n" ..
      "  print(hashlib.sha1(s).hexdigest()); print(base64.b64encode(s).decode())\n"
    local f = assert(io.open(driver .. ".py", "w"))
    f:write(script)
    f:close()
    local p = io.popen("python3 " .. driver .. ".py")
    for l in p:lines() do py[#py + 1] = l end
    p:close()
    assert.equal(402, #py)
    assert.same(py, run(lines))
  end)
end)

describe("core.ws_handshake", function()
  it("writes the upgrade request of RFC 6455 4.1 with a fresh 16-byte key", function()
    local req, key = core.ws_handshake("api.example.com:8443", "/v2/event/subscription?a=1",
      { "User-Agent: navixy-lua/test", "Authorization: NVX 0123" })
    assert.equal(table.concat({
      "GET /v2/event/subscription?a=1 HTTP/1.1", "Host: api.example.com:8443", "Upgrade: websocket",
      "Connection: Upgrade", "Sec-WebSocket-Key: " .. key, "Sec-WebSocket-Version: 13",
      "User-Agent: navixy-lua/test", "Authorization: NVX 0123", "", "" }, "\r\n"), req)
    assert.matches("^[%w+/]+==$", key)
    assert.equal(24, #key) -- base64 of 16 bytes
    local _, other = core.ws_handshake("h", "/")
    assert.not_equal(key, other)
  end)

  it("refuses what would break or take over the request", function()
    assert.has_error(function() core.ws_handshake("h h", "/") end)
    assert.has_error(function() core.ws_handshake("h\r\nX: y", "/") end)
    assert.has_error(function() core.ws_handshake("", "/") end)
    assert.has_error(function() core.ws_handshake("h", "path") end)
    assert.has_error(function() core.ws_handshake("h", "/a b") end)
    assert.has_error(function() core.ws_handshake("h", "/", { "no colon" }) end)
    assert.has_error(function() core.ws_handshake("h", "/", { "X-A: b\r\nX-C: d" }) end)
    assert.has_error(function() core.ws_handshake("h", "/", { 42 }) end)
    for _, line in ipairs{ "Host: other", "upgrade: h2c", "Connection: close", "Sec-WebSocket-Key: x",
                           "sec-websocket-extensions: permessage-deflate" } do
      assert.has_error(function() core.ws_handshake("h", "/", { line }) end, nil, line)
    end
  end)
end)

describe("core.ws_accept_ok and core.ws_check_answer", function()
  it("know the accept value of RFC 6455's example key", function()
    assert.is_true(core.ws_accept_ok(RFC_KEY, RFC_ACCEPT))
    assert.is_false(core.ws_accept_ok(RFC_KEY, RFC_ACCEPT:lower()))
    assert.is_false(core.ws_accept_ok(RFC_KEY, ""))
    assert.is_false(core.ws_accept_ok(RFC_KEY:rep(20), RFC_ACCEPT))
  end)

  it("accept a valid 101 answer, names in any case, tokens in a list", function()
    assert.is_true(core.ws_check_answer(good_answer(), RFC_KEY))
    assert.is_true(core.ws_check_answer(answer{ "HTTP/1.1 101 Switching Protocols", "upgrade:WebSocket",
      "CONNECTION: keep-alive, Upgrade", "sec-websocket-accept:   " .. RFC_ACCEPT .. "  ", "Server: x" }, RFC_KEY))
    -- bare LF line ends, as HTTP parsers tolerate
    assert.is_true(core.ws_check_answer((good_answer():gsub("\r\n", "\n")), RFC_KEY))
  end)

  it("say why an answer is not an upgrade, with its status", function()
    local ok, why, status = core.ws_check_answer(answer{ "HTTP/1.1 403 Forbidden", "Content-Length: 0" }, RFC_KEY)
    assert.is_nil(ok); assert.equal(403, status); assert.matches("did not switch", why)
    ok, why, status = core.ws_check_answer("SSH-2.0-OpenSSH\r\n\r\n", RFC_KEY)
    assert.is_nil(ok); assert.is_nil(status); assert.matches("not HTTP", why)
    local cases = {
      { { "Connection: Upgrade", "Sec-WebSocket-Accept: " .. RFC_ACCEPT }, "Upgrade: websocket" },
      { { "Upgrade: h2c", "Connection: Upgrade", "Sec-WebSocket-Accept: " .. RFC_ACCEPT }, "something else" },
      { { "Upgrade: websocket", "Connection: close", "Sec-WebSocket-Accept: " .. RFC_ACCEPT }, "Connection" },
      { { "Upgrade: websocket", "Connection: Upgrade" }, "no Sec%-WebSocket%-Accept" },
      { { "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: x" .. RFC_ACCEPT:sub(2) }, "wrong" },
      { { "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " .. RFC_ACCEPT,
          "Sec-WebSocket-Extensions: permessage-deflate" }, "extension" },
      { { "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " .. RFC_ACCEPT,
          "Sec-WebSocket-Protocol: chat" }, "subprotocol" },
      { { "Upgrade: websocket", "no colon here", "Sec-WebSocket-Accept: " .. RFC_ACCEPT }, "malformed" },
    }
    for _, c in ipairs(cases) do
      table.insert(c[1], 1, "HTTP/1.1 101 Switching Protocols")
      ok, why, status = core.ws_check_answer(answer(c[1]), RFC_KEY)
      assert.is_nil(ok, c[2])
      assert.matches(c[2], why)
      assert.equal(101, status)
    end
    ok, why = core.ws_check_answer(good_answer{ "X-Pad: " .. ("x"):rep(17000) }, RFC_KEY)
    assert.is_nil(ok); assert.matches("too long", why)
  end)
end)

describe("core.ws_frame", function()
  it("writes final, masked frames in the shortest length form", function()
    for _, n in ipairs{ 0, 1, 125, 126, 65535, 65536, 70000 } do
      local payload = ("x"):rep(n)
      local bytes = core.ws_frame("binary", payload)
      local f = frames.read_one(bytes)
      assert.is_true(f.fin)
      assert.is_true(f.masked)
      assert.equal(0, f.rsv)
      assert.equal(2, f.opcode)
      assert.equal(payload, f.payload)
      assert.equal(n < 126 and 6 or n < 65536 and 8 or 14, f.header_len)
    end
    assert.equal(1, frames.read_one(core.ws_frame("text", "hi")).opcode)
    assert.equal(9, frames.read_one(core.ws_frame("ping")).opcode)
    assert.equal(10, frames.read_one(core.ws_frame("pong", "p")).opcode)
  end)

  it("masks each frame with a new key (RFC 6455 10.3)", function()
    local keys = {}
    for _ = 1, 20 do keys[frames.read_one(core.ws_frame("text", "same")).key] = true end
    local n = 0
    for _ in pairs(keys) do n = n + 1 end
    assert.is_true(n >= 19)
  end)

  it("writes close frames with a code and a reason, or neither", function()
    local f = frames.read_one(core.ws_frame("close", "bye", 1000))
    assert.equal(8, f.opcode); assert.equal(1000, f.code); assert.equal("bye", f.reason)
    f = frames.read_one(core.ws_frame("close", nil, 4000))
    assert.equal(4000, f.code); assert.equal("", f.reason)
    assert.equal("", frames.read_one(core.ws_frame("close")).payload)
  end)

  it("refuses frames the protocol forbids", function()
    assert.has_error(function() core.ws_frame("ping", ("x"):rep(126)) end)
    assert.has_error(function() core.ws_frame("pong", ("x"):rep(126)) end)
    assert.has_error(function() core.ws_frame("close", "reason without a code") end)
    assert.has_error(function() core.ws_frame("close", ("x"):rep(124), 1000) end)
    assert.has_error(function() core.ws_frame("close", "\255", 1000) end)
    for _, code in ipairs{ 0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 70000 } do
      assert.has_error(function() core.ws_frame("close", "", code) end, nil, code)
    end
    assert.has_error(function() core.ws_frame("continuation", "x") end)
    assert.has_error(function() core.ws_frame("text", {}) end)
  end)
end)

describe("core.ws_parser", function()
  it("gives whole messages, however the bytes are cut", function()
    local events = feed_both(1000, frame("text", "hello") .. frame("binary", "\0\1\2") .. frame("text", ""))
    assert.same({ { type = "text", data = "hello" }, { type = "binary", data = "\0\1\2" },
                  { type = "text", data = "" } }, events)
  end)

  it("joins fragments, with control frames between them, and answers a ping with a pong", function()
    local bytes = frame("text", "frag", { fin = false }) .. frame("ping", "are you there")
      .. frame("continuation", "", { fin = false }) .. frame("pong", "late")
      .. frame("continuation", "mented") .. frame("binary", "b1", { fin = false })
      .. frame("continuation", "b2")
    local events, reply = feed_both(1000, bytes)
    assert.same({
      { type = "ping", data = "are you there" }, { type = "pong", data = "late" },
      { type = "text", data = "fragmented" }, { type = "binary", data = "b1b2" } }, events)
    local pong = frames.read_one(reply)
    assert.equal(10, pong.opcode)
    assert.is_true(pong.masked)
    assert.equal("are you there", pong.payload)
  end)

  it("answers a close with a close echoing its code, then ignores what follows", function()
    local events, reply = feed_both(1000, frame("close", close_payload(1001, "going away"))
      .. frame("text", "after the close"))
    assert.same({ { type = "close", code = 1001, reason = "going away" } }, events)
    local echo = frames.read_one(reply)
    assert.equal(8, echo.opcode); assert.equal(1001, echo.code)
    events, reply = feed_both(1000, frame("close", ""))
    assert.same({ { type = "close", reason = "" } }, events)
    assert.equal("", frames.read_one(reply).payload)
    local p = core.ws_parser(1000)
    assert.equal(1, #p:feed(frame("close", close_payload(1000)) .. frame("text", "x")))
    assert.same({}, (p:feed(frame("text", "later"))))
  end)

  it("does not echo a close when ours went first", function()
    local p = core.ws_parser(1000)
    local ours = frames.read_one(p:frame("close", "done", 1000))
    assert.equal(1000, ours.code)
    local events, reply = p:feed(frame("ping", "x") .. frame("close", close_payload(1000)))
    assert.equal("close", events[2].type)
    assert.equal("", reply) -- neither a pong nor a second close
    assert.equal("navixy.core ws_parser (closed)", tostring(p))
  end)

  it("takes UTF-8 split anywhere across fragments", function()
    local text = "Grüße, Ελλάδα, 日本, 🚚"
    local bytes = ""
    for i = 1, #text do
      bytes = bytes .. frame(i == 1 and "text" or "continuation", text:sub(i, i), { fin = i == #text })
    end
    assert.same({ { type = "text", data = text } }, (feed_both(1000, bytes)))
  end)

  it("fails with 1002 on frames RFC 6455 forbids, and closes with that code", function()
    local cases = {
      { frame("text", "x", { rsv = 0x40 }), "reserved bits" },
      { frame(3, "x"), "unknown opcode" },
      { frame(0xB, ""), "unknown opcode" },
      { frame("text", "x", { mask = "\1\2\3\4" }), "masked frame" },
      { frame("ping", ("x"):rep(126)), "over 125 bytes" },
      { frame("ping", "x", { fin = false }), "fragmented control" },
      { frame("continuation", "x"), "no message to continue" },
      { frame("text", "a", { fin = false }) .. frame("text", "b"), "before the last one ended" },
      { frame("close", "\3"), "close frame of 1 byte" },
      { frame("close", close_payload(1005)), "invalid code" },
      { frame("close", close_payload(999)), "invalid code" },
      { frame("close", close_payload(2000)), "invalid code" },
      { frame("binary", "", { length = 2 ^ 63, length_bytes = 8 }), "top bit" },
    }
    for _, c in ipairs(cases) do
      local code, why = error_of(1000, c[1])
      assert.equal(1002, code, c[2])
      assert.matches(c[2], why)
    end
  end)

  it("fails with 1007 on text that is not UTF-8", function()
    local bad_texts = { "\192\128", "\224\128\128", "\240\128\128\128", -- overlong
                        "\237\160\128", "\244\144\128\128", "\255", "\128", -- surrogate, > U+10FFFF, ...
                        "ok\226\130", "\195A" } -- cut short
    for _, bad in ipairs(bad_texts) do
      local code, why = error_of(1000, frame("text", bad))
      assert.equal(1007, code)
      assert.matches("not UTF%-8", why)
    end
    assert.equal(1007, (error_of(1000, frame("close", close_payload(1000, "\192\128")))))
    -- binary messages carry any bytes
    assert.same({ { type = "binary", data = "\255\192" } }, (feed_both(1000, frame("binary", "\255\192"))))
  end)

  it("fails with 1009 on a message over max_message, fragments counted together", function()
    assert.same({ { type = "text", data = ("x"):rep(100) } }, (feed_both(100, frame("text", ("x"):rep(100)))))
    assert.equal(1009, (error_of(100, frame("text", ("x"):rep(101)))))
    assert.equal(1009, (error_of(100, frame("text", ("x"):rep(60), { fin = false })
      .. frame("continuation", ("x"):rep(41)))))
    -- the length is refused as soon as the header says it, with no payload sent
    assert.equal(1009, (error_of(100, frame("binary", "", { length = 2 ^ 62, length_bytes = 8 }))))
  end)

  it("never allocates what a header announces: memory follows the bytes that came", function()
    local function rss_kb() return tonumber(files.read("/proc/self/status"):match("VmRSS:%s*(%d+)")) end
    local p = core.ws_parser(1e12)
    local before = rss_kb()
    local events = p:feed(frame("binary", "", { length = 5e11, length_bytes = 8 }) .. ("x"):rep(10))
    assert.same({}, events)
    assert.is_true(rss_kb() - before < 10 * 1024)
  end)

  it("reports its state in tostring and refuses misuse", function()
    local p = core.ws_parser()
    assert.equal("navixy.core ws_parser (open)", tostring(p))
    p:frame("close", "", 1000)
    assert.equal("navixy.core ws_parser (closing)", tostring(p))
    local q = core.ws_parser(10)
    q:feed(frame("text", "\255"))
    assert.equal("navixy.core ws_parser (failed)", tostring(q))
    assert.has_error(function() core.ws_parser(0) end)
    assert.has_error(function() core.ws_parser(-1) end)
    assert.has_error(function() p:feed(nil) end)
    assert.has_error(function() p:frame("nope") end)
  end)
end)

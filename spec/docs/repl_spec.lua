-- What a user at a Lua prompt sees: navixy.pretty, navixy.help, and the
-- tostring of clients, actions and errors.
local navixy = require "navixy"
local fake = require "fake"
local sockets = require "sockets"
local pretty = require "navixy.pretty"
local json = require "navixy.json"

local LUA = require "flavour"

describe("navixy.pretty", function()
  it("sorts keys and indents by two spaces", function()
    assert.equal('{\n  "a": 1,\n  "b": {\n    "c": [\n      true,\n      false\n    ]\n  }\n}',
      navixy.pretty { b = { c = { true, false } }, a = 1 })
  end)

  it("prints navixy.null as null, integral numbers without .0, others exactly", function()
    assert.equal('{"a":null,"b":3,"c":2.5,"d":0.1,"e":-7,"f":1e+300}',
      navixy.pretty({ a = navixy.null, b = 3.0, c = 2.5, d = 0.1, e = -7, f = 1e300 }, true))
  end)

  it("prints navixy.array() as [] and other empty tables as {}", function()
    assert.equal('{"a":[],"b":{}}', navixy.pretty({ a = navixy.array(), b = {} }, true))
  end)

  it("keeps UTF-8 and escapes only what JSON needs", function()
    assert.equal('"Grüße \\"🚚\\"\\n\\t\\u0001/"', navixy.pretty('Grüße "🚚"\n\t\1/'))
    -- what must not reach a terminal: DEL, C1 controls (U+009B: CSI), stray bytes
    assert.equal('"\\u007f\\u009b[2J\\u0080\\u009bé\\u00e9"', navixy.pretty("\127\194\155[2J\194\128\155é\233"))
  end)

  it("sorts keys of digits by number, other keys by bytes", function()
    assert.equal('{"2":1,"10":1,"100":1,"B":1,"a":1}',
      navixy.pretty({ ["10"] = 1, ["2"] = 1, ["100"] = 1, a = 1, B = 1 }, true))
  end)

  it("prints a decoded answer", function()
    local client = navixy.new { url = fake.url, hash = fake.api_key }
    local res = assert(client.tracker.get_state { tracker_id = 1 })
    client:close()
    local text = navixy.pretty(res)
    assert.truthy(text:find('\n  "state": {\n    "additional": {},\n    "battery_level": null,\n', 1, true))
    assert.truthy(text:find('"source_id": 10001', 1, true))
  end)

  it("prints an error's fields, and a client or an action as its tostring", function()
    local client = navixy.new { url = fake.url, hash = fake.api_key }
    local _, err = client.tracker.get_state { tracker_id = 99 }
    local text = navixy.pretty(err)
    assert.truthy(text:find('"code": 201,', 1, true))
    assert.truthy(text:find('"kind": "api",', 1, true))
    assert.equal('"' .. tostring(client) .. '"', navixy.pretty(client))
    assert.equal('"navixy action tracker/list"', navixy.pretty(client.tracker.list))
    client:close()
  end)

  it("does not loop on a table that holds itself", function()
    local t = { name = "loop" }
    t.self = t
    assert.equal('{"name":"loop","self":"<cycle or too deep>"}', navixy.pretty(t, true))
  end)
end)

describe("raw JSON text (what the navixy command prints)", function()
  it("keeps empty arrays, number spellings and key order by sorting", function()
    assert.equal('{"a":[],"b":{},"n":1.50,"x":1e400}', pretty.text('{"x":1e400,"n":1.50,"b":{},"a":[]}', true))
  end)

  it("decodes \\u escapes, surrogate pairs included, to UTF-8", function()
    assert.equal('"é/😀"', pretty.text('"\\u00e9\\/\\ud83d\\ude00"'))
  end)

  it("returns nil and a message for text that is not JSON", function()
    for _, bad in ipairs { "", "{", "[1,]", '{"a" 1}', '{"a":1} x', "nul", '"\\x"', "01x" } do
      local text, err = pretty.text(bad)
      assert.is_nil(text, bad)
      assert.truthy(err:find("^not JSON: "), bad)
    end
  end)

  it("takes nesting as deep as lua-cjson does", function()
    local deep = string.rep("[", 1000) .. string.rep("]", 1000)
    assert.equal(deep, pretty.text(deep, true))
    assert.is_nil(pretty.text(string.rep("[", 1002) .. string.rep("]", 1002)))
  end)

  it("decodes name:=json values with arrays marked, so that [] stays an array", function()
    local v = assert(json.decode('{"a":[],"b":{},"c":[1,2.5,null,true]}'))
    assert.equal('{"a":[],"b":{},"c":[1,2.5,null,true]}', navixy.encode(v))
    assert.equal(7, json.decode("7"))
    if math.type then assert.equal("integer", math.type(json.decode("7"))) end
  end)

  it("is read by the one JSON grammar, the C decoder's: no 01, no 1., no lone surrogate", function()
    for _, bad in ipairs { "01", "1.", '"\\ud800"', "[1,]", "NaN" } do
      assert.is_nil(pretty.text(bad), bad)
      assert.is_nil(json.decode(bad), bad)
    end
  end)
end)

describe("navixy.help()", function()
  local function help(topic)
    local p = io.popen(LUA .. [[ -e 'package.path="lua/?.lua;lua/?/init.lua;"..package.path
      package.cpath="build/]] .. LUA .. [[/?.so;"..package.cpath
      require("navixy").help(]] .. (topic and ("%q"):format(topic) or "") .. [[)']])
    local text = p:read("*a")
    p:close()
    return text
  end

  it("takes a topic: a page, or any word for the lines that mention it", function()
    local all, errors, tracker, none = help(), help("errors"), help("tracker"), help("zebra")
    assert.truthy(errors:find("err.kind", 1, true))
    assert.falsy(errors:find("client.api.key.list()", 1, true))
    assert.truthy(tracker:find("client.tracker.get_state{ tracker_id = 123 }", 1, true))
    assert.falsy(tracker:find("client.api.key.create", 1, true))
    assert.truthy(none:find('Nothing about "zebra"', 1, true))
    assert.is_true(#errors < #all and #tracker < #all)
  end)

  it("has a page for the Admin Panel, and names the newer session and fleet methods", function()
    local panel = help("panel")
    for _, want in ipairs { "navixy.new{ panel = true, login = 20410", "panel.user.list{",
      "panel:user_session(", "relative to panel/" } do
      assert.truthy(panel:find(want, 1, true), want)
    end
    assert.truthy(help("sessions"):find("client:resend_code()", 1, true))
    local batch = help("batch")
    for _, want in ipairs { "on_events", "on_states", "history.max_limit" } do
      assert.truthy(batch:find(want, 1, true), want)
    end
    assert.truthy(help():find('"panel"', 1, true)) -- listed among the topics
    local events = help("events")
    for _, want in ipairs { "client:subscribe{", "sub:events()", "sub:next(5)", "navixy subscribe" } do
      assert.truthy(events:find(want, 1, true), want)
    end
  end)

  it("prints the most-used actions with examples, and how errors look", function()
    local text = help()
    for _, want in ipairs { "navixy-lua " .. navixy.VERSION, "client.user.get_info()",
      "client.tracker.list()", "client.tracker.get_state{ tracker_id = 123 }",
      "client.tracker.get_states{", "client.history.tracker.list{", "client.track.list{",
      "client.api.key.list()", "client.api.key.create{", "client.api.key.delete{",
      "navixy.pretty(res)", "api error 4 (HTTP 400)", "err.kind", "err.response" } do
      assert.truthy(text:find(want, 1, true), want)
    end
  end)
end)

describe("Ctrl-C at the prompt", function()
  local q = require("local_files").quote

  -- Types `lines` into the interpreter's REPL on a terminal; a line "^C"
  -- presses Ctrl-C half a second after the line before it printed CALLING
  -- (that line's call is under way then, however busy the machine: a Ctrl-C
  -- that came before the REPL ran the line would find no call to stop).
  local function repl(lines)
    local args = {}
    for _, line in ipairs(lines) do
      if line == "^C" then
        args[#args + 1] = "--expect CALLING --send '' --expect @0.5 --send " .. q("\\x03")
      else
        args[#args + 1] = "--expect " .. q("> ") .. " --send " .. q(line .. "\\r")
      end
    end
    -- the key in the environment, not typed: the terminal echoes what is typed, and a
    -- failure shows it (no secret in a test's output: spec/support/check-secrets)
    local p = io.popen("NAVIXY_HASH=" .. q(fake.api_key) .. " spec/support/pty-run " .. table.concat(args, " ")
      .. " -- " .. LUA .. " -i </dev/null")
    local out = p:read("*a")
    p:close()
    return out
  end

  it("stops a call at once; the client stays usable, and the call is never sent again", function()
    fake.reset()
    fake.fault { action = "tracker/list", type = "delay", seconds = 6 }
    fake.fault { action = "user/get_info", type = "delay", seconds = 6, times = 3 }
    local cpath = "build/" .. LUA .. "/?.so;"
    local out = repl {
      "package.path = 'lua/?.lua;lua/?/init.lua;spec/support/?.lua;' .. package.path; "
        .. "package.cpath = '" .. cpath .. "' .. package.cpath",
      "core = require 'navixy.core'; c = require('navixy').new { url = '" .. fake.url
        .. "', hash = os.getenv 'NAVIXY_HASH' }",
      -- CALLING is printed by the line (its echo shows only the expression; pty-run
      -- reads backslash escapes in what it types, hence string.char)
      "io.write(('calling'):upper(), string.char(10)); t0 = core.now(); r = c.tracker.list()",
      "^C",
      "print(('call stopped after %.1f s'):format(core.now() - t0))",
      "print('again', c.tracker.list().success)",
      -- a batch, on the curl multi handle: three calls of 6 s each
      "io.write(('calling'):upper(), string.char(10)); t0 = core.now(); "
        .. "r = c:batch { { 'user/get_info' }, { 'user/get_info' }, { 'user/get_info' } }",
      "^C",
      "print(('batch stopped after %.1f s'):format(core.now() - t0))",
      "print('batch again', #c:batch { { 'tracker/list' }, { 'tracker/list' } })",
      "os.exit(0)",
    }
    assert.truthy(out:find("interrupted!", 1, true), out)
    for _, what in ipairs { "call", "batch" } do
      local secs = tonumber(out:match(what .. " stopped after (%d+%.%d) s"))
      assert.truthy(secs, out)
      assert.is_true(sockets.below(secs, 6), out) -- not interrupted, it would end after 6 s
    end
    assert.truthy(out:find("again\ttrue", 1, true), out)
    assert.truthy(out:find("batch again\t2", 1, true), out)
    -- each interrupted request went out once (the fake counts a request as it ends:
    -- the interrupted ones end when their 6 s delay does)
    local function counted() return fake.stats().by_action end
    assert.is_true(sockets.eventually(function()
      local n = counted()
      return n["tracker/list"] == 4 and n["user/get_info"] == 3
    end, 7), require("cjson").encode(counted()))
    assert.equal(2, counted()["tracker/list"] - 2)
    assert.equal(3, counted()["user/get_info"])
  end)
end)

describe("tostring at the prompt", function()
  it("names the client's URL and auth, with the hash masked", function()
    local client = navixy.new { url = fake.url, hash = fake.api_key }
    assert.equal("navixy client (" .. fake.url .. ", auth header, hash a6aa...)", tostring(client))
    assert.equal("navixy action tracker/get_state", tostring(client.tracker.get_state))
    client:close()
    assert.equal("navixy client (closed)", tostring(client))
    local c2 = navixy.new { url = fake.url, login = "me@example.com", password = "secret-pass" }
    assert.equal("navixy client (" .. fake.url .. ", auth header, not logged in)", tostring(c2))
    c2:close()
  end)

  it("makes an error one readable line", function()
    local client = navixy.new { url = fake.url, hash = fake.api_key }
    local _, err = client.tracker.get_state { tracker_id = 99 }
    client:close()
    assert.equal("navixy: tracker/get_state: api error 201 (HTTP 400): Not found in database", tostring(err))
  end)
end)

-- Encoding and decoding while finalizers use the module: a __gc may run at
-- any allocation, in the middle of core.json, core.form, core.escape or
-- core.decode, and may itself call them. Every call owns its buffers, so
-- neither sees the other's bytes. Outputs are compared with the same work
-- done with the collector stopped.
local core = require "navixy.core"

local newproxy = rawget(_G, "newproxy") -- LuaJIT: tables have no __gc on 5.1

-- An object whose finalizer is f: a table on Lua 5.4, a userdata on LuaJIT.
local function with_finalizer(f)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = f
    return p
  end
  return setmetatable({}, { __gc = f })
end

-- What the finalizers encode and decode, and what they must get back.
local small = { from_finalizer = true, list = { 1, 2, 3 }, text = 'quote " and \\ and \n' }
local small_json = core.json(small)
local small_form = core.form(small)
local small_text = '{"from_finalizer":"\\u00e9t\\u00e9 \\"x\\"","a":[1,2,{"b":"c\\/d"}]}'
local small_decoded_json = core.json(core.decode(small_text))

-- Finalizers that run check (which adds what it got wrong to a list) and
-- count; arm(n) makes n more objects to collect, so that finalizers keep
-- running (mostly in the middle of a call: that is where the allocations are).
local function finalizers(check)
  local state = { runs = 0, wrong = {}, on = true }
  local function run()
    if not state.on then return end
    state.runs = state.runs + 1
    local ok, err = pcall(check, state.wrong)
    if not ok then state.wrong[#state.wrong + 1] = tostring(err) end
  end
  function state.arm(n)
    for _ = 1, n do with_finalizer(run) end
  end
  function state.stop() state.on = false end
  return state
end

-- What the encoding finalizers check.
local function encode_check(wrong)
  if core.json(small) ~= small_json then wrong[#wrong + 1] = "json" end
  if core.form(small) ~= small_form then wrong[#wrong + 1] = "form" end
  if core.escape("a b/é") ~= "a%20b%2F%C3%A9" then wrong[#wrong + 1] = "escape" end
  if core.json(core.decode(small_text)) ~= small_decoded_json then wrong[#wrong + 1] = "decode" end
end

-- Large nested values: objects over 16 keys (their keys sorted in a
-- userdata), long keys and values (a new string each), escapes.
local function big_value(seed)
  local list = {}
  for i = 1, 60 do
    local item = { id = seed * 1000 + i, ["a long key that is not interned by Lua " .. i] = "v" .. i }
    for k = 1, 20 do
      item[("key %d, long enough that Lua makes a new string for it each time"):format(k)] =
        ("value %d/%d \"q\" \\ é"):format(i, k)
    end
    item.nested = { { x = i, y = { i, i + 1, "z" } }, core.null, false, 1.5 }
    list[i] = item
  end
  local notes = {} -- strings with escapes: unescaped into a buffer first
  for i = 1, 500 do notes[i] = ('note %d: "quoted", back\\slash, \n, é and padding'):format(seed * 1000 + i) end
  return { success = true, list = list, notes = notes, empty = setmetatable({}, core.array_mt) }
end

local generational = _VERSION == "Lua 5.4"

-- Runs work(fin) with a collector in a hurry, so that finalizers run in
-- nearly every call: on Lua 5.4 a minor collection (and the finalizers
-- after it) each time 1% of the heap was allocated; on LuaJIT and Lua
-- 5.1-5.3 (incremental only, or 5.2's experimental generational mode) a new
-- cycle as soon as one ends. The pause is set before the full collection,
-- which places the next cycle's start by it (setting the pause does not
-- move a start already placed): set after, the first cycle waited for the
-- heap to double, in a big process (busted running every spec at once)
-- longer than the work lasts, and no finalizer ran.
local function run_under_gc(work, check)
  local fin = finalizers(check or encode_check)
  if not generational then
    collectgarbage("setpause", 100)
    collectgarbage("setstepmul", 200)
  else
    collectgarbage("generational", 1, 100)
  end
  collectgarbage("collect")
  local ok, err = pcall(work, fin)
  fin.stop()
  if not generational then
    collectgarbage("setpause", 200)
    collectgarbage("setstepmul", 200)
  else
    collectgarbage("incremental", 200, 100, 13)
  end
  collectgarbage("collect")
  assert(ok, err)
  return fin
end

-- Calls f(n) `times` times with finalizers running check (`armed` objects
-- to collect made before each call, default 4); counts wrong answers (f
-- raising is one).
local function check_under_gc(times, f, check, armed)
  local wrong, junk = 0, {}
  local fin = run_under_gc(function(fin)
    for n = 1, times do
      fin.arm(armed or 4)
      -- garbage of our own each time: in a big process (the whole suite under the
      -- sanitizers) LuaJIT's collector may otherwise not step within these calls,
      -- whose results it interns
      for k = 1, 64 do junk[k] = { n, k } end -- kept, so that no compiler drops them
      local ok, same = pcall(f, n)
      if not (ok and same) then wrong = wrong + 1 end
    end
  end, check)
  assert.equal(64, #junk) -- (and so it is read)
  assert.equal(0, wrong, "wrong answers of " .. times)
  assert.same({}, fin.wrong)
  assert.is_true(fin.runs > times, "finalizers ran " .. fin.runs .. " times")
end

describe("encoders and the decoder used by finalizers mid-call", function()
  local values, json_ref, form_ref, decoded_ref = {}, {}, {}, {}
  setup(function()
    collectgarbage("stop")
    for s = 1, 4 do
      values[s] = big_value(s)
      json_ref[s] = core.json(values[s])
      form_ref[s] = core.form(values[s])
      decoded_ref[s] = core.json(core.decode(json_ref[s]))
    end
    collectgarbage("restart")
  end)

  it("core.json gives the same text thousands of times", function()
    check_under_gc(1000, function(n) return core.json(values[n % 4 + 1]) == json_ref[n % 4 + 1] end)
  end)

  it("core.form gives the same text thousands of times", function()
    check_under_gc(1000, function(n) return core.form(values[n % 4 + 1]) == form_ref[n % 4 + 1] end)
  end)

  it("core.decode gives the same values thousands of times", function()
    check_under_gc(1000, function(n)
      local v = core.decode(json_ref[n % 4 + 1])
      collectgarbage("stop") -- compared without finalizers in between
      local same = core.json(v) == decoded_ref[n % 4 + 1]
      collectgarbage("restart")
      return same
    end)
  end)

  it("core.escape gives the same text thousands of times", function()
    -- a new text each time: LuaJIT interns every string, and a result seen
    -- before would allocate nothing
    local long = string.rep("é/ ", 2000)
    local ref = core.escape(long)
    check_under_gc(2000, function(n) return core.escape(long .. n) == ref .. n end)
  end)

  it("an encoding error raised mid-way leaves the next calls right", function()
    local bad = big_value(9)
    bad.list[30].f = print
    check_under_gc(500, function(n)
      if pcall(core.json, bad) or pcall(core.form, bad) then return false end
      return core.json(values[n % 4 + 1]) == json_ref[n % 4 + 1]
    end)
  end)
end)

-- issue 19 item 13: core.ws_frame once framed into one buffer shared by
-- every call, so a finalizer that framed in the middle of a frame (here
-- while a number payload becomes a string: an allocation) had its frame
-- glued in front of the caller's; and p:frame reset the parser's buffer of
-- replies that p:feed was filling. Frames are masked with a new key each
-- time: compared by what they carry, unmasked.
describe("the WebSocket framer used by finalizers mid-call", function()
  local frames = require "ws_frames"
  local shared = core.ws_parser() -- framed on by the finalizers and fed by the tests

  local function framing_check(wrong)
    if frames.read_one(core.ws_frame("text", "from the finalizer")).payload ~= "from the finalizer" then
      wrong[#wrong + 1] = "ws_frame"
    end
    if frames.read_one(shared:frame("ping", "finalizer")).payload ~= "finalizer" then
      wrong[#wrong + 1] = "p:frame"
    end
  end

  -- These calls make little garbage: each also makes 64 KB of its own, and 8 objects to
  -- collect, or in a process that ran many specs (a large heap: the collector waits for
  -- 1% of it) the finalizers ran seldom or never.
  local filler = ("garbage "):rep(8192)

  it("core.ws_frame gives each caller its own frame", function()
    check_under_gc(5000, function(n)
      local _ = filler .. n
      local f = frames.read_one(core.ws_frame("text", n + 0.5))
      return f.opcode == 1 and f.masked and f.payload == tostring(n + 0.5)
    end, framing_check, 8)
  end)

  it("p:feed keeps its replies while a finalizer frames on the same parser", function()
    -- small pings: a finalizer then often runs inside p:feed's allocations
    check_under_gc(5000, function(n)
      local _ = filler .. n
      local events, reply = shared:feed(frames.frame("ping", "p" .. n))
      return #events == 1 and frames.read_one(reply).payload == "p" .. n
    end, framing_check, 8)
  end)
end)

describe("core.sleep", function()
  it("takes NaN, negatives and zero as no wait, and caps huge waits", function()
    local t0 = core.now()
    core.sleep(0 / 0)
    core.sleep(-1)
    core.sleep(-math.huge)
    core.sleep(0)
    assert.is_true(core.now() - t0 < 0.5)
    assert.has_error(function() core.sleep("x") end)
  end)
end)

-- Event loops (navixy.new{ loop = "copas" | "cqueues" | "luv" }): calls,
-- batches, backoffs and subscriptions made from the loop's coroutines
-- yield to the loop instead of blocking it. Each scenario runs in an
-- interpreter of its own (spec/support/loop-scenario: copas 1.1 must load
-- before LuaSocket's socket.http), against the fake server, and counts
-- what happened; a timer in the same loop ticks every 50 ms meanwhile.
local cjson = require "cjson"
local fake = require "fake"
local flavour = require "flavour"
local quote = require("local_files").quote
local sockets = require "sockets"

local function scenario(loop, name)
  local p = assert(io.popen(("%s spec/support/loop-scenario %s %s 2>&1"):format(flavour, quote(loop), quote(name))))
  local text = p:read("*a")
  p:close()
  local last = text:match("([^\n]*)\n?$") -- the scenario's JSON line ends what it prints
  local ok, out = pcall(cjson.decode, last)
  assert(ok and type(out) == "table", text)
  return out, text
end

-- Whether this Lua has the loop's module (Debian's lua-copas is for 5.1,
-- 5.2 and LuaJIT; lua-cqueues and lua-luv for every Lua).
local function has(loop)
  local p = assert(io.popen(("%s -e 'require(%q)' 2>/dev/null && echo yes"):format(flavour, loop)))
  local yes = p:read("*a"):find("yes") ~= nil
  p:close()
  return yes
end

for _, loop in ipairs { "copas", "cqueues", "luv" } do
  describe("loop = " .. loop, function()
    if not has(loop) then
      it("is refused with what to install, where " .. loop .. " is not there (" .. flavour .. ")", function()
        local out = scenario(loop, "main")
        assert.is_false(out.ok)
        assert.matches('navixy: loop = "' .. loop .. '" needs the ' .. loop .. " module", out.raised, 1, true)
        assert.matches("apt-get install lua-" .. loop, out.raised, 1, true)
      end)
      return
    end
    before_each(fake.reset)

    it("runs 50 calls of 200 ms from 50 coroutines side by side while a timer ticks", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.2, times = 50 }
      local out, text = scenario(loop, "calls")
      assert.is_nil(out.raised, text)
      assert.equal(50, out.ok, text)
      -- side by side, as the server counted them; one after another: 10 s
      assert.is_true(out.max_in_flight >= 25, text)
      assert.is_true(sockets.below(out.secs_all, 5), text)
      assert.is_true(out.ticks >= 3, text) -- the loop ran its timer meanwhile
    end)

    it("runs a batch and a single call side by side on one client", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.2, times = 20 }
      local out, text = scenario(loop, "batch")
      assert.is_nil(out.raised, text)
      assert.equal(20, out.batch_ok, text)
      assert.equal(1, out.single, text)
      assert.is_true(out.max_in_flight >= 10, text)
      assert.is_true(out.ticks >= 3, text)
    end)

    it("times a stalled call out at its timeout, the loop running meanwhile", function()
      fake.fault { action = "tracker/list", type = "stall", seconds = 3 }
      local out, text = scenario(loop, "timeout")
      assert.is_nil(out.raised, text)
      assert.equal("timeout", out.kind, text)
      assert.is_true(out.secs >= 0.45 and out.secs < sockets.bound(0.5), text)
      assert.is_true(out.ticks >= 5, text)
    end)

    it("waits out a retry's backoff in the loop", function()
      fake.fault { action = "tracker/list", type = "status", status = 502, times = 2 }
      local out, text = scenario(loop, "retry")
      assert.is_nil(out.raised, text)
      assert.is_true(out.ok, text)
      assert.equal(3, fake.stats().by_action["tracker/list"])
    end)

    it("reads a subscription's events and makes calls side by side", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.2, times = 5 }
      local out, text = scenario(loop, "subscription")
      assert.is_nil(out.raised, text)
      assert.same({ "response", "event" }, out.messages, text)
      assert.equal(5, out.calls, text)
      assert.equal("timeout", out.next_kind, text)
      assert.is_true(out.next_secs >= 0.45 and out.next_secs < sockets.bound(0.5), text)
      assert.is_true(out.ticks >= 5, text)
    end)

    it("ends at Ctrl-C while a call waits in the loop, as the loop does", function()
      -- the answer stalls past the call's timeout (20 s, loop-scenario), so that a call held
      -- to its end takes those 20 s; the time includes starting Python and Lua, which took
      -- more than the 10 s the stall was before on a busy machine (nice 19 beside two CPU hogs)
      fake.fault { action = "tracker/list", type = "stall", seconds = 30 }
      local secs, shown = sockets.timed(function()
        local p = assert(io.popen("spec/support/pty-run --timeout 30 --expect waiting --send '' "
          .. "--expect @1 --send '\\x03' -- " .. flavour .. " spec/support/loop-scenario " .. quote(loop)
          .. " ctrlc"))
        local text = p:read("*a")
        p:close()
        return text
      end)
      -- the interpreter's own handler raises "interrupted!" in the loop, which ends the
      -- program (or the signal kills it where none is set)
      assert.truthy(shown:find("interrupted!", 1, true) or shown:find("^signal 2\n"), shown)
      assert.is_nil(shown:find("^exit 0\n"), shown)
      assert.is_nil(shown:find('"res"', 1, true), shown) -- the call never finished
      assert.is_true(sockets.below(secs, 20), shown) -- not held until the call's timeout
    end)

    it("raises when called from outside the loop's coroutines", function()
      fake.fault { action = "tracker/list", type = "delay", seconds = 0.2 }
      local out, text = scenario(loop, "main")
      assert.is_false(out.ok, text)
      assert.matches('a client with loop = "' .. loop .. '" must be called from a coroutine of that loop',
        out.raised, 1, true)
    end)
  end)
end

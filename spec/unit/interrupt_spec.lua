-- Ctrl-C held by the program (core.hold_interrupts, util/interrupt.h): the
-- command's batch holds it so that "interrupted!" is raised between the
-- batch's steps, not at whatever instruction of its loop came next.
local lua_output = require("local_files").lua_output

describe("core.hold_interrupts", function()
  it("notes a SIGINT while held, taken once, and gives the handler back", function()
    local out = lua_output([[
      local core = require "navixy.core"
      print("held", core.hold_interrupts(true))
      local pid = io.open("/proc/self/stat"):read("*l"):match("^(%d+)")
      -- popen, not os.execute: system() ignores SIGINT while it waits
      io.popen("kill -INT " .. pid):close() -- delivered before close returns: noted only
      print("taken", core.interrupt_taken(), core.interrupt_taken())
      print("released", core.hold_interrupts(false))
      print("taken after", core.interrupt_taken())
    ]])
    assert.matches("held\ttrue\ntaken\ttrue\tfalse\nreleased\ttrue\ntaken after\tfalse\n", out, 1, true)
  end)

  it("makes a batch raise \"interrupted!\" between its steps, before it sends anything more", function()
    local fake = require "fake"
    fake.reset()
    local out = lua_output(([[
      local core, navixy = require "navixy.core", require "navixy"
      local client = navixy.new { url = %q, hash = %q, retries = 0 }
      core.hold_interrupts(true)
      local pid = io.open("/proc/self/stat"):read("*l"):match("^(%%d+)")
      io.popen("kill -INT " .. pid):close()
      local ok, err = pcall(client.batch, client, { { "tracker/list" }, { "tracker/list" } })
      core.hold_interrupts(false)
      print(ok, err)
    ]]):format(fake.url, fake.api_key))
    assert.equal("false\tinterrupted!\n", out)
    assert.equal(0, fake.stats().requests)
  end)
end)

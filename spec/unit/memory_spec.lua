-- The heap policy after big answers (csrc/trim.h, navixy.memory): free heap
-- kept while big answers keep coming, given back once idle.
local navixy = require "navixy"
local core = require "navixy.core"

local settled_rss = require("rss").settled_kib

-- An answer of about 9 MB: 100,000 history points (tens of MB decoded).
local function big_answer()
  local items = {}
  for i = 1, 100000 do
    items[i] = ('{"id":%d,"lat":56.%06d,"lng":37.%06d,"address":"street %d","speed":%d}'):format(i, i, i * 7, i,
      i % 90)
  end
  return '{"success":true,"list":[' .. table.concat(items, ",") .. "]}"
end

describe("navixy.memory", function()
  local saved
  before_each(function() saved = navixy.memory() end)
  after_each(function() navixy.memory(saved) end)

  it("has documented defaults and sets what it is given", function()
    assert.same({ cushion = 256 * 1024 * 1024, idle = 1 }, saved)
    assert.same({ cushion = 1024, idle = 1 }, navixy.memory { cushion = 1024 })
    assert.same({ cushion = 1024, idle = 0.5 }, navixy.memory { idle = 0.5 })
    assert.same({ cushion = 1024, idle = 0.5 }, navixy.memory())
  end)

  it("raises on misuse", function()
    assert.has_error(function() navixy.memory(5) end, "navixy: navixy.memory expects a table or nil, got number")
    assert.has_error(function() navixy.memory { keep = 1 } end, "navixy: navixy.memory: unknown setting keep")
    assert.has_error(function() navixy.memory { idle = -1 } end,
      "navixy: navixy.memory: idle must be a number >= 0, got -1")
    assert.has_error(function() navixy.memory { cushion = "1" } end)
    assert.has_error(function() navixy.memory { idle = 0 / 0 } end)
  end)

  -- glibc's heap, as the process runs it: not LuaJIT's objects (its own
  -- allocator holds them), nor under valgrind or ASan (their allocators stand in)
  local glibc_heap = not rawget(_G, "jit") and select(3, core.heap_policy()) and io.open("/proc/self/status") ~= nil
  local it_glibc = glibc_heap and it or pending

  it_glibc("keeps freed heap while answers keep coming and gives it back once idle", function()
    local text = big_answer()
    navixy.memory { idle = 3600 } -- busy for the whole test
    local start = settled_rss()
    for _ = 1, 3 do assert.equal(100000, #core.decode(text).list) end
    local held = settled_rss()
    navixy.memory { idle = 0 } -- idle from now on: the next cycle gives it back
    local back = settled_rss()
    assert.is_true(held - back > 8 * 1024, ("start %d KiB, held %d KiB, back %d KiB"):format(start, held, back))
    assert.is_true(back - start < 20 * 1024, ("start %d KiB, back %d KiB"):format(start, back))
  end)

  it_glibc("gives it back at the first cycle once answers stopped coming for `idle` seconds", function()
    -- small answers' cycles look at the heap only now and then (csrc/trim.c);
    -- the end of a busy spell is looked at whenever it comes
    local text = big_answer()
    navixy.memory { idle = 0.3 }
    local start = settled_rss()
    for _ = 1, 3 do assert.equal(100000, #core.decode(text).list) end
    collectgarbage() -- a look while answers keep coming: kept
    require("socket").sleep(0.5)
    local back = settled_rss()
    assert.is_true(back - start < 20 * 1024, ("start %d KiB, back %d KiB"):format(start, back))
  end)

  it_glibc("gives back at once past the cushion", function()
    local text = big_answer()
    navixy.memory { idle = 3600, cushion = 0 }
    local start = settled_rss()
    for _ = 1, 3 do assert.equal(100000, #core.decode(text).list) end
    assert.is_true(settled_rss() - start < 20 * 1024)
  end)
end)

-- core.inflater (csrc/inflate.c), as the nginx transport uses it: one per
-- answer's coding, and reset for the next answer of the worker.
local core = require "navixy.core"

local GZIP = "\31\139\8\0\0\0\0\0\2\3\203\72\205\201\201\215\81\72\175\202\44\0\0\74\155\177\92\11\0\0\0"
local ZLIB = "\120\156\203\72\205\201\201\215\81\168\202\201\76\2\0\24\178\4\18"
local RAW = "\203\72\205\201\201\215\81\40\74\44\7\0" -- raw deflate, as some servers send "deflate"

describe("an inflater", function()
  it("inflates one stream, then after reset the next, whatever its kind", function()
    local inflater = core.inflater()
    assert.equal("hello, gzip", inflater:feed(GZIP, 1000))
    assert.is_true(inflater:finished())
    assert.equal(inflater, inflater:reset(true))
    assert.is_false(inflater:finished())
    assert.equal("hello, raw", inflater:feed(RAW, 1000)) -- raw deflate allowed: reset(true)
    assert.is_true(inflater:finished())
    inflater:reset()
    assert.equal("hello, zlib", inflater:feed(ZLIB, 1000))
    inflater:reset(false)
    local got, why = inflater:feed(RAW, 1000) -- raw deflate refused: reset(false)
    assert.is_nil(got)
    assert.equal("corrupt", why)
  end)

  it("forgets a failed or unfinished stream at reset", function()
    local inflater = core.inflater()
    assert.equal("trailing", select(2, inflater:feed(GZIP .. "x", 1000)))
    inflater:reset()
    assert.equal("hello, gzip", inflater:feed(GZIP:sub(1, 10), 1000) .. inflater:feed(GZIP:sub(11), 1000))
    inflater:reset()
    assert.equal("hello", inflater:feed(GZIP:sub(1, 16), 1000):sub(1, 5))
    assert.is_false(inflater:finished())
    inflater:reset()
    assert.equal("limit", select(2, inflater:feed(GZIP, 3)))
    inflater:reset()
    assert.equal("hello, gzip", inflater:feed(GZIP, 1000))
  end)
end)

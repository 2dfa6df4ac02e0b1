-- navixy.compat: what differs between the Luas the library runs on, seen the
-- same from every one of them (the suite runs on 5.1 to 5.4 and LuaJIT).
local compat = require "navixy.compat"

describe("navixy.compat.pcall", function()
  it("lets the running coroutine yield from inside, values going both ways", function()
    local co = coroutine.create(function(a)
      return compat.pcall(function(x)
        local got = coroutine.yield("first", x)
        local again = coroutine.yield("second", got)
        return x + got + again
      end, a)
    end)
    assert.same({ true, "first", 1 }, { coroutine.resume(co, 1) })
    assert.same({ true, "second", 10 }, { coroutine.resume(co, 10) })
    assert.same({ true, true, 111 }, { coroutine.resume(co, 100) })
    assert.equal("dead", coroutine.status(co))
  end)

  it("returns false and the error value as raised, after a yield too", function()
    local boom = { why = "boom" }
    local co = coroutine.create(function()
      return compat.pcall(function()
        coroutine.yield()
        error(boom)
      end)
    end)
    coroutine.resume(co)
    local ok, caught, value = coroutine.resume(co)
    assert.is_true(ok)
    assert.is_false(caught)
    assert.equal(boom, value)
  end)

  it("works as pcall outside any coroutine", function()
    assert.same({ true, 1, 2 }, { compat.pcall(function(a, b) return a, b end, 1, 2) })
    local ok, err = compat.pcall(error, "plain", 0)
    assert.is_false(ok)
    assert.equal("plain", err)
  end)
end)

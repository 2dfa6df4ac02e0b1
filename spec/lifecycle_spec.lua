-- Closing clients, garbage collection and resource use.
local navixy = require "navixy"
local fake = require "fake"

local open_fds = require("local_files").open_fds

describe("closing a client", function()
  before_each(fake.reset)

  it("is idempotent", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    c:close()
    c:close()
    assert.equal("navixy client (closed)", tostring(c))
  end)

  it("makes later calls raise 'client is closed'", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    c:close()
    assert.has_error(function() c:call("tracker/list") end, "navixy: client is closed")
    assert.has_error(function() c.tracker.list() end, "navixy: client is closed")
    assert.has_error(function() c:get_hash() end, "navixy: client is closed")
  end)

  it("reuses one connection across calls (keep-alive)", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    assert(c.tracker.list())
    local before = open_fds() -- one connection, plus curl's own socketpair
    for _ = 1, 20 do assert(c.tracker.list()) end
    assert.equal(before, open_fds())
    assert.equal(21, fake.stats().requests)
    c:close()
  end)

  it("keeps the descriptor count flat over thousands of clients", function()
    local function churn(n)
      for _ = 1, n do
        local c = navixy.new { url = fake.url, hash = fake.api_key }
        assert(c.tracker.list())
        if _ % 2 == 0 then c:close() end -- the others are left to the GC
      end
      collectgarbage()
      collectgarbage()
    end
    churn(200)
    local before = open_fds()
    churn(2000)
    assert.is_true(open_fds() - before <= 2, "descriptors grew")
  end)
end)

describe("navixy.core", function()
  local core = require "navixy.core"

  it("userdata clients close once, via close or __gc", function()
    local h = core.new { url = fake.url }
    assert.is_false(h:is_closed())
    h:close()
    assert.is_true(h:is_closed())
    h:close()
    assert.equal("navixy.core client (closed)", tostring(h))
    assert.has_error(function() h:request("tracker/list", "{}") end, "navixy: client is closed")
  end)

  it("raises on bad settings without leaking", function()
    assert.has_error(function() core.new { url = fake.url, auth = "x" } end)
    assert.has_error(function() core.new { url = fake.url, timeout = -1 } end)
    assert.has_error(function() core.new { url = fake.url, headers = { "no colon" } } end)
    assert.has_error(function() core.new {} end)
    assert.has_error(function() core.new "x" end)
  end)

  it("prepare shows a request as it would be sent", function()
    local h = core.new { url = fake.url, hash = "abcd1234abcd1234", auth = "query" }
    local url, body, headers = h:prepare("tracker/list", "{}")
    assert.equal(fake.url .. "/tracker/list?hash=abcd1234abcd1234", url)
    assert.equal("{}", body)
    assert.equal("Content-Type: application/json", headers[1])
  end)
end)

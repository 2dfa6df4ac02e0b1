-- client:pages: the items of an offset/limit list, page by page, ending at `count`.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local requests_of = fake.requests_of

local function collect(iter)
  local items, indexes = {}, {}
  for item, i in iter do items[#items + 1] = item; indexes[#indexes + 1] = i end
  return items, indexes
end

describe("client:pages", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("reads every item page by page with offset and limit, and stops at count", function()
    local items, indexes = collect(client:pages("task/list", { filter = "x" }, { limit = 10 }))
    assert.equal(37, #items)
    assert.equal(101, items[1].id)
    assert.equal(137, items[37].id)
    assert.same(setup.range(1, 37), indexes)
    local reqs = requests_of("task/list")
    assert.equal(4, #reqs) -- 10 + 10 + 10 + 7: no request past count
    for k, req in ipairs(reqs) do
      assert.equal((k - 1) * 10, req.params.offset)
      assert.equal(10, req.params.limit)
      assert.equal("x", req.params.filter)
    end
  end)

  it("makes no request past a count that ends on a page boundary", function()
    local items = collect(client:pages("zone/list", nil, { limit = 4 }))
    assert.equal(12, #items)
    assert.equal(3, #requests_of("zone/list"))
  end)

  it("ends a list without count at its first short page", function()
    local items = collect(client:pages("vehicle/list", nil, { limit = 5 }))
    assert.equal(17, #items)
    assert.equal(4, #requests_of("vehicle/list")) -- 5, 5, 5, 2
    items = collect(client:pages("user/audit/log/list", { from = "2020-12-25 03:24:00", to = "2020-12-28 06:24:00" },
      { limit = 31, ahead = 3 }))
    assert.equal(31, #items)
    assert.equal(2, #requests_of("user/audit/log/list")) -- a full page, then an empty one: no count, no batch
  end)

  it("fetches pages ahead with a batch when asked", function()
    local items = collect(client:pages("employee/list", {}, { limit = 5, ahead = 2 }))
    assert.equal(23, #items)
    for k, e in ipairs(items) do assert.equal(k, e.id) end -- in order
    local offsets = {}
    for _, req in ipairs(requests_of("employee/list")) do offsets[#offsets + 1] = req.params.offset end
    table.sort(offsets)
    assert.same({ 0, 5, 10, 15, 20 }, offsets) -- each page once
  end)

  it("pages an Admin Panel list and IoT Logic's mapping list (GET)", function()
    local main = fake.panels.main
    local panel = navixy.new{ url = fake.url, panel = true, login = main.login, password = main.password }
    local logins = {}
    for user in panel:pages("user/list", nil, { limit = 1 }) do logins[#logins + 1] = user.login end
    assert.same({ "demo@example.com", "2fa@example.com" }, logins)
    assert.equal(2, #requests_of("panel/user/list")) -- count 2: no third request
    panel:close()
    local n = 0
    for _ in client:pages("iot/logic/flow/sources/mapping/list", nil, { limit = 2, method = "GET" }) do n = n + 1 end
    local reqs = requests_of("iot/logic/flow/sources/mapping/list")
    assert.is_true(n >= 1)
    assert.equal(math.ceil(n / 2), #reqs)
    assert.equal("GET", reqs[1].method)
  end)

  it("reads another list field with opts.list", function()
    local res = assert(client:call("place/list", {}))
    assert.equal(9, res.count)
    local n = 0
    for _ in client:pages("place/list", {}, { list = "list", limit = 100 }) do n = n + 1 end
    assert.equal(9, n)
    local ok, err = pcall(function() for _ in client:pages("place/list", {}, { list = "places" }) do end end)
    assert.is_false(ok)
    assert.is_true(navixy.is_error(err))
    assert.equal("decode", err.kind)
    assert.matches("opts.list", tostring(err), 1, true)
  end)

  it("raises the error object of a failed page, never ending silently", function()
    local seen = 0
    local ok, err = pcall(function()
      for _ in client:pages("task/list", nil, { limit = 10 }) do
        seen = seen + 1
        if seen == 1 then -- the second page fails
          fake.fault{ action = "task/list", type = "error", code = 7, status = 400 }
        end
      end
    end)
    assert.is_false(ok)
    assert.is_true(navixy.is_error(err))
    assert.equal(7, err.code)
    assert.equal(10, seen) -- the first page was read
  end)

  it("raises on misuse before sending", function()
    assert.matches("^navixy: client:pages sets offset", setup.raised(client.pages, client, "task/list", { offset = 5 }))
    assert.matches("^navixy: unknown client:pages option 'size'",
      setup.raised(client.pages, client, "task/list", nil, { size = 5 }))
    assert.matches("^navixy: client:pages option 'limit'",
      setup.raised(client.pages, client, "task/list", nil, { limit = 0 }))
    assert.equal(0, #requests_of("task/list"))
  end)
end)

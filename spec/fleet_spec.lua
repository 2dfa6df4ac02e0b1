-- The fleet helpers: tracker/get_states beyond 2,000 ids, and walking
-- history/tracker/list past its 1,000-event pages and 31-day windows.
local fake = require "fake"
local setup = require "setup"

local count = setup.count

local range = setup.range

local function requests_of(action)
  local list = {}
  for _, req in ipairs(fake.requests()) do
    if req.action == action then list[#list + 1] = req end
  end
  return list
end

describe("client:get_states", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("asks for 2,000 trackers at a time and merges the states", function()
    local res, err = client:get_states(range(1000, 5499))
    assert.is_nil(err)
    assert.is_true(res.success)
    assert.equal(4500, count(res.states))
    assert.equal(11000, res.states["1000"].source_id)
    assert.equal(15499, res.states["5499"].source_id)
    local sizes = {}
    for _, req in ipairs(requests_of("tracker/get_states")) do sizes[#sizes + 1] = #req.params.trackers end
    table.sort(sizes)
    assert.same({ 500, 2000, 2000 }, sizes)
    assert.is_nil(res.blocked)
    assert.is_nil(res.not_exist)
  end)

  it("merges blocked and not_exist from every call", function()
    local ids = range(1000, 3099) -- the second call gets the odd ones
    table.insert(ids, 1, 3)       -- blocked, in the first call
    ids[#ids + 1] = 2000001       -- does not exist, in the second
    local res = assert(client:get_states(ids, { list_blocked = true, allow_not_exist = true }))
    assert.same({ 3 }, res.blocked)
    assert.same({ 2000001 }, res.not_exist)
    assert.equal(2100, count(res.states))
    for _, req in ipairs(requests_of("tracker/get_states")) do
      assert.is_true(req.params.list_blocked)
      assert.is_true(req.params.allow_not_exist)
    end
  end)

  it("returns the first error when a call fails", function()
    local ids = range(1000, 2999)
    ids[#ids + 1] = 2000001 -- unknown, and not allowed: error 217 in the second call
    local res, err = client:get_states(ids, { concurrency = 1, retries = 0 })
    assert.is_nil(res)
    assert.equal(217, err.code)
    assert.equal("tracker/get_states", err.action)
  end)

  it("sends nothing for no ids, and raises on ids that are not ids", function()
    local res = assert(client:get_states({}))
    assert.same({}, res.states)
    assert.equal(0, fake.stats().requests)
    assert.has_error(function() client:get_states { 1, "2" } end)
    assert.has_error(function() client:get_states { 1, 2.5 } end)
    assert.has_error(function() client:get_states(7) end)
    assert.has_error(function() client:get_states({ 1 }, { list_blocked = "yes" }) end)
    assert.has_error(function() client:get_states({ 1 }, { limit = 5 }) end,
      "navixy: unknown get_states option 'limit'")
    assert.equal(0, fake.stats().requests)
  end)
end)

describe("client:get_history", function()
  local client
  setup.client_per_test(function(c) client = c end)

  -- one event per tracker per hour: see spec/support/fake/navixy.lua
  it("pages past limit_exceeded by moving `from`, without losing or repeating events", function()
    local res, err = client:get_history { trackers = { 1, 2, 3 }, limit = 50,
      from = "2024-05-01 00:00:00", to = "2024-05-03 00:00:00" }
    assert.is_nil(err)
    assert.equal(144, #res.list)
    assert.equal(144, res.total)
    local ids = {}
    for i, ev in ipairs(res.list) do
      assert.is_nil(ids[ev.id], "event repeated")
      ids[ev.id] = true
      if i > 1 then assert.is_true(ev.time >= res.list[i - 1].time) end
    end
    assert.equal("2024-05-01 00:00:00", res.list[1].time)
    assert.equal("2024-05-02 23:00:00", res.list[144].time)
    local pages = requests_of("history/tracker/list")
    assert.is_true(#pages >= 3)
    for _, req in ipairs(pages) do assert.equal(50, req.params.limit) end
  end)

  it("cuts windows longer than the API allows and fetches them together", function()
    fake.fault { action = "history/tracker/list", type = "delay", seconds = 0.2, times = 2 }
    local res = assert(client:get_history { trackers = { 1 }, from = "2024-01-01 00:00:00",
      to = "2024-03-01 00:00:00" })
    assert.equal(60 * 24, #res.list)
    assert.equal("2024-01-01 00:00:00", res.list[1].time)
    assert.equal("2024-02-29 23:00:00", res.list[#res.list].time)
    local pages = requests_of("history/tracker/list")
    assert.equal(2, #pages)
    assert.equal(2, fake.stats().max_in_flight)
  end)

  it("lists newest first with ascending = false", function()
    local res = assert(client:get_history { trackers = { 2 }, ascending = false, limit = 10,
      from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" })
    assert.equal(24, #res.list)
    assert.equal("2024-05-01 23:00:00", res.list[1].time)
    assert.equal("2024-05-01 00:00:00", res.list[24].time)
  end)

  it("says so when more events share one time than a page holds", function()
    local res, err = client:get_history { trackers = range(1000, 1009), limit = 5,
      from = "2024-05-01 00:00:00", to = "2024-05-01 06:00:00" }
    assert.is_nil(res)
    assert.equal("api", err.kind)
    assert.matches("more than 5 events at 2024%-05%-01 00:00:00", tostring(err))
  end)

  it("returns an API error as it is, and raises on misuse", function()
    local res, err = client:get_history { trackers = { 999 }, from = "2024-05-01 00:00:00",
      to = "2024-05-02 00:00:00" }
    assert.is_nil(res)
    assert.equal(217, err.code)
    assert.has_error(function() client:get_history { trackers = { 1 }, from = "yesterday", to = "today" } end)
    assert.has_error(function() client:get_history("history") end)
  end)
end)

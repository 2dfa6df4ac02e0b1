-- The fake Navixy server's platform limits and history/tracker/list, with LuaSocket only
-- (never our client): dealer/get_ui_config, 211/212, events placed at exact times,
-- window bounds, the user's time zone and ISO 8601 dates.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"

local key = fake.api_key

local function history(params, headers)
  local status, text = fake.post("history/tracker/list", params, key, headers)
  return status, cjson.decode(text)
end

local function times(res)
  local t = {}
  for i, e in ipairs(res.list) do t[i] = e.time end
  return t
end

describe("fake Navixy server: platform limits", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("answers dealer/get_ui_config with the documented platform fields, by hash or domain", function()
    local status, res = fake.call("dealer/get_ui_config", nil, key)
    assert.equal(200, status)
    assert.equal(1000, res.platform["history.max_limit"])
    assert.equal("P31D", res.platform["report.max_time_span"])
    assert.equal(16777216, res.platform["file_storage.hard_max_file_size"])
    assert.is_true(res.platform.iso_datetime_support)
    assert.equal("demo.navixy.com", res.settings.domain)
    assert.equal(20410, res.dealer.id)

    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P30D" } }
    status, res = fake.call("dealer/get_ui_config", { domain = "demo.navixy.com" })
    assert.equal(200, status)
    assert.equal(10, res.platform["history.max_limit"])
    assert.equal("P30D", res.platform["report.max_time_span"])
    status, res = fake.call("dealer/get_ui_config", { domain = "other.example.com" })
    assert.equal(400, status); assert.equal(12, res.status.code)
    status, res = fake.call("dealer/get_ui_config", {})
    assert.equal(400, status)
    assert.equal(7, res.status.code)
    status, res = fake.call("dealer/get_ui_config", nil, "0123456789abcdef0123456789abcdef")
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    fake.reset()
    assert.equal(1000, select(2, fake.call("dealer/get_ui_config", nil, key)).platform["history.max_limit"])
  end)

  it("refuses a limit over history.max_limit (212) and a span over report.max_time_span (211)", function()
    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P30D" } }
    local status, res = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00",
                                  limit = 11 }
    assert.equal(400, status); assert.equal(212, res.status.code)
    -- without a limit, the platform's is the default
    status, res = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" }
    assert.equal(200, status)
    assert.equal(10, #res.list); assert.is_true(res.limit_exceeded); assert.equal(24, res.total)
    -- 30 days exactly is allowed, one second more is not
    status = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-31 00:00:00", limit = 1 }
    assert.equal(200, status)
    status, res = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-31 00:00:01", limit = 1 }
    assert.equal(400, status)
    assert.equal(211, res.status.code)
    assert.equal("P30D", res.max_time_span)
  end)

  it("refuses settings it does not know or cannot use", function()
    for _, bad in ipairs{ { nope = 1 }, { time_zone = "Mars/Olympus" }, { history_bounds = "(]" },
                          { platform = { ["history.max_limit"] = 0 } },
                          { platform = { ["report.max_time_span"] = "30 days" } },
                          { platform = { unknown = 1 } }, { store_period = "soon" } } do
      local status = fake.http("POST", fake.base .. "/_fake/settings", cjson.encode(bad),
        { ["content-type"] = "application/json" })
      assert.equal(400, status, cjson.encode(bad))
    end
  end)
end)

describe("fake Navixy server: history/tracker/list", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("answers events placed at exact times, with the window's start in and its end out", function()
    fake.place_events {
      { tracker_id = 1, time = "2024-05-01T22:00:00Z", id = 1 },       -- 00:00 in Berlin: the cut
      { tracker_id = 1, time = "2024-05-01T21:59:59Z", id = 2 },
      { tracker_id = 2, time = "2024-05-01T22:00:00Z", id = 3, event = "offline", is_read = true },
      { tracker_id = 1, time = "2024-05-02T01:30:00+02:00", id = 4 },
    }
    local status, res = history { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" }
    assert.equal(200, status)
    assert.same({ "2024-05-01 23:59:59" }, times(res))
    status, res = history { trackers = { 1, 2 }, from = "2024-05-02 00:00:00", to = "2024-05-03 00:00:00" }
    assert.equal(200, status)
    assert.same({ "2024-05-02 00:00:00", "2024-05-02 00:00:00", "2024-05-02 01:30:00" }, times(res))
    assert.same({ 1, 3, 4 }, { res.list[1].id, res.list[2].id, res.list[3].id }) -- same time: by id
    assert.same({ 3, 2, false }, { res.total, res.total_unread, res.limit_exceeded })
    assert.same({ "offline", "Van 2" }, { res.list[2].event, res.list[2].extra.tracker_label })

    status, res = history { trackers = { 1, 2 }, from = "2024-05-02 00:00:00", to = "2024-05-03 00:00:00", limit = 2 }
    assert.equal(200, status)
    assert.same({ 2, 3, true }, { #res.list, res.total, res.limit_exceeded })
    status, res = history { trackers = { 1, 2 }, from = "2024-05-02 00:00:00", to = "2024-05-03 00:00:00",
                            ascending = false }
    assert.equal(200, status)
    assert.same({ 4, 3, 1 }, { res.list[1].id, res.list[2].id, res.list[3].id })
    status, res = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-03 00:00:00",
                            events = { "offline" } }
    assert.equal(200, status)
    assert.equal(0, res.total)

    -- with history_bounds "[]" the end is in as well
    fake.settings { history_bounds = "[]" }
    status, res = history { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" }
    assert.equal(200, status)
    assert.same({ "2024-05-01 23:59:59", "2024-05-02 00:00:00", "2024-05-02 00:00:00" }, times(res))
  end)

  it("reads and writes plain dates in the user's time zone, across daylight saving time", function()
    -- Berlin, 2024-03-31: 02:00 does not exist; the hourly events skip it
    local status, res = history { trackers = { 1 }, from = "2024-03-31 00:00:00", to = "2024-03-31 06:00:00" }
    assert.equal(200, status)
    assert.same({ "2024-03-31 00:00:00", "2024-03-31 01:00:00", "2024-03-31 03:00:00", "2024-03-31 04:00:00",
                  "2024-03-31 05:00:00" }, times(res))
    -- and autumn, 2024-10-27: 02:00 to 03:00 happens twice, so six hours hold seven events
    status, res = history { trackers = { 1 }, from = "2024-10-27 00:00:00", to = "2024-10-27 06:00:00" }
    assert.equal(200, status)
    assert.equal(7, res.total)

    fake.settings { time_zone = "Asia/Kolkata" }
    local _, info = fake.call("user/get_info", nil, key)
    assert.equal("Asia/Kolkata", info.user_info.time_zone)
    fake.place_events { { tracker_id = 1, time = "2024-05-01T18:30:00Z" } }
    status, res = history { trackers = { 1 }, from = "2024-05-02 00:00:00", to = "2024-05-02 00:00:01" }
    assert.equal(200, status)
    assert.same({ "2024-05-02 00:00:00" }, times(res))
  end)

  it("takes and answers ISO 8601 with an offset when asked, by parameter or header", function()
    fake.place_events { { tracker_id = 1, time = "2024-05-01T22:00:00Z" } }
    local status, res = history { trackers = { 1 }, from = "2024-05-01T23:30:00+01:30", to = "2024-05-01T22:00:01Z",
                                  iso_datetime = true }
    assert.equal(200, status)
    assert.same({ "2024-05-02T00:00:00+02:00" }, times(res))
    status, res = history({ trackers = { 1 }, from = "2024-05-01T22:00:00.000Z", to = "2024-05-02T00:00:01+0200" },
                          { ["NVX-ISO-DateTime"] = "true" })
    assert.equal(200, status)
    assert.same({ "2024-05-02T00:00:00+02:00" }, times(res))
    -- the format asked for is the one taken: a plain date with iso_datetime is refused, and the other way round
    status, res = history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-03T00:00:00Z",
                            iso_datetime = true }
    assert.equal(400, status); assert.equal("from", res.errors[1].parameter)
    status, res = history { trackers = { 1 }, from = "2024-05-01T00:00:00Z", to = "2024-05-03 00:00:00" }
    assert.equal(400, status); assert.equal("from", res.errors[1].parameter)
    -- UTC users get "Z"
    fake.settings { time_zone = "UTC" }
    status, res = history { trackers = { 1 }, from = "2024-05-01T00:00:00Z", to = "2024-05-03T00:00:00Z",
                            iso_datetime = true }
    assert.equal(200, status)
    assert.same({ "2024-05-01T22:00:00Z" }, times(res))
  end)

  it("refuses events it cannot place", function()
    for _, bad in ipairs{ { { tracker_id = 1, time = "2024-05-01 00:00:00" } },
                          { { time = "2024-05-01T00:00:00Z" } } } do
      local status = fake.http("POST", fake.base .. "/_fake/events", cjson.encode{ events = bad },
        { ["content-type"] = "application/json" })
      assert.equal(400, status)
    end
  end)
end)

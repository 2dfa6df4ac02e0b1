-- The fleet helpers: tracker/get_states beyond 2,000 ids, and walking
-- history/tracker/list past its 1,000-event pages and 31-day windows.
local fake = require "fake"
local setup = require "setup"

local count = setup.count

local range = setup.range

local requests_of = fake.requests_of

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

---------------------------------------------------------------- platform limits

local dates = require "fake.dates" -- the fake's own reading of API dates (LuaSocket side)

-- The windows asked for: the distinct `to` of the history requests, in order,
-- with their `from` (the first page's), as sent.
local function windows_sent()
  local list, seen = {}, {}
  for _, req in ipairs(requests_of("history/tracker/list")) do
    local to = req.params.to
    if not seen[to] then
      seen[to] = true
      list[#list + 1] = { from = req.params.from, to = to }
    end
  end
  table.sort(list, function(a, b) return a.from < b.from end)
  return list
end

-- Event ids of a list, checking that none repeats and times never go back.
local function ids_in_order(list, read)
  local ids, seen, prev = {}, {}, nil
  for i, ev in ipairs(list) do
    assert.is_nil(seen[ev.id], "event " .. tostring(ev.id) .. " repeated")
    seen[ev.id] = true
    ids[i] = ev.id
    local t = read(ev.time)
    if prev then assert.is_true(t >= prev, "events out of order at " .. ev.time) end
    prev = t
  end
  return ids
end

local function plain(s) return dates.parse_plain(s, "Europe/Berlin") end

describe("client:get_history on a platform with small limits", function()
  local client, codes
  setup.client_per_test(function(c) client = c end, {
    on_request = function(info) if info.code then codes[#codes + 1] = info.code end end,
  })
  before_each(function()
    codes = {}
    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P1D" } }
  end)

  it("learns history.max_limit and report.max_time_span once, from dealer/get_ui_config", function()
    local params = { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-04 00:00:00" }
    local res, err = client:get_history(params)
    assert.is_nil(err)
    assert.equal(144, res.total)
    assert.equal(144, #res.list)
    ids_in_order(res.list, plain)
    assert.equal("2024-05-01 00:00:00", res.list[1].time)
    assert.equal("2024-05-03 23:00:00", res.list[144].time)
    for _, req in ipairs(requests_of("history/tracker/list")) do
      assert.equal(10, req.params.limit)
      assert.is_true(plain(req.params.to) - plain(req.params.from) <= 86400)
    end
    assert.same({}, codes) -- no 211, no 212
    local ws = windows_sent()
    assert.equal("2024-05-01 00:00:00", ws[1].from)
    assert.equal("2024-05-04 00:00:00", ws[#ws].to)
    for i = 2, #ws do assert.equal(ws[i - 1].to, ws[i].from) end -- adjoining
    -- a page size over the platform's limit is cut to it; the limits are not asked again
    params.limit = 50
    assert.equal(144, assert(client:get_history(params)).total)
    for _, req in ipairs(requests_of("history/tracker/list")) do assert.is_true(req.params.limit <= 10) end
    assert.equal(1, fake.stats().by_action["dealer/get_ui_config"])
    assert.equal(fake.api_key, requests_of("dealer/get_ui_config")[1].hash)
  end)

  it("narrows the page on 212 and the window on 211 when the platform does not say", function()
    fake.fault { action = "dealer/get_ui_config", type = "error", code = 201 }
    fake.settings { platform = { ["report.max_time_span"] = "P2D" } }
    local totals = {}
    local res, err = client:get_history({ trackers = { 1, 2 }, from = "2024-05-01 00:00:00",
                                          to = "2024-05-06 00:00:00" },
      { on_progress = function(p) totals[#totals + 1] = p.windows_total end })
    assert.is_nil(err)
    assert.equal(5 * 24 * 2, res.total)
    ids_in_order(res.list, plain)
    -- get_ui_config refused; one window of 5 days: 211 (P2D), cut in 3; then the
    -- page halved once a round, 1000 → 500 → … → 7: 7 rounds of 212 for the 3 windows
    assert.same({ 201, 211 }, { codes[1], codes[2] })
    assert.equal(2 + 7 * 3, #codes)
    for i = 3, #codes do assert.equal(212, codes[i]) end
    assert.same({ 3 }, { totals[1] })
    -- once narrowed, no request asks for more than the platform allows
    local narrowed = false
    for _, req in ipairs(requests_of("history/tracker/list")) do
      if req.params.limit <= 10 then narrowed = true end
      if narrowed then
        assert.is_true(req.params.limit <= 10)
        assert.is_true(plain(req.params.to) - plain(req.params.from) <= 2 * 86400)
      end
    end
    -- what was learned is kept: the next call asks within the limits at once
    codes = {}
    assert(client:get_history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-04 00:00:00" })
    assert.same({}, codes)
    assert.equal(1, fake.stats().by_action["dealer/get_ui_config"])
  end)

  it("asks for the limits again after a failure on the way, or before a session was had", function()
    fake.fault { action = "dealer/get_ui_config", type = "status", status = 502, body = "<html>" }
    local params = { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-01 12:00:00" }
    assert.equal(12, assert(client:get_history(params, { retries = 0 })).total) -- defaults, narrowed by 212
    assert.same({ 212, 212, 212, 212, 212, 212, 212 }, codes) -- 1000 → 500 → … → 7
    codes = {}
    assert.equal(12, assert(client:get_history(params)).total)
    assert.equal(2, fake.stats().by_action["dealer/get_ui_config"])
    assert.same({}, codes) -- learned this time, and kept
    assert(client:get_history(params))
    assert.equal(2, fake.stats().by_action["dealer/get_ui_config"])

    local twofa = fake.users.twofa
    local c = require("navixy").new { url = fake.url, login = twofa.login, password = twofa.password,
      on_request = function(info) if info.code then codes[#codes + 1] = info.code end end }
    local res, err = c:get_history(params)
    assert.is_nil(res)
    assert.matches("verify_code", err.description)
    assert(c:verify_code(twofa.code))
    assert.equal(12, assert(c:get_history(params)).total)
    assert.same({}, codes)
    assert.equal(3, fake.stats().by_action["dealer/get_ui_config"])
    c:close()
  end)

  it("returns a 211 or 212 that narrowing cannot help", function()
    fake.settings { platform = { ["report.max_time_span"] = "PT1S" } }
    local c = setup.client()
    fake.fault { action = "history/tracker/list", type = "error", code = 211, times = 100 }
    local res, err = c:get_history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-01 00:00:01" }
    assert.is_nil(res)
    assert.equal(211, err.code)
    c:close()
    fake.reset()
    c = setup.client()
    fake.fault { action = "history/tracker/list", type = "error", code = 212, times = 100 }
    res, err = c:get_history { trackers = { 1 }, limit = 2, from = "2024-05-01 00:00:00", to = "2024-05-01 01:00:00" }
    assert.is_nil(res)
    assert.equal(212, err.code)
    assert.equal(2, fake.stats().by_action["history/tracker/list"]) -- 2, then 1
    c:close()
  end)

  it("keeps the caller's ISO 8601 offset in every window it cuts", function()
    local iso = setup.client { iso_datetime = true }
    local res, err = iso:get_history { trackers = { 1, 2 }, from = "2024-05-01T00:00:00+05:30",
                                       to = "2024-05-03T12:00:00+05:30" }
    assert.is_nil(err)
    assert.equal(60 * 2, res.total)
    ids_in_order(res.list, dates.parse_iso)
    assert.equal("2024-04-30T21:00:00+02:00", res.list[1].time) -- the user's offset in answers
    local pages = requests_of("history/tracker/list")
    assert.is_true(#pages > 12)
    for _, req in ipairs(pages) do
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+05:30$", req.params.from)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+05:30$", req.params.to)
      assert.is_true(dates.parse_iso(req.params.to) - dates.parse_iso(req.params.from) <= 86400)
    end
    iso:close()
    -- iso_datetime as a param, "Z", and fractions of a second kept as written
    fake.reset()
    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P1D" } }
    res = assert(client:get_history { trackers = { 1 }, iso_datetime = true, from = "2024-05-01T00:00:00.000Z",
                                      to = "2024-05-03T00:00:00.000Z" })
    assert.equal(48, res.total)
    for _, req in ipairs(requests_of("history/tracker/list")) do
      assert.matches("^2024%-05%-0%dT%d%d:%d%d:%d%d%.000Z$", req.params.from)
      assert.is_true(req.params.iso_datetime)
    end
  end)

  it("raises on dates the server would read in another form", function()
    local iso = setup.client { iso_datetime = true }
    assert.has_error(function()
      iso:get_history { trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" }
    end, "navixy: get_history: params.from must be ISO 8601 with an offset: iso_datetime is on, "
      .. "got 2024-05-01 00:00:00")
    assert.has_error(function()
      client:get_history { trackers = { 1 }, from = "2024-05-01T00:00:00Z", to = "2024-05-02T00:00:00Z" }
    end)
    assert.has_error(function()
      iso:get_history { trackers = { 1 }, from = "2024-05-01T00:00:00", to = "2024-05-02T00:00:00Z" }
    end) -- no offset: the server would guess
    assert.has_error(function()
      client:get_history({ trackers = { 1 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" },
        { on_events = true })
    end, "navixy: get_history option 'on_events' must be a function, got boolean")
    assert.equal(0, fake.stats().requests)
    iso:close()
  end)

  -- Events placed on every cut, a second either side, and on the caller's own from and to.
  local function events_on_cuts(ws, iso)
    local list, id = {}, 0
    local function at(t, tracker)
      id = id + 1
      list[#list + 1] = { tracker_id = tracker, id = id, time = os.date("!%Y-%m-%dT%H:%M:%SZ", t) }
    end
    local function instant(s) return iso and dates.parse_iso(s) or plain(s) end
    for i, w in ipairs(ws) do
      local t = instant(w.from)
      for _, dt in ipairs { -1, 0, 0, 1 } do at(t + dt, 1) end
      at(t, 2)
      if i == #ws then for _, dt in ipairs { -1, 0, 1 } do at(instant(w.to) + dt, 2) end end
    end
    return list
  end

  local function check_cuts(c, params, iso)
    local read = iso and dates.parse_iso or plain
    assert(c:get_history(params)) -- the cuts, with the fake's hourly events
    local ws = windows_sent()
    assert.is_true(#ws >= 3)
    local placed = events_on_cuts(ws, iso)
    fake.place_events(placed)
    local from, to = read(params.from), read(params.to)
    for _, bounds in ipairs { "[)", "[]" } do
      fake.settings { history_bounds = bounds }
      local expected = {}
      for _, e in ipairs(placed) do
        local t = dates.parse_iso(e.time)
        if t >= from and (t < to or (bounds == "[]" and t == to)) then expected[#expected + 1] = e.id end
      end
      local res, err = c:get_history(params)
      assert.is_nil(err)
      local got = ids_in_order(res.list, read)
      table.sort(got)
      assert.same(expected, got, bounds)
      assert.equal(#expected, res.total)
    end
  end

  it("never loses or repeats an event on a cut, with windows read as [from, to) or [from, to]", function()
    check_cuts(client, { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-04 00:00:00" })
  end)

  it("never loses or repeats an event on a cut with ISO 8601 dates either", function()
    local iso = setup.client { iso_datetime = true }
    check_cuts(iso, { trackers = { 1, 2 }, from = "2024-05-01T03:00:00-04:00", to = "2024-05-04T03:00:00-04:00" },
      true)
    iso:close()
  end)

  it("pages past a cut holding more events than a page, and says so when one time holds more", function()
    local placed = {}
    for i = 1, 25 do placed[i] = { tracker_id = 1 + i % 2, id = i, time = "2024-05-01T22:00:00Z" } end
    for i = 26, 30 do placed[i] = { tracker_id = 1, id = i, time = "2024-05-01T22:00:01Z" } end
    fake.place_events(placed)
    local res, err = client:get_history { trackers = { 1, 2 }, from = "2024-05-01 00:00:00",
                                          to = "2024-05-03 00:00:00" }
    assert.is_nil(res)
    assert.matches("more than 10 events at 2024%-05%-02 00:00:00", tostring(err))
    -- with nine at that time it goes through
    for i = 10, 25 do placed[i].time = ("2024-05-01T21:%02d:00Z"):format(i) end
    fake.place_events(placed)
    res = assert(client:get_history { trackers = { 1, 2 }, from = "2024-05-01 00:00:00",
                                      to = "2024-05-03 00:00:00" })
    assert.equal(30, res.total)
    ids_in_order(res.list, plain)
  end)

  it("cuts plain dates on the civil clock: a window across a change of daylight saving time still fits", function()
    -- Berlin, 2024-10-27: 02:00 to 03:00 happens twice; a day on the civil clock is 25 hours then
    local res, err = client:get_history { trackers = { 1 }, from = "2024-10-26 00:00:00",
                                          to = "2024-10-29 00:00:00" }
    assert.is_nil(err)
    assert.equal(3 * 24 + 1, res.total)
    assert.same({}, codes)
    for _, w in ipairs(windows_sent()) do assert.is_true(plain(w.to) - plain(w.from) <= 86400) end
    -- and in spring, 02:00 to 03:00 does not exist
    res = assert(client:get_history { trackers = { 1 }, from = "2024-03-30 00:00:00", to = "2024-04-02 00:00:00" })
    assert.equal(3 * 24 - 1, res.total)
    assert.same({}, codes)
  end)
end)

describe("streaming", function()
  local client
  setup.client_per_test(function(c) client = c end)
  before_each(function()
    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P1D" } }
  end)

  it("get_history hands each window's events on in time order, holding only `concurrency` windows", function()
    local params = { trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-08 00:00:00" }
    local whole = assert(client:get_history(params))
    fake.reset()
    fake.settings { platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P1D" } }
    local got, windows, progress = {}, {}, {}
    local res, err = client:get_history(params, { concurrency = 2,
      on_events = function(events, window)
        windows[#windows + 1] = window
        -- windows asked for so far: at most the ones handed on plus the concurrency
        assert.is_true(#windows_sent() <= #windows + 2)
        for _, ev in ipairs(events) do
          assert.is_true(ev.time >= window.from and ev.time < window.to)
          got[#got + 1] = ev
        end
      end,
      on_progress = function(p) progress[#progress + 1] = p end })
    assert.is_nil(err)
    assert.is_nil(res.list)
    assert.equal(whole.total, res.total)
    assert.equal(#whole.list, #got)
    for i, ev in ipairs(whole.list) do assert.equal(ev.id, got[i].id) end
    assert.equal("2024-05-01 00:00:00", windows[1].from)
    assert.equal("2024-05-08 00:00:00", windows[#windows].to)
    for i = 2, #windows do assert.equal(windows[i - 1].to, windows[i].from) end
    local last = progress[#progress]
    assert.same({ #windows, #windows, whole.total }, { last.windows_done, last.windows_total, last.events })
    assert.equal(#requests_of("history/tracker/list"), last.requests)
    for i = 2, #progress do assert.is_true(progress[i].windows_done >= progress[i - 1].windows_done) end
  end)

  it("get_history streams newest first with ascending = false", function()
    local firsts = {}
    local res = assert(client:get_history({ trackers = { 1 }, ascending = false, from = "2024-05-01 00:00:00",
                                            to = "2024-05-04 00:00:00" },
      { on_events = function(events) firsts[#firsts + 1] = events[1].time
        for i = 2, #events do assert.is_true(events[i].time < events[i - 1].time) end
      end }))
    assert.equal(72, res.total)
    assert.equal("2024-05-03 23:00:00", firsts[1])
    for i = 2, #firsts do assert.is_true(firsts[i] < firsts[i - 1]) end
  end)

  it("get_states hands each answer's states on, `concurrency` calls at a time", function()
    local seen, chunks = {}, 0
    local res, err = client:get_states(range(1000, 7499), { concurrency = 1, list_blocked = true,
      on_states = function(states, answer)
        chunks = chunks + 1
        assert.equal(chunks, fake.stats().by_action["tracker/get_states"]) -- one call held at a time
        assert.is_true(answer.success)
        for id in pairs(states) do
          assert.is_nil(seen[id])
          seen[id] = true
        end
      end })
    assert.is_nil(err)
    assert.equal(4, chunks)
    assert.equal(6500, count(seen))
    assert.same({ success = true, total = 6500, blocked = {}, user_time = res.user_time }, res)
    -- an error stops it, after the chunks before
    chunks = 0
    local ids = range(1000, 4999)
    ids[#ids + 1] = 2000001
    res, err = client:get_states(ids, { concurrency = 1, on_states = function() chunks = chunks + 1 end })
    assert.is_nil(res)
    assert.equal(217, err.code)
    assert.equal(2, chunks)
  end)
end)

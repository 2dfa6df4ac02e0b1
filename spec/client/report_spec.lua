-- client:get_report: generate, poll status, retrieve or download, delete.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local requests_of = fake.requests_of

-- time_filter: the page requires it (every day, all day here)
local EVERY_DAY = { from = "00:00", to = "23:59", weekdays = { 1, 2, 3, 4, 5, 6, 7 } }
local PARAMS = { title = "Trips", trackers = { 1, 2 }, from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00",
                 time_filter = EVERY_DAY, plugin = { plugin_id = 4 } }

local function actions()
  local list = {}
  for _, req in ipairs(fake.requests()) do
    if req.action:find("^report/") then list[#list + 1] = req.action end
  end
  return list
end

describe("client:get_report", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("generates, polls until ready, retrieves the JSON report and deletes it", function()
    local seen = {}
    local report, err = client:get_report(PARAMS, { on_progress = function(p) seen[#seen + 1] = p end })
    assert.is_nil(err)
    assert.equal("Trips", report.title)
    assert.equal(2, #report.sheets)
    assert.equal("Van 2", report.sheets[2].header)
    assert.same({ 50, 100 }, seen)
    assert.same({ "report/tracker/generate", "report/tracker/status", "report/tracker/status",
                  "report/tracker/retrieve", "report/tracker/delete" }, actions())
    local id = requests_of("report/tracker/delete")[1].params.report_id
    local _, gone = client:call("report/tracker/status", { report_id = id })
    assert.equal(204, gone.code) -- deleted
  end)

  it("downloads the report as a file with opts.format, and keeps it with opts.keep", function()
    local file = assert(client:get_report(PARAMS, { format = "pdf", keep = true, headless = true }))
    assert.equal("application/pdf", file.content_type)
    assert.equal("Trips.pdf", file.filename)
    assert.equal("%PDF", file.body:sub(1, 4))
    local dl = requests_of("report/tracker/download")
    assert.equal(1, #dl)
    assert.is_true(dl[1].params.headless)
    assert.equal(0, #requests_of("report/tracker/delete"))
  end)

  it("streams the download into opts.sink", function()
    local chunks = {}
    local file = assert(client:get_report(PARAMS, { format = "xlsx", sink = function(c) chunks[#chunks + 1] = c end }))
    assert.is_nil(file.body)
    assert.equal("PK", table.concat(chunks):sub(1, 2))
    assert.equal(file.size, #table.concat(chunks))
  end)

  it("polls a report that takes time with a backoff, within the deadline", function()
    fake.settings{ report_seconds = 2 }
    local seen = {}
    local function on_progress(p) seen[#seen + 1] = p end
    local report = assert(client:get_report(PARAMS, { timeout = 60, on_progress = on_progress }))
    assert.equal("Trips", report.title)
    assert.equal(100, seen[#seen])
    local polls = #requests_of("report/tracker/status")
    assert.is_true(polls >= 2 and polls <= 8, "polls: " .. polls) -- 0.5, 0.75, 1.1, 1.7 s ...: few calls
  end)

  it("ends at opts.timeout with a timeout error, and still deletes the report", function()
    fake.settings{ report_seconds = 600 }
    local report, err = client:get_report(PARAMS, { timeout = 1.5 })
    assert.is_nil(report)
    assert.is_true(navixy.is_error(err))
    assert.equal("timeout", err.kind)
    assert.matches("within the 1.5 s of opts.timeout", tostring(err), 1, true)
    assert.matches("% ready", tostring(err), 1, true)
    assert.equal(1, #requests_of("report/tracker/delete"))
  end)

  it("waits and generates again on error 15 (too many reports at once)", function()
    fake.settings{ report_seconds = 1, reports_at_once = 1 }
    local busy = assert(client:call("report/tracker/generate", PARAMS)) -- takes the one slot for 1 s
    assert.is_number(busy.id)
    local report = assert(client:get_report(PARAMS, { timeout = 60 }))
    assert.equal("Trips", report.title)
    local gens = requests_of("report/tracker/generate")
    assert.is_true(#gens >= 3, "generate calls: " .. #gens) -- the busy one, at least one refused, the one made
  end)

  it("polls again when retrieve answers 229 (not ready yet)", function()
    fake.fault{ action = "report/tracker/retrieve", type = "error", code = 229, status = 404 }
    local report = assert(client:get_report(PARAMS))
    assert.equal("Trips", report.title)
    assert.equal(2, #requests_of("report/tracker/retrieve"))
  end)

  it("returns a documented failure as it came, deleting nothing when there is no id", function()
    local report, err = client:get_report({ trackers = { 1 }, from = "2024-05-01 00:00:00",
      to = "2024-05-02 00:00:00", time_filter = EVERY_DAY, plugin = { plugin_id = 999 } })
    assert.is_nil(report)
    assert.equal(222, err.code)
    assert.same({ "report/tracker/generate" }, actions())
  end)

  it("raises on misuse before sending", function()
    assert.matches("^navixy: unknown client:get_report option 'fromat'",
      setup.raised(client.get_report, client, PARAMS, { fromat = "pdf" }))
    assert.matches("^navixy: client:get_report option 'sink' needs a format",
      setup.raised(client.get_report, client, PARAMS, { sink = "/tmp/x" }))
    assert.same({}, actions())
  end)
end)

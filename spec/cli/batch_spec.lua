-- `navixy batch FILE|-`: one call per line against the fake server; results
-- as JSON lines in input order or as they complete, the summary and the
-- exit status, the progress bar on a terminal, the rate limit, and a run
-- interrupted with Ctrl-C and resumed without any call sent twice.
local cjson = require "cjson"
local fake = require "fake"
local cli_run = require "cli_run"
local files = require "local_files"

local LUA = require "flavour"
local q = files.quote
local with_key, tmpfile = cli_run.with_key, cli_run.tmpfile

local function decoded_lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

-- n lines, line k calling the action batch/item/k (the fake counts requests
-- per action: each must be sent at most once)
local function numbered(n)
  local t = {}
  for k = 1, n do t[k] = ('["batch/item/%d", {"n": %d}]'):format(k, k) end
  return table.concat(t, "\n") .. "\n"
end

describe("navixy batch", function()
  before_each(fake.reset)
  after_each(function()
    fake.rate_limit(false)
    cli_run.cleanup()
  end)

  it("makes one call per line and prints the results as JSON lines in input order", function()
    local input = tmpfile('{"action": "tracker/get_state", "params": {"tracker_id": 1}}\n'
      .. "\n" -- a blank line counts in the numbering
      .. '["tracker/list"]\n'
      .. '["tracker/get_state", {"tracker_id": 2}]\n')
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.5, times = 1 } -- the first one
    local r = with_key { "batch", "--concurrency", "3", input }
    assert.equal(0, r.status, r.stderr)
    local out = decoded_lines(r.stdout)
    assert.same({ 1, 3, 4 }, { out[1].line, out[2].line, out[3].line })
    assert.same({ "tracker/get_state", "tracker/list", "tracker/get_state" },
      { out[1].action, out[2].action, out[3].action })
    assert.equal(true, out[2].result.success)
    assert.equal(3, #out[2].result.list)
    assert.equal(2, fake.sent("tracker/get_state"))
    assert.truthy(r.stderr:find("^navixy: batch: 3 lines: 3 ok, 0 API errors, 0 failed without an answer "
      .. "in [%d.]+ s\n$"), r.stderr)
    assert.falsy(r.stderr:find("\r", 1, true)) -- no progress bar: stderr is not a terminal
    assert.is_nil(io.open(input .. ".resume")) -- the default state, removed after a complete run
  end)

  it("--concurrency bounds the calls in flight", function()
    local input = tmpfile(('["tracker/list"]\n'):rep(12))
    fake.fault { action = "tracker/list", type = "delay", seconds = 0.2, times = 12 }
    local r = with_key { "batch", "--concurrency", "3", input }
    assert.equal(0, r.status, r.stderr)
    local stats = fake.stats()
    assert.equal(12, stats.by_action["tracker/list"])
    assert.is_true(stats.max_in_flight > 1 and stats.max_in_flight <= 3, "in flight: " .. stats.max_in_flight)
    fake.reset()
    fake.fault { action = "tracker/list", type = "delay", seconds = 0.1, times = 4 }
    r = with_key { "batch", "--concurrency", "1", tmpfile(('["tracker/list"]\n'):rep(4)) }
    assert.equal(0, r.status)
    assert.equal(1, fake.stats().max_in_flight)
    r = with_key { "batch", "--concurrency", "0", input }
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("option --concurrency expects a whole number of calls at once from 1 to", 1, true))
  end)

  it("--unordered prints each result as it completes", function()
    -- (the client sends a batch's first call alone: the slow one is the second)
    local input = tmpfile('["tracker/list"]\n["tracker/get_state", {"tracker_id": 1}]\n["user/get_info"]\n')
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 1, times = 1 }
    local r = with_key { "batch", "--unordered", input }
    assert.equal(0, r.status)
    local out = decoded_lines(r.stdout)
    assert.same({ 1, 3, 2 }, { out[1].line, out[2].line, out[3].line })
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 1, times = 1 }
    r = with_key { "batch", input } -- in input order by default
    out = decoded_lines(r.stdout)
    assert.same({ 1, 2, 3 }, { out[1].line, out[2].line, out[3].line })
  end)

  it("exits 1 when some calls had API errors and 3 when some had no answer, and says so", function()
    local input = tmpfile('["tracker/list"]\n["no/such_action"]\n')
    local r = with_key { "batch", input }
    assert.equal(1, r.status)
    local out = decoded_lines(r.stdout)
    assert.same({ kind = "api", code = 111, status = 400 }, -- the docs' "Wrong handler"
      { kind = out[2].error.kind, code = out[2].error.code, status = out[2].error.status })
    assert.truthy(r.stderr:find("2 lines: 1 ok, 1 API errors, 0 failed without an answer", 1, true))
    fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 5 }
    r = with_key { "batch", "--retries", "0", input }
    assert.equal(3, r.status)
    assert.truthy(r.stderr:find("2 lines: 0 ok, 1 API errors, 1 failed without an answer", 1, true))
    assert.equal("http", decoded_lines(r.stdout)[1].error.kind)
  end)

  it("reads the lines from standard input with -", function()
    local r = with_key({ "batch", "-" }, nil, tmpfile('["tracker/list"]\n["tracker/list"]\n'))
    assert.equal(0, r.status)
    assert.equal(2, #decoded_lines(r.stdout))
    assert.equal(2, fake.sent("tracker/list"))
  end)

  it("refuses a line that is not a call before sending anything, naming the line", function()
    for _, case in ipairs {
      { '["tracker/list"]\n{"params": {}}\n', "line 2: no action" },
      { '["tracker/list"]\n["tracker/list", [1]]\n', "line 2: the params must be a JSON object" },
      { "tracker/list\n", "line 1: " },
      { '[7]\n', "line 1: the action must be a string" },
    } do
      local input = tmpfile(case[1])
      local r = with_key { "batch", input }
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find(input .. " " .. case[2], 1, true), r.stderr)
    end
    assert.equal(0, fake.stats().requests)
    local r = with_key { "batch", "--unordered", "tracker/list" }
    assert.equal(2, r.status) -- not a file
    r = with_key { "--unordered", "tracker/list" }
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("options of navixy batch", 1, true))
    for _, args in ipairs { { "--output", "x", "batch", "-" }, { "--dry-run", "batch", "-" } } do
      r = with_key(args)
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("are for one call, not for batch", 1, true), r.stderr)
    end
  end)

  it("refuses a state file of another input", function()
    local input, state = tmpfile('["tracker/list"]\n'), tmpfile("navixy batch state 1 lines=9 sha1=00\n1\n")
    local r = with_key { "batch", "--resume", state, input }
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("is the state of another input", 1, true))
    assert.equal(0, fake.stats().requests)
  end)

  it("10,000 lines at a rate limit, a progress bar on a terminal, Ctrl-C, then resumed: no call sent twice",
    function()
      local n, rate = 10000, 1500
      -- the server refuses (429) what goes over it, counting arrivals as a loaded machine
      -- delivers them (fake.LOADED_WINDOW); a refused call would be sent again
      fake.rate_limit(rate, { window = fake.LOADED_WINDOW })
      local input = tmpfile(numbered(n))
      local state, out1, out2 = cli_run.tmpname(), cli_run.tmpname(), cli_run.tmpname()
      os.remove(state)
      local env = "exec env -i PATH=" .. q(os.getenv("PATH")) .. " NAVIXY_URL=" .. q(fake.url)
        .. " NAVIXY_HASH=" .. q(fake.api_key) .. " "
      local command = env .. LUA .. " bin/navixy batch --rate-limit " .. rate .. " --resume " .. q(state)
        .. " " .. q(input)
      -- Ctrl-C once the bar has moved a while
      local p = io.popen("spec/support/pty-run --timeout 120 --expect '/10000' --send '' --expect @1 --send '\\x03' -- "
        .. "sh -c " .. q(command .. " > " .. q(out1)) .. " </dev/null")
      local shown = p:read("*a")
      p:close()
      assert.truthy(shown:find("^exit 130\n"), shown)
      assert.truthy(shown:find("\r[#", 1, true) or shown:find("\r[.", 1, true), shown) -- the bar, redrawn
      assert.truthy(shown:find("/10000", 1, true))
      assert.truthy(shown:find("navixy: batch interrupted after %d+ of 10000 lines"), shown)
      local first = decoded_lines(files.read(out1))
      assert.is_true(#first > 0 and #first < n, "lines before Ctrl-C: " .. #first)

      local r = cli_run.navixy({ "batch", "--rate-limit", tostring(rate), "--resume", state, input },
        { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key })
      files.read(out2)
      assert.truthy(r.stderr:find("resuming from " .. state, 1, true), r.stderr)
      local second = decoded_lines(r.stdout)
      -- every line reported exactly once over the two runs
      local seen, doubt = {}, 0
      for _, run in ipairs { first, second } do
        for _, line in ipairs(run) do
          assert.is_nil(seen[line.line], "line " .. line.line .. " reported twice")
          seen[line.line] = true
          if line.error.kind == "interrupted" then doubt = doubt + 1 end
        end
      end
      for k = 1, n do assert.truthy(seen[k], "line " .. k .. " never reported") end
      assert.is_true(doubt <= 257) -- at most the calls in flight (concurrency 8, + 1)
      assert.equal(doubt > 0 and 3 or 1, r.status) -- every other call is an API error (unknown action)
      -- the lines in doubt stay in the state file until the user has checked them
      assert.equal(doubt > 0, io.open(state) ~= nil)
      if doubt > 0 then
        assert.truthy(r.stderr:find(doubt .. " in doubt from an interrupted run (kept in " .. state, 1, true), r.stderr)
      end
      -- the rate limit held: the server refused nothing (else the refused calls went twice)
      local stats = fake.rate_stats().accounts["key:fixed"]
      assert.equal(0, stats.refused)
      assert.is_true(stats.max_in_window <= rate)
      -- no call sent twice, every call not in doubt sent once
      local by_action, sent = fake.stats().by_action, 0
      local reported = {} -- line -> what was said of it
      for _, run in ipairs { first, second } do
        for _, line in ipairs(run) do reported[line.line] = line end
      end
      local unsent = {} -- neither received nor in doubt: how they were reported
      for k = 1, n do
        local count = by_action["batch/item/" .. k] or 0
        assert.is_true(count <= 1, "batch/item/" .. k .. " sent " .. count .. " times")
        sent = sent + count
        local line = reported[k]
        if count == 0 and not (line.error and line.error.kind == "interrupted") and #unsent < 5 then
          unsent[#unsent + 1] = k .. ": " .. cjson.encode(line)
        end
      end
      assert.is_true(sent >= n - doubt and sent <= n, ("%d sent, %d in doubt; never received: %s")
        :format(sent, doubt, table.concat(unsent, "; ")))
    end)
end)

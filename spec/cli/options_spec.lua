-- The navixy command's options for scripting: --verbose, --dry-run,
-- --retries, --insecure, --output -, params from standard input and @FILE,
-- and "did you mean" for a mistyped option. Run against the fake server.
local cjson = require "cjson"
local fake = require "fake"
local cli_run = require "cli_run"

local with_key, tmpfile = cli_run.with_key, cli_run.tmpfile

local function lines_of(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

describe("the navixy command's scripting options", function()
  before_each(fake.reset)
  after_each(cli_run.cleanup)

  describe("--verbose", function()
    it("shows the request, each attempt and the answer's headers on stderr, the hash masked", function()
      local r = with_key { "--verbose", "tracker/get_state", "tracker_id:=1" }
      assert.equal(0, r.status)
      assert.equal(true, cjson.decode(r.stdout).success) -- stdout holds the answer only
      local err = lines_of(r.stderr)
      assert.equal("> POST " .. fake.url .. "/tracker/get_state", err[1])
      assert.truthy(r.stderr:find("\n> Authorization: NVX a6aa...\n", 1, true))
      assert.truthy(r.stderr:find('\n> {"tracker_id":1}\n', 1, true))
      assert.truthy(r.stderr:find("\n< tracker/get_state: attempt 1: HTTP 200 in [%d.]+ s\n"))
      assert.truthy(r.stderr:find("\n< Content-Type: application/json", 1, true))
      assert.falsy(r.stderr:find(fake.api_key, 1, true))
    end)

    it("shows every attempt of a retried call, and the error line counts them", function()
      fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 3 }
      local r = with_key { "--verbose", "tracker/list" }
      assert.equal(3, r.status)
      assert.truthy(r.stderr:find("< tracker/list: attempt 1: HTTP 502", 1, true))
      assert.truthy(r.stderr:find("< tracker/list: attempt 3: HTTP 502", 1, true))
      assert.equal("(3 attempts)\n", r.stderr:sub(-#"(3 attempts)\n"))
    end)
  end)

  describe("--dry-run", function()
    it("prints the request, masked, and sends nothing", function()
      local r = with_key { "--dry-run", "tracker/list", "labels:=[]" }
      assert.equal(0, r.status)
      assert.equal("", r.stdout)
      assert.truthy(r.stderr:find("^> POST " .. fake.url:gsub("%p", "%%%0") .. "/tracker/list\n"))
      assert.equal('\n> {"labels":[]}\n', r.stderr:sub(-#'\n> {"labels":[]}\n'))
      assert.falsy(r.stderr:find(fake.api_key, 1, true))
      assert.equal(0, fake.stats().requests)
    end)

    it("shows where the hash goes with --auth query and --auth body, masked", function()
      local r = with_key { "--dry-run", "--auth", "query", "--get", "tracker/list", "a=1" }
      assert.truthy(r.stderr:find("> GET " .. fake.url .. "/tracker/list?a=1&hash=a6aa...\n", 1, true))
      r = with_key { "--dry-run", "--auth", "body", "tracker/list", "a=1" }
      assert.truthy(r.stderr:find('\n> {"hash":"a6aa...","a":"1"}\n', 1, true))
      assert.falsy(r.stderr:find(fake.api_key, 1, true))
      assert.equal(0, fake.stats().requests)
    end)

    it("does not log in with --login: the hash is the one a login would bring", function()
      local r = cli_run.navixy({ "--dry-run", "--login", fake.users.demo.login, "user/get_info" },
        { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = fake.users.demo.password })
      assert.equal(0, r.status)
      assert.truthy(r.stderr:find("Authorization: NVX <the hash of the login>", 1, true))
      assert.falsy(r.stderr:find(fake.users.demo.password, 1, true))
      assert.equal(0, fake.stats().requests)
    end)
  end)

  describe("--retries", function()
    it("sets how many times a failed safe call is tried again", function()
      fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 10 }
      local r = with_key { "--retries", "0", "tracker/list" }
      assert.equal(3, r.status)
      assert.equal(1, fake.sent("tracker/list"))
      assert.falsy(r.stderr:find("attempts", 1, true)) -- one attempt: nothing to count
      r = with_key { "--retries=4", "tracker/list" }
      assert.equal(3, r.status)
      assert.equal(1 + 5, fake.sent("tracker/list"))
      assert.truthy(r.stderr:find("(5 attempts)\n", 1, true))
    end)

    it("refuses what is not a whole number", function()
      for _, v in ipairs { "x", "-1", "1.5" } do
        local r = with_key { "--retries", v, "tracker/list" }
        assert.equal(2, r.status)
        assert.truthy(r.stderr:find("^navixy: option %-%-retries expects a whole number"))
      end
      assert.equal(0, fake.stats().requests)
    end)
  end)

  describe("--insecure", function()
    it("is what the refusal of plain http:// names, and lifts it", function()
      -- a name that is not loopback for the client, resolved to the fake by curl's own rule
      local url = fake.url:gsub("127%.0%.0%.1", "localhost.invalid")
      local r = with_key({ "--dry-run", "tracker/list" }, { NAVIXY_URL = url })
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("add --insecure", 1, true))
      assert.falsy(r.stderr:find("insecure = true", 1, true))
      r = with_key({ "--dry-run", "--insecure", "tracker/list" }, { NAVIXY_URL = url })
      assert.equal(0, r.status)
    end)
  end)

  describe("--output -", function()
    it("writes a file answer's bytes to stdout", function()
      fake.fault { action = "x/file", type = "file", bytes = 5000, content_type = "application/octet-stream" }
      local r = with_key { "--output", "-", "x/file" }
      assert.equal(0, r.status)
      assert.equal(fake.file_bytes(0, 5000), r.stdout)
    end)
  end)

  describe("params from standard input and @FILE", function()
    it("takes a JSON object on standard input when it is not a terminal", function()
      local r = with_key({ "tracker/get_states" }, nil, tmpfile('{"trackers": [1, 2], "labels": []}\n'))
      assert.equal(0, r.status)
      local req = fake.last_request()
      assert.same({ 1, 2 }, req.params.trackers)
      assert.truthy(req.body:find('"labels":[]', 1, true))
    end)

    it("takes @FILE, and @- for standard input", function()
      local r = with_key { "tracker/get_state", "@" .. tmpfile('{"tracker_id": 1}') }
      assert.equal(0, r.status)
      assert.equal(1, fake.last_request().params.tracker_id)
      r = with_key({ "tracker/get_state", "@-" }, nil, tmpfile('{"tracker_id": 2}'))
      assert.equal(0, r.status)
      assert.equal(2, fake.last_request().params.tracker_id)
    end)

    it("refuses params from two places, and what is not one JSON object, sending nothing", function()
      local params = tmpfile('{"tracker_id": 1}')
      for _, case in ipairs {
        { { "tracker/get_state", "tracker_id:=1" }, params, "name=value parameters and standard input" },
        { { "tracker/get_state", "@" .. params }, params, "@" .. params .. " and standard input" },
        { { "tracker/get_state", "x=1", "@" .. params }, nil, "name=value parameters and @" },
        { { "tracker/get_state", "@" .. params, "@" .. params }, nil, "one params file" },
        { { "tracker/get_state" }, tmpfile("tracker_id=1\n"), "standard input is not valid JSON" },
        { { "tracker/get_state" }, tmpfile("[1, 2]"), "standard input must hold one JSON object" },
        { { "tracker/get_state", "@/nonexistent/p.json" }, nil, "cannot read the params file" },
      } do
        local r = with_key(case[1], nil, case[2])
        assert.equal(2, r.status)
        assert.truthy(r.stderr:find(case[3], 1, true), r.stderr)
        assert.truthy(r.stderr:find("^navixy: [^\n]+\n$"), r.stderr)
      end
      assert.equal(0, fake.stats().requests)
    end)

    it("--ignore-stdin leaves standard input unread; blank input is no params", function()
      local r = with_key({ "--ignore-stdin", "tracker/get_state", "tracker_id:=1" }, nil, tmpfile("1 2 3\n"))
      assert.equal(0, r.status)
      r = with_key({ "tracker/list" }, nil, tmpfile("\n  \n"))
      assert.equal(0, r.status)
      assert.equal("{}", fake.last_request().body)
    end)
  end)

  it("--help names every option of the command", function()
    local r = cli_run.navixy { "--help" }
    assert.equal(0, r.status)
    for name in pairs(require("navixy.cli.options").VALUED) do
      assert.truthy(r.stdout:find("--" .. name, 1, true), name)
    end
    for name in pairs(require("navixy.cli.options").FLAGS) do
      assert.truthy(r.stdout:find("--" .. name, 1, true), name)
    end
  end)

  describe("did you mean", function()
    it("names the option meant by a near typo", function()
      local typos = { verbos = "verbose", ["dry_run"] = "dry-run", retires = "retries", formatt = "format",
        profil = "profile" }
      for typo, meant in pairs(typos) do
        local r = with_key { "--" .. typo, "tracker/list" }
        assert.equal(2, r.status)
        assert.truthy(r.stderr:find("unknown option --" .. typo .. " (did you mean --" .. meant .. "?)", 1, true),
          r.stderr)
      end
      local r = with_key { "--zzzzzzzz", "tracker/list" }
      assert.falsy(r.stderr:find("did you mean", 1, true))
    end)
  end)
end)

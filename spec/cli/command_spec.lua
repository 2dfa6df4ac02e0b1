-- The navixy command (bin/navixy), run as a subprocess against the fake
-- server, with the interpreter that runs the specs (lua5.1 ... lua5.4 or luajit).
-- Each run starts from an empty environment plus what the test sets, so
-- the developer's own NAVIXY_* variables cannot change a result.
local cjson = require "cjson"
local fake = require "fake"
local sockets = require "sockets"

local LUA = require "flavour"
local PASSWORD = fake.users.demo.password
local LOGIN = fake.users.demo.login

local q = require("local_files").quote

local slurp = require("local_files").read
local cli_run = require "cli_run"
local tmpname, navixy, with_key, on_terminal = cli_run.tmpname, cli_run.navixy, cli_run.with_key, cli_run.on_terminal

local function one_line(s)
  return s:find("^[^\n]+\n$") ~= nil
end

local function mode_of(path)
  local p = io.popen("stat -c %a " .. q(path))
  local mode = p:read("*l")
  p:close()
  return mode
end

local cleanup = cli_run.cleanup

describe("the navixy command", function()
  before_each(fake.reset)
  after_each(cleanup)

  describe("output", function()
    it("prints the answer as indented JSON, keys sorted, and exits 0", function()
      local r = with_key { "tracker/list" }
      assert.equal(0, r.status)
      assert.equal("", r.stderr)
      assert.truthy(r.stdout:find('^{\n  "list": %[\n    {\n      "clone": false,\n      "group_id": 0,\n'
        .. '      "id": 1,\n      "label": "Truck 1",\n      "source": {\n'))
      assert.truthy(r.stdout:find('\n  "success": true\n}\n$'))
      local decoded = cjson.decode(r.stdout)
      assert.equal(3, #decoded.list)
    end)

    it("prints empty arrays as [] and empty objects as {}", function()
      local r = with_key { "tracker/get_state", "tracker_id:=1" }
      assert.equal(0, r.status)
      assert.truthy(r.stdout:find('"inputs": [],', 1, true))
      assert.truthy(r.stdout:find('"additional": {},', 1, true))
      assert.truthy(r.stdout:find('"battery_level": null,', 1, true))
    end)

    it("sorts keys made of digits by number (tracker ids)", function()
      local r = with_key { "tracker/get_states", "trackers:=[1000,2,1001]" }
      assert.equal(0, r.status)
      local two, thousand = r.stdout:find('"2": {', 1, true), r.stdout:find('"1000": {', 1, true)
      assert.truthy(two and thousand and two < thousand)
    end)

    it("keeps UTF-8 as is, decodes \\u escapes, and keeps numbers as the server wrote them", function()
      fake.fault { action = "tracker/list", type = "raw",
        body = '{"success":true,"label":"Grüße 🚚","esc":"\\u00e9\\/x","n":1.50,"big":12345678901234567890}' }
      local r = with_key { "tracker/list" }
      assert.equal(0, r.status)
      assert.truthy(r.stdout:find('"label": "Grüße 🚚"', 1, true))
      assert.truthy(r.stdout:find('"esc": "é/x"', 1, true))
      assert.truthy(r.stdout:find('"n": 1.50', 1, true))
      assert.truthy(r.stdout:find('"big": 12345678901234567890', 1, true))
    end)

    it("--compact prints one line", function()
      local r = with_key { "--compact", "tracker/get_state", "tracker_id:=1" }
      assert.equal(0, r.status)
      assert.is_true(one_line(r.stdout))
      assert.truthy(r.stdout:find('^{"state":{"additional":{},"battery_level":null,'))
      assert.truthy(r.stdout:find('"inputs":[],', 1, true))
    end)
  end)

  describe("parameters", function()
    it("name:=json sends typed values: numbers, arrays, booleans, null, objects", function()
      local r = with_key { "tracker/get_states", "trackers:=[1,2]", "list_blocked:=true",
        "extra:=null", "tag:={\"name\":\"hop\",\"ids\":[]}", "labels:=[]" }
      assert.equal(0, r.status)
      local req = fake.last_request()
      assert.same({ 1, 2 }, req.params.trackers)
      assert.truthy(req.body:find('"trackers":[1,2]', 1, true))
      assert.truthy(req.body:find('"list_blocked":true', 1, true))
      assert.truthy(req.body:find('"extra":null', 1, true))
      assert.truthy(req.body:find('"labels":[]', 1, true)) -- not {}
      assert.truthy(req.body:find('"ids":[]', 1, true))
      assert.truthy(req.body:find('"name":"hop"', 1, true))
      r = with_key { "tracker/get_state", "tracker_id:=1" }
      assert.equal(0, r.status)
      assert.truthy(fake.last_request().body:find('"tracker_id":1', 1, true))
    end)

    it("name=value sends strings, also those that look like numbers", function()
      local r = with_key { "tracker/list", "label=007", "tracker_id=1", "flag=true", "expr=a=b" }
      assert.equal(0, r.status)
      local req = fake.last_request()
      assert.equal("007", req.params.label)
      assert.equal("1", req.params.tracker_id)
      assert.equal("true", req.params.flag)
      assert.equal("a=b", req.params.expr)
      assert.truthy(req.body:find('"tracker_id":"1"', 1, true))
    end)

    it("sends an empty JSON object when no params are given", function()
      assert.equal(0, with_key({ "tracker/list" }).status)
      assert.equal("{}", fake.last_request().body)
    end)

    it("name:= with invalid JSON is a usage error naming the parameter, not its value", function()
      local r = with_key { "tracker/list", "secret:=[1,", "ok=1" }
      assert.equal(2, r.status)
      assert.is_true(one_line(r.stderr))
      assert.truthy(r.stderr:find("parameter 'secret'", 1, true))
      assert.falsy(r.stderr:find("[1,", 1, true))
      assert.equal("", r.stdout)
      assert.equal(0, fake.stats().requests)
    end)

    it("says which option or action a typo meant, before asking for credentials or sending", function()
      local r = with_key { "--compcat", "tracker/list" }
      assert.same({ 2, "navixy: unknown option --compcat (did you mean --compact?) (see navixy --help)\n" },
        { r.status, r.stderr })
      r = with_key { "tracker/list", "--pannel" }
      assert.same({ 2, "navixy: unknown option --pannel (did you mean --panel?) (see navixy --help)\n" },
        { r.status, r.stderr })
      r = with_key { "--zzzzzz", "tracker/list" } -- nothing near: no guess
      assert.equal("navixy: unknown option --zzzzzz (see navixy --help)\n", r.stderr)
      r = navixy { "tracker/lsit" } -- no credentials needed to be told
      assert.same({ 2, 'navixy: unknown action "tracker/lsit" (did you mean "tracker/list"?)\n' },
        { r.status, r.stderr })
      r = with_key { "--panel", "usr/list" }
      assert.same({ 2, 'navixy: unknown action "usr/list" (did you mean "user/list"?)\n' }, { r.status, r.stderr })
      assert.equal(0, fake.stats().requests)
      r = with_key { "zzz/plugin_action" } -- not near anything: sent
      assert.equal(1, r.status)
      assert.matches("zzz/plugin_action is not a documented action", r.stderr, 1, true)
    end)

    it("refuses a parameter given twice, one without '=' and one without a name", function()
      for _, args in ipairs {
        { "tracker/list", "a=1", "a:=2" },
        { "tracker/list", "labels" },
        { "tracker/list", "=1" },
        { "tracker_id:=1" }, -- no action
      } do
        local r = with_key(args)
        assert.equal(2, r.status)
        assert.is_true(one_line(r.stderr))
      end
      assert.equal(0, fake.stats().requests)
    end)
  end)

  describe("options", function()
    it("--url and --hash, which win over NAVIXY_URL and NAVIXY_HASH", function()
      local r = navixy({ "--url", fake.url, "--hash", fake.api_key, "tracker/list" },
        { NAVIXY_URL = "http://127.0.0.1:1/v2", NAVIXY_HASH = "00000000000000000000000000000000" })
      assert.equal(0, r.status)
      assert.equal(fake.api_key, fake.last_request().hash)
      r = navixy { "--url=" .. fake.url, "--hash=" .. fake.api_key, "tracker/list" }
      assert.equal(0, r.status)
    end)

    it("takes the URL and the hash from NAVIXY_URL and NAVIXY_HASH", function()
      local r = navixy({ "user/get_info" }, { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key })
      assert.equal(0, r.status)
      assert.equal("/v2/user/get_info", fake.last_request().path)
    end)

    it("--region picks the region's URL over NAVIXY_URL (seen through a proxy that is not there)", function()
      -- https_proxy points at a closed loopback port: the request for the
      -- region's https URL fails there, and nothing leaves the machine
      local env = { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key, https_proxy = "http://127.0.0.1:1" }
      local r = navixy({ "--region", "eu", "--timeout", "5", "tracker/list" }, env)
      assert.equal(3, r.status)
      assert.equal(0, fake.stats().requests)
      r = navixy({ "tracker/list" }, env) -- the same environment without --region reaches the fake
      assert.equal(0, r.status)
      assert.equal(1, fake.stats().requests)
    end)

    it("--region me is the Middle East API (seen through a proxy that is not there)", function()
      local env = { NAVIXY_HASH = fake.api_key, https_proxy = "http://127.0.0.1:1" }
      local r = navixy({ "--region", "me", "--timeout", "5", "tracker/list" }, env)
      assert.equal(3, r.status)
      assert.equal("navixy: tracker/list: transport error: ", r.stderr:sub(1, 39))
      assert.equal(0, fake.stats().requests)
    end)

    it("--region must be eu, us or me, and not given with --url", function()
      for _, args in ipairs {
        { "--region", "mars", "tracker/list" },
        { "--region", "eu", "--url", fake.url, "tracker/list" },
      } do
        local r = with_key(args)
        assert.equal(2, r.status)
        assert.is_true(one_line(r.stderr))
      end
    end)

    it("--auth places the hash in the header, the query or the body", function()
      for _, mode in ipairs { "header", "query", "body" } do
        local r = with_key { "--auth", mode, "tracker/list" }
        assert.equal(0, r.status)
        assert.equal(mode, fake.last_request().hash_from)
      end
      assert.equal(2, with_key({ "--auth", "cookie", "tracker/list" }).status)
    end)

    it("--form sends the params form-encoded, tables as JSON text", function()
      local r = with_key { "--form", "tracker/get_states", "trackers:=[1,2]", "label=007" }
      assert.equal(0, r.status)
      local req = fake.last_request()
      assert.truthy(req.content_type:find("application/x-www-form-urlencoded", 1, true))
      assert.same({ 1, 2 }, req.params.trackers)
      assert.equal("007", req.params.label)
    end)

    it("--timeout bounds the call: exit 3 and a one-line timeout error", function()
      fake.fault { action = "tracker/update", type = "delay", seconds = 3 }
      local started = os.time()
      local r = with_key { "--timeout", "0.5", "tracker/update" }
      assert.equal(3, r.status)
      assert.is_true(one_line(r.stderr))
      assert.truthy(r.stderr:find("^navixy: tracker/update: timeout"))
      assert.is_true(os.time() - started < 3)
      assert.equal(2, with_key({ "--timeout", "soon", "tracker/list" }).status)
      assert.equal(2, with_key({ "--timeout", "-1", "tracker/list" }).status)
    end)

    it("--ca-file trusts the fake's test CA for its https URL", function()
      local r = with_key { "--url", fake.tls_url, "--ca-file", fake.ca_file, "tracker/list" }
      assert.equal(0, r.status)
      r = with_key { "--url", fake.tls_url, "tracker/list" }
      assert.equal(3, r.status)
      assert.is_true(one_line(r.stderr))
    end)

    it("--help lists every option and exits 0; --version prints the version", function()
      local r = navixy { "--help" }
      assert.equal(0, r.status)
      for _, opt in ipairs { "--url", "--region", "--hash", "--login", "--session", "--auth",
        "--form", "--timeout", "--ca-file", "--compact", "--version", "--help",
        "NAVIXY_URL", "NAVIXY_HASH", "NAVIXY_LOGIN", "NAVIXY_PASSWORD", "NAVIXY_SESSION",
        "name=value", "name:=json", "Exit status" } do
        assert.truthy(r.stdout:find(opt, 1, true), opt)
      end
      assert.equal(0, navixy({ "-h" }).status)
      r = navixy { "--version" }
      assert.equal(0, r.status)
      assert.truthy(r.stdout:find("^navixy %d+%.%d+%.%d+ "))
    end)

    it("refuses unknown options, missing values and --hash with --login", function()
      for _, args in ipairs {
        { "--nope", "tracker/list" },
        { "-x", "tracker/list" },
        { "tracker/list", "--hash" },
        { "--compact=yes", "tracker/list" },
        { "--hash", fake.api_key, "--login", LOGIN, "tracker/list" },
        {},
      } do
        local r = with_key(args)
        assert.equal(2, r.status, table.concat(args, " "))
        assert.is_true(one_line(r.stderr))
      end
      assert.equal(0, fake.stats().requests)
    end)

    it("refuses NAVIXY_HASH and NAVIXY_LOGIN together, unless an option chooses", function()
      local env = { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key, NAVIXY_LOGIN = LOGIN,
        NAVIXY_PASSWORD = PASSWORD }
      assert.equal(2, navixy({ "tracker/list" }, env).status)
      assert.equal(0, navixy({ "--hash", fake.api_key, "tracker/list" }, env).status)
      assert.equal(0, navixy({ "--login", LOGIN, "tracker/list" }, env).status)
    end)
  end)

  describe("files and GET actions", function()
    local HOUR = { "tracker_id:=1", "from=2024-05-01 00:00:00", "to=2024-05-01 01:00:00" }

    it("writes a file answer's bytes to stdout as they are", function()
      fake.fault { action = "x/file", type = "file", bytes = 300000, content_type = "application/octet-stream" }
      local r = with_key { "x/file" }
      assert.equal(0, r.status, r.stderr)
      assert.equal(fake.file_bytes(0, 300000), r.stdout)
      assert.equal("", r.stderr)
    end)

    it("--output streams a file answer to FILE and describes it on stdout", function()
      local file = tmpname()
      os.remove(file)
      local args = { "--output", file, "track/download" }
      for _, a in ipairs(HOUR) do args[#args + 1] = a end
      local r = with_key(args)
      assert.equal(0, r.status, r.stderr)
      local d = cjson.decode(r.stdout)
      assert.same({ "application/vnd.google-earth.kml+xml", "track_1_2024-05-01.kml", file },
        { d.content_type, d.filename, d.saved })
      local kml = slurp(file)
      assert.equal(d.size, #kml)
      assert.truthy(kml:find("<kml", 1, true))
      -- an error answer leaves no file and is an API error as ever
      os.remove(file)
      r = with_key { "--output", file, "track/download", "tracker_id:=99", HOUR[2], HOUR[3] }
      assert.equal(1, r.status)
      assert.is_nil(io.open(file, "r"))
    end)

    it("--get sends a GET with the params in the query string", function()
      local r = with_key { "--get", "--compact", "iot/logic/flow/read", "flow_id:=1" }
      assert.equal(0, r.status, r.stderr)
      assert.truthy(r.stdout:find('"success":true', 1, true))
      local req = fake.last_request()
      assert.same({ "GET", "/v2/iot/logic/flow/read?flow_id=1" }, { req.method, req.uri })
    end)
  end)

  describe("exit status and errors", function()
    it("1 for an API error: the error answer on stdout, one line on stderr", function()
      local r = with_key { "tracker/get_state", "tracker_id:=99" }
      assert.equal(1, r.status)
      assert.equal("navixy: tracker/get_state: api error 201 (HTTP 400): Not found in database\n", r.stderr)
      assert.equal(201, cjson.decode(r.stdout).status.code)
      r = with_key { "tracker/get_state" } -- refused before sending: the docs require tracker_id
      assert.equal(2, r.status)
      assert.equal("", r.stdout)
      assert.matches("tracker_id: required, missing", r.stderr, 1, true)
    end)

    it("2 for usage errors, with nothing on stdout", function()
      local r = with_key { "--url", "http://example.com/v2", "tracker/list" } -- plain http off loopback
      assert.equal(2, r.status)
      assert.equal("", r.stdout)
      assert.truthy(r.stderr:find("^navixy: refusing plain http://"))
      assert.is_true(one_line(r.stderr))
    end)

    it("2 for what the library refuses before sending: out-of-range numbers, too deep params", function()
      for _, args in ipairs {
        { "--timeout", "1e300", "tracker/list" },
        { "--timeout", "tracker/list" },
        { "tracker/list", "deep:=" .. string.rep("[", 64) .. string.rep("]", 64) },
        { "tracker/list", "deep:=" .. string.rep("[", 900) .. string.rep("]", 900) },
        { "%2e%2e/admin" },
      } do
        local r = with_key(args)
        assert.equal(2, r.status, r.stderr)
        assert.equal("", r.stdout)
        assert.is_true(one_line(r.stderr), r.stderr)
        assert.truthy(r.stderr:find("^navixy: "), r.stderr)
      end
      assert.truthy(with_key({ "--timeout", "tracker/list" }).stderr:find("got 'tracker/list'", 1, true))
      assert.equal(0, fake.stats().requests)
    end)

    it("2 without credentials, naming the ways to give them; 2 for a ca-file it cannot read", function()
      local r = navixy({ "tracker/list" }, { NAVIXY_URL = fake.url })
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("--hash", 1, true) and r.stderr:find("NAVIXY_LOGIN", 1, true), r.stderr)
      r = with_key { "--ca-file", "/nonexistent.pem", "tracker/list" }
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("^navixy: option 'ca_file': cannot read"), r.stderr)
      assert.equal(0, fake.stats().requests)
      -- actions that need no hash still go out
      r = navixy({ "user/auth", "login=" .. LOGIN, "password=" .. PASSWORD }, { NAVIXY_URL = fake.url })
      assert.equal(0, r.status)
    end)

    it("3 for a transport failure", function()
      local r = navixy({ "tracker/list" }, { NAVIXY_URL = "http://127.0.0.1:1/v2", NAVIXY_HASH = fake.api_key })
      assert.equal(3, r.status)
      assert.equal("", r.stdout)
      assert.is_true(one_line(r.stderr))
      assert.truthy(r.stderr:find("^navixy: tracker/list: transport error"))
    end)

    it("3 for an HTTP error without an API answer and for an answer that is not JSON", function()
      fake.fault { action = "tracker/update", type = "status", status = 502, body = "<html>bad gateway</html>" }
      local r = with_key { "tracker/update" }
      assert.equal(3, r.status)
      assert.equal("", r.stdout)
      assert.equal("navixy: tracker/update: http error (HTTP 502): HTTP 502 Bad Gateway\n", r.stderr)
      fake.fault { action = "tracker/update", type = "raw", body = "not json" }
      r = with_key { "tracker/update" }
      assert.equal(3, r.status)
      assert.truthy(r.stderr:find("^navixy: tracker/update: decode error"))
    end)
  end)

  describe("logging in", function()
    it("--login with NAVIXY_PASSWORD logs in, calls, and logs out (no session file)", function()
      local r = navixy({ "--login", LOGIN, "user/get_info" }, { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = PASSWORD })
      assert.equal(0, r.status)
      assert.equal(LOGIN, cjson.decode(r.stdout).user_info.login)
      local stats = fake.stats()
      assert.equal(1, stats.logins)
      assert.equal(1, stats.by_action["user/logout"])
    end)

    it("takes the login from NAVIXY_LOGIN", function()
      local r = navixy({ "tracker/list" }, { NAVIXY_URL = fake.url, NAVIXY_LOGIN = LOGIN, NAVIXY_PASSWORD = PASSWORD })
      assert.equal(0, r.status)
      assert.equal(1, fake.stats().logins)
    end)

    it("a wrong password is an API error (exit 1)", function()
      local r = navixy({ "--login", LOGIN, "user/get_info" }, { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = "nope" })
      assert.equal(1, r.status)
      assert.equal("navixy: user/auth: api error 102 (HTTP 400): Wrong login or password\n", r.stderr)
    end)

    it("says that two-factor logins need an API key, and keeps no interim session", function()
      local file = tmpname()
      os.remove(file)
      local r = navixy({ "--login", fake.users.twofa.login, "--session", file, "user/get_info" },
        { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = fake.users.twofa.password })
      assert.equal(1, r.status)
      assert.is_true(one_line(r.stderr))
      assert.truthy(r.stderr:find("two-factor", 1, true))
      assert.is_nil(io.open(file, "r"))
      assert.is_nil(fake.stats().by_action["user/get_info"])
    end)

    it("without NAVIXY_PASSWORD and no terminal on stdin, does not ask: usage error", function()
      local r = navixy({ "--login", LOGIN, "user/get_info" }, { NAVIXY_URL = fake.url })
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("NAVIXY_PASSWORD", 1, true))
      assert.equal(0, fake.stats().requests)
    end)

    it("asks for the password on the terminal without echo", function()
      local status, shown = on_terminal("Password for " .. LOGIN .. ": ", PASSWORD .. "\\r",
        ("env -i PATH=%s NAVIXY_URL=%s %s bin/navixy --compact --login %s user/get_info")
          :format(q(os.getenv("PATH")), q(fake.url), LUA, q(LOGIN)))
      assert.equal(0, status, shown)
      assert.truthy(shown:find('"login":"' .. LOGIN .. '"', 1, true), shown)
      assert.falsy(shown:find(PASSWORD, 1, true)) -- with echo on, the terminal would show it
      assert.equal(1, fake.stats().logins)
    end)

    it("Ctrl-C during a call stops it at once (exit 130), and it is never sent again", function()
      -- the answer comes 30 s after the request: a command that waits for it cannot end within
      -- them, while starting Python and Lua on a busy machine (the spec at nice 19 beside two
      -- CPU hogs) took 8.7 s before the Ctrl-C was even handled, over the bound(3) asked with 6
      fake.fault { action = "tracker/list", type = "delay", seconds = 30 }
      local t0 = sockets.now()
      local status, shown = on_terminal("@1", "\\x03", -- exec: the shell would die of the Ctrl-C too
        ("exec env -i PATH=%s NAVIXY_URL=%s NAVIXY_HASH=%s %s bin/navixy tracker/list")
          :format(q(os.getenv("PATH")), q(fake.url), q(fake.api_key), LUA))
      local secs = sockets.now() - t0
      assert.equal(130, status, shown)
      assert.truthy(shown:find("navixy: interrupted", 1, true), shown)
      assert.is_true(sockets.below(secs, 30), "took " .. secs .. " s")
      assert.equal(1, fake.stats().requests)
    end)

    it("Ctrl-C at the prompt exits 130 and leaves the terminal's echo on", function()
      -- the shell traps INT (so it lives on to show the terminal's settings);
      -- a trap with a handler is reset for the command it runs
      local status, shown = on_terminal("Password for ", "\\x03",
        ("trap : INT; env -i PATH=%s NAVIXY_URL=%s %s bin/navixy --login %s user/get_info; "
          .. "echo status=$?; stty -a"):format(q(os.getenv("PATH")), q(fake.url), LUA, q(LOGIN)))
      assert.equal(0, status, shown)
      assert.truthy(shown:find("navixy: interrupted", 1, true), shown)
      assert.truthy(shown:find("status=130", 1, true), shown)
      assert.truthy(shown:find(" echo ", 1, true), shown)
      assert.falsy(shown:find("-echo ", 1, true), shown)
      assert.equal(0, fake.stats().requests)
    end)
  end)

  describe("the Admin Panel (--panel)", function()
    local main = fake.panels.main

    it("logs in with the panel ID, calls the action below panel/, and logs out", function()
      local r = navixy({ "--panel", "--login", main.login, "user/list", "limit:=1" },
        { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = main.password })
      assert.equal(0, r.status)
      local res = cjson.decode(r.stdout)
      assert.equal(2, res.count)
      assert.equal(1, #res.list)
      local actions = {}
      for _, req in ipairs(fake.requests()) do actions[#actions + 1] = req.action end
      assert.same({ "panel/account/auth", "panel/user/list", "panel/account/logout" }, actions)
      assert.equal(0, fake.stats().logins)
    end)

    it("takes a panel hash, and calls the panel's public actions without one", function()
      local _, auth = fake.call("panel/account/auth", { login = main.login, password = main.password })
      local r = navixy({ "--panel", "--hash", auth.hash, "dealer/get_info" }, { NAVIXY_URL = fake.url })
      assert.equal(0, r.status)
      assert.equal(20410, cjson.decode(r.stdout).id)
      assert.is_nil(r.stdout:find(auth.hash, 1, true))
      r = navixy({ "--panel", "timezone/list", "locale=en" }, { NAVIXY_URL = fake.url })
      assert.equal(0, r.status)
      assert.is_nil(fake.last_request().hash)
      r = navixy({ "panel/timezone/list", "locale=en" }, { NAVIXY_URL = fake.url }) -- the catalogue's no-auth
      assert.equal(0, r.status)
      assert.is_nil(fake.last_request().hash)
      r = navixy({ "--panel", "user/list" }, { NAVIXY_URL = fake.url })
      assert.equal(2, r.status) -- no credentials
    end)

    it("keeps a panel session file apart from a user one", function()
      local file = tmpname()
      os.remove(file)
      local env = { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = main.password }
      assert.equal(0, navixy({ "--panel", "--login", main.login, "--session", file, "user/list" }, env).status)
      assert.equal(0, navixy({ "--panel", "--login", main.login, "--session", file, "user/list" }, env).status)
      assert.equal(1, fake.stats().panel_logins)
      -- the same URL and login text without --panel: a user login (refused), not the panel's session
      assert.equal(1, navixy({ "--login", main.login, "--session", file, "user/get_info" }, env).status)
      assert.equal(1, fake.stats().logins)
      assert.is_nil(fake.stats().by_action["user/get_info"])
      assert.equal(0, navixy({ "--panel", "--login", main.login, "--session", file, "user/list" }, env).status)
      assert.equal(1, fake.stats().panel_logins) -- the panel's session is still there
      assert.equal(0, navixy({ "--panel", "--login", main.login, "--session", file, "account/logout" }, env).status)
      assert.is_nil(io.open(file, "r")) -- removed by the panel's logout
      -- a wrong password is an API error
      local r = navixy({ "--panel", "--login", main.login, "user/list" },
        { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = "wrong-panel-pass" })
      assert.equal(1, r.status)
      assert.equal("navixy: account/auth: api error 102 (HTTP 400): Wrong login or password\n", r.stderr)
    end)
  end)

  describe("the session file", function()
    local file, env
    before_each(function()
      file = tmpname()
      os.remove(file) -- made by the command
      env = { NAVIXY_URL = fake.url, NAVIXY_LOGIN = LOGIN, NAVIXY_PASSWORD = PASSWORD }
    end)

    it("is created with mode 0600 and reused: one login for two runs", function()
      local r = navixy({ "--session", file, "tracker/list" }, env)
      assert.equal(0, r.status)
      assert.equal("600", mode_of(file))
      r = navixy({ "--session", file, "user/get_info" }, { NAVIXY_URL = fake.url, NAVIXY_LOGIN = LOGIN })
      assert.equal(0, r.status) -- no password needed while the session lives
      local stats = fake.stats()
      assert.equal(1, stats.logins)
      assert.is_nil(stats.by_action["user/logout"])
      local hash = fake.last_request().hash
      assert.truthy(slurp(file):find("hash=" .. hash .. "\n", 1, true))
    end)

    it("comes from NAVIXY_SESSION too", function()
      env.NAVIXY_SESSION = file
      assert.equal(0, navixy({ "tracker/list" }, env).status)
      assert.equal(0, navixy({ "tracker/list" }, env).status)
      assert.equal(1, fake.stats().logins)
      assert.equal("600", mode_of(file))
    end)

    it("logs in again when the session has ended, and saves the new one", function()
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      local first = slurp(file)
      fake.expire_sessions()
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      assert.equal(2, fake.stats().logins)
      assert.not_equal(first, slurp(file))
      assert.equal("600", mode_of(file))
      fake.expire_sessions() -- ended, and no password to log in again with
      local r = navixy({ "--session", file, "tracker/list" }, { NAVIXY_URL = fake.url, NAVIXY_LOGIN = LOGIN })
      assert.equal(2, r.status)
    end)

    it("is refused when others can read it", function()
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      os.execute("chmod 644 " .. q(file))
      local before = slurp(file)
      local r = navixy({ "--session", file, "tracker/list" }, env)
      assert.equal(2, r.status)
      assert.is_true(one_line(r.stderr))
      assert.truthy(r.stderr:find("chmod 600", 1, true))
      assert.equal(before, slurp(file))
      assert.equal(1, fake.stats().logins)
    end)

    it("is not used for another login or URL", function()
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      env.NAVIXY_URL = fake.url .. "/"
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status) -- the same URL
      assert.equal(1, fake.stats().logins)
      env.NAVIXY_URL = "http://localhost:" .. fake.port .. "/v2"
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      assert.equal(2, fake.stats().logins)
    end)

    it("is removed by user/logout", function()
      assert.equal(0, navixy({ "--session", file, "tracker/list" }, env).status)
      assert.equal(0, navixy({ "--session", file, "user/logout" }, env).status)
      assert.is_nil(io.open(file, "r"))
    end)

    it("needs a login", function()
      local r = navixy({ "--session", file, "tracker/list" }, { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key })
      assert.equal(2, r.status)
      assert.truthy(r.stderr:find("--login", 1, true))
    end)
  end)

  describe("secrets", function()
    it("never shows the hash or the password, whatever happens", function()
      local key_env = { NAVIXY_URL = fake.url, NAVIXY_HASH = fake.api_key }
      local login_env = { NAVIXY_URL = fake.url, NAVIXY_LOGIN = LOGIN, NAVIXY_PASSWORD = PASSWORD }
      local session = tmpname()
      os.remove(session)
      local runs = {
        navixy({ "tracker/list" }, key_env),
        navixy({ "tracker/get_state", "tracker_id:=99" }, key_env),
        navixy({ "--help" }, key_env),
        navixy({ "--version" }, login_env),
        navixy({ "--nope" }, key_env),
        navixy({ "tracker/list", "x:=[" }, login_env),
        navixy({ "--url", "http://127.0.0.1:1/v2", "tracker/list" }, key_env),
        navixy({ "--url", "http://127.0.0.1:1/v2", "tracker/list" }, login_env),
        navixy({ "user/get_info" }, login_env),
        navixy({ "--session", session, "tracker/get_state", "tracker_id:=99" }, login_env),
        navixy({ "--session", session, "tracker/list" }, login_env),
        navixy({ "--login", LOGIN, "tracker/list" }, { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = "x" .. PASSWORD }),
      }
      -- an error answer that echoes the hash and the password back
      fake.fault { action = "tracker/list", type = "error", code = 7, times = 2,
        description = "bad hash " .. fake.api_key, echo = fake.api_key }
      runs[#runs + 1] = navixy({ "tracker/list" }, key_env)
      fake.fault { action = "user/auth", type = "error", code = 7, echo = PASSWORD, description = PASSWORD }
      runs[#runs + 1] = navixy({ "tracker/list" }, login_env)
      -- api/key/list needs a login session (commons/api-keys.md); the API key it lists is not
      -- the hash in use: asked for, so shown
      local listed = navixy({ "api/key/list" }, login_env)
      local sessions = {}
      for _, req in ipairs(fake.requests()) do
        if req.hash and req.hash ~= fake.api_key then sessions[#sessions + 1] = req.hash end
      end
      assert.is_true(#sessions > 0)
      for i, r in ipairs(runs) do
        local shown = r.stdout .. r.stderr
        assert.falsy(shown:find(fake.api_key, 1, true), "run " .. i .. ": " .. shown)
        assert.falsy(shown:find(PASSWORD, 1, true), "run " .. i .. ": " .. shown)
        for _, h in ipairs(sessions) do
          assert.falsy(shown:find(h, 1, true), "run " .. i .. ": " .. shown)
        end
      end
      assert.equal(1, runs[13].status)
      assert.truthy(runs[13].stdout:find('"echo": "a6aa..."', 1, true))
      assert.equal(0, listed.status)
      assert.truthy(listed.stdout:find('"hash": "' .. fake.api_key .. '"', 1, true))
    end)

    it("refuses --password, pointing at NAVIXY_PASSWORD and the prompt, before any call", function()
      for _, args in ipairs {
        { "--login", LOGIN, "--password", "pw-on-the-line", "tracker/list" },
        { "--login", LOGIN, "--password=pw-on-the-line", "tracker/list" },
      } do
        local r = navixy(args, { NAVIXY_URL = fake.url })
        assert.equal(2, r.status)
        assert.equal("", r.stdout)
        assert.truthy(one_line(r.stderr), r.stderr)
        assert.truthy(r.stderr:find("NAVIXY_PASSWORD", 1, true) and r.stderr:find("(ps)", 1, true), r.stderr)
        assert.falsy(r.stderr:find("pw-on-the-line", 1, true))
      end
      assert.equal(0, #fake.requests())
    end)

    it("warns on stderr when the hash is on the command line (--hash), pointing at NAVIXY_HASH", function()
      local r = navixy({ "--hash", fake.api_key, "tracker/list" }, { NAVIXY_URL = fake.url })
      assert.equal(0, r.status, r.stderr)
      assert.truthy(cjson.decode(r.stdout).success)
      assert.truthy(one_line(r.stderr), r.stderr)
      assert.matches("^navixy: warning: %-%-hash .*%(ps%).*NAVIXY_HASH", r.stderr)
      assert.falsy(r.stderr:find(fake.api_key, 1, true))
      -- from the environment: nothing said
      r = with_key { "tracker/list" }
      assert.equal(0, r.status)
      assert.equal("", r.stderr)
    end)

    it("never alters an answer: a one-letter hash leaves valid JSON", function()
      local r = navixy({ "--hash", "a", "tracker/list" }, { NAVIXY_URL = fake.url })
      assert.equal(1, r.status)
      local answer = cjson.decode(r.stdout) -- valid JSON, keys intact
      assert.same({ false, 4 }, { answer.success, answer.status.code })
      assert.falsy(r.stdout:find("*", 1, true))
    end)

    it("masks a password also as it shows inside a JSON string (quotes, backslashes)", function()
      local password = 'pa"ss\\word-42'
      -- a login that works with this password, then an answer that echoes it
      fake.fault { action = "user/auth", type = "raw",
        body = { success = true, hash = "0123456789abcdef0123456789abcdef" } }
      fake.fault { action = "tracker/list", type = "raw", status = 400,
        body = { success = false, status = { code = 7, description = "Invalid parameters" }, echo = password } }
      local r = navixy({ "--login", LOGIN, "tracker/list" }, { NAVIXY_URL = fake.url, NAVIXY_PASSWORD = password })
      assert.equal(1, r.status)
      assert.truthy(r.stdout:find('"echo": "****"', 1, true), r.stdout)
      assert.falsy((r.stdout .. r.stderr):find("word-42", 1, true))
    end)
  end)

  describe("the terminal", function()
    -- What a hostile server puts in its text to drive a terminal: set the window
    -- title, clear the screen, move the cursor (ESC sequences), a C1 CSI (U+009B) as
    -- UTF-8, a stray 0x9B byte (CSI to a terminal that reads Latin-1) and DEL.
    local NASTY = "\27]0;pwned\7\27[2J\27[H\194\15531m\155\127"
    local SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H\\u009b31m\\x9b\\x7f" -- as stderr shows it

    -- No control but newlines and tabs (C0, DEL, C1 as UTF-8) and no 0x9B byte at all.
    local function assert_inert(s)
      assert.falsy(s:find("[%z\1-\8\11-\31\127]"), s)
      assert.falsy(s:find("\194[\128-\159]"), s)
      assert.falsy(s:find("\155", 1, true), s)
    end

    it("shows an API error's description on stderr with its controls made visible", function()
      fake.fault { action = "tracker/list", type = "error", code = 7, description = "Bad " .. NASTY }
      local r = with_key { "tracker/list" }
      assert.equal(1, r.status)
      assert.equal("navixy: tracker/list: api error 7 (HTTP 400): Bad " .. SHOWN .. "\n", r.stderr)
      assert_inert(r.stdout)
      -- the answer on stdout is JSON that says the same (the stray byte as U+009B)
      assert.equal("Bad \27]0;pwned\7\27[2J\27[H\194\15531m\194\155\127",
        cjson.decode(r.stdout).status.description)
    end)

    it("escapes C1 controls, DEL and stray bytes in a successful answer's JSON", function()
      local body = '{"success":true,"label":"a\\u001b[2J\194\155b\155c\127","ok":"\195\169\226\130\172"}'
      for _, compact in ipairs { false, true } do
        fake.fault { action = "tracker/list", type = "raw", body = body }
        local r = with_key { compact and "--compact" or "tracker/list", compact and "tracker/list" or nil }
        assert.equal(0, r.status, r.stderr)
        assert_inert(r.stdout)
        assert.truthy(r.stdout:find('"a\\u001b[2J\\u009bb\\u009bc\\u007f"', 1, true), r.stdout)
        local answer = cjson.decode(r.stdout)
        assert.equal("a\27[2J\194\155b\194\155c\127", answer.label)
        assert.equal("\195\169\226\130\172", answer.ok) -- UTF-8 as is: e-acute and the euro sign
      end
    end)

    it("shows a failure's and a usage error's text on stderr with its controls made visible", function()
      fake.fault { action = "tracker/list", type = "status", status = 400, body = NASTY, content_type = "text/plain" }
      local r = with_key { "tracker/list" }
      assert.equal(3, r.status)
      assert_inert(r.stdout .. r.stderr)
      assert.truthy(one_line(r.stderr), r.stderr)
      r = with_key { "tracker/list", NASTY }
      assert.equal(2, r.status)
      assert.equal("navixy: '" .. SHOWN .. "' is not a parameter: write name=value or name:=json "
        .. "(see navixy --help)\n", r.stderr)
    end)

    it("writes a file answer as it is into a pipe, and with its controls made visible on a terminal", function()
      local bytes = "a,b\n1,\t" .. NASTY .. "\r\n"
      fake.fault { action = "x/file", type = "raw", content_type = "text/csv", body = bytes }
      local r = with_key { "x/file" }
      assert.equal(0, r.status, r.stderr)
      assert.equal(bytes, r.stdout)
      fake.fault { action = "x/file", type = "raw", content_type = "text/csv", body = bytes }
      local status, shown = on_terminal("@0.1", "", "env -i PATH=" .. q(os.getenv("PATH")) .. " NAVIXY_URL="
        .. q(fake.url) .. " NAVIXY_HASH=" .. q(fake.api_key) .. " " .. LUA .. " bin/navixy x/file")
      assert.equal(0, status, shown)
      shown = shown:gsub("\r\n", "\n") -- the terminal's own line ends
      assert_inert(shown)
      assert.equal("a,b\n1,\t" .. SHOWN .. "\\r\n", shown)
    end)
  end)
end)

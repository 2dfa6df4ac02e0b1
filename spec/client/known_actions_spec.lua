-- What a client does with what the catalogue of documented actions says
-- (API.md "Finding actions"), against the fake server: typos refused before
-- sending and anything else sent, params checked where the docs are exact,
-- [] for an empty array, the documented method, retries of every read-only
-- action, no-auth actions with no hash and no login, namespaces that list
-- their children, mistyped methods named.
local navixy = require "navixy"
local catalogue = require "navixy.catalogue"
local fake = require "fake"
local local_files = require "local_files"

local demo = fake.users.demo
local NOW = { ["Retry-After"] = "0" } -- retries at once: these specs count requests, not waits

-- A client of the fake: with the API key, unless `opts` logs in.
local function client(opts)
  local o = { url = fake.url, hash = fake.api_key }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.login then o.hash = nil end
  return navixy.new(o)
end

local function panel_client()
  return client { panel = true, login = fake.panels.main.login, password = fake.panels.main.password }
end

local function raised(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected a raise")
  return tostring(msg)
end

describe("a near-typo of a documented action", function()
  before_each(fake.reset)

  it("is refused before sending, naming the action meant", function()
    local c = client()
    local msg = raised(c.call, c, "tracker/lsit")
    assert.equal('navixy: unknown action "tracker/lsit" (did you mean "tracker/list"?)', msg)
    assert.matches('did you mean "tracker/employee/read"', raised(function() return c.tracker.employee.rd() end),
      1, true)
    -- in a batch too, before any item is sent
    assert.matches('did you mean "tracker/list"', raised(c.batch, c, { { "tracker/list" }, { "tracker/lsit" } }),
      1, true)
    assert.equal(0, fake.sent("tracker/lsit"))
    assert.equal(0, fake.sent("tracker/list"))
  end)

  it("is sent with validate = false, as a call option or a client option", function()
    local _, err = client():call("tracker/lsit", nil, { validate = false })
    assert.equal(1, fake.sent("tracker/lsit"))
    assert.is_table(err)
    _, err = client { validate = false }.tracker.lsit()
    assert.equal(2, fake.sent("tracker/lsit"))
    assert.is_table(err)
    -- a call option true checks even when the client says false
    local c = client { validate = false }
    assert.matches("did you mean", raised(c.call, c, "tracker/lsit", nil, { validate = true }), 1, true)
  end)

  it("of a panel client is named as that client names its actions (relative to panel/)", function()
    local panel = panel_client()
    assert.equal('navixy: unknown action "usr/list" (did you mean "user/list"?)', raised(panel.call, panel, "usr/list"))
    assert.equal(0, fake.stats().panel_logins)
  end)
end)

describe("an action the catalogue does not know", function()
  before_each(fake.reset)

  it("is still sent, and the server's refusal names the nearest documented actions", function()
    local res, err = client().tracker.get_stat_xy { tracker_id = 1 }
    assert.is_nil(res)
    assert.equal(1, fake.sent("tracker/get_stat_xy"))
    assert.same({ "tracker/get_state", "tracker/get_states" }, err.nearest)
    assert.matches("tracker/get_stat_xy is not a documented action; nearest: tracker/get_state, tracker/get_states",
      tostring(err), 1, true)
    assert.matches("nearest: tracker/get_state", err.description, 1, true)
    -- nothing near: sent, and said to be undocumented
    res, err = client():call("zzz/plugin_action")
    assert.is_nil(res)
    assert.equal(1, fake.sent("zzz/plugin_action"))
    assert.same({}, err.nearest)
    assert.matches("(zzz/plugin_action is not a documented action)", tostring(err), 1, true)
  end)

  it("that the server answers is an answer like any other (a documented action's errors say nothing more)", function()
    local _, err = client().tracker.get_state { tracker_id = 99 }
    assert.equal(201, err.code)
    assert.is_nil(err.nearest)
  end)
end)

describe("params checked before sending where the docs are exact", function()
  before_each(fake.reset)

  it("refuses a missing required param, a wrong JSON type, a crossed bound, naming each", function()
    local c = client()
    assert.equal("navixy: tracker/get_state: params do not fit the docs: tracker_id: required, missing "
      .. "(validate = false sends them as they are)", raised(c.tracker.get_state, {}))
    assert.matches("tracker_id: expected integer, got string", raised(c.tracker.get_state, { tracker_id = "1" }),
      1, true)
    assert.matches("labels: item count 0 is below the minimum 1", raised(c.tracker.list, { labels = {} }), 1, true)
    assert.equal(0, fake.sent("tracker/get_state") + fake.sent("tracker/list"))
  end)

  it("never refuses params the docs do not name", function()
    local res, err = client().tracker.list { labels = { "Van" }, not_in_the_docs = { 1, 2 } }
    assert.is_nil(err)
    assert.equal(1, #res.list)
  end)

  it("sends an empty table as [] where the docs type an array, checked or not", function()
    client().tracker.list({ labels = {} }, { validate = false }) -- (the docs: 1..1024 labels)
    local req = fake.last_request()
    assert.equal("tracker/list", req.action)
    assert.equal('{"labels":[]}', req.body)
    client().tracker.list({ labels = navixy.array() }, { validate = false }) -- as it says
    assert.equal('{"labels":[]}', fake.last_request().body)
    -- the caller's table is left as it is
    local params = { labels = {} }
    pcall(client().tracker.list, params)
    assert.is_nil(getmetatable(params.labels))
  end)
end)

describe("the method from the catalogue", function()
  before_each(fake.reset)

  it("sends IoT Logic's GET operations as GET; call_opts.method still wins", function()
    local res, err = client().iot.logic.flow.list()
    assert.is_nil(err)
    assert.is_table(res)
    assert.equal("GET", fake.last_request().method)
    client().iot.logic.flow.list(nil, { method = "POST" })
    local req = fake.last_request()
    assert.same({ "iot/logic/flow/list", "POST" }, { req.action, req.method })
    client().tracker.list()
    assert.equal("POST", fake.last_request().method)
  end)
end)

describe("safe to repeat from the catalogue", function()
  before_each(fake.reset)

  it("retries a read-only action the old name rule missed after a 502, and never a write", function()
    for _, action in ipairs { "report/tracker/status", "tracker/readings/batch_list", "tag/search" } do
      assert.is_true(catalogue.get(action).read_only, action)
      fake.fault { action = action, type = "status", status = 502, times = 1, headers = NOW }
      local _, err = client { retries = 2 }:call(action, nil, { validate = false })
      assert.equal(2, fake.sent(action), action)
      assert.is_true(err == nil or err.status ~= 502, action)
    end
    fake.fault { action = "tag/create", type = "status", status = 502, times = 1, headers = NOW }
    local _, err = client { retries = 2 }.tag.create { tag = { name = "x", color = "FF0000" } }
    assert.equal(502, err.status)
    assert.equal(1, fake.sent("tag/create"))
    -- call_opts.idempotent still wins
    fake.fault { action = "tag/search", type = "status", status = 502, times = 1, headers = NOW }
    _, err = client { retries = 2 }.tag.search({}, { idempotent = false, validate = false })
    assert.equal(502, err.status)
  end)

  it("keeps the name rule for actions the catalogue does not know", function()
    fake.fault { action = "plugin/thing/list", type = "status", status = 502, times = 1, headers = NOW }
    client { retries = 2 }:call("plugin/thing/list")
    assert.equal(2, fake.sent("plugin/thing/list"))
    fake.fault { action = "plugin/thing/make", type = "status", status = 502, times = 1, headers = NOW }
    client { retries = 2 }:call("plugin/thing/make")
    assert.equal(1, fake.sent("plugin/thing/make"))
  end)
end)

describe("no-auth actions", function()
  before_each(fake.reset)

  it("panel/timezone/list goes with no hash and no login first", function()
    local user = client { login = demo.login, password = demo.password }
    local res, err = user.panel.timezone.list { locale = "en" }
    assert.is_nil(err)
    assert.is_table(res)
    local req = fake.last_request()
    assert.same({ "panel/timezone/list", nil }, { req.action, req.hash })
    assert.same({ 0, 0 }, { fake.stats().logins, fake.stats().panel_logins })
    local panel = panel_client()
    assert.is_nil(select(2, panel.timezone.list { locale = "en" }))
    assert.is_nil(fake.last_request().hash)
    assert.equal(0, fake.stats().panel_logins)
    -- even from a client that holds a hash
    client().panel.timezone.list { locale = "en" }
    assert.is_nil(fake.last_request().hash)
  end)
end)

describe("namespaces and methods", function()
  it("a namespace lists its documented children (tostring; pairs on Lua 5.2+)", function()
    local c = client()
    local text = tostring(c.tracker)
    assert.matches("^navixy namespace tracker: ", text)
    assert.matches(", get_state, ", text, 1, true)
    assert.equal("navixy action tracker/list", tostring(c.tracker.list))
    local panel = client { panel = true }
    assert.matches("^navixy namespace user: .*list", tostring(panel.user))
    if _VERSION == "Lua 5.1" then -- and LuaJIT: pairs ignores __pairs; navixy.actions instead
      assert.matches("^tracker/", navixy.actions("tracker")[1])
      return
    end
    local names = {}
    for name, ns in pairs(c.tracker) do
      names[#names + 1] = name
      assert.equal("tracker/" .. name, (tostring(ns):match("^navixy %a+ ([^:]+)")))
    end
    assert.same(catalogue.children("tracker"), names)
  end)

  it("a mistyped method raises naming the method meant", function()
    local c = client()
    assert.equal("navixy: client:bacth is not a method of the client (did you mean client:batch?); "
      .. "actions are called as client.a.b{...} (navixy.help(\"methods\"))", raised(function() return c:bacth {} end))
    assert.matches("did you mean client:get_states%?", raised(function() return c:get_stats {} end))
    assert.matches("not a method of the client; actions", raised(function() return c:tracker() end), 1, true)
  end)

  it("method names never shadow an action namespace, and help lists every method", function()
    local methods = {}
    for name, v in pairs(getmetatable(client()).__index) do
      if type(v) == "function" then methods[#methods + 1] = name end
    end
    assert.is_true(#methods >= 10)
    local page = require("navixy.help").text(navixy.VERSION, "methods")
    for _, name in ipairs(methods) do
      for _, family in ipairs(catalogue.FAMILIES) do
        assert.is_nil(catalogue.get(name, family), name)
        assert.same({}, catalogue.actions(name, family), name .. " shadows an action namespace")
      end
      assert.same({}, catalogue.actions("panel/" .. name), name .. " shadows a panel namespace")
      assert.matches("client:" .. name .. "(", page, 1, true)
    end
  end)
end)

describe("help for any action", function()
  it("shows every documented action's page, with its doc link", function()
    local help = require "navixy.help"
    local n = 0
    for _, family in ipairs(catalogue.FAMILIES) do
      for _, path in ipairs(catalogue.actions(nil, family)) do
        local text = help.topic(path)
        assert.truthy(text and text:find(path .. ":", 1, true), path)
        assert.truthy(text:find("Docs: " .. catalogue.get(path, family).url, 1, true), path)
        n = n + 1
      end
    end
    assert.is_true(n >= 475)
  end)
end)

describe("the cost of the catalogue", function()
  it("loads at the first call, not with require or navixy.new; then each name is looked up once", function()
    local out = local_files.lua_output(([[
      local navixy = require "navixy"
      local c = navixy.new{ url = %q, hash = %q }
      print(package.loaded["navixy.catalogue.data"] == nil)
      c.tracker.list()
      print(package.loaded["navixy.catalogue.data"] ~= nil)
      local catalogue = require "navixy.catalogue"
      print(catalogue.lookup("tracker/list", "") == catalogue.lookup("tracker/list", ""))]]):format(fake.url,
      fake.api_key))
    assert.equal("true\ntrue\ntrue\n", out)
  end)
end)

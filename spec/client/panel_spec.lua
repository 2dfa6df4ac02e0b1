-- The Admin Panel client against the fake server: panel/account/auth with the
-- numeric panel ID, every action relative to panel/, the same retries and
-- re-login as user clients, and a dealer acting as one of its users through
-- panel_client:user_session(user_id), the two hashes never crossing.
local navixy = require "navixy"
local fake = require "fake"

local main, technical = fake.panels.main, fake.panels.technical

local function panel_client(opts)
  local o = { url = fake.url, panel = true, login = main.login, password = main.password }
  for k, v in pairs(opts or {}) do o[k] = v end
  return navixy.new(o)
end

local sent = fake.sent

local requests_of = fake.requests_of

describe("a panel client", function()
  before_each(fake.reset)

  it("logs in with panel/account/auth on its first call, without a hash, and calls panel/ actions", function()
    local panel = panel_client()
    assert.matches("^navixy panel client %(.*not logged in%)$", tostring(panel))
    local res, err = panel.user.list {}
    assert.is_nil(err)
    assert.equal(2, res.count)
    local auth = requests_of("panel/account/auth")
    assert.equal(1, #auth)
    assert.is_nil(auth[1].hash)
    assert.same({ login = main.login, password = main.password }, auth[1].params)
    assert.equal(panel:get_hash(), requests_of("panel/user/list")[1].hash)
    assert.equal(1, fake.stats().panel_logins)
    assert.equal(0, fake.stats().logins)
    assert.matches("^navixy panel client %(http://127%.0%.0%.1:%d+/v2, auth header, hash %x%x%x%x%.%.%.%)$",
      tostring(panel))

    -- client:call, namespaces at any depth and batches: all relative to panel/
    assert.equal(20410, assert(panel:call("dealer/get_info")).id)
    assert.equal("Truck 1", assert(panel.tracker:read { tracker_id = 1 }).value.label)
    local results = panel:batch { { "user/read", { user_id = 1 } }, { "account/get_permissions" } }
    assert.equal("demo@example.com", results[1].result.value.login)
    assert.same({ "create" }, results[2].result.permissions.user_sessions)
    assert.equal(1, fake.stats().panel_logins)
    for _, req in ipairs(fake.requests()) do assert.matches("^panel/", req.action) end
    panel:close()
    assert.equal("navixy panel client (closed)", tostring(panel))
  end)

  it("takes the panel ID as a number or as digits, and no other number", function()
    local panel = panel_client { login = main.id }
    assert(panel:login())
    assert.equal(main.login, fake.last_request().params.login) -- sent as the docs show it
    assert(panel_client { login = "20410" }:login())
    assert.equal(2, fake.stats().panel_logins)
    assert.has_error(function() navixy.new { url = fake.url, login = 20410, password = "x" } end,
      "navixy: option 'login' must be a string (a number is a panel ID: set panel = true)")
    assert.has_error(function() panel_client { login = 20410.5 } end)
    assert.has_error(function() panel_client { login = 0 } end)
    assert.has_error(function() panel_client { panel = "yes" } end)
  end)

  it("uses a panel hash it is given", function()
    local _, res = fake.call("panel/account/auth", { login = main.login, password = main.password })
    local panel = navixy.new { url = fake.url, panel = true, hash = res.hash }
    assert.equal(2, assert(panel.user.list()).count)
    assert.equal(res.hash, fake.last_request().hash)
    assert.equal(1, fake.stats().panel_logins) -- the one made above
  end)

  it("logs in again once when its session ends, and repeats the call", function()
    local panel = panel_client()
    assert(panel.user.list())
    local old = panel:get_hash()
    fake.expire_panel_sessions()
    assert.equal(2, assert(panel.user.list()).count)
    assert.are_not.equal(old, panel:get_hash())
    assert.equal(2, fake.stats().panel_logins)
    assert.equal(3, sent("panel/user/list")) -- ok, refused (code 4), repeated
    -- refused again after the re-login: returned, no loop
    fake.fault { action = "panel/user/list", type = "error", code = 4, times = 5 }
    local res, err = panel.user.list()
    assert.is_nil(res)
    assert.equal(4, err.code)
    assert.equal("user/list", err.action) -- as called: relative to panel/
    assert.equal(3, fake.stats().panel_logins)
  end)

  it("retries like any client, and remembers a refused login", function()
    local panel = panel_client { retries = 1 }
    fake.fault { action = "panel/user/list", type = "status", status = 503, headers = { ["Retry-After"] = "0" } }
    assert(panel.user.list())
    assert.equal(2, sent("panel/user/list"))

    local wrong = panel_client { password = "wrong" }
    local _, err = wrong.user.list()
    assert.equal(102, err.code)
    assert.equal("account/auth", err.action)
    _, err = wrong.user.list()
    assert.equal(102, err.code)
    assert.equal(0, err.attempts)
    assert.equal(2, fake.stats().panel_logins) -- the wrong one once
    local _, blocked = panel_client { login = fake.panels.blocked.login,
                                      password = fake.panels.blocked.password }:login()
    assert.equal(11, blocked.code)
  end)

  it("logs out with panel/account/logout", function()
    local panel = panel_client()
    assert(panel:login())
    assert.is_true(panel:logout())
    assert.equal(1, sent("panel/account/logout"))
    assert.is_nil(panel:get_hash())
  end)

  it("has no user API helpers, and only panel clients have user_session", function()
    local panel = panel_client()
    for _, method in ipairs { "get_states", "get_history", "verify_code", "resend_code" } do
      assert.has_error(function() panel[method](panel, {}) end,
        "navixy: client:" .. method .. " is a user API method; a panel client acts as a user through "
          .. "panel_client:user_session(user_id)")
    end
    local user = navixy.new { url = fake.url, hash = fake.api_key }
    assert.has_error(function() user:user_session(1) end,
      "navixy: client:user_session(user_id) is a method of panel clients (navixy.new{ panel = true, ... })")
    for _, bad in ipairs { "1", 1.5, 0, -1 } do
      assert.has_error(function() panel:user_session(bad) end)
    end
    assert.equal(0, fake.stats().requests)
  end)
end)

describe("panel_client:user_session(user_id)", function()
  local panel
  before_each(function()
    fake.reset()
    panel = panel_client()
  end)
  after_each(function() panel:close() end)

  it("returns a user API client holding the hash of panel/user/session/create", function()
    local user = assert(panel:user_session(2))
    local create = requests_of("panel/user/session/create")
    assert.equal(1, #create)
    assert.same({ user_id = 2 }, create[1].params)
    assert.equal(panel:get_hash(), create[1].hash)
    assert.are_not.equal(panel:get_hash(), user:get_hash())
    assert.matches("^navixy client %(.*hash %x%x%x%x%.%.%., user 2 through a panel%)$", tostring(user))
    -- a user of the dealer, with a second factor for its own logins: none here
    assert.equal("2fa@example.com", assert(user.user.get_info()).user_info.login)
    assert.equal(1, #assert(user:get_history { trackers = { 1 }, from = "2024-05-01 00:00:00",
                                                to = "2024-05-01 01:00:00" }).list)
    user:close()
  end)

  it("never lets the two hashes cross", function()
    local user = assert(panel:user_session(1))
    assert(user.tracker.list())
    assert(panel.user.list())
    assert(user.user.get_info())
    for _, req in ipairs(fake.requests()) do
      if req.action:find("^panel/") then
        if req.action ~= "panel/account/auth" then assert.equal(panel:get_hash(), req.hash) end
      else
        assert.equal(user:get_hash(), req.hash)
      end
    end
    user:close()
  end)

  it("keeps the panel's URL and transport options, not its credentials", function()
    panel:close()
    panel = panel_client { auth = "query", encoding = "form", headers = { ["X-Tag"] = "t1" } }
    local user = assert(panel:user_session(1))
    assert(user.tracker.list())
    local req = fake.last_request()
    assert.equal("tracker/list", req.action)
    assert.equal("query", req.hash_from)
    assert.equal("t1", req.headers["x-tag"])
    assert.matches("^application/x%-www%-form%-urlencoded", req.content_type)
    assert.has_error(function() user:user_session(2) end) -- a user client, not a panel one
    user:close()
  end)

  it("gets a new session through the panel when its own ends, once", function()
    local user = assert(panel:user_session(1))
    local first = user:get_hash()
    fake.expire_sessions()
    assert.equal(3, #assert(user.tracker.list()).list)
    assert.are_not.equal(first, user:get_hash())
    assert.equal(2, sent("panel/user/session/create"))
    assert.equal(1, fake.stats().panel_logins)
    assert.equal(0, fake.stats().logins)
    -- concurrent calls that fail on the same ended session share one new session
    fake.expire_sessions()
    local calls = {}
    for i = 1, 6 do calls[i] = { "tracker/get_state", { tracker_id = 1000 + i } } end
    for _, r in ipairs(user:batch(calls, { concurrency = 6 })) do assert.truthy(r.result) end
    assert.equal(3, sent("panel/user/session/create"))
    user:close()
  end)

  it("logs the panel in again first when the panel's session ended too", function()
    local user = assert(panel:user_session(1))
    fake.expire_sessions()
    fake.expire_panel_sessions()
    assert(user.tracker.list())
    assert.equal(2, fake.stats().panel_logins)
    assert.equal(3, sent("panel/user/session/create")) -- ok, refused (4), repeated by the panel
    assert(panel.user.list()) -- the panel's new session serves it too
    assert.equal(2, fake.stats().panel_logins)
    user:close()
  end)

  it("returns the panel's refusal: a user of another dealer, a panel without the permission", function()
    local user, err = panel:user_session(99)
    assert.is_nil(user)
    assert.equal(201, err.code)
    assert.equal("user/session/create", err.action)
    local tech = panel_client { login = technical.login, password = technical.password }
    user, err = tech:user_session(1)
    assert.is_nil(user)
    assert.equal(13, err.code)
    tech:close()
  end)

  it("a session that cannot be renewed is returned as the panel's error", function()
    local user = assert(panel:user_session(1))
    fake.expire_sessions()
    fake.fault { action = "panel/user/session/create", type = "error", code = 13 }
    local res, err = user.tracker.list()
    assert.is_nil(res)
    assert.equal(13, err.code)
    -- refused by the panel: remembered a while, as any refused login
    res, err = user.tracker.list()
    assert.is_nil(res)
    assert.equal(13, err.code)
    assert.equal(0, err.attempts)
    assert.equal(2, sent("panel/user/session/create"))
    -- asked for explicitly: tried again, through the panel
    assert(user:login())
    assert(user.tracker.list())
    assert.equal(3, sent("panel/user/session/create"))
    user:close()
  end)

  it("raises when its panel client was closed and a new session is needed", function()
    local user = assert(panel:user_session(1))
    panel:close()
    assert(user.tracker.list()) -- its own session still works
    fake.expire_sessions()
    assert.has_error(function() user.tracker.list() end,
      "navixy: the panel client this client gets its session from is closed")
    user:close()
  end)
end)

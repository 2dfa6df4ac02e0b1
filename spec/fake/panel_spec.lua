-- The fake Navixy server's Admin Panel API (<base>/panel/...), with LuaSocket only (never
-- our client): the numeric-ID login, permissions, sessions that never cross into the
-- user API, and a dealer acting as one of its users.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"

local main, technical = fake.panels.main, fake.panels.technical

local function panel_login(account)
  local status, res = fake.call("panel/account/auth", { login = account.login, password = account.password })
  assert.equal(200, status, cjson.encode(res))
  return res.hash, res
end

describe("fake Navixy server: Admin Panel", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("logs in with the numeric panel ID and answers the hash and the permissions", function()
    local hash, res = panel_login(main)
    assert.matches("^%x+$", hash); assert.equal(32, #hash)
    assert.same({ "create" }, res.permissions.user_sessions)
    assert.same({ "get_dealer_info" }, res.permissions.base)
    -- Admin_Panel.json types login as a string: a JSON number is refused
    local status, refused = fake.call("panel/account/auth", { login = main.id, password = main.password })
    assert.equal(400, status); assert.equal(7, refused.status.code)
    assert.same({ { parameter = "login", error = "expected string, got integer" } }, refused.errors)
    status = fake.call("panel/account/auth", { login = tostring(main.id), password = main.password })
    assert.equal(200, status)
    local req = fake.last_request()
    assert.equal("panel/account/auth", req.action)
    assert.equal(3, fake.stats().panel_logins) -- every attempt counts, the refused one too
    assert.equal(0, fake.stats().logins)

    local status2, p = fake.call("panel/account/get_permissions", nil, hash)
    assert.equal(200, status2)
    assert.same(res.permissions, p.permissions)
  end)

  it("refuses wrong logins as documented: 12, 102, 11, 7", function()
    local status, res = fake.call("panel/account/auth", { login = "99999", password = "x" })
    assert.equal(400, status); assert.equal(12, res.status.code)
    status, res = fake.call("panel/account/auth", { login = main.login, password = "wrong" })
    assert.equal(400, status); assert.equal(102, res.status.code)
    status, res = fake.call("panel/account/auth", { login = fake.panels.blocked.login,
                                                   password = fake.panels.blocked.password })
    assert.equal(403, status); assert.equal(11, res.status.code)
    status, res = fake.call("panel/account/auth", { login = main.login })
    assert.equal(400, status); assert.equal(7, res.status.code)
    assert.equal("password", res.errors[1].parameter)
    assert.equal(4, fake.stats().panel_logins)
  end)

  it("never lets panel and user hashes cross", function()
    local panel_hash = panel_login(main)
    local _, user = fake.call("user/auth", { login = fake.users.demo.login, password = fake.users.demo.password })
    local status, res = fake.call("user/get_info", nil, panel_hash)
    assert.equal(400, status); assert.equal(4, res.status.code)
    status, res = fake.call("tracker/list", nil, panel_hash)
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    status, res = fake.call("panel/user/list", nil, user.hash)
    assert.equal(400, status); assert.equal(4, res.status.code)
    status, res = fake.call("panel/user/list", nil, fake.api_key)
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    status, res = fake.call("panel/user/list")
    assert.equal(400, status)
    assert.equal(3, res.status.code)
    assert.equal(200, (fake.call("panel/user/list", nil, panel_hash)))
  end)

  it("lets a dealer act as its user through panel/user/session/create", function()
    local hash = panel_login(main)
    local status, res = fake.call("panel/user/session/create", { user_id = 2 }, hash)
    assert.equal(200, status)
    local user_hash = res.hash
    assert.matches("^%x+$", user_hash)
    assert.are_not.equal(hash, user_hash)
    -- a user session (user 2 logs in with a second factor; the dealer needs none)
    status, res = fake.call("user/get_info", nil, user_hash)
    assert.equal(200, status); assert.equal("2fa@example.com", res.user_info.login)
    status, res = fake.call("panel/user/list", nil, user_hash)
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    -- user sessions end as usual
    fake.expire_sessions()
    status, res = fake.call("user/get_info", nil, user_hash)
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    assert.equal(200, (fake.call("panel/user/list", nil, hash)))

    status, res = fake.call("panel/user/session/create", { user_id = 99 }, hash)
    assert.equal(400, status); assert.equal(201, res.status.code)
    status, res = fake.call("panel/user/session/create", {}, hash)
    assert.equal(400, status)
    assert.equal(7, res.status.code)
    -- the technical account lacks user_sessions: 13
    status, res = fake.call("panel/user/session/create", { user_id = 1 }, (panel_login(technical)))
    assert.equal(403, status); assert.equal(13, res.status.code)
  end)

  it("ends panel sessions by logout and by expiry, not user sessions", function()
    local hash = panel_login(main)
    assert.equal(200, (fake.call("panel/account/logout", nil, hash)))
    local status, res = fake.call("panel/account/logout", nil, hash)
    assert.equal(400, status); assert.equal(4, res.status.code)

    hash = panel_login(main)
    local _, user = fake.call("user/auth", { login = fake.users.demo.login, password = fake.users.demo.password })
    assert.equal(1, fake.expire_panel_sessions().expired)
    status, res = fake.call("panel/user/list", nil, hash)
    assert.equal(400, status)
    assert.equal(4, res.status.code)
    assert.equal(200, (fake.call("user/get_info", nil, user.hash)))
  end)

  it("answers the documented shapes of dealer/get_info, user/list, user/read and tracker/list", function()
    local hash = panel_login(main)
    local status, res = fake.call("panel/dealer/get_info", nil, hash)
    assert.equal(200, status)
    assert.equal(20410, res.id); assert.equal("NOT_BLOCKED", res.block_status); assert.is_nil(res.value)

    status, res = fake.call("panel/user/list", { limit = 1 }, hash)
    assert.equal(200, status)
    assert.equal(2, res.count); assert.equal(1, #res.list)
    assert.same({ 1, "demo@example.com", "individual", 20410, 3 },
      { res.list[1].id, res.list[1].login, res.list[1].legal_type, res.list[1].dealer_id, res.list[1].trackers_count })
    status, res = fake.call("panel/user/list", { filter = "2fa" }, hash)
    assert.equal(200, status)
    assert.equal(1, res.count); assert.equal(2, res.list[1].id)
    status, res = fake.call("panel/user/list", { offset = 5 }, hash)
    assert.equal(200, status)
    assert.equal(2, res.count); assert.same({}, res.list)

    status, res = fake.call("panel/user/read", { user_id = 1 }, hash)
    assert.equal(200, status)
    assert.equal(1, res.value.id); assert.equal(cjson.null, res.discount); assert.equal(5, res.default_tariff_id)
    status, res = fake.call("panel/user/read", { user_id = 99 }, hash)
    assert.equal(400, status)
    assert.equal(201, res.status.code)

    status, res = fake.call("panel/tracker/list", { user_id = 1 }, hash)
    assert.equal(200, status)
    assert.equal(3, res.count)
    assert.same({ 1, "Truck 1", 1, 10001 },
                { res.list[1].id, res.list[1].label, res.list[1].user_id, res.list[1].source.id })
    status, res = fake.call("panel/tracker/list", { user_id = 2 }, hash)
    assert.equal(200, status)
    assert.equal(0, res.count)

    -- every parameter may come in the query too (panel-api/authentication.md)
    local raw
    status, raw = fake.http("POST", fake.url .. "/panel/user/list/?limit=1&hash=" .. hash, "", {})
    assert.equal(200, status); assert.equal(1, #cjson.decode(raw).list)
  end)

  it("lists time zones without authentication", function()
    local status, res = fake.call("panel/timezone/list", { locale = "en" })
    assert.equal(200, status)
    local kolkata
    for _, z in ipairs(res.list) do if z.zone_id == "Asia/Kolkata" then kolkata = z end end
    assert.same({ 5.5, 0, "IN" }, { kolkata.base_offset, kolkata.dst_offset, kolkata.country_code })
    status, res = fake.call("panel/timezone/list", {})
    assert.equal(400, status)
    assert.equal(7, res.status.code)
  end)

  it("exports users as CSV or XLSX files", function()
    local hash = panel_login(main)
    local status, body, h = fake.http("POST", fake.url .. "/panel/user/export",
      cjson.encode{ format = "csv", columns = { "id", "login" } },
      { ["content-type"] = "application/json", authorization = "NVX " .. hash })
    assert.equal(200, status)
    assert.equal("text/csv", h["content-type"])
    assert.equal('attachment; filename="users.csv"', h["content-disposition"])
    assert.equal('"id";"login"\n1;"demo@example.com"\n2;"2fa@example.com"\n', body)
    status, body, h = fake.http("POST", fake.url .. "/panel/user/export", "{}",
      { ["content-type"] = "application/json", authorization = "NVX " .. hash })
    assert.equal(200, status)
    assert.equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", h["content-type"])
    assert.equal("PK\3\4", body:sub(1, 4))
    local res
    status, res = fake.call("panel/user/export", { columns = {} }, hash)
    assert.equal(400, status); assert.equal("columns", res.errors[1].parameter)
  end)

  it("uploads users and branding images as multipart, with the documented errors", function()
    local hash = panel_login(main)
    local csv = "Email address*;Password*;Status*;Legal status*;Surname*;Name*\r\n"
      .. "a@example.com;secret;1;1;Doe;Ann\r\nb@example.com;secret;1;1;;Bob\r\n"
    local status, res = fake.upload("panel/user/upload", { { name = "file", filename = "u.csv",
      content_type = "text/csv", data = csv } }, hash)
    assert.equal(200, status)
    assert.same({ 2, 1 }, { res.total, res.errors })
    status, res = fake.upload("panel/user/upload", {}, hash)
    assert.equal(400, status)
    assert.equal(233, res.status.code)

    local png = { name = "file", filename = "logo.png", content_type = "image/png", data = "\137PNG\r\n\26\n" }
    status, res = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "logo" }, png }, hash)
    assert.equal(200, status); assert.is_true(res.success)
    -- `type` in the query, not a form part: 234
    local body, ct = fake.multipart{ png }
    status, res = fake.http("POST", fake.url .. "/panel/dealer/settings/image/upload?type=logo", body,
      { ["content-type"] = ct, authorization = "NVX " .. hash })
    assert.equal(400, status); assert.equal(234, cjson.decode(res).status.code)
    -- no `type` at all: 234 too ("if `type` was not sent as a form part"), not 7
    status, res = fake.upload("panel/dealer/settings/image/upload", { png }, hash)
    assert.equal(400, status); assert.equal(234, res.status.code)
    -- a `type` the OpenAPI's enum does not have: 7
    status, res = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "banner" }, png }, hash)
    assert.equal(400, status); assert.equal(7, res.status.code); assert.equal("type", res.errors[1].parameter)
    status, res = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "app_logo" }, png }, hash)
    assert.equal(402, status); assert.equal(236, res.status.code)
    status = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "favicon" },
      { name = "file", filename = "f.ico", content_type = "image/x-icon", data = "\0\0\1\0" } }, hash)
    assert.equal(200, status)
    status, res = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "logo" } }, hash)
    assert.equal(400, status)
    assert.equal(233, res.status.code)
    status, res = fake.upload("panel/dealer/settings/image/upload", { { name = "type", data = "logo" }, png },
      (panel_login(technical)))
    assert.equal(403, status); assert.equal(13, res.status.code)
  end)
end)

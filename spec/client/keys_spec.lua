-- Login extras (dealer_id, app_key), user/session/renew and API key rotation.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local demo = fake.users.demo
local requests_of = fake.requests_of

describe("login extras", function()
  before_each(function() fake.reset() end)

  it("sends dealer_id and app_key with user/auth", function()
    local client = navixy.new{ url = fake.url, login = demo.login, password = demo.password,
                               dealer_id = 20410, app_key = "my-app" }
    assert(client:call("user/get_info"))
    local auth = requests_of("user/auth")[1].params
    assert.equal(20410, auth.dealer_id)
    assert.equal("my-app", auth.app_key)
    client:close()
  end)

  it("never shows the app key in an error, even when the server echoes it", function()
    fake.fault{ action = "user/auth", type = "error", code = 102, status = 400,
      description = "Wrong login or password for app my-secret-app-key" }
    local client = navixy.new{ url = fake.url, login = demo.login, password = demo.password,
                               app_key = "my-secret-app-key" }
    local _, err = client:call("user/get_info")
    assert.equal(102, err.code)
    assert.not_matches("my-secret-app-key", tostring(err), 1, true)
    assert.matches("for app ****", tostring(err), 1, true)
    client:close()
  end)

  it("fails the login with another dealer's ID (error 102)", function()
    local client = navixy.new{ url = fake.url, login = demo.login, password = demo.password, dealer_id = 1 }
    local res, err = client:call("user/get_info")
    assert.is_nil(res)
    assert.equal(102, err.code)
    client:close()
  end)

  it("refuses dealer_id and app_key without a user login", function()
    assert.matches("^navixy: options 'dealer_id' and 'app_key' go with a user login",
      setup.raised(navixy.new, { url = fake.url, hash = fake.api_key, dealer_id = 20410 }))
    assert.matches("^navixy: option 'dealer_id' must be a dealer ID",
      setup.raised(navixy.new, { url = fake.url, login = demo.login, password = demo.password, dealer_id = "x" }))
  end)
end)

describe("client:renew_session", function()
  before_each(function() fake.reset() end)

  it("renews a login session", function()
    local client = navixy.new{ url = fake.url, login = demo.login, password = demo.password }
    assert(client:login())
    assert.is_true(client:renew_session())
    local renew = requests_of("user/session/renew")
    assert.equal(1, #renew)
    assert.equal(client:get_hash(), renew[1].hash)
    client:close()
  end)

  it("returns the API's error for an API key", function()
    local client = setup.client()
    local ok, err = client:renew_session()
    assert.is_nil(ok)
    assert.equal(276, err.code)
    client:close()
  end)
end)

describe("client:rotate_key", function()
  before_each(function() fake.reset() end)

  it("creates a key with a login session, switches to it, deletes the old one", function()
    -- a key to rotate, made as a user would
    local maker = navixy.new{ url = fake.url, login = demo.login, password = demo.password }
    local old = assert(maker:call("api/key/create", { title = "integration" })).value.hash
    maker:close()
    local client = navixy.new{ url = fake.url, hash = old }
    local new, err = client:rotate_key{ title = "integration 2", login = demo.login, password = demo.password }
    assert.is_nil(err)
    assert.equal(32, #new)
    assert.equal(new, client:get_hash())
    assert(client:call("user/get_info")) -- the new key works
    local create, delete = requests_of("api/key/create"), requests_of("api/key/delete")
    assert.equal("integration 2", create[#create].params.title)
    assert.equal(old, delete[1].params.key)
    assert.not_equal(old, delete[1].hash) -- deleted with the session, not the key
    local gone = navixy.new{ url = fake.url, hash = old }
    local _, gerr = gone:call("user/get_info")
    assert.equal(4, gerr.code) -- the old key is gone
    gone:close()
    assert.equal(1, #requests_of("user/logout")) -- the rotation's session ended
    client:close()
  end)

  it("returns the API's error and keeps the key when the key cannot be made", function()
    local client = setup.client()
    local new, err = client:rotate_key{ title = "x", login = demo.login, password = "wrong" }
    assert.is_nil(new)
    assert.equal(102, err.code)
    assert.equal(fake.api_key, client:get_hash())
  end)

  it("refuses the key endpoints to an API key (error 4), as the docs say", function()
    local client = setup.client()
    local _, err = client:call("api/key/create", { title = "x" })
    assert.equal(4, err.code)
    assert.matches("^navixy: client:rotate_key needs login and password",
      setup.raised(client.rotate_key, client, { title = "x" }))
    client:close()
  end)
end)

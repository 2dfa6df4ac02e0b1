-- examples/quickstart.lua, which the rock ships without the fake server: it
-- says what it needs when no account is given, and runs with one (here the
-- fake server's demo account, as `make demo` gives it).
local fake = require "fake"
local files = require "local_files"

local LUA = require "flavour"
local q = files.quote

local function quickstart(env)
  local cmd = { "env -i PATH=" .. q(os.getenv("PATH")), "LUA_PATH='lua/?.lua;lua/?/init.lua;;'",
    "LUA_CPATH=" .. q("build/" .. LUA .. "/?.so;;") }
  for k, v in pairs(env) do cmd[#cmd + 1] = k .. "=" .. q(v) end
  return files.output(table.concat(cmd, " ") .. " " .. LUA .. " examples/quickstart.lua 2>&1; echo \"exit $?\"")
end

describe("examples/quickstart.lua", function()
  before_each(fake.reset)

  it("without an account, says what it needs and where the fake server is, and exits 2", function()
    local out = quickstart { NAVIXY_URL = fake.url }
    assert.truthy(out:find("^quickstart: set NAVIXY_URL, NAVIXY_LOGIN and NAVIXY_PASSWORD"), out)
    assert.truthy(out:find("`make demo` in a clone of navixy-lua", 1, true), out)
    assert.truthy(out:find("\nexit 2\n$"), out)
    assert.equal(0, fake.stats().requests)
  end)

  it("with one, logs in, lists, reads a state and shows an error", function()
    local out = quickstart { NAVIXY_URL = fake.url, NAVIXY_LOGIN = fake.users.demo.login,
      NAVIXY_PASSWORD = fake.users.demo.password }
    assert.truthy(out:find("^logged in:   navixy client %("), out)
    assert.truthy(out:find("\ntrackers:    3\n", 1, true), out)
    assert.truthy(out:find("\nan error:    navixy: tracker/get_state: api error", 1, true), out)
    assert.truthy(out:find("\nexit 0\n$"), out)
  end)
end)

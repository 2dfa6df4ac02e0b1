-- Named profiles (--profile NAME, NAVIXY_PROFILE) in the config file
-- ($NAVIXY_CONFIG): URL, credentials from a variable, a file or a command,
-- a secret in the config file itself only when it is private (0600).
local fake = require "fake"
local cli_run = require "cli_run"

local navixy, tmpfile = cli_run.navixy, cli_run.tmpfile

local function config(text, mode)
  local path = tmpfile(text)
  os.execute("chmod " .. (mode or "600") .. " " .. path)
  return path
end

describe("navixy --profile", function()
  before_each(fake.reset)
  after_each(cli_run.cleanup)

  local function profile(body)
    return "[main]\nurl = " .. fake.url .. "\n" .. body
  end

  it("takes the URL and the hash from an environment variable the profile names", function()
    local path = config(profile("hash_env = MY_NAVIXY_KEY\n# a comment\n; another\n\n[other]\nregion = us\n"), "644")
    local r = navixy({ "--profile", "main", "user/get_info" },
      { NAVIXY_CONFIG = path, MY_NAVIXY_KEY = fake.api_key })
    assert.equal(0, r.status, r.stderr)
    assert.equal(fake.api_key, fake.last_request().hash)
  end)

  it("takes the hash from a private file or from a command, and NAVIXY_PROFILE chooses", function()
    local key = tmpfile(fake.api_key .. "\n")
    os.execute("chmod 600 " .. key)
    local path = config("[f]\nurl = " .. fake.url .. "\nhash_file = " .. key .. "\n"
      .. "[c]\nurl = " .. fake.url .. "\nhash_command = printf '%s\\n' " .. fake.api_key .. "\n")
    assert.equal(0, navixy({ "--profile", "f", "user/get_info" }, { NAVIXY_CONFIG = path }).status)
    assert.equal(0, navixy({ "user/get_info" }, { NAVIXY_CONFIG = path, NAVIXY_PROFILE = "c" }).status)
    assert.equal(2, fake.stats().requests)
    os.execute("chmod 644 " .. key)
    local r = navixy({ "--profile", "f", "user/get_info" }, { NAVIXY_CONFIG = path })
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("can be read or written by others (mode 644)", 1, true))
  end)

  it("takes a secret written in the config file only when the file is 0600", function()
    local text = profile("hash = " .. fake.api_key .. "\n")
    local r = navixy({ "--profile", "main", "user/get_info" }, { NAVIXY_CONFIG = config(text, "640") })
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("writes the hash in .- which can be read or written by others %(mode 640%): "
      .. "make it private %(chmod 600 "), r.stderr)
    assert.falsy(r.stderr:find(fake.api_key, 1, true))
    assert.equal(0, fake.stats().requests)
    r = navixy({ "--profile", "main", "user/get_info" }, { NAVIXY_CONFIG = config(text, "600") })
    assert.equal(0, r.status)
  end)

  it("logs in with the login and a password from the profile; the environment's NAVIXY_* are not read", function()
    local path = config(profile("login = " .. fake.users.demo.login .. "\npassword_env = DEMO_PW\n"))
    local r = navixy({ "--profile", "main", "user/get_info" },
      { NAVIXY_CONFIG = path, DEMO_PW = fake.users.demo.password, NAVIXY_HASH = fake.api_key })
    assert.equal(0, r.status, r.stderr)
    assert.equal(1, fake.stats().logins)
  end)

  it("lets command-line options win and checks the profile's own", function()
    local path = config(profile("hash_env = K\nretries = 0\ntimeout = 5\n"))
    fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 5 }
    local r = navixy({ "--profile", "main", "tracker/list" }, { NAVIXY_CONFIG = path, K = fake.api_key })
    assert.equal(3, r.status)
    assert.equal(1, fake.sent("tracker/list")) -- retries = 0 from the profile
    r = navixy({ "--profile", "main", "--retries", "1", "tracker/list" }, { NAVIXY_CONFIG = path, K = fake.api_key })
    assert.equal(3, r.status)
    assert.equal(1 + 2, fake.sent("tracker/list"))
    r = navixy({ "--profile", "main", "tracker/list" },
      { NAVIXY_CONFIG = config(profile("hash_env = K\nretries = many\n")), K = fake.api_key })
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("profile main: retries expects a whole number", 1, true), r.stderr)
  end)

  it("says which profiles there are, and names a mistyped key", function()
    local path = config(profile("hash_env = K\n") .. "[second]\nregion = us\n")
    local r = navixy({ "--profile", "mian", "tracker/list" }, { NAVIXY_CONFIG = path })
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("no profile [mian] in " .. path .. " (profiles: main, second)", 1, true), r.stderr)
    r = navixy({ "--profile", "main", "tracker/list" }, { NAVIXY_CONFIG = config(profile("hsah_env = K\n")) })
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("line 3: unknown key 'hsah_env' (did you mean 'hash_env'?)", 1, true), r.stderr)
    r = navixy({ "--profile", "main", "tracker/list" }, { NAVIXY_CONFIG = config(profile("hash_env = UNSET\n")) })
    assert.truthy(r.stderr:find("the environment variable UNSET (hash_env) is not set", 1, true), r.stderr)
    assert.equal(0, fake.stats().requests)
  end)
end)

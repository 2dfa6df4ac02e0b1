-- navixy.new checks every option and raises with a message naming the problem.
local navixy = require "navixy"
local fake = require "fake"

local function raises(opts, pattern)
  local ok, msg = pcall(navixy.new, opts)
  assert.is_false(ok, "expected an error")
  assert.matches("^navixy: ", msg)
  if pattern then assert.matches(pattern, msg) end
end

describe("navixy.new", function()
  it("defaults to the EU region", function()
    local c = navixy.new {}
    assert.matches("api%.eu%.navixy%.com/v2", tostring(c))
    assert.equal("https://api.eu.navixy.com/v2", navixy.regions.eu)
    assert.equal("https://api.us.navixy.com/v2", navixy.regions.us)
  end)

  it("takes a region instead of a url: eu, us or me", function()
    assert.matches("api%.us%.navixy%.com", tostring(navixy.new { region = "us" }))
    assert.equal("navixy client (https://api.me.navixy.com/v2, auth header, no hash)",
      tostring(navixy.new { region = "me" }))
    assert.equal("https://api.me.navixy.com/v2", navixy.regions.me)
    raises({ region = "asia" }, "option 'region' must be one of \"eu\", \"us\", \"me\", got \"asia\"")
  end)

  it("makes a panel client with panel = true, whose login may be a number", function()
    assert.equal("navixy panel client (https://api.me.navixy.com/v2, auth header, not logged in)",
      tostring(navixy.new { region = "me", panel = true, login = 20410, password = "x" }))
    assert.equal("navixy panel client (https://api.eu.navixy.com/v2, auth header, hash abcd...)",
      tostring(navixy.new { panel = true, hash = "abcdef0123456789" }))
    raises({ panel = 1 }, "option 'panel' must be a boolean")
    raises({ login = 20410, password = "x" }, "a number is a panel ID: set panel = true")
    raises({ panel = true, login = 2.5, password = "x" }, "option 'login' must be a string or a whole panel ID")
    raises({ panel = true, login = "", password = "x" }, "option 'login' must not be empty")
    raises({ panel = true, login = 20410 }, "go together")
  end)

  it("has a version string", function()
    assert.is_string(navixy.VERSION)
    assert.matches("^%d+%.%d+%.%d+", navixy.VERSION)
  end)

  it("raises on an unknown option, suggesting the right one", function()
    raises({ url = fake.url, timout = 5 }, "unknown option 'timout' %(did you mean 'timeout'%?%)")
    raises({ url = fake.url, colour = 5 }, "unknown option 'colour'$")
  end)

  it("raises on options of the wrong type or value", function()
    raises({ url = 42 }, "option 'url' must be a string, got number")
    raises({ url = fake.url, timeout = "30" }, "option 'timeout' must be a number")
    raises({ url = fake.url, timeout = 0 }, "option 'timeout' must be a positive number")
    raises({ url = fake.url, timeout = -1 }, "positive")
    raises({ url = fake.url, connect_timeout = 0 }, "connect_timeout")
    raises({ url = fake.url, retries = 1.5 }, "option 'retries' must be a whole number")
    raises({ url = fake.url, retries = -1 }, "retries")
    raises({ url = fake.url, rate_limit = 0 }, "rate_limit")
    raises({ url = fake.url, auth = "cookie" }, "option 'auth' must be one of \"header\", \"query\", \"body\"")
    raises({ url = fake.url, encoding = "xml" }, "encoding")
    raises({ url = fake.url, ssl_verify = "no" }, "ssl_verify")
    raises({ url = fake.url, insecure = 1 }, "insecure")
    raises({ url = fake.url, transport = "socket" }, "transport")
    raises({ region = "asia" }, "region")
    raises({ url = fake.url, hash = "" }, "hash")
    raises({ url = fake.url, headers = { ["Bad Name"] = "x" } }, "header name")
    raises("https://x", "expects a table")
  end)

  it("raises when both url and region are given", function()
    raises({ url = fake.url, region = "eu" }, "not both")
  end)

  it("raises on login without password and the reverse", function()
    raises({ url = fake.url, login = "a@b.c" }, "'login' and 'password' go together")
    raises({ url = fake.url, password = "x" }, "go together")
  end)

  it("raises on CR, LF or NUL in a hash or header value", function()
    raises({ url = fake.url, hash = "abc\r\nX-Evil: 1" }, "CR, LF or NUL")
    raises({ url = fake.url, hash = "abc\0" }, "CR, LF or NUL")
    raises({ url = fake.url, user_agent = "ua\n" }, "CR, LF or NUL")
    raises({ url = fake.url, headers = { ["X-A"] = "1\r\n2" } }, "CR, LF or NUL")
    raises({ url = fake.url .. "\n" }, "CR, LF or NUL")
  end)

  it("raises on a URL that is not http(s)", function()
    raises({ url = "ftp://example.com/v2" }, "http")
    raises({ url = "api.eu.navixy.com/v2" }, "http")
  end)

  it("refuses clear-text http:// to a host that is not loopback", function()
    raises({ url = "http://api.example.com/v2" }, "clear text")
    raises({ url = "http://10.0.0.1/v2", hash = "x" }, "clear text")
    raises({ url = "http://127.0.0.1.example.com/v2" }, "clear text")
  end)

  it("allows http:// to loopback, and anywhere with insecure = true", function()
    navixy.new { url = "http://127.0.0.1:1/v2" }
    navixy.new { url = "http://127.8.9.10/v2" }
    navixy.new { url = "http://localhost:8080/v2" }
    navixy.new { url = "http://[::1]:8080/v2" }
    navixy.new { url = "http://api.example.com/v2", insecure = true }
  end)

  it("does not change the table it was given", function()
    local opts = { url = fake.url }
    navixy.new(opts)
    assert.same({ url = fake.url }, opts)
  end)
end)

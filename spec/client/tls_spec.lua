-- HTTPS against the fake server's certificate, signed by a CA the test
-- setup generated: verification is tested for real.
local navixy = require "navixy"
local fake = require "fake"

describe("TLS", function()
  before_each(fake.reset)

  it("works with the CA given in ca_file", function()
    local c = navixy.new { url = fake.tls_url, hash = fake.api_key, ca_file = fake.ca_file }
    local res, err = c.tracker.list()
    assert.is_nil(err)
    assert.equal(3, #res.list)
  end)

  it("rejects a certificate the trust store does not vouch for, without retrying", function()
    local c = navixy.new { url = fake.tls_url, hash = fake.api_key, retries = 3 }
    local res, err = c.tracker.list()
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.matches("certificate", err.description:lower())
  end)

  it("rejects a certificate from a trusted CA for another name", function()
    local c = navixy.new { url = fake.other_name_url, hash = fake.api_key, ca_file = fake.ca_file,
      retries = 3 }
    local res, err = c.tracker.list()
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.matches("name", err.description)
    assert.equal(0, fake.stats().requests)
  end)

  it("reaches the same server through that port when names are not checked", function()
    local c = navixy.new { url = fake.other_name_url, hash = fake.api_key, ssl_verify = false }
    assert(c.tracker.list())
  end)

  it("can be turned off with ssl_verify = false", function()
    local c = navixy.new { url = fake.tls_url, hash = fake.api_key, ssl_verify = false }
    assert(c.tracker.list())
  end)

  it("refuses a ca_file it cannot read when the client is made: a configuration error", function()
    local ok, msg = pcall(navixy.new, { url = fake.tls_url, hash = fake.api_key, ca_file = "/nonexistent.pem" })
    assert.is_false(ok)
    assert.matches("^navixy: option 'ca_file': cannot read /nonexistent.pem", msg)
  end)
end)

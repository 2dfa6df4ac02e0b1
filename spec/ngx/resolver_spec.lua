-- The nginx examples (examples/nginx.conf, examples/nginx-shared.conf) as printed, on nginx
-- with no `resolver` line, where a DNS server named in /etc/resolv.conf is
-- the only way to the API's host name: as on a stock Debian 12 server (no
-- systemd-resolved, no 127.0.0.53).
--
-- The nginx runs in a mount namespace of its own (unshare: this spec needs
-- root, as CI has) in which /etc/resolv.conf names a DNS server of the spec
-- (spec/support/dns-server, on a loopback address of its own, port 53) that
-- alone knows other.example, and the system CA bundle is the fake server's
-- CA, which vouches for other.example. Nothing else on the machine changes:
-- /etc/hosts has no other.example, and nginx reads neither it nor any
-- resolver but the one the client finds in resolv.conf.
-- Run alone: lua5.4 /usr/bin/busted spec/ngx/resolver_spec.lua
local cjson = require "cjson"
local fake = require "fake"
local example = require "nginx_example"
local files = require "local_files"

local q, read, sh = files.quote, files.read, files.output_trimmed

local PORT = fake.port + 40 -- the example's listen port
local NAME = "other.example"
-- a loopback address of this port base's own for the DNS server (port 53)
local DNS_AT = ("127.0.%d.%d"):format(math.floor((fake.port + 41) / 256) % 256, (fake.port + 41) % 256)
local DIR = fake.root .. "/build/resolver-example"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Starts examples/NAME.conf as printed in prefix `dir` on `port`, in a mount
-- namespace whose resolv.conf and CA bundle are the spec's (nginx daemonizes
-- inside it), its URL the API's name; returns stop().
local function in_namespace(name, dir, port, env)
  local conf = read(example.prepare(name, dir, port))
  assert.falsy(conf:find("\n%s*resolver%s"), "examples/" .. name .. ".conf names a resolver")
  write(dir .. "/resolv.conf", "nameserver " .. DNS_AT .. "\n")
  env.NAVIXY_URL = ("https://%s:%d/v2"):format(NAME, fake.other_tls_port)
  return example.start(dir, port, env, function(cmd)
    return ("unshare --mount sh -c %s"):format(q(table.concat({
      "mount --bind " .. q(dir .. "/resolv.conf") .. " /etc/resolv.conf",
      "mount --bind " .. q(fake.ca_file) .. " /etc/ssl/certs/ca-certificates.crt",
      cmd,
    }, " && ")))
  end)
end

describe("the nginx examples on a server without systemd-resolved", function()
  local dns_pid, stops = nil, {}

  setup(function()
    assert.equal("0", sh("id -u"), "this spec needs root (unshare --mount)")
    fake.ensure()
    assert.falsy(read("/etc/hosts"):find(NAME, 1, true), "/etc/hosts knows " .. NAME .. ": this would prove nothing")
    dns_pid = sh(("spec/support/dns-server %s 53 %s=127.0.0.1 >%s/dns.log 2>&1 & echo $!")
      :format(DNS_AT, NAME, q(fake.rundir)))
    stops[#stops + 1] = in_namespace("nginx", DIR, PORT, { NAVIXY_HASH = fake.api_key })
    stops[#stops + 1] = in_namespace("nginx-shared", DIR .. "-shared", PORT + 2,
      { NAVIXY_LOGIN = fake.users.demo.login, NAVIXY_PASSWORD = fake.users.demo.password })
  end)

  teardown(function()
    for _, stop in ipairs(stops) do stop() end
    if dns_pid and dns_pid ~= "" then os.execute("kill " .. dns_pid) end
  end)

  before_each(fake.reset)

  it("examples/nginx.conf answers through the name only resolv.conf's nameserver knows", function()
    local status, body = fake.http("GET", ("http://127.0.0.1:%d/trackers"):format(PORT))
    assert.equal(200, status, tostring(body) .. "\n" .. example.errors(DIR))
    assert.equal(3, #cjson.decode(body))
    local req = fake.last_request()
    assert.equal("tracker/list", req.action)
    -- the name went through the spec's DNS server: nothing else knows it
    assert.truthy(read(fake.rundir .. "/dns.log"):find("\nquery " .. NAME .. " type 1\n", 1, true))
    -- again: from the worker's cache or its pooled connection, as fast as the first
    status = fake.http("GET", ("http://127.0.0.1:%d/trackers"):format(PORT))
    assert.equal(200, status)
  end)

  it("examples/nginx-shared.conf too: four workers, one login", function()
    local url = ("http://127.0.0.1:%d/state?id=1"):format(PORT + 2)
    for _ = 1, 8 do
      local status, body = fake.http("GET", url)
      assert.equal(200, status, tostring(body) .. "\n" .. example.errors(DIR .. "-shared"))
      assert.equal("parked", cjson.decode(body).movement_status)
    end
    assert.equal(1, fake.stats().logins)
  end)
end)

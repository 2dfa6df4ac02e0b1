-- The README's OpenResty example (examples/nginx.conf) as printed, on nginx
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

describe("examples/nginx.conf on a server without systemd-resolved", function()
  local dns_pid, stop

  setup(function()
    assert.equal("0", sh("id -u"), "this spec needs root (unshare --mount)")
    fake.ensure()
    assert.falsy(read("/etc/hosts"):find(NAME, 1, true), "/etc/hosts knows " .. NAME .. ": this would prove nothing")
    dns_pid = sh(("spec/support/dns-server %s 53 %s=127.0.0.1 >%s/dns.log 2>&1 & echo $!")
      :format(DNS_AT, NAME, q(fake.rundir)))
    local conf = read(example.prepare("nginx", DIR, PORT))
    assert.falsy(conf:find("\n%s*resolver%s"), "the example names a resolver")
    write(DIR .. "/resolv.conf", "nameserver " .. DNS_AT .. "\n")
    -- the namespace: its resolv.conf and CA bundle are the spec's; nginx daemonizes inside it
    stop = example.start(DIR, PORT, {
      NAVIXY_HASH = fake.api_key, NAVIXY_URL = ("https://%s:%d/v2"):format(NAME, fake.other_tls_port),
    }, function(cmd)
      return ("unshare --mount sh -c %s"):format(q(table.concat({
        "mount --bind " .. q(DIR .. "/resolv.conf") .. " /etc/resolv.conf",
        "mount --bind " .. q(fake.ca_file) .. " /etc/ssl/certs/ca-certificates.crt",
        cmd,
      }, " && ")))
    end)
  end)

  teardown(function()
    if stop then stop() end
    if dns_pid and dns_pid ~= "" then os.execute("kill " .. dns_pid) end
  end)

  before_each(fake.reset)

  it("answers through the name only resolv.conf's nameserver knows", function()
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
end)

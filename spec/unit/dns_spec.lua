-- navixy.transport.dns without nginx: the resolv.conf it reads, the query it
-- sends and the answers it takes (spec/ngx/resolver_spec.lua runs it in nginx).
local dns = require "navixy.transport.dns"

local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end

-- An answer to query `id` for a.example: `records` are { type, ttl, rdata }.
local function answer(id, rcode, records)
  local question = "\1a\7example\0" .. u16(1) .. u16(1)
  local parts = { u16(id), "\129", string.char(128 + rcode), u16(1), u16(#records), u16(0), u16(0), question }
  for _, r in ipairs(records) do
    parts[#parts + 1] = "\192\12" .. u16(r[1]) .. u16(1) .. u16(0) .. u16(r[2]) .. u16(#r[3]) .. r[3]
  end
  return table.concat(parts)
end

describe("navixy.transport.dns", function()
  it("reads the nameservers of resolv.conf in order, else the local one", function()
    assert.same({ "10.0.0.2", "192.168.1.1", "::1" }, dns.nameservers("# generated\nsearch example.com\n"
      .. "nameserver 10.0.0.2\n  nameserver 192.168.1.1  \nnameserver ::1\noptions edns0\n"))
    assert.same({ "127.0.0.1" }, dns.nameservers("search example.com\n"))
    assert.same({ "127.0.0.1" }, dns.nameservers(nil))
  end)

  it("asks for the A record of the name, recursion desired", function()
    assert.equal(u16(513) .. "\1\0" .. u16(1) .. u16(0) .. u16(0) .. u16(0)
      .. "\3api\2eu\6navixy\3com\0" .. u16(1) .. u16(1), dns.query("api.eu.navixy.com", 513))
  end)

  it("takes the first IPv4 address and its TTL, past a CNAME", function()
    local cname = "\6target\7example\0"
    local records = { { 5, 60, cname }, { 1, 300, "\203\0\113\7" } }
    assert.same({ "203.0.113.7", 300 }, { dns.parse(answer(7, 0, records), 7) })
  end)

  it("says why there is no address: no such name, another rcode, none given, not ours, cut short", function()
    assert.same({ nil, "no such name" }, { dns.parse(answer(7, 3, {}), 7) })
    assert.same({ nil, "the DNS server answered rcode 2" }, { dns.parse(answer(7, 2, {}), 7) })
    assert.same({ nil, "no IPv4 address" }, { dns.parse(answer(7, 0, { { 28, 60, ("\0"):rep(16) } }), 7) })
    assert.same({ nil, "not an answer to the query" }, { dns.parse(answer(8, 0, {}), 7) })
    local whole = answer(7, 0, { { 1, 60, "\1\2\3\4" } })
    assert.same({ nil, "a damaged answer" }, { dns.parse(whole:sub(1, 32), 7) })
    assert.same({ nil, "a damaged answer" }, { dns.parse(whole:sub(1, -2), 7) }) -- inside the address
  end)
end)

--- Host names inside nginx when nginx has no `resolver` directive.
--
-- nginx never reads /etc/resolv.conf: a cosocket connect to a name fails at
-- once with "no resolver defined" unless the configuration names a DNS
-- server. The examples used to name 127.0.0.53, which exists only with
-- systemd-resolved; on a stock server every call failed. So when nginx has
-- no resolver, the ngx transport asks the nameservers of /etc/resolv.conf
-- itself, as the C library would: an A query over a UDP cosocket to each
-- in turn, the answer cached for its TTL (per worker). A `resolver`
-- directive, when there is one, is used instead (nginx's own cache).
local M = {}

M.RESOLV_CONF = "/etc/resolv.conf"
M.MAX_TTL = 300 -- seconds an answer is kept at most, whatever its TTL
local ATTEMPT_S = 2 -- seconds for one nameserver's answer

local cache = {} -- name -> { ip =, expires = }

--- The nameservers of resolv.conf text, in order (glibc's default when
-- none is named: the local one).
function M.nameservers(text)
  local list = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local ns = line:match("^%s*nameserver%s+([%x%.:]+)%s*$")
    if ns then list[#list + 1] = ns end
  end
  if #list == 0 then list[1] = "127.0.0.1" end
  return list
end

local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end

--- The A query for `name` with transaction id `id`.
function M.query(name, id)
  local parts = { u16(id), "\1\0", u16(1), u16(0), u16(0), u16(0) } -- recursion desired, one question
  for label in name:gmatch("[^.]+") do parts[#parts + 1] = string.char(#label) .. label end
  parts[#parts + 1] = "\0" .. u16(1) .. u16(1) -- type A, class IN
  return table.concat(parts)
end

local function read16(s, i)
  local a, b = s:byte(i, i + 1)
  return a * 256 + b
end

-- The position after the name at i (labels, or a compression pointer).
local function skip_name(s, i)
  while true do
    local len = s:byte(i)
    if not len then return nil end
    if len >= 192 then return i + 2 end -- a pointer ends the name
    if len == 0 then return i + 1 end
    i = i + 1 + len
  end
end

--- The first IPv4 address and its TTL in answer `s` to query `id`, or
-- nil, why.
function M.parse(s, id)
  if #s < 12 or read16(s, 1) ~= id then return nil, "not an answer to the query" end
  local rcode = s:byte(4) % 16
  if rcode == 3 then return nil, "no such name" end
  if rcode ~= 0 then return nil, "the DNS server answered rcode " .. rcode end
  local qd, an = read16(s, 5), read16(s, 7)
  local i = 13
  for _ = 1, qd do
    i = skip_name(s, i)
    if not i then return nil, "a damaged answer" end
    i = i + 4
  end
  for _ = 1, an do
    i = skip_name(s, i)
    if not i or i + 10 > #s + 1 then return nil, "a damaged answer" end
    local rtype, ttl = read16(s, i), read16(s, i + 4) * 65536 + read16(s, i + 6)
    local rdlen = read16(s, i + 8)
    i = i + 10
    if i + rdlen > #s + 1 then return nil, "a damaged answer" end
    if rtype == 1 and rdlen == 4 then
      return ("%d.%d.%d.%d"):format(s:byte(i, i + 3)), ttl
    end
    i = i + rdlen -- a CNAME and the like: the address of the name it names follows
  end
  return nil, "no IPv4 address"
end

local function read_conf()
  local f = io.open(M.RESOLV_CONF, "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

--- The IPv4 address of `name`, waiting at most `ms` milliseconds: ip, or
-- nil, why. Yields (UDP cosockets): for the phases where those exist.
function M.resolve(name, ms)
  local key = name:lower()
  local hit = cache[key]
  if hit and hit.expires > ngx.now() then return hit.ip end
  local deadline = ngx.now() + ms / 1000
  local why = "no nameserver answered"
  for _, ns in ipairs(M.nameservers(read_conf())) do
    local left = deadline - ngx.now()
    if left <= 0 then break end
    local udp = ngx.socket.udp()
    udp:settimeout(math.max(1, math.floor(math.min(left, ATTEMPT_S) * 1000)))
    local id = math.random(0, 65535)
    local ok, err = udp:setpeername(ns, 53)
    if ok then ok, err = udp:send(M.query(key, id)) end
    local answer
    if ok then answer, err = udp:receive() end
    udp:close()
    if answer then
      local ip, ttl_or_why = M.parse(answer, id)
      if ip then
        cache[key] = { ip = ip, expires = ngx.now() + math.max(1, math.min(ttl_or_why, M.MAX_TTL)) }
        return ip
      end
      why = ttl_or_why
      if why == "no such name" then break end -- an authoritative no: the others would say the same
    else
      why = ("%s:53: %s"):format(ns, tostring(err))
    end
  end
  return nil, ("resolving %s through the nameservers of %s (nginx has no resolver directive): %s")
    :format(name, M.RESOLV_CONF, why)
end

return M

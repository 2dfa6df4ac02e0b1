--- The one URL parser: the http(s) base URLs that navixy.new takes. The
-- options check them with it once; the transports and the WebSocket layer
-- use the parts it found, never parsing the URL again per call.
local M = {}

local DEFAULT_PORT = { http = 80, https = 443 }

--- Parses an absolute http(s) URL. Returns { scheme (lowercase), userinfo
-- (or nil), host (as written, IPv6 brackets kept), port (a number), path
-- (from the first "/", "" when none), origin ("scheme://host[:port]" as
-- written) }, or nil and why. A query or fragment is refused: actions are
-- appended to the path. With `target` (the URL of one request, such as a
-- presigned upload's) a query is allowed, and is part of `path`.
function M.parse(url, target)
  if type(url) ~= "string" then return nil, "not a string" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an http:// or https:// URL" end
  scheme = scheme:lower()
  if not DEFAULT_PORT[scheme] then return nil, "not an http:// or https:// URL" end
  if rest:find(target and "#" or "[?#]") then return nil, "a base URL cannot hold a query or a fragment" end
  local authority, path = rest:match("^([^/?]*)(.*)$")
  local userinfo, hostport = authority:match("^(.*)@([^@]*)$")
  hostport = hostport or authority
  local host, port = hostport:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = hostport:match("^([^:]*)(.*)$") end
  if host == "" then return nil, "no host in the URL" end
  if not host:find("^%[") and not host:find("^[%w._~-]+$") then return nil, "invalid host in the URL" end
  local number
  if port == "" then
    number = DEFAULT_PORT[scheme]
  else
    number = tonumber(port:match("^:(%d%d?%d?%d?%d?)$"))
    if not number or number < 1 or number > 65535 then return nil, "invalid port in the URL" end
  end
  return {
    scheme = scheme, userinfo = userinfo, host = host, port = number, path = path,
    origin = url:sub(1, #url - #path),
  }
end

--- True for the names and addresses of this machine: 127.0.0.0/8, ::1, localhost.
function M.is_loopback(host)
  host = host:lower()
  return host == "localhost" or host == "[::1]" or host:find("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- The Host header for parsed URL u: the port only when not the scheme's default.
function M.host_header(u)
  if u.port == DEFAULT_PORT[u.scheme] then return u.host end
  return u.host .. ":" .. u.port
end

return M

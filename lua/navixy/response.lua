--- Turns what arrived (a transport's result: status, body, headers) into the
-- decoded answer, a file, or an error. The API answers errors with 4xx/5xx
-- and a JSON body, so the body is read whatever the status.
local core = require "navixy.core"
local json = require "navixy.json"
local errors = require "navixy.errors"

local M = {}

local REASONS = {
  [300] = "Multiple Choices", [301] = "Moved Permanently", [302] = "Found",
  [303] = "See Other", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [413] = "Payload Too Large",
  [429] = "Too Many Requests", [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

local function http_description(status)
  local text = "HTTP " .. status .. " " .. (REASONS[status] or "answer")
  if status >= 300 and status < 400 then
    return text .. " (redirects are not followed)"
  end
  return text
end

-- Navixy's APIs live under a versioned path (/v2, /dwh/v1): a base URL
-- without one reaches the web app or a server's front page instead.
local function unversioned(base)
  return type(base) == "string" and not base:find("/v%d+$")
end

local NO_V2 = "likely cause: the base URL has no /v2, as in https://api.eu.navixy.com/v2"

local function api_error(action, status, obj, secrets, base)
  local st = type(obj.status) == "table" and obj.status or {}
  local code = tonumber(st.code)
  local description = type(st.description) == "string" and st.description or "the API answered success: false"
  if status == 404 and unversioned(base) then description = description .. " (" .. NO_V2 .. ")" end
  return errors.new({
    kind = "api",
    code = code,
    description = description,
    status = status,
    action = action,
    response = obj,
  }, secrets)
end

local function unquote(s)
  return (s:gsub("\\(.)", "%1"))
end

local function percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Code points a file name never holds: controls (C0, DEL, C1: terminal
-- escapes), bidi controls (U+202E shows "fdp.exe" as "exe.pdf") and line
-- separators.
local function unwanted(cp)
  return cp < 0x20 or (cp >= 0x7F and cp <= 0x9F) or cp == 0x061C or cp == 0x200E or cp == 0x200F
    or (cp >= 0x2028 and cp <= 0x202E) or (cp >= 0x2066 and cp <= 0x2069)
end

local REPLACEMENT = "\239\191\189" -- U+FFFD, for each byte that is not UTF-8
local LEAD = { { 0xC2, 0xDF, 2, 0xC0, 0x80 }, { 0xE0, 0xEF, 3, 0xE0, 0x800 }, { 0xF0, 0xF4, 4, 0xF0, 0x10000 } }

-- The code point of the UTF-8 sequence at s[i], and its length; nil when the
-- bytes there are not one (RFC 3629: no overlong forms, no surrogates).
local function utf8_at(s, i)
  local c = s:byte(i)
  if c < 0x80 then return c, 1 end
  for _, l in ipairs(LEAD) do
    if c >= l[1] and c <= l[2] then
      local cp = c - l[4]
      for k = 1, l[3] - 1 do
        local b = s:byte(i + k)
        if not b or b < 0x80 or b > 0xBF then return nil end
        cp = cp * 64 + b - 0x80
      end
      if cp < l[5] or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil end
      return cp, l[3]
    end
  end
  return nil
end

-- `s` as valid UTF-8 without unwanted code points: with `latin1`, each byte
-- is an ISO-8859-1 character; else UTF-8, each byte that is not replaced.
local function clean_name(s, latin1)
  local out, i = {}, 1
  while i <= #s do
    local cp, len, text
    if latin1 then
      cp, len = s:byte(i), 1
      text = cp < 0x80 and string.char(cp) or string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
    else
      cp, len = utf8_at(s, i)
      if cp then text = s:sub(i, i + len - 1) else cp, len, text = 0xFFFD, 1, REPLACEMENT end
    end
    if not unwanted(cp) then out[#out + 1] = text end
    i = i + len
  end
  return table.concat(out)
end

--- The file name a Content-Disposition value gives (RFC 6266): filename*
-- (RFC 5987, UTF-8 or ISO-8859-1 percent-encoded) before filename, reduced to
-- its last path part, in valid UTF-8 (ISO-8859-1 converted, bytes that are
-- not UTF-8 replaced by U+FFFD) and without control or bidi characters, so
-- that it is safe to use as a name in a directory and to show; nil when there
-- is none.
function M.filename(disposition)
  if type(disposition) ~= "string" then return nil end
  local name, latin1
  local ext = disposition:match(";%s*[fF][iI][lL][eE][nN][aA][mM][eE]%*%s*=%s*([^;]+)")
  if ext then
    local charset, encoded = ext:match("^([%w!#$&+^`{}~-]*)'[^']*'(.-)%s*$")
    charset = charset and charset:upper()
    if charset == "UTF-8" or charset == "ISO-8859-1" then
      name, latin1 = percent_decode(encoded), charset == "ISO-8859-1"
    end
  end
  if not name then
    local quoted = disposition:match(';%s*[fF][iI][lL][eE][nN][aA][mM][eE]%s*=%s*"(.-[^\\])"')
      or disposition:match(';%s*[fF][iI][lL][eE][nN][aA][mM][eE]%s*=%s*""()')
    name = type(quoted) == "string" and unquote(quoted)
      or disposition:match(";%s*[fF][iI][lL][eE][nN][aA][mM][eE]%s*=%s*([^;%s]+)")
  end
  if not name then return nil end
  name = clean_name(name:match("([^/\\]*)$"), latin1)
  if name == "" or name == "." or name == ".." then return nil end
  return name
end


-- Whether a 2xx answer is an HTML page: by its type, or by its start (whatever
-- type it claims). Navixy serves no HTML files, so such a page is someone
-- else's answer.
local function is_html(result)
  local ct = (result.content_type or ""):lower()
  if ct:find("^%s*text/html") or ct:find("^%s*application/xhtml") then return true end
  if type(result.body) == "string" then
    local head = result.body:sub(1, 256):lower()
    return head:find("^%s*<!doctype html") ~= nil or head:find("^%s*<html") ~= nil
  end
  return false
end

local function html_error(action, result, secrets, base)
  return errors.new({
    kind = "decode",
    description = "the answer is an HTML page, not the API's JSON ("
      .. (unversioned(base) and NO_V2 or "likely cause: a proxy or a login portal in the way") .. ")",
    status = result.status, action = action, body = result.body,
  }, secrets)
end

-- A 2xx answer that is not JSON: a file.
local function file_result(result)
  local body = result.body
  return {
    content_type = result.content_type,
    body = body,
    filename = M.filename(result.disposition),
    size = result.streamed or #body,
  }
end

--- Returns the decoded answer (or a file), or nil and an error. `result` is
-- the transport's (see navixy.transport). `secrets` are masked out of error
-- texts (the server might echo them). `base` (the base URL, optional) names
-- a missing /v2 as the likely cause of an HTML page or a bare 404. `lazy`: a
-- 2xx answer that succeeded comes as a lazy answer (json_lazy.h); errors are
-- decoded whole as ever.
function M.interpret(action, result, secrets, base, lazy)
  local status, body = result.status, result.body
  if status >= 200 and status < 300 and (result.streamed or not core.is_json_type(result.content_type or "")) then
    if is_html(result) then return nil, html_error(action, result, secrets, base) end
    return file_result(result)
  end
  if lazy and status >= 200 and status < 300 then
    local view = json.lazy_object(body)
    if view and view.success ~= false then return view end
  end
  local obj = json.decode_object(body)
  if status >= 200 and status < 300 then
    if not obj then
      if is_html(result) then return nil, html_error(action, result, secrets, base) end
      return nil, errors.new({
        kind = "decode",
        description = "the answer is not a JSON object",
        status = status, action = action, body = body,
      }, secrets)
    end
    if obj.success == false then return nil, api_error(action, status, obj, secrets, base) end
    return obj
  end
  if obj and obj.success == false then return nil, api_error(action, status, obj, secrets, base) end
  -- RFC 7807 problem details ({type, title, status, detail}: the Raw IoT Data
  -- and Eco Fleet APIs' errors) are the API's errors too
  if obj and type(obj.type) == "string" and (obj.detail ~= nil or obj.title ~= nil) then
    return nil, errors.new({ kind = "api", code = obj.type, status = status, action = action, response = obj,
      description = type(obj.detail) == "string" and obj.detail or tostring(obj.title) }, secrets)
  end
  local description = http_description(status)
  if status == 404 and unversioned(base) then description = description .. " (" .. NO_V2 .. ")" end
  return nil, errors.new({
    kind = "http",
    description = description,
    status = status, action = action,
    response = obj,
    body = not obj and body or nil,
  }, secrets)
end

return M

-- multipart/form-data request bodies (RFC 7578 on RFC 2046), as the upload actions take
-- them: "MUST be a POST multipart request (multipart/form-data), with one of the parts
-- being a ... file upload (with the name "file")" (e.g. api-docs/platform-api/user-api/
-- backend-api/resources/tracking/tracker/avatar.md). Parts are binary-safe: a part ends
-- only at CRLF "--" boundary, so CR, LF and "--" inside a file are data.
local M = {}

-- The boundary parameter of a Content-Type, quoted or not; nil when there is none.
function M.boundary(content_type)
  local v = tostring(content_type or ""):match(";%s*[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]%s*=%s*(.*)$")
  if not v then return nil end
  local b = v:match('^"([^"]*)"') or v:match("^([^;%s]+)")
  if b and #b > 0 and #b <= 70 then return b end -- RFC 2046: 1 to 70 characters
end

-- A header value's parameters: `form-data; name="a"; filename="b \"c\".txt"` gives
-- "form-data", { name = "a", filename = 'b "c".txt' }. Quoted strings take backslash
-- escapes; filename* (RFC 5987, UTF-8''percent-encoded) is decoded into filename_star.
local function parameters(v)
  local out = {}
  local semi = v:find(";", 1, true)
  local kind = (semi and v:sub(1, semi - 1) or v):match("^%s*(.-)%s*$"):lower()
  local i = semi
  while i do
    local key, start = v:match("^%s*([^=;%s]+)%s*=%s*()", i + 1)
    if not key then
      i = v:find(";", i + 1, true)
    else
      local value, after
      if v:sub(start, start) == '"' then
        local buf, j = {}, start + 1
        while j <= #v and v:sub(j, j) ~= '"' do
          if v:sub(j, j) == "\\" then j = j + 1 end
          buf[#buf + 1] = v:sub(j, j)
          j = j + 1
        end
        value, after = table.concat(buf), j + 1
      else
        local e = v:find(";", start, true) or #v + 1
        value, after = v:sub(start, e - 1):match("^(.-)%s*$"), e
      end
      out[key:lower()] = value
      i = v:find(";", after, true)
    end
  end
  if out["filename*"] then
    local enc = out["filename*"]:match("^[Uu][Tt][Ff]%-8'[^']*'(.*)$")
    if enc then out.filename_star = enc:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end) end
  end
  return kind, out
end

local function headers_of(text)
  local h = {}
  for line in (text .. "\r\n"):gmatch("(.-)\r\n") do
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then h[name:lower()] = value end
  end
  return h
end

-- The parts of `body`: an array of { name, filename (nil for a plain field),
-- content_type (nil when the part has none), headers, data }, or nil and why.
function M.parse(body, boundary)
  local delim = "--" .. boundary
  local pos
  if body:sub(1, #delim) == delim then
    pos = #delim + 1
  else -- a preamble before the first boundary is ignored
    local _, e = body:find("\r\n" .. delim, 1, true)
    if not e then return nil, "no boundary in the body" end
    pos = e + 1
  end
  local parts = {}
  while true do
    if body:sub(pos, pos + 1) == "--" then return parts end -- the closing boundary
    local eol = body:find("\r\n", pos, true)
    if not eol or not body:sub(pos, eol - 1):match("^[ \t]*$") then
      return nil, "malformed boundary line"
    end
    local head_start, head = eol + 2, ""
    local data_start
    if body:sub(head_start, head_start + 1) == "\r\n" then
      data_start = head_start + 2 -- a part without headers
    else
      local e = body:find("\r\n\r\n", head_start, true)
      if not e then return nil, "part headers never end" end
      head, data_start = body:sub(head_start, e - 1), e + 4
    end
    local stop = body:find("\r\n" .. delim, data_start, true)
    if not stop then return nil, "no closing boundary" end
    local headers = headers_of(head)
    local kind, params = parameters(headers["content-disposition"] or "")
    if kind ~= "form-data" or not params.name then return nil, "a part is not form-data with a name" end
    parts[#parts + 1] = {
      name = params.name, filename = params.filename_star or params.filename,
      content_type = headers["content-type"], headers = headers,
      data = body:sub(data_start, stop - 1),
    }
    pos = stop + 2 + #delim
  end
end

return M

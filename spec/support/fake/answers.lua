-- How the fake answers: JSON bodies (every answer unless a file is the result), file
-- downloads, and the redirect the upload actions give when asked (`redirect_target`).
-- A handler returns a table for a JSON success, or one of the answers made here.
local store = require "fake.store"

local M = {}

-- Sends a JSON answer. The "chunked" fault sends it in pieces, without Content-Length.
function M.json(status, body)
  local text = store.encode(body)
  ngx.status = status
  ngx.header.content_type = "application/json"
  if ngx.ctx.chunked then
    for i = 1, #text, 64 do ngx.print(text:sub(i, i + 63)); ngx.flush(true) end
  else
    ngx.header.content_length = #text
    ngx.print(text)
  end
end

-- Content-Disposition for a download named `filename` (nil: no header). A name beyond
-- ASCII also gets the RFC 5987 form, filename*=UTF-8''..., after an ASCII fallback
-- (RFC 6266, section 4.3).
function M.disposition(filename)
  if not filename then return nil end
  if filename:find("[\128-\255]") then
    local ascii = filename:gsub("[\128-\255]+", "_"):gsub('["\\]', "_")
    local encoded = filename:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)
    return ('attachment; filename="%s"; filename*=UTF-8\'\'%s'):format(ascii, encoded)
  end
  return ('attachment; filename="%s"'):format((filename:gsub('["\\]', "\\%0")))
end

-- An RFC 7807 problem, as the Raw IoT Data and Eco Fleet APIs answer their errors
-- (data-warehouse-api/README.md, "Errors"; eco-fleet-api/README.md, "Common error
-- types": errors/default/bad-request, errors/default/unauthorized): {type, title,
-- status, detail}.
local TITLE = { [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
                [405] = "Method Not Allowed", [406] = "Not Acceptable", [413] = "Payload Too Large",
                [429] = "Too Many Requests", [500] = "Internal Server Error" }
function M.problem(status, detail)
  local title = TITLE[status] or "Error"
  local body = store.encode{ type = "errors/default/" .. title:lower():gsub(" ", "-"), title = title,
                             status = status, detail = detail }
  ngx.status = status
  ngx.header.content_type = "application/problem+json"
  ngx.header.content_length = #body
  ngx.print(body)
end

local Answer = {}
Answer.__index = Answer

function M.is_answer(v) return getmetatable(v) == Answer end

-- A file download: `body` with its type, Content-Length, and Content-Disposition when
-- `filename` is given.
function M.file(content_type, body, filename)
  return setmetatable({ send = function()
    ngx.status = 200
    ngx.header.content_type = content_type
    ngx.header["Content-Disposition"] = M.disposition(filename)
    ngx.header.content_length = #body
    ngx.print(body)
  end }, Answer)
end

-- 302 to <target>?response=<urlencoded JSON answer>, as the upload actions answer when
-- given redirect_target (e.g. tracking/tracker/avatar.md, panel dealer/settings/image.md).
function M.redirect(target, result)
  result.success = true
  return setmetatable({ send = function()
    local sep = target:find("?", 1, true) and "&" or "?"
    ngx.status = 302
    ngx.header.location = target .. sep .. "response=" .. ngx.escape_uri(store.encode(result))
    ngx.header.content_length = 0
  end }, Answer)
end

return M

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

-- The problem types of the Raw IoT Data and Eco Fleet APIs (eco-fleet-api/README.md,
-- "Common error types": errors/default/bad-request, errors/default/unauthorized).
local PROBLEMS = { [400] = { "bad-request", "Bad Request" }, [401] = { "unauthorized", "Unauthorized" },
  [403] = { "forbidden", "Forbidden" }, [404] = { "not-found", "Not Found" },
  [406] = { "not-acceptable", "Not Acceptable" }, [429] = { "too-many-requests", "Too Many Requests" },
  [500] = { "internal-server-error", "Internal Server Error" } }

-- Sends an RFC 7807 problem, as those APIs answer every error ("Errors are distinguished by
-- HTTP status code (>= 400) and follow RFC 7807"): an API error of the fake's own (code,
-- description, errors[]) becomes {type, title, status, detail}, an ended session a 401.
function M.problem(status, apierr_body)
  local code = apierr_body.status and apierr_body.status.code
  if code == 3 or code == 4 then status = 401 end
  local p = PROBLEMS[status] or PROBLEMS[400]
  local detail = apierr_body.status and apierr_body.status.description or p[2]
  if type(apierr_body.errors) == "table" then
    local list = {}
    for _, e in ipairs(apierr_body.errors) do list[#list + 1] = tostring(e.parameter) .. ": " .. tostring(e.error) end
    detail = table.concat(list, "; ")
  end
  local text = store.encode{ type = "errors/default/" .. p[1], title = p[2], status = status, detail = detail }
  ngx.status = status
  ngx.header.content_type = "application/problem+json"
  ngx.header.content_length = #text
  ngx.print(text)
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

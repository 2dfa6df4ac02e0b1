--- What the navixy command shows of a call for --verbose and --dry-run:
-- the request as the client sends it (method, URL, headers, body) with the
-- hash masked, and each attempt's outcome as the on_request hook reports
-- it. The answer's headers shown are those the client reads (Content-Type,
-- Content-Disposition): the C core keeps no others.
local errors = require "navixy.errors"
local json = require "navixy.json"

local M = {}

local NONE = {}

-- The hash as it may be shown (its first characters at most).
local function shown(hash)
  return hash and errors.masked(hash) or nil
end

--- The lines of the request of `action` with `params`, as a client with
-- the checked settings `s` (navixy.options.client's result) sends it with
-- the hash `hash` (nil: none, or one a login will bring: `login_first`).
-- `get`: sent as a GET. Each line starts with "> ".
function M.lines(s, action, params, hash, get, login_first)
  local base = s.core.url
  local path = action:gsub("^/+", "")
  local hash_shown = shown(hash) or (login_first and "<the hash of the login>") or nil
  local form = get or s.encoding == "form"
  local body = form and json.form(params or NONE) or json.encode(params or NONE)
  local query = ""
  if get then body, query = "", body end
  if hash_shown and (s.auth == "query" or (s.auth == "body" and get)) then
    query = query .. (query == "" and "" or "&") .. "hash=" .. hash_shown
  elseif hash_shown and s.auth == "body" then
    if form then
      body = body .. (body == "" and "" or "&") .. "hash=" .. hash_shown
    else
      body = '{"hash":"' .. hash_shown .. '"' .. (body == "{}" and "}" or "," .. body:sub(2))
    end
  end
  local out = { ("> %s %s/%s%s"):format(get and "GET" or "POST", base, path, query ~= "" and "?" .. query or "") }
  for _, line in ipairs(s.header_lines) do out[#out + 1] = "> " .. line end
  if not get then
    out[#out + 1] = "> Content-Type: " .. (form and "application/x-www-form-urlencoded" or "application/json")
  end
  if hash_shown and s.auth == "header" then out[#out + 1] = "> Authorization: NVX " .. hash_shown end
  out[#out + 1] = ">"
  if body ~= "" then out[#out + 1] = "> " .. body end
  return out
end

--- The line of one attempt, from what the on_request hook reports.
function M.attempt_line(r)
  local outcome
  if r.status then
    outcome = "HTTP " .. r.status
  else
    outcome = tostring(r.kind)
  end
  if r.code then outcome = outcome .. ", API error " .. tostring(r.code) end
  local line = ("< %s: attempt %d: %s"):format(r.action, r.attempt or 0, outcome)
  if r.elapsed then line = line .. (" in %.3f s"):format(r.elapsed) end
  if r.retry_in then line = line .. ("; retrying in %.1f s"):format(r.retry_in) end
  return line
end

--- The lines of the answer's headers the client read (info: the third
-- value of client:call with decode = false).
function M.answer_lines(info)
  local out = {}
  if info and info.content_type then out[#out + 1] = "< Content-Type: " .. info.content_type end
  if info and info.filename then
    out[#out + 1] = ('< Content-Disposition: attachment; filename="%s"'):format(info.filename)
  end
  return out
end

return M

--- Turns what arrived (an HTTP status and a body) into the decoded answer or
-- an error. The API answers errors with 4xx/5xx and a JSON body, so the body
-- is read whatever the status.
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

local function api_error(action, status, obj, secrets)
  local st = type(obj.status) == "table" and obj.status or {}
  local code = tonumber(st.code)
  return errors.new({
    kind = "api",
    code = code,
    description = type(st.description) == "string" and st.description
      or "the API answered success: false",
    status = status,
    action = action,
    response = obj,
  }, secrets)
end

--- Returns the decoded answer, or nil and an error.
-- `secrets` are masked out of error texts (the server might echo them).
function M.interpret(action, status, body, secrets)
  local obj = json.decode_object(body)
  if status >= 200 and status < 300 then
    if not obj then
      return nil, errors.new({
        kind = "decode",
        description = "the answer is not a JSON object",
        status = status, action = action, body = body,
      }, secrets)
    end
    if obj.success == false then return nil, api_error(action, status, obj, secrets) end
    return obj
  end
  if obj and obj.success == false then return nil, api_error(action, status, obj, secrets) end
  return nil, errors.new({
    kind = "http",
    description = http_description(status),
    status = status, action = action,
    response = obj,
    body = not obj and body or nil,
  }, secrets)
end

return M

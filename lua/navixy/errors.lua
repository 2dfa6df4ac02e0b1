--- The error object every failed call returns as its second value.
-- One constructor for all kinds, one `tostring` format.
local M = {}

local Error = {}
Error.__index = Error

--- Longest raw body kept in `err.body`.
M.MAX_BODY = 4096

local function describe_status(err)
  if err.status then return " (HTTP " .. err.status .. ")" end
  return ""
end

function Error:__tostring()
  local what
  if self.kind == "api" then
    what = self.code and "api error " .. tostring(self.code) or "api error"
  elseif self.kind == "timeout" then
    what = "timeout"
  else
    what = self.kind .. " error"
  end
  return "navixy: " .. tostring(self.action) .. ": " .. what .. describe_status(self)
    .. ": " .. tostring(self.description)
end

--- How a secret may be shown: its first 4 characters at most.
function M.masked(secret)
  if #secret > 8 then return secret:sub(1, 4) .. "..." end
  return "****"
end

--- Replaces every occurrence of each secret (plain text) with a masked form.
function M.mask(text, secrets)
  if type(text) ~= "string" or not secrets then return text end
  for _, secret in ipairs(secrets) do
    if #secret > 0 then
      local shown = M.masked(secret)
      local from = 1
      while true do
        local i, j = text:find(secret, from, true)
        if not i then break end
        text = text:sub(1, i - 1) .. shown .. text:sub(j + 1)
        from = i + #shown
      end
    end
  end
  return text
end

--- Builds an error. `fields` holds kind, description and whatever else is
-- known (code, status, action, response, body, phase); `secrets` (optional)
-- are masked out of the texts.
function M.new(fields, secrets)
  fields.description = M.mask(fields.description, secrets)
  if fields.body then
    fields.body = M.mask(fields.body:sub(1, M.MAX_BODY), secrets)
  end
  fields.attempts = fields.attempts or 1
  if fields.retryable == nil then fields.retryable = false end
  return setmetatable(fields, Error)
end

function M.is_error(v)
  return getmetatable(v) == Error
end

return M

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

-- "failed: " .. err and err .. "!" give text, as with LuaSocket's and
-- lua-resty-http's string errors.
function Error.__concat(a, b)
  return tostring(a) .. tostring(b)
end

--- How a hash may be shown: its first 4 characters at most.
function M.masked(secret)
  if #secret > 8 then return secret:sub(1, 4) .. "..." end
  return "****"
end

--- A secret that is never shown even in part (a password), for `secrets`
-- lists; plain strings in those lists are hashes, shown as M.masked does.
function M.hidden(value)
  return { value = value, shown = "****" }
end

local function replace_all(text, secret, shown)
  local i = text:find(secret, 1, true)
  if not i then return text end
  local parts, from = {}, 1
  while i do
    parts[#parts + 1] = text:sub(from, i - 1)
    parts[#parts + 1] = shown
    from = i + #secret
    i = text:find(secret, from, true)
  end
  parts[#parts + 1] = text:sub(from)
  return table.concat(parts)
end

--- Replaces every occurrence of each secret (plain text) with a masked form.
-- A secret is a hash (string) or M.hidden(password).
function M.mask(text, secrets)
  if type(text) ~= "string" or not secrets then return text end
  for _, secret in ipairs(secrets) do
    local value, shown = secret, nil
    if type(secret) == "table" then value, shown = secret.value, secret.shown end
    if type(value) == "string" and #value > 0 then
      text = replace_all(text, value, shown or M.masked(value))
    end
  end
  return text
end

-- Masks, in place, every string key and value of a decoded answer: the
-- server may echo a hash or a password anywhere in it.
local function mask_tree(t, secrets, depth)
  if depth > 200 then return end -- decoded JSON is far shallower
  local renamed
  for k, v in pairs(t) do
    if type(v) == "string" then
      t[k] = M.mask(v, secrets)
    elseif type(v) == "table" then
      mask_tree(v, secrets, depth + 1)
    end
    if type(k) == "string" then
      local mk = M.mask(k, secrets)
      if mk ~= k then
        renamed = renamed or {}
        renamed[k] = mk
      end
    end
  end
  if renamed then -- no new keys while pairs() runs
    for k, mk in pairs(renamed) do
      t[mk], t[k] = t[k], nil
    end
  end
end

--- Builds an error. `fields` holds kind, description and whatever else is
-- known (code, status, action, response, body, phase); `secrets` (optional:
-- a list, or a function returning one, so that a call that succeeds never
-- builds it) are masked out of the texts and of the decoded answer.
function M.new(fields, secrets)
  if type(secrets) == "function" then secrets = secrets() end
  fields.description = M.mask(fields.description, secrets)
  if fields.body then
    -- masked before the cut, so a secret across the cut cannot leave a piece
    fields.body = M.mask(fields.body, secrets):sub(1, M.MAX_BODY)
  end
  if type(fields.response) == "table" and secrets and secrets[1] then
    mask_tree(fields.response, secrets, 0)
  end
  fields.attempts = fields.attempts or 1
  if fields.retryable == nil then fields.retryable = false end
  return setmetatable(fields, Error)
end

function M.is_error(v)
  return getmetatable(v) == Error
end

return M

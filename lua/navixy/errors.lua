--- The error object every failed call returns as its second value.
-- One constructor for all kinds, one `tostring` format.
local core = require "navixy.core"

local unpack = table.unpack or unpack

local M = {}

--- Raises misuse of the library: a message that starts "navixy:" and has no
-- "file:line:" position (API.md), formatted as string.format does.
function M.misuse(fmt, ...)
  error("navixy: " .. string.format(fmt, ...), 0)
end

local Error = {}
Error.__index = Error

--- Longest raw body kept in `err.body`.
M.MAX_BODY = 4096

local function describe_status(err)
  if err.status then return " (HTTP " .. err.status .. ")" end
  return ""
end

-- A call tried more than once says so: a timeout of 2 s that took 6.8 s was
-- three attempts, and the line should not leave the reader to guess.
local function describe_attempts(err)
  local n = tonumber(err.attempts) or 1
  if n > 1 then return " (" .. n .. " attempts)" end
  return ""
end

-- The invalid params an API error 7 lists in response.errors
-- ([{parameter, error}], errors.md): " (from: Wrong date format; ...)", on
-- one line; "" when there are none.
local function invalid_params(err)
  local list = type(err.response) == "table" and err.response.errors
  if type(list) ~= "table" then return "" end
  local parts = {}
  for _, e in ipairs(list) do
    if type(e) == "table" and e.parameter ~= nil then
      parts[#parts + 1] = (tostring(e.parameter) .. ": " .. tostring(e.error or "invalid")):gsub("%c", " ")
    end
  end
  if not parts[1] then return "" end
  return " (" .. table.concat(parts, "; ") .. ")"
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
    .. ": " .. tostring(self.description) .. (self.kind == "api" and invalid_params(self) or "")
    .. describe_attempts(self)
end

-- "failed: " .. err and err .. "!" give text, as with LuaSocket's and
-- lua-resty-http's string errors.
function Error.__concat(a, b)
  return tostring(a) .. tostring(b)
end

--- How a hash may be shown: its first 4 characters at most.
M.masked = core.shown

--- A secret that is never shown even in part (a password), for `secrets`
-- lists; plain strings in those lists are hashes, shown as M.masked does.
function M.hidden(value)
  return { value = value, shown = "****" }
end

--- text with every whole occurrence of each secret, raw, JSON-escaped or
-- percent-encoded, replaced by its shown form (core.mask: a secret inside a
-- longer word is not an occurrence, so "status" survives the hash "s").
-- A secret is a hash (string) or M.hidden(password).
function M.mask(text, secrets)
  if type(text) ~= "string" or not secrets or not secrets[1] then return text end
  local args = {}
  for _, secret in ipairs(secrets) do
    local value, shown = secret, nil
    if type(secret) == "table" then value, shown = secret.value, secret.shown end
    if type(value) == "string" and value ~= "" then
      args[#args + 1] = value
      args[#args + 1] = shown or M.masked(value)
    end
  end
  if not args[1] then return text end
  return core.mask(text, unpack(args))
end

-- Masks, in place, every string of a decoded answer, keys and values, at
-- any depth (the server may echo a hash or a password anywhere in it). Only
-- whole occurrences change (see M.mask): "status" stays "status" whatever
-- the secret, so the answer keeps its shape.
local function mask_tree(root, secrets)
  local stack, seen = { root }, { [root] = true }
  while #stack > 0 do
    local t = table.remove(stack)
    local renamed
    for k, v in pairs(t) do
      if type(v) == "string" then
        local masked = M.mask(v, secrets)
        if masked ~= v then t[k] = masked end -- an existing key: no new one while pairs() runs
      elseif type(v) == "table" and not seen[v] then
        seen[v] = true
        stack[#stack + 1] = v
      end
      if type(k) == "string" then
        local mk = M.mask(k, secrets)
        if mk ~= k then
          renamed = renamed or {}
          renamed[k] = mk
        end
      end
    end
    for k, mk in pairs(renamed or {}) do -- after pairs(): a new key meanwhile is undefined behaviour
      t[mk], t[k] = t[k], nil
    end
  end
end

-- Kinds whose description is the server's text (and may echo the request);
-- the others are the client's own words about the connection.
local SERVER_TEXT = { api = true, http = true, decode = true }

--- Builds an error. `fields` holds kind, description and whatever else is
-- known (code, status, action, response, body, phase); `secrets` (optional:
-- a list, or a function returning one, so that a call that succeeds never
-- builds it) are masked out of the server's texts and of the decoded answer.
function M.new(fields, secrets)
  if type(secrets) == "function" then secrets = secrets() end
  if SERVER_TEXT[fields.kind] then fields.description = M.mask(fields.description, secrets) end
  if fields.body then
    -- masked before the cut, so a secret across the cut cannot leave a piece
    fields.body = M.mask(fields.body, secrets):sub(1, M.MAX_BODY)
  end
  if type(fields.response) == "table" and secrets and secrets[1] then
    mask_tree(fields.response, secrets)
  end
  fields.attempts = fields.attempts or 1
  if fields.retryable == nil then fields.retryable = false end
  return setmetatable(fields, Error)
end

function M.is_error(v)
  return getmetatable(v) == Error
end

return M

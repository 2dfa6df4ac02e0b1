--- client:rotate_key{ title = } and client:renew_session(): the session
-- chores of commons/api-keys.md and commons/user/session/index.md.
--
-- Rotation, as the authentication page advises (one key per integration,
-- replaced without a gap): api/key/create with a login session (an API key
-- may not make or delete keys: error 4), the client switches to the new key,
-- then api/key/delete removes the old one with the same session, which is
-- ended (user/logout) once done. The session is a client of its own, made
-- with the same options and the login and password: it shares nothing with
-- this client or its store, so other workers keep their session.
local errors = require "navixy.errors"

local type = type

local M = {}

local fail = errors.misuse

local OPTS = { title = true, login = true, password = true }

--- Rotates `client`'s API key; `login_client(login, password)` makes the
-- session client. Returns the new key's hash, or nil, err. When only the
-- deletion of the old key fails, the client already uses the new one
-- (client:get_hash()) and err says the old one is left.
function M.rotate(client, opts, login_client, default_login, default_password)
  if type(opts) ~= "table" then fail("client:rotate_key{ title = ... } expects a table, got %s", type(opts)) end
  for k, v in pairs(opts) do
    if not OPTS[k] then fail("unknown client:rotate_key option '%s'", tostring(k)) end
    if type(v) ~= "string" or v == "" then fail("client:rotate_key option '%s' must be a non-empty string", k) end
  end
  if not opts.title then fail("client:rotate_key needs a title for the new key") end
  local old = client:get_hash()
  if not old then fail("client:rotate_key: the client holds no API key to replace") end
  local login, password = opts.login or default_login, opts.password or default_password
  if not login or not password then
    fail("client:rotate_key needs login and password (here or in navixy.new): only a login session makes API keys")
  end
  local session = login_client(login, password)
  local res, err = session:call("api/key/create", { title = opts.title })
  local new = res and type(res.value) == "table" and res.value.hash
  if res and type(new) ~= "string" then
    err = errors.new({ kind = "decode", action = "api/key/create", description = "the answer has no value.hash" })
  end
  if err then
    session:logout()
    session:close()
    return nil, err
  end
  client:set_hash(new)
  local ok, derr = session:call("api/key/delete", { key = old })
  session:logout()
  session:close()
  if not ok then
    derr.description = tostring(derr.description) .. " (the client uses the new key; the old one is left)"
    return nil, derr
  end
  return new
end

--- user/session/renew: true, or nil, err (an API key cannot be renewed).
function M.renew(client)
  local res, err = client:call("user/session/renew")
  if not res then return nil, err end
  return true
end

return M

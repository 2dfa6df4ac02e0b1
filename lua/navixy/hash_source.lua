--- Where a client's hash comes from: its `source`, which navixy.session
-- logs in with. A source names its action, the account whose session it
-- gets (clients of one account share it through their store), and fetches
-- a hash through navixy.call: fetch(st, t) -> res, err, job.
local call = require "navixy.call"
local errors = require "navixy.errors"
local json = require "navixy.json"
local rules = require "navixy.store.rules"
local session = require "navixy.session"

local M = {}

--- `action` (user/auth, or account/auth below a panel client's base URL)
-- with the client's login and password (and the login options dealer_id,
-- app_key), sent without a hash.
function M.password(action)
  return {
    action = action,
    account = function(st) return (st.panel and "panel:" or "user:") .. st.login end,
    fetch = function(st, t)
      return call.sessionless(st, t, action, { login = st.login, password = st.password,
        dealer_id = st.options.dealer_id, app_key = st.options.app_key }, true)
    end,
  }
end

--- `action` with `params` called through another client's session `owner`
-- (its own hash, login and re-login), on its own transport. A panel's
-- user/session/create is one: the hash it answers is for the user API, and
-- the two sessions never share a hash. `what` names the owner in the error
-- raised once it is closed.
function M.delegated(owner, action, params, what)
  return {
    action = action,
    -- the account is the owner's, through this action and these params
    account = function()
      local of_owner = session.account(owner)
      return of_owner and of_owner .. " " .. action .. " " .. json.encode(params)
    end,
    fetch = function()
      if owner.closed then errors.misuse("the %s this client gets its session from is closed", what) end
      local job = call.job(owner, action, params)
      local res, err = call.run(owner, job, owner.transport)
      return res, err, job
    end,
  }
end

--- The session of another client, `owner`: the sibling APIs on the same
-- host (/dwh/v1, /eco_fleet) take the user's hash. The hash is the owner's;
-- when the one that ended here is the owner's own, the owner logs in again
-- first (once for both: its own store decides).
function M.shared(owner)
  return {
    action = owner.login_action,
    account = function()
      local of_owner = session.account(owner)
      return of_owner and "shared " .. of_owner
    end,
    fetch = function(st)
      if owner.closed then errors.misuse("the client this one shares its session with is closed") end
      local t = owner.transport
      if not owner.hash or owner.hash == st.hash then
        local ok, err = session.login(owner, t, t:now() + owner.timeout, owner.hash or rules.NONE)
        if not ok then return nil, err, {} end
      end
      return { hash = owner.hash }, nil, {}
    end,
  }
end

return M

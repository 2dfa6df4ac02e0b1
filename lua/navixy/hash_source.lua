--- Where a client's hash comes from: its `source`, which navixy.session
-- logs in with. A source names its action, the account whose session it
-- gets (clients of one account share it through their store), and fetches
-- a hash through navixy.call: fetch(st, t) -> res, err, job.
local call = require "navixy.call"
local errors = require "navixy.errors"
local json = require "navixy.json"
local session = require "navixy.session"

local M = {}

--- `action` (user/auth, or account/auth below a panel client's base URL)
-- with the client's login and password, sent without a hash.
function M.password(action)
  return {
    action = action,
    account = function(st) return (st.panel and "panel:" or "user:") .. st.login end,
    fetch = function(st, t)
      return call.sessionless(st, t, action, { login = st.login, password = st.password }, true)
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

return M

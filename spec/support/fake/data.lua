-- The fake's fixed, deterministic data: users, trackers, Admin Panel accounts. Specs
-- see the same values through spec/support/fake.lua.
local M = {}

M.API_KEY = "a6aa75587e5c59c32d347da438505fc3" -- the demo user's fixed, never-expiring key
M.CODE = "123456"                              -- the 2FA confirmation code

-- time_zone is what user/get_info reports and what plain dates are read and written in
-- (it can be changed by POST /_fake/settings {time_zone}).
M.USERS = {
  { id = 1, login = "demo@example.com", password = "demo-pass", name = "Demo User",
    first_name = "Demo", last_name = "User", dealer_id = 20410 },
  { id = 2, login = "2fa@example.com", password = "2fa-pass", name = "2FA User", factor = "email",
    first_name = "Second", last_name = "Factor", dealer_id = 20410 },
}
M.TIME_ZONE = "Europe/Berlin"

function M.user_by_id(uid)
  for _, u in ipairs(M.USERS) do if u.id == uid then return u end end
end

function M.user_by_login(login)
  for _, u in ipairs(M.USERS) do if u.login == login then return u end end
end

M.TRACKERS = {
  { id = 1, label = "Truck 1", model = "telfmb920", blocked = false, phone = "+491700000001" },
  { id = 2, label = "Van 2", model = "qlgv300", blocked = false, phone = "+491700000002" },
  { id = 3, label = "Car 3", model = "telfmb920", blocked = true, phone = "+491700000003" },
}
local SYNTH_MIN, SYNTH_MAX = 1000, 1000000 -- synthetic trackers: they exist, not in tracker/list

function M.tracker_exists(id)
  return (id >= 1 and id <= #M.TRACKERS) or (id >= SYNTH_MIN and id <= SYNTH_MAX)
end

function M.tracker_blocked(id) return M.TRACKERS[id] ~= nil and M.TRACKERS[id].blocked end

function M.tracker_label(id)
  return M.TRACKERS[id] and M.TRACKERS[id].label or ("Tracker " .. id)
end

-- Admin Panel accounts (api-docs/platform-api/panel-api/authentication.md): the login is
-- the numeric panel ID; the permissions are the documented categories. 20412 is a
-- technical account without user_sessions (panel/user/session/create answers 13);
-- 20413 is a blocked dealer (panel/account/auth answers 11).
local FULL = {
  base = { "get_dealer_info" }, users = { "corrupt", "create", "read", "update", "delete" },
  user_sessions = { "create" }, trackers = { "corrupt", "create", "delete", "global", "read", "report", "update" },
  tariffs = { "create", "read", "update" }, transactions = { "create", "read", "update" },
  service_settings = { "read", "update" }, notification_settings = { "read", "update" },
  accounting = { "generate" },
}
local TECHNICAL = { base = { "get_dealer_info" }, users = { "create", "read", "update" },
  trackers = { "create", "read", "update" } }

M.PANELS = {
  ["20410"] = { id = 20410, password = "panel-pass", title = "Navixy Demo", permissions = FULL },
  ["20412"] = { id = 20412, password = "tech-pass", title = "Navixy Demo (technical)", permissions = TECHNICAL },
  ["20413"] = { id = 20413, password = "blocked-pass", title = "Blocked Dealer", permissions = FULL, blocked = true },
}

-- The users and trackers of a dealer (all fixed users belong to 20410; 20412 is a
-- technical account of the same dealer).
function M.dealer_of(panel) return panel.id == 20412 and 20410 or panel.id end

return M

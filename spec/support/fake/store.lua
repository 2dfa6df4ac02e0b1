-- State of the fake Navixy server. Everything lives in one lua_shared_dict so that all
-- nginx workers (2, or NAVIXY_FAKE_WORKERS) see the same sessions, keys, faults, recorded
-- requests and counters, whichever worker and client process a request comes from.
-- Keys in the dict:
--   sess:<hash>      JSON {uid, interim}        session and interim (2FA) hashes
--   key:<hash>       JSON {hash, title, create_date, uid, seq}   API keys made by api/key/create
--   req:<n>, req_seq recorded requests (JSON text), the last KEEP of them
--   fault:<n>, fault_left:<n>, faults (JSON array of <n>)   queued faults
--   psess:<hash>     JSON {panel, dealer}      Admin Panel sessions (24 h: the dict expires them)
--   c:logins, c:panel_logins, c:rate_limited, c:requests, act:<action>   counters
--   epoch, in_flight:<e>, lvl:<e>:<n>   requests being handled now (see enter())
--   settings         JSON, see M.DEFAULTS      what the controls changed
--   keys of their own: events (history.lua), report:<id>, report_seq, reports_running:<uid> (files.lua),
--   resend:<uid> (account.lua), rl_* (ratelimit.lua), pending:<conn>:<n> (stream.lua),
--   zone_seq (uploads.lua)
local cjson = require "cjson.safe"
local data = require "fake.data"

local dict = ngx.shared.navixy_fake
local M = { dict = dict }

local KEEP = 1000 -- recorded requests kept
-- A recorded body is cut to this many bytes (body_size has the whole size): uploads of
-- many megabytes must not push sessions and faults out of the shared dict.
local BODY_KEEP = 64 * 1024

-- Lua-cjson 2.1.0 (Debian's, not OpenResty's fork) has no empty-array marker, and encodes
-- an empty table as {}. Handlers put M.EMPTY_ARRAY where a JSON [] is wanted; encode()
-- swaps the placeholder string for [] afterwards.
M.EMPTY_ARRAY = "\1fake-empty-array\1"
local EMPTY_PATTERN = cjson.encode(M.EMPTY_ARRAY):gsub("%p", "%%%0") -- quoted, escaped

function M.encode(v)
  local s = assert(cjson.encode(v))
  return (s:gsub(EMPTY_PATTERN, "[]"))
end

-- A list that encodes as a JSON array, even when it is empty.
function M.array(t)
  if t == nil or next(t) == nil then return M.EMPTY_ARRAY end
  return t
end

function M.new_hash()
  local t = {}
  for i = 1, 32 do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end

local function get_json(key)
  local v = dict:get(key)
  return v and cjson.decode(v)
end
M.get_json = get_json

function M.set_json(key, v, exptime) dict:set(key, M.encode(v), exptime or 0) end

-- Deletes every key whose name starts with one of the prefixes.
local function delete_prefixed(prefixes)
  local n = 0
  for _, k in ipairs(dict:get_keys(0)) do
    for _, p in ipairs(prefixes) do
      if k:sub(1, #p) == p then dict:delete(k); n = n + 1; break end
    end
  end
  return n
end

---------------------------------------------------------------- sessions and API keys

-- Every session hash and API key handed out is appended to
-- RUNDIR/issued-secrets.txt (never cleared by reset), so that
-- spec/support/check-secrets can look for them in whatever the suite printed.
local function remember_secret(h)
  local f = io.open(ngx.config.prefix() .. "issued-secrets.txt", "a")
  if f then
    f:write(h, "\n")
    f:close()
  end
end

function M.session_new(uid, interim)
  local h = M.new_hash()
  dict:set("sess:" .. h, cjson.encode{ uid = uid, interim = interim or false })
  remember_secret(h)
  return h
end

function M.session_get(h) return get_json("sess:" .. h) end
function M.session_end(h) dict:delete("sess:" .. h) end
function M.expire_sessions() return delete_prefixed{ "sess:" } end

-- Admin Panel sessions live 24 hours from their creation, whatever their use, and cannot
-- be renewed (api-docs/platform-api/panel-api/authentication.md, "Session lifespan").
M.PANEL_SESSION_SECONDS = 24 * 3600

function M.panel_session_new(panel)
  local h = M.new_hash()
  dict:set("psess:" .. h, cjson.encode{ panel = tostring(panel.id), dealer = data.dealer_of(panel) },
    M.PANEL_SESSION_SECONDS)
  remember_secret(h)
  return h
end

function M.panel_session_get(h) return get_json("psess:" .. h) end
function M.panel_session_end(h) dict:delete("psess:" .. h) end
function M.expire_panel_sessions() return delete_prefixed{ "psess:" } end

function M.key_get(h) return get_json("key:" .. h) end
function M.key_delete(h) dict:delete("key:" .. h) end

function M.key_add(rec)
  remember_secret(rec.hash)
  rec.seq = dict:incr("key_seq", 1, 0)
  dict:set("key:" .. rec.hash, cjson.encode(rec))
end

-- The API keys of a user, oldest first.
function M.keys_of(uid)
  local list = {}
  for _, k in ipairs(dict:get_keys(0)) do
    if k:sub(1, 4) == "key:" then
      local rec = get_json(k)
      if rec and rec.uid == uid then list[#list + 1] = rec end
    end
  end
  table.sort(list, function(a, b) return a.seq < b.seq end)
  return list
end

---------------------------------------------------------------- recording and counters

function M.count(name) dict:incr("c:" .. name, 1, 0) end

-- Called once at the start of every API request; returns nothing.
function M.record(entry)
  local n = dict:incr("req_seq", 1, 0)
  local body = entry.body or ""
  entry.body_size = #body
  if #body > BODY_KEEP then entry.body, entry.body_truncated = body:sub(1, BODY_KEEP), true end
  dict:set("req:" .. n, M.encode(entry))
  dict:delete("req:" .. (n - KEEP))
  M.count("requests")
  dict:incr("act:" .. (entry.action or ""), 1, 0)
  if entry.action == "user/auth" then M.count("logins") end
  if entry.action == "panel/account/auth" then M.count("panel_logins") end
end

-- The recorded requests as JSON array text (each was stored as JSON), oldest first;
-- only the last `last` of them when given.
function M.requests_json(last)
  local n = dict:get("req_seq") or 0
  local first = math.max(1, n - KEEP + 1)
  if last then first = math.max(first, n - last + 1) end
  local out = {}
  for i = first, n do
    local v = dict:get("req:" .. i)
    if v then out[#out + 1] = v end -- a gap only while another worker is mid-record
  end
  return "[" .. table.concat(out, ",") .. "]"
end

-- In-flight accounting. There is no compare-and-set in a shared dict, so the maximum is
-- kept as a set of levels: the counter moves one step at a time, so every level from 1 to
-- the maximum gets its flag, and the maximum is the first level without one, minus one.
-- Counters belong to an epoch that reset() moves on, so a request still sleeping from an
-- earlier test (a client timed out on it) does not count in the next test's numbers.
-- enter() returns the epoch; pass it back to leave().
function M.enter()
  local epoch = dict:get("epoch") or 0
  local n = dict:incr("in_flight:" .. epoch, 1, 0)
  dict:set("lvl:" .. epoch .. ":" .. n, true)
  return epoch
end

function M.leave(epoch) dict:incr("in_flight:" .. epoch, -1, 0) end

function M.stats()
  local by_action = {}
  for _, k in ipairs(dict:get_keys(0)) do
    if k:sub(1, 4) == "act:" then by_action[k:sub(5)] = dict:get(k) end
  end
  local epoch = dict:get("epoch") or 0
  local max = 0
  while dict:get("lvl:" .. epoch .. ":" .. (max + 1)) do max = max + 1 end
  return {
    logins = dict:get("c:logins") or 0,
    panel_logins = dict:get("c:panel_logins") or 0,
    rate_limited = dict:get("c:rate_limited") or 0,
    requests = dict:get("c:requests") or 0,
    by_action = by_action,
    max_in_flight = max,
    in_flight = dict:get("in_flight:" .. epoch) or 0,
  }
end

---------------------------------------------------------------- faults

-- Faults are queued in the order they were added; each one has an atomic counter of the
-- requests it still applies to, so two workers never both take the last one.
function M.fault_add(spec)
  local id = dict:incr("fault_seq", 1, 0)
  dict:set("fault:" .. id, cjson.encode(spec))
  dict:set("fault_left:" .. id, tonumber(spec.times) or 1)
  local ids = get_json("faults") or {}
  ids[#ids + 1] = id
  dict:set("faults", cjson.encode(ids))
  return id
end

-- Takes the first queued fault for this action (or for "*"), or returns nil.
function M.fault_take(action)
  local ids = get_json("faults")
  if not ids then return nil end
  for _, id in ipairs(ids) do
    local spec = get_json("fault:" .. id)
    if spec and (spec.action == action or spec.action == "*") then
      local left = dict:incr("fault_left:" .. id, -1, 0)
      if left and left >= 0 then return spec end
    end
  end
end

---------------------------------------------------------------- settings

-- What the controls can change, as reset() leaves it. platform holds the fields of
-- dealer/get_ui_config's `platform` object under their documented (dotted) names
-- (api-docs/platform-api/user-api/backend-api/resources/commons/dealer.md).
M.DEFAULTS = {
  time_zone = data.TIME_ZONE,   -- of every fixed user: plain dates are read and written in it
  history_bounds = "[)",        -- history/tracker/list window: "[)" from <= t < to, "[]" both ends
  resend_timeout = 300,         -- seconds between two user/auth/code/resend (264 within)
  rate_limit = false,           -- N: at most N requests in any one-second window per account
  rate_log = false,             -- true: log arrivals per account even with the limit off
  rate_window = 1,              -- seconds of the rate limit's window (a spec may shorten it)
  store_period = false,         -- an ISO 8601 duration: track/download before now - it is beyond storage
  report_seconds = false,       -- S: a generated report is ready S seconds after generate (else: 2nd status)
  reports_at_once = 3,          -- reports a user may have in generation at a time (15 beyond)
  platform = {
    iso_datetime_support = true,
    ["history.max_limit"] = 1000,
    ["report.max_time_span"] = "P31D",
    ["stats.max_allowed_trackers"] = 128,
    ["stats.max_time_span"] = "P31D",
    ["file_storage.hard_max_file_size"] = 16777216,
    ["form.max_fields_count"] = 128,
    ["form.file_field.max_file_size"] = 16777216,
    ["form.file_field.max_files_per_field"] = 6,
    ["form.file_field.max_count"] = 16,
  },
}

-- The settings now: the defaults with what the controls changed.
function M.settings()
  local changed = get_json("settings") or {}
  local s = {}
  for k, v in pairs(M.DEFAULTS) do s[k] = v end
  for k, v in pairs(changed) do s[k] = v end
  s.platform = {}
  for k, v in pairs(M.DEFAULTS.platform) do s.platform[k] = v end
  for k, v in pairs(changed.platform or {}) do s.platform[k] = v end
  return s
end

-- Merges `changes` into the changed settings (platform fields one by one). Not atomic
-- across workers: controls are called by one spec at a time.
function M.change_settings(changes)
  local changed = get_json("settings") or {}
  for k, v in pairs(changes) do
    if k == "platform" then
      changed.platform = changed.platform or {}
      for pk, pv in pairs(v) do changed.platform[pk] = pv end
    else
      changed[k] = v
    end
  end
  dict:set("settings", cjson.encode(changed))
end

---------------------------------------------------------------- reset

-- Clears everything but the epoch, which moves on (see enter()).
function M.reset()
  for _, k in ipairs(dict:get_keys(0)) do
    if k ~= "epoch" then dict:delete(k) end
  end
  dict:incr("epoch", 1, 0)
end

return M

--- What every store does to its records: the sliding window of the rate
-- limit and the session record with its login lock. Each store only loads a
-- record, calls one function here and saves the record, atomically in its
-- own way (a table in this process, a lua_shared_dict under a lock, an EVAL
-- script in Redis), so that the three cannot drift apart.
--
-- This file is also sent to Redis as part of its script (navixy.store.redis):
-- it is plain Lua 5.1 with no require, no globals but string, table, math,
-- type, tonumber, pairs and ipairs, and nothing Redis's script sandbox forbids.
-- Times are seconds on the store's own clock, passed in as `now`.
local M = {}

M.ANY = "*"  -- `ended` of an explicit login: every hash ended, log in whatever the record holds
M.NONE = ""  -- `ended` of a first login: any hash in the record will do

-- A client that has asked for no slot in this long no longer counts among
-- those sharing a rate (see reserve's second result).
M.MEMBER_TTL = 5

---------------------------------------------------------------- the rate limit

--- A new, empty rate record: `times` the slots given out (ascending),
-- `members` the clients that asked lately (id -> when).
function M.new_rate()
  return { times = {}, members = {} }
end

-- How many of the ascending `times` are at most `t` (a binary search).
local function count_upto(times, t)
  local lo, hi = 1, #times + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if times[mid] <= t then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end

-- Times one window apart are compared with this much slack: the shared
-- stores keep times to the microsecond, so a slot placed one window after
-- another may come back a rounding off, and must still count as out of the
-- other's window (the margin of navixy.ratelimit dwarfs it).
M.SLACK = 1e-5

-- Whether one more slot at `t` keeps every window holding it under `limit`.
-- The fullest such window ends at t or at a slot less than a window after it.
local function fits(times, t, limit, window)
  local ends = { t }
  for i = count_upto(times, t) + 1, #times do
    if times[i] >= t + window then break end
    ends[#ends + 1] = times[i]
  end
  for _, e in ipairs(ends) do
    if count_upto(times, e) - count_upto(times, e - window + M.SLACK) >= limit then return false end
  end
  return true
end

-- The earliest time from `now` at which one more slot fits: now, or when a
-- slot leaves a window.
local function earliest_fit(times, now, limit, window)
  local candidates = { now }
  for i = 1, #times do
    if times[i] + window > now then candidates[#candidates + 1] = times[i] + window end
  end
  table.sort(candidates)
  for _, t in ipairs(candidates) do
    if fits(times, t, limit, window) then return t end
  end
  return candidates[#candidates] -- (the last always fits: every slot has left by then)
end

-- The slots of `old` that still constrain anybody at `now`, ascending. Slots
-- ahead of now are a queue: each was placed at most one window after the one
-- before it (or after now), so the k-th ahead lies at most k windows ahead.
-- One beyond that was dated by another clock (Redis's, stepped back since) or
-- by hand: it counts as a slot given now, so that nobody waits for it more
-- than a window. (Clients sharing a record with different windows below one
-- request a second may see the longer window's slots pulled back: a slot
-- early by the difference, never a wait of an hour.)
local function current(old, now, window)
  local times, ahead = {}, 0
  for i = 1, #old do
    local t = old[i]
    if t > now then
      if t > now + (ahead + 1) * window + M.SLACK then t = now else ahead = ahead + 1 end
    end
    if t > now - window then times[#times + 1] = t end
  end
  table.sort(times)
  return times
end

--- Reserves the next slot for one request of client `member`: at most
-- `limit` slots in any `window` seconds, for every client of the record
-- whatever its own limit. Slots are handed out in order and may lie ahead
-- (the caller waits for its slot), so concurrent callers queue instead of
-- polling. Slots are at least a half window's share apart
-- (window / (2 × limit)): a burst of `limit` requests at once would reach
-- the server's limiter over however long its own queue takes, which is how
-- two bursts one window apart come to look closer than that; spaced ones
-- arrive as sent. An `urgent` slot (a login, which every other call of the account
-- waits for) goes before the queue, in the earliest place where it fits:
-- callers that may need one keep a place in each window free for it (their
-- `limit` is one less). A slot more than `max_wait` seconds away (when
-- given: the time the caller has left) is not taken: the caller gives up, and
-- those after it do not queue behind a request never sent. Returns the
-- seconds to wait (0: now) and how many clients asked for slots lately.
function M.reserve(rate, now, member, limit, window, urgent, max_wait)
  local times = current(rate.times, now, window)
  local n, at = #times, now
  if urgent then
    at = earliest_fit(times, now, limit, window)
  else
    if n > 0 and times[n] + window / (2 * limit) > at then at = times[n] + window / (2 * limit) end
    if n >= limit and times[n - limit + 1] + window > at then at = times[n - limit + 1] + window end
  end
  if not max_wait or at - now <= max_wait then table.insert(times, count_upto(times, at) + 1, at) end
  rate.times = times
  local members, count = {}, 0
  rate.members[member] = now
  for id, seen in pairs(rate.members) do
    if seen > now - M.MEMBER_TTL then members[id], count = seen, count + 1 end
  end
  rate.members = members
  return at - now, count
end

--- Notes a slot given elsewhere, at `at`, without asking anything of it
-- (see navixy.store.fallback: a client's own record of its shared slots).
function M.note(rate, at)
  table.insert(rate.times, count_upto(rate.times, at) + 1, at)
end

--- Seconds after which a rate record holds nothing that matters.
function M.rate_ttl(rate, now)
  local last = rate.times[#rate.times] or now -- (the latest: they are ascending)
  return math.max(last - now, 0) + M.MEMBER_TTL + 1
end

---------------------------------------------------------------- the session

-- The session record, one per base URL and account, all fields optional:
--   hash, replaced         the session hash, and the hash it replaced
--   owner, lock_until      who is logging in now, and until when that lock holds
--   attempt                logins started so far (a waiter tells the one it
--                          waited for from later ones)
--   err_attempt, err_kind, err_code, err_status, err_action, err_description
--                          the last failed login, by attempt number
--   refused_until          that failure is a refusal, remembered until then
-- The password is never part of it.
local NUMBERS = { lock_until = true, attempt = true, err_attempt = true, err_code = true,
                  err_status = true, refused_until = true }

--- Decides what a caller that needs a session does, and takes the login
-- lock for it when it is the one to log in. `ended` is the hash its request
-- failed with (codes 3 and 4), M.NONE for a first login, M.ANY for an
-- explicit one. `takeover` is an owner whose lock the caller may break (a
-- login that cannot finish), `waited` the attempt it waited for. Verdicts:
--   "adopt"    the record holds a hash other than the ended one: use it
--   "refused"  a refused login is remembered: return its error
--   "failed"   the login waited for failed: return its error
--   "wait"     another owner is logging in: look again a little later
--   "login"    the caller holds the lock until now + ttl: log in, then settle
function M.claim(rec, now, owner, ended, ttl, takeover, waited)
  if ended ~= M.ANY then
    if rec.hash and rec.hash ~= ended then return "adopt" end
    if rec.refused_until and now < rec.refused_until then return "refused" end
  end
  if waited and rec.err_attempt == waited then return "failed" end
  if rec.owner and rec.owner ~= owner and rec.owner ~= takeover and now < rec.lock_until then
    return "wait"
  end
  rec.owner, rec.lock_until = owner, now + ttl
  rec.attempt = (rec.attempt or 0) + 1
  return "login"
end

local function clear_failure(rec)
  rec.err_attempt, rec.err_kind, rec.err_code, rec.err_status = nil, nil, nil, nil
  rec.err_action, rec.err_description, rec.refused_until = nil, nil, nil
end

--- Records what came of a login (or of a hash given up) and releases the
-- lock when `owner` holds it. `change`, any of:
--   hash = h          a new session: h replaces the record's hash
--   retire = h        h was logged out: the record forgets it if it holds it
--   err_kind = ...    the login failed (err_code, err_status, err_action,
--                     err_description too); refused_for = seconds: a
--                     refusal, remembered that long
--   forget = true     forget a refused or failed login
function M.settle(rec, now, owner, change)
  if change.hash then
    if rec.hash ~= change.hash then rec.replaced = rec.hash end
    rec.hash = change.hash
    clear_failure(rec)
  end
  if change.retire and rec.hash == change.retire then
    rec.replaced, rec.hash = rec.hash, nil
  end
  if change.err_kind then
    rec.err_attempt, rec.err_kind, rec.err_code = rec.attempt, change.err_kind, change.err_code
    rec.err_status, rec.err_action = change.err_status, change.err_action
    rec.err_description = change.err_description
    rec.refused_until = change.refused_for and now + change.refused_for or nil
  end
  if change.forget then clear_failure(rec) end
  if owner and rec.owner == owner then rec.owner, rec.lock_until = nil, nil end
end

---------------------------------------------------------------- text forms

-- Records travel as text to the stores that keep bytes (a shared dict,
-- Redis): one "name value" line a field, with \, newline and tab escaped.
local ESCAPES = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
local UNESCAPES = { ["\\\\"] = "\\", ["\\n"] = "\n", ["\\t"] = "\t" }

local function number_text(v)
  if v == math.huge then return "inf" end
  return string.format("%.17g", v)
end

local function text_number(s)
  if s == "inf" then return math.huge end
  return tonumber(s)
end

--- A session record (or a change for settle) as text, and back.
function M.pack(rec)
  local out = {}
  for name, v in pairs(rec) do
    if type(v) == "number" then v = number_text(v) end
    if type(v) == "boolean" then v = v and "true" or nil end
    if v then out[#out + 1] = name .. "\t" .. string.gsub(v, "[\\\n\t]", ESCAPES) end
  end
  table.sort(out)
  return table.concat(out, "\n")
end

function M.unpack(text)
  local rec = {}
  for name, v in string.gmatch(text or "", "([%w_]+)\t([^\n]*)") do
    v = string.gsub(v, "\\.", UNESCAPES)
    if NUMBERS[name] or name == "refused_for" then v = text_number(v)
    elseif name == "forget" then v = v == "true" end
    rec[name] = v
  end
  return rec
end

--- A rate record as text ("t1 t2 ...", then "member time" lines), and back.
function M.pack_rate(rate)
  local out = {}
  for i = 1, #rate.times do out[i] = string.format("%.6f", rate.times[i]) end
  local lines = { table.concat(out, " ") }
  for id, seen in pairs(rate.members) do lines[#lines + 1] = id .. " " .. string.format("%.6f", seen) end
  return table.concat(lines, "\n")
end

function M.unpack_rate(text)
  local rate = M.new_rate()
  if not text or text == "" then return rate end
  local first = string.find(text, "\n", 1, true)
  local times = first and string.sub(text, 1, first - 1) or text
  for t in string.gmatch(times, "%S+") do rate.times[#rate.times + 1] = tonumber(t) end
  if first then
    for id, seen in string.gmatch(string.sub(text, first + 1), "(%S+) (%S+)") do
      rate.members[id] = tonumber(seen)
    end
  end
  return rate
end

return M

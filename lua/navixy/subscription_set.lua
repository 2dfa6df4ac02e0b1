--- What a subscription is subscribed to now: the requests of every
-- subscribe, less those of every unsubscribe, kept per event type as the
-- server keeps them (subscription.md), so that a new connection can be given
-- the current set in one subscribe message. Also the check of requests:
-- what this module cannot follow raises before anything is sent.
--
-- Request shapes (Navixy docs, websocket/subscription.md):
--   { type = "state", trackers = { ids } }
--   { type = "state_batch"|"readings_batch"|"iot_monitor",
--     target = { type = "all" } | { type = "selected", tracker_ids = { ids } },
--     rate_limit = "5s", format = "full"|"compact" }
-- A type this module does not know is kept as it was given, and an
-- unsubscribe of that type removes it.
local errors = require "navixy.errors"
local json = require "navixy.json"

local M = {}

local TARGETED = { state_batch = true, readings_batch = true, iot_monitor = true }

local fail = errors.misuse

local function check_ids(ids, where)
  if type(ids) ~= "table" or ids[1] == nil then fail("%s must be a non-empty array of tracker ids", where) end
  for k, id in pairs(ids) do
    if type(k) ~= "number" or type(id) ~= "number" or id ~= math.floor(id) or id < 1 or id >= 2 ^ 53 then
      fail("%s must be a non-empty array of tracker ids (whole numbers)", where)
    end
  end
end

--- Raises unless `requests` is a non-empty array of requests this module
-- can follow; `what` names the method for the message.
function M.check(requests, what)
  if type(requests) ~= "table" or requests[1] == nil then
    fail("%s expects a non-empty array of requests, e.g. { { type = \"state_batch\", "
      .. "target = { type = \"all\" } } }", what)
  end
  for i, r in ipairs(requests) do
    local at = ("%s: request %d"):format(what, i)
    if type(r) ~= "table" or type(r.type) ~= "string" or r.type == "" then
      fail("%s must be a table with a type (\"state\", \"state_batch\", ...)", at)
    end
    if r.type == "state" then
      check_ids(r.trackers, at .. ": trackers")
    elseif TARGETED[r.type] then
      local target = r.target
      if type(target) ~= "table" or (target.type ~= "all" and target.type ~= "selected") then
        fail("%s: target must be { type = \"all\" } or { type = \"selected\", tracker_ids = {...} }", at)
      end
      if target.type == "selected" then check_ids(target.tracker_ids, at .. ": target.tracker_ids") end
    end
  end
  local keys = 0
  for _ in pairs(requests) do keys = keys + 1 end
  if keys ~= #requests then fail("%s expects an array of requests (keys 1..n only)", what) end
end

local Set = {}
Set.__index = Set

function M.new()
  return setmetatable({ types = {}, order = {} }, Set)
end

-- The entry of a type, made on first use.
function Set:entry(name)
  local e = self.types[name]
  if not e then
    e = { ids = {}, excluded = {}, all = false, extra = {}, kept = {} }
    self.types[name] = e
    self.order[#self.order + 1] = name
  end
  return e
end

function Set:drop(name)
  self.types[name] = nil
  for i, n in ipairs(self.order) do
    if n == name then table.remove(self.order, i) break end
  end
end

-- The fields of a request other than those that say what it covers.
local function extra_of(r)
  local extra = {}
  for k, v in pairs(r) do
    if k ~= "type" and k ~= "target" and k ~= "trackers" then extra[k] = v end
  end
  return extra
end

--- Adds what `requests` (checked) subscribe to.
function Set:subscribe(requests)
  for _, r in ipairs(requests) do
    local e = self:entry(r.type)
    if r.type == "state" then
      for _, id in ipairs(r.trackers) do e.ids[id] = true end
      e.extra = extra_of(r)
    elseif TARGETED[r.type] then
      if r.target.type == "all" then
        e.all, e.ids, e.excluded = true, {}, {}
      else
        for _, id in ipairs(r.target.tracker_ids) do
          e.excluded[id] = nil
          if not e.all then e.ids[id] = true end
        end
      end
      e.extra = extra_of(r) -- the latest rate_limit and format win, as on the server
    else
      e.kept[#e.kept + 1] = r
    end
  end
end

local function empty(t) return next(t) == nil end

--- Removes what `requests` (checked) unsubscribe from.
function Set:unsubscribe(requests)
  for _, r in ipairs(requests) do
    local e = self.types[r.type]
    if e then
      if r.type == "state" then
        for _, id in ipairs(r.trackers) do e.ids[id] = nil end
        if empty(e.ids) then self:drop(r.type) end
      elseif TARGETED[r.type] then
        if r.target.type == "all" then
          self:drop(r.type)
        else
          for _, id in ipairs(r.target.tracker_ids) do
            if e.all then e.excluded[id] = true else e.ids[id] = nil end
          end
          if not e.all and empty(e.ids) then self:drop(r.type) end
        end
      else
        self:drop(r.type)
      end
    end
  end
end

local function sorted(set)
  local list = {}
  for id in pairs(set) do list[#list + 1] = id end
  table.sort(list)
  return json.array(list)
end

local function request(name, e, covers)
  local r = {}
  for k, v in pairs(e.extra) do r[k] = v end
  r.type = name
  for k, v in pairs(covers) do r[k] = v end
  return r
end

--- The current set as messages' requests: `subscribe` (nil when the set is
-- empty) and `unsubscribe` (nil when nothing is to be taken back: trackers
-- left out of an "all" subscription).
function Set:requests()
  local sub, unsub = json.array(), json.array()
  for _, name in ipairs(self.order) do
    local e = self.types[name]
    if name == "state" then
      sub[#sub + 1] = request(name, e, { trackers = sorted(e.ids) })
    elseif TARGETED[name] then
      if e.all then
        sub[#sub + 1] = request(name, e, { target = { type = "all" } })
        if not empty(e.excluded) then
          unsub[#unsub + 1] = { type = name, target = { type = "selected", tracker_ids = sorted(e.excluded) } }
        end
      else
        sub[#sub + 1] = request(name, e, { target = { type = "selected", tracker_ids = sorted(e.ids) } })
      end
    else
      for _, r in ipairs(e.kept) do sub[#sub + 1] = r end
    end
  end
  return sub[1] and sub or nil, unsub[1] and unsub or nil
end

--- The event types subscribed to, in the order first asked for.
function Set:names()
  return self.order
end

return M

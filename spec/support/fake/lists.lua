-- Paged lists: the user-API lists that take offset/limit and answer the whole `count`
-- (ignoring offset and limit), as the pages say:
--   field-service/employee/index.md "list", field-service/task/README.md "list",
--   commons/subuser/zones.md / zone "list", field-service/place/work-with-poi.md "list";
-- and two whose documented answers hold no `count` (the list alone):
--   fleet/vehicle/README.md "list", commons/user/audit/audit_log.md "list".
-- Their items are made up and fixed; only the paging is what the specs read.
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local invalid = errors.invalid

local H = {}

-- The page of `items` that offset/limit ask for (no limit: all from offset on), as the
-- documented answer { list, count } (without count when `uncounted`); 7 for an offset
-- or limit that is not a whole number >= 0 (limit >= 1).
local function page(items, p, uncounted)
  local offset = p.offset == nil and 0 or params.int(p.offset)
  if not offset or offset < 0 then invalid("offset", "Must be a non-negative integer") end
  local limit = p.limit == nil and #items or params.int(p.limit)
  if not limit or limit < 1 then invalid("limit", "Must be a positive integer") end
  local list = {}
  for i = offset + 1, math.min(#items, offset + limit) do list[#list + 1] = items[i] end
  return { list = store.array(list), count = not uncounted and #items or nil }
end

local function made(n, fn)
  local items = {}
  for i = 1, n do items[i] = fn(i) end
  return items
end

local EMPLOYEES = made(23, function(i)
  return { id = i, first_name = "Driver", last_name = tostring(i), tracker_id = (i % 3) + 1,
           personnel_number = ("E%03d"):format(i) }
end)
local TASKS = made(37, function(i)
  return { id = 100 + i, label = "Task " .. i, status = i % 4 == 0 and "done" or "assigned", tracker_id = 1 }
end)
local ZONES = made(12, function(i)
  return { id = 500 + i, label = "Zone " .. i, type = "circle", radius = 100 * i,
           center = { lat = 52.5 + i / 100, lng = 13.4 } }
end)
local PLACES = made(9, function(i)
  return { id = 900 + i, label = "Place " .. i, location = { lat = 52.5, lng = 13.4 + i / 100, radius = 50 } }
end)

local VEHICLES = made(17, function(i)
  return { id = 200 + i, label = "Vehicle " .. i, tracker_id = (i % 3) + 1, type = "truck", reg_number = "B-" .. i }
end)
local AUDIT = made(31, function(i)
  return { id = 44504790 + i, user_id = 1, entry_category = "custom_field", action = "create",
           host = "127.0.0.1", action_date = ("2024-05-01 10:%02d:00"):format(i) }
end)

H["vehicle/list"] = { fn = function(p) return page(VEHICLES, p, true) end }
H["user/audit/log/list"] = { fn = function(p) return page(AUDIT, p, true) end }
H["employee/list"] = { fn = function(p) return page(EMPLOYEES, p) end }
H["task/list"] = { fn = function(p) return page(TASKS, p) end }
H["zone/list"] = { fn = function(p) return page(ZONES, p) end }
H["place/list"] = { fn = function(p) return page(PLACES, p) end }

return { handlers = H, page = page }

-- Quickstart: log in, list trackers, read one tracker's state, see an error.
--
-- It needs a Navixy account, given in the environment (never put credentials in code):
--   NAVIXY_URL=https://api.eu.navixy.com/v2 NAVIXY_LOGIN=you@example.com \
--   NAVIXY_PASSWORD=... lua5.4 examples/quickstart.lua
--
-- Without one: in a clone of the navixy-lua repository, `make demo` runs it against
-- the fake Navixy server of the tests (spec/support/fake-navixy), which the rock
-- does not ship.
local url, login, password = os.getenv("NAVIXY_URL"), os.getenv("NAVIXY_LOGIN"), os.getenv("NAVIXY_PASSWORD")
if not (url and login and password) then
  io.stderr:write("quickstart: set NAVIXY_URL, NAVIXY_LOGIN and NAVIXY_PASSWORD (a Navixy account), or run\n",
    "`make demo` in a clone of navixy-lua: it starts the fake Navixy server of the tests (not in the rock)\n",
    "and runs this file against it.\n")
  os.exit(2)
end
local navixy = require "navixy"

-- 1. Log in: navixy.login returns the client and the user/auth answer.
local client, err = navixy.login { url = url, login = login, password = password }
if not client then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print("logged in:   " .. tostring(client))

-- 2. List the trackers: client.tracker.list() calls the action tracker/list.
local res
res, err = client.tracker.list()
if not res then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("trackers:    %d"):format(#res.list))
for _, t in ipairs(res.list) do
  print(("  #%-4s %-10s model %-10s %s"):format(t.id, t.label, t.source.model,
    t.source.blocked and "(blocked)" or ""))
end

-- 3. Read the state of the first tracker.
local first = res.list[1]
local state
state, err = client.tracker.get_state { tracker_id = first.id }
if state then
  local s = state.state
  print(("state of #%s: %s, %s, at %.5f, %.5f, %s km/h"):format(first.id, s.connection_status,
    s.movement_status, s.gps.location.lat, s.gps.location.lng, s.gps.speed))
else
  print("state of #" .. first.id .. ": " .. tostring(err))
end

-- 4. Errors are values: an unknown tracker comes back as nil, err.
local _, e = client.tracker.get_state { tracker_id = 99 }
print("an error:    " .. tostring(e))
print(("             kind=%s code=%s status=%s retryable=%s"):format(e.kind, e.code, e.status,
  tostring(e.retryable)))

client:logout()
client:close()

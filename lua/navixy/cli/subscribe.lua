--- `navixy subscribe TYPE [all | ID ...] [name=value ...]`: real-time events
-- (client:subscribe), each message printed as one line of JSON on stdout as
-- it comes, until Ctrl-C (exit 130) or an error the subscription does not
-- recover from (exit as for a call: 1 API, 3 transport). A lost connection
-- is replaced by the subscription itself; each time, one line on stderr.
-- Credentials, --session and masking are the command's (navixy.cli): `run`
-- gets its Run.
local controls = require "navixy.controls"
local pretty = require "navixy.pretty"

local M = {}

-- How each type names its trackers (websocket/subscription.md).
local SHAPES = { state = "trackers", state_batch = "target", readings_batch = "target", iot_monitor = "selected" }
M.IOT_MAX = 10 -- iot_monitor: "Maximum 10 trackers"

--- The request of the command line's words (TYPE, then all or IDs) and
-- params (added to it, winning); raises usage errors through r.
function M.request(r, words, params)
  local name = words[1]
  if not name then r:usage("subscribe needs a TYPE: state, state_batch, readings_batch or iot_monitor") end
  local shape = SHAPES[name]
  if not shape then
    r:usage("subscribe: unknown TYPE '%s': state, state_batch, readings_batch or iot_monitor", name)
  end
  local ids, all = {}, false
  for i = 2, #words do
    local w = words[i]
    if w == "all" then
      all = true
    elseif w:find("^%d+$") and #w < 16 and tonumber(w) > 0 then
      ids[#ids + 1] = tonumber(w)
    else
      r:usage("subscribe: '%s' is not a tracker ID (nor all, nor name=value)", w)
    end
  end
  if all and ids[1] then r:usage("subscribe: give all or tracker IDs, not both") end
  local request = { type = name }
  if shape == "trackers" or shape == "selected" then
    if not ids[1] then r:usage("subscribe %s needs tracker IDs (all is not allowed for it)", name) end
    if shape == "trackers" then
      request.trackers = ids
    else
      if #ids > M.IOT_MAX then r:usage("subscribe %s takes at most %d tracker IDs", name, M.IOT_MAX) end
      request.target = { type = "selected", tracker_ids = ids }
    end
  elseif ids[1] then
    request.target = { type = "selected", tracker_ids = ids }
  else
    request.target = { type = "all" }
  end
  for k, v in pairs(params) do request[k] = v end
  return request
end

-- The stderr line for a notice of the subscription's (nil: none).
local function status_line(info)
  if info.status == "reconnecting" then
    return ("navixy: subscribe: %s; connecting again in %.1f s"):format(info.description, info.retry_in)
  elseif info.status == "connected" and info.connection > 1 then
    return "navixy: subscribe: connected again"
  elseif info.status == "login" then
    return "navixy: subscribe: the session had ended: logged in again"
  end
  return nil
end

-- Subscribes and prints until a final error, which it returns.
local function stream(r, request)
  local sub = r.client:subscribe({ request }, {
    decode = false, -- printed as the server wrote it (numbers as spelled), laid out on one line
    on_status = function(info)
      local line = status_line(info)
      if line then r:say(line) end
      if info.status == "login" then r:save() end
    end,
  })
  r.sub = sub
  while true do
    local text, err = sub:next()
    if not text then return err end
    -- JSON with its controls escaped; anything else with them made visible
    io.stdout:write(r:mask(pretty.text(text, true) or controls.plain(text)), "\n")
    io.stdout:flush() -- each message as it comes, also into a pipe
  end
end

-- The whole run: a login or a saved session first, when there is a login;
-- a saved session that has ended is replaced by a new login, once.
local function subscribe(r, request)
  local resumed = false
  if r.user then
    resumed = r:resume_session()
    if not resumed then
      local ok, status = r:login()
      if not ok then return status end
    end
  end
  while true do
    local err = stream(r, request)
    r.sub:close()
    if err.phase == "interrupted" then -- Ctrl-C, seen by the core before the interpreter
      io.stderr:write("navixy: interrupted\n")
      return r.EXIT.interrupted
    end
    if not (resumed and err.kind == "api" and (err.code == 3 or err.code == 4)) then return r:fail(err) end
    resumed = false
    local ok, status = r:login()
    if not ok then return status end
  end
end

--- Runs `navixy subscribe ...` for Run r (navixy.cli); returns the exit status.
function M.run(r)
  local request = M.request(r, r.o.words, r.o.params)
  r.o.compact = true -- an error answer too is one line
  local ok, status = pcall(subscribe, r, request)
  if r.sub then r.sub:close() end
  if r.user and not r.session then r.client:logout() end -- a login not kept: ended
  if ok then return status end
  if tostring(status):find("interrupted!$") then -- Ctrl-C, the usual way out
    io.stdout:flush()
    io.stderr:write("navixy: interrupted\n")
    return r.EXIT.interrupted
  end
  error(status, 0)
end

return M

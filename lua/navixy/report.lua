--- client:get_report(params, opts): a tracker report from request to
-- result, the loop every user of report/tracker/* otherwise writes:
--
--   report/tracker/generate   params as documented (from, to, trackers, plugin, ...)
--   report/tracker/status     polled until percent_ready is 100
--   report/tracker/retrieve   the JSON report (the answer's `report`), or with
--   report/tracker/download   opts.format ("pdf", "xls", "xlsx") the file result,
--                             or into opts.sink
--   report/tracker/delete     once read, and after a failure once an id exists,
--                             unless opts.keep
--
-- opts: format, headless (download without title page and TOC), sink,
-- on_progress(percent) (called for each new percent_ready), timeout (seconds
-- for the whole job: a deadline; default M.TIMEOUT), keep.
--
-- Polling: the first status after M.FIRST_POLL seconds, then each wait
-- M.GROWTH times the one before, at most M.MAX_POLL, never past the
-- deadline (a short report is read soon, a long one costs few calls). Error
-- 229 ("not ready yet") from retrieve or download polls again; error 15
-- from generate (too many reports being made at once) waits the same way
-- and generates again, within the deadline. Every other error is returned
-- as it came; a deadline passed is an error of kind "timeout" saying how far
-- the report got.
local errors = require "navixy.errors"

local type, min = type, math.min

local M = {}

M.TIMEOUT = 300
M.FIRST_POLL, M.GROWTH, M.MAX_POLL = 0.5, 1.5, 5

local fail = errors.misuse

local OPTS = { format = "string", headless = "boolean", on_progress = "function", timeout = "number",
               keep = "boolean", sink = true }

local function check(params, opts)
  if type(params) ~= "table" then
    fail("client:get_report(params, opts) expects params as a table, got %s", type(params))
  end
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail("client:get_report options must be a table, got %s", type(opts)) end
  for k, v in pairs(opts) do
    local want = OPTS[k]
    if not want then fail("unknown client:get_report option '%s'", tostring(k)) end
    if want ~= true and type(v) ~= want then
      fail("client:get_report option '%s' must be a %s, got %s", k, want, type(v))
    end
  end
  local timeout = opts.timeout
  if timeout and (timeout <= 0 or timeout ~= timeout) then fail("client:get_report option 'timeout' must be > 0") end
  if opts.sink and not opts.format then fail("client:get_report option 'sink' needs a format (a download)") end
  return opts
end

local function is_api(err, code) return err.kind == "api" and err.code == code end

--- The job (see the top of this file). `client` runs the calls, `ctx`
-- holds the client's clock (a transport: now, sleep) and its per-attempt
-- timeout.
function M.get(client, ctx, params, opts)
  opts = check(params, opts)
  local clock = ctx.clock
  local started = clock:now()
  local deadline = started + (opts.timeout or M.TIMEOUT)
  local wait = M.FIRST_POLL
  local id, percent

  -- call options for one request: no attempt outlives the deadline
  local function within(extra)
    local left = deadline - clock:now()
    local call_opts = extra or {}
    if left < ctx.timeout then call_opts.timeout = math.max(left, 0.001) end
    return call_opts
  end

  -- waits the next poll interval; false when the deadline comes first
  local function pause()
    local left = deadline - clock:now()
    if left <= 0 then return false end
    clock:sleep(min(wait, left))
    wait = min(wait * M.GROWTH, M.MAX_POLL)
    return clock:now() < deadline
  end

  local function late(action, what)
    return nil, errors.new({ kind = "timeout", action = action, retryable = true,
      description = ("%s within the %g s of opts.timeout%s"):format(what, opts.timeout or M.TIMEOUT,
        percent and (" (the report was " .. percent .. "% ready)") or "") })
  end

  local function run()
    local res, err
    repeat
      res, err = client:call("report/tracker/generate", params, within())
      if res then break end
      if not is_api(err, 15) then return nil, err end
      if not pause() then return late("report/tracker/generate", "too many reports at once: none could start") end
    until false
    id = res.id
    if type(id) ~= "number" then
      return nil, errors.new({ kind = "decode", action = "report/tracker/generate", response = res,
        description = "the answer has no report id" })
    end
    wait = M.FIRST_POLL
    while true do
      while percent ~= 100 do
        if not pause() then return late("report/tracker/status", "not ready") end
        res, err = client:call("report/tracker/status", { report_id = id }, within())
        if not res then return nil, err end
        local p = tonumber(res.percent_ready) or 0
        if p ~= percent then
          percent = p
          if opts.on_progress then opts.on_progress(p) end
        end
      end
      if opts.format then
        res, err = client:call("report/tracker/download",
          { report_id = id, format = opts.format, headless = opts.headless }, within{ sink = opts.sink })
      else
        res, err = client:call("report/tracker/retrieve", { report_id = id }, within())
        if res then res = res.report end
      end
      if res then return res end
      if not is_api(err, 229) then return nil, err end
      percent = nil -- ready by its status, not yet for reading: poll on
    end
  end

  local res, err = run()
  if id and not opts.keep then
    -- a clean-up that fails does not take a report already read away, nor
    -- hide why the job failed
    client:call("report/tracker/delete", { report_id = id })
  end
  return res, err
end

return M

--- The platform's limits on history/tracker/list, which differ from one
-- Navixy platform to another: the most events a request may ask for
-- (`history.max_limit`: error 212 above it) and the longest window
-- (`report.max_time_span`, an ISO 8601 duration: error 211 above it, with
-- `max_time_span` in the answer). dealer/get_ui_config lists both in its
-- `platform` object, under those dotted names as flat keys
-- (api-docs/.../resources/commons/dealer.md); they are asked for once per
-- client and kept, the API's defaults standing in for what it does not say.
-- What a 211 or 212 answer shows later narrows them (see navixy.fleet).
local dates = require "navixy.dates"

local M = {}

M.DEFAULT_LIMIT = 1000     -- history.max_limit: the documented default
M.DEFAULT_SPAN = 30 * 86400 -- report.max_time_span unknown: the API has refused over 31 days

local function whole(v)
  return type(v) == "number" and v >= 1 and v == math.floor(v)
end

--- The limits for `client`: { limit = events, span = seconds }, kept in
-- `memo` (the client's, one table per client). Asked for with `call_opts`
-- (timeout, retries). When the API refuses to say (an API error other than
-- an ended session), it is not asked again: the defaults stay, and 211/212
-- answers narrow them. After any other failure (transport, timeout, a
-- session that could not be had) the defaults serve this call and the next
-- one asks again.
function M.limits(client, memo, call_opts)
  if memo.limits then return memo.limits end
  local limits = { limit = M.DEFAULT_LIMIT, span = M.DEFAULT_SPAN }
  local res, err = client:call("dealer/get_ui_config", nil, call_opts)
  if res then
    local p = type(res.platform) == "table" and res.platform or {}
    if whole(p["history.max_limit"]) then limits.limit = p["history.max_limit"] end
    local span = dates.duration(p["report.max_time_span"])
    if span and span >= 1 then limits.span = span end
  end
  if res or (err.kind == "api" and (err.attempts or 0) > 0 and err.code ~= 3 and err.code ~= 4) then
    memo.limits = limits
  end
  return limits
end

--- The span a 211 answer gives (`max_time_span`), in seconds, or nil.
function M.span_of(err)
  local body = type(err.response) == "table" and err.response or {}
  local span = dates.duration(body.max_time_span)
  if span and span >= 1 then return span end
  return nil
end

return M

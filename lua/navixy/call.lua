--- One call on its way out: the job (the request and what is known of it),
-- one attempt (rate limit, send, interpret the answer) and the retries
-- around it. Sessions (logging in, logging in again) wrap this: see
-- navixy.session.
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"
local policy = require "navixy.policy"
local ratelimit = require "navixy.ratelimit"
local response = require "navixy.response"
local upload = require "navixy.upload"

local type, error = type, error

local M = {}

local NO_OPTS = {} -- call_opts when none are given (no table per call)

-- Params must encode as a JSON object: a table whose keys are all strings
-- (an empty one included). An array would send "[...]" as the body.
local function check_params(params)
  if params == nil then return end
  if type(params) ~= "table" then error("navixy: params must be a table, got " .. type(params), 0) end
  if params[1] ~= nil or getmetatable(params) == json.array_mt then
    error("navixy: params must be a table of name = value (a JSON object), not an array", 0)
  end
end

--- The body of a call of `action` with `params` and `call_opts`, checked
-- (raises on misuse, with messages starting "navixy:") and encoded: body,
-- parts (the files of a multipart upload, or nil).
function M.encode(st, action, params, call_opts)
  options.action(action)
  check_params(params)
  options.call(call_opts)
  call_opts = call_opts or NO_OPTS
  if st.auth == "body" and params and params.hash ~= nil and st.hash then
    error("navixy: params.hash conflicts with the client's hash (auth = \"body\")", 0)
  end
  local method, parts = call_opts.method, upload.parts(params)
  if parts then
    if method == "GET" then error("navixy: a GET request cannot carry files (navixy.file)", 0) end
    return "", parts
  elseif method == "GET" or st.encoding == "form" then
    return json.form(params or NO_OPTS) -- a GET's params are its query string, by the form rules
  end
  return json.encode(params or NO_OPTS)
end

--- The job of a call M.encode has checked and encoded: what is known of
-- the call as it goes, and the request the transport reads (see
-- navixy.transport): action, method, body, parts, sink, timeout_ms, fresh.
-- A batch keeps only the bodies of its waiting items and makes their jobs
-- as they are taken, so that many items hold little.
function M.prepared(st, action, call_opts, body, parts)
  call_opts = call_opts or NO_OPTS
  local job = {
    action = action,
    method = call_opts.method,
    body = body,
    parts = parts,
    sink = call_opts.sink,
    timeout_ms = call_opts.timeout and options.milliseconds(call_opts.timeout),
    retries = call_opts.retries or st.retries,
    idempotent = call_opts.idempotent,
    raw = call_opts.decode == false,
    headers = options.header_text(call_opts.headers),
    query = call_opts.query and json.form(call_opts.query) or nil,
    attempts = 0,
    retried = 0,
  }
  job.fresh = not policy.safe(job)
  return job
end

--- The job of a call of `action` with `params` and `call_opts`: checked,
-- encoded and ready to run.
function M.job(st, action, params, call_opts)
  return M.prepared(st, action, call_opts, M.encode(st, action, params, call_opts))
end

-- The on_request hook: one call per request sent, once its outcome is
-- known. Only names, numbers and kinds: nothing that could hold a secret.
-- store_error: the shared store failed since the last report (once per
-- outage; the client goes on without it meanwhile).
local function notify(st, job, t, err, delay)
  st.on_request {
    action = job.action, attempt = job.attempts, status = job.status,
    elapsed = job.elapsed, kind = err and err.kind or nil, code = err and err.code or nil,
    retry_in = delay, transport = t:name(), store_error = st.shared and st.shared:take_report() or nil,
  }
end

-- One request: waits for the rate limit, sends, interprets.
-- Returns res, or nil, err, retry_after; leaves status and elapsed in job.
local function attempt(st, job, t)
  if st.rate_count then ratelimit.wait(st, t, job.anonymous) end
  job.attempts = job.attempts + 1
  job.sent_with = st.hash -- the hash it goes out with (navixy.session compares it)
  local started = st.on_request and t:now() -- timed only for the hook
  local result = t:send(job)
  local status = result.status
  job.status = status
  if started then job.elapsed = t:now() - started end
  if not status then
    job.delivered = result.delivered
    return nil, errors.new({ kind = result.kind, description = result.message, phase = result.phase,
      action = job.action }, st.secrets)
  end
  if job.raw and status >= 200 and status < 300 and not result.streamed then
    job.info = { status = status, content_type = result.content_type,
                 filename = response.filename(result.disposition) }
    return result.body
  end
  local res, err = response.interpret(job.action, result, st.secrets, st.url)
  if err then err.retry_after = result.retry_after end
  return res, err, result.retry_after
end

--- Runs a job through attempts and retries on transport `t`, without any
-- session handling. Returns res, or nil, err.
function M.plain(st, job, t)
  while true do
    local res, err, retry_after = attempt(st, job, t)
    if res then
      if st.on_request then notify(st, job, t, nil, nil) end
      return res
    end
    local delay = policy.next_delay(job, err, retry_after)
    if st.on_request then notify(st, job, t, err, delay) end
    if not delay then return nil, err end
    t:sleep(delay)
  end
end

return M

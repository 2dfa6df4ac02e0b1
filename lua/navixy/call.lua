--- One call, from its options to its answer, in one loop: the options
-- checked and encoded, the job made (the request and what is known of it as
-- it goes), a hash to send (navixy.session gets one), the rate limit, the
-- attempts and the retries between them (navixy.retry's rules), the one
-- re-login when the API says the session ended (codes 3 and 4), and the
-- answer (navixy.response). The same loop runs client:call, every item of a
-- batch, and the calls that get a client its hash (navixy.hash_source).
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"
local ratelimit = require "navixy.ratelimit"
local response = require "navixy.response"
local retry = require "navixy.retry"
local session = require "navixy.session"
local upload = require "navixy.upload"

local misuse = errors.misuse

local M = {}

local NO_OPTS = {} -- call_opts when none are given (no table per call)

-- What a call takes from the catalogue of documented actions
-- (navixy.catalogue.calls), loaded at the first call, not with
-- `require "navixy"`.
local from_docs
local function docs()
  from_docs = from_docs or require "navixy.catalogue.calls"
  return from_docs
end

-- The body of a call with `params` going as `method`: body, parts (the
-- files of a multipart upload, or nil).
local function encoded(st, params, method)
  if params == nil and method == nil and st.encoding ~= "form" then
    return "{}" -- what the encoder makes of no params, without a call into it
  end
  local parts = params ~= nil and upload.parts(params) or nil
  if parts then
    if method == "GET" then misuse("a GET request cannot carry files (navixy.file)") end
    return "", parts
  elseif method == "GET" or st.encoding == "form" then
    return json.form(params or NO_OPTS) -- a GET's params are its query string, by the form rules
  end
  return json.encode(params or NO_OPTS)
end

--- The body of a call of `action` with `params` and `call_opts`, checked
-- (raises on misuse, with messages starting "navixy:") and encoded: body,
-- parts (the files of a multipart upload, or nil).
--- The same, also returning what the catalogue says of the action and the
-- method, for M.prepared (M.job: looked up once per call).
local function encode(st, action, params, call_opts)
  options.call(action, params, call_opts)
  call_opts = call_opts or NO_OPTS
  if st.auth == "body" and params and params.hash ~= nil and st.hash then
    misuse("params.hash conflicts with the client's hash (auth = \"body\")")
  end
  local d = from_docs or docs()
  local known = d.known(st, action)
  local method = d.method(known, call_opts)
  local body, parts = encoded(st, d.shape(known, params), method)
  d.check(st, action, known, params, call_opts) -- after the encoding's own refusals
  return body, parts, known, method
end

function M.encode(st, action, params, call_opts)
  local body, parts = encode(st, action, params, call_opts)
  return body, parts
end

--- The job of a call M.encode has checked and encoded: what is known of
-- the call as it goes, and the request the transport reads (see
-- navixy.transport): action, method, body, parts, sink, timeout, fresh.
-- A table with every field a job may get (filled sets them all), made at
-- its size once. false, not nil: every key has its place from the start, so
-- that LuaJIT's compiled code, which checks where each key is, finds the
-- same places in every job (with nil, keys came as first set: 8k
-- instructions a call more).
local function new_job()
  return {
    action = false, method = false, body = false, parts = false, sink = false, timeout = false,
    retries = false, idempotent = false, raw = false, headers = false, query = false, lazy = false,
    attempts = false, retried = false, documented = false, read_only = false, sessionless = false,
    anonymous = false, fresh = false, sent_with = false, status = false, elapsed = false,
    delivered = false, info = false, stale = false,
  }
end

-- A batch keeps only the bodies of its waiting items and makes their jobs
-- as they are taken, so that many items hold little.
-- `job` is new_job()'s or the job of an earlier call that nothing holds any
-- more (client:call keeps its client's last, a batch worker its own): a new
-- table of 25 fields per call, and the collector's work for it, cost a call
-- more than the rest of making its job. (`known` and `method`: what M.job
-- looked up already, else nil.) Returns the job.
local function filled(job, st, action, call_opts, body, parts, known, method)
  call_opts = call_opts or NO_OPTS
  local d = from_docs or docs()
  if not known then
    known = d.known(st, action)
    method = d.method(known, call_opts)
  end
  local headers, query, decode = call_opts.headers, call_opts.query, call_opts.decode
  job.action, job.method, job.body, job.parts = action, method, body, parts
  job.sink, job.idempotent = call_opts.sink, call_opts.idempotent
  job.timeout = call_opts.timeout -- seconds, as everywhere in Lua (nil: the client's)
  job.retries = call_opts.retries or st.retries
  job.raw, job.lazy = decode == false, decode == "lazy"
  job.headers = headers and options.header_text(headers) or nil
  job.query = query and json.form(query) or nil
  job.attempts, job.retried = 0, 0
  job.sessionless, job.anonymous = nil, nil
  job.sent_with, job.status, job.elapsed, job.delivered, job.info, job.stale = nil, nil, nil, nil, nil, nil
  d.mark(job, known) -- documented, read_only, no-auth
  job.fresh = not retry.safe(job)
  return job
end

--- `job`: a job of an earlier call to fill in again (nothing may hold it
-- any more), or nil for a new one.
function M.prepared(st, action, call_opts, body, parts, job)
  return filled(job or new_job(), st, action, call_opts, body, parts)
end

--- The job of a call of `action` with `params` and `call_opts`: checked,
-- encoded and ready to run.
function M.job(st, action, params, call_opts)
  local body, parts, known, method = encode(st, action, params, call_opts)
  return filled(new_job(), st, action, call_opts, body, parts, known, method)
end

--- Seconds one attempt of `job` may take: its call's timeout, else the client's.
function M.timeout(st, job)
  return job.timeout or st.timeout
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
  if st.rate_count then
    local ok, err = ratelimit.wait(st, t, job.anonymous, M.timeout(st, job), job.action)
    if not ok then return nil, err end
  end
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
    -- the result, a new table of the transport's, becomes the call's third
    -- value, { status =, content_type =, filename = }: no table more per call
    local body, disposition = result.body, result.disposition
    result.body, result.disposition, result.retry_after = nil, nil, nil
    if disposition then result.filename = response.filename(disposition) end
    job.info = result
    return body
  end
  local res, err = response.interpret(job.action, result, st.secrets, st.url, job.lazy)
  if err then
    err.retry_after = result.retry_after
    if not job.documented then docs().undocumented(st, job, err) end
  end
  return res, err, result.retry_after
end

-- Sessions a call may see end while it runs (each ended session is logged
-- in again once): with a long rate-limit queue a call can outlive one.
M.MAX_RENEWALS = 3

-- Whether `err` says the session the job went out with ended (codes 3 and
-- 4), for a client that can log in again.
-- An API says so with codes 3 and 4, or an HTTP 401 (how the sibling APIs
-- say it: an RFC 7807 or GraphQL "unauthorized").
local function session_ended(st, job, err)
  return st.source ~= nil and (err.status == 401 or (err.kind == "api" and (err.code == 3 or err.code == 4)))
    and job.sent_with ~= nil
end

-- The rest of M.run once an attempt's outcome is known (res, or nil, err,
-- retry_after): the on_request hook, then the retries the rules allow and
-- the re-logins, each with its attempt, to the answer.
local function settle(st, job, t, res, err, retry_after)
  local renewed, renewals = nil, 0
  while true do
    local delay = nil
    if not res then delay = retry.next_delay(job, err, retry_after) end
    if st.on_request then notify(st, job, t, err, delay) end
    if res then return res end
    if delay then
      t:sleep(delay)
    elseif job.sessionless or renewals >= M.MAX_RENEWALS or not session_ended(st, job, err) then
      return nil, err
    else
      renewals = renewals + 1
      local ok, lerr = session.renew(st, t, M.timeout(st, job), job.sent_with, renewed)
      if not ok then return nil, lerr or err end
      renewed = st.hash
      ok, lerr = session.ready(st, t, M.timeout(st, job), job.action) -- the new session's hash
      if not ok then return nil, lerr end
    end
    res, err, retry_after = attempt(st, job, t)
  end
end

--- Runs a job on transport `t` to its answer: res, or nil, err. First a
-- hash to send (the lazy first login); then attempts, with the retries the
-- rules allow; when the session ended, a re-login (navixy.session.renew)
-- and the job again, which does not use up `retries`. A job marked
-- `sessionless` goes out as the client's session stands, and is not logged
-- in for, first or again: a login itself, and the calls of a two-factor
-- login and of a logout. (An answer at the first attempt with no hook to
-- tell returns straight away: no loop in the common case, which would
-- root a LuaJIT trace of its own and stop its caller's.)
function M.run(st, job, t)
  if not job.sessionless then
    local ok, err = session.ready(st, t, M.timeout(st, job), job.action)
    if not ok then return nil, err end
  end
  local res, err, retry_after = attempt(st, job, t)
  if res and not st.on_request then return res end
  return settle(st, job, t, res, err, retry_after)
end

--- client:call(action, params, call_opts): the job checked, made and run
-- on the client's transport. Returns res, or nil, err; with call_opts.decode
-- = false a 2xx answer's bytes and a third value, { status =,
-- content_type =, filename = }.
-- The job is the one of the client's last call when no other call holds
-- it (one that ran from a hook or another coroutine meanwhile made its
-- own), and is left for the next once this call is over: nothing keeps a
-- job past its call. (A call that raises leaves its job to the collector.)
function M.call(st, action, params, call_opts)
  local body, parts, known, method = encode(st, action, params, call_opts)
  local job = st.spare_job or new_job()
  st.spare_job = nil
  filled(job, st, action, call_opts, body, parts, known, method)
  local res, err = M.run(st, job, st.transport)
  local info = job.info
  job.body, job.parts, job.sink, job.info = nil, nil, nil, nil -- held by no spare job
  st.spare_job = job
  if info then return res, err, info end
  return res, err -- two values: the REPL shows every one
end

--- A sessionless call (see M.run) of `action` with `params` on transport
-- `t`; `anonymous`: without the hash (a login). Returns res, err and the job.
function M.sessionless(st, t, action, params, anonymous)
  local job = M.job(st, action, params)
  job.sessionless, job.anonymous = true, anonymous
  local res, err = M.run(st, job, t)
  return res, err, job
end

return M

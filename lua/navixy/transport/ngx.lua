--- The non-blocking transport for OpenResty: HTTP/1.1 over ngx.socket.tcp
-- (cosockets), so a call waiting on the API yields the nginx worker to its
-- other requests instead of stalling them all as a blocking libcurl call
-- would. The contract is navixy.transport's; attempts side by side (the
-- runner) run in light threads.
--
-- The request itself (URL, body with the hash placed, header lines) comes from
-- the C core's handle:http1_request(), so auth placement and encoding are the
-- code the curl path runs. Only the I/O is done here.
local core = require "navixy.core"
local errors = require "navixy.errors"
local dns = require "navixy.transport.dns"
local http1 = require "navixy.transport.http1"
local runtime = require "navixy.runtime"
local sink = require "navixy.sink"
local upload = require "navixy.upload"
local url = require "navixy.url"

-- ngx.semaphore comes with lua-resty-core (loaded by ngx_lua 0.10.16+);
-- outside nginx this module is loaded but never used.
local semaphore = package.loaded["ngx.semaphore"]
  or (rawget(_G, "ngx") and select(2, pcall(require, "ngx.semaphore"))) or nil

local misuse = errors.misuse

local M = {}

---------------------------------------------------------------- URLs

-- Where to connect. nginx resolves names only through a `resolver` directive
-- and never reads /etc/hosts, so "localhost" (loopback by RFC 6761) is
-- connected to directly; IPv6 literals lose their brackets.
local function connect_host(host)
  if host:lower() == "localhost" then return "127.0.0.1" end
  return (host:gsub("^%[(.*)%]$", "%1"))
end

-- The name TLS checks the certificate against (and sends as SNI).
local function tls_name(host)
  return (host:gsub("^%[(.*)%]$", "%1"):lower())
end

local function is_ip(name)
  return name:find("^%d+%.%d+%.%d+%.%d+$") ~= nil or name:find(":", 1, true) ~= nil
end

---------------------------------------------------------------- the transport

local Ngx = {}
Ngx.__index = Ngx

--- `handle` is the navixy.core client (settings, hash, prepare); `o` the
-- checked options of navixy.new.
function M.new(handle, o)
  if o.proxy then
    misuse("option 'proxy' is not supported by the ngx transport, which a client inside nginx "
      .. "uses by default (cosockets connect directly); set transport = \"curl\" to go through the "
      .. "proxy (each call then blocks the worker)")
  end
  if o.u.userinfo then
    misuse("option 'url': user:password@ in the URL is not supported by the ngx transport")
  end
  local self = setmetatable({
    handle = handle,
    u = o.u,
    timeout = o.timeout,
    connect_timeout = o.connect_timeout,
    max_size = o.max_size,
    ssl_verify = o.ssl_verify ~= false,
    ca_file = o.ca_file,
  }, Ngx)
  if o.ca_file and runtime.in_nginx() then
    -- cosockets trust what nginx trusts; a per-client CA file cannot be honoured
    ngx.log(ngx.WARN, "navixy: option ca_file (", o.ca_file, ") is not used by the ngx transport: ",
      "it trusts the certificates of nginx's lua_ssl_trusted_certificate")
  end
  return self
end

function Ngx.name() return "ngx" end
function Ngx.yields() return true end

-- The monotonic clock of navixy.core, as every transport uses: a client that
-- sends with cosockets in one phase and libcurl in another (or runs a batch)
-- measures backoff and rate limits on one clock. It does not block.
Ngx.now = core.now

function Ngx.sleep(_, seconds)
  if seconds > 0 then ngx.sleep(seconds) end
end

function Ngx.close() end -- connections belong to the worker's cosocket pool

-- A failure result (see navixy.transport).
local function failure(err, message, phase)
  return { kind = err == "timeout" and "timeout" or "transport", message = message, phase = phase }
end

local left_ms = http1.left_ms

-- Why a handshake failed, in words a user can act on.
local function tls_message(err, server_name, self)
  local msg = "TLS handshake with " .. server_name .. " failed: " .. err
  if is_ip(server_name) then
    msg = msg .. " (nginx checks certificate names only, never IP addresses: use the host name in url)"
  end
  if self.ca_file then
    msg = msg .. " (the ngx transport ignores ca_file " .. self.ca_file
      .. ": it trusts nginx's lua_ssl_trusted_certificate)"
  elseif not err:find("mismatch", 1, true) then
    msg = msg .. " (the ngx transport trusts the CA certificates of nginx's lua_ssl_trusted_certificate)"
  end
  return msg
end

-- What connecting to URL u takes: the address, the TLS name, the pool, the
-- Host header. Worked out once for the client's URL (every call's), on each
-- call for another (a presigned URL's).
function Ngx:peer(u)
  if u == self.u and self.own_peer then return self.own_peer end
  local addr, server_name = connect_host(u.host), tls_name(u.host)
  -- one pool per peer and TLS identity: a connection verified for one name, or
  -- not verified at all, must never serve a client that expects otherwise
  local pool = ("navixy:%s:%s:%d"):format(u.scheme, addr, u.port)
  if u.scheme == "https" then
    pool = pool .. ":" .. server_name .. (self.ssl_verify and ":verify" or ":noverify")
  end
  local peer = { addr = addr, server_name = server_name, pool = pool, host_header = url.host_header(u),
                 connect_opts = { pool = pool } }
  if u == self.u then self.own_peer = peer end
  return peer
end

-- Connections that must not come from the pool get a pool name no other
-- connect uses (and are closed after their answer, never pooled).
local fresh_count = 0

-- Connects (or, unless `fresh`, takes a pooled connection) and does the TLS
-- handshake. Returns the socket, or nil and a failure result.
function Ngx:open(u, deadline, fresh)
  local peer = self:peer(u)
  local addr, server_name, connect_opts = peer.addr, peer.server_name, peer.connect_opts
  local verify = self.ssl_verify
  if fresh then
    fresh_count = fresh_count + 1
    connect_opts = { pool = peer.pool .. ":fresh:" .. fresh_count }
  end
  local sock = ngx.socket.tcp()
  local ms = left_ms(deadline)
  if not ms then return nil, failure("timeout", "timeout before connecting", "connect") end
  sock:settimeout(ms)
  local ok, err = sock:connect(addr, u.port, connect_opts)
  if not ok and tostring(err):find("no resolver", 1, true) then
    -- nginx has no `resolver`: the nameservers of /etc/resolv.conf (see navixy.transport.dns)
    local ip, why = dns.resolve(addr, left_ms(deadline) or 1)
    if not ip then return nil, failure(why:find("timeout", 1, true) and "timeout" or "transport", why, "connect") end
    sock:settimeout(left_ms(deadline) or 1)
    ok, err = sock:connect(ip, u.port, connect_opts)
  end
  if not ok then
    return nil, failure(err, "connect to " .. u.host .. ":" .. u.port .. " failed: " .. tostring(err), "connect")
  end
  if u.scheme == "https" and sock:getreusedtimes() == 0 then
    ms = left_ms(deadline)
    if not ms then
      sock:close()
      return nil, failure("timeout", "timeout before the TLS handshake", "connect")
    end
    sock:settimeout(ms)
    -- `false`: no session object wanted (pooled connections keep their TLS).
    -- With ngx_lua 0.10.23 a handshake that completes at once reports a failed
    -- verification as success and only closes the socket, so the socket is
    -- checked as well: a closed one is a rejected certificate.
    ok, err = sock:sslhandshake(false, server_name, verify)
    if ok and not sock:getreusedtimes() then
      ok, err = nil, "certificate rejected (not for this host name, or not from a trusted CA)"
    end
    if not ok then
      sock:close()
      if err == "timeout" then return nil, failure(err, "TLS handshake timed out", "connect") end
      local rejected = verify and (err:find("^%d+: ") or err:find("certificate", 1, true))
      return nil, failure(err, tls_message(err, server_name, self), rejected and "tls" or "connect")
    end
  end
  return sock
end

-- The request with its file parts' bytes read (the C core builds the
-- multipart body from bytes): a copy, the job's parts stay as they are.
local function with_bytes(req)
  if not req.parts then return req end
  local copy = {}
  for k, v in pairs(req) do copy[k] = v end
  copy.parts = {}
  for i, part in ipairs(req.parts) do
    local p = {}
    for k, v in pairs(part) do p[k] = v end
    if p.path and not p.data then p.data = upload.bytes(p) end
    copy.parts[i] = p
  end
  return copy
end

-- Raises in the phases of nginx that have no cosockets.
local function need_cosockets()
  local phase_ok, phase = runtime.yieldable()
  if not phase_ok then
    misuse("transport \"ngx\" cannot run in the %s phase: cosockets "
      .. "are not available there (leave transport unset to fall back to curl)", tostring(phase))
  end
end

--- One attempt (see navixy.transport). req.fresh: the action is not safe to
-- repeat. It then goes out on a new connection, never a kept-alive one (so
-- it is never sent twice), and that connection is closed after the answer.
-- A kept-alive connection that the server closed meanwhile (it failed
-- before any byte of the answer came) is reported as phase "stale", never
-- sent again here: whether to repeat is the policy's to say, and counts.
function Ngx:send(req)
  need_cosockets()
  local u, fresh = self.u, req.fresh
  -- a request to a URL of its own (navixy.presigned) goes to that URL's host
  if req.url then u = assert(url.parse(req.url, true)) end
  -- the C core builds <base>/<action>[?hash=] (or req.url), headers and body;
  -- answers may come compressed: http1 inflates them (the API's JSON shrinks 6-7 times)
  local request = self.handle:http1_request(with_bytes(req), self:peer(u).host_header, #u.origin)
  local now = core.now()
  local deadline = now + (req.timeout or self.timeout)
  local sock, failed = self:open(u, math.min(deadline, now + self.connect_timeout), fresh)
  if not sock then return failed end
  local reused = sock:getreusedtimes() > 0
  local ms = left_ms(deadline)
  local sent, err, answer, got
  if ms then
    sock:settimeout(ms)
    sent, err = sock:send(request)
  else
    err = "timeout"
  end
  local out = req.sink and sink.new(req.sink)
  if sent then
    local ok
    ok, answer, err, got = pcall(http1.read_response, sock, deadline, self.max_size, out)
    if not ok then -- a function sink raised
      sock:close()
      out:abort()
      error(answer, 0)
    end
  end
  if answer and answer.streamed then
    local finished, why = out:finish()
    if not finished then answer, err = nil, "sink: " .. why end
  end
  if answer then
    -- idle time and pool size: lua_socket_keepalive_timeout, lua_socket_pool_size
    if not (answer.reusable and not fresh and sock:setkeepalive()) then sock:close() end
    local h = answer.headers
    return { status = answer.status, body = not answer.streamed and answer.body or nil,
             streamed = answer.streamed, content_type = h["content-type"],
             disposition = h["content-disposition"],
             retry_after = h["retry-after"] and core.retry_after(h["retry-after"]) or nil }
  end
  sock:close()
  local delivered = out and out.size > 0 or nil
  if out then out:abort() end
  if err and err:find("^sink: ") then
    return { kind = "transport", message = err:sub(7), phase = "sink", delivered = true }
  end
  local result
  if err == "timeout" then
    result = failure("timeout", "no complete answer within the timeout", "send")
  elseif err == "limit" then
    result = failure("limit", ("answer larger than max_size (%.0f bytes)"):format(self.max_size), "limit")
  elseif reused and not got then
    result = failure(err, "the kept-alive connection was closed by the server before any answer ("
      .. tostring(err) .. ")", "stale")
  elseif got and err and err:find("over the limit", 1, true) then
    result = failure("limit", "answer " .. err, "limit")
  else
    result = failure(err, (sent and "reading the answer failed: " or "sending the request failed: ")
      .. tostring(err), "send")
  end
  result.delivered = delivered
  return result
end

--- A WebSocket on a cosocket (navixy.transport.ws_ngx), with the settings
-- `s` (see navixy.subscription): the connection, or nil and err.
function Ngx:websocket(s)
  need_cosockets()
  return require("navixy.transport.ws_ngx").open(self, s)
end

---------------------------------------------------------------- runs

-- Attempts side by side for one scheduler run: each in a light thread of the
-- request that runs the batch; a semaphore wakes wait() when one finishes.
-- Each run has its own, so requests sharing a client run batches at once.
local Runner = {}
Runner.__index = Runner

function Ngx:runner(_)
  local ok_phase, phase = runtime.yieldable()
  if not ok_phase then
    misuse("transport \"ngx\" cannot run a batch in the %s phase", tostring(phase))
  end
  return setmetatable({ transport = self, threads = {}, done = {}, sema = semaphore.new() }, Runner)
end

function Runner:start(slot, req)
  local transport, done, sema = self.transport, self.done, self.sema
  local th, err = ngx.thread.spawn(function()
    local ok, result = pcall(transport.send, transport, req)
    done[#done + 1] = { slot = slot, result = ok and result or nil, raised = not ok and result or nil }
    sema:post(1)
  end)
  if not th then misuse("cannot start a light thread: %s", tostring(err)) end
  self.threads[slot] = th
end

function Runner:wait(seconds, out)
  if not self.sema:wait(seconds) then return 0 end
  local item = table.remove(self.done, 1)
  self.threads[item.slot] = nil
  if item.raised ~= nil then error(item.raised, 0) end
  out[1], out[2] = item.slot, item.result
  return 1
end

function Runner:cancel()
  for slot, th in pairs(self.threads) do
    ngx.thread.kill(th)
    self.threads[slot] = nil
  end
  self.done = {}
  self.sema = semaphore.new()
end

function Runner.finish() end

return M

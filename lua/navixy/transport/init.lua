--- Transports: how a client's requests leave the process.
--
--   navixy.transport.curl   libcurl through navixy.core (blocking)
--   navixy.transport.ngx    cosockets inside nginx (non-blocking)
--
-- The contract every transport keeps (the call pipeline, navixy.call, and
-- the batch scheduler, navixy.batch.scheduler, rely on nothing else):
--
-- A request is a table; a transport reads only these fields:
--   action      the path after the base URL ("tracker/list")
--   method      "POST" (nil too) or "GET"
--   body        the encoded params: JSON or form text for a POST, the query
--               string for a GET ("" with parts)
--   parts       nil, or the multipart/form-data parts (navixy.upload.parts)
--   timeout     seconds for the whole attempt, or nil for the client's
--   fresh       true: never on a kept-alive connection (an action that is not
--               safe to repeat: a transport must never send it twice)
--   anonymous   true: without the hash (a login)
--   headers     nil, or the call's header lines ("Name: value\n" each): each
--               replaces the client's header of that name
--   query       nil, or a query string added to the URL, whatever the method
--   url         nil, or an absolute URL to send to instead of <base>/<action>
--               (a presigned upload's; never with the hash, any auth mode)
--   sink        nil, or where a 2xx answer that is not JSON streams to
--               (navixy.sink: a path, a file handle or a function)
--
-- A result is a new table, one of:
--   { status = 200, body = "...", retry_after = seconds|nil,
--     content_type = "...", disposition = "...", streamed = bytes|nil }
--       an answer arrived (whatever its status); streamed: the body went to
--       the sink (body is nil then)
--   { kind = "timeout"|"transport", message = "...", phase = ...,
--     delivered = true|nil }
--       none did; phase says how far the request got: "connect" (not sent),
--       "tls" (certificate rejected), "send" (sent, outcome unknown),
--       "stale" (a kept-alive connection the server had closed), "limit"
--       (the answer or its headers over the limits), "request" (the request
--       cannot be made: a URL too long or malformed), "sink" (writing to the
--       sink failed), "interrupted" (Ctrl-C); delivered: part of the body
--       went to the sink already
--
-- Methods:
--   t:send(req) -> result        one attempt; returns when it is over (the
--                                ngx transport yields to nginx meanwhile)
--   t:runner(run) -> r           attempts side by side, for one scheduler run:
--     r:start(slot, req)           starts an attempt without waiting, in slot
--                                  1..n (one attempt per slot at a time)
--     r:wait(seconds, out) -> n   the next events of started attempts,
--                                  waiting at most `seconds` for the first:
--                                  n pairs in the table out, out[2k - 1] the
--                                  slot and out[2k] its event: its result,
--                                  or { chunk = } when its body streams to a
--                                  sink (then r:resume(slot) for the next);
--                                  0 when none came in time
--     r:resume(slot), r:drop(slot) go on after a chunk; drop one attempt
--     r:cancel()                   drops every started attempt
--     r:finish()                   the run is over (after cancel if need be)
--                                A transport that cannot run two at once
--                                gives up a run left open between its steps
--                                (run:supersede()) and raises for one inside
--                                a step (run:busy()).
--   t:websocket(settings) -> conn | nil, err
--                                a WebSocket for a subscription (see
--                                navixy.transport.ws_ngx for conn's methods)
--   t:sleep(seconds), t:now()    waits and a monotonic clock (navixy.core's)
--   t:yields()                   true when sleep and send let other
--                                coroutines of the process run meanwhile
--   t:name(), t:close()
--
-- Left unset, the choice is made per operation, by the nginx phase the CALL
-- runs in, not the one the client was created in: a client made in
-- init_by_lua or init_worker_by_lua (where cosockets do not exist) uses
-- cosockets when content_by_lua calls it, and libcurl when log_by_lua or a
-- header filter does.
local curl = require "navixy.transport.curl"
local errors = require "navixy.errors"
local ngx_transport = require "navixy.transport.ngx"
local runtime = require "navixy.runtime"

local M = {}

local Auto = {}

function Auto:pick()
  if runtime.yieldable() then return self.ngx end
  return self.curl
end

function Auto:name() return self:pick():name() end
function Auto:send(req) return self:pick():send(req) end
function Auto:sleep(seconds) return self:pick():sleep(seconds) end
function Auto:runner(run) return self:pick():runner(run) end
function Auto:websocket(s) return self:pick():websocket(s) end
-- both use navixy.core's monotonic clock: one clock whatever the phase
Auto.now = curl.now

function Auto:close()
  self.curl:close()
  self.ngx:close()
end

-- The choice is per call, so whether sleep and send yield is too.
function Auto:yields() return self:pick():yields() end

Auto.__index = Auto

--- The transport for a client: `o` are the checked options of navixy.new,
-- `handle` its navixy.core client. Raises (at navixy.new) on a choice that
-- cannot work.
function M.open(o, handle)
  if o.loop then return require("navixy.transport.loop").new(handle, o.loop) end
  if o.transport == "curl" then return curl.new(handle) end
  local in_nginx = runtime.in_nginx()
  if o.transport == "ngx" then
    if not in_nginx then
      errors.misuse("transport \"ngx\" needs OpenResty (nginx with the Lua module, http subsystem); "
        .. "this Lua has no ngx.socket: use transport = \"curl\" or leave it unset")
    end
    return ngx_transport.new(handle, o)
  end
  if not in_nginx then return curl.new(handle) end
  return setmetatable({ curl = curl.new(handle), ngx = ngx_transport.new(handle, o) }, Auto)
end

return M

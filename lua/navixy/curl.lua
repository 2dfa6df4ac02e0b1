--- The blocking transport: libcurl through navixy.core. Any transport has
-- this shape: send(action, body, timeout[, fresh]) returning status, body,
-- retry_after_seconds or nil, kind, message, phase; sleep(s); now(); close();
-- and, for client:batch, parallel(n, work): calls work(transport, i) for
-- i = 1..n side by side, each with a transport of the same shape whose
-- send and sleep let the others run, and returns when all have returned
-- (raising, with nothing left in flight, if one raised).
local core = require "navixy.core"
local multi = require "navixy.multi"

local Curl = {}
Curl.__index = Curl

local M = {}

--- `handle` is the navixy.core client that also places the hash.
function M.new(handle)
  return setmetatable({ handle = handle }, Curl)
end

--- `fresh` (optional): true for an action not safe to repeat, which then
-- never goes out on a kept-alive connection (see client:request in client.c).
function Curl:send(action, body, timeout, fresh)
  return self.handle:request(action, body, timeout, fresh)
end

--- Workers on the client's curl multi handle (see navixy.multi).
function Curl:parallel(n, work)
  return multi.run(self.handle, n, work)
end

Curl.name = function() return "curl" end
Curl.sleep = function(_, seconds) core.sleep(seconds) end
Curl.now = function() return core.now() end

function Curl.close() end -- the handle is closed by the client

return M

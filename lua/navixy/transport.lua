--- Which transport a client sends with: libcurl (navixy.curl, blocking) or
-- cosockets (navixy.ngx, non-blocking inside nginx).
--
-- transport = "curl" or "ngx" fixes the choice. Left unset, the choice is
-- made per operation, by the nginx phase the CALL runs in, not the one the
-- client was created in: a client made in init_by_lua or init_worker_by_lua
-- (where cosockets do not exist) uses cosockets when content_by_lua calls it,
-- and libcurl when log_by_lua or a header filter does.
local curl = require "navixy.curl"
local ngx_transport = require "navixy.ngx"

local M = {}

local Auto = {}
Auto.__index = Auto

function Auto:pick()
  if ngx_transport.yieldable() then return self.ngx end
  return self.curl
end

function Auto:name() return self:pick():name() end
function Auto:send(action, body, timeout, fresh) return self:pick():send(action, body, timeout, fresh) end
function Auto:sleep(seconds) return self:pick():sleep(seconds) end
function Auto:parallel(n, work) return self:pick():parallel(n, work) end
-- both use navixy.core's monotonic clock: one clock whatever the phase
function Auto:now() return self.ngx:now() end

function Auto:close()
  self.curl:close()
  self.ngx:close()
end

--- The transport for a client: `o` are the checked options of navixy.new,
-- `handle` its navixy.core client. Raises (at navixy.new) on a choice that
-- cannot work.
function M.open(o, handle)
  if o.transport == "curl" then return curl.new(handle) end
  local in_nginx = ngx_transport.in_nginx()
  if o.transport == "ngx" then
    if not in_nginx then
      error("navixy: transport \"ngx\" needs OpenResty (nginx with the Lua module, http subsystem); "
        .. "this Lua has no ngx.socket: use transport = \"curl\" or leave it unset", 0)
    end
    return ngx_transport.new(handle, o)
  end
  if not in_nginx then return curl.new(handle) end
  if o.proxy then
    error("navixy: option 'proxy' is not supported by the ngx transport, which a client inside nginx "
      .. "uses by default; set transport = \"curl\" to use the proxy (each call then blocks the worker)", 0)
  end
  return setmetatable({ curl = curl.new(handle), ngx = ngx_transport.new(handle, o) }, Auto)
end

return M

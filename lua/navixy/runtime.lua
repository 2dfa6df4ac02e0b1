--- Where this Lua runs: inside nginx or not, in which phase, for which
-- request. Asked by the transports (which one a call takes), by sessions
-- (whose coroutine holds a login) and by the stores (may they yield).
local M = {}

-- Phases whose Lua code may yield to the event loop (cosockets, ngx.sleep).
local YIELDABLE = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

--- True inside nginx's http subsystem (whatever the phase).
function M.in_nginx()
  local n = rawget(_G, "ngx")
  return type(n) == "table" and type(n.socket) == "table" and type(n.config) == "table"
    and n.config.subsystem == "http"
end

--- The nginx request this code runs for, as its ngx.ctx table (one per
-- request, timers included), or nil outside nginx and outside requests.
function M.request()
  if not M.in_nginx() then return nil end
  local ok, ctx = pcall(function() return ngx.ctx end)
  return ok and ctx or nil
end

--- The current nginx phase when cosockets can run in it, else nil and the phase.
function M.yieldable()
  if not M.in_nginx() then return nil, "outside nginx" end
  local phase = ngx.get_phase()
  if YIELDABLE[phase] then return phase end
  return nil, phase
end

return M

--- client.tracker.get_state{...} → client:call("tracker/get_state", {...}).
-- A namespace is a path bound to a client; indexing extends the path and
-- calling it calls the action. Nothing is generated ahead of time.
local Namespace = {}

-- Table keys, not strings, so that no action name can collide with them.
local CLIENT, PATH = {}, {}

local M = {}

function M.new(client, path)
  return setmetatable({ [CLIENT] = client, [PATH] = path }, Namespace)
end

function M.is_namespace(v)
  return getmetatable(v) == Namespace
end

Namespace.__index = function(ns, key)
  if type(key) ~= "string" then return nil end
  return M.new(rawget(ns, CLIENT), rawget(ns, PATH) .. "/" .. key)
end

-- Both ns.a.b(params) and ns.a:b(params) work: with ':' the first argument
-- is the parent namespace, and it is skipped.
Namespace.__call = function(ns, first, ...)
  if getmetatable(first) == Namespace then
    return rawget(ns, CLIENT):call(rawget(ns, PATH), ...)
  end
  return rawget(ns, CLIENT):call(rawget(ns, PATH), first, ...)
end

Namespace.__tostring = function(ns)
  return "navixy action " .. rawget(ns, PATH)
end

return M

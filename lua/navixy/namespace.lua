--- client.tracker.get_state{...} → client:call("tracker/get_state", {...}).
-- A namespace is a path bound to a client; indexing extends the path and
-- calling it calls the action. Nothing is generated ahead of time, and each
-- name is resolved once: a child namespace is kept in its parent (under its
-- name, as lua-resty-redis keeps the methods it builds), so
-- client.tracker.list costs two table lookups after the first use.
local Namespace = {}

-- Table keys, not strings, so that no action name can collide with them.
local CLIENT, PATH, COUNT = {}, {}, {}

-- Children kept per namespace: a program uses few action names; one that
-- makes up names endlessly still works, uncached past this many.
local MAX_CHILDREN = 256

local M = {}

function M.new(client, path)
  return setmetatable({ [CLIENT] = client, [PATH] = path, [COUNT] = 0 }, Namespace)
end

--- The child of `parent` (a namespace, or a client's name cache) named
-- `key`, made and kept on first use.
function M.child(parent, client, path, key)
  local ns = M.new(client, path)
  local n = rawget(parent, COUNT) or 0
  if n < MAX_CHILDREN then
    rawset(parent, key, ns)
    rawset(parent, COUNT, n + 1)
  end
  return ns
end

function M.is_namespace(v)
  return getmetatable(v) == Namespace
end

Namespace.__index = function(ns, key)
  if type(key) ~= "string" then return nil end
  return M.child(ns, rawget(ns, CLIENT), rawget(ns, PATH) .. "/" .. key, key)
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

--- client.tracker.get_state{...} → client:call("tracker/get_state", {...}).
-- A namespace is a path bound to a client; indexing extends the path and
-- calling it calls the action. Nothing is generated ahead of time, and each
-- name is resolved once: a child namespace is kept in its parent (under its
-- name, as lua-resty-redis keeps the methods it builds), so
-- client.tracker.list costs two table lookups after the first use.
-- What is under a namespace comes from the catalogue of documented actions
-- (pairs, tostring), loaded only then.
local Namespace = {}

-- Table keys, not strings, so that no action name can collide with them.
-- BASE: where the client's actions are in the catalogue ("panel/" for a
-- panel client, else "").
local CLIENT, PATH, COUNT, BASE = {}, {}, {}, {}

-- Children kept per namespace: a program uses few action names; one that
-- makes up names endlessly still works, uncached past this many.
local MAX_CHILDREN = 256

local M = {}

function M.new(client, path, base)
  return setmetatable({ [CLIENT] = client, [PATH] = path, [COUNT] = 0, [BASE] = base }, Namespace)
end

--- The child of `parent` (a namespace, or a client's name cache) named
-- `key`, made and kept on first use.
function M.child(parent, client, path, key, base)
  local ns = M.new(client, path, base)
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
  return M.child(ns, rawget(ns, CLIENT), rawget(ns, PATH) .. "/" .. key, key, rawget(ns, BASE))
end

-- Both ns.a.b(params) and ns.a:b(params) work: with ':' the first argument
-- is the parent namespace, and it is skipped.
Namespace.__call = function(ns, first, ...)
  local client = rawget(ns, CLIENT)
  if getmetatable(first) == Namespace then
    return client:call(rawget(ns, PATH), ...)
  end
  if first == client then -- client:bacth(...): a method name mistyped, not an action
    require("navixy.help").not_a_method(getmetatable(client).__index, rawget(ns, PATH))
  end
  return client:call(rawget(ns, PATH), first, ...)
end

-- What is documented under a namespace, from navixy.help (loaded then):
-- pairs(client.tracker) gives each name under it and its namespace (Lua
-- 5.2+: on 5.1 and LuaJIT, navixy.actions("tracker") or tostring);
-- tostring says "navixy namespace tracker: alarm_mode, ..., list, ..." or,
-- with nothing under it, "navixy action tracker/list".
Namespace.__pairs = function(ns)
  return require("navixy.help").namespace_pairs(ns, rawget(ns, BASE) .. rawget(ns, PATH))
end

Namespace.__tostring = function(ns)
  return require("navixy.help").namespace_line(rawget(ns, PATH), rawget(ns, BASE) .. rawget(ns, PATH))
end

return M

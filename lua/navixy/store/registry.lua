--- Which values are stores: those navixy.store.ngx and navixy.store.redis
-- made. A module of its own, needing nothing, so that navixy.options can
-- check the `store` option without requiring the stores (which require it).
local M = {}

local made = setmetatable({}, { __mode = "k" })

--- Marks `store` as made by a store constructor; returns it.
function M.register(store)
  made[store] = true
  return store
end

--- Whether navixy.new accepts `v` as its `store` option.
function M.is_store(v)
  return made[v] == true
end

return M

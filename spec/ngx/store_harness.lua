-- The Lua side of spec/ngx/store.conf.in: one client per worker, made in
-- init_worker_by_lua as the README recommends, whose session and rate limit
-- live in the store the spec asked for; /call makes one call with it and
-- answers what happened, for spec/ngx/shared_spec.lua to add up.
local cjson = require "cjson.safe"
local navixy = require "navixy"

local M = {}

local client

--- config (JSON): url, login, password, rate_limit, retries, store ("ngx" or
-- "redis"), redis = { port, timeout, ... }.
function M.init_worker(text)
  local config = assert(cjson.decode(text))
  local store
  if config.store == "ngx" then
    store = navixy.store.ngx("navixy_store")
  else
    store = navixy.store.redis(config.redis)
  end
  client = navixy.new {
    url = config.url, login = config.login, password = config.password, store = store,
    rate_limit = config.rate_limit, retries = config.retries, timeout = config.timeout,
    on_request = function(info)
      local ctx = ngx.ctx
      ctx.requests = (ctx.requests or 0) + 1
      if info.status == 429 then ctx.refused = (ctx.refused or 0) + 1 end
      if info.action == "user/auth" then ctx.logins = (ctx.logins or 0) + 1 end
      if info.store_error then ctx.store_error = info.store_error end
    end,
  }
end

function M.call()
  local res, err = client.tracker.get_state { tracker_id = 1 }
  local ctx = ngx.ctx
  ngx.say(cjson.encode {
    ok = res ~= nil, worker = ngx.worker.pid(), err = err and tostring(err) or nil,
    requests = ctx.requests or 0, refused = ctx.refused or 0, logins = ctx.logins or 0,
    store_error = ctx.store_error,
  })
end

-- What a worker that died inside a store operation leaves in the dict: the
-- lock of every record there, taken and never given back (it lapses by its
-- own TTL, store.ngx.LOCK_TTL). Answers how many.
function M.hold_locks()
  local dict, held = ngx.shared.navixy_store, 0
  for _, name in ipairs(dict:get_keys(0)) do
    if not name:find("|lock", 1, true) then
      assert(dict:add(name .. "|lock", true, require("navixy.store.ngx").LOCK_TTL))
      held = held + 1
    end
  end
  ngx.say(cjson.encode { held = held })
end

-- The client as tostring shows it, after one call (which tries the store).
function M.describe()
  client.tracker.get_state { tracker_id = 1 }
  ngx.say(cjson.encode { client = tostring(client) })
end

return M

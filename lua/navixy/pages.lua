--- client:pages(action, params, opts): the items of an offset/limit list,
-- page by page, as a generic for iterator:
--
--   for item, i in client:pages("task/list", { filter = "x" }, { limit = 50 }) do ... end
--
-- Each page is `action` with params plus offset and limit; the answer's
-- `count` (the whole list's length, whatever offset and limit) says where it
-- ends. Without a count the list ends at a page shorter than the limit, and
-- an empty page ends it whatever the count says (a list that shrank while it
-- was read never loops). opts.ahead = N fetches the next N pages beside the
-- one needed, through client:batch. A failed page raises its error object
-- (navixy.is_error(e) is true): a loop never ends early in silence.
local errors = require "navixy.errors"
local options = require "navixy.options"

local type, floor = type, math.floor

local M = {}

M.LIMIT = 100 -- items per page unless opts.limit says otherwise

local fail = errors.misuse

local OWN = { limit = "number", list = "string", ahead = "number", cursor = "string", url = "string",
              auth = "string" }
local CALL = { timeout = true, retries = true, method = true, idempotent = true }

--- Checks the options of helper `name` (raises on misuse, naming it) and
-- splits them: the helper's own (`own` maps their names to their type), and
-- the call options (`call` names those passed on), checked as call options.
function M.split(name, opts, own_types, call)
  if opts == nil then return {}, nil end
  if type(opts) ~= "table" then fail("%s options must be a table, got %s", name, type(opts)) end
  local own, call_opts = {}, nil
  for k, v in pairs(opts) do
    if own_types[k] then
      if type(v) ~= own_types[k] then fail("%s option '%s' must be a %s, got %s", name, k, own_types[k], type(v)) end
      own[k] = v
    elseif call[k] then
      call_opts = call_opts or {}
      call_opts[k] = v
    else
      fail("unknown %s option '%s'", name, tostring(k))
    end
  end
  options.call_options(call_opts)
  return own, call_opts
end

-- Checks opts (raises on misuse) and splits them: the iterator's own, the call options.
function M.options(opts)
  local own, call_opts = M.split("client:pages", opts, OWN, CALL)
  for _, k in ipairs{ "limit", "ahead" } do
    local v = own[k]
    if v and (v ~= floor(v) or v < (k == "limit" and 1 or 0) or v > 1e6) then
      fail("client:pages option '%s' must be a whole number %s", k, k == "limit" and ">= 1" or ">= 0")
    end
  end
  return own, call_opts
end

-- params with offset and limit set (a copy: the caller's table is left alone).
local function page_params(params, offset, limit)
  local p = options.into({}, params)
  p.offset, p.limit = offset, limit
  return p
end

--- The iterator over `action`'s list (see the top of this file). With
-- opts.cursor, `action` is a GraphQL query and `params` its variables: the
-- nodes of the Relay connection at that path (navixy.graphql.iterate, with
-- the context `graphql_ctx()` gives).
function M.iterate(client, action, params, opts, graphql_ctx)
  if params ~= nil and type(params) ~= "table" then fail("params must be a table, got %s", type(params)) end
  local own, call_opts = M.options(opts)
  if own.cursor then
    if own.list or own.ahead then
      fail("client:pages options 'list' and 'ahead' are for offset/limit lists, not a cursor")
    end
    if type(action) ~= "string" then fail("client:pages with a cursor expects a GraphQL query string") end
    return require("navixy.graphql").iterate(client, graphql_ctx(), action, params, own, call_opts)
  end
  if own.url or own.auth then fail("client:pages options 'url' and 'auth' go with 'cursor' (GraphQL)") end
  options.action(action)
  if params and (params.offset ~= nil or params.limit ~= nil) then
    fail("client:pages sets offset and limit itself: give the page size as opts.limit")
  end
  local limit, field, ahead = own.limit or M.LIMIT, own.list or "list", own.ahead or 0
  local ready = {}                   -- pages fetched ahead, in order
  local next_offset, count, done = 0, nil, false

  -- The items of one answer, or a raised error for an answer without them.
  local function items_of(res)
    local list = res[field]
    if type(list) ~= "table" then
      error(errors.new({ kind = "decode", action = action, response = res,
        description = "the answer has no list field '" .. field .. "' (set opts.list)" }), 0)
    end
    if type(res.count) == "number" then count = res.count end
    return list
  end

  local function more()
    if #ready > 0 then return table.remove(ready, 1) end
    if done or (count and next_offset >= count) then return nil end
    local n = 1
    if count and ahead > 0 then n = math.min(ahead + 1, math.ceil((count - next_offset) / limit)) end
    if n == 1 then
      local res, err = client:call(action, page_params(params, next_offset, limit), call_opts)
      if not res then error(err, 0) end
      next_offset = next_offset + limit
      return items_of(res)
    end
    local calls = {}
    for i = 1, n do calls[i] = { action, page_params(params, next_offset + (i - 1) * limit, limit), call_opts } end
    next_offset = next_offset + n * limit
    local results = client:batch(calls)
    for _, r in ipairs(results) do
      if r.err then error(r.err, 0) end
      ready[#ready + 1] = items_of(r.result)
    end
    return table.remove(ready, 1)
  end

  return M.items(function()
    if done then return nil end
    local list = more()
    -- an empty page, or a short one where no count says more, is the end
    if not list or #list == 0 then done = true; return nil end
    if not count and #list < limit then done = true end
    return list
  end)
end

--- The iterator over the items of the pages next_page() gives, one array
-- at a time, until it gives nil or an empty one (and again nil after
-- that): item, its index over all pages.
function M.items(next_page)
  local items, pos, index = {}, 0, 0
  return function()
    pos = pos + 1
    while items[pos] == nil do
      local list = next_page()
      if not list or #list == 0 then return nil end
      items, pos = list, 1
    end
    index = index + 1
    return items[pos], index
  end
end

return M

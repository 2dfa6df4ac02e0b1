-- Set-up shared by the client specs: clients of the fake server, and small
-- table helpers.
--
--   local setup = require "setup"
--   describe("...", function()
--     local client
--     setup.client_per_test(function(c) client = c end)   -- fake reset, new client, closed after
local busted = require "busted" -- before_each and after_each live in the specs' environment
local navixy = require "navixy"
local fake = require "fake"

local M = {}

--- navixy.new for the fake server: its URL and the demo user's API key,
-- with `opts` added (or overriding).
function M.client(opts)
  local o = { url = fake.url, hash = fake.api_key }
  for k, v in pairs(opts or {}) do o[k] = v end
  return navixy.new(o)
end

--- In a describe block: before each test the fake server is reset and a
-- new M.client(opts) is handed to `set`; after it, that client is closed.
function M.client_per_test(set, opts)
  local current
  busted.before_each(function()
    fake.reset()
    current = M.client(opts)
    set(current)
  end)
  busted.after_each(function() current:close() end)
end

--- The number of keys of t.
function M.count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

--- { first, first + 1, ..., last }
function M.range(first, last)
  local list = {}
  for i = first, last do list[#list + 1] = i end
  return list
end

--- The message fn(...) raised, as raised: without what busted's has_error
-- strips (a "file:line:" prefix), so a test can hold it to "^navixy: ".
function M.raised(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert(not ok, "expected an error")
  return msg
end

return M

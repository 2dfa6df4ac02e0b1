#!/usr/bin/env lua5.4
--- How many times one call moves between the library's Lua files.
--
--   NAVIXY_FAKE_PORT=N lua5.4 tools/trace-call.lua     (any Lua: lua5.1 ... luajit)
--
-- Runs client.tracker.list() against the fake Navixy server (started if it
-- is not up) with a call and return hook, and prints the route of the
-- second call (the first also logs in) as the sequence of lua/navixy files
-- it runs in, the number of moves between them and how often each file is
-- entered. The same trace runs inside nginx (the ngx transport) from
-- spec/ngx/harness.lua's /trace location: `M.trace` is that one function.
local M = {}

-- The library file a source names ("navixy/call.lua"), or nil for code that
-- is not the library's (this tool, the C core, Lua's own functions).
local function library_file(source)
  if source:sub(1, 1) ~= "@" then return nil end
  return ("/" .. source:sub(2)):match("^.*/(navixy/[%w_/]+%.lua)$")
end

--- Runs fn() with the hook on; returns the route (library files in the
-- order the code ran in them, one entry per move) and what fn returned.
function M.trace(fn)
  local route, current = {}, nil
  local function note(level)
    local info = debug.getinfo(level, "S")
    local file = info and library_file(info.source)
    if file and file ~= current then
      current = file
      route[#route + 1] = file
    end
  end
  -- levels as seen from note: 2 is the hook, 3 the function that made the
  -- event; after a call the running function is that one, after a return
  -- the one it returns to (4)
  debug.sethook(function(event) note(event == "return" and 4 or 3) end, "cr")
  local res, err = fn()
  debug.sethook()
  return route, res, err
end

--- The moves of a route and the entries per file, as text lines.
function M.report(route)
  local lines, entered, order = {}, {}, {}
  for i, file in ipairs(route) do
    lines[#lines + 1] = ("%3d  %s"):format(i - 1, file)
    if not entered[file] then order[#order + 1] = file end
    entered[file] = (entered[file] or 0) + 1
  end
  lines[#lines + 1] = ("moves between Lua files: %d"):format(math.max(#route - 1, 0))
  for _, file in ipairs(order) do
    lines[#lines + 1] = ("  %-34s entered %d time(s)"):format(file, entered[file])
  end
  return table.concat(lines, "\n")
end

-- Run as a script (not required as a module): the curl transport.
if not pcall(debug.getlocal, 4, 1) then
  local root = arg[0]:match("^(.*)/tools/[^/]*$") or "."
  local flavour = rawget(_G, "jit") and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/spec/support/?.lua;"
    .. package.path
  package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath
  if rawget(_G, "jit") then jit.off() end -- hooks do not fire in compiled traces
  local fake = require "fake"
  fake.ensure()
  local navixy = require "navixy"
  local client = navixy.new { url = fake.url, login = fake.users.demo.login,
                              password = fake.users.demo.password, transport = "curl" }
  assert(client.tracker.list()) -- the first call logs in
  local route, res, err = M.trace(function() return client.tracker.list() end)
  assert(res, tostring(err))
  print(("client.tracker.list() on %s, curl transport:"):format(flavour))
  print(M.report(route))
  client:close()
end

return M

#!/usr/bin/env lua5.4
--- How many times one call moves between the library's Lua files.
--
--   NAVIXY_FAKE_PORT=N lua5.4 tools/trace-call.lua       (any Lua: lua5.1 ... luajit)
--   NAVIXY_FAKE_PORT=N lua5.4 tools/trace-call.lua ngx   (inside nginx: cosockets)
--
-- Runs client.tracker.list() against the fake Navixy server (started if it
-- is not up) with a call and return hook, and prints the route of the
-- second call (the first also logs in) as the sequence of lua/navixy files
-- it runs in, the number of moves between them (a call into another file
-- and the return out of it are two) and how often each file is entered.
-- With `ngx` the same runs in a content handler of an nginx of its own
-- (build/trace-ngx, on NAVIXY_FAKE_PORT + 20, stopped afterwards).
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

--- The route of client.tracker.list() for a client made with `opts` (the
-- fake's URL and login): the report's text.
function M.run(opts)
  if rawget(_G, "jit") then jit.off() end -- hooks do not fire in compiled traces
  local client = require("navixy").new(opts)
  assert(client.tracker.list()) -- the first call logs in
  local route, res, err = M.trace(function() return client.tracker.list() end)
  client:close()
  assert(res, tostring(err))
  return M.report(route)
end

-- An nginx of its own that answers GET /trace with M.run's report, made in
-- its content phase (the ngx transport); rendered into `dir`.
local NGINX_CONF = [[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
%s
daemon on;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 16; }
http {
    access_log off;
    client_body_temp_path %s/tmp;
    lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;%s/tools/?.lua;;";
    lua_package_cpath "%s/build/luajit/?.so;;";
    server {
        listen 127.0.0.1:%d;
        location = /trace {
            content_by_lua_block {
                ngx.say(require("trace-call").run { url = "%s", login = "%s", password = "%s" })
            }
        }
    }
}
]]

local function in_nginx(root, fake)
  local dir = root .. "/build/trace-ngx"
  local port = fake.port + 20
  assert(os.execute("mkdir -p " .. dir .. "/tmp"))
  local user = io.popen("id -u"):read("*l") == "0" and "user root;" or ""
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(NGINX_CONF:format(user, dir, dir, dir, root, root, root, root, port,
    fake.url, fake.users.demo.login, fake.users.demo.password))
  f:close()
  local nginx = "nginx -p " .. dir .. "/ -c " .. dir .. "/nginx.conf -e " .. dir .. "/error.log"
  assert(os.execute(nginx), "nginx did not start: see " .. dir .. "/error.log")
  os.execute("sleep 0.3")
  local curl = io.popen(("curl -sS --max-time 20 http://127.0.0.1:%d/trace"):format(port))
  local text = curl:read("*a")
  curl:close()
  os.execute(nginx .. " -s stop")
  return text
end

-- Run as a script (not required as a module, nor inside nginx).
local script = rawget(_G, "arg") and arg[0] and arg[0]:find("trace%-call%.lua$")
if script then
  local root = arg[0]:match("^(.*)/tools/[^/]*$") or "."
  if root:sub(1, 1) ~= "/" then root = io.popen("pwd"):read("*l") .. "/" .. root end
  local flavour = rawget(_G, "jit") and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/spec/support/?.lua;"
    .. package.path
  package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath
  local fake = require "fake"
  fake.ensure()
  if arg[1] == "ngx" then
    print("client.tracker.list() inside nginx, ngx transport (content phase):")
    io.write(in_nginx(root, fake))
  else
    print(("client.tracker.list() on %s, curl transport:"):format(flavour))
    print(M.run { url = fake.url, login = fake.users.demo.login, password = fake.users.demo.password,
                  transport = "curl" })
  end
end

return M

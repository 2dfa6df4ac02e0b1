-- An nginx example of examples/ run as printed, as the README tells users
-- to: `nginx -p PREFIX/ -c FILE` with the rock in PREFIX/lua_modules (here
-- links to this checkout's lua/navixy and build/luajit/navixy) and logs in
-- PREFIX/logs. One line cannot come from the prefix or the environment: the
-- example's `listen 8080;` (a fixed port would collide with other runs), so
-- nginx reads a copy that differs in that line alone (as spec/support/ngx-client
-- does for the README's examples).
local fake = require "fake"
local files = require "local_files"
local sockets = require "sockets"
local socket = require "socket"

local q, read, sh = files.quote, files.read, files.output_trimmed

local M = {}

local function ok(r) return r == true or r == 0 end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- Prepares examples/NAME.conf in the prefix `dir` to listen on
-- 127.0.0.1:`port`; returns the path of the copy nginx reads.
function M.prepare(name, dir, port)
  local tree = dir .. "/lua_modules"
  assert(ok(os.execute(("rm -rf %s && mkdir -p %s/logs %s/share/lua/5.1 %s/lib/lua/5.1")
    :format(q(dir), q(dir), q(tree), q(tree)))))
  assert(ok(os.execute(("ln -s %s/lua/navixy %s/share/lua/5.1/navixy"):format(q(fake.root), q(tree)))))
  assert(ok(os.execute(("ln -s %s/build/luajit/navixy %s/lib/lua/5.1/navixy"):format(q(fake.root), q(tree)))))
  local conf = read(fake.root .. "/examples/" .. name .. ".conf")
  local from = "\n        listen 8080;\n"
  local at = conf:find(from, 1, true)
  assert(at and not conf:find(from, at + 1, true), "examples/" .. name .. ".conf has no one line 'listen 8080;'")
  write(dir .. "/nginx.conf", (conf:gsub(from, ("\n        listen 127.0.0.1:%d;\n"):format(port), 1)))
  return dir .. "/nginx.conf"
end

--- Starts nginx on the prepared prefix `dir` with the environment `env`
-- (name = value), through `wrap` (a function of the shell command, e.g. to
-- run it in a namespace; default: as it is); waits for `port`. Returns
-- stop().
function M.start(dir, port, env, wrap)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
  local user = sh("id -u") == "0" and " -g 'user root;'" or "" -- workers that can read any checkout
  local cmd = ("exec env -u LD_PRELOAD %s nginx -p %s/ -c %s/nginx.conf%s")
    :format(table.concat(vars, " "), q(dir), q(dir), user)
  assert(ok(os.execute((wrap or function(c) return c end)(cmd))),
    "nginx did not start: see " .. dir .. "/logs/error.log")
  for _ = 1, 50 do
    if sockets.port_open(port) then break end
    socket.sleep(0.1)
  end
  return function()
    local pid = sh("cat " .. q(dir .. "/logs/nginx.pid") .. " 2>/dev/null")
    if pid == "" then return end
    os.execute("kill -TERM " .. pid)
    for _ = 1, 50 do
      if not ok(os.execute("kill -0 " .. pid .. " 2>/dev/null")) then break end
      socket.sleep(0.1)
    end
  end
end

--- The last lines of the prefix's error log, for a failure message.
function M.errors(dir)
  return sh("tail -5 " .. q(dir .. "/logs/error.log") .. " 2>&1")
end

return M

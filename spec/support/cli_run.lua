-- Runs the navixy command (bin/navixy) as a subprocess, for the specs in
-- spec/cli: with the interpreter that runs the specs (lua5.1 ... lua5.4 or
-- luajit), from an empty environment plus what the test sets (so that the
-- developer's own NAVIXY_* variables cannot change a result), standard
-- input from a file (default /dev/null: not a terminal).
local fake = require "fake"
local files = require "local_files"

local LUA = require "flavour"
local q = files.quote

local M = {}

local tmp = {} -- files to remove after each test (M.cleanup)

--- A temporary file name, removed by M.cleanup.
function M.tmpname()
  local name = os.tmpname()
  tmp[#tmp + 1] = name
  return name
end

--- A temporary file holding `text`: its name.
function M.tmpfile(text)
  local name = M.tmpname()
  local f = assert(io.open(name, "wb"))
  f:write(text)
  f:close()
  return name
end

function M.cleanup()
  for _, name in ipairs(tmp) do os.remove(name) end
  tmp = {}
end

--- Runs `navixy ARGS` with env vars `env` and standard input from the file
-- `stdin` (default /dev/null): { status, stdout, stderr }. The exit status
-- comes from the shell's $?, the same on Lua 5.1 and 5.4 (os.execute's
-- results differ between them).
function M.navixy(args, env, stdin)
  local out, err = M.tmpname(), M.tmpname()
  local cmd = { "env -i PATH=" .. q(os.getenv("PATH")) }
  for k, v in pairs(env or {}) do cmd[#cmd + 1] = k .. "=" .. q(v) end
  cmd[#cmd + 1] = LUA .. " bin/navixy"
  for _, a in ipairs(args) do cmd[#cmd + 1] = q(a) end
  local p = io.popen(table.concat(cmd, " ") .. " <" .. q(stdin or "/dev/null") .. " >" .. out .. " 2>" .. err
    .. "; echo $?")
  local status = tonumber(p:read("*a"))
  p:close()
  return { status = status, stdout = files.read(out), stderr = files.read(err) }
end

--- The usual way in: the fake's URL and API key from the environment.
function M.with_key(args, env, stdin)
  env = env or {}
  env.NAVIXY_URL = env.NAVIXY_URL or fake.url
  env.NAVIXY_HASH = env.NAVIXY_HASH or fake.api_key
  return M.navixy(args, env, stdin)
end

--- Runs a shell command line on a new terminal (spec/support/pty-run),
-- typing `send` once `expect` shows (an `expect` of "@S": after S seconds):
-- returns the exit status of the command and what the terminal showed.
function M.on_terminal(expect, send, command)
  local p = io.popen("spec/support/pty-run --timeout 120 --expect " .. q(expect) .. " --send " .. q(send)
    .. " -- sh -c " .. q(command) .. " </dev/null")
  local out = p:read("*a")
  p:close()
  local status, shown = out:match("^exit (%d+)\n(.*)$")
  return tonumber(status), shown or out
end

return M

--- What the navixy command asks of the system through /bin/sh (io.popen):
-- Lua's standard library cannot stat a file, test for a terminal or create a
-- private file, and the command must run on any Lua without C modules of its
-- own beyond navixy.core.
local M = {}

--- s as one sh word.
function M.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- The first line a shell command prints on stdout (stderr dropped), or nil.
function M.first_line(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local out = p:read("*a") or ""
  p:close()
  return out:match("^([^\n]+)")
end

--- True when standard input is a terminal (the child shell inherits it).
function M.stdin_is_tty()
  return M.first_line("[ -t 0 ] && echo yes") == "yes"
end

--- True when standard output is a terminal: asked through os.execute, whose
-- shell inherits stdout (io.popen's would be the pipe). Its result is a
-- number on Lua 5.1 and LuaJIT, true or nil on 5.2 and later.
function M.stdout_is_tty()
  io.stdout:flush()
  local status = os.execute("[ -t 1 ]")
  return status == true or status == 0
end

return M

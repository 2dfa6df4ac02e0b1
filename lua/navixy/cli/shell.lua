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
  --- True when standard error is a terminal (fd 3 is a copy of ours: the
-- child's own stderr goes to /dev/null).
function M.stderr_is_tty()
  return M.first_line("exec 3>&2; [ -t 3 ] && echo yes") == "yes"
end

return M.first_line("[ -t 0 ] && echo yes") == "yes"
end

--- True when standard error is a terminal (fd 3 is a copy of ours: the
-- child's own stderr goes to /dev/null).
function M.stderr_is_tty()
  return M.first_line("exec 3>&2; [ -t 3 ] && echo yes") == "yes"
end

return M

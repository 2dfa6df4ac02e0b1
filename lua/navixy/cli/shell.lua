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

--- True when standard error is a terminal (fd 3 is a copy of ours: the
-- child's own stderr goes to /dev/null).
function M.stderr_is_tty()
  return M.first_line("exec 3>&2; [ -t 3 ] && echo yes") == "yes"
end

-- Mode (a number) and owner uid (a string) of path itself, not of a symlink's
-- target. GNU stat first, then BSD stat.
local function mode_and_owner(path)
  local line = M.first_line("stat -c '%a %u' -- " .. M.quote(path) .. " || stat -f '%Lp %u' " .. M.quote(path))
  local mode, uid = (line or ""):match("^(%d+) (%d+)$")
  if not mode then return nil end
  return tonumber(mode, 8), uid
end

--- Why the file at `path` (which holds a secret) is not private to this
-- user, ending a sentence that starts with its name: "can be read or
-- written by others (mode 644)", "belongs to another user", "cannot be
-- checked"; nil when it is private (no group or other bit: 0600 or less).
-- A symlink counts as not private (its own mode is 0777).
function M.not_private(path)
  local mode, uid = mode_and_owner(path)
  if not mode then return "cannot be checked (stat failed)" end
  if mode % 64 ~= 0 then return ("can be read or written by others (mode %o)"):format(mode) end
  if uid ~= M.first_line("id -u") then return "belongs to another user" end
  return nil
end

return M

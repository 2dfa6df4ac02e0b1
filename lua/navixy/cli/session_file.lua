--- The session file of the navixy command (--session FILE, NAVIXY_SESSION):
-- a login's session hash kept between runs, so that a script logs in once
-- rather than on every run (the API refuses too many logins: error 104).
--
-- The file holds a secret. It is only ever written as a new file made by
-- mktemp (mode 0600 whatever the umask) and renamed over the old one, so it
-- is never readable by others, not even for a moment. A file that others
-- may read or write, or that someone else owns (a symlink counts as such:
-- its own mode is 0777), is refused rather than used.
--
-- Format: lines "url=...", "login=...", "hash=..."; a session is reused only
-- for the same URL and login.
local errors = require "navixy.errors"
local shell = require "navixy.cli.shell"

local M = {}

local q, first_line = shell.quote, shell.first_line

local fail = errors.misuse

local function check_name(path)
  if path == "" or path:find("[\r\n%z]") then fail("the session file name must be a plain path") end
end

--- The saved { url, login, hash }, or nil when the file does not exist.
-- Raises ("navixy: ...") when the file is unsafe or unreadable.
function M.read(path)
  check_name(path)
  local f, msg, code = io.open(path, "r")
  if not f then
    if code == 2 then return nil end -- ENOENT: nothing saved yet
    fail("cannot read the session file: %s", msg)
  end
  local why = shell.not_private(path)
  if why then
    f:close()
    fail("the session file %s %s: delete it, or make it private with chmod 600", path, why)
  end
  local saved = {}
  for line in f:lines() do
    local k, v = line:match("^(%w+)=(.*)$")
    if k then saved[k] = v end
  end
  f:close()
  if not (saved.url and saved.login and saved.hash and saved.hash:find("^[%w%-_]+$")) then
    return nil -- not ours, or damaged: a fresh login overwrites it
  end
  return saved
end

--- Saves { url, login, hash }. Returns true, or nil, message.
function M.write(path, session)
  check_name(path)
  local tmp = first_line("mktemp " .. q(path .. ".XXXXXX"))
  if not tmp then return nil, "cannot create a file next to " .. path end
  local f, msg = io.open(tmp, "w")
  local ok = f and f:write("url=", session.url, "\nlogin=", session.login, "\nhash=", session.hash, "\n")
  ok = f and f:close() and ok
  if ok then ok, msg = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    return nil, "cannot write the session file " .. path .. ": " .. tostring(msg)
  end
  return true
end

--- Forgets the saved session (after user/logout). Missing is fine.
function M.remove(path)
  check_name(path)
  os.remove(path)
end

return M

--- Asks for a password on the terminal, without echo (for the navixy command).
--
-- Lua cannot turn the terminal's echo off by itself, so a small sh script run
-- through io.popen does it all: it saves the terminal state (stty -g), turns
-- echo off, reads one line from /dev/tty and restores the state. A trap in
-- that shell restores the terminal on Ctrl-C, hangup or TERM too, whatever
-- happens to the Lua process. The prompt and the newline after it go to the
-- terminal, never to stdout, so `navixy ... > answer.json` still asks. The
-- password leaves the shell only through the pipe (printf is a builtin: it
-- never shows in a process list).
local shell = require "navixy.cli.shell"

local M = {}

-- Prints "ok:<password>" when a line was read, "int:" when interrupted,
-- nothing when there is no terminal or input ended. Echo goes off before the
-- prompt shows, so nothing typed after the prompt can be echoed.
local SCRIPT = [[
saved=$(stty -g </dev/tty 2>/dev/null) || exit 1
trap 'stty "$saved" </dev/tty; printf "\n" >/dev/tty; printf int: 2>/dev/null; exit 130' INT TERM HUP
stty -echo </dev/tty
printf '%%s' %s >/dev/tty
IFS= read -r pw </dev/tty
rc=$?
stty "$saved" </dev/tty
printf '\n' >/dev/tty
if [ "$rc" -eq 0 ]; then printf 'ok:%%s' "$pw"; fi
]]

-- The prompt's shell while it runs. When the Lua process is interrupted too
-- (Ctrl-C reaches both), the command's error handler calls M.finish() so the
-- process does not exit before the shell has restored the terminal.
local pending

--- Waits for a prompt in progress to end (it restores the terminal). Idempotent.
function M.finish()
  local p = pending
  pending = nil
  if p then pcall(p.close, p) end
end

--- Asks with `text` and reads a line without echo. Returns the password, or
-- nil, why ("interrupted", or a readable reason).
function M.password(text)
  pending = io.popen(string.format(SCRIPT, shell.quote(text)))
  local out = pending:read("*a") or ""
  M.finish()
  if out:sub(1, 3) == "ok:" then
    if #out == 3 then return nil, "no password given" end
    return out:sub(4)
  end
  if out == "int:" then return nil, "interrupted" end
  return nil, "cannot read a password from the terminal"
end

return M

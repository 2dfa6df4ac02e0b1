-- Runs a helper server of the specs (spec/support/hostile-redis, hostile-h2)
-- in the background while a test body runs, and stops it after, whatever the
-- body did:
--
--   local background = require "background"
--   background.with(port, { "spec/support/hostile-redis", port, "drop" }, function() ... end)
--
-- The command's words are relative to the checkout; the server must listen
-- on 127.0.0.1:port (checked before: free; after start: accepting).
local fake = require "fake"
local socket = require "socket"
local sockets = require "sockets"
local read = require("local_files").read

local M = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Runs fn() with `command` (an array of words) serving on `port`.
function M.with(port, command, fn)
  assert(not sockets.listening(port), "port " .. port .. " is taken")
  local words = { q(fake.root .. "/" .. command[1]) }
  for i = 2, #command do words[i] = q(command[i]) end
  local pidfile = os.tmpname()
  os.execute(("%s >/dev/null 2>&1 </dev/null & echo $! >%q"):format(table.concat(words, " "), pidfile))
  local pid = read(pidfile):match("%d+")
  os.remove(pidfile)
  local deadline = sockets.now() + 5
  while not sockets.listening(port) and sockets.now() < deadline do socket.sleep(0.05) end
  local ok, err = pcall(function()
    assert(sockets.listening(port), command[1] .. " did not start on port " .. port)
    fn()
  end)
  os.execute("kill " .. pid .. " 2>/dev/null")
  deadline = sockets.now() + 5
  while sockets.listening(port) and sockets.now() < deadline do socket.sleep(0.05) end
  if not ok then error(err, 0) end -- a failed assertion, as it was
end

return M

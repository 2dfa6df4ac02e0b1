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

-- Seconds a server may take to start (or to stop) on the busiest machine.
local STARTUP = 60

-- Whether the process `pid` still runs: not a zombie (its parent, the shell of os.execute,
-- ended at once, and the process that reaps orphans may take its time: kill -0 succeeds
-- on a zombie), nor gone.
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  local stat = f and f:read("*a")
  if f then f:close() end
  local state = stat and stat:match("%) (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

--- Runs fn() with `command` (an array of words) serving on `port`.
function M.with(port, command, fn)
  assert(not sockets.listening(port), "port " .. port .. " is taken")
  local words = { q(fake.root .. "/" .. command[1]) }
  for i = 2, #command do words[i] = q(command[i]) end
  local pidfile = os.tmpname()
  os.execute(("%s >/dev/null 2>&1 </dev/null & echo $! >%q"):format(table.concat(words, " "), pidfile))
  local pid = read(pidfile):match("%d+")
  os.remove(pidfile)
  -- Waits for the server to listen while it runs: starting Python and its h2 package took
  -- more than the 5 s this waited before on a busy machine (CPU hogs, the specs at nice 19).
  -- A server that fails exits, and is seen at once; STARTUP only ends a hung one.
  local deadline = sockets.now() + STARTUP
  while not sockets.listening(port) and alive(pid) and sockets.now() < deadline do socket.sleep(0.05) end
  local ok, err = pcall(function()
    assert(sockets.listening(port), command[1] .. " did not start on port " .. port)
    fn()
  end)
  os.execute("kill " .. pid .. " 2>/dev/null")
  deadline = sockets.now() + STARTUP
  while alive(pid) and sockets.now() < deadline do socket.sleep(0.05) end
  if not ok then error(err, 0) end -- a failed assertion, as it was
end

return M

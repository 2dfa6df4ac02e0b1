-- What specs read off this machine besides the fake server: whole files,
-- and the count of this process's open descriptors (for leak checks).
local M = {}

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- This process's open descriptors (not those of the shell `ls` runs in).
function M.open_fds()
  local pid = M.read("/proc/self/stat"):match("^(%d+)")
  local n, ls = 0, io.popen("ls /proc/" .. pid .. "/fd")
  for _ in ls:lines() do n = n + 1 end
  ls:close()
  return n
end

return M

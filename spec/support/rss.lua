--- This process's resident memory, from /proc (Linux): for the specs and
-- bench runs that hold memory to a bound.
local M = {}

--- VmRSS in KiB.
function M.kib()
  local f = assert(io.open("/proc/self/status"))
  local kib = tonumber(f:read("*a"):match("VmRSS:%s*(%d+)"))
  f:close()
  return kib
end

--- VmRSS in KiB after two full collections (the second finishes what finalizers left).
function M.settled_kib()
  collectgarbage()
  collectgarbage()
  return M.kib()
end

return M

-- What specs read off this machine besides the fake server: whole files,
-- what a command prints, what a Lua script prints in an interpreter of its
-- own, and the count of this process's open descriptors (for leak checks).
local M = {}

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local made = 0 -- names made by unique() in this process

--- A path under build/test/ that no other process of the suite uses: this
-- process's id and a count (math.random is not seeded on Lua 5.1-5.3, so two
-- interpreters running side by side draw the same numbers).
function M.unique(name)
  os.execute("mkdir -p build/test")
  made = made + 1
  return ("build/test/%s.%s.%d"):format(name, M.read("/proc/self/stat"):match("^(%d+)"), made)
end

--- `s` quoted for a POSIX shell: one word, whatever it holds.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- What the shell command `cmd` writes to its standard output, whole.
function M.output(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

-- The same without the whitespace that ends it (a path, a number).
function M.output_trimmed(cmd)
  return (M.output(cmd):gsub("%s+$", ""))
end

-- What Lua code `script` prints (stderr too), run by a fresh interpreter
-- `lua` (default: the Lua running the specs, spec/support/flavour.lua) that
-- finds this checkout's modules and its build of the core first.
function M.lua_output(script, lua)
  lua = lua or require "flavour"
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n',
          'package.cpath = "build/', lua, '/?.so;" .. package.cpath\n', script)
  f:close()
  local out = M.output(lua .. " " .. name .. " 2>&1")
  os.remove(name)
  return out
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

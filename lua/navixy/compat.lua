--- Lua version differences in the Lua layer, in one place (the C core has
-- csrc/compat.h).
local coroutine, pcall = coroutine, pcall

local M = {}

-- Whether a coroutine can yield from inside pcall: Lua 5.2 and later and
-- LuaJIT can; PUC Lua 5.1 raises "attempt to yield across metamethod/C-call
-- boundary". (Told by the version, not by trying: nginx forbids coroutines
-- in init_worker_by_lua, where the module may be loaded.)
local yield_crosses_pcall = _VERSION ~= "Lua 5.1" or rawget(_G, "jit") ~= nil

-- Passes each yield of `co` on to the caller's coroutine and its answer
-- back, until `co` returns or raises.
local function pass_yields(co, ok, ...)
  if not ok then return false, (...) end
  if coroutine.status(co) == "dead" then return true, ... end
  return pass_yields(co, coroutine.resume(co, coroutine.yield(...)))
end

--- pcall(f, ...) that the running coroutine may yield through (a batch
-- worker logging in yields at every request it sends). On PUC Lua 5.1, f
-- runs in a coroutine of its own whose yields are handed on; inside f,
-- coroutine.running() is then that coroutine, not the caller's.
-- the coroutine each of M.pcall's own runs in (weak keys)
local caller_of = setmetatable({}, { __mode = "k" })

-- M.pcall's run on the main thread, with what pcall gave back unwrapped.
local function run_all(co, ...)
  return pass_yields(co, coroutine.resume(co, ...))
end
local function unwrapped(ok, ...)
  if ok then return ... end
  return false, (...)
end

if yield_crosses_pcall then
  M.pcall = pcall
else
  function M.pcall(f, ...)
    local co = coroutine.create(function(...) return f(...) end) -- f may be a C function
    local caller = coroutine.running()
    caller_of[co] = caller
    if caller then return pass_yields(co, coroutine.resume(co, ...)) end
    -- On the main thread, which has nothing to yield to, the resumes run
    -- inside a real pcall too: the interpreter's Ctrl-C hook fires on the
    -- main thread only, at its first instruction after a resume, and raised
    -- there it would pass every caller's handler by (a batch step left half
    -- done); in here it is f's error, as anywhere else
    return unwrapped(pcall(run_all, co, ...))
  end
end

--- coroutine.running() as if M.pcall ran f in the caller's coroutine: the
-- one an event loop resumes (navixy.loop), and false for the main thread.
function M.running()
  local co, main = coroutine.running()
  while co and caller_of[co] do co = caller_of[co] end
  if not co or main then return false end
  return co
end

return M

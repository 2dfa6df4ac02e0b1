--- Event loops: what a client made with `loop = ...` needs of the loop its
-- coroutines run in. An adapter is a table:
--   name           "copas", "cqueues", "luv", or a name of the caller's
--   wait(fd)       returns once descriptor fd is readable, having let the
--                  loop run meanwhile; called from a coroutine of that loop
-- Everything else (timeouts, which descriptor, many coroutines on one
-- client) is the transport's (navixy.transport.loop): fd is always a
-- descriptor of its own, readable once, for one waiting coroutine.
--
--   navixy.new{ ..., loop = "copas" }        copas (1.1 and later)
--   navixy.new{ ..., loop = "cqueues" }      cqueues
--   navixy.new{ ..., loop = "luv" }          luv (require "luv")
--   navixy.new{ ..., loop = navixy.loop.luv(uv) }   a given luv (luvit's)
--   navixy.new{ ..., loop = { name =, wait = } }    any other loop
local errors = require "navixy.errors"

local M = {}

local BUILT_IN = { copas = true, cqueues = true, luv = true }

--- The adapter for the `loop` option: a name or an adapter table.
function M.adapter(loop)
  if type(loop) == "table" then
    if type(loop.wait) ~= "function" then errors.misuse("option 'loop': an adapter needs a wait(fd) function") end
    if loop.name ~= nil and type(loop.name) ~= "string" then errors.misuse("option 'loop': name must be a string") end
    return loop
  end
  if not BUILT_IN[loop] then
    errors.misuse("option 'loop' must be \"copas\", \"cqueues\", \"luv\" or an adapter table, got %s", tostring(loop))
  end
  local ok, lib = pcall(require, loop)
  if not ok then
    errors.misuse("loop = %q needs the %s module, which this Lua (%s) cannot load (Debian: apt-get install lua-%s): %s",
      loop, loop, _VERSION, loop, tostring(lib):match("^[^\n]*"))
  end
  return require("navixy.loop." .. loop).new(lib)
end

--- The adapter for a luv module the caller has (luvit's, or a luv of its
-- own build).
function M.luv(uv)
  return require("navixy.loop.luv").new(uv)
end

-- The running coroutine, or a misuse error naming the loop: waiting in a
-- loop's main thread would block it, or yield out of nothing.
function M.coroutine(name)
  name = name or "an adapter"
  local co = require("navixy.compat").running()
  if not co then
    errors.misuse("a client with loop = %q must be called from a coroutine of that loop", name)
  end
  return co
end

return M

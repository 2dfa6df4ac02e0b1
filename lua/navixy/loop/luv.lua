--- luv (libuv): a poll handle on the descriptor resumes the waiting
-- coroutine, which yields back to whoever resumed it (the luv loop, or the
-- code that started it).
local loop = require "navixy.loop"

local M = {}

function M.new(uv)
  uv = uv or require "luv"
  return {
    name = "luv",
    wait = function(fd)
      local co = loop.coroutine("luv")
      local poll = uv.new_poll(fd)
      poll:start("r", function()
        poll:stop()
        poll:close()
        local ok, err = coroutine.resume(co)
        if not ok then error(err, 0) end
      end)
      coroutine.yield()
    end,
  }
end

return M

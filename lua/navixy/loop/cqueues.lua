--- cqueues: cqueues.poll on a descriptor, from a coroutine of a cqueue.
local loop = require "navixy.loop"

local M = {}

function M.new(cqueues)
  cqueues = cqueues or require "cqueues"
  return {
    name = "cqueues",
    wait = function(fd)
      loop.coroutine("cqueues")
      cqueues.poll({ pollfd = fd, events = "r" })
    end,
  }
end

return M

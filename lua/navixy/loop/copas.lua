--- copas: copas 1.1 (Debian 12's: no timers, no sleep) and later. Waits
-- with the one protocol every copas has: copas.receive on an object whose
-- receive answers "timeout" puts the coroutine in copas's reading set until
-- select finds the object's descriptor readable, then asks again.
local loop = require "navixy.loop"

local M = {}

local Watch = {}
Watch.__index = Watch

function Watch:getfd() return self.fd end
function Watch.dirty() return false end
function Watch.settimeout() end
function Watch.close() end -- copas closes the last object a finished coroutine waited on

function Watch:receive()
  if self.woken then return "" end
  self.woken = true -- copas asks again only once select says readable (or its watchdog)
  return nil, "timeout"
end

function M.new(copas)
  copas = copas or require "copas"
  return {
    name = "copas",
    wait = function(fd)
      loop.coroutine("copas")
      copas.receive(setmetatable({ fd = fd, woken = false }, Watch))
    end,
  }
end

return M

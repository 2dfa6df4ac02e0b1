--- A token bucket: `rate` requests per second, with a burst of one second's
-- worth. Callers reserve a slot and are told how long to wait for it, so
-- concurrent callers (batch items, nginx light threads) queue fairly.
local Bucket = {}
Bucket.__index = Bucket

local M = {}

function M.new(rate, now)
  local burst = math.max(1, rate)
  return setmetatable({ rate = rate, burst = burst, tokens = burst, last = now }, Bucket)
end

--- Takes one token at time `now`; returns the seconds to wait before sending.
function Bucket:reserve(now)
  local elapsed = now - self.last
  if elapsed > 0 then
    self.tokens = math.min(self.burst, self.tokens + elapsed * self.rate)
    self.last = now
  end
  self.tokens = self.tokens - 1
  if self.tokens >= 0 then return 0 end
  return -self.tokens / self.rate
end

return M

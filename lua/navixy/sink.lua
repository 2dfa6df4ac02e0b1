--- Where the body of a file answer goes when call_opts.sink is given, as it
-- arrives, so that memory stays flat whatever the size: a path, a file
-- handle (written to, left open), or a function called with each chunk.
--
-- A path gets the whole body or nothing: the body goes to a temporary file
-- beside it (made on the first byte of a file answer, so an error answer
-- makes none), renamed onto the path once complete; a transfer that fails
-- removes it, and whatever the path held is untouched until the rename. A
-- path that is a symbolic link is followed: the file it names is replaced,
-- in the directory it lies in, and the link stays (as a shell's > would write
-- through it). A link to nothing is replaced by the file.
local core = require "navixy.core"
local store = require "navixy.store"
local misuse = require("navixy.errors").misuse

local io_type = io.type

local M = {}

--- Raises unless `spec` can be a sink.
function M.check(spec)
  local t = type(spec)
  if t == "string" then
    if spec == "" then misuse("call option 'sink' must not be an empty path") end
  elseif t ~= "function" and io_type(spec) ~= "file" then
    misuse("call option 'sink' must be a path, an open file or a function, got %s", io_type(spec) or t)
  end
end

local Sink = {}
Sink.__index = Sink

--- A new sink for one attempt (checked spec).
function M.new(spec)
  return setmetatable({ spec = spec, size = 0 }, Sink)
end

local temporaries = 0 -- temporary files named so far by this process

-- The file of a path sink, opened on first use: a temporary file in the
-- directory of the file the path names (see the top), unique to this process
-- (its id: random) and this sink.
function Sink:file()
  if not self.handle then
    self.target = core.realpath(self.spec) or self.spec
    temporaries = temporaries + 1
    local temp = ("%s.%s-%d.part"):format(self.target, store.process_id(), temporaries)
    local f, why = io.open(temp, "wb")
    if not f then return nil, "cannot write the sink " .. tostring(why) end
    self.handle, self.temp = f, temp
  end
  return self.handle
end

--- Hands over a piece of the body: true, or nil and why (a write failed).
-- A function sink's own error is raised as it is.
function Sink:write(chunk)
  if chunk == "" then return true end
  local spec = self.spec
  self.size = self.size + #chunk
  if type(spec) == "function" then
    spec(chunk)
    return true
  end
  local f = spec
  if type(spec) == "string" then
    local why
    f, why = self:file()
    if not f then return nil, why end
  end
  local ok, err = f:write(chunk)
  if not ok then return nil, "writing to the sink failed: " .. tostring(err) end
  return true
end

--- The body is complete: a path sink's file is made (even for an empty
-- body), closed and renamed onto the path. true, or nil and why (the
-- temporary file removed).
function Sink:finish()
  if type(self.spec) ~= "string" then return true end
  local f, why = self:file()
  if not f then return nil, why end
  self.handle = nil
  local ok, err = f:close()
  if not ok then err = "closing the sink failed: " .. tostring(err) end
  if ok then
    ok, err = os.rename(self.temp, self.target)
    if not ok then err = "cannot put the file in place: " .. tostring(err) end
  end
  if not ok then
    os.remove(self.temp)
    return nil, err
  end
  self.temp = nil
  return true
end

--- The transfer failed or was given up: a path sink's temporary file goes.
function Sink:abort()
  if self.handle then
    self.handle:close()
    self.handle = nil
  end
  if self.temp then
    os.remove(self.temp)
    self.temp = nil
  end
end

--- Feeds a streamed answer to the sink of request `req`: `event` is the
-- transport's first event ({ chunk = } or a result), `next_event()` gives
-- the next one once a chunk is taken, `cancel()` drops the transfer. Returns
-- the final result: for a streamed file answer with body = nil and streamed
-- = its size; a sink that failed to write makes it a failure of phase
-- "sink". A failure after bytes went to the sink is marked `delivered`, so
-- that it is not tried again (what was written cannot be taken back), and a
-- path sink's temporary file is removed. A function sink's error is raised,
-- with the transfer dropped first.
function M.stream(req, event, next_event, cancel)
  local s = M.new(req.sink)
  while event.chunk do
    local ok, written, why = pcall(s.write, s, event.chunk)
    if not ok or not written then
      cancel()
      s:abort()
      if not ok then error(written, 0) end
      return { kind = "transport", message = why, phase = "sink", delivered = true }
    end
    -- each chunk is a big string gone at once: collect four times as fast
    -- as they come, or the collector's pace lets garbage pile up to about
    -- half the live heap (with 150 MB live, 66 MB of chunks; 22 MB at 4x)
    collectgarbage("step", 4 * math.floor(#event.chunk / 1024))
    event = next_event()
  end
  if not event.streamed then -- not a file answer (or none came): nothing went to the sink
    if s.size > 0 then
      s:abort()
      event.delivered = true
    end
    return event
  end
  local ok, written, why = pcall(s.write, s, event.body)
  if ok and written then written, why = s:finish() end
  if not ok or not written then
    s:abort()
    if not ok then error(written, 0) end
    return { kind = "transport", message = why, phase = "sink", delivered = true }
  end
  event.body = nil
  return event
end

return M

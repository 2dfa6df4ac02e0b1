-- The "file" fault: a file answer of any size, generated while it is sent (never held in
-- memory), for streaming tests of 200 MB and more. Byte i (from 0) of the body is
-- PATTERN:byte(i % #PATTERN + 1); the length is prime, so a lost or repeated chunk of
-- any power-of-two size shows. spec/support/fake.lua (fake.file_bytes) gives the same
-- bytes to the specs.
--   { type = "file", bytes = N, content_type = "application/octet-stream",
--     filename = "x.bin" (Content-Disposition; beyond ASCII also filename*=),
--     disposition = "inline" (the raw header instead), length = true (false: no
--     Content-Length, chunked), gzip = false (true: gzip-compressed by nginx when the
--     request accepts gzip), status = 200, stall_after = B, seconds = S (a pause of S
--     seconds once B bytes are out) }
local answers = require "fake.answers"
local store = require "fake.store"

local M = {}

M.PATTERN = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY" -- 61 bytes
local SPAN = M.PATTERN:rep(1025)   -- any slice of up to CHUNK bytes at any phase
local CHUNK = #M.PATTERN * 1024    -- 62464 bytes a write

local function slice(offset, n)
  local phase = offset % #M.PATTERN
  return SPAN:sub(phase + 1, phase + n)
end

local function send(f)
  local total = math.max(0, math.floor(tonumber(f.bytes) or 0))
  local stall_at = tonumber(f.stall_after)
  ngx.status = tonumber(f.status) or 200
  ngx.header.content_type = f.content_type or "application/octet-stream"
  ngx.header["Content-Disposition"] = f.disposition or answers.disposition(f.filename)
  if f.length ~= false then ngx.header.content_length = total end
  local sent = 0
  while sent < total do
    local n = math.min(CHUNK, total - sent)
    if stall_at and sent < stall_at then n = math.min(n, stall_at - sent) end
    if not ngx.print(slice(sent, n)) then return end -- the client went away
    -- flush(true) waits until the bytes are out: a slow reader slows us, memory stays flat
    if not ngx.flush(true) then return end
    sent = sent + n
    if stall_at and sent == stall_at then ngx.sleep(tonumber(f.seconds) or 5); stall_at = nil end
  end
end

-- The key of this request's pending stream, stable across ngx.exec (ngx.ctx is not).
local function pending_key()
  return "pending:" .. ngx.var.connection .. ":" .. ngx.var.connection_requests
end

-- Sends the file answer of fault f. With gzip, the request moves to the named location
-- @fake_gzip (nginx.conf.in), where nginx's gzip filter is on: it compresses when the
-- client accepts gzip, and then drops Content-Length.
function M.fault(f)
  if f.gzip then
    store.set_json(pending_key(), { fault = f, epoch = ngx.ctx.epoch }, 3600)
    return ngx.exec("@fake_gzip")
  end
  send(f)
end

-- The content handler of @fake_gzip.
function M.gzip_pending()
  local key = pending_key()
  local p = store.get_json(key)
  store.dict:delete(key)
  if not p then return ngx.exit(500) end
  ngx.ctx.epoch = p.epoch -- for the log phase's done()
  send(p.fault)
end

return M

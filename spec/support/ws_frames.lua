-- WebSocket frames written out by hand, as a server (or a broken one) would send them, and
-- a reader of the masked frames a client sends: the other side of the specs of our framing
-- (core.ws_frame, core.ws_parser) and of the raw clients in the fake's specs. Plain Lua,
-- Lua 5.1/LuaJIT to 5.4, nothing of ours.
local M = {}

local function bxor(a, b)
  local r, bit = 0, 1
  for _ = 1, 8 do
    local x, y = a % 2, b % 2
    if x ~= y then r = r + bit end
    a, b, bit = (a - x) / 2, (b - y) / 2, bit * 2
  end
  return r
end

local function be(n, bytes) -- n as `bytes` big-endian bytes (n < 2^53)
  local t = {}
  for i = bytes, 1, -1 do
    t[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(t)
end

local function unbe(s)
  local n = 0
  for i = 1, #s do n = n * 256 + s:byte(i) end
  return n
end

local function mask_bytes(payload, key)
  local out = {}
  for i = 1, #payload do
    out[i] = string.char(bxor(payload:byte(i), key:byte((i - 1) % 4 + 1)))
  end
  return table.concat(out)
end
M.mask_bytes = mask_bytes

M.OPCODES = { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 }

-- A frame: opcode (a number or a name), payload; opts: fin (default true), rsv (the bits
-- 0x70), mask (a 4-byte key: a client's frame), length (announce another length than the
-- payload's), length_bytes (0, 2 or 8: the length's form, default the shortest).
function M.frame(opcode, payload, opts)
  opts = opts or {}
  payload = payload or ""
  local op = type(opcode) == "string" and M.OPCODES[opcode] or opcode
  local fin = opts.fin == false and 0 or 128
  local len = opts.length or #payload
  local form = opts.length_bytes or (len < 126 and 0 or len < 65536 and 2 or 8)
  local b1 = opts.mask and 128 or 0
  local head
  if form == 0 then
    head = string.char(fin + (opts.rsv or 0) + op, b1 + len)
  elseif form == 2 then
    head = string.char(fin + (opts.rsv or 0) + op, b1 + 126) .. be(len, 2)
  else
    head = string.char(fin + (opts.rsv or 0) + op, b1 + 127) .. be(len, 8)
  end
  if opts.mask then return head .. opts.mask .. mask_bytes(payload, opts.mask) end
  return head .. payload
end

-- A close frame's payload: the code (2 bytes) and the reason.
function M.close_payload(code, reason) return be(code, 2) .. (reason or "") end

-- Reads the frames in s (complete ones; masked or not). Returns a list of { fin, rsv,
-- opcode, masked, payload (unmasked), code/reason for a close } and the unread rest.
function M.read(s)
  local frames, at = {}, 1
  while #s - at + 1 >= 2 do
    local b0, b1 = s:byte(at, at + 1)
    local len, pos = b1 % 128, at + 2
    if len == 126 then
      if #s < pos + 1 then break end
      len, pos = unbe(s:sub(pos, pos + 1)), pos + 2
    elseif len == 127 then
      if #s < pos + 7 then break end
      len, pos = unbe(s:sub(pos, pos + 7)), pos + 8
    end
    local masked = b1 >= 128
    local key = masked and s:sub(pos, pos + 3)
    if masked then pos = pos + 4 end
    if #s < pos + len - 1 then break end
    local payload = s:sub(pos, pos + len - 1)
    if masked then payload = mask_bytes(payload, key) end
    local f = { fin = b0 >= 128, rsv = math.floor(b0 / 16) % 8, opcode = b0 % 16, masked = masked,
                key = key, payload = payload, header_len = pos - at }
    if f.opcode == 8 and #payload >= 2 then
      f.code, f.reason = unbe(payload:sub(1, 2)), payload:sub(3)
    end
    frames[#frames + 1] = f
    at = pos + len
  end
  return frames, s:sub(at)
end

-- The one frame in s (raises unless s is exactly one frame).
function M.read_one(s)
  local frames, rest = M.read(s)
  assert(#frames == 1 and rest == "", "not exactly one frame")
  return frames[1]
end

return M

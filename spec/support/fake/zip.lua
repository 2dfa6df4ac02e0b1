-- ZIP archives with stored (uncompressed) entries: enough for a real KMZ (a zipped KML,
-- https://developers.google.com/kml/documentation/kmzarchives) and a real XLSX (Office
-- Open XML, a zip of XML parts). Layout per PKWARE's APPNOTE.TXT, sections 4.3.7,
-- 4.3.12 and 4.3.16. Runs inside nginx, so LuaJIT's bit library is at hand.
local bit = require "bit"
local band, bxor, rshift = bit.band, bit.bxor, bit.rshift

local M = {}

local CRC = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if band(c, 1) ~= 0 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
  end
  CRC[i] = c
end

-- CRC-32 (IEEE) of s, as a non-negative number.
function M.crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = bxor(CRC[band(bxor(c, s:byte(i)), 0xFF)], rshift(c, 8)) end
  c = bxor(c, 0xFFFFFFFF)
  return c < 0 and c + 2 ^ 32 or c
end

local function le16(n) return string.char(n % 256, math.floor(n / 256) % 256) end
local function le32(n) return le16(n % 65536) .. le16(math.floor(n / 65536)) end

local DOS_TIME, DOS_DATE = 0, 33 -- 1980-01-01 00:00: fixed, so the bytes are deterministic

-- An archive of `entries`, an array of { name, data }, in that order.
function M.archive(entries)
  local out, central, offset = {}, {}, 0
  for _, e in ipairs(entries) do
    local crc, size = M.crc32(e.data), #e.data
    -- version 2.0, no flags, method 0 (stored), time, date, crc, sizes, name length, no extra
    local common = le16(20) .. le16(0) .. le16(0) .. le16(DOS_TIME) .. le16(DOS_DATE)
      .. le32(crc) .. le32(size) .. le32(size) .. le16(#e.name) .. le16(0)
    local header = "PK\3\4" .. common .. e.name
    out[#out + 1] = header .. e.data
    -- made by 2.0, then the common fields, no comment, disk 0, no attributes, offset
    central[#central + 1] = "PK\1\2" .. le16(20) .. common .. le16(0) .. le16(0) .. le16(0)
      .. le32(0) .. le32(offset) .. e.name
    offset = offset + #header + size
  end
  local dir = table.concat(central)
  return table.concat(out) .. dir .. "PK\5\6" .. le16(0) .. le16(0) .. le16(#entries)
    .. le16(#entries) .. le32(#dir) .. le32(offset) .. le16(0)
end

return M

--- Control characters made visible, so that text from a server cannot drive
-- a terminal (set its title, clear it, move the cursor): C0 (U+0000-U+001F),
-- DEL, C1 (U+0080-U+009F: U+009B starts a sequence as ESC [ does) and every
-- byte that is not part of valid UTF-8 (a terminal reading bytes as
-- Latin-1 takes 0x9B for that C1 control). Every other character, UTF-8
-- included, is kept.
--
-- Two spellings of one scan:
--   M.json(s)   JSON's: \n, \t, ... and \u00XX (a stray byte as its Latin-1
--               character); for text inside a JSON string (navixy.pretty)
--   M.plain(s)  for plain text (the command's lines on stderr): \n, \t, \r,
--               \xHH for the other C0 controls, DEL and stray bytes, \u00XX
--               for C1 controls. M.plain(s, true) keeps newlines and tabs
--               (a text file shown on a terminal)
local M = {}

-- The length of the valid UTF-8 sequence that starts at byte i of run (a
-- string of bytes 0x80-0xFF only), or nil: RFC 3629, no overlong forms, no
-- surrogates, nothing above U+10FFFF.
local function sequence_length(run, i)
  local b = run:byte(i)
  local n, lo, hi
  if b >= 0xC2 and b <= 0xDF then
    n, lo, hi = 2, 0x80, 0xBF
  elseif b >= 0xE0 and b <= 0xEF then
    n = 3
    lo = b == 0xE0 and 0xA0 or 0x80
    hi = b == 0xED and 0x9F or 0xBF
  elseif b >= 0xF0 and b <= 0xF4 then
    n = 4
    lo = b == 0xF0 and 0x90 or 0x80
    hi = b == 0xF4 and 0x8F or 0xBF
  else
    return nil
  end
  local second = run:byte(i + 1)
  if not second or second < lo or second > hi then return nil end
  for k = i + 2, i + n - 1 do
    local c = run:byte(k)
    if not c or c > 0xBF then return nil end
  end
  return n
end

-- run (bytes 0x80-0xFF) with C1 controls spelled by c1(code) and stray
-- bytes by stray(byte); run itself when it has neither (the usual case: the
-- walk then makes no string).
local function high_run(run, c1, stray)
  local out, from, i, n = nil, 1, 1, #run
  while i <= n do
    local len = sequence_length(run, i)
    local spelled
    if not len then
      spelled, len = stray(run:byte(i)), 1
    elseif len == 2 and run:byte(i) == 0xC2 and run:byte(i + 1) <= 0x9F then
      spelled = c1(run:byte(i + 1))
    end
    if spelled then
      out = out or {}
      out[#out + 1] = run:sub(from, i - 1)
      out[#out + 1] = spelled
      from = i + len
    end
    i = i + len
  end
  if not out then return run end
  out[#out + 1] = run:sub(from)
  return table.concat(out)
end

-- s with C0 and DEL spelled by low(char), the rest as high_run does.
local function escape(s, low, c1, stray)
  s = s:gsub("%c", low)
  if not s:find("[\128-\255]") then return s end
  return (s:gsub("[\128-\255]+", function(run) return high_run(run, c1, stray) end))
end

local function u00(code) return ("\\u%04x"):format(code) end
local function hex(code) return ("\\x%02x"):format(code) end

local JSON_NAMED = { ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local PLAIN_NAMED = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function json_low(c) return JSON_NAMED[c] or u00(c:byte()) end
local function plain_low(c) return PLAIN_NAMED[c] or hex(c:byte()) end
local function layout_low(c)
  if c == "\n" or c == "\t" then return c end
  return plain_low(c)
end

--- s with its controls and stray bytes as JSON escapes (see above).
function M.json(s)
  return escape(s, json_low, u00, u00)
end

--- s with its controls and stray bytes as visible escapes; with
-- `keep_layout`, newlines and tabs stay as they are.
function M.plain(s, keep_layout)
  return escape(s, keep_layout and layout_low or plain_low, u00, hex)
end

return M

--- A small JSON parser for the two places where decoding into Lua tables
-- loses what matters: [] and {} become the same empty table, and numbers
-- lose their spelling. Here the caller's builder sees each array, object,
-- string and number token as it was written:
--   * pretty.lua lays out an answer with numbers spelled as the server
--     spelled them and empty arrays kept as [];
--   * M.decode (the command's name:=json params) marks every array with
--     navixy.array, so `labels:=[]` is sent as [] and not as {}.
-- Answers of the client itself are decoded by the C core (csrc/decode.c).
local json = require "navixy.json"

local M = {}

M.MAX_DEPTH = 1000 -- as lua-cjson's default

local UNESCAPES = {
  ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
}

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40,
      0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

-- `pos` moves forward over `text`; failures raise a table that M.parse
-- turns into nil, message (any other error is a bug and goes on up).
local Parser = {}
Parser.__index = Parser

function Parser:fail(what)
  error({ message = what .. " at byte " .. self.pos }, 0)
end

function Parser:skip()
  self.pos = self.text:find("[^ \t\r\n]", self.pos) or #self.text + 1
end

-- \uXXXX (with its low surrogate, if any) as UTF-8; a lone surrogate is U+FFFD.
function Parser:unicode_escape(at)
  local text = self.text
  local hex = text:match("^%x%x%x%x", at)
  if not hex then self.pos = at; self:fail("bad \\u escape") end
  local cp = tonumber(hex, 16)
  if cp >= 0xD800 and cp <= 0xDBFF then
    local low = text:match("^\\u([dD][c-fC-F]%x%x)", at + 4)
    if low then
      return utf8_char(0x10000 + (cp - 0xD800) * 0x400 + tonumber(low, 16) - 0xDC00), at + 10
    end
    cp = 0xFFFD
  elseif cp >= 0xDC00 and cp <= 0xDFFF then
    cp = 0xFFFD
  end
  return utf8_char(cp), at + 4
end

-- The string starting at self.pos (a '"'), unescaped; UTF-8 bytes pass as they are.
function Parser:string()
  local text, parts, i = self.text, {}, self.pos + 1
  while true do
    local j = text:find('["\\]', i)
    if not j then self:fail("unterminated string") end
    parts[#parts + 1] = text:sub(i, j - 1)
    if text:byte(j) == 34 then -- '"'
      self.pos = j + 1
      return table.concat(parts)
    end
    local e = text:sub(j + 1, j + 1)
    if e == "u" then
      parts[#parts + 1], i = self:unicode_escape(j + 2)
    elseif UNESCAPES[e] then
      parts[#parts + 1], i = UNESCAPES[e], j + 2
    else
      self.pos = j
      self:fail("bad escape")
    end
  end
end

local LITERALS = { t = "true", f = "false", n = "null" }

function Parser:value(depth)
  if depth > M.MAX_DEPTH then self:fail("nested too deep") end
  self:skip()
  local text, pos, build = self.text, self.pos, self.build
  local c = text:sub(pos, pos)
  if c == "" then self:fail("unexpected end") end
  if c == "{" or c == "[" then return self:container(c, depth) end
  if c == '"' then return build.string(self:string()) end
  local literal = LITERALS[c]
  if literal then
    if text:sub(pos, pos + #literal - 1) ~= literal then self:fail("bad literal") end
    self.pos = pos + #literal
    return build.literal(literal)
  end
  local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not num or not tonumber(num) then self:fail("unexpected character") end
  self.pos = pos + #num
  return build.number(num)
end

function Parser:container(open, depth)
  local close = open == "[" and "]" or "}"
  local keys, items = open == "{" and {} or nil, {}
  self.pos = self.pos + 1
  self:skip()
  if self.text:sub(self.pos, self.pos) ~= close then
    while true do
      if keys then
        self:skip()
        if self.text:sub(self.pos, self.pos) ~= '"' then self:fail("expected a key") end
        keys[#keys + 1] = self:string()
        self:skip()
        if self.text:sub(self.pos, self.pos) ~= ":" then self:fail("expected ':'") end
        self.pos = self.pos + 1
      end
      items[#items + 1] = self:value(depth + 1)
      self:skip()
      local c = self.text:sub(self.pos, self.pos)
      if c == close then break end
      if c ~= "," then self:fail("expected ',' or '" .. close .. "'") end
      self.pos = self.pos + 1
    end
  end
  self.pos = self.pos + 1
  if keys then return self.build.object(keys, items) end
  return self.build.array(items)
end

--- Parses one JSON text with `build`, a table of functions:
--   string(s) number(token) literal("true"|"false"|"null") array(items) object(keys, items)
-- (keys and items in the order written). Returns what build made of the
-- whole text, or nil, message.
function M.parse(text, build)
  local p = setmetatable({ text = text, pos = 1, build = build }, Parser)
  local ok, res = pcall(p.value, p, 0)
  if ok then
    p:skip()
    if p.pos <= #text then ok, res = false, { message = "unexpected text after the value at byte " .. p.pos } end
  end
  if ok then return res end
  if type(res) ~= "table" then error(res, 0) end -- a bug, not bad input
  return nil, res.message
end

-- Numbers as Lua numbers: integers stay integers on Lua 5.3+.
local function to_number(token)
  local n = tonumber(token)
  if math.tointeger and n == math.floor(n) and math.tointeger(n) then return math.tointeger(n) end
  return n
end

local VALUES = {
  string = function(s) return s end,
  number = to_number,
  literal = function(word)
    if word == "null" then return json.null end
    return word == "true"
  end,
  array = json.array,
  object = function(keys, items)
    local t = {}
    for i, k in ipairs(keys) do t[k] = items[i] end
    return t
  end,
}

--- JSON text → Lua value: arrays marked with navixy.array (so they encode
-- back as arrays, even empty), null as navixy.null. Or nil, message.
function M.decode(text)
  return M.parse(text, VALUES)
end

return M

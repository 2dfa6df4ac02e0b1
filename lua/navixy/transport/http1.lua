--- Reading an HTTP/1.1 answer from a cosocket, bounded in time and size.
--
-- A cosocket's own timeout is between two reads: a server that trickles a
-- byte now and then never trips it. So every read here is a receiveany()
-- whose timeout is what is left of one deadline for the whole answer, and
-- every byte counts against a limit: the header block against
-- MAX_HEADER_BYTES, the body against max_size (also for chunk-size lines and
-- trailers), so a hostile server can make the reader neither wait past the
-- deadline nor hold more than the limits.
--
-- The head is parsed in C in one pass (core.http_head) over what was read;
-- a body of a known length is read as it comes, up to that length, and
-- joined once: the usual answer costs a read or two and no Lua per line.
local core = require "navixy.core"

local concat, floor, ipairs, tonumber = table.concat, math.floor, ipairs, tonumber
local http_head, now = core.http_head, core.now

local M = {}

M.MAX_HEADER_BYTES = 64 * 1024 -- status line and header lines, all of them
M.MAX_LINE = 8 * 1024          -- one chunk-size line or trailer line
local READ_SIZE = 65536

local Reader = {}
Reader.__index = Reader

--- Milliseconds left before `deadline` (core.now()'s clock), at least 1, or
-- nil once it passed: what a cosocket's settimeout takes.
function M.left_ms(deadline)
  local ms = floor((deadline - now()) * 1000)
  if ms < 1 then return nil end
  return ms
end

--- A reader of `sock` until `deadline` (core.now()'s clock).
function M.reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", pos = 1, got = false, ms = false }, Reader)
end

-- The next bytes the socket has, at most `max`, before the deadline: data,
-- or nil and "timeout", "closed", ... (every read of the reader goes here)
-- The socket keeps the timeout set last, so it is set again only when the
-- milliseconds left changed: a body read in 4 KB pieces (nginx's
-- lua_socket_buffer_size) would otherwise set it for each piece, and each
-- setting costs ngx_lua three table writes. Whoever else sets a timeout on
-- this socket meanwhile (navixy.store.redis's send) derives it from the same
-- deadline, so the same milliseconds left mean the same timeout.
function Reader:receive(max)
  local ms = M.left_ms(self.deadline)
  if not ms then return nil, "timeout" end
  if ms ~= self.ms then
    self.sock:settimeout(ms)
    self.ms = ms
  end
  local data, err = self.sock:receiveany(max)
  if not data then return nil, err end
  self.got = true
  return data
end

-- Reads more into the buffer: true, or nil and "timeout", "closed", ...
function Reader:fill()
  local data, err = self:receive(READ_SIZE)
  if not data then return nil, err end
  if self.pos > #self.buf then
    self.buf, self.pos = data, 1
  else
    self.buf, self.pos = self.buf:sub(self.pos) .. data, 1
  end
  return true
end

--- The next line without its CRLF (or LF), at most `max` bytes long: the
-- line, or nil and "limit", "timeout", "closed", ...
function Reader:line(max)
  while true do
    local nl = self.buf:find("\n", self.pos, true)
    if nl then
      if nl - self.pos > max then return nil, "limit" end
      local last = nl - 1
      if last >= self.pos and self.buf:byte(last) == 13 then last = last - 1 end -- CR
      local line = self.buf:sub(self.pos, last)
      self.pos = nl + 1
      return line
    end
    if #self.buf - self.pos + 1 > max then return nil, "limit" end
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

--- Exactly n bytes, handed to emit(piece) (which returns true, or nil and
-- why to stop): true, or nil and why.
function Reader:exact(n, emit)
  while n > 0 do
    local have = #self.buf - self.pos + 1
    if have > 0 then
      local take = have < n and have or n
      local ok, why = emit(self.buf:sub(self.pos, self.pos + take - 1))
      if not ok then return nil, why end
      self.pos = self.pos + take
      n = n - take
    end
    if n > 0 then
      local ok, err = self:fill()
      if not ok then return nil, err end
    end
  end
  return true
end

--- Exactly n bytes as one string, or nil and why: what the buffer holds,
-- the rest read as it comes (never past the n bytes) and joined once.
function Reader:take(n)
  local buf, pos = self.buf, self.pos
  local have = #buf - pos + 1
  if have >= n then
    self.pos = pos + n
    if pos == 1 and n == #buf then return buf end
    return buf:sub(pos, pos + n - 1)
  end
  local parts, count, left = { buf:sub(pos) }, 1, n - have
  self.buf, self.pos = "", 1
  while left > 0 do
    local data, err = self:receive(left < READ_SIZE and left or READ_SIZE)
    if not data then return nil, err end
    count = count + 1
    parts[count] = data
    left = left - #data
  end
  return concat(parts, "", 1, count)
end

--- Everything up to the end of the connection, at most `max` bytes in all,
-- handed to emit(piece): true, or nil and why ("limit" when over max).
function Reader:to_close(max, emit)
  local size = 0
  while true do
    local have = #self.buf - self.pos + 1
    if have > 0 then
      size = size + have
      if size > max then return nil, "limit" end
      local ok, why = emit(self.buf:sub(self.pos))
      if not ok then return nil, why end
      self.buf, self.pos = "", 1
    end
    local ok, err = self:fill()
    if not ok then
      if err == "closed" then return true end
      return nil, err
    end
  end
end

-- The head of the next answer on `r`, whatever its status, its lines taking
-- from `budget` bytes: status, headers (lowercased names, repeated ones
-- joined with ", "), HTTP major and minor version, the budget left and
-- where in r.buf the head began; or nil and why.
local function next_head(r, budget)
  while true do
    local after, status, headers, major, minor, left = http_head(r.buf, r.pos, budget)
    if after then
      local start = r.pos
      r.pos = after
      return status, headers, major, minor, left, start
    end
    if after == nil then return nil, status end
    local ok, err = r:fill()
    if not ok then return nil, err end
  end
end

-- A chunked body to emit(), at most max_size bytes of data: true, or nil, why.
local function read_chunked(r, max_size, emit)
  local size = 0
  while true do
    local line, err = r:line(M.MAX_LINE)
    if not line then return nil, err end
    local hex = line:match("^%s*(%x+)")
    if not hex or #hex > 14 then return nil, "malformed chunk size" end
    local n = tonumber(hex, 16)
    if n == 0 then
      local budget = M.MAX_HEADER_BYTES -- trailers, up to the empty line
      repeat
        line, err = r:line(M.MAX_LINE)
        if not line then return nil, err end
        budget = budget - #line - 2
        if budget < 0 then return nil, "limit" end
      until line == ""
      return true
    end
    size = size + n
    if size > max_size then return nil, "limit" end
    local ok
    ok, err = r:exact(n, emit)
    if not ok then return nil, err end
    line, err = r:line(M.MAX_LINE)
    if line ~= "" then return nil, err or "malformed chunk end" end
  end
end

-- The body as the headers frame it, to emit(): true, or nil, why; and true
-- when the end of the connection ends it.
local function read_body(r, headers, max_size, emit)
  local te = (headers["transfer-encoding"] or ""):lower()
  if te ~= "" and te ~= "identity" then
    if not te:find("chunked%s*$") then return nil, "unsupported transfer-encoding " .. te end
    return read_chunked(r, max_size, emit)
  end
  if headers["content-length"] then
    local n = tonumber(headers["content-length"]:match("^%s*(%d+)%s*$"))
    if not n then return nil, "malformed content-length" end
    if n > max_size then return nil, "limit" end
    return r:exact(n, emit)
  end
  local ok, err = r:to_close(max_size, emit)
  return ok, err, true
end

--- The head of the next answer on reader `r`, whatever its status (a 101
-- included, which read_response would skip as interim): its text, status
-- line to empty line as it came, its status and its headers (as
-- read_response's), at most `max` bytes; or nil and why. The WebSocket
-- upgrade's answer is read this way, its body (frames) left in the reader.
function M.read_head(r, max)
  local status, headers, _, _, _, start = next_head(r, max)
  if not status then return nil, headers end
  return r.buf:sub(start, r.pos - 1), status, headers
end

--- The body of an answer whose head `r` has read, as the headers frame it,
-- to emit(piece), at most max_size bytes: true, or nil and why.
function M.read_body(r, headers, max_size, emit)
  return read_body(r, headers, max_size, emit)
end

M.MAX_ENCODINGS = 5 -- as libcurl: a longer list of codings is refused

local INFLATE_ERRORS = { corrupt = "corrupt compressed body",
  trailing = "data after the end of the compressed body" }

-- Inflaters of answers read, for the next ones of this Lua state (an nginx
-- worker): a new one (zlib's state and 32 KB window) for every answer cost
-- more than inflating a small answer. At most MAX_SPARE, taken by one read at
-- a time; a read that fails gives its inflaters to the collector instead.
local spare, MAX_SPARE = {}, 8

local function new_inflater(deflate)
  local n = #spare
  if n == 0 then return core.inflater(deflate) end
  local inflater = spare[n]
  spare[n] = nil
  return inflater:reset(deflate)
end

local function keep_inflater(inflater)
  if #spare < MAX_SPARE then spare[#spare + 1] = inflater end
end

local function keep_inflaters(inflaters)
  for _, inflater in ipairs(inflaters) do keep_inflater(inflater) end
end

-- emit wrapped in a decoder of each coding of `list`, the value of header
-- `name` (RFC 9110 8.4: in the order applied, so the last is undone first),
-- and the inflaters; or nil, why. What comes out of each counts against
-- the limit, not what came in.
local function decoder(list, name, limit, emit)
  local inflaters = {}
  for coding in (list or ""):lower():gmatch("[^,%s]+") do
    if coding ~= "identity" then
      if coding ~= "gzip" and coding ~= "x-gzip" and coding ~= "deflate" then
        return nil, "unsupported " .. name .. " " .. coding
      end
      if #inflaters == M.MAX_ENCODINGS then return nil, "too many codings in " .. name end
      local inflater, out, inner = new_inflater(coding == "deflate"), 0, emit
      emit = function(piece)
        local inflated, why = inflater:feed(piece, limit - out)
        if not inflated then return nil, why end
        out = out + #inflated
        return inner(inflated)
      end
      inflaters[#inflaters + 1] = inflater
    end
  end
  return emit, inflaters
end

-- The body of an answer whose head `r` read, the slow ways: streamed to a
-- sink, chunked, to the end of the connection, in codings the fast path of
-- read_response leaves to it. Returns what read_response does.
local function read_framed(r, status, headers, reusable, streaming, max_size, sink)
  local parts, ok, err = {}, true, nil
  local limit = streaming and math.huge or max_size
  local emit
  if streaming then
    emit = function(piece)
      local written, why = sink:write(piece)
      if not written then return nil, "sink: " .. why end
      return true
    end
  else
    emit = function(piece)
      parts[#parts + 1] = piece
      return true
    end
  end
  -- content codings undone after the transfer codings before "chunked"
  -- (read_body undoes that one), as libcurl does: data, never the coded bytes
  local inflaters, transfer_inflaters
  emit, inflaters = decoder(headers["content-encoding"], "content-encoding", limit, emit)
  if not emit then return nil, inflaters, true end
  local te = (headers["transfer-encoding"] or ""):lower():gsub(",?%s*chunked%s*$", "")
  emit, transfer_inflaters = decoder(te, "transfer-encoding", limit, emit)
  if not emit then return nil, transfer_inflaters, true end
  for _, inflater in ipairs(transfer_inflaters) do inflaters[#inflaters + 1] = inflater end
  if status ~= 204 and status ~= 304 then
    local to_close
    ok, err, to_close = read_body(r, headers, limit, emit)
    if to_close then reusable = false end
    for _, inflater in ipairs(inflaters) do
      if ok and not inflater:finished() then ok, err = nil, "truncated compressed body" end
    end
  end
  if not ok then return nil, INFLATE_ERRORS[err] or err, true end
  keep_inflaters(inflaters)
  -- bytes after the answer on a kept-alive connection: nothing we asked for
  if r.pos <= #r.buf then reusable = false end
  return { status = status, headers = headers, body = concat(parts), reusable = reusable,
           streamed = streaming and sink.size or nil }
end

local ONE_CODING = { gzip = false, ["x-gzip"] = false, deflate = true } -- value: deflate

--- Reads one answer from `sock` before `deadline`, the body at most
-- `max_size` bytes. With `sink` (a navixy.sink), a 2xx answer that is not
-- JSON goes there piece by piece instead, whatever its size. Returns
-- { status, headers, body, reusable, streamed = bytes|nil }, or nil, why
-- ("timeout", "limit", "closed", "sink: ...", a message), got (whether any
-- byte of the answer arrived).
function M.read_response(sock, deadline, max_size, sink)
  local r = M.reader(sock, deadline)
  local budget = M.MAX_HEADER_BYTES
  local status, headers, major, minor
  repeat -- 1xx: the real answer follows
    status, headers, major, minor, budget = next_head(r, budget)
    if not status then return nil, headers, r.got end
  until status >= 200
  local conn = headers["connection"]
  conn = conn and conn:lower() or ""
  local reusable = major == 1 and minor == 1 and not conn:find("close", 1, true)
    or (major == 1 and minor == 0 and conn:find("keep-alive", 1, true) ~= nil)
  local streaming = sink and status >= 200 and status < 300
    and not core.is_json_type(headers["content-type"] or "")
  local length, coding = headers["content-length"], headers["content-encoding"]
  if streaming or status == 204 or status == 304 or headers["transfer-encoding"] or not length then
    return read_framed(r, status, headers, reusable, streaming, max_size, sink)
  end
  -- the usual answer: its length given, plain or in one coding, read at once
  local deflate
  if coding then
    deflate = ONE_CODING[coding:lower()]
    if deflate == nil then return read_framed(r, status, headers, reusable, streaming, max_size, sink) end
  end
  local n = tonumber(length:match("^%s*(%d+)%s*$"))
  if not n then return nil, "malformed content-length", true end
  if n > max_size then return nil, "limit", true end
  local body, err = r:take(n)
  if not body then return nil, err, true end
  if coding then
    local inflater = new_inflater(deflate)
    body, err = inflater:feed(body, max_size)
    if not body then return nil, INFLATE_ERRORS[err] or err, true end
    if not inflater:finished() then return nil, "truncated compressed body", true end
    keep_inflater(inflater)
  end
  -- bytes after the answer on a kept-alive connection: nothing we asked for
  return { status = status, headers = headers, body = body, reusable = reusable and r.pos > #r.buf }
end

return M

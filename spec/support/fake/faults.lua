-- Fault injection: what a queued fault (POST /_fake/fault) does to one API request.
-- apply() answers the request itself and returns "done", or returns "continue" when the
-- normal answer should follow (delay, chunked).
local cjson = require "cjson.safe"
local answers = require "fake.answers"
local errors = require "fake.errors"
local stream = require "fake.stream"

local M = {}

M.TYPES = { delay = true, status = true, error = true, drop = true, raw = true, large = true,
            stall = true, redirect = true, chunked = true, file = true }

-- Fields of a fault spec that are not copied into an "error" answer's body.
local RESERVED = { action = true, times = true, type = true, code = true, status = true,
                   description = true, headers = true, seconds = true, content_type = true }

local function send(status, body, content_type)
  ngx.status = status
  if content_type then ngx.header.content_type = content_type end
  ngx.header.content_length = #body
  if #body > 0 then ngx.print(body) end
end

-- Sends `pieces` (an array of strings) as a chunked body, flushing as it goes, so the
-- answer has no Content-Length (ngx_lua then uses Transfer-Encoding: chunked).
local function send_chunked(pieces, sleep_after_first)
  ngx.status = 200
  ngx.header.content_type = "application/json"
  for i, p in ipairs(pieces) do
    ngx.print(p)
    ngx.flush(true)
    if i == 1 and sleep_after_first then ngx.sleep(sleep_after_first) end
  end
end

function M.apply(f)
  if type(f.headers) == "table" then
    for k, v in pairs(f.headers) do ngx.header[k] = v end
  end
  local seconds = tonumber(f.seconds)
  local t = f.type

  if t == "delay" then
    ngx.sleep(seconds or 1)
    return "continue"
  elseif t == "chunked" then
    ngx.ctx.chunked = true
    return "continue"
  elseif t == "status" then
    local body = f.body or ""
    if type(body) == "table" then body = cjson.encode(body) end
    send(tonumber(f.status) or 500, body, f.content_type or (#body > 0 and "text/html" or nil))
  elseif t == "error" then
    local code = tonumber(f.code) or 6
    local extra = { description = f.description }
    for k, v in pairs(f) do if not RESERVED[k] then extra[k] = v end end
    local e = errors.apierr(code, extra, tonumber(f.status))
    answers.json(e.http, e.body)
  elseif t == "drop" then
    if seconds then ngx.sleep(seconds) end
    return ngx.exit(444) -- nginx closes the connection without sending anything
  elseif t == "raw" then
    local body = f.body or ""
    if type(body) == "table" then body = cjson.encode(body) end
    send(tonumber(f.status) or 200, body, f.content_type or "application/json")
  elseif t == "large" then
    -- a valid success answer of about `bytes` bytes: {"success":true,"list":[{…},…]}
    local bytes = tonumber(f.bytes) or 1024 * 1024
    local pad = string.rep("x", 60)
    local pieces, buf, size, n = { '{"success":true,"list":[' }, {}, 25, 0
    while size < bytes do
      n = n + 1
      local item = (n > 1 and "," or "") .. '{"id":' .. n .. ',"label":"Item ' .. n .. '","pad":"' .. pad .. '"}'
      buf[#buf + 1] = item
      size = size + #item
      if #buf == 200 then pieces[#pieces + 1] = table.concat(buf); buf = {} end
    end
    buf[#buf + 1] = "]}"
    pieces[#pieces + 1] = table.concat(buf)
    send_chunked(pieces)
  elseif t == "stall" then
    -- headers and the first half of a valid answer, a pause, then the rest
    send_chunked({ '{"success":true,"list":[1,2,', '3]}' }, seconds or 5)
  elseif t == "file" then -- a file of f.bytes bytes, made while sent: see fake/stream.lua
    stream.fault(f)
  elseif t == "redirect" then
    local loc = f.location or "/v2/moved"
    ngx.header.location = loc
    send(tonumber(f.status) or 302, '<html><body><a href="' .. loc .. '">moved</a></body></html>', "text/html")
  end
  return "done"
end

return M

--- Uploads: navixy.file(...) as a param value makes the request
-- multipart/form-data; the other params become form fields, by the form
-- rules (strings as they are, other values as JSON text: 7, true, [1,2]).
local core = require "navixy.core"
local json = require "navixy.json"
local misuse = require("navixy.errors").misuse

local M = {}

local File = {}
File.__index = File
File.__tostring = function(f)
  return "navixy file (" .. (f.filename or "no name") .. ", " .. (f.content_type or "no type") .. ")"
end

local function basename(path)
  return path:match("([^/\\]+)$") or path
end

-- Raises unless `path` names a regular file that can be read: a FIFO or a
-- device would block the read for ever, timeout or not (and /dev/zero never
-- ends). Asked by navixy.file and again by each call that sends the file.
local function check_readable(path)
  local kind, why = core.file_type(path)
  if kind and kind ~= "file" then
    misuse("%s", "navixy.file: " .. path .. " is a " .. kind .. ", not a regular file")
  end
  local h
  if kind then h, why = io.open(path, "rb") end
  if not h then misuse("%s", "navixy.file: cannot read " .. path .. ": " .. tostring(why)) end
  h:close()
end

--- navixy.file(path [, opts]) or navixy.file(bytes, { data = true, ... }):
-- a file to upload. opts: content_type, filename (default: the path's last
-- part), data (true: the string is the file's content, not a path). A path
-- that cannot be read, or that is not a regular file, raises here, before
-- anything is sent.
function M.file(source, opts)
  if type(source) ~= "string" then
    misuse("%s", "navixy.file expects a path (or the content, with data = true), got " .. type(source))
  end
  if opts ~= nil and type(opts) ~= "table" then
    misuse("%s", "navixy.file options must be a table, got " .. type(opts))
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if k == "data" then
      if type(v) ~= "boolean" then misuse("navixy.file option 'data' must be a boolean") end
    elseif k == "content_type" or k == "filename" then
      if type(v) ~= "string" or v == "" or v:find("[%c]") then
        misuse("%s", "navixy.file option '" .. k .. "' must be a non-empty string without control characters")
      end
    else
      misuse("%s", "unknown navixy.file option '" .. tostring(k) .. "'")
    end
  end
  local f = { content_type = opts.content_type or "application/octet-stream", filename = opts.filename }
  if opts.data then
    f.data = source
    f.filename = f.filename or "file"
  else
    check_readable(source)
    f.path = source
    f.filename = f.filename or basename(source)
  end
  return setmetatable(f, File)
end

function M.is_file(v)
  return getmetatable(v) == File
end

--- The parts of a multipart body for `params` when one of its values is a
-- navixy.file, else nil. Names are sorted, as in every other encoding.
function M.parts(params)
  if not params then return nil end
  local any = false
  for _, v in pairs(params) do
    if getmetatable(v) == File then any = true end
  end
  if not any then return nil end
  local names = {}
  for k in pairs(params) do
    if type(k) ~= "string" then misuse("form fields need string names") end
    -- a part's name is a C string in the multipart encoder: a NUL would cut it short
    if k:find("\0", 1, true) then misuse("form field names cannot hold a NUL byte") end
    names[#names + 1] = k
  end
  table.sort(names)
  return M.ordered(names, params)
end

--- The parts for `names`, in that order, with their values in `values`: a
-- navixy.file is a file part, anything else a form field by the form rules.
-- (A presigned upload sends its fields in an order of its own, the file last.)
function M.ordered(names, values)
  local parts = {}
  for i, name in ipairs(names) do
    local v = values[name]
    if getmetatable(v) == File then
      if v.path then check_readable(v.path) end -- (it may have changed since navixy.file)
      parts[i] = { name = name, path = v.path, data = v.data, filename = v.filename,
                   content_type = v.content_type }
    else
      parts[i] = { name = name, value = type(v) == "string" and v or json.encode(v) }
    end
  end
  return parts
end

--- The bytes of a file part (for transports that build the body themselves).
function M.bytes(part)
  if part.data or not part.path then return part.data end
  local h, why = io.open(part.path, "rb")
  if not h then misuse("%s", "navixy.file: cannot read " .. tostring(why)) end
  local bytes = h:read("*a")
  h:close()
  return bytes
end

return M

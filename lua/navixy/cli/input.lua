--- Where a call's params come from: name=value words, a JSON file
-- (@params.json, @- for standard input), or JSON on standard input when it
-- is not a terminal. One source per call: two are refused, never merged, so
-- that no param silently wins over another.
local json = require "navixy.json"

local M = {}

local function read_all(f)
  local text = f:read("*a")
  return text or ""
end

-- The params in `text` (from `where`): a JSON object, or nil, why.
local function decode(text, where)
  local value, why = json.decode(text)
  if value == nil then return nil, ("%s is not valid JSON (%s)"):format(where, tostring(why)) end
  if type(value) ~= "table" or (next(value) ~= nil and value[1] ~= nil)
    or getmetatable(value) == json.array_mt then
    return nil, ("%s must hold one JSON object of params ({\"name\": value, ...})"):format(where)
  end
  return value
end

--- The JSON text of @file (`name` after the "@"; "-" is standard input):
-- text, or nil, why.
function M.read_file(name)
  if name == "-" then return read_all(io.stdin) end
  local f, why = io.open(name, "rb")
  if not f then return nil, ("cannot read the params file: %s"):format(why) end
  local text = read_all(f)
  f:close()
  return text
end

--- The params of a call: params, or nil, why (a usage error).
-- `o` is the parsed command line (params, has_params, params_file,
-- ignore-stdin); `stdin_is_tty()` says whether standard input is a
-- terminal. Standard input is read only when it is not a terminal and no
-- @- names it; all blank (e.g. </dev/null) is no params.
function M.params(o, stdin_is_tty)
  local sources, params = {}, nil
  if o.has_params then sources[#sources + 1] = "name=value parameters" end
  if o.params_file then
    local text, why = M.read_file(o.params_file)
    if not text then return nil, why end
    sources[#sources + 1] = "@" .. o.params_file
    params, why = decode(text, o.params_file == "-" and "standard input (@-)" or o.params_file)
    if not params then return nil, why end
  end
  if o.params_file ~= "-" and not o["ignore-stdin"] and not stdin_is_tty() then
    local text = read_all(io.stdin)
    if text:find("%S") then
      sources[#sources + 1] = "standard input"
      if #sources == 1 then
        local why
        params, why = decode(text, "standard input")
        if not params then return nil, why .. " (--ignore-stdin leaves it unread)" end
      end
    end
  end
  if #sources > 1 then
    return nil, ("params come from %s: give one of them (--ignore-stdin leaves standard input unread)")
      :format(table.concat(sources, " and "))
  end
  if o.has_params then return o.params end
  return params
end

return M

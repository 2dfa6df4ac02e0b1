--- navixy: a client for the Navixy telematics API v2.
-- See README.md and shared API contract: navixy.new, navixy.login,
-- client:call and namespaces, errors as values.
local client = require "navixy.client"
local core = require "navixy.core"
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"
local store = require "navixy.store"
local upload = require "navixy.upload"

local navixy = {}

navixy.VERSION = "0.2.0" -- the release; rockspec/navixy-0.2.0-1.rockspec
navixy._VERSION = navixy.VERSION -- the Lua convention
navixy.regions = options.regions
navixy.null = json.null
navixy.array = json.array
--- The C encoder: JSON text, arrays kept as arrays; lazy answers in `value`
-- read whole first (only when the encoder refused it: plain tables pay no
-- extra walk).
function navixy.encode(value)
  local ok, text = pcall(json.encode, value)
  if ok then return text end
  local plain = json.plain(value)
  if plain == value then error(text, 0) end -- no lazy answer in it: the encoder's own complaint
  return json.encode(plain)
end
navixy.plain = json.plain -- lazy answers (decode = "lazy") as plain tables
navixy.pairs = json.pairs -- pairs and ipairs for lazy answers on every Lua
navixy.ipairs = json.ipairs
navixy.is_lazy = json.is_lazy
navixy.is_error = errors.is_error
navixy.file = upload.file -- a param value that makes the request multipart/form-data
-- shared sessions and rate limits: navixy.store.ngx(dict_name), navixy.store.redis{...}
navixy.store = { ngx = store.ngx, redis = store.redis }
-- event loops: navixy.new{ loop = "copas" | "cqueues" | "luv" | adapter }; a given luv:
navixy.loop = { luv = function(uv) return require("navixy.loop").luv(uv) end }

--- A decoded answer (or any value) as readable JSON text: keys sorted,
-- indented, navixy.null as null. `compact` = true: on one line.
function navixy.pretty(value, compact)
  return require("navixy.pretty").value(json.plain(value), compact)
end

--- Prints the most-used actions with examples, and how errors look;
-- `topic` (optional): a page ("errors", "batch", "sessions", "panel", "actions"),
-- a documented action ("tracker/get_state"), a namespace ("tracker") or any word.
function navixy.help(topic)
  io.stdout:write(require("navixy.help").text(navixy.VERSION, topic))
end

--- The documented actions at or under `prefix` (e.g. "tracker"; nil: all
-- that a user client reaches), sorted. Loads the catalogue on first use.
function navixy.actions(prefix)
  return require("navixy.catalogue").actions(prefix)
end

--- The heap policy (csrc/trim.h): after a big answer, up to `cushion` bytes
-- of free heap stay mapped while big answers keep coming, and go back to the
-- system at the first collection cycle once none came for `idle` seconds.
-- Sets those given; returns the settings in force, { cushion =, idle = }.
function navixy.memory(opts)
  if opts ~= nil and type(opts) ~= "table" then
    errors.misuse("navixy.memory expects a table or nil, got %s", type(opts))
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if k ~= "cushion" and k ~= "idle" then errors.misuse("navixy.memory: unknown setting %s", tostring(k)) end
    if type(v) ~= "number" or v < 0 or v ~= v or v == math.huge then
      errors.misuse("navixy.memory: %s must be a number >= 0, got %s", k, tostring(v))
    end
  end
  if opts.idle and opts.idle > 1e9 then errors.misuse("navixy.memory: idle must be at most 1e9 seconds") end
  if opts.cushion and opts.cushion > 2 ^ 52 then errors.misuse("navixy.memory: cushion must be at most 2^52 bytes") end
  local cushion, idle = core.heap_policy(opts.cushion, opts.idle)
  return { cushion = cushion, idle = idle }
end

--- Creates a client; raises on bad options (messages start "navixy:").
function navixy.new(opts)
  return client.new(opts, navixy.VERSION)
end

--- navixy.new(opts) and client:login(): returns client, result or nil, err.
function navixy.login(opts)
  local c = navixy.new(opts)
  local res, err = c:login()
  if not res then
    c:close()
    return nil, err
  end
  return c, res
end

return navixy

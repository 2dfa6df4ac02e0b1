--- navixy: a client for the Navixy telematics API v2.
-- See README.md and shared API contract: navixy.new, navixy.login,
-- client:call and namespaces, errors as values.
local client = require "navixy.client"
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
navixy.encode = json.encode -- the C encoder: JSON text, arrays kept as arrays
navixy.is_error = errors.is_error
navixy.file = upload.file -- a param value that makes the request multipart/form-data
-- shared sessions and rate limits: navixy.store.ngx(dict_name), navixy.store.redis{...}
navixy.store = { ngx = store.ngx, redis = store.redis }
-- event loops: navixy.new{ loop = "copas" | "cqueues" | "luv" | adapter }; a given luv:
navixy.loop = { luv = function(uv) return require("navixy.loop").luv(uv) end }

--- A decoded answer (or any value) as readable JSON text: keys sorted,
-- indented, navixy.null as null. `compact` = true: on one line.
function navixy.pretty(value, compact)
  return require("navixy.pretty").value(value, compact)
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

-- docs/API-reference.md is written by hand; this keeps it complete. Every
-- public name the code has must be in it: the module's names, the client's
-- methods, the navixy.new and call options (read from options.lua), the
-- fields errors and the on_request hook actually carry, and the command's
-- options and environment variables.
local navixy = require "navixy"
local cli = require "navixy.cli"
local fake = require "fake"

local read = require("local_files").read

local reference = read("docs/API-reference.md")

local function documented(text)
  return reference:find(text, 1, true) ~= nil
end

local function missing_of(names, spelling)
  local missing = {}
  for _, name in ipairs(names) do
    if not documented(spelling(name)) then missing[#missing + 1] = spelling(name) end
  end
  table.sort(missing)
  return missing
end

local function keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  return list
end

-- The names of a table constructor `local NAME = { a = ..., b = ... }` in options.lua.
local function option_names(table_name)
  local src = read("lua/navixy/options.lua")
  local body = src:match("\nlocal " .. table_name .. " = (%b{})")
  assert(body, "options.lua has no `local " .. table_name .. " = {...}`: update this spec")
  local names = {}
  for name in body:gmatch("([%a_][%w_]*)%s*=") do names[#names + 1] = name end
  return names
end

-- A table row of the reference starts with the name in backticks.
local function row(name) return "| `" .. name .. "` |" end

describe("docs/API-reference.md", function()
  it("names everything in the navixy module", function()
    assert.same({}, missing_of(keys(navixy), function(k) return "`navixy." .. k end))
  end)

  it("names every client method", function()
    -- a fresh client's metatable holds its methods (and, once used, its namespaces)
    local methods = {}
    for name, v in pairs(getmetatable(navixy.new { url = fake.url }).__index) do
      if type(v) == "function" then methods[#methods + 1] = name end
    end
    assert.is_true(#methods >= 10)
    assert.same({}, missing_of(methods, function(k) return "`client:" .. k .. "(" end))
  end)

  it("has a row for every navixy.new option", function()
    local names = option_names("CLIENT")
    assert.is_true(#names >= 15)
    assert.same({}, missing_of(names, row))
  end)

  it("has a row for every call option", function()
    local names = option_names("CALL")
    assert.is_true(#names >= 3)
    assert.same({}, missing_of(names, row))
  end)

  it("has a row for every subscribe option, and names the subscription's methods", function()
    local names = option_names("SUBSCRIBE")
    assert.is_true(#names >= 6)
    assert.same({}, missing_of(names, row))
    local sub = navixy.new { url = fake.url, hash = fake.api_key }:subscribe { { type = "state", trackers = { 1 } } }
    local methods = {}
    for name, v in pairs(getmetatable(sub).__index) do
      if type(v) == "function" and not name:find("^__") then methods[#methods + 1] = name end
    end
    assert.is_true(#methods >= 5)
    assert.same({}, missing_of(methods, function(k) return "`sub:" .. k .. "(" end))
    sub:close()
  end)

  it("has a row for every field an error or the on_request hook carries", function()
    fake.reset()
    local seen_err, seen_info = {}, {}
    local client = navixy.new { url = fake.url, hash = fake.api_key, retries = 1,
      on_request = function(info) for k in pairs(info) do seen_info[k] = true end end }
    local function collect(_, err)
      if err then for k in pairs(err) do seen_err[k] = true end end
    end
    fake.fault { action = "tracker/list", type = "status", status = 429, headers = { ["Retry-After"] = "0" } }
    collect(client.tracker.list()) -- retried, then a success
    collect(client.tracker.get_state { tracker_id = 99 }) -- api
    fake.fault { action = "tracker/update", type = "status", status = 502, body = "<html>" }
    collect(client.tracker.update()) -- http, with a body
    fake.fault { action = "tracker/update", type = "delay", seconds = 2 }
    collect(client:call("tracker/update", nil, { timeout = 0.2 })) -- timeout
    client:close()
    local closed = navixy.new { url = "http://127.0.0.1:1/v2", retries = 0 }
    collect(closed.tracker.list()) -- transport
    closed:close()
    assert.truthy(seen_err.response and seen_err.body and seen_err.phase and seen_info.retry_in)
    assert.same({}, missing_of(keys(seen_err), row))
    assert.same({}, missing_of(keys(seen_info), row))
  end)

  it("names every option and environment variable of the navixy command", function()
    local names = {}
    for opt in cli.HELP:gmatch("%-%-[%w-]+") do names[opt] = true end
    for var in cli.HELP:gmatch("NAVIXY_[%u_]+") do names[var] = true end
    assert.is_true(names["--session"] and names["NAVIXY_PASSWORD"])
    assert.same({}, missing_of(keys(names), function(n) return "`" .. n end))
  end)

  it("lists every exit status of the command", function()
    for name, status in pairs(cli.EXIT) do
      assert.truthy(documented("| " .. status .. " |"), name)
    end
  end)
end)

describe("the source tree", function()
  -- every file under lua/navixy/ and every C source, by path from the root
  local function sources()
    local list = {}
    local find = io.popen("find lua/navixy csrc -name '*.lua' -o -name '*.c' -o -name '*.h' | sort")
    for path in find:lines() do list[#list + 1] = path end
    find:close()
    assert.is_true(#list > 30)
    return list
  end

  it("is described file by file in CONTRIBUTING.md's module map", function()
    local contributing = read("CONTRIBUTING.md")
    local map = contributing:match("\n## Module map\n(.*)")
    assert.truthy(map, "CONTRIBUTING.md has no Module map section")
    map = map:match("^(.-)\n##? ") or map -- up to the next section
    local missing = {}
    for _, path in ipairs(sources()) do
      local shown = path:gsub("%.h$", ".c") -- a header goes with its .c
      local c = io.open(shown)
      if c then c:close() else shown = path end -- a header alone is shown itself
      if not map:find("`" .. shown .. "`", 1, true) then missing[#missing + 1] = path end
    end
    assert.same({}, missing)
  end)

  it("has the command apart: require \"navixy\" loads the library alone", function()
    local loaded = require("local_files").lua_output [[
require "navixy"
local names = {}
for name in pairs(package.loaded) do
  if name:find("^navixy") then names[#names + 1] = name end
end
table.sort(names)
print(table.concat(names, " "))
]]
    assert.matches("navixy%.core", loaded)
    assert.matches("navixy%.transport", loaded)
    for name in loaded:gmatch("%S+") do
      assert.is_false(name == "navixy.cli" or name:find("^navixy%.cli%.") ~= nil, loaded)
    end
  end)

  it("is built and installed whole by the rockspec", function()
    local rockspec = read("rockspec/navixy-scm-1.rockspec")
    local missing = {}
    for _, path in ipairs(sources()) do
      if not path:find("%.h$") and not rockspec:find('"' .. path .. '"', 1, true) then
        missing[#missing + 1] = path
      end
    end
    assert.same({}, missing)
  end)
end)

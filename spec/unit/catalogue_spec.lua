-- The catalogue of documented actions (lua/navixy/catalogue/data.lua, made
-- by `make catalogue` from Navixy's docs): what the committed module holds,
-- the lookups and did-you-mean over it, the param checks, the help it feeds,
-- and that `require "navixy"` does not load it.
local navixy = require "navixy"
local catalogue = require "navixy.catalogue"
local help = require "navixy.help"
local local_files = require "local_files"

local LUA = require "flavour"

local function families()
  return require("navixy.catalogue.data").families
end

local function set(list)
  local out = {}
  for _, v in ipairs(list) do out[v] = true end
  return out
end

local JSON_TYPES = set { "string", "integer", "number", "boolean", "array", "object" }
local BOUNDS = { "min", "max", "min_length", "max_length", "min_items", "max_items", "item_min_length",
  "item_max_length" }

local function check_param(where, p)
  assert.is_string(p.name, where)
  assert.is_boolean(p.required, where .. " " .. p.name)
  if p.type ~= nil then assert.is_true(JSON_TYPES[p.type], where .. " " .. p.name .. ": " .. p.type) end
  if p.items ~= nil then
    assert.equal("array", p.type, where .. " " .. p.name)
    assert.is_true(JSON_TYPES[p.items], where .. " " .. p.name)
  end
  for _, b in ipairs(BOUNDS) do
    if p[b] ~= nil then assert.is_number(p[b], where .. " " .. p.name .. " " .. b) end
  end
  if p.enum ~= nil then assert.is_table(p.enum, where) end
  if p.in_path ~= nil then assert.is_true(where:find("{" .. p.name .. "}", 1, true) ~= nil, where) end
end

local function check_entry(family, path, e)
  local where = family .. " " .. path
  assert.is_truthy(path:find("^[%w_{}][%w_{}/]*$"), where)
  assert.equal(family, e.family, where)
  assert.equal(path, catalogue.get(path, family).path, where)
  assert.is_string(e.summary, where)
  assert.is_truthy(e.doc:find("^api%-docs/.+%.[mdjson]+$"), where)
  assert.is_truthy(e.url:find("^https://"), where)
  assert.is_true(set { "GET", "POST", "WebSocket" }[e.method] ~= nil, where)
  assert.is_truthy(e.answer == "json" or e.answer:find("^[%w/.+-]+[,%w/.+-]*$"), where)
  for _, flag in ipairs { "multipart", "no_auth", "read_only" } do assert.is_boolean(e[flag], where) end
  local names = {}
  for _, p in ipairs(e.params) do
    check_param(where, p)
    assert.is_nil(names[p.name], where .. ": " .. p.name .. " twice")
    names[p.name] = true
  end
end

describe("the committed catalogue", function()
  it("names the docs commit it was generated from", function()
    assert.is_truthy(catalogue.docs_commit():find("^%x+$"))
    assert.equal(40, #catalogue.docs_commit())
  end)

  it("holds every family's actions, at least the documented counts", function()
    local counts = catalogue.counts()
    local floors = { user = 380, panel = 60, iot_logic = 18, dwh = 2, eco_fleet = 2, websocket = 4 }
    for family, floor in pairs(floors) do
      assert.is_true(counts[family] >= floor, family .. ": " .. tostring(counts[family]))
    end
  end)

  it("gives every entry its fields, of their types", function()
    local n = 0
    for family, entries in pairs(families()) do
      for path, e in pairs(entries) do
        check_entry(family, path, e)
        n = n + 1
      end
    end
    assert.is_true(n >= 466)
  end)

  it("writes paths as a user calls them: panel/..., iot/logic/..., the rest below their base", function()
    for path in pairs(families().panel) do assert.is_truthy(path:find("^panel/"), path) end
    for path in pairs(families().iot_logic) do assert.is_truthy(path:find("^iot/logic/"), path) end
    for path in pairs(families().user) do
      assert.is_falsy(path:find("^panel/") or path:find("^iot/") or path:find("^/"), path)
    end
    assert.is_table(catalogue.get("tracker/raw_data/read", "dwh"))
    local resampling = catalogue.get("trackers/{tracker_id}/resampling", "eco_fleet")
    assert.same({ name = "tracker_id", type = "integer", required = true, in_path = true }, resampling.params[1])
    assert.is_table(catalogue.get("event/subscription/state_batch", "websocket"))
  end)

  it("marks the read-only actions whose names do not say so as read-only, and writes as not", function()
    for _, path in ipairs { "report/tracker/status", "report/tracker/retrieve", "track/download",
      "zone/download", "tracker/readings/batch_list", "tracker/batch_get_inputs", "geocoder/search_address",
      "tag/search", "panel/user/export", "tracker/list", "tracker/get_state", "beacon/data/last_values" } do
      assert.is_true(catalogue.get(path).read_only, path)
    end
    for _, path in ipairs { "tracker/delete", "report/tracker/generate", "panel/user/create", "api/key/create",
      "tracker/output/set", "history/mark_read", "user/auth" } do
      assert.is_false(catalogue.get(path).read_only, path)
    end
  end)

  it("has IoT Logic's GET operations as GET and the others as POST", function()
    local gets = set { "iot/logic/flow/read", "iot/logic/flow/list", "iot/logic/flow/export",
      "iot/logic/flow/sources/mapping/list", "iot/logic/flow/schema/read", "iot/logic/flow/template/read",
      "iot/logic/flow/template/list", "iot/logic/flow/sources/list" }
    for path, e in pairs(families().iot_logic) do
      assert.equal(gets[path] and "GET" or "POST", e.method, path)
    end
    for _, e in pairs(families().user) do assert.equal("POST", e.method, e.path) end
  end)

  it("knows which actions need no authentication", function()
    for _, path in ipairs { "panel/timezone/list", "panel/account/auth", "user/auth", "dealer/get_ui_config" } do
      assert.is_true(catalogue.get(path).no_auth, path)
    end
    for _, path in ipairs { "tracker/list", "panel/user/list", "iot/logic/flow/list" } do
      assert.is_false(catalogue.get(path).no_auth, path)
    end
  end)

  it("has the documented params, types and bounds", function()
    local labels = catalogue.get("tracker/list").params[1]
    assert.same({ name = "labels", type = "array", items = "string", required = false, min_items = 1,
      max_items = 1024, item_min_length = 1, item_max_length = 60, unique_items = true }, labels)
    local flow_read = catalogue.get("iot/logic/flow/read").params
    assert.same({ { name = "flow_id", type = "integer", required = true } }, flow_read)
    local export = catalogue.get("panel/user/export")
    assert.equal("csv,xlsx", export.answer)
    local format
    for _, p in ipairs(export.params) do if p.name == "format" then format = p end end
    assert.same({ "csv", "xlsx" }, format.enum)
    local ids
    for _, p in ipairs(catalogue.get("event/subscription/iot_monitor", "websocket").params) do
      if p.name == "target.tracker_ids" then ids = p end
    end
    assert.equal(10, ids.max_items)
  end)

  it("knows the file answers and the uploads", function()
    assert.is_truthy(catalogue.get("report/tracker/download").answer:find("pdf", 1, true))
    assert.is_truthy(catalogue.get("track/download").answer:find("kml", 1, true))
    assert.equal("json", catalogue.get("tracker/list").answer)
    assert.is_true(catalogue.get("zone/upload").multipart)
    assert.is_true(catalogue.get("panel/user/upload").multipart)
    assert.is_false(catalogue.get("tracker/list").multipart)
  end)

  it("follows corrections.lua where the docs contradict themselves", function()
    assert.is_table(catalogue.get("api/key/list"))
    assert.is_nil(catalogue.get("user/api_key/list"))
    assert.is_table(catalogue.get("vehicle/service_task/batch_create"))
    assert.is_nil(catalogue.get("map_layer/listd"))
  end)

  it("loads on every Lua: no function of the module nears the constant limits", function()
    local out = local_files.lua_output([[
      local data = dofile("lua/navixy/catalogue/data.lua")
      local n = 0
      for _, family in pairs(data.families) do for _ in pairs(family) do n = n + 1 end end
      print(n)]])
    assert.is_true(tonumber(out) >= 466, out)
  end)
end)

describe("catalogue lookups", function()
  it("gets an entry by action, nil for an undocumented one; misuse raises", function()
    assert.equal("tracker/list", catalogue.get("tracker/list").path)
    assert.equal("panel/user/list", catalogue.get("panel/user/list").path)
    assert.is_nil(catalogue.get("tracker/nothing_here"))
    assert.is_nil(catalogue.get("tracker/raw_data/read")) -- a DWH action, not on the user base
    assert.has_error(function() catalogue.get(42) end, "navixy: action must be a string, got number")
    assert.has_error(function() catalogue.get("a", "nope") end, "navixy: unknown catalogue family nope")
  end)

  it("lists the actions under a prefix, sorted, by whole segments", function()
    local under = catalogue.actions("tracker")
    local sorted = {}
    for i, path in ipairs(under) do sorted[i] = path end
    table.sort(sorted)
    assert.same(sorted, under)
    assert.is_true(set(under)["tracker/list"])
    assert.is_true(set(under)["tracker/settings/lbs/read"])
    for _, path in ipairs(under) do assert.is_truthy(path:find("^tracker/"), path) end
    assert.same(catalogue.actions("tracker/"), under)
    assert.same({ "tracker/list" }, catalogue.actions("tracker/list"))
    assert.same({}, catalogue.actions("trackerz"))
    assert.same(navixy.actions("tracker"), under)
    assert.is_true(#navixy.actions() >= 460)
  end)

  it("names the next segments under a namespace", function()
    assert.same({ "lbs", "read", "special", "tracking", "trip_detection", "update" },
      catalogue.children("tracker/settings"))
    local top = set(catalogue.children(""))
    assert.is_true(top.tracker and top.panel and top.iot and top.user)
    assert.same({}, catalogue.children("tracker/list"))
  end)

  it("finds actions by a word in their name", function()
    local found = set(catalogue.search("download"))
    assert.is_true(found["report/tracker/download"] and found["track/download"] and found["zone/download"])
  end)
end)

describe("did you mean", function()
  it("catches near-typos of documented actions", function()
    assert.equal("tracker/list", catalogue.is_typo("tracker/lsit"))
    assert.equal("tracker/list", catalogue.is_typo("trackr/list"))
    assert.equal("tracker/get_state", catalogue.is_typo("tracker/get_stat"))
    assert.equal("panel/user/list", catalogue.is_typo("panel/user/lsit"))
    assert.equal("iot/logic/flow/read", catalogue.is_typo("iot/logic/flow/raed"))
  end)

  it("calls neither a documented action nor a far name a typo", function()
    assert.is_nil(catalogue.is_typo("tracker/list"))
    assert.is_nil(catalogue.is_typo("foo/bar"))
    assert.is_nil(catalogue.is_typo("plugin/acme/sync")) -- a plugin's action, sent as it is
    assert.is_nil(catalogue.is_typo("tracker/listing"))
    -- the docs' example spells it so where the heading says batch_create: it may be the server's
    assert.is_nil(catalogue.is_typo("vehicle/service_task/batch/create"))
    assert.equal("map_layer/list", catalogue.is_typo("map_layer/listd")) -- a plain typo in an example
  end)

  it("names the nearest documented actions, nearest first", function()
    assert.equal("tracker/list", catalogue.nearest("tracker/lsit")[1])
    assert.equal("tracker/list", catalogue.nearest("tracker/listing")[1])
    assert.same({}, catalogue.nearest("foo/bar"))
    assert.equal(1, #catalogue.nearest("tracker/lsit", 1))
  end)

  it("counts a swap of neighbours as one edit", function()
    assert.equal(1, catalogue.distance("lsit", "list"))
    assert.equal(0, catalogue.distance("", ""))
    assert.equal(3, catalogue.distance("abc", ""))
    assert.equal(3, catalogue.distance("kitten", "sitting"))
  end)

  it("gives within a limit what the whole table gives, or limit + 1 past it", function()
    -- the bounded distance skips the table for names whose bytes differ too much
    -- (navixy.closest.unmatched, a lower bound): the same answers, on names near and far
    local closest = require "navixy.closest"
    local seed = 7
    local function random(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local function word()
      local t = {}
      for i = 1, random(9) do t[i] = string.char(97 + random(4)) end
      return table.concat(t)
    end
    for _ = 1, 3000 do
      local a, b = word(), word()
      local full = catalogue.distance(a, b)
      assert.is_true(closest.unmatched(a, b) <= full, a .. " / " .. b)
      for limit = 0, 3 do
        assert.equal(math.min(full, limit + 1), catalogue.distance(a, b, limit), a .. " / " .. b)
      end
    end
  end)
end)

describe("what a call looks up", function()
  it("finds an action as a client names it, kept per name; a panel client's relative to panel/", function()
    local user = catalogue.lookup("tracker/list", "")
    assert.equal(catalogue.get("tracker/list"), user.entry)
    assert.same({ false, "tracker/list" }, { user.typo, user.path })
    assert.equal(user, catalogue.lookup("tracker/list", "")) -- the same table: looked up once
    assert.equal(catalogue.get("panel/user/list"), catalogue.lookup("user/list", "panel/").entry)
    assert.equal(catalogue.get("tracker/list"), catalogue.lookup("/tracker/list/", "").entry)
    assert.equal("panel/user/list", catalogue.lookup("panel/usr/list", "").typo)
    local typo = catalogue.lookup("usr/list", "panel/")
    assert.same({ false, "user/list", "panel/usr/list" }, { typo.entry, typo.typo, typo.path })
    assert.equal("tracker/list", catalogue.lookup("tracker/lsit", "").typo)
    assert.same({ false, false }, { catalogue.lookup("plugin/x", "").entry, catalogue.lookup("plugin/x", "").typo })
  end)

  it("names the closest of a few names for a did-you-mean, or none", function()
    assert.equal("batch", catalogue.closest("bacth", { "call", "batch", "each" }))
    assert.equal("compact", catalogue.closest("compcat", { "compact", "form", "panel" }))
    assert.is_nil(catalogue.closest("zzzzzz", { "compact", "form" }))
    assert.is_nil(catalogue.closest("ab", { "xy" })) -- as many edits as letters: no guess
    assert.is_nil(catalogue.closest("x", {}))
  end)
end)

describe("param checks", function()
  local function problems(action, params, family)
    return catalogue.check(action, params, family)
  end

  it("passes params that fit, and never refuses undocumented extra params", function()
    assert.is_nil(problems("tracker/list", {}))
    assert.is_nil(problems("tracker/list", { labels = { "truck", "van" }, whatever = { 1 } }))
    assert.is_nil(problems("tracker/get_state", { tracker_id = 7, extra = "x" }))
    assert.is_nil(problems("no/such/action", { anything = 1 }))
    assert.is_nil(problems("tracker/list", { labels = navixy.null }))
  end)

  it("reports a missing required param and a wrong JSON type", function()
    assert.same({ "tracker_id: required, missing" }, problems("tracker/get_state", {}))
    assert.same({ "tracker_id: required, missing" }, problems("tracker/get_state"))
    assert.same({ "tracker_id: expected integer, got string" }, problems("tracker/get_state", { tracker_id = "7" }))
    assert.same({ "tracker_id: expected integer, got number" }, problems("tracker/get_state", { tracker_id = 1.5 }))
    assert.same({ "labels: expected array, got string" }, problems("tracker/list", { labels = "truck" }))
    assert.same({ "labels: expected array, got object" }, problems("tracker/list", { labels = { a = 1 } }))
  end)

  it("reports documented bounds: labels 1..1024, each 1..60 characters", function()
    assert.same({ "labels: item count 0 is below the minimum 1" }, problems("tracker/list", { labels = {} }))
    assert.same({ "labels: item count 0 is below the minimum 1" },
      problems("tracker/list", { labels = navixy.array() }))
    local many = {}
    for i = 1, 1025 do many[i] = "l" .. i end
    assert.same({ "labels: item count 1025 is above the maximum 1024" }, problems("tracker/list", { labels = many }))
    many[1025] = nil
    assert.is_nil(problems("tracker/list", { labels = many }))
    assert.same({ "labels[1]: length 0 is below the minimum 1", "labels[2]: length 61 is above the maximum 60",
      "labels[3]: expected string, got integer" },
      problems("tracker/list", { labels = { "", ("é"):rep(61), 5 } }))
    assert.is_nil(problems("tracker/list", { labels = { ("é"):rep(60) } })) -- characters, not bytes
    assert.same({ "labels[3]: a duplicate of labels[1]" }, problems("tracker/list", { labels = { "a", "b", "a" } }))
  end)

  it("reports at most 10 trackers for an iot_monitor subscription, and enums", function()
    local ids = {}
    for i = 1, 11 do ids[i] = i end
    assert.same({ "target.tracker_ids: item count 11 is above the maximum 10" },
      problems("event/subscription/iot_monitor", { target = { type = "selected", tracker_ids = ids } }, "websocket"))
    ids[11] = nil
    assert.is_nil(problems("event/subscription/iot_monitor", { target = { type = "selected", tracker_ids = ids } },
      "websocket"))
    assert.same({ "format: pdf is not one of csv, xlsx" }, problems("panel/user/export", { format = "pdf" }))
  end)

  it("raises on params that are not a table", function()
    assert.has_error(function() catalogue.check("tracker/list", "labels") end,
      "navixy: params must be a table, got string")
  end)

  it("shapes an empty table the docs type as an array into [], in a copy", function()
    local params = { labels = {}, other = {} }
    local shaped = catalogue.shape("tracker/list", params)
    assert.equal('{"labels":[],"other":{}}', navixy.encode(shaped))
    assert.is_nil(getmetatable(params.labels)) -- the caller's table is left as it was
    local same = { labels = { "a" } }
    assert.equal(same, catalogue.shape("tracker/list", same))
    assert.equal(same, catalogue.shape("no/such/action", same))
    assert.equal('{"trackers":[]}', navixy.encode(catalogue.shape("tracker/batch_get_inputs", { trackers = {} })))
  end)
end)

describe("help from the catalogue", function()
  it("shows an action: summary, params with types, required marks and bounds, method, answer, link", function()
    local text = help.text(navixy.VERSION, "tracker/get_state")
    for _, want in ipairs { "tracker/get_state: Gets current tracker state", "tracker_id integer, required",
      "POST; answer: JSON; read-only", "Docs: https://www.navixy.com/docs/navixy-api/user-api/" } do
      assert.truthy(text:find(want, 1, true), want)
    end
    local list = help.text(navixy.VERSION, "tracker/list")
    assert.truthy(list:find("labels array of string, optional, items 1..1024, each item's length 1..60, no duplicates",
      1, true))
    local file = help.text(navixy.VERSION, "report/tracker/download")
    assert.truthy(file:find("answer: a file (pdf", 1, true))
    local get = help.text(navixy.VERSION, "iot/logic/flow/read")
    assert.truthy(get:find("GET; answer: JSON", 1, true))
    local dwh = help.text(navixy.VERSION, "tracker/raw_data/read")
    assert.truthy(dwh:find("client:dwh()", 1, true))
  end)

  it("lists what is under a namespace, and finds actions by a word", function()
    local text = help.text(navixy.VERSION, "tracker/settings")
    assert.truthy(text:find("Under tracker/settings/", 1, true))
    assert.truthy(text:find("lbs/ read special/", 1, true))
    local download = help.text(navixy.VERSION, "download")
    assert.truthy(download:find("report/tracker/download", 1, true))
    assert.falsy(download:find("Nothing about", 1, true))
    assert.truthy(help.text(navixy.VERSION, "tracker/lsit"):find("Did you mean tracker/list", 1, true))
  end)
end)

describe("loading", function()
  it("require 'navixy' loads no catalogue; the first lookup does", function()
    local out = local_files.lua_output([[
      local navixy = require "navixy"
      print(package.loaded["navixy.catalogue"] == nil, package.loaded["navixy.catalogue.data"] == nil)
      navixy.new{ hash = "0123456789abcdef0123456789abcdef" }:close()
      print(package.loaded["navixy.catalogue"] == nil, package.loaded["navixy.catalogue.data"] == nil)
      print(#navixy.actions("tracker") > 0, package.loaded["navixy.catalogue.data"] ~= nil)]])
    assert.equal("true\ttrue\ntrue\ttrue\ntrue\ttrue\n", out)
  end)
end)

describe("the command's catalogue subcommands", function()
  local function navixy_cmd(args)
    local out = os.tmpname()
    local p = io.popen("env -i PATH=\"$PATH\" " .. LUA .. " bin/navixy " .. args .. " 2>" .. out .. "; echo $?")
    local stdout = p:read("*a")
    p:close()
    local status = tonumber(stdout:match("(%d+)\n$"))
    local stderr = local_files.read(out)
    os.remove(out)
    return status, stdout:gsub("%d+\n$", ""), stderr
  end

  it("navixy actions [PREFIX] prints one action a line; nothing under it is a usage error", function()
    local status, out = navixy_cmd("actions tracker/settings/lbs")
    assert.equal(0, status)
    assert.equal("tracker/settings/lbs/read\ntracker/settings/lbs/update\n", out)
    local _, all = navixy_cmd("actions")
    local n = select(2, all:gsub("\n", ""))
    assert.is_true(n >= 460, n)
    local bad, _, err = navixy_cmd("actions trackr")
    assert.equal(2, bad)
    assert.truthy(err:find('no documented action under "trackr" (did you mean track, tracker?)', 1, true))
  end)

  it("navixy help ACTION shows the action; an unknown word is a usage error", function()
    local status, out = navixy_cmd("help tracker/get_state")
    assert.equal(0, status)
    assert.truthy(out:find("tracker_id integer, required", 1, true))
    local bad, _, err = navixy_cmd("help zebra")
    assert.equal(2, bad)
    assert.truthy(err:find('nothing documented about "zebra"', 1, true))
  end)

  it("navixy actions --params ACTION gives name= for strings and name:= for other types", function()
    local status, out = navixy_cmd("actions --params report/tracker/download")
    assert.equal(0, status)
    assert.equal("report_id:=\nformat=\nheadless:=\n", out)
  end)

  it("navixy completion bash|zsh prints a script the shell reads; bash completes actions and params", function()
    local status, script = navixy_cmd("completion bash")
    assert.equal(0, status)
    assert.truthy(script:find("complete -F _navixy navixy", 1, true))
    assert.truthy(script:find("--timeout", 1, true))
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write(script)
    f:close()
    -- `navixy` in the completion's PATH: this checkout's, run by this Lua
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    f = assert(io.open(dir .. "/navixy", "w"))
    f:write("#!/bin/sh\nexec ", LUA, " '", local_files.output_trimmed("pwd"), "/bin/navixy' \"$@\"\n")
    f:close()
    os.execute("chmod +x " .. dir .. "/navixy")
    local out = local_files.output("PATH=" .. dir .. ":$PATH bash -c 'source " .. file .. "; "
      .. "COMP_WORDS=(navixy tracker/list_); COMP_CWORD=1; _navixy; echo \"${COMPREPLY[*]}\"; "
      .. "COMP_WORDS=(navixy --hash x report/tracker/download he); COMP_CWORD=4; _navixy; "
      .. "echo \"${COMPREPLY[*]}\"'")
    os.execute("rm -r " .. dir .. " " .. file)
    assert.equal("tracker/list_models\nheadless:=\n", out)
    local zstatus, zsh = navixy_cmd("completion zsh")
    assert.equal(0, zstatus)
    assert.truthy(zsh:find("#compdef navixy", 1, true))
    assert.equal(2, (navixy_cmd("completion fish")))
  end)
end)

-- Lazy answers (decode = "lazy", csrc/json_lazy.h): the answer indexed and
-- read on access, a read-only view as far as each Lua allows. On every Lua:
-- indexing, #, navixy.pairs / navixy.ipairs, navixy.plain, navixy.encode,
-- navixy.pretty; pairs and ipairs themselves where the Lua honours them.
local navixy = require "navixy"
local core = require "navixy.core"
local fake = require "fake"
local setup = require "setup"

local TEXT = ' {"success": true, "list": [{"id": 7, "label": "Van \\u00e9", "n": null, "ok": false},'
  .. ' {"id": 12345678901234, "speed": 2.5, "tags": [], "extra": {}}], "count": 2, "k": 1, "k": 2} '

local function view() return assert(core.lazy(TEXT)) end

local lua = _VERSION
local has_pairs_mm = lua ~= "Lua 5.1"             -- __pairs on userdata: 5.2+
local has_ipairs = lua == "Lua 5.3" or lua == "Lua 5.4" -- ipairs through __index
if rawget(_G, "jit") then has_pairs_mm, has_ipairs = false, false end

describe("a lazy answer", function()
  it("reads members on access, as core.decode would give them", function()
    local v, full = view(), core.decode(TEXT)
    assert.is_true(navixy.is_lazy(v))
    assert.equal(true, v.success)
    assert.equal(2, #v.list)
    assert.equal(7, v.list[1].id)
    assert.equal(full.list[2].id, v.list[2].id)
    assert.equal(full.list[1].label, v.list[1].label)
    assert.equal(navixy.null, v.list[1].n)
    assert.equal(false, v.list[1].ok)
    assert.equal(2.5, v.list[2].speed)
    assert.equal(0, #v.list[2].tags)
    assert.equal(2, v.k) -- a repeated key: the last, as core.decode keeps
    assert.is_nil(v.nope)
    assert.is_nil(v.list[3])
    assert.is_nil(v.list[0])
    assert.is_nil(v.list[1.5])
    assert.is_nil(v[1])
    assert.equal(0, #v) -- an object's length, as # of a table with keys only
    if math.type then assert.equal("integer", math.type(v.list[2].id)) end
  end)

  it("is read-only", function()
    local v = view()
    assert.has_error(function() v.success = false end,
      "navixy: a lazy answer is read-only (navixy.plain(v) gives tables to change)")
    assert.has_error(function() v.list[1] = 1 end)
    assert.equal("navixy.lazy", getmetatable(v)) -- and its metatable is not to be had
  end)

  it("compares equal to another view of the same value", function()
    local v = view()
    assert.is_true(v.list == v.list)
    assert.is_false(v.list[1] == v.list[2])
    assert.is_false(v.list == view().list)
  end)

  it("goes through navixy.pairs and navixy.ipairs on every Lua, in the text's order", function()
    local v, keys = view(), {}
    for k in navixy.pairs(v.list[2]) do keys[#keys + 1] = k end
    assert.same({ "id", "speed", "tags", "extra" }, keys)
    local ids = {}
    for i, ev in navixy.ipairs(v.list) do ids[i] = ev.id end
    assert.same({ 7, 12345678901234 }, ids)
    for _ in navixy.ipairs(v.list[1]) do error("an object has no items") end
    -- plain tables go through them as through pairs and ipairs
    local n = 0
    for _, x in navixy.ipairs { 1, 2, 3 } do n = n + x end
    assert.equal(6, n)
  end)

  it("goes through pairs and ipairs where the Lua honours them for userdata", function()
    local v = view()
    if has_pairs_mm then
      local keys = {}
      for k in pairs(v.list[1]) do keys[#keys + 1] = k end
      assert.same({ "id", "label", "n", "ok" }, keys)
    else
      assert.has_error(function() for _ in pairs(v) do end end)
    end
    if has_ipairs or lua == "Lua 5.2" then
      local ids = {}
      for i, ev in ipairs(v.list) do ids[i] = ev.id end
      assert.same({ 7, 12345678901234 }, ids)
    else
      assert.has_error(function() for _ in ipairs(v.list) do end end)
    end
  end)

  it("becomes plain tables with navixy.plain, and navixy.encode and navixy.pretty take it", function()
    local v = view()
    local plain = navixy.plain(v)
    assert.equal("table", type(plain))
    assert.same(core.decode(TEXT), plain)
    assert.equal(getmetatable(core.decode("[]")), getmetatable(navixy.plain(v.list[2].tags)))
    assert.equal(navixy.encode(core.decode(TEXT)), navixy.encode(v))
    assert.equal(navixy.pretty(core.decode(TEXT)), navixy.pretty(v))
    -- a table holding views: copied with them read
    local mixed = { first = v.list[1], n = 1 }
    assert.same({ first = core.decode(TEXT).list[1], n = 1 }, navixy.plain(mixed))
    assert.equal('{"first":{"id":7,"label":"Van \195\169","n":null,"ok":false},"n":1}', navixy.encode(mixed))
    local t = { a = 1 }
    assert.equal(t, navixy.plain(t)) -- no views in it: the table itself
  end)

  it("checks the whole text as core.decode does", function()
    for _, bad in ipairs { "[1,", '{"a" 1}', '"\\x"', "[1] 2", "01", "{,}", "[tru]", "" } do
      local v, why = core.lazy(bad)
      assert.is_nil(v, bad)
      assert.matches("^invalid JSON at byte %d+: ", why)
      assert.is_nil(core.decode(bad), bad)
    end
    assert.equal(12, core.lazy("12"))
    -- empty containers, alone: no member anywhere
    assert.is_nil(core.lazy("[]")[1])
    assert.equal(0, #core.lazy(" [ ] "))
    assert.is_nil(core.lazy("{}").a)
    assert.equal("s\n", core.lazy('"s\\n"'))
  end)

  it("keeps its text and index alive on its own", function()
    local item = view().list[2]
    collectgarbage()
    collectgarbage()
    assert.equal(12345678901234, item.id)
    assert.equal(2.5, item.speed)
  end)
end)

describe("decode = \"lazy\"", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("gives a call's answer as a lazy answer", function()
    local res = assert(client:call("tracker/list", nil, { decode = "lazy" }))
    assert.is_true(navixy.is_lazy(res))
    assert.equal(true, res.success)
    local full = assert(client:call("tracker/list"))
    assert.equal(#full.list, #res.list)
    assert.equal(full.list[1].id, res.list[1].id)
    assert.same(full, navixy.plain(res))
  end)

  it("still gives errors whole", function()
    -- success: false in a 200 answer: the lazy path reads it and decodes the error whole
    fake.fault { action = "tracker/list", type = "raw", status = 200, times = 1,
      body = { success = false, status = { code = 201, description = "Not found in the database" } } }
    local res, err = client:call("tracker/list", nil, { decode = "lazy", retries = 0 })
    assert.is_nil(res)
    assert.equal("api", err.kind)
    assert.equal(201, err.code)
    assert.equal("table", type(err.response))
    fake.fault { action = "tracker/list", type = "raw", status = 200, times = 1, body = "[1, 2]" }
    res, err = client:call("tracker/list", nil, { decode = "lazy", retries = 0 })
    assert.is_nil(res)
    assert.equal("decode", err.kind)
  end)

  it("is checked as an option", function()
    assert.has_error(function() client:call("tracker/list", nil, { decode = "lazyy" }) end,
      "navixy: option 'decode' must be a boolean or \"lazy\", got \"lazyy\"")
  end)

  it("client:get_history gives lazy events with decode = \"lazy\"", function()
    local params = { trackers = { 1, 2, 3 }, limit = 50, from = "2024-05-01 00:00:00", to = "2024-05-03 00:00:00" }
    local res = assert(client:get_history(params, { decode = "lazy" }))
    local full = assert(client:get_history(params))
    assert.equal(144, #res.list)
    assert.is_true(navixy.is_lazy(res.list[1]))
    for i = 1, 144 do assert.equal(full.list[i].id, res.list[i].id) end
    assert.same(full, navixy.plain(res))
    assert.has_error(function() client:get_history(params, { decode = "full" }) end)
  end)
end)

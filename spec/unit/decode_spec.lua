-- Reading answers: core.decode (csrc/json_decode.c), the JSON decoder every
-- answer body goes through.
local navixy = require "navixy"
local core = require "navixy.core"
local cjson = require "cjson"
local fake = require "fake"

local lua53 = math.type ~= nil

describe("decoding answers", function()
  it("reads objects, arrays, strings, booleans and null", function()
    local v = assert(core.decode(' { "a" : [1, "x", true, false, null, {}, []], "b": {"c": "d"} } '))
    assert.same({ 1, "x", true, false, navixy.null, {}, {} }, v.a)
    assert.equal(cjson.null, v.a[5])
    assert.equal("d", v.b.c)
  end)

  it("reads integral numbers as integers, others as floats", function()
    local v = assert(core.decode('[7, -3, 0, -0, 1.5, 1e2, 2.0, 1e-2, 12345678901234567]'))
    assert.same({ 7, -3, 0, 0, 1.5, 100, 2, 0.01, 12345678901234567 }, v)
    if lua53 then
      assert.equal("7", tostring(v[1]))
      assert.equal("100", tostring(v[6]))
      assert.equal("2", tostring(v[7]))
      assert.equal("float", math.type(v[5]))
      -- exact beyond 2^53, where a float would round
      assert.equal(9223372036854775807, core.decode("9223372036854775807"))
      assert.equal(math.mininteger, core.decode("-9223372036854775808"))
      assert.equal("float", math.type(core.decode("9223372036854775808")))
    end
    assert.equal(math.huge, core.decode("1e400"))
  end)

  it("unescapes strings, \\u escapes and surrogate pairs as UTF-8", function()
    assert.equal('a"\\/\b\f\n\r\tz', core.decode('"a\\"\\\\\\/\\b\\f\\n\\r\\tz"'))
    assert.equal("é€😀\0", core.decode('"\\u00e9\\u20AC\\ud83d\\ude00\\u0000"'))
    assert.equal("tab\there", core.decode('"tab\there"')) -- raw control bytes kept, as lua-cjson does
    assert.equal("ü", core.decode('"ü"'))
  end)

  it("refuses what is not JSON, saying where", function()
    local bad = { "", "   ", "{", "[1,]", '{"a":1,}', "01", "1.", ".5", "-", "1e", "+1", "NaN",
      "Infinity", "0x10", "tru", "nul", '"abc', '"\\x"', '"\\u12"', '"\\ud800"', '"\\udc00"',
      '"\\ud800\\u0041"', "{a:1}", '{"a" 1}', "[1 2]", '{"a":1} x', "[1]]" }
    for _, text in ipairs(bad) do
      local v, why = core.decode(text)
      assert.is_nil(v, text)
      assert.matches("^invalid JSON at byte %d+: ", why)
    end
    local _, why = core.decode('{"a": [1, 2, x]}')
    assert.equal("invalid JSON at byte 13: invalid value", why)
  end)

  it("reads containers of any size, the last of repeated keys winning", function()
    for _, n in ipairs { 1, 31, 32, 33, 64, 65, 1000 } do
      local items, members = {}, {}
      for i = 1, n do
        items[i] = tostring(i)
        members[i] = ('"k%d":%d'):format(i, i)
      end
      members[#members + 1] = '"k1":"again"'
      local list = assert(core.decode("[" .. table.concat(items, ",") .. "]"))
      assert.equal(n, #list)
      assert.equal(n, list[n])
      local obj = assert(core.decode("{" .. table.concat(members, ",") .. "}"))
      assert.equal("again", obj.k1)
      if n > 1 then assert.equal(n, obj["k" .. n]) end
    end
  end)

  it("gives back the right strings however many short ones come and go", function()
    -- short strings are pushed from a small cache: slots are shared and replaced
    for i = 1, 3000 do
      local key, value = "k" .. i, ("v%d"):format(i * 7919 % 10007)
      local v = assert(core.decode(('{"%s":"%s","same":"%s"}'):format(key, value, key)))
      assert.equal(value, v[key])
      assert.equal(key, v.same)
    end
  end)

  it("reads lists whose items change size, keys and key order from one to the next", function()
    -- tables are sized, and keys guessed, from the item before: every guess must be checked
    local texts = {
      '[{"id":1,"idx":2},{"idx":3,"id":4},{"i":5},{"id":6,"id":7},{},{"idx":8,"id":9,"x":10}]',
      '[{"id":1},{"id2":2},{"i\\u0064":3},{"id":4,"a":{"b":1}},{"id":5,"a":{"b":2,"c":3}}]',
      '[[1,2,3,4,5,6,7,8],[1],[],[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18],[[]],[[1,2]]]',
      '[{"a":[1,2,3]},{"a":{"x":1}},{"a":[]},{"a":"s"},{"a":[1,2,3,4,5,6,7,8,9]}]',
      '{"a":{"id":1,"label":"x"},"b":{"label":"y","id":2},"list":[{"a":1},{"b":2}],"c":[{"b":3}]}',
    }
    for _, text in ipairs(texts) do
      for _ = 1, 2 do -- and again, where key guesses come from the decode before
        local v = assert(core.decode(text))
        assert.same(cjson.decode(text), v)
      end
    end
    local v = assert(core.decode('[{"id":6,"id":7},{"id":8,"id":9}]'))
    assert.same({ { id = 7 }, { id = 9 } }, v)
  end)

  it("caps nesting at 1000", function()
    assert.truthy(core.decode(string.rep("[", 1000) .. string.rep("]", 1000)))
    local v, why = core.decode(string.rep("[", 1001) .. string.rep("]", 1001))
    assert.is_nil(v)
    assert.matches("nested too deep", why)
  end)

  it("reads the same values lua-cjson does from a large tracker/list answer", function()
    local list = {}
    for i = 1, 2000 do
      list[i] = { id = i, label = "Truck " .. i, clone = false, group_id = i % 7,
        source = { id = 10000 + i, device_id = "3500" .. i, blocked = i % 3 == 0, phone = "+49\"170" },
        tag_bindings = i % 2 == 0 and { { tag_id = 1, ordinal = 1 } } or {}, lat = i / 7 }
    end
    local text = cjson.encode { success = true, list = list }
    assert.same(cjson.decode(text), core.decode(text))
    -- past 256 KB an answer has a string cache of its own: the same values, and the
    -- shared cache goes on giving the right strings after it
    local big = cjson.encode { success = true, list = list, more = list }
    assert.truthy(#big > 256 * 1024)
    assert.same(cjson.decode(big), core.decode(big))
    assert.same({ id = 1, label = "Truck 1", source = { id = 2 } },
      core.decode('{"id":1,"label":"Truck 1","source":{"id":2}}'))
  end)
end)

describe("decoded arrays", function()
  it("carry the array metatable, empty or not; objects carry none", function()
    local v = assert(core.decode('{"a":[],"b":[1,[2,[]]],"o":{},"s":[{"x":[]}]}'))
    for _, t in ipairs { v.a, v.b, v.b[2], v.b[2][2], v.s, v.s[1].x } do
      assert.equal(core.array_mt, getmetatable(t))
    end
    assert.is_nil(getmetatable(v))
    assert.is_nil(getmetatable(v.o))
    assert.is_nil(getmetatable(v.s[1]))
    for _, n in ipairs { 1, 31, 32, 33, 100 } do -- made at once or member by member
      local items = {}
      for i = 1, n do items[i] = i end
      assert.equal(core.array_mt, getmetatable(core.decode("[" .. table.concat(items, ",") .. "]")))
    end
    local deep = core.decode(string.rep("[", 100) .. string.rep("]", 100)) -- past the gathering depth
    for _ = 1, 99 do
      assert.equal(core.array_mt, getmetatable(deep))
      deep = deep[1]
    end
  end)

  it("encode back as arrays: [] stays [], {} stays {}", function()
    local text = '{"a":[],"b":[[],{}],"c":{"d":[]}}'
    assert.equal(text, core.json(core.decode(text))) -- core.json is navixy.encode
    assert.equal("[]", core.json(core.decode("[]")))
    assert.equal("{}", core.json(core.decode("{}")))
    assert.equal("e=%5B%5D", core.form(core.decode('{"e":[]}')))
  end)

  it("follow core.set_array_mt: decoder and encoders use the new marker, once set", function()
    local default = core.array_mt
    local other = { __name = "a stand-in for cjson.array_mt" }
    finally(function() core.set_array_mt(default) end)
    core.set_array_mt(other)
    assert.equal(other, core.array_mt)
    local v = core.decode('{"a":[],"b":[1]}')
    assert.equal(other, getmetatable(v.a))
    assert.equal(other, getmetatable(v.b))
    assert.equal('{"a":[],"b":[1]}', core.json(v))
    assert.equal("[]", core.json(setmetatable({}, other)))
    assert.equal("{}", core.json(setmetatable({}, default))) -- the old marker means nothing now
    assert.equal("e=%5B%5D", core.form { e = setmetatable({}, other) })
    assert.has_error(function() core.set_array_mt("x") end)
    assert.has_error(function() core.set_array_mt() end)
    core.set_array_mt(default)
    assert.equal(default, getmetatable(core.decode("[]")))
  end)

  it("work with a lua-cjson that has array_mt, as OpenResty's does", function()
    -- Debian's lua-cjson 2.1.0 has no array_mt: a stand-in module with one
    -- shows the path the Lua layer takes when it finds it
    local stand_in = { array_mt = setmetatable({}, { __name = "cjson.array_mt" }) }
    local default = core.array_mt
    finally(function() core.set_array_mt(default) end)
    core.set_array_mt(stand_in.array_mt)
    local v = core.decode('{"list":[]}')
    assert.equal(stand_in.array_mt, getmetatable(v.list))
    assert.equal('{"list":[]}', core.json(v))
  end)
end)

describe("exact numbers (core.decode(text, true))", function()
  local function text_of(n)
    assert.equal(core.number_mt, getmetatable(n))
    return tostring(n)
  end

  it("keep every number as the server wrote it", function()
    local v = assert(core.decode('{"a":1.10,"b":1e400,"c":123456789012345678901,"d":-0,' ..
      '"e":[0.1,2E-5,-7],"f":"1.10","g":true,"h":null}', true))
    assert.equal("1.10", text_of(v.a))
    assert.equal("1e400", text_of(v.b))
    assert.equal("123456789012345678901", text_of(v.c))
    assert.equal("-0", text_of(v.d))
    assert.equal("0.1", text_of(v.e[1]))
    assert.equal("2E-5", text_of(v.e[2]))
    assert.equal("-7", text_of(v.e[3]))
    assert.equal("1.10", v.f) -- strings, booleans, null as in the normal mode
    assert.is_true(v.g)
    assert.equal(navixy.null, v.h)
    assert.equal(core.array_mt, getmetatable(v.e))
    assert.equal("1.10", text_of(core.decode("1.10", true)))
  end)

  it("are written back verbatim by the encoders", function()
    local text = '{"a":1.10,"b":1e400,"c":123456789012345678901,"d":[-0,0.5E+3,[]]}'
    assert.equal(text, core.json(core.decode(text, true)))
    assert.equal("a=1.10&b=123456789012345678901", core.form(core.decode('{"a":1.10,"b":123456789012345678901}', true)))
  end)

  it("refuse to encode a hand-made number whose text is not one JSON number", function()
    for _, junk in ipairs { "", "1.", "01", "1 ", " 1", "NaN", "1}", '1,"x":2', "0x10", "--1" } do
      local ok, err = pcall(core.json, { n = setmetatable({ junk }, core.number_mt) })
      assert.is_false(ok, junk)
      assert.matches("^navixy: cannot encode a number", err)
    end
    assert.has_error(function() core.json(setmetatable({ 7 }, core.number_mt)) end)
    assert.has_error(function() core.json(setmetatable({}, core.number_mt)) end)
    assert.equal("-12.5e3", core.json(setmetatable({ "-12.5e3" }, core.number_mt)))
  end)

  it("take the same text as the normal mode, and refuse the same", function()
    assert.is_nil(core.decode("[01]", true))
    assert.is_nil(core.decode("[1.]", true))
    assert.is_nil(core.decode("NaN", true))
  end)
end)

describe("answers that are not JSON", function()
  before_each(fake.reset)

  it("are decode errors with the raw body", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    fake.fault { action = "tracker/list", type = "raw", status = 200, body = '{"success":true,"list":[1,]}' }
    local res, err = c:call("tracker/list")
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.equal('{"success":true,"list":[1,]}', err.body)
    c:close()
  end)
end)

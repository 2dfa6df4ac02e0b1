-- --format json|jsonl|table|csv: a list answer's items as JSON lines, an
-- aligned table, or RFC 4180 CSV; against the fake server.
local cjson = require "cjson"
local fake = require "fake"
local cli_run = require "cli_run"

local with_key = cli_run.with_key

-- a list answer whose fields hold what CSV and tables must take care of
local LIST = '{"success":true,"count":3,"list":['
  .. '{"id":1,"label":"Truck, 1","note":"say \\"hi\\"","ok":false,"tags":[]},'
  .. '{"id":20,"label":"Grüße","note":"two\\nlines","ok":true,"tags":[1,2]},'
  .. '{"id":300,"label":"plain","extra":null}]}'

describe("navixy --format", function()
  before_each(fake.reset)
  after_each(cli_run.cleanup)

  local function listed(format)
    fake.fault { action = "tracker/list", type = "raw", body = LIST }
    return with_key { "--format", format, "tracker/list" }
  end

  it("csv: a header row, then one record a row, quoted as RFC 4180 says, CRLF line ends", function()
    local r = listed("csv")
    assert.equal(0, r.status, r.stderr)
    assert.equal("id,label,note,ok,tags,extra\r\n"
      .. '1,"Truck, 1","say ""hi""",false,[],\r\n'
      .. '20,Grüße,"two\nlines",true,"[1,2]",\r\n'
      .. "300,plain,,,,\r\n", r.stdout)
  end)

  it("table: aligned columns (UTF-8 counted as characters), line breaks in a cell as spaces", function()
    local r = listed("table")
    assert.equal(0, r.status, r.stderr)
    assert.equal("id   label     note       ok     tags   extra\n"
      .. '1    Truck, 1  say "hi"   false  []\n'
      .. "20   Grüße     two lines  true   [1,2]\n"
      .. "300  plain\n", (r.stdout:gsub(" +\n", "\n")))
  end)

  it("jsonl: one item a line, [] kept", function()
    local r = listed("jsonl")
    assert.equal(0, r.status)
    local lines = {}
    for line in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(3, #lines)
    assert.truthy(lines[1]:find('"tags":[]', 1, true))
    assert.equal("Grüße", cjson.decode(lines[2]).label)
  end)

  it("json is the default, and takes a list field of another name when it is the only array", function()
    assert.equal(0, listed("json").status)
    fake.fault { action = "tracker/list", type = "raw", body = '{"success":true,"items":[{"a":1},{"a":2}]}' }
    local r = with_key { "--format", "csv", "tracker/list" }
    assert.equal("a\r\n1\r\n2\r\n", r.stdout)
  end)

  it("refuses an answer that is not a list after printing it, and an unknown format before calling", function()
    local r = with_key { "--format", "table", "tracker/get_state", "tracker_id:=1" }
    assert.equal(2, r.status)
    assert.equal(true, cjson.decode(r.stdout).success) -- the answer is not lost
    assert.equal("navixy: --format table is for list answers: the answer holds no list\n", r.stderr)
    r = with_key { "--format", "xml", "tracker/list" }
    assert.equal(2, r.status)
    assert.truthy(r.stderr:find("one of json, jsonl, table, csv", 1, true))
    r = with_key { "--format", "csv", "batch", "-" }
    assert.equal(2, r.status)
    assert.equal(1, fake.stats().requests)
  end)
end)

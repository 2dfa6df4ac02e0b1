-- The fake Navixy server's file answers and its "file" fault, with LuaSocket only (never
-- our client): real content types and Content-Disposition, valid small documents, JSON
-- errors, and streams of any size generated on the fly.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"
local ltn12 = require "ltn12"
local http = require "socket.http"
local socket = require "socket"
local sockets = require "sockets"

local key = fake.api_key

local function post(action, params, headers) return fake.post(action, params, key, headers) end

-- Little-endian integers of a binary string, at 1-based position i.
local function le16(s, i) return s:byte(i) + s:byte(i + 1) * 256 end
local function le32(s, i) return le16(s, i) + le16(s, i + 2) * 65536 end

-- CRC-32 without bit operators (Lua 5.1 to 5.4 alike).
local function xor(a, b)
  local r, bit = 0, 1
  while a > 0 or b > 0 do
    local x, y = a % 2, b % 2
    if x ~= y then r = r + bit end
    a, b, bit = (a - x) / 2, (b - y) / 2, bit * 2
  end
  return r
end
local CRC = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if c % 2 == 1 then c = xor(0xEDB88320, math.floor(c / 2)) else c = math.floor(c / 2) end
  end
  CRC[i] = c
end
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = xor(CRC[xor(c % 256, s:byte(i))], math.floor(c / 256)) end
  return xor(c, 0xFFFFFFFF)
end

-- The entries of a ZIP archive of stored entries, by name, each CRC-checked.
local function unzip(z)
  local entries, pos = {}, 1
  while z:sub(pos, pos + 3) == "PK\3\4" do
    assert.equal(0, le16(z, pos + 8), "stored, not compressed")
    local crc, size, name_len = le32(z, pos + 14), le32(z, pos + 22), le16(z, pos + 26)
    local name = z:sub(pos + 30, pos + 29 + name_len)
    local start = pos + 30 + name_len + le16(z, pos + 28)
    entries[name] = z:sub(start, start + size - 1)
    assert.equal(crc, crc32(entries[name]), "CRC of " .. name)
    pos = start + size
  end
  assert.equal("PK\1\2", z:sub(pos, pos + 3), "central directory after the entries")
  local eocd = z:find("PK\5\6", pos, true)
  assert.truthy(eocd, "end of central directory")
  assert.equal(pos - 1, le32(z, eocd + 16), "central directory offset")
  return entries
end

-- Every "N 0 obj" the PDF's xref table points to is there.
local function check_pdf(body)
  assert.equal("%PDF-1.4", body:sub(1, 8))
  assert.truthy(body:find("%%EOF\n$"))
  local xref = tonumber(body:match("startxref\n(%d+)\n"))
  assert.equal("xref", body:sub(xref + 1, xref + 4))
  local n = 0
  for offset in body:sub(xref + 1):gmatch("(%d%d%d%d%d%d%d%d%d%d) 00000 n") do
    n = n + 1
    assert.equal(n .. " 0 obj", body:sub(tonumber(offset) + 1, tonumber(offset) + #(n .. " 0 obj")))
  end
  assert.is_true(n >= 5)
end

describe("fake Navixy server: file answers", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("downloads a track as KML, and as KMZ, with the points strictly inside the window", function()
    local status, body, h = post("track/download", { tracker_id = 1, from = "2024-05-01 10:00:00",
      to = "2024-05-01 10:20:00" })
    assert.equal(200, status)
    assert.equal("application/vnd.google-earth.kml+xml", h["content-type"])
    assert.equal('attachment; filename="track_1_2024-05-01.kml"', h["content-disposition"])
    assert.equal(tostring(#body), h["content-length"])
    assert.matches('^<%?xml version="1.0" encoding="UTF%-8" standalone="yes"%?>\n'
      .. '<kml xmlns="http://www.opengis.net/kml/2.2"', body)
    assert.truthy(body:find("<name>track-Truck 1 2024-05-01 10:00:00</name>", 1, true))
    local whens = {}
    for w in body:gmatch("<when>(.-)</when>") do whens[#whens + 1] = w end
    -- Europe/Berlin in May: +02:00; 10:00 and 10:20 themselves are outside
    assert.same({ "2024-05-01T10:05:00.000+02:00", "2024-05-01T10:10:00.000+02:00",
                  "2024-05-01T10:15:00.000+02:00" }, whens)
    assert.truthy(body:find("</Document>\n</kml>\n$"))

    local kml = body
    status, body, h = post("track/download", { tracker_id = 1, from = "2024-05-01 10:00:00",
      to = "2024-05-01 10:20:00", format = "kmz" })
    assert.equal(200, status)
    assert.equal("application/vnd.google-earth.kmz", h["content-type"])
    assert.equal('attachment; filename="track_1_2024-05-01.kmz"', h["content-disposition"])
    assert.equal(kml, unzip(body)["doc.kml"])
  end)

  it("answers JSON to a file action that fails, or has nothing to give", function()
    local status, body, h = post("track/download", { tracker_id = 99, from = "2024-05-01 10:00:00",
      to = "2024-05-01 11:00:00" })
    assert.equal(400, status)
    assert.equal("application/json", h["content-type"])
    assert.is_nil(h["content-disposition"])
    assert.equal(201, cjson.decode(body).status.code)
    status, body = post("track/download", { tracker_id = 3, from = "2024-05-01 10:00:00", to = "2024-05-01 11:00:00" })
    assert.equal(403, status); assert.equal(208, cjson.decode(body).status.code)
    status, body = post("track/download", { tracker_id = 1, from = "2024-05-01 10:00:00", to = "2024-05-01 11:00:00",
      format = "gpx" })
    assert.equal(400, status); assert.equal("format", cjson.decode(body).errors[1].parameter)
    status, body = post("track/download", { tracker_id = 1, from = "2024-01-01 00:00:00", to = "2024-03-01 00:00:00" })
    assert.equal(400, status)
    assert.same({ code = 211, max_time_span = "P31D" },
      { code = cjson.decode(body).status.code, max_time_span = cjson.decode(body).max_time_span })
    -- beyond the tariff's storage: the documented JSON success, not a file
    fake.settings { store_period = "P90D" }
    status, body, h = post("track/download", { tracker_id = 1, from = "2024-05-01 10:00:00",
      to = "2024-05-01 11:00:00" })
    assert.equal(200, status)
    assert.equal("application/json", h["content-type"])
    assert.same({ list = {}, limit_exceeded = true, success = true }, cjson.decode(body))
    assert.truthy(body:find('"list":[]', 1, true)) -- an array, as the page shows
  end)

  it("generates a report, answers 229 until it is ready, then downloads it as PDF, XLSX and XLS", function()
    local every_day = { from = "00:00", to = "23:59", weekdays = { 1, 2, 3, 4, 5, 6, 7 } }
    local status, body = post("report/tracker/generate", { title = "Trips", trackers = { 1, 2 },
      from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00", time_filter = every_day, plugin = { plugin_id = 4 } })
    assert.equal(200, status)
    local id = cjson.decode(body).id
    assert.is_number(id)
    status, body = post("report/tracker/download", { report_id = id, format = "pdf" })
    assert.equal(404, status); assert.equal(229, cjson.decode(body).status.code)
    local function percent()
      return cjson.decode((select(2, post("report/tracker/status", { report_id = id })))).percent_ready
    end
    assert.equal(50, percent())
    assert.equal(100, percent())

    local h
    status, body, h = post("report/tracker/download", { report_id = id, format = "pdf" })
    assert.equal(200, status)
    assert.equal("application/pdf", h["content-type"])
    assert.equal('attachment; filename="Trips.pdf"', h["content-disposition"])
    check_pdf(body)
    assert.truthy(body:find("(Van 2  2024-05-01 00:00:00  2024-05-02 00:00:00)", 1, true))

    status, body, h = post("report/tracker/download", { report_id = id, format = "xlsx" })
    assert.equal(200, status)
    assert.equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", h["content-type"])
    local parts = unzip(body)
    for _, name in ipairs{ "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels" } do
      assert.truthy(parts[name], name)
    end
    assert.truthy(parts["xl/worksheets/sheet1.xml"]:find('<c r="A3" t="inlineStr"><is><t>Van 2</t></is></c>', 1, true))

    status, body, h = post("report/tracker/download", { report_id = id, format = "xls" })
    assert.equal(200, status)
    assert.equal("application/vnd.ms-excel", h["content-type"])
    assert.equal("\208\207\17\224\161\177\26\225", body:sub(1, 8)) -- the OLE2 signature

    status, body = post("report/tracker/download", { report_id = 999, format = "pdf" })
    assert.equal(404, status); assert.equal(204, cjson.decode(body).status.code)
    status, body = post("report/tracker/generate", { trackers = { 1 }, from = "2024-05-01 00:00:00",
      to = "2024-05-02 00:00:00", time_filter = every_day, plugin = { plugin_id = 5 } })
    assert.equal(400, status); assert.equal(222, cjson.decode(body).status.code)
  end)

  it("names a file beyond ASCII in both Content-Disposition forms (RFC 6266, RFC 5987)", function()
    local status, body, h = post("report/tracker/download", { report_id = 2, format = "pdf" })
    assert.equal(200, status)
    check_pdf(body)
    assert.equal([[attachment; filename="Fahrten_bersicht M_rz.pdf"; ]]
      .. [[filename*=UTF-8''Fahrten%C3%BCbersicht%20M%C3%A4rz.pdf]], h["content-disposition"])
  end)

  it("lists check-ins as JSON, or as a file when `format` is given", function()
    local status, body, h = post("checkin/list", { trackers = { 1 } })
    assert.equal(200, status)
    assert.equal("application/json", h["content-type"])
    local res = cjson.decode(body)
    assert.equal(1, res.count)
    assert.equal("2024-05-01 12:00:00", res.list[1].marker_time) -- 10:00Z in Berlin
    status, body, h = post("checkin/list", { format = "xlsx" })
    assert.equal(200, status)
    assert.equal('attachment; filename="checkins.xlsx"', h["content-disposition"])
    assert.truthy(unzip(body)["xl/worksheets/sheet1.xml"]:find("Alexanderplatz 1", 1, true))
    status, body, h = post("checkin/list", { format = "pdf" })
    assert.equal(200, status)
    assert.equal("application/pdf", h["content-type"])
    check_pdf(body)
  end)

  it("serves the data warehouse's raw data as CSV under /dwh/v1, without a file name", function()
    local h = { ["content-type"] = "application/json", authorization = "NVX " .. key, accept = "text/csv" }
    local status, body, headers = fake.http("POST", fake.dwh_url .. "/tracker/raw_data/read", cjson.encode{
      tracker_id = 1, from = "2024-10-10T00:00:00.000Z", to = "2024-10-10T00:00:30Z",
      columns = { "lat", "speed", "inputs.ble_lls_level_1", "discrete_inputs.*" } }, h)
    assert.equal(200, status)
    assert.equal("text/csv", headers["content-type"])
    assert.is_nil(headers["content-disposition"])
    local lines = {}
    for l in body:gmatch("(.-)\n") do lines[#lines + 1] = l end
    assert.equal(4, #lines)
    assert.equal('"msg_time","lat","speed","inputs.ble_lls_level_1","discrete_inputs.1","discrete_inputs.2"', lines[1])
    assert.matches('^"2024%-10%-10T02:00:00%+0200",[%d.]+,%d+,,%d,%d$', lines[2])
    local req = fake.last_request()
    assert.equal("tracker/raw_data/read", req.action)
    assert.equal("/dwh/v1/", req.base)

    status, body, headers = fake.http("POST", fake.dwh_url .. "/tracker/raw_data/read", cjson.encode{
      tracker_id = 1, interval = "2024-10-10T00:00:00Z/PT20S", columns = { "lat" }, format = "parquet" }, h)
    assert.equal(200, status)
    assert.equal("application/octet-stream", headers["content-type"])
    assert.equal("PAR1", body:sub(1, 4)); assert.equal("PAR1", body:sub(-4))

    status, body, headers = fake.http("POST", fake.dwh_url .. "/tracker/raw_data/read", cjson.encode{
      tracker_id = 1, from = "2024-10-10T00:00:00Z", to = "2024-10-10T00:00:30Z" }, h)
    -- errors as RFC 7807 problems (data-warehouse-api/README.md, "Errors")
    local problem = "application/problem+json"
    assert.equal(400, status); assert.equal(problem, headers["content-type"])
    assert.same({ type = "errors/default/bad-request", title = "Bad Request", status = 400,
                  detail = "columns: required, missing" }, cjson.decode(body))
    status, body, headers = fake.http("POST", fake.dwh_url .. "/tracker/raw_data/get_inputs",
      cjson.encode{ tracker_id = 99 }, h)
    assert.equal(400, status); assert.equal(problem, headers["content-type"])
    assert.same({ type = "errors/default/bad-request", title = "Bad Request", status = 400,
                  detail = "201: Not found in database" }, cjson.decode(body))
    h.authorization = "NVX 0123456789abcdef0123456789abcdef"
    status, body, headers = fake.http("POST", fake.dwh_url .. "/tracker/raw_data/get_inputs",
      cjson.encode{ tracker_id = 1 }, h)
    assert.equal(401, status); assert.equal(problem, headers["content-type"])
    assert.same({ type = "errors/default/unauthorized", title = "Unauthorized", status = 401,
                  detail = "4: User or API key not found or session ended" }, cjson.decode(body))
  end)
end)

describe("fake Navixy server: the file fault", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("sends N bytes of the documented pattern, with or without Content-Length", function()
    fake.fault { action = "track/download", type = "file", bytes = 200003, content_type = "text/plain",
                 filename = "big.txt" }
    local status, body, h = post("track/download", {})
    assert.equal(200, status)
    assert.equal("text/plain", h["content-type"])
    assert.equal('attachment; filename="big.txt"', h["content-disposition"])
    assert.equal("200003", h["content-length"])
    assert.equal(fake.file_bytes(0, 200003), body)
    assert.equal("abc", fake.file_bytes(10, 3))
    assert.equal("XY01", fake.file_bytes(59, 4))

    fake.fault { action = "track/download", type = "file", bytes = 1000, length = false,
                 filename = "Übersicht.csv", content_type = "text/csv" }
    status, body, h = post("track/download", {})
    assert.equal(200, status)
    assert.is_nil(h["content-length"])
    assert.equal("chunked", h["transfer-encoding"])
    assert.equal([[attachment; filename="_bersicht.csv"; filename*=UTF-8''%C3%9Cbersicht.csv]],
      h["content-disposition"])
    assert.equal(fake.file_bytes(0, 1000), body)

    fake.fault { action = "track/download", type = "file", bytes = 0, disposition = "inline" }
    status, body, h = post("track/download", {})
    assert.equal(200, status); assert.equal("", body); assert.equal("inline", h["content-disposition"])
    assert.equal("application/octet-stream", h["content-type"])
  end)

  it("is gzip-compressed by nginx when asked and the client accepts gzip", function()
    fake.fault { action = "track/download", type = "file", bytes = 500000, gzip = true, times = 2 }
    local status, body, h = post("track/download", {}, { ["accept-encoding"] = "gzip" })
    assert.equal(200, status)
    assert.equal("gzip", h["content-encoding"])
    assert.is_nil(h["content-length"])
    assert.equal("\31\139", body:sub(1, 2))
    assert.is_true(#body < 50000)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")); f:write(body); f:close()
    local p = assert(io.popen("gzip -dc < " .. path))
    local plain = p:read("*a"); p:close()
    os.remove(path)
    assert.equal(fake.file_bytes(0, 500000), plain)
    -- no Accept-Encoding: sent as it is
    status, body, h = post("track/download", {})
    assert.equal(200, status); assert.is_nil(h["content-encoding"])
    assert.equal("500000", h["content-length"]); assert.equal(fake.file_bytes(0, 500000), body)
    -- a request leaves in nginx's log phase, which may run just after its last byte reached
    -- us (and our stats request another worker): it must leave, not at once
    assert.is_true(sockets.eventually(function() return fake.stats().in_flight == 0 end))
  end)

  it("pauses mid-body when told to", function()
    fake.fault { action = "track/download", type = "file", bytes = 100000, stall_after = 70000, seconds = 0.5 }
    local t0 = socket.gettime()
    local status, body = post("track/download", {})
    assert.equal(200, status)
    assert.is_true(socket.gettime() - t0 >= 0.5)
    assert.equal(fake.file_bytes(0, 100000), body)
  end)

  -- The workers of the fake's nginx (children of the master in nginx.pid), from /proc.
  local function worker_rss()
    local f = assert(io.open(fake.rundir .. "/nginx.pid")); local master = f:read("*l"); f:close()
    local total = 0
    local p = assert(io.popen("ls /proc"))
    for pid in p:lines() do
      if pid:match("^%d+$") then
        local s = io.open("/proc/" .. pid .. "/stat")
        local stat = s and s:read("*l"); if s then s:close() end
        if stat and stat:match("%) %S+ (%d+)") == master then
          local st = assert(io.open("/proc/" .. pid .. "/status"))
          total = total + tonumber(st:read("*a"):match("VmRSS:%s*(%d+)")); st:close()
        end
      end
    end
    p:close()
    return total -- KiB
  end

  it("streams 200 MB without holding it: the workers' memory stays flat", function()
    local size = 200 * 1024 * 1024 + 7
    fake.fault { action = "track/download", type = "file", bytes = size, length = false }
    local before, peak, got, checked = worker_rss(), 0, 0, 0
    local headers = { ["content-type"] = "application/json", authorization = "NVX " .. key,
                      ["content-length"] = "2" }
    local ok, status = http.request{
      url = fake.url .. "/track/download", method = "POST", headers = headers,
      source = ltn12.source.string("{}"),
      sink = function(chunk)
        if chunk then
          -- every 500th chunk is compared with the pattern at its offset
          if checked % 500 == 0 then assert.equal(fake.file_bytes(got, #chunk), chunk) end
          checked = checked + 1
          got = got + #chunk
          if checked % 2000 == 0 then peak = math.max(peak, worker_rss()) end
        end
        return 1
      end,
    }
    assert.truthy(ok); assert.equal(200, status)
    assert.equal(size, got)
    assert.is_true(peak > 0)
    assert.is_true(peak - before < 16 * 1024, ("workers grew from %d to %d KiB"):format(before, peak))
  end)
end)

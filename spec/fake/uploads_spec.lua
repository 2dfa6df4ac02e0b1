-- The fake Navixy server's multipart/form-data uploads, with LuaSocket only (never our
-- client): parsing (boundaries, quoting, binary parts), what it records, and the
-- documented answers and errors of the upload actions.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"
local mime = require "mime"

local key = fake.api_key

-- Bytes 0..255 twice, with CRLF, "--" and a line that starts like the boundary of
-- fake.multipart inside (the whole boundary never appears in data: RFC 2046, 5.1.1).
local BINARY = (function()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return table.concat(t) .. "\r\n--fake-spec-boundary\r\n--x--\r\n" .. table.concat(t)
end)()

local function md5sum(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb")); f:write(data); f:close()
  local p = assert(io.popen("md5sum " .. path))
  local sum = p:read("*l"):match("^(%x+)"); p:close()
  os.remove(path)
  return sum
end

local function raw(action, body, content_type, hash, query)
  local headers = { ["content-type"] = content_type }
  if hash then headers.authorization = "NVX " .. hash end
  local status, text = fake.http("POST", fake.url .. "/" .. action .. (query or ""), body, headers)
  return status, cjson.decode(text)
end

describe("fake Navixy server: uploads", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("records every part byte-exact: binary data with CRLF and dashes, fields, types", function()
    local status, res = fake.upload("tracker/avatar/upload", {
      { name = "tracker_id", data = "1" },
      { name = "file", filename = "avatar.png", content_type = "image/png", data = BINARY },
    }, key)
    assert.equal(200, status)
    assert.equal(md5sum(BINARY) .. ".png", res.value)
    local req = fake.last_request()
    assert.equal("1", req.params.tracker_id)
    assert.equal(2, #req.parts)
    local file = req.parts[2]
    assert.same({ "file", "avatar.png", "image/png", #BINARY },
                { file.name, file.filename, file.content_type, file.size })
    assert.equal(mime.b64(BINARY), file.base64)
    assert.equal(md5sum(BINARY), file.md5)
    assert.matches("^%x+$", file.sha1)
    assert.equal(40, #file.sha1)
    assert.equal('form-data; name="file"; filename="avatar.png"', file.headers["content-disposition"])
    assert.same({ name = "tracker_id", size = 1, base64 = "MQ==" },
                { name = req.parts[1].name, size = req.parts[1].size, base64 = req.parts[1].base64 })
    assert.is_nil(req.parts[1].filename)
  end)

  it("takes a quoted boundary, preamble and epilogue, lowercase headers, escaped quotes, filename*", function()
    local b = "a'b(c)+_,-./:=?"
    local body = "preamble to ignore\r\n--" .. b .. "\r\n"
      .. 'Content-Disposition: form-data; name="tracker_id"\r\n\r\n2\r\n--' .. b .. "\r\n"
      .. 'content-disposition: form-data; name="file"; filename="say \\"hi\\".png"; filename*=UTF-8\'\'%C3%BC.png\r\n'
      .. "Content-Type: image/png; charset=binary\r\n\r\n" .. BINARY .. "\r\n--" .. b .. "--\r\nepilogue"
    local status, res = raw("tracker/avatar/upload", body, 'multipart/form-data; boundary="' .. b .. '"', key)
    assert.equal(200, status, cjson.encode(res))
    local req = fake.last_request()
    assert.equal("2", req.params.tracker_id)
    assert.equal("ü.png", req.parts[2].filename) -- filename* wins over filename
    assert.equal(mime.b64(BINARY), req.parts[2].base64)

    -- without filename*, the backslash-escaped quotes are read as quotes
    body = "--" .. b .. "\r\n"
      .. 'Content-Disposition: form-data; name=file; filename="say \\"hi\\".png"\r\nContent-Type: image/gif\r\n\r\n'
      .. "GIF89a\r\n--" .. b .. "--\r\n"
    status = raw("tracker/avatar/upload?tracker_id=1", body, "multipart/form-data; boundary=" .. b, key)
    assert.equal(200, status)
    assert.equal('say "hi".png', fake.last_request().parts[1].filename)
  end)

  it("takes the hash in a form field, the query or the header", function()
    local parts = { { name = "tracker_id", data = "1" },
                    { name = "file", filename = "a.jpg", content_type = "image/jpeg", data = "JPEG" } }
    local status = fake.upload("tracker/avatar/upload", parts, key)
    assert.equal(200, status); assert.equal("header", fake.last_request().hash_from)
    local body, ct = fake.multipart(parts)
    status = raw("tracker/avatar/upload", body, ct, nil, "?hash=" .. key)
    assert.equal(200, status); assert.equal("query", fake.last_request().hash_from)
    table.insert(parts, 1, { name = "hash", data = key })
    body, ct = fake.multipart(parts)
    status = raw("tracker/avatar/upload", body, ct)
    assert.equal(200, status); assert.equal("body", fake.last_request().hash_from)
  end)

  it("answers the documented errors: 233, 234, 201, 208, and 5 for a malformed body", function()
    local img = { name = "file", filename = "a.png", content_type = "image/png", data = "PNG" }
    local status, res = fake.upload("tracker/avatar/upload", { { name = "tracker_id", data = "1" } }, key)
    assert.equal(400, status); assert.equal(233, res.status.code)
    -- a part without filename is a field, not a file
    status, res = fake.upload("tracker/avatar/upload",
      { { name = "tracker_id", data = "1" }, { name = "file", data = "PNG", content_type = "image/png" } }, key)
    assert.equal(400, status)
    assert.equal(233, res.status.code)
    status, res = fake.upload("tracker/avatar/upload", { { name = "tracker_id", data = "1" },
      { name = "file", filename = "a.svg", content_type = "image/svg+xml", data = "<svg/>" } }, key)
    assert.equal(400, status); assert.equal(234, res.status.code)
    status, res = fake.upload("tracker/avatar/upload", { { name = "tracker_id", data = "99" }, img }, key)
    assert.equal(400, status)
    assert.equal(201, res.status.code)
    status, res = fake.upload("tracker/avatar/upload", { { name = "tracker_id", data = "3" }, img }, key)
    assert.equal(403, status); assert.equal(208, res.status.code)
    status, res = raw("tracker/avatar/upload", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end",
      "multipart/form-data; boundary=b", key)
    assert.equal(400, status); assert.equal(5, res.status.code)
    status, res = raw("tracker/avatar/upload", "whatever", "multipart/form-data", key)
    assert.equal(400, status); assert.equal(5, res.status.code)
    status, res = fake.upload("tracker/avatar/upload", { img })
    assert.equal(400, status); assert.equal(3, res.status.code)
  end)

  it("refuses a file over the platform's max size with 271 and HTTP 413", function()
    fake.settings { platform = { ["file_storage.hard_max_file_size"] = 1000 } }
    local function upload(n)
      return fake.upload("tracker/avatar/upload", { { name = "tracker_id", data = "1" },
        { name = "file", filename = "a.png", content_type = "image/png", data = ("x"):rep(n) } }, key)
    end
    assert.equal(200, (upload(1000)))
    local status, res = upload(1001)
    assert.equal(413, status); assert.equal(271, res.status.code)
    assert.equal(1001, fake.last_request().parts[2].size)
    assert.equal(mime.b64(("x"):rep(1001)), fake.last_request().parts[2].base64) -- what arrived, refused or not
  end)

  it("by default takes 16 MB and refuses one byte more; big parts keep size and digests only", function()
    local big = ("0123456789abcdef"):rep(1024 * 1024) -- 16 MiB
    local status = fake.upload("tracker/sensor/calibration_data/upload_omnicomm", { { name = "tracker_id", data = "1" },
      { name = "sensor_id", data = "7" }, { name = "file", filename = "big.xml", data = "<" .. big:sub(2) } }, key)
    assert.equal(200, status)
    local part = fake.last_request().parts[3]
    assert.equal(#big, part.size)
    assert.is_nil(part.base64)
    assert.equal(md5sum("<" .. big:sub(2)), part.md5)
    local res
    status, res = fake.upload("tracker/sensor/calibration_data/upload_omnicomm", { { name = "tracker_id", data = "1" },
      { name = "sensor_id", data = "7" }, { name = "file", filename = "big.xml", data = big .. "x" } }, key)
    assert.equal(413, status); assert.equal(271, res.status.code)
    local req = fake.last_request()
    assert.is_true(req.body_truncated)
    assert.equal(65536, #req.body)
    assert.is_true(req.body_size > #big)
  end)

  it("imports geofences from KML (dry run and for real), and redirects when asked", function()
    local kml = [[<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Z</name>
<ExtendedData><Data name="radius"><value>300</value></Data></ExtendedData>
<Placemark><name>named point</name><Point><coordinates>-122.366278,37.818844,30</coordinates></Point></Placemark>
<Placemark><name>line</name><LineString><coordinates>
-122.366278,37.818844,30 -122.365248,37.819267,30</coordinates></LineString></Placemark>
<Placemark><name>box</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
1,1 1,2 2,2 1,1</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>]]
    local file = { name = "file", filename = "zones.kml", content_type = "application/vnd.google-earth.kml+xml",
                   data = kml }
    local status, res = fake.upload("zone/upload", { file }, key)
    assert.equal(200, status)
    assert.equal(3, #res.list)
    assert.same({ "circle", "named point", 300, 37.818844, -122.366278 },
      { res.list[1].type, res.list[1].label, res.list[1].radius, res.list[1].center.lat, res.list[1].center.lng })
    assert.equal(cjson.null, res.list[1].id)
    assert.same({ "sausage", 2 }, { res.list[2].type, #res.list[2].points })
    assert.same({ "polygon", 4 }, { res.list[3].type, #res.list[3].points })
    status, res = fake.upload("zone/upload", { file, { name = "dry_run", data = "false" } }, key)
    assert.equal(200, status)
    assert.same({ 1, 2, 3 }, res.list)

    local h
    status, res, h = fake.upload("zone/upload", { file,
      { name = "redirect_target", data = "https://example.com/done" } }, key)
    assert.equal(302, status)
    assert.equal("", res)
    local answer = h.location:match("^https://example%.com/done%?response=(.*)$")
    assert.truthy(answer)
    answer = cjson.decode((answer:gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end)))
    assert.is_true(answer.success)
    assert.equal(3, #answer.list)

    status, res = fake.upload("zone/upload", { { name = "file", filename = "x.kml", data = "not kml" } }, key)
    assert.equal(400, status)
    assert.equal(234, res.status.code)
    status, res = fake.upload("zone/upload", { { name = "file", filename = "x.kml",
      data = "<kml><Placemark><Polygon><outerBoundaryIs><coordinates>1,1 2,2</coordinates></outerBoundaryIs>"
        .. "</Polygon></Placemark></kml>" } }, key)
    assert.equal(400, status)
    assert.equal(284, res.status.code)
  end)

  it("takes an Omnicomm calibration XML, and refuses what is not XML", function()
    local parts = { { name = "tracker_id", data = "1" }, { name = "sensor_id", data = "5" },
                    { name = "file", filename = "lls.xml", content_type = "text/xml",
                      data = "\239\187\191<?xml version=\"1.0\"?><LLS/>" } }
    assert.equal(200, (fake.upload("tracker/sensor/calibration_data/upload_omnicomm", parts, key)))
    parts[3].data = "PK\3\4"
    local status, res = fake.upload("tracker/sensor/calibration_data/upload_omnicomm", parts, key)
    assert.equal(400, status); assert.equal(234, res.status.code)
  end)
end)

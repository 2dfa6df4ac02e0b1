-- The API beyond JSON actions: file answers (KML, PDF, CSV, ...), streaming
-- them to a sink, uploads (multipart/form-data) and GET actions, against the
-- fake server's documented file and upload actions.
local navixy = require "navixy"
local fake = require "fake"
local setup = require "setup"
local sockets = require "sockets"

local files = require "local_files"
local read, shell = files.read, files.output

local function tmpname()
  local name = os.tmpname()
  os.remove(name)
  return name
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- This process's resident memory, in KiB.
local function rss_kib()
  return tonumber(read("/proc/self/status"):match("VmRSS:%s*(%d+)"))
end

local HOUR = { from = "2024-05-01 00:00:00", to = "2024-05-01 01:00:00" }

describe("file answers", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("come back as { content_type, body, filename, size }", function()
    local res, err = client.track.download { tracker_id = 1, from = HOUR.from, to = HOUR.to }
    assert.is_nil(err)
    assert.equal("application/vnd.google-earth.kml+xml", res.content_type)
    assert.equal("track_1_2024-05-01.kml", res.filename)
    assert.matches("^<%?xml", res.body)
    assert.truthy(res.body:find("<kml", 1, true))
    assert.equal(#res.body, res.size)
    assert.is_nil(res.success) -- a file, not an API answer
  end)

  it("keep binary bodies byte for byte (a KMZ archive)", function()
    local res = assert(client.track.download { tracker_id = 1, from = HOUR.from, to = HOUR.to, format = "kmz" })
    assert.equal("application/vnd.google-earth.kmz", res.content_type)
    assert.equal("PK\3\4", res.body:sub(1, 4))
    assert.equal(#res.body, res.size)
  end)

  it("take the file name from filename*= (RFC 5987) before filename=", function()
    -- report 2 has a non-ASCII title: its name comes as filename*=UTF-8''...
    local res = assert(client.report.tracker.download { report_id = 2, format = "pdf" })
    assert.equal("application/pdf", res.content_type)
    assert.matches("^%%PDF%-", res.body)
    assert.truthy(res.filename and res.filename:find("%.pdf$"), tostring(res.filename))
    assert.truthy(res.filename:find("[\128-\255]"), res.filename) -- decoded UTF-8
  end)

  it("never give a file name with a path in it", function()
    for _, case in ipairs {
      { 'attachment; filename="../../etc/passwd"', "passwd" },
      { "attachment; filename*=UTF-8''..%2F..%2Fx.csv", "x.csv" },
      { 'attachment; filename="C:\\\\temp\\\\a.csv"', "a.csv" },
      { 'attachment; filename=".."', nil },
      { "inline", nil },
    } do
      fake.fault { action = "x/file", type = "file", bytes = 10, content_type = "text/csv", disposition = case[1] }
      local res = assert(client:call("x/file"))
      assert.equal(case[2], res.filename, case[1])
    end
  end)

  it("give names in valid UTF-8, without control or bidi characters", function()
    for _, case in ipairs {
      { "attachment; filename*=ISO-8859-1''caf%E9.csv", "caf\195\169.csv" }, -- Latin-1 made UTF-8
      { "attachment; filename*=UTF-8''a%FFb%C3.csv", "a\239\191\189b\239\191\189.csv" }, -- U+FFFD each
      { "attachment; filename*=UTF-8''%E2%80%AEfdp.exe", "fdp.exe" }, -- U+202E, right-to-left override
      { 'attachment; filename="\226\128\143a\226\129\166b\194\155c.csv"', "abc.csv" }, -- RLM, LRI, C1 CSI
      -- an overlong form and a surrogate: each byte replaced
      { "attachment; filename*=UTF-8''%C0%AF%ED%A0%80.csv", ("\239\191\189"):rep(5) .. ".csv" },
      { "attachment; filename*=UTF-8''%1B%5B2J%7Fx.csv", "[2Jx.csv" },
    } do
      fake.fault { action = "x/file", type = "file", bytes = 10, content_type = "text/csv", disposition = case[1] }
      local res = assert(client:call("x/file"))
      assert.equal(case[2], res.filename, case[1])
    end
    -- bytes the fake's JSON control cannot carry: straight to the one parser
    local response = require "navixy.response"
    assert.equal("a\239\191\189.csv", response.filename('attachment; filename="a\233.csv"'))
    assert.equal("\240\159\154\154.csv", response.filename('attachment; filename="\240\159\154\154.csv"'))
  end)

  it("that are JSON errors stay API errors", function()
    local res, err = client.track.download { tracker_id = 99, from = HOUR.from, to = HOUR.to }
    assert.is_nil(res)
    assert.same({ "api", 201 }, { err.kind, err.code })
  end)

  it("are held up to max_size without a sink", function()
    fake.fault { action = "x/file", type = "file", bytes = 200000, content_type = "text/csv" }
    local _, err = setup.client { max_size = 100000, retries = 0 }:call("x/file")
    assert.same({ "transport", "limit" }, { err.kind, err.phase })
  end)

  it("come back raw with decode = false, with what the headers said", function()
    local raw, err, info = client:call("track/download", { tracker_id = 1, from = HOUR.from, to = HOUR.to },
      { decode = false })
    assert.is_nil(err)
    assert.matches("^<%?xml", raw)
    assert.same({ status = 200, content_type = "application/vnd.google-earth.kml+xml",
                  filename = "track_1_2024-05-01.kml" }, info)
    raw, err, info = client:call("tracker/list", nil, { decode = false })
    assert.is_nil(err)
    assert.matches('"list":%[', raw)
    assert.equal("application/json", info.content_type)
  end)
end)

describe("call_opts.sink", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("a path: the file is written as the body comes, and the result holds no body", function()
    local path = tmpname()
    fake.fault { action = "x/file", type = "file", bytes = 3000000, content_type = "text/csv", filename = "d.csv" }
    local res, err = client:call("x/file", nil, { sink = path })
    assert.is_nil(err)
    assert.same({ "text/csv", "d.csv", 3000000 }, { res.content_type, res.filename, res.size })
    assert.is_nil(res.body)
    assert.equal(fake.file_bytes(0, 3000000), read(path))
    os.remove(path)
  end)

  it("a path is not made for an error answer, nor left behind by a transfer that failed", function()
    local path = tmpname()
    local _, err = client:call("track/download", { tracker_id = 99, from = HOUR.from, to = HOUR.to },
      { sink = path })
    assert.equal(201, err.code)
    assert.is_false(exists(path))
    -- half a file, then nothing until the timeout: the partial file goes, and
    -- the call is not repeated (the sink got bytes already)
    fake.fault { action = "x/file", type = "file", bytes = 2000000, content_type = "text/csv",
                 stall_after = 1000000, seconds = 5 }
    _, err = client:call("x/file", nil, { sink = path, timeout = 1, retries = 3 })
    assert.same({ "timeout", 1 }, { err.kind, err.attempts })
    assert.is_false(exists(path))
  end)

  -- a directory of its own per test: what a download leaves in it is all there is
  local function tmpdir()
    local dir = files.output_trimmed("mktemp -d")
    finally(function() os.execute("rm -rf " .. dir) end)
    return dir
  end

  local function listing(dir)
    return files.output_trimmed("ls -A " .. dir)
  end

  local function stall()
    fake.fault { action = "x/file", type = "file", bytes = 2000000, content_type = "text/csv",
                 stall_after = 1000000, seconds = 5 }
  end

  it("a path that holds a file: untouched by a failed transfer, replaced whole by one that ends", function()
    local dir = tmpdir()
    local path = dir .. "/report.csv"
    local f = assert(io.open(path, "wb"))
    f:write("the old report")
    f:close()
    stall()
    local _, err = client:call("x/file", nil, { sink = path, timeout = 1 })
    assert.equal("timeout", err.kind)
    assert.is_true(read(path) == "the old report", "the file changed: " .. #read(path) .. " bytes now")
    assert.equal("report.csv", listing(dir)) -- no partial file beside it
    fake.fault { action = "x/file", type = "file", bytes = 300000, content_type = "text/csv" }
    assert(client:call("x/file", nil, { sink = path }))
    assert.is_true(fake.file_bytes(0, 300000) == read(path), "not the new file")
    assert.equal("report.csv", listing(dir))
  end)

  it("a path that is a symlink: followed, the file it names replaced on success, the link kept", function()
    local dir = tmpdir()
    os.execute(("mkdir %s/data && printf old > %s/data/target.csv && ln -s data/target.csv %s/link.csv")
      :format(dir, dir, dir))
    local link = dir .. "/link.csv"
    stall()
    local _, err = client:call("x/file", nil, { sink = link, timeout = 1 })
    assert.equal("timeout", err.kind)
    assert.equal("data/target.csv", files.output_trimmed("readlink " .. link))
    assert.is_true(read(dir .. "/data/target.csv") == "old", "the linked file changed")
    assert.equal("data\nlink.csv", listing(dir))
    assert.equal("target.csv", listing(dir .. "/data"))
    fake.fault { action = "x/file", type = "file", bytes = 300000, content_type = "text/csv" }
    assert(client:call("x/file", nil, { sink = link }))
    assert.equal("data/target.csv", files.output_trimmed("readlink " .. link))
    assert.is_true(fake.file_bytes(0, 300000) == read(dir .. "/data/target.csv"), "not the new file")
    assert.equal("target.csv", listing(dir .. "/data"))
  end)

  it("an open file: written to and left open", function()
    local path = tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("head:")
    fake.fault { action = "x/file", type = "file", bytes = 700000, content_type = "application/octet-stream" }
    local res = assert(client:call("x/file", nil, { sink = f }))
    assert.equal(700000, res.size)
    f:write(":tail")
    f:close()
    assert.equal("head:" .. fake.file_bytes(0, 700000) .. ":tail", read(path))
    os.remove(path)
  end)

  it("a function: called with the chunks in order, none too big", function()
    local got, biggest = {}, 0
    fake.fault { action = "x/file", type = "file", bytes = 2500000, content_type = "text/csv", length = false }
    local res = assert(client:call("x/file", nil, { sink = function(chunk)
      got[#got + 1] = chunk
      biggest = math.max(biggest, #chunk)
    end }))
    assert.equal(2500000, res.size)
    assert.is_true(#got > 1)
    assert.is_true(biggest <= 512 * 1024, "a chunk of " .. biggest .. " bytes")
    assert.equal(fake.file_bytes(0, 2500000), table.concat(got))
  end)

  it("a JSON answer to the same call is decoded as usual", function()
    local seen = 0
    local res = assert(client:call("tracker/list", nil, { sink = function() seen = seen + 1 end }))
    assert.equal(3, #res.list)
    assert.equal(0, seen)
  end)

  it("streams 200 MB with memory flat", function()
    fake.fault { action = "x/file", type = "file", bytes = 200 * 1024 * 1024, content_type = "text/csv" }
    collectgarbage()
    -- a tracing collector lets garbage grow with the live heap (the whole
    -- suite's, here), never with the body: 200 MB would not fit this bound
    local before, peak, n = rss_kib(), 0, 0
    local bound = 32 * 1024 + math.floor(collectgarbage("count") / 4)
    local res = assert(client:call("x/file", nil, { timeout = 120, sink = function(chunk)
      n = n + #chunk
      if n % (16 * 1024 * 1024) < #chunk then peak = math.max(peak, rss_kib()) end
    end }))
    assert.equal(200 * 1024 * 1024, res.size)
    assert.equal(res.size, n)
    assert.is_true(peak - before < bound, ("RSS grew by %d KiB (bound %d KiB)"):format(peak - before, bound))
  end)

  it("a sink that cannot be written ends the call with a final error of phase sink", function()
    fake.fault { action = "x/file", type = "file", bytes = 1000, content_type = "text/csv" }
    local _, err = client:call("x/file", nil, { sink = "/nonexistent-dir/x.csv" })
    assert.same({ "transport", "sink", 1 }, { err.kind, err.phase, err.attempts })
    assert.matches("cannot write the sink", err.description)
  end)

  it("a function that raises: the error comes through, the client stays usable", function()
    fake.fault { action = "x/file", type = "file", bytes = 3000000, content_type = "text/csv" }
    assert.has_error(function()
      client:call("x/file", nil, { sink = function() error("disk full", 0) end })
    end, "disk full")
    assert(client.tracker.list())
  end)

  it("is checked before anything is sent", function()
    for _, bad in ipairs { 42, true, {}, "" } do
      assert.has_error(function() client:call("x/file", nil, { sink = bad }) end)
    end
    assert.equal(0, fake.stats().requests)
  end)

  it("works for batch items, each with its own", function()
    local paths = { tmpname(), tmpname(), tmpname() }
    local calls = {}
    for i, path in ipairs(paths) do
      fake.fault { action = "x/file" .. i, type = "file", bytes = 400000 * i, content_type = "text/csv" }
      calls[i] = { "x/file" .. i, nil, { sink = path } }
    end
    calls[4] = { "tracker/list" }
    local results = client:batch(calls, { concurrency = 4 })
    for i, path in ipairs(paths) do
      assert.equal(400000 * i, results[i].result.size)
      assert.equal(fake.file_bytes(0, 400000 * i), read(path))
      os.remove(path)
    end
    assert.equal(3, #results[4].result.list)
  end)
end)

describe("uploads with navixy.file", function()
  local client
  setup.client_per_test(function(c) client = c end)

  local function md5(s)
    local path = tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(s)
    f:close()
    local sum = shell("md5sum " .. path):match("^(%x+)")
    os.remove(path)
    return sum
  end

  it("send the request as multipart/form-data: the file byte for byte, the params as fields", function()
    local path = tmpname()
    local bytes = ("\0\1\2\r\n--boundary\r\n"):rep(5000)
    local f = assert(io.open(path, "wb"))
    f:write(bytes)
    f:close()
    local res, err = client.tracker.avatar.upload { tracker_id = 1,
      file = navixy.file(path, { content_type = "image/png", filename = "truck.png" }) }
    assert.is_nil(err)
    assert.is_true(res.success)
    local req = fake.last_request()
    assert.matches("^multipart/form%-data; boundary=", req.content_type)
    assert.equal("header", req.hash_from)
    local parts = {}
    for _, p in ipairs(req.parts) do parts[p.name] = p end
    assert.same({ "truck.png", "image/png", #bytes, md5(bytes) },
      { parts.file.filename, parts.file.content_type, parts.file.size, parts.file.md5 })
    assert.equal(1, parts.tracker_id.size)
    os.remove(path)
  end)

  it("take the content itself with data = true; other values as JSON text, by the form rules", function()
    local kml = '<?xml version="1.0"?><kml><Document/></kml>'
    local res, err = client.zone.upload { dry_run = true, default_radius = 150,
      file = navixy.file(kml, { data = true, filename = "zones.kml",
                                content_type = "application/vnd.google-earth.kml+xml" }) }
    assert.is_nil(err, tostring(err))
    assert.is_true(res.success)
    local names = {}
    for _, p in ipairs(fake.last_request().parts) do names[p.name] = p end
    assert.equal(md5(kml), names.file.md5)
    assert.equal("zones.kml", names.file.filename)
  end)

  it("place the hash as a form field with auth = body", function()
    local c = setup.client { auth = "body" }
    assert(c.tracker.avatar.upload { tracker_id = 1,
      file = navixy.file("x", { data = true, filename = "a.png", content_type = "image/png" }) })
    assert.equal("body", fake.last_request().hash_from)
    c:close()
  end)

  it("raise before anything is sent for a path that cannot be read, or a GET", function()
    assert.has_error(function() navixy.file("/nonexistent/a.png") end)
    assert.has_error(function() navixy.file(42) end)
    assert.has_error(function() navixy.file("x", { data = true, filename = "a\nb" }) end)
    assert.has_error(function()
      client:call("tracker/avatar/upload", { file = navixy.file("x", { data = true }) }, { method = "GET" })
    end)
    -- a field name with NUL would be cut at it (sent as "k"): refused, not cut
    assert.has_error(function()
      client.tracker.avatar.upload { tracker_id = 1, ["k\0hidden"] = 1,
        file = navixy.file("x", { data = true }) }
    end, "navixy: form field names cannot hold a NUL byte")
    assert.has_error(function()
      client.tracker.avatar.upload { ["file\0x"] = navixy.file("x", { data = true }) }
    end, "navixy: form field names cannot hold a NUL byte")
    assert.equal(0, fake.stats().requests)
  end)
end)

-- A FIFO (or a device) would block a read forever, timeout or not: navixy.file
-- and the call refuse anything but a regular file. Run in a child under
-- `timeout`: a hang is a failure here, not a spec that never ends.
describe("uploads of what is not a regular file", function()
  it("raise at once: a FIFO, a directory, a device, a path made a FIFO after navixy.file", function()
    fake.reset()
    local dir = files.output_trimmed("mktemp -d")
    finally(function() os.execute("rm -rf " .. dir) end)
    os.execute(("mkfifo %s/fifo && printf x > %s/later"):format(dir, dir))
    local script = files.output_trimmed("mktemp")
    finally(function() os.remove(script) end)
    local f = assert(io.open(script, "w"))
    f:write(([[
package.path = "lua/?.lua;lua/?/init.lua;spec/support/?.lua;" .. package.path
package.cpath = "build/%s/?.so;" .. package.cpath
local navixy, fake = require "navixy", require "fake"
local dir = %q
for _, path in ipairs { dir .. "/fifo", dir, "/dev/zero" } do
  print((select(2, pcall(navixy.file, path))))
end
local file = navixy.file(dir .. "/later")
os.remove(dir .. "/later")
os.execute("mkfifo " .. dir .. "/later")
local c = navixy.new { url = fake.url, hash = fake.api_key, timeout = 3 }
print((select(2, pcall(c.call, c, "tracker/avatar/upload", { tracker_id = 1, file = file }))))
]]):format(require "flavour", dir))
    f:close()
    local out = files.output(("timeout 20 %s %s 2>&1; echo exit $?"):format(require "flavour", script))
    assert.equal(table.concat({
      "navixy: navixy.file: " .. dir .. "/fifo is a FIFO, not a regular file",
      "navixy: navixy.file: " .. dir .. " is a directory, not a regular file",
      "navixy: navixy.file: /dev/zero is a character device, not a regular file",
      "navixy: navixy.file: " .. dir .. "/later is a FIFO, not a regular file",
      "exit 0", "" }, "\n"), out)
    assert.equal(0, fake.stats().requests)
  end)
end)

describe("GET actions", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("send the params as the query string, by the form rules", function()
    local res, err = client:call("iot/logic/flow/read", { flow_id = 1, verbose = true, ids = { 1, 2 } },
      { method = "GET" })
    assert.is_nil(err, tostring(err))
    assert.is_true(res.success)
    local req = fake.last_request()
    assert.equal("GET", req.method)
    assert.equal("/v2/iot/logic/flow/read?flow_id=1&ids=%5B1%2C2%5D&verbose=true", req.uri)
    assert.equal("header", req.hash_from)
  end)

  it("put the hash in the query string when it would go in the body", function()
    local c = setup.client { auth = "body" }
    assert(c:call("iot/logic/flow/list", nil, { method = "GET" }))
    local req = fake.last_request()
    assert.same({ "GET", "query" }, { req.method, req.hash_from })
    c:close()
  end)

  it("are safe to repeat, whatever the name", function()
    fake.fault { action = "iot/logic/flow/export", type = "status", status = 502, body = "<html>" }
    local res = assert(client:call("iot/logic/flow/export", { flow_id = 1 }, { method = "GET" }))
    assert.is_true(res ~= nil)
    assert.equal(2, fake.stats().by_action["iot/logic/flow/export"])
  end)

  it("too long for a URL: a final error of phase request, tried once, nothing sent", function()
    local res, err = client:call("tracker/list", { q = ("x"):rep(10 * 1024 * 1024) }, { method = "GET" })
    assert.is_nil(res)
    assert.same({ "transport", "request", false, 1 }, { err.kind, err.phase, err.retryable, err.attempts })
    assert.matches("too long", err.description)
    assert.equal(0, fake.stats().requests)
  end)

  it("method must be GET or POST", function()
    assert.has_error(function() client:call("tracker/list", nil, { method = "PUT" }) end)
  end)
end)

describe("a streamed download under the timeout", function()
  it("ends with a timeout error when the file does not finish in time", function()
    fake.reset()
    local c = setup.client { retries = 0 }
    fake.fault { action = "x/file", type = "file", bytes = 2000000, content_type = "text/csv",
                 stall_after = 500000, seconds = 5 }
    local secs, _, err = sockets.timed(c.call, c, "x/file", nil, { sink = function() end, timeout = 1 })
    assert.equal("timeout", err.kind)
    assert.is_true(secs < sockets.bound(2), "took " .. secs .. " s")
    c:close()
  end)
end)

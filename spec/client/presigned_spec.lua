-- client:presigned_upload: the create action, then the file to the URL it names (another
-- host: the fake's upload port), the fields first, the file last, without the hash.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local CONTENT = ("0123456789"):rep(100)

local function uploads() return fake.requests_of("presigned upload") end

local function names(parts)
  local list = {}
  for i, p in ipairs(parts) do list[i] = p.name end
  return list
end

describe("client:presigned_upload", function()
  for _, auth in ipairs{ "header", "query", "body" } do
    it("uploads to an S3-style URL, fields first, the file last, no hash (auth " .. auth .. ")", function()
      fake.reset()
      local client = setup.client{ auth = auth }
      local file = navixy.file(CONTENT, { data = true, filename = "photo.png", content_type = "image/png" })
      local res, err = client:presigned_upload("task/form/file/create", { task_id = 11231, field_id = "file1",
        size = #CONTENT }, file)
      assert.is_nil(err)
      assert.is_number(res.value.file_id)
      local up = uploads()
      assert.equal(1, #up)
      assert.equal("/", up[1].path)
      local parts = up[1].parts
      assert.same({ "key", "policy", "success_action_status", "x-amz-algorithm", "x-amz-credential",
                    "x-amz-date", "x-amz-signature", "file" }, names(parts))
      assert.equal("photo.png", parts[#parts].filename)
      assert.equal("image/png", parts[#parts].content_type)
      assert.equal(#CONTENT, parts[#parts].size)
      assert.is_nil(up[1].headers.authorization)
      assert.is_nil(up[1].query.hash)
      client:close()
    end)
  end

  it("uploads to the platform's storage path and returns the create answer", function()
    fake.reset()
    local client = setup.client()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")); f:write(CONTENT); f:close()
    for _, action in ipairs{ "checkin/form/file/create", "checkin/image/create", "vehicle/service_task/file/create" } do
      local res = assert(client:presigned_upload(action, { checkin_id = 1, field_id = "f", task_id = 3,
        size = 4096 }, navixy.file(path)))
      assert.matches("^/upload/%d+$", uploads()[#uploads()].path)
      assert.equal(res.value.file_id, tonumber(uploads()[#uploads()].path:match("%d+$")))
      assert.same({ "token", "file" }, names(uploads()[#uploads()].parts))
    end
    os.remove(path)
    client:close()
  end)

  it("returns the storage's refusal as an error, and the create action's too", function()
    fake.reset()
    local client = setup.client()
    local file = navixy.file(CONTENT, { data = true })
    local res, err = client:presigned_upload("checkin/image/create", { size = 10 }, file) -- over the size reserved
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.matches("over the size reserved", err.body, 1, true)
    assert.equal(1, #uploads()) -- not sent twice
    -- what the docs refuse (no field_id), sent unchecked: the server's refusal comes back
    client:close()
    client = setup.client { validate = false }
    res, err = client:presigned_upload("task/form/file/create", { task_id = 1, size = 10 }, file)
    assert.is_nil(res)
    assert.equal(7, err.code)
    assert.equal(1, #uploads())
    client:close()
  end)

  it("refuses a plain http:// upload URL to another host unless insecure", function()
    fake.reset()
    local client = setup.client()
    fake.fault{ action = "checkin/image/create", type = "raw", status = 200,
      body = { success = true, value = { file_id = 1, url = "http://storage.example/upload", fields = {} } } }
    local res, err = client:presigned_upload("checkin/image/create", { size = 10 }, navixy.file("x", { data = true }))
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.matches("plain http:// to storage.example", tostring(err), 1, true)
    assert.equal(0, #uploads())
    assert.matches("^navixy: client:presigned_upload%(action, params, file%) expects file",
      setup.raised(client.presigned_upload, client, "checkin/image/create", {}, "x"))
    client:close()
  end)
end)

-- The fake's presigned uploads: the create actions' credentials, and the storage on the
-- upload port refusing what must never reach it (the hash, a part after the file).
local fake = require "fake"

local function multipart(parts)
  local out = {}
  for _, p in ipairs(parts) do
    out[#out + 1] = "--XyZ\r\nContent-Disposition: form-data; name=\"" .. p[1] .. "\""
      .. (p.filename and ("; filename=\"" .. p.filename .. "\"\r\nContent-Type: text/plain") or "")
      .. "\r\n\r\n" .. p[2] .. "\r\n"
  end
  return table.concat(out) .. "--XyZ--\r\n"
end

describe("the fake's presigned uploads", function()
  local value, base

  before_each(function()
    fake.reset()
    local status, res = fake.call("checkin/image/create", { size = 100 }, fake.api_key)
    assert.equal(200, status)
    value = res.value
    base = "http://127.0.0.1:" .. fake.upload_port
  end)

  local function send(parts, headers, query)
    local h = { ["content-type"] = "multipart/form-data; boundary=XyZ" }
    for k, v in pairs(headers or {}) do h[k] = v end
    return fake.http("POST", value.url .. (query or ""), multipart(parts), h)
  end

  it("answers credentials on another port, and takes the fields then the file", function()
    assert.equal(("%s/upload/%d"):format(base, value.file_id), value.url)
    assert.equal("file", value.file_field_name)
    assert.matches("^%x+$", value.fields.token)
    assert.equal(200, (send{ { "token", value.fields.token }, { "file", "abc", filename = "a.txt" } }))
  end)

  it("refuses a part after the file, the hash anywhere, a changed field", function()
    local token = value.fields.token
    local file = { "file", "abc", filename = "a.txt" }
    local status, body = send{ file, { "token", token } }
    assert.equal(400, status); assert.matches("the last part is not the file", body, 1, true)
    status, body = send({ { "token", token }, file }, { authorization = "NVX " .. fake.api_key })
    assert.equal(400, status); assert.matches("Authorization", body, 1, true)
    status, body = send({ { "token", token }, file }, nil, "?hash=" .. fake.api_key)
    assert.equal(400, status); assert.matches("hash in the query", body, 1, true)
    status, body = send{ { "token", token }, { "hash", fake.api_key }, file }
    assert.equal(400, status); assert.matches("hash field", body, 1, true)
    status, body = send{ { "token", "forged" }, file }
    assert.equal(400, status); assert.matches("not as issued", body, 1, true)
    status = send{ file }
    assert.equal(400, status) -- the token is missing
  end)
end)

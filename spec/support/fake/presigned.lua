-- Presigned two-step uploads (field-service/task/form/file.md "create" and "How to upload
-- file data"; checkin.md "image/create", "form/file/create"; the vehicle service task's
-- file/create answers the same): the create action answers upload credentials, value =
-- { file_id, url, expires, file_field_name, fields }, and the file is POSTed as
-- multipart/form-data to `url`, the fields first, the file LAST.
--   task/form/file/create              an S3-style upload: url is the storage's root,
--                                      fields policy, key, x-amz-*; answers 204
--   checkin/form/file/create,          the platform's storage: url /upload/<file_id>,
--   checkin/image/create,              field token; answers 200 {"success": true}
--   vehicle/service_task/file/create
-- The storage (serve(), on the upload port: another host) refuses with 400 what a real
-- one would refuse or what must never reach it: a part after the file, a missing or
-- changed field, a wrong file field name, and the Navixy hash in any form (an NVX
-- Authorization header, a hash in the query or in a field). Each upload is recorded as
-- a request (action "presigned upload") with its parts in order.
local dates = require "fake.dates"
local errors = require "fake.errors"
local multipart = require "fake.multipart"
local params = require "fake.params"
local store = require "fake.store"

local invalid = errors.invalid

local M = { handlers = {} }
local H = M.handlers

local EXPIRES = 3600

local function upload_url(path) return ("http://127.0.0.1:%s%s"):format(ngx.var.fake_upload_port, path) end

-- Makes the credentials of a new file: an S3-style upload or the platform's own.
local function credentials(ctx, s3, size)
  local id = store.dict:incr("presigned_seq", 1, 300)
  local fields, url
  if s3 then
    url = upload_url("/")
    fields = { policy = ngx.encode_base64('{"conditions":[{"bucket":"navixy-files"}]}'),
      key = "user/" .. ctx.auth.uid .. "/" .. id .. "/${filename}", success_action_status = "204",
      ["x-amz-algorithm"] = "AWS4-HMAC-SHA256",
      ["x-amz-credential"] = "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
      ["x-amz-date"] = "20151229T000000Z", ["x-amz-signature"] = store.new_hash() }
  else
    url = upload_url("/upload/" .. id)
    fields = { token = store.new_hash() }
  end
  store.set_json("presigned:" .. id, { id = id, fields = fields, size = size, path = url:match("//[^/]+(/.*)$") })
  return { value = { file_id = id, url = url, expires = dates.write(ngx.time() + EXPIRES, ctx.tz, ctx.iso),
    file_field_name = "file", fields = fields } }
end

local function size_of(p)
  local size = params.need_int(p, "size")
  if size < 1 then invalid("size", "Must be positive") end
  return size
end

H["task/form/file/create"] = { fn = function(p, ctx)
  params.need_int(p, "task_id")
  if not params.str(p.field_id) then invalid("field_id", "Required parameter") end
  return credentials(ctx, true, size_of(p))
end }

H["checkin/form/file/create"] = { fn = function(p, ctx)
  if p.checkin_id == nil and p.form_id == nil then invalid("checkin_id", "checkin_id or form_id is required") end
  if not params.str(p.field_id) then invalid("field_id", "Required parameter") end
  return credentials(ctx, false, size_of(p))
end }

H["checkin/image/create"] = { fn = function(p, ctx) return credentials(ctx, false, size_of(p)) end }

H["vehicle/service_task/file/create"] = { fn = function(p, ctx)
  params.need_int(p, "task_id")
  return credentials(ctx, false, size_of(p))
end }

---------------------------------------------------------------- the storage

local function refuse(why)
  ngx.status = 400
  ngx.header.content_type = "application/xml"
  ngx.print("<Error><Code>InvalidArgument</Code><Message>" .. why .. "</Message></Error>")
end

function M.serve()
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local headers, query = ngx.req.get_headers(0), ngx.req.get_uri_args(0)
  local parts = multipart.parse(body, multipart.boundary(ngx.var.content_type) or "") or {}
  local recorded = {}
  for i, part in ipairs(parts) do
    recorded[i] = { name = part.name, filename = part.filename, content_type = part.content_type,
                    size = #part.data, md5 = ngx.md5(part.data), value = not part.filename and part.data or nil }
  end
  store.record{ method = ngx.req.get_method(), uri = ngx.var.request_uri, path = ngx.var.uri,
    action = "presigned upload", query = query, headers = headers, parts = recorded,
    content_type = ngx.var.content_type, time = ngx.now() }
  if ngx.req.get_method() ~= "POST" then return refuse("POST only") end
  local auth = headers["authorization"]
  if auth then return refuse("an Authorization header reached the storage: " .. tostring(auth):sub(1, 8)) end
  if query.hash then return refuse("a hash in the query reached the storage") end
  if #parts == 0 then return refuse("not a multipart/form-data body") end
  local last = parts[#parts]
  if not last.filename then return refuse("the last part is not the file") end
  local id = tonumber(ngx.var.uri:match("^/upload/(%d+)$"))
  local rec
  if id then
    rec = store.get_json("presigned:" .. id)
  else -- S3 style: the key names the file
    for _, part in ipairs(parts) do
      local key_id = part.name == "key" and tonumber(part.data:match("^user/%d+/(%d+)/"))
      if key_id then rec = store.get_json("presigned:" .. key_id) end
    end
  end
  if not rec or rec.path ~= ngx.var.uri then return refuse("no such upload") end
  local seen = {}
  for i, part in ipairs(parts) do
    if part.name == "hash" then return refuse("a hash field reached the storage") end
    if part.filename and i < #parts then return refuse("a part after the file") end
    if not part.filename then
      if rec.fields[part.name] ~= part.data then return refuse("field " .. part.name .. " is not as issued") end
      seen[part.name] = true
    end
  end
  for name in pairs(rec.fields) do
    if not seen[name] then return refuse("field " .. name .. " is missing") end
  end
  if last.name ~= "file" then return refuse("the file part is not named file") end
  if #last.data > rec.size then return refuse("the file is over the size reserved") end
  store.set_json("presigned_done:" .. rec.id, { size = #last.data, md5 = ngx.md5(last.data), filename = last.filename })
  if id then
    ngx.header.content_type = "application/json"
    ngx.print('{"success":true}')
  else
    ngx.status = 204
  end
end


return M

--- client:presigned_upload(action, params, file): the two-step uploads of
-- task/form/file/create, checkin/form/file/create, checkin/image/create and
-- vehicle/service_task/file/create (field-service/task/form/file.md, "How
-- to upload file data"):
--
--   1. `action` with `params` answers value = { file_id, url, expires,
--      file_field_name, fields } ("upload credentials")
--   2. a multipart/form-data POST to `url` (the platform's own storage or
--      object storage such as S3, on any host): the `fields`, then the file
--      as the part named file_field_name, LAST ("field with a file must be
--      the last one").
--
-- The upload goes without the Navixy hash (no Authorization header, no hash
-- field or query: the fields are its credentials) and without following
-- redirects; any 2xx answer is success (S3 answers 204, or 200/201 with
-- success_action_status). `fields` come as a JSON object, whose members have
-- no order (RFC 8259): they are sent sorted by name, which S3's POST policy
-- and the platform's storage accept; only the file's place is prescribed.
local call = require "navixy.call"
local errors = require "navixy.errors"
local upload = require "navixy.upload"
local url = require "navixy.url"

local type = type

local M = {}

local fail = errors.misuse

-- never repeated once sent (a second upload could fail on a used policy);
-- any 2xx is success, whatever its body (S3's 204 may even claim JSON)
local UPLOAD_OPTS = { idempotent = false, decode = false }

local function bad_answer(action, res, why)
  return errors.new({ kind = "decode", action = action, response = res,
    description = "the answer gives no upload to make: " .. why })
end

--- Returns the answer of `action` (value.file_id is the file's id), or nil,
-- err. `st` is the client's state (the upload is one request of its own,
-- sent with the client's transport, timeouts and TLS settings).
function M.upload(client, st, action, params, file)
  if not upload.is_file(file) then
    fail("client:presigned_upload(action, params, file) expects file = navixy.file(...), got %s", type(file))
  end
  local res, err = client:call(action, params)
  if not res then return nil, err end
  local v = res.value
  if type(v) ~= "table" or type(v.url) ~= "string" then return nil, bad_answer(action, res, "no value.url") end
  local target, why = url.parse(v.url, true)
  if not target then return nil, bad_answer(action, res, "value.url is " .. why) end
  if target.scheme == "http" and not st.options.insecure and not url.is_loopback(target.host) then
    return nil, bad_answer(action, res, "value.url is plain http:// to " .. target.host
      .. " (set insecure = true to allow)")
  end
  local fields = type(v.fields) == "table" and v.fields or {}
  local file_name = type(v.file_field_name) == "string" and v.file_field_name ~= "" and v.file_field_name or "file"
  local names, values = {}, {}
  for name, value in pairs(fields) do
    if type(name) == "string" and name ~= file_name then
      names[#names + 1] = name
      values[name] = value
    end
  end
  table.sort(names)
  names[#names + 1], values[file_name] = file_name, file
  -- named in errors and the on_request hook by the URL without its query
  local job = call.prepared(st, v.url:match("^[^?]*"), UPLOAD_OPTS, "", upload.ordered(names, values))
  -- sessionless and anonymous: the storage is not Navixy; no hash goes
  -- there, and its refusals are not a session that ended
  job.url, job.anonymous, job.sessionless = v.url, true, true
  local _, uerr = call.run(st, job, st.transport)
  if uerr then return nil, uerr end
  return res
end

return M

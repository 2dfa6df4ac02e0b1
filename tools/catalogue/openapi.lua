--- Reads an OpenAPI 3 document exactly: each operation's path, method,
-- summary, params (request body properties and query parameters, with their
-- types, required marks, bounds and enums), answer content types, uploads
-- and `security: []` (no authentication).
local M = {}

local function resolve(doc, node, seen)
  seen = seen or 0
  if type(node) ~= "table" or not node["$ref"] then return node end
  assert(seen < 20, "a $ref cycle at " .. node["$ref"])
  local target = doc
  for part in node["$ref"]:gmatch("[^/#]+") do target = assert(target[part], "no " .. node["$ref"]) end
  return resolve(doc, target, seen + 1)
end

-- One schema with allOf merged: properties and required of every part.
local function flatten(doc, schema)
  schema = resolve(doc, schema)
  if type(schema) ~= "table" or not schema.allOf then return schema end
  local out = { type = "object", properties = {}, required = {} }
  for _, part in ipairs(schema.allOf) do
    part = flatten(doc, part)
    for k, v in pairs(part.properties or {}) do out.properties[k] = v end
    for _, r in ipairs(part.required or {}) do out.required[#out.required + 1] = r end
  end
  return out
end

local function json_type(doc, schema)
  schema = resolve(doc, schema)
  local t = schema.type
  if t == nil and schema.properties then return "object" end
  if type(t) == "table" then -- 3.1: { "string", "null" }
    for _, one in ipairs(t) do if one ~= "null" then return one end end
  end
  if t == nil and (schema.anyOf or schema.oneOf) then
    local kinds = {}
    for _, alt in ipairs(schema.anyOf or schema.oneOf) do
      local k = json_type(doc, alt)
      if k and k ~= "null" then kinds[k] = true end
    end
    local only = next(kinds)
    if only and next(kinds, only) == nil then return only end
    return nil
  end
  return t
end

local function param(doc, name, schema, required)
  schema = flatten(doc, schema) or {}
  local p = { name = name, type = json_type(doc, schema), required = required or nil,
    min = schema.minimum, max = schema.maximum, min_length = schema.minLength,
    max_length = schema.maxLength, min_items = schema.minItems, max_items = schema.maxItems,
    unique_items = schema.uniqueItems == true or nil }
  if type(schema.enum) == "table" then
    p.enum = {}
    for _, v in ipairs(schema.enum) do if type(v) ~= "userdata" then p.enum[#p.enum + 1] = v end end
  end
  if p.type == "array" and schema.items then
    local items = flatten(doc, schema.items) or {}
    p.items = json_type(doc, items)
    p.item_min_length, p.item_max_length = items.minLength, items.maxLength
  end
  if schema.format == "binary" then p.type, p.file = "string", true end
  return p
end

local function body_params(doc, op)
  local body = resolve(doc, op.requestBody)
  if not body or not body.content then return {}, false end
  local media = body.content["application/json"] and "application/json" or next(body.content)
  local schema = flatten(doc, body.content[media].schema) or {}
  local required = {}
  for _, r in ipairs(schema.required or {}) do required[r] = true end
  local params = {}
  for name, prop in pairs(schema.properties or {}) do
    params[#params + 1] = param(doc, name, prop, required[name])
  end
  return params, media == "multipart/form-data"
end

local FILE_MEDIA = {
  ["text/csv"] = "csv",
  ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] = "xlsx",
  ["application/vnd.ms-excel"] = "xls", ["application/pdf"] = "pdf",
}

local function answer(doc, op)
  local ok = resolve(doc, (op.responses or {})["200"]) or {}
  local types = {}
  for media in pairs(ok.content or {}) do
    if media ~= "application/json" then types[#types + 1] = FILE_MEDIA[media] or media end
  end
  table.sort(types)
  return #types > 0 and table.concat(types, ",") or "json"
end

--- Operations of `doc` (decoded JSON): an array of { path =, method =,
-- summary =, params =, multipart =, no_auth =, answer =, tag = }.
function M.operations(doc)
  local ops = {}
  for path, item in pairs(doc.paths) do
    for _, method in ipairs({ "get", "post", "put", "delete", "patch" }) do
      local op = item[method]
      if op then
        local params, multipart = body_params(doc, op)
        for _, qp in ipairs(op.parameters or {}) do
          qp = resolve(doc, qp)
          if qp["in"] == "query" then params[#params + 1] = param(doc, qp.name, qp.schema, qp.required) end
        end
        table.sort(params, function(a, b)
          if (a.required or false) ~= (b.required or false) then return a.required == true end
          return a.name < b.name
        end)
        local security = op.security or doc.security
        local description = type(op.description) == "string" and op.description or ""
        ops[#ops + 1] = { path = path:gsub("^/", ""), method = method:upper(), params = params,
          summary = (op.summary and not op.summary:find("^%l%w+$")) and op.summary
            or (description:match("^(.-%.)%s") or description),
          multipart = multipart, no_auth = type(security) == "table" and #security == 0,
          answer = answer(doc, op), tag = op.tags and op.tags[1] }
      end
    end
  end
  table.sort(ops, function(a, b) return a.path < b.path end)
  return ops
end

return M

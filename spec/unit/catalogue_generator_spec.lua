-- How tools/catalogue/ reads Navixy's docs, on small pages written the ways
-- the docs write them (the real docs are not needed: `make catalogue` runs
-- on a checkout of them).
package.path = "tools/catalogue/?.lua;" .. package.path
local markdown = require "markdown"
local openapi = require "openapi"

local function by_path(actions)
  local out = {}
  for _, a in ipairs(actions) do out[a.path] = a end
  return out
end

local PAGE = [[
---
description: A page.
---

# Tracker

## API actions

API base path: `/tracker`.

### list

Gets user's trackers with optional filtering
by labels. More words.

#### Parameters

| name   | description                          | type         | format        |
| ------ | ------------------------------------ | ------------ | ------------- |
| labels | Optional. List of label filters.     | string array | `["aa", "b"]` |
| group\_id | ID of a group.                    | int          | 1             |
| token  | A token.                             | string       | not null, 1 to 40 printable characters. |
| count  | How many. Min=1, max=20.             | int          | optional.     |

Constraints for labels:

* Labels array size: minimum 1, maximum 1024.
* No null items.
* No duplicate items.
* Item length: minimum 1, maximum 60.

#### Examples

```sh
curl -X POST 'https://api.eu.navixy.com/v2/tracker/list' \
    -d '{"hash": "a6aa75587e5c59c32d347da438505fc3"}'
```

```http
https://api.eu.navixy.com/v2/tracker/lisd?hash=a6aa75587e5c59c32d347da438505fc3
```

#### Response

```json
{ "success": true }
```

### `download`

**required sub-user rights**: `tracker`.

Downloads a track as a KML/KMZ file.

**Parameters**

* `tracker_id` – required, int. The tracker.
* `split` - boolean. Whether to split.

#### Response

A KML/KMZ file (standard file download).

### upload

Uploads a file. **MUST** be a POST multipart request (multipart/form-data).

| name | description | type |
| ---- | ----------- | ---- |
| file | The file.   | file upload |

### /tracker/avatar/

### upload

Uploads an avatar.

### Response

Not an action: it names none.

### /data/import/list

Lists imports. It doesn't require authentication.
]]

describe("the Markdown reader", function()
  local actions = by_path(markdown.page(PAGE))

  it("finds each action under its base path, full-path headings and sub-bases included", function()
    local paths = {}
    for path in pairs(actions) do paths[#paths + 1] = path end
    table.sort(paths)
    assert.same({ "data/import/list", "tracker/avatar/upload", "tracker/download", "tracker/list", "tracker/upload" },
      paths)
  end)

  it("takes the first sentence of the first paragraph as the summary", function()
    assert.equal("Gets user's trackers with optional filtering by labels.", actions["tracker/list"].summary)
    assert.equal("Downloads a track as a KML/KMZ file.", actions["tracker/download"].summary)
  end)

  it("reads the parameter table: JSON types, Optional marks, bounds in prose and constraint lists", function()
    assert.same({
      { name = "labels", type = "array", items = "string", required = false, min_items = 1, max_items = 1024,
        item_min_length = 1, item_max_length = 60, unique_items = true },
      { name = "group_id", type = "integer", required = true },
      { name = "token", type = "string", required = true, min_length = 1, max_length = 40 },
      { name = "count", type = "integer", required = false, min = 1, max = 20 },
    }, actions["tracker/list"].params)
  end)

  it("reads bullet-list params, required only where the list says so", function()
    assert.same({ { name = "tracker_id", type = "integer", required = true },
      { name = "split", type = "boolean", required = false } }, actions["tracker/download"].params)
  end)

  it("keeps every example's path, so that a typo in one is seen", function()
    assert.same({ "tracker/list", "tracker/lisd" }, actions["tracker/list"].examples)
    assert.equal("POST", actions["tracker/list"].example_method)
  end)

  it("tells file answers, uploads and actions that need no authentication", function()
    assert.equal("json", actions["tracker/list"].answer)
    assert.equal("kmz,kml", actions["tracker/download"].answer)
    assert.is_true(actions["tracker/upload"].multipart)
    assert.is_false(actions["tracker/list"].multipart)
    assert.same({ { name = "file", required = true, file = true, doc_type = "file upload" } },
      actions["tracker/upload"].params)
    assert.is_true(actions["data/import/list"].unauthorized)
    assert.is_false(actions["tracker/list"].unauthorized)
  end)

  it("reads the WebSocket subscription types", function()
    local subs = markdown.subscriptions([[
### The "iot\_monitor" event subscription

This subscription type is for the analyzer.

* `type` – required, text: _"iot\_monitor"_. Event type.
* `target` – required, [target](subscription.md#Request-targets). Trackers to subscribe. Maximum 10 trackers.
* `rate_limit` – optional, string. A timespan for batching.
* `format` – optional, [enum](../#data-types), one of: "full" (default), "compact".

### Response
]])
    assert.equal(1, #subs)
    assert.equal("iot_monitor", subs[1].type)
    assert.equal("This subscription type is for the analyzer.", subs[1].summary)
    assert.same({ { name = "target", type = "object", required = true },
      { name = "rate_limit", type = "string", required = false },
      { name = "format", type = "string", required = false } }, subs[1].params)
  end)
end)

describe("the OpenAPI reader", function()
  local doc = {
    security = { { api_key = {} } },
    components = { schemas = {
      Ids = { type = "array", items = { type = "integer" }, minItems = 1, maxItems = 10 },
      Base = { type = "object", required = { "user_id" },
        properties = { user_id = { type = "integer", minimum = 1 } } },
    } },
    paths = {
      ["/panel/user/export"] = { post = {
        summary = "Export users",
        requestBody = { content = { ["application/json"] = { schema = { allOf = {
          { ["$ref"] = "#/components/schemas/Base" },
          { type = "object", properties = {
            format = { type = "string", enum = { "csv", "xlsx" } },
            ids = { ["$ref"] = "#/components/schemas/Ids" },
            note = { type = { "string", "null" }, maxLength = 255 },
          } },
        } } } } },
        responses = { ["200"] = { content = { ["text/csv"] = {},
          ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] = {} } } },
      } },
      ["/panel/timezone/list"] = { post = { summary = "List timezones", security = {}, responses = {} } },
      ["/iot/logic/flow/read"] = { get = {
        summary = "flowRead", description = "Retrieve a flow. More.",
        parameters = { { name = "flow_id", ["in"] = "query", required = true, schema = { type = "integer" } } },
        responses = { ["200"] = { content = { ["application/json"] = {} } } },
      } },
      ["/panel/user/upload"] = { post = { summary = "Upload users",
        requestBody = { content = { ["multipart/form-data"] = { schema = { type = "object", required = { "file" },
          properties = { file = { type = "string", format = "binary" } } } } } }, responses = {} } },
    },
  }
  local ops = by_path(openapi.operations(doc))

  it("reads body params through $ref and allOf: types, required, bounds, enums, nullable types", function()
    assert.same({
      { name = "user_id", type = "integer", required = true, min = 1 },
      { name = "format", type = "string", enum = { "csv", "xlsx" } },
      { name = "ids", type = "array", items = "integer", min_items = 1, max_items = 10 },
      { name = "note", type = "string", max_length = 255 },
    }, ops["panel/user/export"].params)
    assert.equal("csv,xlsx", ops["panel/user/export"].answer)
    assert.equal("POST", ops["panel/user/export"].method)
  end)

  it("takes GET operations' query params, and the description when the summary is an operation id", function()
    local read = ops["iot/logic/flow/read"]
    assert.equal("GET", read.method)
    assert.same({ { name = "flow_id", type = "integer", required = true } }, read.params)
    assert.equal("Retrieve a flow.", read.summary)
    assert.equal("json", read.answer)
  end)

  it("reads security: [] as no authentication, and multipart bodies as uploads", function()
    assert.is_true(ops["panel/timezone/list"].no_auth)
    assert.is_false(ops["panel/user/export"].no_auth)
    assert.is_true(ops["panel/user/upload"].multipart)
    assert.same({ { name = "file", type = "string", required = true, file = true } }, ops["panel/user/upload"].params)
  end)
end)

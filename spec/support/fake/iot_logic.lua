-- The IoT Logic API's GET actions, under <base>/iot/logic/flow/ as the OpenAPI
-- api-docs/iot-logic-api/resources/api-reference/IoT_Logic.json gives them (servers
-- https://api.*.navixy.com/v2, paths /iot/logic/flow/...), parameters in the query string.
-- Errors follow api-docs/iot-logic-api/technical-details/README.md ("Common error
-- codes"): code 4 with HTTP 401, code 201 with HTTP 404 (navixy.lua applies them).
-- The methods are the OpenAPI's, from the catalogue (navixy.lua refuses any other).
local cjson = require "cjson.safe"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local raise = errors.raise
local EMPTY = store.EMPTY_ARRAY

local SOURCE_NODE = { id = 1, type = "data_source",
                      data = { title = "Standard Data Source", source_ids = { 10001, 10002 } },
                      view = { position = { x = 25, y = 25 } } }
local OUTPUT_NODE = { id = 2, type = "output_endpoint",
                      data = { title = "Navixy output endpoint", output_endpoint_type = "output_default" },
                      view = { position = { x = 325, y = 25 } } }

-- Flows (schemas IotFlowInfo and Flow) and the device mappings (IotLogicFlowDeviceMapping).
local FLOWS = {
  { id = 1, title = "Default flow", description = "Every device to the platform", enabled = true,
    modified = "2024-01-15T10:30:00Z", nodes = { SOURCE_NODE, OUTPUT_NODE }, edges = { { from = 1, to = 2 } },
    sources = { 10001, 10002 } },
  { id = 2, title = "Empty flow", description = cjson.null, enabled = false,
    modified = "2024-02-01T08:00:00Z", nodes = EMPTY, edges = EMPTY, sources = {} },
}
local TEMPLATES = {
  { id = 1, title = "Device healthcheck and reboot", icon = "healthcheck",
    description = "Monitors GPS signal quality and schedules a device reboot if signal is poor." },
}

local function flow_of(p)
  local id = params.need_int(p, "flow_id")
  for _, f in ipairs(FLOWS) do if f.id == id then return f end end
  raise(201)
end

local H = {}

H["iot/logic/flow/list"] = { fn = function()
  local list = {}
  for i, f in ipairs(FLOWS) do
    list[i] = { id = f.id, title = f.title, description = f.description, enabled = f.enabled,
                modified = f.modified, devices_count = #f.sources }
  end
  return { list = list }
end }

H["iot/logic/flow/read"] = { fn = function(p)
  local f = flow_of(p)
  return { value = { id = f.id, title = f.title, description = f.description, enabled = f.enabled,
                     nodes = f.nodes, edges = f.edges } }
end }

-- FlowExport: the structure without id and enabled.
H["iot/logic/flow/export"] = { fn = function(p)
  local f = flow_of(p)
  return { value = { title = f.title, description = f.description, nodes = f.nodes, edges = f.edges } }
end }

H["iot/logic/flow/schema/read"] = { fn = function()
  return { value = { ["$schema"] = "https://json-schema.org/draft/2020-12/schema", type = "object",
                     required = { "title" },
                     properties = { title = { type = "string" }, nodes = { type = "array" },
                                    edges = { type = "array" } } } }
end }

H["iot/logic/flow/template/list"] = { fn = function() return { list = TEMPLATES } end }

H["iot/logic/flow/template/read"] = { fn = function(p)
  local id = params.need_int(p, "flow_id")
  local t = TEMPLATES[id] or raise(201)
  return { value = { id = t.id, title = t.title, description = t.description,
                     nodes = { SOURCE_NODE, OUTPUT_NODE }, edges = { { from = 1, to = 2 } } } }
end }

H["iot/logic/flow/sources/list"] = { fn = function(p)
  return { value = store.array(flow_of(p).sources) }
end }

-- offset >= 0 and limit 1..100000: the OpenAPI's bounds, checked before (fake/params.lua)
H["iot/logic/flow/sources/mapping/list"] = { fn = function(p)
  local offset = p.offset == nil and 0 or params.int(p.offset)
  local limit = p.limit == nil and 10000 or params.int(p.limit)
  local all = {}
  for _, f in ipairs(FLOWS) do
    for _, src in ipairs(f.sources) do
      all[#all + 1] = { device_title = "Device " .. src, model_code = "navixy_ngp", device_id = src,
                        flow_id = f.id, flow_title = f.title, node_id = 1, node_title = SOURCE_NODE.data.title }
    end
  end
  local list = {}
  for i = offset + 1, math.min(#all, offset + limit) do list[#list + 1] = all[i] end
  return { list = store.array(list), count = #all }
end }

return { handlers = H }

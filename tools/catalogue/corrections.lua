--- Where Navixy's docs contradict themselves or leave out what a client must
-- know, decided here by hand, each with its reason. generate.lua fails on a
-- contradiction that is not decided here, and on an entry here that no page
-- documents any more.
--
-- Not an entry, because the generator reads only the resource pages: the
-- authentication guide (platform-api/user-api/authentication.md) shows
-- `user/api_key/list` and `user/api_key/delete`, where the API keys resource
-- page (resources/commons/api-keys.md) documents `api/key/*`; the resource
-- page is the reference and is what the catalogue holds.
local M = {}

--- A section's heading and its own cURL example name different paths:
-- ["<path by heading> | <path of the example>"] = { path = the one kept,
-- reason =, unsure = true when the other spelling may be the one the server
-- takes: then it is kept as an alias, never refused as a typo of the kept one }.
M.paths = {
  ["tracker/replace_retry | tracker/register_retry"] = { path = "tracker/replace_retry",
    reason = "the example was copied from register_retry, documented just above with its own example" },
  ["vehicle/service_task/batch_create | vehicle/service_task/batch/create"] = {
    path = "vehicle/service_task/batch_create", unsure = true,
    reason = "the heading names the action as every other batch action is named (tracker/batch_get_inputs, "
      .. "panel/tracker/batch_clone); no other page mentions a batch/ namespace" },
  ["map_layer/list | map_layer/listd"] = { path = "map_layer/list",
    reason = "a typo in the HTTP GET example; its cURL example calls map_layer/list" },
  ["task/history/list | task/checkpoint/delete"] = { path = "task/history/list",
    reason = "the example is task/checkpoint/delete's, pasted into the history page" },
}

--- Per action: fields that override what the pages say (read_only, no_auth,
-- answer, multipart, params merged by name), each with its reason.
M.actions = {
  ["user/auth"] = { no_auth = true, reason = "it is how a session starts: it takes login and password, no hash" },
  ["dealer/get_ui_config"] = { no_auth = true,
    params = { { name = "domain", required = false }, { name = "hash", required = false } },
    reason = "UNAUTHORIZED access level; its `hash` is a param (the dealer's session), not the caller's auth; "
      .. "domain or hash: one of the two, so neither is required by itself" },
  ["panel/account/auth"] = { no_auth = true, reason = "security: [] in Admin_Panel.json: it starts a panel session" },
  ["panel/timezone/list"] = { no_auth = true, reason = "security: [] in Admin_Panel.json" },
  ["tracker/raw_data/read"] = { answer = "csv,parquet",
    params = { { name = "from", required = false }, { name = "to", required = false },
               { name = "interval", type = "string", required = false } },
    reason = "the page describes the CSV and Parquet file it answers with, under headings of its own; "
      .. "'Instead of using the from/to parameters, you can set the interval parameter' (ISO 8601), "
      .. "so neither from/to nor interval is required by itself" },
  ["report/tracker/generate"] = {
    params = { { name = "geocoder", required = false }, { name = "employees", required = false } },
    reason = "the table has no required column; employees is only 'if report is by employees', and the "
      .. "page's own example sends neither geocoder nor employees" },
  ["trackers/{tracker_id}/resampling"] = { answer = "csv", read_only = true,
    summary = "Fuel data resampled at a fixed step, as CSV.",
    reason = "'The API response is presented in a convenient CSV format'; it computes from stored data, "
      .. "changes nothing" },
  ["employee/list"] = {
    params = { { name = "limit", required = false }, { name = "offset", required = false },
               { name = "filter", required = false } },
    reason = "the page's own examples send only the hash; limit and offset are 'Pagination' and filter may be "
      .. "'null', none marked optional only because the table has no required column" },
  ["zone/delete"] = { params = { { name = "zone_id", required = false }, { name = "zone_ids", required = false } },
    reason = "one geofence by zone_id or several by zone_ids: the table lists both, neither marked optional" },
  ["base/nothing"] = { read_only = true, reason = "it does nothing (a round trip to check a hash): safe to repeat" },
  ["beacon/data/last_values"] = { read_only = true,
    reason = "it reads the last values the beacons sent; its name ends in no reading verb" },
  ["checkin/form/file/create"] = { answer = "json",
    params = { { name = "checkin_id", required = false }, { name = "form_id", required = false } },
    reason = "a presigned upload: its answer is the JSON of the file entry (as task/form/file/create); "
      .. "'Use only one parameter `checkin_id` or `form_id`', so neither is required by itself" },
  ["event/subscription/iot_monitor"] = {
    params = { { name = "target.tracker_ids", type = "array", items = "integer", max_items = 10 } },
    reason = "'Maximum 10 trackers', written in the target's description" },
}

return M
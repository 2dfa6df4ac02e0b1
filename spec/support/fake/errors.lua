-- API errors of the fake: codes, HTTP statuses and descriptions, and the error object
-- handlers raise. Source: api-docs/platform-api/user-api/backend-api/errors.md (the table
-- "Error Codes": HTTP 400 unless listed), shared by the Admin Panel API
-- (api-docs/platform-api/panel-api/getting-started.md, "Errors").
local M = {}

M.STATUS = {
  [1] = 500, [2] = 403, [6] = 500, [8] = 503, [9] = 412, [11] = 403, [13] = 403, [14] = 503,
  [15] = 429, [101] = 403, [204] = 404, [208] = 403, [219] = 403, [221] = 403, [225] = 403,
  [229] = 404, [231] = 409, [236] = 402, [238] = 403, [239] = 404, [240] = 403, [247] = 409,
  [249] = 403, [250] = 403, [251] = 403, [254] = 500, [257] = 403, [258] = 404, [261] = 403,
  [264] = 403, [265] = 403, [266] = 403, [268] = 402, [271] = 413, [275] = 403, [276] = 403,
  [277] = 409, [278] = 409 }

-- The table's descriptions word for word, and two codes that only their action's page
-- lists: 104 (commons/user/index.md, "auth") and 282 (commons/user/auth/code.md).
M.DESCR = {
  [1] = "Database error", [2] = "Service Auth error", [3] = "Wrong hash",
  [4] = "User or API key not found or session ended", [5] = "Wrong request format",
  [6] = "Unexpected error", [7] = "Invalid parameters",
  [8] = "Queue service error, try again later", [9] = "Too large request", [11] = "Access denied",
  [12] = "Dealer not found", [13] = "Operation not permitted", [14] = "Database unavailable",
  [15] = "Too many requests (rate limit exceeded)",
  [101] = "In demo mode this function is disabled", [102] = "Wrong login or password",
  [103] = "User not activated", [111] = "Wrong handler", [112] = "Wrong method",
  [201] = "Not found in database", [202] = "Too many points in zone",
  [203] = "Delete entity associated with", [204] = "Entity not found",
  [206] = "Login already in use", [207] = "Invalid captcha", [208] = "Device blocked",
  [209] = "Failed sending email", [210] = "Geocoding failed",
  [211] = "Requested time span is too big", [212] = "Requested limit is too big",
  [213] = "Cannot perform action: the device is offline",
  [214] = "Requested operation or parameters are not supported by the device",
  [215] = "External service error", [217] = "List contains nonexistent entities",
  [218] = "Malformed external service parameters", [219] = "Not allowed for clones of the device",
  [220] = "Unknown device model", [221] = "Device limit exceeded", [222] = "Plugin not found",
  [223] = "Phone number already in use", [224] = "Device ID already in use",
  [225] = "Not allowed for this legal type", [226] = "Wrong ICCID",
  [227] = "Wrong activation code", [228] = "Not supported by sensor",
  [229] = "Requested data is not ready yet", [230] = "Not supported for this entity type",
  [231] = "Entity type mismatch", [232] = "Input already in use", [233] = "No data file",
  [234] = "Invalid data format", [235] = "Missing calibration data",
  [236] = "Feature unavailable due to tariff restrictions", [237] = "Invalid tariff",
  [238] = "Changing tariff is not allowed", [239] = "New tariff does not exist",
  [240] = "Not allowed to change tariff too frequently",
  [241] = "Cannot change phone to bundled sim. Contact tech support.",
  [242] = "There were errors during content validation", [243] = "Device already connected.",
  [244] = "Duplicate entity label.", [245] = "New password must be different",
  [246] = "Invalid user ID", [247] = "Entity already exists", [248] = "Wrong password",
  [249] = "Operation available for clones only", [250] = "Not allowed for deleted devices",
  [251] = "Insufficient funds", [252] = "Device already corrupted", [253] = "Device has clones",
  [254] = "Cannot save file", [255] = "Invalid task state", [256] = "Location already actual",
  [257] = "Registration forbidden", [258] = "Bundle not found",
  [259] = "Payments count not comply with summary", [260] = "Payments sum not comply with summary",
  [261] = "Entity has external links",
  [262] = "Entries list is missing some entries or contains nonexistent entries",
  [263] = "No change needed, old and new values are the same", [264] = "Timeout not reached",
  [265] = "Already done", [266] = "Cannot perform action for the device in current status",
  [267] = "Too many entities", [268] = "Over quota", [269] = "Invalid file state",
  [270] = "Too many sensors of same type already exist", [271] = "File over max size",
  [272] = "Trackers must have same models", [273] = "Duplicate login", [274] = "Empty data file",
  [275] = "User is blocked", [276] = "Action is forbidden for received session type",
  [277] = "Security group has users in it", [278] = "Security group is a default one",
  [279] = "Invalid task period", [280] = "Invalid import request state",
  [281] = "This resource is closed", [284] = "Not enough points for the specified zone type",
  [104] = "Logins limit exceeded, please reuse existing sessions instead",
  [282] = "Wrong authentication code",
}

local ApiError = {}

-- The error answer for `code`: extra top-level fields in `extra` (`description` there
-- replaces the documented one), HTTP status `status` or the documented one.
function M.apierr(code, extra, status)
  local body = extra or {}
  body.success = false
  body.status = { code = code, description = body.description or M.DESCR[code] or "Error" }
  body.description = nil
  return setmetatable({ body = body, http = status or M.STATUS[code] or 400 }, ApiError)
end

function M.is_apierr(v) return getmetatable(v) == ApiError end

-- Raises error `code` (handlers call this; api() turns it into the answer).
function M.raise(code, extra, status) error(M.apierr(code, extra, status), 0) end

-- Raises code 7 with the documented errors[] list (errors.md, "Invalid parameters").
function M.invalid(param, msg)
  M.raise(7, { errors = { { parameter = param, error = msg or "Wrong parameter value" } } })
end

return M

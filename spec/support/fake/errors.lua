-- API errors of the fake: codes, HTTP statuses and descriptions, and the error object
-- handlers raise. Source: api-docs/platform-api/user-api/backend-api/errors.md (the table
-- "Error Codes": HTTP 400 unless listed), shared by the Admin Panel API
-- (api-docs/platform-api/panel-api/getting-started.md, "Errors").
local M = {}

M.STATUS = { [1] = 500, [2] = 403, [6] = 500, [8] = 503, [9] = 412, [11] = 403, [13] = 403,
  [14] = 503, [15] = 429, [101] = 403, [204] = 404, [208] = 403, [219] = 403, [221] = 403,
  [229] = 404, [236] = 402, [247] = 409, [254] = 500, [264] = 403, [265] = 403, [268] = 402,
  [271] = 413, [275] = 403, [276] = 403 }

M.DESCR = {
  [1] = "Database error", [2] = "Service auth error", [3] = "Wrong hash",
  [4] = "User or API key not found or session ended", [5] = "Wrong request format",
  [6] = "Unexpected error", [7] = "Invalid parameters",
  [8] = "Queue service error, try again later", [9] = "Too large request",
  [11] = "Access denied", [12] = "Dealer not found", [13] = "Operation not permitted",
  [14] = "Database unavailable", [15] = "Too many requests (rate limit exceeded)",
  [101] = "In demo mode this function is disabled", [102] = "Wrong login or password",
  [103] = "User not activated", [104] = "Logins limit exceeded, please reuse existing sessions instead",
  [112] = "Wrong method",
  [201] = "Not found in the database", [204] = "Entity not found", [208] = "Device blocked",
  [211] = "Requested time span is too big", [212] = "Requested limit is too big",
  [217] = "List contains nonexistent entities", [222] = "Plugin not found",
  [229] = "Requested data is not ready yet", [233] = "No data file", [234] = "Invalid data format",
  [236] = "Feature unavailable due to tariff restrictions", [264] = "Timeout not reached",
  [268] = "Over quota", [271] = "File over max size",
  [276] = "Action forbidden for this session type", [282] = "Wrong confirmation code",
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

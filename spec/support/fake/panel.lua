-- The Admin Panel API, under <base>/panel/ (api-docs/platform-api/panel-api/: the OpenAPI
-- reference/Admin_Panel.json, authentication.md, resources/*.md). A panel session comes
-- from panel/account/auth {login = numeric panel ID, password}, lives 24 hours and is not
-- renewable; it works on panel/ actions only, and user sessions and API keys do not work
-- there (navixy.lua refuses the crossing with code 4, the code of an unknown hash: the
-- docs say only that the two "cannot be used" across). Each action checks the
-- permissions its resource page lists (13 "Operation not permitted" without them).
local answers = require "fake.answers"
local data = require "fake.data"
local dates = require "fake.dates"
local documents = require "fake.documents"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"
local uploads = require "fake.uploads"

local raise, invalid = errors.raise, errors.invalid
local int, str = params.int, params.str
local null = require("cjson.safe").null

local H = {}

-- resources/account.md: 11 for a blocked dealer, 12 for a dealer not found. A wrong
-- password is not listed: the common 102 "Wrong login or password" answers it.
H["panel/account/auth"] = { public = true, fn = function(p)
  local login = p.login ~= nil and tostring(p.login) or nil
  local password = str(p.password)
  if not login or login == "" or not password then
    local list = {}
    if not login or login == "" then list[#list + 1] = { parameter = "login", error = "Required parameter" } end
    if not password then list[#list + 1] = { parameter = "password", error = "Required parameter" } end
    raise(7, { errors = list })
  end
  local panel = data.PANELS[login] or raise(12)
  if panel.password ~= password then raise(102) end
  if panel.blocked then raise(11) end
  return { hash = store.panel_session_new(panel), permissions = panel.permissions }
end }

H["panel/account/get_permissions"] = { fn = function(_, ctx)
  return { permissions = data.PANELS[ctx.auth.panel].permissions }
end }

-- Admin_Panel.json, accountLogout: the hash ends at once; a second logout is code 4.
H["panel/account/logout"] = { fn = function(_, ctx)
  store.panel_session_end(ctx.auth.hash)
  return {}
end }

-- resources/timezone.md: no authentication; `locale` is required (checked before).
H["panel/timezone/list"] = { public = true, fn = function()
  local names = {}
  for name in pairs(dates.ZONES) do if name ~= "UTC" then names[#names + 1] = name end end
  table.sort(names)
  local COUNTRY = { ["America/New_York"] = "US", ["Asia/Dubai"] = "AE", ["Asia/Kathmandu"] = "NP",
                    ["Asia/Kolkata"] = "IN", ["Europe/Berlin"] = "DE", ["Europe/London"] = "GB" }
  local list = {}
  for i, name in ipairs(names) do
    local z = dates.ZONES[name]
    list[i] = { zone_id = name, description = name:match("/(.*)$"):gsub("_", " "), base_offset = z.std / 3600,
                dst_offset = z.rule and 1 or 0, country_code = COUNTRY[name] }
  end
  return { list = list }
end }

-- resources/dealer/README.md, dealer/get_info: the Dealer fields at the top level.
H["panel/dealer/get_info"] = { permissions = { { "base", "get_dealer_info" } }, fn = function(_, ctx)
  return { id = ctx.auth.dealer, seller_id = 3, contract_type = "PAAS", tariff_id = 5, demo_tariff = false,
    store_period = "P6M", title = data.PANELS[tostring(ctx.auth.dealer)].title, block_status = "NOT_BLOCKED",
    legal_name = "Navixy Demo", active_amount = #data.TRACKERS, active_amount_own = #data.TRACKERS,
    active_amount_subpaas = 0, active_limit = 100, locale = "en_US", domain = "demo.navixy.com",
    subpaas = false, allow_branding = true, license_balance = 0, seller_currency = "EUR",
    features = { "branding_web" }, default_user_time_zone = "Europe/London" }
end }

---------------------------------------------------------------- users

-- The User schema: the flat form, every legal field present, empty where it does not apply.
local function user_json(u)
  local count = u.id == 1 and #data.TRACKERS or 0
  return { id = u.id, dealer_id = u.dealer_id, login = u.login, activated = true, verified = true,
    phone_verified = false, legal_type = "individual", first_name = u.first_name, middle_name = "",
    last_name = u.last_name, phone = "", post_country = "", post_index = "", post_region = "", post_city = "",
    post_street_address = "", registered_country = "", registered_index = "", registered_region = "",
    registered_city = "", registered_street_address = "", legal_name = "", tin = "", iec = "",
    state_reg_num = "", okpo_code = "", balance = 0, bonus = 0, trackers_count = count, menu_preset_id = null,
    mfa_allowed = u.factor ~= nil, creation_date = "2023-01-15 10:00:00", comment = "" }
end

-- The dealer's users matching `filter` (in login or names).
local function users_of(ctx, filter)
  local list = {}
  for _, u in ipairs(data.USERS) do
    local text = (u.login .. " " .. u.first_name .. " " .. u.last_name):lower()
    if u.dealer_id == ctx.auth.dealer and (not filter or text:find(filter:lower(), 1, true)) then
      list[#list + 1] = u
    end
  end
  return list
end

-- A user of the current dealer, or 201 ("does not exist, is a sub-user, or belongs to
-- another dealer", resources/user/README.md).
local function dealer_user(p, ctx)
  local id = params.need_int(p, "user_id")
  local u = data.user_by_id(id)
  if not u or u.dealer_id ~= ctx.auth.dealer then raise(201) end
  return u
end

-- offset and limit are documented integers >= 0, checked before (fake/params.lua).
local function page(list, p)
  local offset = p.offset == nil and 0 or int(p.offset)
  local limit = p.limit == nil and #list or int(p.limit)
  local out = {}
  for i = offset + 1, math.min(#list, offset + limit) do out[#out + 1] = list[i] end
  return store.array(out)
end

H["panel/user/list"] = { permissions = { { "users", "read" } }, fn = function(p, ctx)
  local list = {}
  for i, u in ipairs(users_of(ctx, str(p.filter))) do list[i] = user_json(u) end
  if p.ascending ~= nil and not params.bool(p.ascending) then
    local n = #list
    for i = 1, math.floor(n / 2) do list[i], list[n + 1 - i] = list[n + 1 - i], list[i] end
  end
  return { list = page(list, p), count = #list }
end }

H["panel/user/read"] = { permissions = { { "users", "read" } }, fn = function(p, ctx)
  return { value = user_json(dealer_user(p, ctx)), discount = null, default_tariff_id = 5,
           block_parameters = null, dealer_mfa_settings = null }
end }

-- userSessionCreate: a user-API session for the user, as if the user had logged in (no
-- second factor: the dealer acts on the user's behalf).
H["panel/user/session/create"] = { permissions = { { "users", "read" }, { "user_sessions", "create" } },
  fn = function(p, ctx)
    return { hash = store.session_new(dealer_user(p, ctx).id) }
  end }

-- userExport: "a successful response is a file download rather than a JSON body",
-- text/csv or the XLSX type. The CSV uses ";" between columns, as user/upload takes it.
local EXPORT_COLUMNS = { "id", "login", "first_name", "middle_name", "last_name", "phone" }

H["panel/user/export"] = { permissions = { { "users", "read" } }, fn = function(p, ctx)
  -- format (csv or xlsx) and columns (an array, not empty): the OpenAPI's, checked before
  local format = p.format == nil and "xlsx" or p.format
  local columns = p.columns == nil and EXPORT_COLUMNS or p.columns
  local rows = { columns }
  for _, u in ipairs(users_of(ctx, str(p.filter))) do
    local j, row = user_json(u), {}
    for i, c in ipairs(columns) do
      local v = j[c]
      if v == nil then invalid("columns", "Unknown column " .. tostring(c)) end
      row[i] = v
    end
    rows[#rows + 1] = row
  end
  if format == "csv" then return answers.file(documents.TYPES.csv, documents.csv(rows, ";"), "users.csv") end
  return answers.file(documents.TYPES.xlsx, documents.xlsx(rows), "users.xlsx")
end }

-- userUpload: multipart, the spreadsheet in the part "file" (CSV with ";"); answers how
-- many rows it processed (at most 10000) and how many failed: a row fails when one of
-- the six always-required columns (the first six) is empty.
H["panel/user/upload"] = { permissions = { { "users", "create" } }, fn = function(p, ctx)
  local f = uploads.need_file(ctx)
  local lines = {}
  for line in (f.data:gsub("\r\n", "\n") .. "\n"):gmatch("(.-)\n") do
    if line:match("%S") then lines[#lines + 1] = line end
  end
  if not lines[1] or not lines[1]:find(";", 1, true) then raise(234) end
  local total, failed = 0, 0
  for i = 2, math.min(#lines, 10001) do
    total = total + 1
    local cells = {}
    for cell in (lines[i] .. ";"):gmatch("(.-);") do cells[#cells + 1] = cell end
    for c = 1, 6 do
      if not cells[c] or not cells[c]:match("%S") then failed = failed + 1; break end
    end
  end
  return uploads.result(p, { total = total, errors = failed })
end }

---------------------------------------------------------------- branding images

-- resources/dealer/settings/image.md: `type` must be a form part (in the query it is
-- 234), the image in the part "file" (233 without it, 234 for another type); app_logo
-- needs the branding_mobile feature this dealer lacks (236).
-- The slot names are the OpenAPI's enum, checked before (fake/params.lua).
H["panel/dealer/settings/image/upload"] = { permissions = { { "service_settings", "update" } },
  fn = function(p, ctx)
    if ctx.query.type ~= nil or not ctx.fields or ctx.fields.type == nil then raise(234) end
    local slot = ctx.fields.type
    if slot == "app_logo" then raise(236) end
    local f = uploads.need_file(ctx)
    local mime = (f.content_type or ""):match("^%s*([^;%s]+)") or ""
    if not uploads.IMAGE_TYPES[mime:lower()] and mime:lower() ~= "image/x-icon" then raise(234) end
    return uploads.result(p, {})
  end }

---------------------------------------------------------------- trackers

-- The Tracker schema, for the fixed trackers of the demo user.
local function tracker_json(t)
  return { id = t.id, label = t.label, group_id = 0, user_id = 1, dealer_id = 20410, owner_name = "Demo User",
    source = { id = 10000 + t.id, device_id = "35000000000000" .. t.id, model = t.model, blocked = t.blocked,
               phone = t.phone, tariff_id = 5, tariff_end_date = "2030-01-01", connection_status = "active",
               creation_date = "2023-01-15" },
    model_name = t.model, clone = false, deleted = false, creation_date = "2023-01-15",
    last_connection = "2024-05-01 12:00:05" }
end

H["panel/tracker/list"] = { permissions = { { "trackers", "read" } }, fn = function(p, ctx)
  local list = {}
  if ctx.auth.dealer == 20410 and (p.user_id == nil or int(p.user_id) == 1) then
    local filter = str(p.filter)
    for _, t in ipairs(data.TRACKERS) do
      if not filter or t.label:lower():find(filter:lower(), 1, true) then list[#list + 1] = tracker_json(t) end
    end
  end
  return { list = page(list, p), count = #list }
end }

H["panel/tracker/read"] = { permissions = { { "trackers", "read" } }, fn = function(p)
  local id = params.need_int(p, "tracker_id")
  local t = data.TRACKERS[id] or raise(201)
  return { value = tracker_json(t) }
end }

return { handlers = H }

-- The user's account: logging in (with two-factor authentication), logging out, user
-- info, API keys, and the dealer's UI configuration with the platform's limits.
local data = require "fake.data"
local dates = require "fake.dates"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local raise, invalid = errors.raise, errors.invalid
local str = params.str

local MAX_KEYS = 20 -- keys a user may create (the fixed key does not count)

local H = {}

-- api-docs/platform-api/user-api/backend-api/resources/commons/user/index.md, "auth".
-- The answer carries the older `user` object too (NAVIXY.md: accept both shapes).
H["user/auth"] = { public = true, fn = function(p)
  local login, password = str(p.login), str(p.password)
  if not login or not password then
    local list = {}
    if not login then list[#list + 1] = { parameter = "login", error = "Required parameter" } end
    if not password then list[#list + 1] = { parameter = "password", error = "Required parameter" } end
    raise(7, { errors = list })
  end
  local u = data.user_by_login(login)
  if not u or u.password ~= password then raise(102) end
  -- "If specified, API will check that user belongs to this dealer, and if not, error 102"
  if p.dealer_id ~= nil and params.int(p.dealer_id) ~= u.dealer_id then raise(102) end
  if u.factor then
    return { type = "second_factor_required", factor_type = u.factor, hash = store.session_new(u.id, true) }
  end
  return { type = "authenticated", hash = store.session_new(u.id),
           user = { id = u.id, login = u.login, name = u.name } }
end }

-- commons/user/auth/code.md, "verify": the interim hash becomes a session (282 on a wrong code).
H["user/auth/code/verify"] = { interim = true, fn = function(p, ctx)
  local code = p.code
  if code == nil or code == "" then invalid("code", "Required parameter") end
  if tostring(code) ~= data.CODE then raise(282) end
  store.session_end(ctx.auth.hash)
  return { hash = store.session_new(ctx.auth.uid) }
end }

-- commons/user/auth/code.md, "resend": "a special rate-limit in 5 minutes". Within it the
-- answer is 264 with timeout/remainder, as user/index.md shows for resend_activation (the
-- same limit on the same kind of e-mail). The clock is the user's: a new login does not
-- reset it; POST /_fake/resend_reset does, and the resend_timeout setting sets its length.
H["user/auth/code/resend"] = { interim = true, fn = function(_, ctx)
  local key = "resend:" .. ctx.auth.uid
  local timeout = tonumber(ctx.settings.resend_timeout) or 300
  ngx.update_time()
  local now, last = ngx.now(), store.dict:get(key)
  if last and now - last < timeout then
    raise(264, { timeout = dates.format_duration(timeout), remainder = dates.format_duration(timeout - (now - last)) })
  end
  store.dict:set(key, now, timeout)
  return {}
end }

H["user/logout"] = { fn = function(_, ctx)
  if ctx.auth.kind ~= "session" then raise(276) end
  store.session_end(ctx.auth.hash)
  return {}
end }

-- commons/user/index.md, "get_info" (the README shows this answer whole: keep it as it is);
-- time_zone is the one plain dates are read and written in.
H["user/get_info"] = { fn = function(_, ctx)
  local u = data.user_by_id(ctx.auth.uid)
  return {
    user_info = { id = u.id, login = u.login, title = u.name, locale = "en", time_zone = ctx.tz },
    features = { "api", "tracking", "history", "geocoding" },
  }
end }

-- commons/user/session/index.md, "renew": "Works only with standard user session (not
-- with API key)"; the page names no error for a key: 276 ("Action forbidden for this
-- session type") as user/logout answers. Sessions here never expire, so it only answers.
H["user/session/renew"] = { fn = function(_, ctx)
  if ctx.auth.kind ~= "session" then raise(276) end
  store.count("renewals")
  return {}
end }

---------------------------------------------------------------- API keys

-- Listing, creating and deleting keys is "available only to the master user and only with
-- a standard session obtained using a login/password": with an API key it is error 4
-- (commons/api-keys.md). `master` marks them: navixy.lua refuses other hashes.
local function key_json(k) return { hash = k.hash, title = k.title, create_date = k.create_date } end

H["api/key/create"] = { master = true, fn = function(p, ctx)
  local title = str(p.title) or invalid("title", "Required parameter")
  if #store.keys_of(ctx.auth.uid) >= MAX_KEYS then raise(268) end
  local rec = { hash = store.new_hash(), title = title, create_date = dates.write(ngx.time(), ctx.tz, ctx.iso),
                uid = ctx.auth.uid }
  store.key_add(rec)
  return { value = key_json(rec) }
end }

H["api/key/list"] = { master = true, fn = function(_, ctx)
  local list = {}
  if ctx.auth.uid == 1 then -- the fixed key is listed first for its owner
    list[1] = { hash = data.API_KEY, title = "fixed test key", create_date = "2024-01-01 00:00:00" }
  end
  for _, k in ipairs(store.keys_of(ctx.auth.uid)) do list[#list + 1] = key_json(k) end
  return { list = store.array(list) }
end }

H["api/key/delete"] = { master = true, fn = function(p, ctx)
  local key = str(p.key) or invalid("key", "Required parameter")
  -- the fixed key stays valid whatever the tests do; deleting it is refused
  if key == data.API_KEY then raise(13) end
  local rec = store.key_get(key)
  if not rec or rec.uid ~= ctx.auth.uid then raise(201) end
  store.key_delete(key)
  return {}
end }

---------------------------------------------------------------- dealer/get_ui_config

-- api-docs/platform-api/user-api/backend-api/resources/commons/dealer.md, "get_ui_config":
-- no authentication; `hash` (of a session or key) or `domain` names the dealer (12 for
-- another domain, 7 with neither). `platform` holds the limits under their documented
-- dotted names ("history.max_limit", "report.max_time_span", ...), from the settings.
local DOMAIN = "demo.navixy.com"

H["dealer/get_ui_config"] = { public = true, fn = function(p, ctx)
  if ctx.hash then
    if not ctx.auth or ctx.auth.kind == "panel" then raise(4) end
  elseif str(p.domain) then
    if p.domain ~= DOMAIN then raise(12) end
  else
    invalid("domain", "domain or hash is required")
  end
  return {
    dealer = { id = 20410, ui_domain = DOMAIN, company_url = "navixy.com" },
    settings = {
      domain = DOMAIN, service_title = "Navixy Demo", locale = "en_US", demo_login = "", demo_password = "",
      maps = { "roadmap", "osm" },
      default_map = { type = "roadmap", location = { lat = 52.52, lng = 13.405 }, zoom = 10 },
      currency = "EUR", promo_url = "https://navixy.com/", favicon = "paas/20410/custom.ico",
      logo = "paas/20410/logo.png", login_footer = "All rights reserved.", allow_registration = false,
      show_mobile_apps = true, show_call_notifications = true,
      default_user_settings = { geocoder = "google", route_provider = "osrm", measurement_system = "metric",
                                translit = false },
      display_model_features_link = true, color_theme = "", app_color_theme = "",
      tracker_model_filter = { exclusion = true, values = store.EMPTY_ARRAY },
      no_register_commands = false,
    },
    premium_gis = false,
    features = { "branding_web" },
    platform = ctx.settings.platform,
  }
end }

return { handlers = H }

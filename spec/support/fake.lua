-- Spec helper for the fake Navixy server (spec/support/fake-navixy, spec/support/fake/*).
-- Talks to the server with LuaSocket + lua-cjson only, never with our own client, so a
-- bug in the client cannot hide in its own tests. Works on Lua 5.1/LuaJIT through 5.4.
--
--   local fake = require "fake"      -- with spec/support/?.lua on package.path
--   fake.ensure()                    -- start the server unless it already answers
--   fake.reset()                     -- before each test
--   client = navixy.new{ url = fake.url, hash = fake.api_key }
--   fake.fault{ action = "tracker/list", type = "status", status = 502, body = "<html>" }
--   assert.equal("header", fake.last_request().hash_from)
--   fake.settings{ platform = { ["history.max_limit"] = 10 } }   -- reset() undoes it
--   fake.rate_limit(50); ...; fake.rate_stats().accounts["user:1"].max_in_window
--   panel = navixy.new{ url = fake.url, panel = true, login = fake.panels.main.login, ... }
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local fake = {}

local function env_num(name, default) return tonumber(os.getenv(name)) or default end

-- The repository root, from this file's own path (spec/support/fake.lua).
local function repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/support/fake%.lua$") or "."
  if dir:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD")
    if not pwd then local p = io.popen("pwd"); pwd = p:read("*l"); p:close() end
    dir = dir == "." and pwd or pwd .. "/" .. dir
  end
  return dir
end

fake.root = repo_root()
fake.script = fake.root .. "/spec/support/fake-navixy"
fake.port = env_num("NAVIXY_FAKE_PORT", 18080)
-- as spec/support/fake-navixy derives them: with only the HTTP port set, HTTPS is the next
fake.tls_port = env_num("NAVIXY_FAKE_TLS_PORT", os.getenv("NAVIXY_FAKE_PORT") and fake.port + 1 or 18443)
fake.rundir = os.getenv("NAVIXY_FAKE_RUNDIR") or fake.root .. "/build/fake"
fake.ca_file = fake.rundir .. "/ca.pem"
fake.base = ("http://127.0.0.1:%d"):format(fake.port)      -- control API lives here
fake.url = fake.base .. "/v2"
fake.dwh_url = fake.base .. "/dwh/v1"  -- the data warehouse API (tracker/raw_data/*)
fake.tls_url = ("https://127.0.0.1:%d/v2"):format(fake.tls_port)
-- the same API behind a certificate from the same CA, for the name other.example
fake.other_tls_port = env_num("NAVIXY_FAKE_OTHER_TLS_PORT", fake.tls_port + 1)
fake.other_name_url = ("https://127.0.0.1:%d/v2"):format(fake.other_tls_port)
-- the presigned upload endpoint (fake/presigned.lua): "another host" the create actions name
fake.upload_port = env_num("NAVIXY_FAKE_UPLOAD_PORT", fake.port + 3)

-- The demo user's API key: always valid, survives expire() and reset(); api/key/delete
-- refuses it (error 13). It is listed first by api/key/list.
fake.api_key = "a6aa75587e5c59c32d347da438505fc3"
fake.users = {
  demo = { id = 1, login = "demo@example.com", password = "demo-pass", name = "Demo User" },
  twofa = { id = 2, login = "2fa@example.com", password = "2fa-pass", name = "2FA User",
            factor_type = "email", code = "123456" },
}
fake.users["2fa"] = fake.users.twofa

-- Admin Panel accounts (panel/account/auth takes the numeric panel ID as `login`).
-- main: every permission; technical: no user_sessions (panel/user/session/create is 13);
-- blocked: auth answers 11. Users 1 and 2 belong to the dealer 20410 of main and technical.
fake.panels = {
  main = { id = 20410, login = "20410", password = "panel-pass" },
  technical = { id = 20412, login = "20412", password = "tech-pass" },
  blocked = { id = 20413, login = "20413", password = "blocked-pass" },
}

-- One raw HTTP request. Returns status (number or nil), body (string), headers (lowercased
-- names) — or nil, err when no answer came.
function fake.http(method, url, body, headers)
  local chunks = {}
  headers = headers or {}
  if body then headers["content-length"] = tostring(#body) end
  http.TIMEOUT = 30
  local ok, status, resp_headers = http.request{
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  if not ok then return nil, status end
  return status, table.concat(chunks), resp_headers
end

-- A control API call: JSON in, decoded JSON out; raises when the server does not answer 200.
local function control(method, path, params)
  local body = params and cjson.encode(params) or nil
  local status, text = fake.http(method, fake.base .. "/_fake/" .. path, body,
    body and { ["content-type"] = "application/json" } or nil)
  if status ~= 200 then
    error(("fake: %s /_fake/%s: %s %s"):format(method, path, tostring(status), tostring(text)), 2)
  end
  return cjson.decode(text)
end

-- Whether the server answers now.
function fake.alive()
  local status = fake.http("GET", fake.base .. "/_fake/ping")
  return status == 200
end

-- Starts the server (through the script) unless it answers already. Idempotent.
function fake.ensure()
  if fake.alive() then return true end
  local cmd = ("%q start %q"):format(fake.script, fake.rundir)
  local r = os.execute(cmd) -- 5.1: a number; 5.2+: true/nil, "exit", code
  if not (r == true or r == 0) or not fake.alive() then
    error("fake: could not start the fake Navixy server with " .. cmd, 2)
  end
  return true
end

-- Clears recorded requests, counters, faults, sessions and created API keys.
function fake.reset() return control("POST", "reset") end

-- All session hashes (not API keys) become invalid: the next call gets error 4.
function fake.expire_sessions() return control("POST", "expire") end

-- The recorded API requests, oldest first (at most the last 1000). Each is
-- { method, uri, path, action, query, headers (lowercased names), body (raw string),
--   params (decoded), hash, hash_from ("header"|"query"|"body"|nil), content_type, time,
--   connection (nginx's serial number of the TCP connection), connection_requests, scheme }.
function fake.requests() return control("GET", "requests") end

function fake.last_request() return control("GET", "requests?last=1")[1] end

-- The recorded requests of `action`, oldest first.
function fake.requests_of(action)
  local list = {}
  for _, req in ipairs(fake.requests()) do
    if req.action == action then list[#list + 1] = req end
  end
  return list
end

-- { logins (user/auth requests), panel_logins (panel/account/auth requests), rate_limited
--   (429s of the rate limit), requests, by_action = { [action] = n }, max_in_flight, in_flight }
function fake.stats() return control("GET", "stats") end

-- How many requests of `action` the server got (fake.stats().by_action).
function fake.sent(action) return fake.stats().by_action[action] or 0 end

-- Every Admin Panel session ends (as after 24 hours): the next panel call gets code 4.
function fake.expire_panel_sessions() return control("POST", "expire_panel") end

-- Changes settings until the next reset; returns them all. Keys: time_zone (of every
-- fixed user; one of fake/dates.lua's ZONES), history_bounds ("[)" or "[]"), resend_timeout
-- (seconds), store_period (ISO 8601 duration: older track/download is beyond storage),
-- platform = { ["history.max_limit"] = 10, ["report.max_time_span"] = "P30D",
-- ["file_storage.hard_max_file_size"] = bytes, ... } (dealer/get_ui_config's fields).
function fake.settings(changes) return control("POST", "settings", changes or {}) end

-- A server window for specs that send at the clients' full rate on a busy machine: the
-- clients keep R sends per 1.05 s, the server sees arrivals, each a varying time after its
-- send, and on a loaded machine (two suites side by side) that varies by more than the
-- clients' 50 ms margin. A window a quarter shorter absorbs it, and still refuses hundreds
-- where a limit is not kept at all (or kept per worker).
fake.LOADED_WINDOW = 0.75

-- The rate limit: fake.rate_limit(50) on, fake.rate_limit(false) off; { log = true }
-- logs arrivals with the limit off; { window = 0.8 } counts N per 0.8 s instead of per
-- second. Returns fake.rate_stats().
function fake.rate_limit(limit, opts)
  return control("POST", "rate_limit", { limit = limit or false, log = opts and opts.log or false,
    window = opts and opts.window or nil })
end

-- { enabled, limit, log, accounts = { ["user:1"|"key:fixed"|"key:<n>"|"panel:<id>"] = { requests,
--   refused, max_in_window, max_admitted_in_window, per_second = { ["<unix second>"] = n },
--   times = { arrival times } } } }
function fake.rate_stats() return control("GET", "rate_limit") end

-- history/tracker/list answers exactly these events from now on (until reset):
-- { { tracker_id = 1, time = "2024-05-02T00:00:00+02:00", event = "speedup", id = 7 }, ... }.
function fake.place_events(events) return control("POST", "events", { events = events }) end

-- The next user/auth/code/resend is allowed, whenever the last one was.
function fake.reset_resend() return control("POST", "resend_reset") end

-- The bytes of a "file" fault's body (fake.fault{ type = "file", bytes = N, ... }), from
-- `offset` (0-based), `n` of them: byte i is PATTERN's (i % #PATTERN + 1)-th.
fake.FILE_PATTERN = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
function fake.file_bytes(offset, n)
  local P = fake.FILE_PATTERN
  local phase = offset % #P
  local reps = math.ceil((phase + n) / #P)
  return P:rep(reps):sub(phase + 1, phase + n)
end

-- A raw POST of `params` as JSON to `action`, the hash (if any) in the Authorization
-- header, `headers` added. Returns status, body (undecoded), headers.
function fake.post(action, params, hash, headers)
  local h = { ["content-type"] = "application/json" }
  if hash then h.authorization = "NVX " .. hash end
  for k, v in pairs(headers or {}) do h[k] = v end
  return fake.http("POST", fake.url .. "/" .. action, cjson.encode(params or {}), h)
end

-- A raw API call (for setup and for the fake's own spec): POST JSON, the hash (if any) in
-- the Authorization header. Returns the HTTP status and the decoded body (or the raw text
-- when it is not JSON), and the response headers.
function fake.call(action, params, hash)
  local status, text, h = fake.post(action, params, hash)
  if not status then return nil, text end
  local ok, decoded = pcall(cjson.decode, text)
  return status, ok and decoded or text, h
end

-- A raw GET: params (strings, or tables sent as JSON text) in the query string, the hash
-- (if any) in the Authorization header. Returns like fake.call. url defaults to fake.url.
function fake.get(action, params, hash, url)
  local q = {}
  for k, v in pairs(params or {}) do
    if type(v) == "table" then v = cjson.encode(v) end
    q[#q + 1] = k .. "=" .. tostring(v):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)
  end
  table.sort(q)
  local headers = hash and { authorization = "NVX " .. hash } or nil
  local target = (url or fake.url) .. "/" .. action .. (#q > 0 and "?" .. table.concat(q, "&") or "")
  local status, text, h = fake.http("GET", target, nil, headers)
  if not status then return nil, text end
  local ok, decoded = pcall(cjson.decode, text)
  return status, ok and decoded or text, h
end

-- A multipart/form-data body of `parts` (each { name, data, filename?, content_type?,
-- disposition? (the whole Content-Disposition value instead) }) and its Content-Type.
function fake.multipart(parts, boundary)
  boundary = boundary or "fake-spec-boundary-7MA4YWxkTrZu0gW"
  local out = {}
  for _, p in ipairs(parts) do
    local cd = p.disposition or ('form-data; name="' .. p.name .. '"'
      .. (p.filename and '; filename="' .. p.filename .. '"' or ""))
    out[#out + 1] = "--" .. boundary .. "\r\nContent-Disposition: " .. cd .. "\r\n"
      .. (p.content_type and "Content-Type: " .. p.content_type .. "\r\n" or "") .. "\r\n" .. p.data .. "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(out), "multipart/form-data; boundary=" .. boundary
end

-- POSTs `parts` as multipart/form-data to `action` (the hash, if any, in the header).
-- Returns like fake.call.
function fake.upload(action, parts, hash, url)
  local body, content_type = fake.multipart(parts)
  local headers = { ["content-type"] = content_type }
  if hash then headers.authorization = "NVX " .. hash end
  local status, text, h = fake.http("POST", (url or fake.url) .. "/" .. action, body, headers)
  if not status then return nil, text end
  local ok, decoded = pcall(cjson.decode, text)
  return status, ok and decoded or text, h
end

---------------------------------------------------------------- the WebSocket API
-- <base>/event/subscription (spec/support/fake/subscription.lua), as Navixy's docs describe
-- it. A connection needs the Atmosphere query (fake.ws_url has it); the first frame is
-- "<uuid>|<heartbeat ms>|X|" (how often the client should send "X", as in Atmosphere), then
-- the server's own "X" every 60 s (Atmosphere's default); subscribe/unsubscribe messages get
-- "response" or "error" (3: malformed hash, 4: unknown or ended; an ended session also
-- sends a "logout" event); subscribing sends the current states at once.
fake.ws_query = "X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=2.3.6-javascript"
  .. "&X-Atmosphere-Transport=websocket&Content-Type=application/json&X-atmo-protocol=true"
fake.ws_path = "/v2/event/subscription"
fake.ws_url = fake.base .. fake.ws_path .. "?" .. fake.ws_query
fake.ws_tls_url = ("https://127.0.0.1:%d"):format(fake.tls_port) .. fake.ws_path .. "?" .. fake.ws_query
fake.ws_heartbeat_ms = 30000    -- what the first frame announces unless ws_config changes it
fake.ws_server_heartbeat_ms = 60000 -- how often the server sends "X" unless ws_config changes it
fake.ws_disallowed_tracker = 4  -- answered "disallowed" (trackers 1, 2: "normal"; 3: "blocked")

-- Sends an event to the subscribers it concerns; returns how many connections it was queued
-- for. spec: { event = "state"|"state_batch"|"readings_batch"|"iot_monitor"|"lifecycle"|
-- "logout", trackers = { ids } (default: each subscription's own), data = (replaces the
-- generated payload), count = n (the same messages n times), lifecycle_event = "block"|...,
-- conn = id (only that connection) }
function fake.ws_emit(spec) return control("POST", "ws_emit", spec).delivered end

-- Makes open connections (all, or spec.conn) misbehave; returns how many. spec.type:
--   "drop"             close the TCP connection without a close frame
--   "stop_heartbeats"  send no more "X"
--   "logout"           send a logout event and forget the subscriptions
--   "fragmented"       send spec.text (default: a state event) in spec.parts (3) fragments,
--                      with a ping after the first when spec.ping
--   "oversized"        send a text message of spec.bytes (2 MiB)
--   "close"            send a close frame (spec.code, spec.reason), wait for the echo, end
--   "raw"              send the bytes spec.hex as they are (bad frames)
function fake.ws_fault(spec) return control("POST", "ws_fault", spec).applied end

-- Settings for connections opened from now on (reset() restores the defaults):
-- { heartbeat_ms = n (announced: the client's interval), server_heartbeat_ms = n (the
--   server's "X"), or "announced" (the server's "X" at the announced interval: the fake's
--   behaviour before it followed Atmosphere) }
function fake.ws_config(spec) return control("POST", "ws_config", spec) end

-- { open (connections open now), handshakes, subscribes, unsubscribes, messages (text
--   frames other than heartbeats), heartbeats_in, pongs_in, closes_in, connections = {
--   { id, open, uid, subs, heartbeats (sent), heartbeats_in (the client's "X" received),
--   client_close = { code, reason }, failure } } }
function fake.ws_stats() return control("GET", "ws_stats") end

-- What clients sent (heartbeats aside), oldest first: { conn, text, time }.
function fake.ws_messages() return control("GET", "ws_messages") end

-- Queues a fault (see spec/support/fake/faults.lua for the types); returns its id.
-- spec: { action = "tracker/list" | "*", times = 1, type = "delay"|"status"|"error"|
--         "drop"|"raw"|"large"|"stall"|"redirect"|"chunked"|"file", ... }
-- "file" (fake/stream.lua): a file answer of `bytes` bytes made while sent, with
-- content_type, filename, length = false (no Content-Length), gzip = true, stall_after.
function fake.fault(spec) return control("POST", "fault", spec).id end

return fake

-- The fake Navixy WebSocket endpoint, <base>/event/subscription, as Navixy's docs describe
-- it (Navixy/navixy-public-docs, api-docs/platform-api/user-api/backend-api/websocket/:
-- README.md the connection and the Atmosphere protocol, subscription.md the actions and
-- answers, events.md the events; the message shapes are in fake/events.lua).
--
-- It runs inside the fake's nginx on the server side of lua-resty-websocket (Debian's
-- lua-nginx-websocket, unpacked into build/deps/ by .ci/deps): one request per connection.
-- After the upgrade a reader light thread takes the client's frames, and the request's own
-- thread is the writer, the only one that sends: answers from the reader, events and
-- faults queued by the control API (from any worker, through the shared dict), heartbeats.
--
-- Shared dict keys (the dict of fake/store.lua, so fake.reset() clears them):
--   ws:conn:<id>     a connection's record (JSON): id, epoch, open, uid, subs, client_close
--   ws:q:<id>        a list of commands for its writer (JSON): events to send, faults
--   ws:open:<epoch>  connections open now;  ws:c:<name>  counters;  ws:cfg  settings (JSON)
--   ws:msg:<n>       what clients sent (JSON), the last 1000; ws:seq, ws:msg_seq counters
-- A connection ends itself when fake.reset() moves the epoch on (close code 1001), so each
-- test starts with none open.
local cjson = require "cjson.safe"
local semaphore = require "ngx.semaphore"
local server = require "nginx.websocket.server"
local proto = require "nginx.websocket.protocol"
local store = require "fake.store"
local faults = require "fake.faults"
local api = require "fake.navixy"
local events = require "fake.events"

local dict = store.dict
local M = {}

-- README.md: the first frame, "b623a15d-9623-4fd8-a9d3-697036635c29|30000|X|", announces a
-- heartbeat of 30000 ms. In Atmosphere (JavaScriptProtocol, HeartbeatInterceptor) that number
-- is how often the CLIENT should send "X" (clientHeartbeatFrequencyInSeconds); the server's
-- own "X" comes every heartbeatFrequencyInSeconds, 60 s by default, whatever it announces
-- (docs/realtime-heartbeats.md). fake.ws_config{ heartbeat_ms =, server_heartbeat_ms = }
-- changes them for new connections; server_heartbeat_ms = "announced" is the fake's old
-- behaviour, its own "X" at the announced interval.
M.HEARTBEAT_MS = 30000
M.SERVER_HEARTBEAT_MS = 60000
-- subscription.md: "disallowed - subscription for this tracker not allowed by the current
-- session". No tracker of the HTTP fake is like that; this id is.
M.DISALLOWED_TRACKER = 4
-- The query atmosphere-javascript sends (README.md); tracking-id and framework may vary.
local ATMOSPHERE = { ["X-Atmosphere-Transport"] = "websocket", ["X-atmo-protocol"] = "true",
                     ["Content-Type"] = "application/json" }
local IOT_MAX = 10           -- subscription.md: iot_monitor, "Maximum 10 trackers"
local TYPES = { state = true, state_batch = true, readings_batch = true, iot_monitor = true }
local POLL = 0.001           -- how often a writer looks at its queue, in seconds
local RECV_MAX = 1024 * 1024 -- the largest frame a client may send
local SEND_MAX = 2 ^ 31 - 1  -- what a writer may send (oversized messages are a fault)
local KEEP_MESSAGES = 1000

local function incr(name, n) dict:incr("ws:c:" .. name, n or 1, 0) end
local function epoch() return dict:get("epoch") or 0 end

local function config()
  return cjson.decode(dict:get("ws:cfg") or "{}") or {}
end

local function uuid() -- version 4, as Atmosphere's
  local b = {}
  for i = 1, 16 do b[i] = math.random(0, 255) end
  b[7] = b[7] % 16 + 0x40
  b[9] = b[9] % 64 + 0x80
  local h = string.format(("%02x"):rep(16), unpack(b))
  return ("%s-%s-%s-%s-%s"):format(h:sub(1, 8), h:sub(9, 12), h:sub(13, 16), h:sub(17, 20), h:sub(21))
end

---------------------------------------------------------------- the connection record

local function record(conn)
  return {
    id = conn.id, seq = conn.seq, epoch = conn.epoch, open = conn.open, uid = conn.uid, subs = conn.subs,
    heartbeats = conn.heartbeats, heartbeats_in = conn.heartbeats_in, client_close = conn.client_close,
    failure = conn.failure,
  }
end

-- A connection of an earlier epoch (fake.reset() since) writes nothing: the next test would
-- see it.
local function save(conn)
  if conn.epoch == epoch() then dict:set("ws:conn:" .. conn.id, store.encode(record(conn))) end
end

local function records()
  local list = {}
  for _, k in ipairs(dict:get_keys(0)) do
    if k:sub(1, 8) == "ws:conn:" then
      local r = cjson.decode(dict:get(k) or "null")
      if r then list[#list + 1] = r end
    end
  end
  table.sort(list, function(a, b) return a.seq < b.seq end)
  return list
end

---------------------------------------------------------------- subscriptions

-- Whether a subscription (of one type) covers a tracker.
local function covers(sub, id)
  local key = tostring(id)
  if sub.excluded and sub.excluded[key] then return false end
  return (sub.all and api.tracker_exists(id)) or (sub.ids and sub.ids[key]) or false
end

-- subscription.md, "Sub response": the status of one tracker.
local function status_of(id, uid)
  if id == M.DISALLOWED_TRACKER then return "disallowed" end
  if uid ~= 1 or not api.tracker_exists(id) then return "unknown" end -- the trackers are user 1's
  return api.tracker_blocked(id) and "blocked" or "normal"
end

-- The user's own trackers: what target "all" answers for.
local function own_trackers()
  local ids = {}
  for _, t in ipairs(api.TRACKERS) do ids[#ids + 1] = t.id end
  return ids
end

local function int_list(v)
  if type(v) ~= "table" then return nil end
  local ids = {}
  for i, x in ipairs(v) do
    if type(x) ~= "number" or x ~= math.floor(x) then return nil end
    ids[i] = x
  end
  return #ids > 0 and ids or nil
end

-- Checks one request of subscription.md ("state": trackers; the batch types and
-- iot_monitor: target {type = "all"|"selected", tracker_ids}); returns
-- { type, all, ids, format } or nil and the parameter at fault.
local function parse_request(r)
  if type(r) ~= "table" or not TYPES[r.type] then return nil, "requests[].type" end
  local req = { type = r.type, format = r.format or "full" }
  if req.format ~= "full" and req.format ~= "compact" then return nil, "requests[].format" end
  -- "a timespan for batching", the docs' example "5s"; ms, m and h taken too
  if r.rate_limit ~= nil and (type(r.rate_limit) ~= "string" or not r.rate_limit:match("^%d+m?s$")
      and not r.rate_limit:match("^%d+[mh]$")) then
    return nil, "requests[].rate_limit"
  end
  if r.type == "state" then
    req.ids = int_list(r.trackers)
    if not req.ids then return nil, "requests[].trackers" end
    return req
  end
  local target = r.target
  if type(target) ~= "table" then return nil, "requests[].target" end
  -- iot_monitor: "Maximum 10 trackers", so only a selection of them
  if target.type == "all" and r.type ~= "iot_monitor" then
    req.all = true
  elseif target.type == "selected" then
    req.ids = int_list(target.tracker_ids)
    if not req.ids then return nil, "requests[].target.tracker_ids" end
    if r.type == "iot_monitor" and #req.ids > IOT_MAX then return nil, "requests[].target.tracker_ids" end
  else
    return nil, "requests[].target.type"
  end
  return req
end

local function answer_values(req, uid)
  local value = {}
  for _, id in ipairs(req.all and own_trackers() or req.ids) do value[tostring(id)] = status_of(id, uid) end
  return value
end

---------------------------------------------------------------- events for a connection

local function sorted_ids(set)
  local ids = {}
  for k in pairs(set) do ids[#ids + 1] = tonumber(k) end
  table.sort(ids)
  return ids
end

-- The trackers a subscription delivers state-like events for, out of `ids` (nil: the
-- subscription's own, or the user's for "all"): covered and not blocked.
local function deliverable(sub, ids)
  local out = {}
  for _, id in ipairs(ids or (sub.all and own_trackers()) or sorted_ids(sub.ids or {})) do
    if covers(sub, id) and not api.tracker_blocked(id) then
      out[#out + 1] = id
    end
  end
  return out
end

-- The messages (JSON texts) one event makes for a connection's subscriptions.
-- spec: { event =, trackers = { ids } | nil, data = override | nil, lifecycle_event = }
local function messages_for(subs, spec)
  local texts, name = {}, spec.event
  local sub = subs[name]
  if name == "lifecycle" then -- subscription.md: state, state_batch and readings_batch add it
    for _, id in ipairs(spec.trackers or { 1 }) do
      for _, t in ipairs{ "state", "state_batch", "readings_batch" } do
        if subs[t] and covers(subs[t], id) then
          texts[#texts + 1] = spec.data and events.event("lifecycle", spec.data)
            or events.lifecycle(id, spec.lifecycle_event)
          break
        end
      end
    end
    return texts
  end
  if not sub then return texts end
  local ids = deliverable(sub, spec.trackers)
  if #ids == 0 then return texts end
  if name == "state" then -- events.md: one message per tracker
    for _, id in ipairs(ids) do
      texts[#texts + 1] = events.event("state", spec.data or events.state(id, sub.format))
    end
  elseif name == "state_batch" then
    local data = {}
    for i, id in ipairs(ids) do data[i] = events.state(id, sub.format) end
    texts[1] = events.event("state_batch", spec.data or data)
  elseif name == "readings_batch" then -- events.md: data is [ {<readings_batch>} ]
    local batch = {}
    for _, id in ipairs(ids) do batch[tostring(id)] = events.readings(id) end
    texts[1] = events.event("readings_batch", spec.data or { batch })
  elseif name == "iot_monitor" then
    local values = {}
    for i, id in ipairs(ids) do values[i] = events.iot_values(id) end
    texts[1] = events.event("iot_monitor", spec.data or { iot_last_values = values })
  end
  return texts
end

---------------------------------------------------------------- sending (the writer only)

local function send(conn, fin, opcode, payload)
  if conn.done then return nil end
  local bytes, err = proto.send_frame(conn.sock, fin, opcode, payload, SEND_MAX, false)
  if not bytes then conn.done = "send failed: " .. tostring(err) end
  return bytes
end

local function send_text(conn, text) return send(conn, true, 0x1, text) end

local function send_close(conn, code, reason)
  local payload = code and string.char(math.floor(code / 256) % 256, code % 256) .. (reason or "") or ""
  conn.close_sent = true
  return send(conn, true, 0x8, payload)
end

-- Waits (at most a second) for the reader to see the client's close, then ends.
local function close_and_wait(conn, code, reason)
  send_close(conn, code, reason)
  local deadline = ngx.now() + 1
  while not conn.reader_done and ngx.now() < deadline do conn.wake:wait(0.01) end
  conn.done = conn.done or "closed by the server"
end

local function fragments(text, parts)
  local out, size = {}, math.max(1, math.ceil(#text / parts))
  for i = 1, #text, size do out[#out + 1] = text:sub(i, i + size - 1) end
  if #out == 0 then out[1] = "" end
  return out
end

-- events.md, "Logout event": sent to a client subscribed to anything (always, for the fault).
local function logout(conn, always)
  local subscribed = next(conn.subs) ~= nil
  conn.subs, conn.hash = {}, nil -- the session is gone, so are its subscriptions
  save(conn) -- before the event: a client that got it finds them gone
  if always or subscribed then send_text(conn, events.logout()) end
end

local function hexbytes(hex)
  return (hex:gsub("%s", ""):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- One command from the queue (see M.emit and M.fault).
local function run(conn, cmd)
  local kind = cmd.kind
  if kind == "texts" then
    for _ = 1, cmd.n or 1 do
      for _, t in ipairs(cmd.texts) do send_text(conn, t) end
    end
  elseif kind == "drop" then
    conn.done = "dropped"
  elseif kind == "stop_heartbeats" then
    conn.heartbeat = false
  elseif kind == "logout" then
    logout(conn, cmd.always)
  elseif kind == "fragmented" then
    local pieces = fragments(cmd.text, cmd.parts or 3)
    for i, piece in ipairs(pieces) do
      send(conn, i == #pieces, i == 1 and 0x1 or 0x0, piece)
      if i == 1 and cmd.ping then send(conn, true, 0x9, "between") end -- RFC 6455 5.4
    end
  elseif kind == "oversized" then
    local pad = math.max(0, (cmd.bytes or 2 * 1024 * 1024) - 64)
    send_text(conn, '{"type":"event","event":"state","data":{"pad":"' .. ("x"):rep(pad) .. '"}}')
  elseif kind == "close" then
    close_and_wait(conn, cmd.code or 1000, cmd.reason)
  elseif kind == "raw" then
    local ok, err = conn.sock:send(hexbytes(cmd.hex or ""))
    if not ok then conn.done = "send failed: " .. tostring(err) end
  end
end

---------------------------------------------------------------- the client's messages

local function keep_message(conn, text)
  local n = dict:incr("ws:msg_seq", 1, 0)
  dict:set("ws:msg:" .. n, store.encode{ conn = conn.id, text = text, time = ngx.now() })
  dict:delete("ws:msg:" .. (n - KEEP_MESSAGES))
end

-- A subscribe or unsubscribe message (subscription.md); returns the answers (JSON texts).
local function handle_message(conn, text)
  if text == "X" then -- an Atmosphere heartbeat
    incr("heartbeats_in")
    conn.heartbeats_in = conn.heartbeats_in + 1
    save(conn)
    return {}
  end
  incr("messages")
  keep_message(conn, text)
  local msg = cjson.decode(text)
  if type(msg) ~= "table" then return { events.error(nil, 5) } end
  local action = msg.action
  if action ~= "subscribe" and action ~= "unsubscribe" then return { events.error(nil, 5) } end
  incr(action .. "s")
  local requests = msg.requests
  if requests == nil and msg.events ~= nil then -- subscription.md: deprecated trackers + events
    requests = {}
    for i, e in ipairs(type(msg.events) == "table" and msg.events or {}) do
      requests[i] = { type = e, trackers = msg.trackers }
    end
  end
  local hash = msg.hash
  if type(hash) ~= "string" or not hash:match("^%x+$") or #hash ~= 32 then
    return { events.error(action, 3, { requests = requests }) }
  end
  local auth = api.lookup(hash)
  if not auth or auth.kind == "interim" then return { events.error(action, 4) } end
  if type(requests) ~= "table" or #requests == 0 then
    return { events.error(action, 7, { errors = { { parameter = "requests", error = "Required parameter" } } }) }
  end
  local parsed = {}
  for i, r in ipairs(requests) do
    local req, param = parse_request(r)
    if not req then
      return { events.error(action, 7, { errors = { { parameter = param, error = "Wrong parameter value" } } }) }
    end
    parsed[i] = req
  end
  conn.hash, conn.uid = hash, auth.uid
  local names, data, out = {}, {}, {}
  for _, req in ipairs(parsed) do
    local t = req.type
    if not data[t] then names[#names + 1] = t end
    data[t] = { success = true, value = answer_values(req, auth.uid) }
    local sub = conn.subs[t]
    if action == "subscribe" then
      sub = sub or { ids = {}, excluded = {} }
      sub.format = req.format
      if req.all then sub.all, sub.excluded = true, {} end
      for _, id in ipairs(req.ids or {}) do
        local st = status_of(id, auth.uid) -- blocked ones still get lifecycle events
        if st == "normal" or st == "blocked" then sub.ids[tostring(id)] = true end
        sub.excluded[tostring(id)] = nil
      end
      conn.subs[t] = sub
    elseif sub then
      if req.all then
        conn.subs[t] = nil
      else
        for _, id in ipairs(req.ids) do
          sub.ids[tostring(id)] = nil
          sub.excluded[tostring(id)] = true
        end
      end
    end
  end
  save(conn)
  out[1] = events.response(action, names, data)
  if action == "subscribe" then -- events.md: states are sent "immediately after subscription"
    for _, req in ipairs(parsed) do
      local sub = conn.subs[req.type]
      for _, t in ipairs(messages_for({ [req.type] = sub }, { event = req.type, trackers = req.ids })) do
        out[#out + 1] = t
      end
    end
  end
  return out
end

---------------------------------------------------------------- the two threads

local function close_code_for(err)
  if err:find("exceeding max payload", 1, true) then return 1009 end
  return 1002
end

-- The reader: the client's frames, joined when fragmented. Answers go to conn.outbox.
local function reader(conn)
  local wb, parts = conn.wb, nil
  while not conn.done do -- the writer kills this thread when it ends
    local data, typ, err = wb:recv_frame()
    if not data then
      if not (err and err:find("timeout", 1, true)) then
        if err and not err:find("closed", 1, true) and not err:find("failed to receive", 1, true) then
          conn.failure = err -- a protocol error by the client: close with its code
          conn.outbox[#conn.outbox + 1] = { close = close_code_for(err) }
        else
          conn.done = "the client went away"
        end
        break
      end
    elseif typ == "close" then
      conn.client_close = { code = err, reason = data }
      incr("closes_in")
      save(conn) -- before the echo: a client that got it finds its close recorded
      if not conn.close_sent then conn.outbox[#conn.outbox + 1] = { close = err or 1000, echo = true } end
      break
    elseif typ == "ping" then
      conn.outbox[#conn.outbox + 1] = { pong = data }
    elseif typ == "pong" then
      incr("pongs_in")
    else -- text, binary, continuation
      parts = parts or {}
      parts[#parts + 1] = data
      if err ~= "again" then
        local text = table.concat(parts)
        parts = nil
        for _, answer in ipairs(handle_message(conn, text)) do conn.outbox[#conn.outbox + 1] = answer end
      end
    end
    conn.wake:post(1)
  end
  conn.reader_done = true
  conn.wake:post(1)
end

local function writer(conn)
  local hb_every = conn.server_heartbeat_ms / 1000
  local next_hb, next_check = ngx.now() + hb_every, 0
  while not conn.done do
    conn.wake:wait(POLL)
    if epoch() ~= conn.epoch then
      close_and_wait(conn, 1001, "fake server reset")
      break
    end
    while #conn.outbox > 0 and not conn.done do
      local item = table.remove(conn.outbox, 1)
      if type(item) == "string" then
        send_text(conn, item)
      elseif item.pong then
        send(conn, true, 0xA, item.pong)
      elseif item.close then
        send_close(conn, item.close, item.echo and "" or "protocol error")
        conn.done = "closed"
      end
    end
    while not conn.done do
      local cmd = dict:lpop("ws:q:" .. conn.id)
      if not cmd then break end
      run(conn, cjson.decode(cmd))
    end
    local now = ngx.now()
    if conn.heartbeat and now >= next_hb and not conn.done then
      send_text(conn, "X")
      conn.heartbeats = conn.heartbeats + 1
      next_hb = now + hb_every
      save(conn)
    end
    -- a hash that ends (user/logout, fake.expire_sessions()) ends its subscriptions
    if conn.hash and now >= next_check then
      next_check = now + 0.05
      local auth = api.lookup(conn.hash)
      if not auth then logout(conn) end
    end
    if conn.reader_done and #conn.outbox == 0 then conn.done = conn.done or "the client closed" end
  end
end

---------------------------------------------------------------- the endpoint

local function refuse(status, code)
  return api.send_json(status, api.apierr(code).body)
end

function M.serve()
  local query = ngx.req.get_uri_args(0)
  local headers = ngx.req.get_headers(0)
  store.record{
    method = ngx.req.get_method(), uri = ngx.var.request_uri, path = ngx.var.uri,
    action = "event/subscription", query = query, headers = headers, body = "", params = {},
    time = ngx.now(), connection = tonumber(ngx.var.connection), scheme = ngx.var.scheme,
  }
  if not ngx.var.uri:match("^/v2/event/subscription/?$") then return refuse(404, 5) end
  local fault = store.fault_take("event/subscription") -- the HTTP faults, on the upgrade
  if fault and faults.apply(fault, api) == "done" then return end
  for name, want in pairs(ATMOSPHERE) do
    if query[name] ~= want then return refuse(400, 5) end
  end
  if type(query["X-Atmosphere-tracking-id"]) ~= "string" or type(query["X-Atmosphere-Framework"]) ~= "string" then
    return refuse(400, 5)
  end
  local wb = server:new{ timeout = 3600 * 1000, max_payload_len = RECV_MAX }
  if not wb then return refuse(400, 5) end -- not a WebSocket upgrade

  local conn = {
    id = uuid(), seq = dict:incr("ws:seq", 1, 0), epoch = epoch(), open = true, subs = {},
    heartbeats = 0, heartbeats_in = 0, heartbeat = true,
    wb = wb, sock = wb.sock, outbox = {}, wake = semaphore.new(),
  }
  local cfg = config()
  conn.heartbeat_ms = cfg.heartbeat_ms or M.HEARTBEAT_MS
  conn.server_heartbeat_ms = cfg.server_heartbeat_ms == "announced" and conn.heartbeat_ms
    or cfg.server_heartbeat_ms or M.SERVER_HEARTBEAT_MS
  ngx.ctx.ws_conn = conn
  dict:incr("ws:open:" .. conn.epoch, 1, 0)
  incr("handshakes")
  save(conn)
  -- README.md: the first frame is the Atmosphere handshake, "<uuid>|<heartbeat ms>|X|"
  send_text(conn, ("%s|%d|X|"):format(conn.id, conn.heartbeat_ms))
  local thread = ngx.thread.spawn(reader, conn)
  writer(conn)
  if not conn.reader_done then ngx.thread.kill(thread) end
  -- the server closes TCP (RFC 6455 7.1.1), after the close handshake or without one (the
  -- "drop" fault); returning instead would keep the request until the client hung up
  return ngx.exit(444)
end

-- log phase: the connection is gone, whichever way it ended.
function M.done()
  local conn = ngx.ctx.ws_conn
  if not conn then return end
  conn.open = false
  dict:delete("ws:q:" .. conn.id)
  if conn.epoch ~= epoch() then return end -- a reset cleared its traces
  dict:incr("ws:open:" .. conn.epoch, -1, 0)
  save(conn)
end

---------------------------------------------------------------- the control API

local function open_ids(only)
  local ids, now_epoch = {}, epoch()
  for _, r in ipairs(records()) do
    if r.open and r.epoch == now_epoch and (not only or r.id == only) then ids[#ids + 1] = r end
  end
  return ids
end

local function queue(id, cmd) dict:rpush("ws:q:" .. id, store.encode(cmd)) end

-- POST /_fake/ws_emit { event =, trackers = {...} | tracker_id =, data =, count =,
-- lifecycle_event =, conn = } -> { delivered = connections the event was queued for }
function M.emit(spec)
  if type(spec.event) ~= "string" then return nil, "event is required" end
  if spec.tracker_id then spec.trackers = { spec.tracker_id } end
  if spec.trackers ~= nil and not int_list(spec.trackers) then return nil, "trackers must be an array of ids" end
  local n = 0
  for _, r in ipairs(open_ids(spec.conn)) do
    if spec.event == "logout" then
      if next(r.subs or {}) then -- to subscribed clients, as the real one does
        queue(r.id, { kind = "logout" })
        n = n + 1
      end
    else
      local texts = messages_for(r.subs or {}, spec)
      if #texts > 0 then
        queue(r.id, { kind = "texts", texts = texts, n = tonumber(spec.count) or 1 })
        n = n + 1
      end
    end
  end
  return { ok = true, delivered = n }
end

M.FAULTS = { drop = true, stop_heartbeats = true, logout = true, fragmented = true, oversized = true,
             close = true, raw = true }

-- POST /_fake/ws_fault { type =, conn =, ... } -> { applied = connections }
function M.fault(spec)
  if not M.FAULTS[spec.type] then return nil, "unknown ws fault type " .. tostring(spec.type) end
  local cmd = { kind = spec.type, always = true, code = spec.code, reason = spec.reason, bytes = spec.bytes,
                parts = spec.parts, ping = spec.ping, hex = spec.hex, text = spec.text }
  if cmd.kind == "fragmented" and not cmd.text then
    cmd.text = events.event("state", events.state(1, "full"))
  end
  local n = 0
  for _, r in ipairs(open_ids(spec.conn)) do
    queue(r.id, cmd)
    n = n + 1
  end
  return { ok = true, applied = n }
end

-- POST /_fake/ws_config { heartbeat_ms =, server_heartbeat_ms = n | "announced" } (for
-- connections opened from now on)
function M.set_config(spec)
  local ms, server_ms = spec.heartbeat_ms, spec.server_heartbeat_ms
  if ms ~= nil and (type(ms) ~= "number" or ms < 1) then return nil, "heartbeat_ms must be a positive number" end
  if server_ms ~= nil and server_ms ~= "announced" and (type(server_ms) ~= "number" or server_ms < 1) then
    return nil, 'server_heartbeat_ms must be a positive number or "announced"'
  end
  dict:set("ws:cfg", store.encode{ heartbeat_ms = ms, server_heartbeat_ms = server_ms })
  return { ok = true }
end

-- GET /_fake/ws_stats
function M.stats()
  local function c(name) return dict:get("ws:c:" .. name) or 0 end
  return {
    open = dict:get("ws:open:" .. epoch()) or 0, handshakes = c("handshakes"),
    subscribes = c("subscribes"), unsubscribes = c("unsubscribes"), messages = c("messages"),
    heartbeats_in = c("heartbeats_in"), pongs_in = c("pongs_in"), closes_in = c("closes_in"),
    connections = store.array(records()),
  }
end

-- GET /_fake/ws_messages: what clients sent (heartbeats aside), oldest first, as
-- { conn = id, text = raw text, time = }.
function M.messages()
  local out, n = {}, dict:get("ws:msg_seq") or 0
  for i = math.max(1, n - KEEP_MESSAGES + 1), n do
    local v = dict:get("ws:msg:" .. i)
    if v then out[#out + 1] = v end
  end
  return "[" .. table.concat(out, ",") .. "]"
end

return M

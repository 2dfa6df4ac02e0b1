--- The text of navixy.help([topic]): what a user at a Lua prompt needs
-- first, and a page per topic. A topic that is not a page's name is looked
-- up in the catalogue of documented actions (an action's params and doc
-- link; a namespace's children; the actions whose name holds the word) and
-- in the example lines (navixy.help("tracker")).
local M = {}

local HEADER = "navixy-lua %s: the Navixy API v2 from Lua\n"

-- Pages in the order navixy.help() shows them.
local PAGES = {
  { "start", [[
  local navixy = require "navixy"
  local client = navixy.new{ hash = "<API key>" }          -- EU API; region = "us"/"me" or url = "..."
  local client = navixy.new{ login = "you@example.com", password = "..." } -- logs in on first call
  local panel = navixy.new{ panel = true, login = 20410, password = "..." } -- a dealer: see "panel"
]] },
  { "actions", [[
Most-used actions: client.a.b{...} calls the action "a/b" (any depth).
  client.user.get_info()                                  -- res.user_info
  client.tracker.list()                                   -- res.list: your trackers
  client.tracker.get_state{ tracker_id = 123 }            -- res.state.gps.location
  client.tracker.get_states{ trackers = {123, 456} }      -- res.states["123"] (at most 2000)
  client.history.tracker.list{ trackers = {123},
    from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00" } -- res.list: events
  client.track.list{ tracker_id = 123, from = "...", to = "..." } -- res.list: trips
  client.api.key.list()                                   -- res.list: API keys
  client.api.key.create{ title = "reports" }              -- res.value.hash (needs a login)
  client.api.key.delete{ key = "<hash>" }
  client:call("tracker/list", { labels = {"truck"} })     -- the same, by name
]] },
  { "errors", [[
Answers and errors: a call returns the decoded answer, or nil and an error.
  local res, err = client.tracker.list()
  print(navixy.pretty(res))        -- the answer as indented JSON
  print(err)                       -- e.g. navixy: tracker/list: api error 4 (HTTP 400):
                                   --      User or API key not found or session ended
  err.kind                         -- "api", "http", "timeout", "transport" or "decode"
  err.code, err.description        -- the API's status (kind "api")
  err.response                     -- the whole error answer, e.g. err.response.errors
  print(navixy.pretty(err))        -- every field of the error
]] },
  { "batch", [[
Many calls at once (concurrency 8 by default), results in input order:
  local results = client:batch{ { "tracker/get_state", { tracker_id = 1 } },
                                { "tracker/get_state", { tracker_id = 2 } } }
  results[1].result or results[1].err
  client:get_states(ids)           -- tracker/get_states for any number of ids
  client:get_history{ trackers = {123}, from = "...", to = "..." } -- every event, paged
    -- within the platform's history.max_limit and report.max_time_span (dealer/get_ui_config)
  client:get_history(params, { on_events = function(events, window) end }) -- window by window
  client:get_states(ids, { on_states = function(states) end })            -- answer by answer
]] },
  { "sessions", [[
Sessions: a client with login and password logs in on its first call and again,
once, when the session ends; one with a hash (an API key) uses it as is.
  client:login()                   -- log in now; client:get_hash(), client:set_hash(h)
  client:verify_code("123456")     -- the second step of a two-factor login
  client:resend_code()             -- the code again (once per 5 minutes, else error 264)
  client:logout()
]] },
  { "events", [[
Real-time events (the WebSocket API): one connection, kept up by itself.
  local sub = client:subscribe{ { type = "state_batch", target = { type = "all" } } }
  for msg in sub:events() do print(msg.type, msg.event) end  -- "event", "state_batch", ...
  sub:next(5)                      -- the next message, or nil, err (err.kind "timeout")
  sub:subscribe{ { type = "state", trackers = {123} } }      -- and sub:unsubscribe{...}
  sub:close()                      -- from a shell: navixy subscribe state_batch all
]] },
  { "methods", [[
The client's own methods (client:name(...)); every other name is an action:
  client:call(action, params, call_opts)  client:batch(calls, opts)  client:each(calls, opts)
  client:get_states(ids, opts)            client:get_history(params, opts)
  client:subscribe(requests, opts)        client:login(login, password)
  client:verify_code(code)                client:resend_code()          client:logout()
  client:get_hash()                       client:set_hash(hash)
  client:user_session(user_id)            client:close()
  client:get_report(params, opts)         client:pages(action, params, opts)
  client:presigned_upload(action, params, file)  client:graphql(query, variables, opts)
  client:dwh()                            client:eco_fleet()
  client:renew_session()                  client:rotate_key(opts)
]] },
  { "panel", [[
The Admin Panel (dealers): a panel client's actions are relative to panel/.
  local panel = navixy.new{ panel = true, login = 20410, password = "..." } -- panel ID
  panel.user.list{ limit = 10 }                           -- panel/user/list
  panel.dealer.get_info()                                 -- panel/dealer/get_info
  local user = assert(panel:user_session(231485))         -- panel/user/session/create
  user.tracker.list()                                     -- the user API, as that user
]] },
}

local FOOTER = "\nTopics: navixy.help(\"errors\"), \"batch\", \"sessions\", \"events\", \"methods\", \"panel\",\n"
  .. "\"actions\", "
  .. "an action (\"tracker/get_state\"), a namespace (\"tracker\") or any word (\"download\").\n"
  .. "Every documented action: navixy.actions(prefix); from a shell: navixy actions [PREFIX].\n"
  .. "More: README.md and docs/API-reference.md; from a shell: navixy --help.\n"

---------------------------------------------------------------- the catalogue

-- Where a family's actions are called from, when not from a user client.
local REACHED = {
  dwh = "Raw IoT Data, on /dwh/v1: client:dwh()",
  eco_fleet = "Eco Fleet, on /eco_fleet: client:eco_fleet()",
  websocket = "a WebSocket subscription request: client:subscribe{ { type = ... } }",
}

local function bounds(p)
  local out = {}
  local function range(what, lo, hi)
    if lo and hi then out[#out + 1] = ("%s %s..%s"):format(what, lo, hi)
    elseif lo then out[#out + 1] = ("%s >= %s"):format(what, lo)
    elseif hi then out[#out + 1] = ("%s <= %s"):format(what, hi) end
  end
  range("value", p.min, p.max)
  range("length", p.min_length, p.max_length)
  range("items", p.min_items, p.max_items)
  range("each item's length", p.item_min_length, p.item_max_length)
  if p.unique_items then out[#out + 1] = "no duplicates" end
  if p.enum then
    local shown = {}
    for i, v in ipairs(p.enum) do shown[i] = ("%q"):format(tostring(v)) end
    out[#out + 1] = "one of " .. table.concat(shown, ", ")
  end
  return out
end

local function param_line(p, width)
  local kind = p.type or p.doc_type or "any"
  if p.type == "array" and p.items then kind = "array of " .. p.items end
  if p.file then kind = "file (navixy.file)" end
  local words = { kind, p.required and "required" or "optional" }
  for _, b in ipairs(bounds(p)) do words[#words + 1] = b end
  return ("  %-" .. width .. "s %s"):format(p.name, table.concat(words, ", "))
end

local function answer_words(entry)
  if entry.answer == "json" then return "JSON" end
  return "a file (" .. entry.answer:gsub(",", ", ") .. ")"
end

--- One action's page: summary, params, method, answer, the doc link.
function M.action_text(entry)
  local out = { entry.path .. ": " .. (entry.summary ~= "" and entry.summary or "(no summary in the docs)") }
  if REACHED[entry.family] then out[#out + 1] = "  " .. REACHED[entry.family] end
  local width = 4
  for _, p in ipairs(entry.params) do width = math.max(width, #p.name) end
  if #entry.params == 0 then out[#out + 1] = "Params: none"
  else
    out[#out + 1] = "Params:"
    for _, p in ipairs(entry.params) do out[#out + 1] = param_line(p, width) end
  end
  if entry.family ~= "websocket" then
    local traits = { entry.method, "answer: " .. answer_words(entry) }
    if entry.multipart then traits[#traits + 1] = "multipart upload" end
    if entry.no_auth then traits[#traits + 1] = "no authentication" end
    traits[#traits + 1] = entry.read_only and "read-only (retried on transient faults)" or "changes data"
    out[#out + 1] = table.concat(traits, "; ")
  end
  out[#out + 1] = "Docs: " .. entry.url
  return table.concat(out, "\n") .. "\n"
end

-- Words wrapped into lines of at most 78 characters, indented by two.
local function wrapped(words)
  local lines, line = {}, " "
  for _, word in ipairs(words) do
    if #line + 1 + #word > 78 then lines[#lines + 1], line = line, " " end
    line = line .. " " .. word
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- What is under `prefix`: its actions, and its namespaces marked with "/".
local function namespace_text(catalogue, prefix)
  local words = {}
  for _, child in ipairs(catalogue.children(prefix)) do
    local path = prefix .. "/" .. child
    local deeper = #catalogue.children(path) > 0
    if catalogue.get(path) then words[#words + 1] = child end
    if deeper then words[#words + 1] = child .. "/" end
  end
  return ("Under %s/ (%d actions; navixy.help(\"%s/<name>\") for one):\n%s\n"):format(prefix,
    #catalogue.actions(prefix), prefix, wrapped(words))
end

-- The documented action `topic` names, in any family.
local function find_entry(catalogue, topic)
  local entry = catalogue.get(topic)
  if entry then return entry end
  for _, family in ipairs(catalogue.FAMILIES) do
    entry = catalogue.get(topic, family)
    if entry then return entry end
  end
end

local function catalogue_text(topic)
  local catalogue = require "navixy.catalogue"
  local entry = find_entry(catalogue, topic)
  if entry then return M.action_text(entry) end
  local trimmed = topic:gsub("^/+", ""):gsub("/+$", "")
  if #catalogue.children(trimmed) > 0 then return namespace_text(catalogue, trimmed) end
  local found = catalogue.search(topic)
  if #found > 0 then
    return "Actions with \"" .. topic .. "\" in their name:\n  " .. table.concat(found, "\n  ") .. "\n"
  end
  local near = catalogue.nearest(topic)
  if #near > 0 then return "Did you mean " .. table.concat(near, ", ") .. "?\n" end
end

--- The lines of the pages' examples that mention `topic`.
local function example_lines(topic)
  local lines = {}
  for _, page in ipairs(PAGES) do
    for line in page[2]:gmatch("[^\n]+") do
      if line:find(topic, 1, true) and line:find("^%s") then lines[#lines + 1] = line end
    end
  end
  return lines
end

--- pairs() over the namespace `ns` (its catalogue path `path`): each
-- documented name under it, sorted, and its child namespace.
function M.namespace_pairs(ns, path)
  local names, i = require("navixy.catalogue").children(path), 0
  return function()
    i = i + 1
    local name = names[i]
    if name then return name, ns[name] end
  end, ns, nil
end

--- tostring of a namespace named `name` (its catalogue path `path`):
-- "navixy namespace tracker: alarm_mode, ..., list, ..." when the docs have
-- names under it, else "navixy action tracker/list".
function M.namespace_line(name, path)
  local under = require("navixy.catalogue").children(path)
  if #under > 0 then return "navixy namespace " .. name .. ": " .. table.concat(under, ", ") end
  return "navixy action " .. name
end

--- Raises for client:`name`(...) when the client has no such method (its
-- methods: the functions among `names`, the client's method table): the
-- method meant, when one is near.
function M.not_a_method(names, name)
  local methods = {}
  for key, v in pairs(names) do
    if type(v) == "function" then methods[#methods + 1] = key end
  end
  local best = require("navixy.catalogue").closest(name, methods)
  require("navixy.errors").misuse("client:%s is not a method of the client%s; actions are called as "
    .. "client.a.b{...} (navixy.help(\"methods\"))", name, best and " (did you mean client:" .. best .. "?)" or "")
end

--- The help text; `topic` (optional) a page name, an action ("tracker/list"),
-- a namespace ("tracker"), or any word (the actions and examples with it).
function M.text(version, topic)
  local out = { HEADER:format(version) }
  if topic == nil then
    for _, page in ipairs(PAGES) do out[#out + 1] = "\n" .. page[2] end
    out[#out + 1] = FOOTER
    return table.concat(out)
  end
  topic = tostring(topic)
  for _, page in ipairs(PAGES) do
    if page[1] == topic then return out[1] .. "\n" .. page[2] .. FOOTER end
  end
  local body = M.topic(topic)
  if not body then return out[1] .. "\nNothing about \"" .. topic .. "\" here." .. FOOTER end
  return out[1] .. body .. FOOTER
end

--- What the catalogue and the examples hold about `topic` (not a page
-- name), or nil when nothing.
function M.topic(topic)
  local actions, lines, out = catalogue_text(topic), example_lines(topic), {}
  if not actions and #lines == 0 then return nil end
  if actions then out[#out + 1] = "\n" .. actions end
  if #lines > 0 then
    out[#out + 1] = "\nExamples with \"" .. topic .. "\":\n" .. table.concat(lines, "\n") .. "\n"
  end
  return table.concat(out)
end

return M

--- The text of navixy.help([topic]): what a user at a Lua prompt needs
-- first, and a page per topic. A topic that is not a page's name shows the
-- example lines that mention it (navixy.help("tracker")).
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
  { "panel", [[
The Admin Panel (dealers): a panel client's actions are relative to panel/.
  local panel = navixy.new{ panel = true, login = 20410, password = "..." } -- panel ID
  panel.user.list{ limit = 10 }                           -- panel/user/list
  panel.dealer.get_info()                                 -- panel/dealer/get_info
  local user = assert(panel:user_session(231485))         -- panel/user/session/create
  user.tracker.list()                                     -- the user API, as that user
]] },
}

local FOOTER = "\nTopics: navixy.help(\"errors\"), \"batch\", \"sessions\", \"events\", \"panel\", \"actions\", "
  .. "or any word (\"tracker\").\n"
  .. "More: README.md and docs/API-reference.md; from a shell: navixy --help.\n"

--- The help text; `topic` (optional) a page name or any word.
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
  local lines = {}
  for _, page in ipairs(PAGES) do
    for line in page[2]:gmatch("[^\n]+") do
      if line:find(topic, 1, true) and line:find("^%s") then lines[#lines + 1] = line end
    end
  end
  if #lines == 0 then
    return out[1] .. "\nNothing about \"" .. topic .. "\" here." .. FOOTER
  end
  return out[1] .. "\nAbout \"" .. topic .. "\":\n" .. table.concat(lines, "\n") .. "\n" .. FOOTER
end

return M

--- The text of navixy.help(): what a user at a Lua prompt needs first.
local M = {}

local TEXT = [[
navixy-lua %s: the Navixy API v2 from Lua

  local navixy = require "navixy"
  local client = navixy.new{ hash = "<API key>" }          -- EU API; region = "us" or url = "..."
  local client = navixy.new{ login = "you@example.com", password = "..." } -- logs in on first call

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

Answers and errors: a call returns the decoded answer, or nil and an error.
  local res, err = client.tracker.list()
  print(navixy.pretty(res))        -- the answer as indented JSON
  print(err)                       -- e.g. navixy: tracker/list: api error 4 (HTTP 400):
                                   --      User or API key not found or session ended
  err.kind                         -- "api", "http", "timeout", "transport" or "decode"
  err.code, err.description        -- the API's status (kind "api")
  err.response                     -- the whole error answer, e.g. err.response.errors
  print(navixy.pretty(err))        -- every field of the error

More: README.md and docs/API-reference.md; from a shell: navixy --help.
]]

function M.text(version)
  return string.format(TEXT, version)
end

return M

--- `navixy batch FILE|-`: one call per input line, on client:each (the one
-- batch scheduler: rate limit, retries, sessions as for any call), results
-- as JSON lines on stdout, a progress bar and a summary on stderr, and a
-- state file that lets an interrupted run go on where it stopped without
-- sending any call twice.
--
-- The state file (--resume STATE; by default FILE.resume next to an input
-- file) holds a header naming the input (its line count and SHA-1), then a
-- line "N" for every input line finished and "?N" for every line that was
-- in flight when the run was interrupted: such a call may or may not have
-- reached the server, so it is never sent again; it is reported as an
-- error instead. A run that ends with nothing interrupted removes the file.
local core = require "navixy.core"
local json = require "navixy.json"
local options = require "navixy.options"
local pretty = require "navixy.pretty"
local shell = require "navixy.cli.shell"

local M = {}

local STATE_HEADER = "navixy batch state 1"

-- The calls of the input text: an array of { line, action, params } (blank
-- lines skipped, numbered as in the file), or nil, why.
local function parse(text, name)
  local calls, n = {}, 0
  for line in (text:gsub("\r?\n$", "") .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:find("%S") then
      local v, why = json.decode(line)
      local action, params
      if type(v) == "table" and getmetatable(v) == json.array_mt then
        action, params = v[1], v[2]
      elseif type(v) == "table" then
        action, params = v.action, v.params
      elseif v ~= nil then
        why = "not a JSON object or array"
      end
      if action == nil and not why then why = 'no action (write {"action": "tracker/list", "params": {...}} '
        .. 'or ["tracker/list", {...}])' end
      if action ~= nil and type(action) ~= "string" then why = "the action must be a string" end
      if params ~= nil and (type(params) ~= "table" or getmetatable(params) == json.array_mt) then
        why = "the params must be a JSON object"
      end
      if why then return nil, ("%s line %d: %s"):format(name, n, why) end
      calls[#calls + 1] = { line = n, action = action, params = params }
    end
  end
  return calls
end

local State = {}
State.__index = State

-- The state of `path` for the input `id`: the lines done and in doubt, and
-- the file open for appending; or nil, why.
local function open_state(path, id)
  local st = { path = path, done = {}, doubt = {}, before = 0 }
  local f = io.open(path, "rb")
  if f then
    local header = f:read("*l")
    if header ~= STATE_HEADER .. " " .. id then
      f:close()
      return nil, ("%s is the state of another input (or not a batch state): remove it to start over"):format(path)
    end
    for line in f:lines() do
      local doubt, n = line:match("^(%??)(%d+)$")
      if n then
        if doubt == "?" then st.doubt[tonumber(n)] = true else st.done[tonumber(n)] = true end
        st.before = st.before + 1
      end
    end
    f:close()
  end
  local why
  st.file, why = io.open(path, "ab")
  if not st.file then return nil, ("cannot write the batch state: %s"):format(why) end
  if st.before == 0 then st.file:write(STATE_HEADER, " ", id, "\n") end
  st.file:setvbuf("no") -- each line on disk as soon as written: a killed run loses none
  return setmetatable(st, State)
end

-- Whether a call's error says Ctrl-C stopped it in flight (sent or not).
local function stopped_in_flight(err)
  return err ~= nil and err.phase == "interrupted"
end

function State:record(line, doubt)
  if doubt then self.doubt[line] = true else self.done[line] = true end
  self.file:write(doubt and "?" or "", line, "\n")
end

function State:finish(keep)
  self.file:close()
  if not keep then os.remove(self.path) end
end

-- The progress bar, redrawn at most 5 times a second (and at the end).
local Progress = {}
Progress.__index = Progress

function Progress:show(done, failed, final)
  local now = core.now()
  if not final and self.shown and now - self.shown < 0.2 then return end
  self.shown = now
  local width = 30
  local filled = self.total > 0 and math.floor(width * done / self.total) or width
  io.stderr:write(("\r[%s%s] %d/%d%s"):format(("#"):rep(filled), ("."):rep(width - filled), done, self.total,
    failed > 0 and (", %d failed"):format(failed) or ""), final and "\r\27[K" or "")
end

-- What a result line says of an error: its kind, code, status and
-- description (the client masked the server's text already).
local function error_fields(err)
  return { kind = err.kind, code = err.code, status = err.status, phase = err.phase,
    description = err.description, attempts = err.attempts }
end

-- A file answer's description (its bytes are not printed in a JSON line).
local function result_value(res)
  if type(res) == "table" and res.content_type and res.size and res.success == nil then
    return { content_type = res.content_type, filename = res.filename, size = res.size }
  end
  return res
end

--- Runs the batch of `r` (the command's run: its options, client, mask);
-- returns the exit status.
function M.run(r)
  local o, EXIT = r.o, r.EXIT
  local source = o.words[1]
  if not source or o.words[2] then r:usage("batch takes one FILE (or - for standard input): navixy batch FILE") end
  if r.user then r:usage("batch runs with an API key or a session hash (--hash, NAVIXY_HASH), not --login") end
  local text
  if source == "-" then
    text = io.stdin:read("*a") or ""
  else
    local f, why = io.open(source, "rb")
    if not f then r:usage("batch: cannot read %s", why) end
    text = f:read("*a") or ""
    f:close()
  end
  local calls, why = parse(text, source == "-" and "standard input" or source)
  if not calls then r:usage("batch: %s", why) end
  local state_path = o.resume or (source ~= "-" and source .. ".resume") or nil
  local state
  if state_path then
    state, why = open_state(state_path, ("lines=%d sha1=%s"):format(#calls, core.sha1hex(text)))
    if not state then r:usage("batch: %s", why) end
    if state.before > 0 then
      r:say(("navixy: batch: resuming from %s: %d lines finished or in doubt before (remove it to start over)")
        :format(state_path, state.before))
    end
  end

  -- what this run sends, and the lines in doubt from before (reported, never sent)
  local todo, items, counts = {}, {}, { ok = 0, api = 0, failure = 0, doubt = 0 }
  local skipped_doubt = {}
  for _, c in ipairs(calls) do
    if state and state.doubt[c.line] then
      skipped_doubt[#skipped_doubt + 1] = c
    elseif not (state and state.done[c.line]) then
      todo[#todo + 1] = c
      items[#items + 1] = { c.action, c.params }
    end
  end

  local function emit(c, res, err)
    local line = { line = c.line, action = c.action }
    if err then
      line.error = error_fields(err)
      if err.kind == "api" then counts.api = counts.api + 1 else counts.failure = counts.failure + 1 end
    else
      line.result = result_value(res)
      counts.ok = counts.ok + 1
    end
    io.stdout:write(r:mask(pretty.value(line, true)), "\n")
  end
  for _, c in ipairs(skipped_doubt) do
    counts.doubt = counts.doubt + 1
    io.stdout:write(pretty.value({ line = c.line, action = c.action, error = { kind = "interrupted",
      description = "in flight when an earlier run was interrupted: it may or may not have been done; "
        .. "not sent again" } }, true), "\n")
  end

  local concurrency = tonumber(o.concurrency) or nil
  local progress = shell.stderr_is_tty() and setmetatable({ total = #todo }, Progress) or nil
  local started = core.now()
  local finished, held, next_out = 0, {}, 1 -- held: results waiting for their turn (in order)
  local recorded, fin = 0, {} -- fin[i]: item i finished (whether shown yet or not)
  -- item i finished: so noted here and in the state file
  local function finish(i)
    recorded, fin[i] = recorded + 1, true
    if state then state:record(todo[i].line) end
  end
  local it = r.client:each(items, { concurrency = concurrency })
  -- Ctrl-C held while the results come: the interpreter's handler would raise
  -- "interrupted!" at whatever instruction came next, between recording a line
  -- as done and printing it, say (a line lost on resume); held, it is raised by
  -- the batch between its steps (navixy.batch.scheduler), never in this loop
  core.hold_interrupts(true)
  local ok, failure = pcall(function()
    for i, res, err in it.next, it do
      -- a call Ctrl-C stopped in flight may or may not have been done: left
      -- unfinished, it is counted in doubt below, as are those still waiting
      if not stopped_in_flight(err) then
        finish(i)
        finished = finished + 1
        if o.unordered then
          emit(todo[i], res, err)
        else
          held[i] = { res, err }
          while held[next_out] do
            emit(todo[next_out], held[next_out][1], held[next_out][2])
            held[next_out] = nil
            next_out = next_out + 1
          end
        end
        if progress then progress:show(finished, counts.api + counts.failure) end
      end
    end
    -- a Ctrl-C that stopped the last calls in flight, with no step after it to raise it
    if core.interrupt_taken() then error("interrupted!", 0) end
  end)
  core.hold_interrupts(false)
  if not ok then
    -- interrupted (or failed) mid-run: the results already made are kept;
    -- every call taken but not finished may have been sent. Workers take the
    -- lines in order, each holding one, so at most `concurrency` (+1 for a
    -- result between the iterator and this function) lines past the
    -- finished ones were taken.
    it:close()
    for i, res, err in it.next, it do -- results made before the stop, not yet taken
      if not stopped_in_flight(err) then
        finish(i)
        held[i] = { res, err }
      end
    end
    for i = next_out, #todo do
      if held[i] then emit(todo[i], held[i][1], held[i][2]) end
    end
    local taken = math.min(#todo, recorded + (concurrency or options.DEFAULT_CONCURRENCY) + 1)
    local doubt = 0
    for i = 1, taken do
      local line = todo[i].line
      if not fin[i] then
        doubt = doubt + 1
        if state then state:record(line, true) end
      end
    end
    if progress then progress:show(finished, counts.api + counts.failure, true) end
    if state then state:finish(true) end
    io.stdout:flush()
    local msg = tostring(failure)
    local interrupted = msg:find("interrupted!$") ~= nil
    r:say(("navixy: batch %s after %d of %d lines; %d in flight may or may not have been done (never sent again)%s")
      :format(interrupted and "interrupted" or "stopped", recorded, #todo, doubt,
        state and ("; the same command goes on from " .. state_path) or "; --resume STATE would let it go on"))
    if interrupted then return EXIT.interrupted end
    error(failure, 0)
  end
  if progress then progress:show(finished, counts.api + counts.failure, true) end
  if state then state:finish(counts.doubt > 0) end
  r:say(("navixy: batch: %d lines: %d ok, %d API errors, %d failed without an answer%s in %.1f s")
    :format(#todo + #skipped_doubt, counts.ok, counts.api, counts.failure,
      counts.doubt > 0 and (", %d in doubt from an interrupted run (kept in %s: check them, then remove it)")
        :format(counts.doubt, state_path) or "",
      core.now() - started))
  if counts.failure > 0 or counts.doubt > 0 then return EXIT.failure end
  if counts.api > 0 then return EXIT.api end
  return EXIT.ok
end

return M

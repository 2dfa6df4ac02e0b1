--- The navixy command (bin/navixy): the command line, credentials, one call,
-- the answer on stdout and the exit status. M.main returns the status and
-- never calls os.exit, so it can run inside another program too.
--
-- stdout carries the API's answer (JSON, or a file's bytes), also when the
-- answer is an API error (its errors[] list says which parameter was
-- wrong). stderr gets one line when something failed. The hash in use and
-- the password are masked out of errors and of what stderr shows; a
-- successful answer is printed as the server sent it (api/key/list shows
-- the key in use: the user asked for it).
--
-- Nothing from the server reaches a terminal as it came: the JSON has its
-- controls escaped (navixy.pretty), every line on stderr goes through
-- `say_line` and a file answer shown on a terminal has its controls made
-- visible (navixy.controls).
local navixy = require "navixy"
local controls = require "navixy.controls"
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"
local pretty = require "navixy.pretty"
local response = require "navixy.response"
local cli_options = require "navixy.cli.options"
local format = require "navixy.cli.format"
local input = require "navixy.cli.input"
local profiles = require "navixy.cli.profiles"
local prompt = require "navixy.cli.prompt"
local request = require "navixy.cli.request"
local session_file = require "navixy.cli.session_file"
local shell = require "navixy.cli.shell"

local M = {}

-- Writes one line of text to stderr, its controls made visible (text from
-- the server: an error's description; a close reason) so it stays one line.
local function say_line(text)
  io.stderr:write(controls.plain(text), "\n")
end

--- Exit statuses. The API answered and said no: 1. No usable answer at all
-- (a transport failure, a timeout, an HTTP error without an API answer, an
-- answer that is not JSON): 3, as these are the ones worth trying later.
M.EXIT = { ok = 0, api = 1, usage = 2, failure = 3, internal = 70, interrupted = 130 }
local EXIT_BY_KIND = { api = 1, http = 3, timeout = 3, transport = 3, decode = 3 }

M.HELP = [[
Usage: navixy [options] ACTION [name=value | name:=json ...]
       navixy [options] subscribe TYPE [all | ID ...] [name=value | name:=json ...]
       navixy [options] batch FILE|-

Calls one action of the Navixy API v2 and prints the answer as indented JSON;
or subscribes to real-time events and prints each message as it comes.

  NAVIXY_HASH=$(cat ~/.navixy-key) navixy tracker/list
  navixy tracker/get_state tracker_id:=123
  navixy tracker/get_states trackers:='[1,2]' list_blocked:=true
  navixy tracker/list labels:='["truck"]'
  navixy --login you@example.com --session ~/.navixy-session user/get_info
  navixy --panel --login 20410 user/list limit:=10

Parameters (as in HTTPie):
  name=value        the string "value"; label=007 sends the string "007"
  name:=json        parsed JSON: tracker_id:=7  trackers:=[1,2]  flag:=true  x:=null
  @FILE             the params as one JSON object in FILE (@- standard input)
When standard input is not a terminal and holds a JSON object, those are the
params (navixy tracker/list < params.json); params from two places (words,
@FILE, standard input) are refused, never merged.

Many calls (navixy batch FILE, or - for standard input): one call per line,
as {"action": "tracker/get_state", "params": {"tracker_id": 1}} or
["tracker/get_state", {"tracker_id": 1}]; every line is checked before any is
sent. Each result is one line of JSON on stdout, {"line": N, "action": ...,
"result": ...} or {"line": N, "action": ..., "error": {"kind", "code", ...}},
in input order (--unordered: as they complete); a progress bar on stderr when
it is a terminal, then a summary line. Exit status: 0 every call succeeded,
1 some had API errors, 3 some had no answer (or were in doubt), 130 Ctrl-C.
  --concurrency N   calls at once (default 8); --rate-limit R: at most R calls
                    in any one second (for any command)
  --resume STATE    the state file (default: FILE.resume next to FILE; none for
                    standard input without --resume): every finished line is
                    recorded there, so that the same command after Ctrl-C goes
                    on where it stopped. Calls that were in flight at Ctrl-C may
                    or may not have been done: they are never sent again, and
                    are reported as errors of kind "interrupted". The file is
                    removed when a run ends with nothing in doubt. Output of
                    the run that goes on: append it (>>) to the first one's.

Real-time events (the WebSocket API): subscribe prints every message as one
line of JSON until Ctrl-C; a lost connection is replaced by itself (a line on
stderr says so) and subscribed again. TYPE is state (tracker IDs), state_batch
or readings_batch (all, the default, or tracker IDs) or iot_monitor (at most
10 tracker IDs); name=value adds to the request, e.g. rate_limit=5s:
  navixy subscribe state_batch all rate_limit=5s format=compact
  navixy subscribe state 1 2 3

Options (a value may also follow an "=", as in --timeout=5):
  --url URL         API base URL (env NAVIXY_URL; default the EU API,
                    https://api.eu.navixy.com/v2)
  --region eu|us|me the EU, US or Middle East API, instead of --url
  --hash HASH       an API key or a session hash (env NAVIXY_HASH, better: other
                    users of the machine can see the command line, not the
                    environment)
  --login LOGIN     log in with user/auth first (env NAVIXY_LOGIN); the password
                    comes from NAVIXY_PASSWORD, else it is asked on the terminal
                    without echo. Without --session the session is ended after
                    the call (user/logout)
  --panel           the Admin Panel API: ACTION is relative to panel/ (user/list
                    calls panel/user/list); --login takes the numeric panel ID and
                    logs in with panel/account/auth; --hash takes a panel hash
  --session FILE    keep the login's session in FILE (created with mode 0600) and
                    reuse it in later runs; logs in again when it has ended
                    (env NAVIXY_SESSION)
  --auth MODE       where the hash goes: header (default), query or body
  --form            send the params form-encoded instead of as JSON
  --timeout S       seconds one attempt may take, end to end (default 30)
  --ca-file FILE    trust the CA certificates in FILE (PEM)
  --get             send the action as a GET, the params in the query string (for
                    the actions the API documents as GET, e.g. IoT Logic's)
  --retries N       retries of a failed attempt that is safe to repeat (default
                    2; 0: one attempt only); the error line says how many were made
  --insecure        allow plain http:// to a host that is not this machine (the
                    hash then crosses the network in clear text)
  --output FILE     a file answer (KML, PDF, CSV, ...) goes to FILE as it arrives,
                    and a line of JSON describing it to stdout; without --output
                    (or with --output -) a file answer's bytes go to stdout
  --verbose         on stderr: the request (method, URL, headers, body; the hash
                    masked), each attempt's status and time, and the answer's
                    Content-Type and Content-Disposition (the headers the client
                    reads)
  --dry-run         print the request as --verbose does and send nothing
  --ignore-stdin    never read params from standard input
  --profile NAME    take the URL, the credentials and options from the section
                    [NAME] of the config file ($NAVIXY_CONFIG, else
                    ~/.config/navixy/config; env NAVIXY_PROFILE); then the
                    NAVIXY_* variables are not read, and options given here win.
                    Keys: url, region, auth, panel, login, session, timeout,
                    retries, rate_limit, ca_file, insecure, and the hash or the
                    password from hash_env / password_env (a variable),
                    hash_file / password_file (its first line; the file must be
                    private) or hash_command / password_command (the first
                    line it prints); hash = / password = in the config file
                    itself only when that file is private (chmod 600)
  --compact         print the JSON on one line
  --format F        json (the default), or for a list answer (its "list" field,
                    else its one array): jsonl (an item a line), table (aligned
                    columns, objects as JSON) or csv (RFC 4180, a header row)
  --version         print the version
  --help            print this help

Output: the API's answer on stdout, keys sorted, UTF-8 as is, control characters
escaped (\u001b); on an API error the error answer too; a file answer's bytes as
they are (on a terminal, its control characters but newlines and tabs shown as
\x1b; with --output, its description). When the call fails, one line on stderr.
Exit status: 0 success; 1 API error (the API answered success: false); 2 usage
error; 3 no usable answer (transport failure, timeout, HTTP error without an API
answer, answer that is not JSON); 130 interrupted.
]]

---------------------------------------------------------------- the command line

-- A usage error: raised as a table so that main tells it from a bug.
local function usage(fmt, ...)
  error({ exit = M.EXIT.usage, message = "navixy: " .. string.format(fmt, ...) }, 0)
end

local VALUED, FLAGS = cli_options.VALUED, cli_options.FLAGS

-- name=value or name:=json into params.
local function add_param(params, arg)
  local name, typed, text = arg:match("^([^=]-)(:?)=(.*)$")
  if not name then
    usage("'%s' is not a parameter: write name=value or name:=json (see navixy --help)", arg)
  end
  if name == "" then usage("a parameter needs a name before '='") end
  if params[name] ~= nil then usage("parameter '%s' is given twice", name) end
  if typed == "" then
    params[name] = text
    return
  end
  local value, why = json.decode(text) -- the one JSON grammar; [] stays an array
  if value == nil then -- the value is not shown: it may be a secret
    usage("parameter '%s': the value after ':=' is not valid JSON (%s)", name, why)
  end
  -- what the library could not send (nested too deep, ...) is a usage error here too
  local ok, refused = pcall(json.encode, { [name] = value }) -- as it goes out: one level more
  if not ok then usage("parameter '%s': %s", name, tostring(refused):gsub("^.-navixy: ", "")) end
  params[name] = value
end

--- The parsed command line: { action, params, has_params, words, <option> =
-- value }. Options may come before or after the action; "--" ends them.
-- After the action "subscribe", words without "=" (TYPE, all, IDs) go to
-- `words`.
function M.parse_args(argv)
  local o = { params = {}, has_params = false, words = {} }
  local i, options_end = 1, false
  while argv[i] ~= nil do
    local a = argv[i]
    if not options_end and a == "--" then
      options_end = true
    elseif not options_end and a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      if FLAGS[name] then
        if value then usage("option --%s takes no value", name) end
        o[name] = true
      elseif VALUED[name] then
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then usage("option --%s needs a value", name) end
        end
        if o[name] ~= nil then usage("option --%s is given twice", name) end
        local wrong = cli_options.check(name, value)
        if wrong then usage("%s", wrong) end
        o[name] = value
      elseif name == "password" then -- said, as the value is already where others see it
        usage("there is no --password: a password on the command line is visible to other users "
          .. "of this machine (ps). Set NAVIXY_PASSWORD (e.g. NAVIXY_PASSWORD=$(cat FILE)), or "
          .. "let navixy ask for it on the terminal")
      else
        usage("%s", cli_options.unknown(name))
      end
    elseif not options_end and a == "-h" then
      o.help = true
    elseif not options_end and a:find("^%-.") then
      usage("unknown option %s (see navixy --help)", a:match("^[^=]*"))
    elseif not o.action then
      if a:find("=", 1, true) then
        usage("no ACTION before the parameter '%s' (e.g. navixy tracker/list ...)", a:match("^[^=:]*"))
      end
      o.action = a
    elseif (o.action == "subscribe" or o.action == "batch") and not a:find("=", 1, true) then
      o.words[#o.words + 1] = a
    elseif a:sub(1, 1) == "@" then -- @params.json, @- (standard input)
      if o.params_file then usage("give one params file (@FILE), not two") end
      o.params_file = a:sub(2)
    else
      add_param(o.params, a)
      o.has_params = true
    end
    i = i + 1
  end
  return o
end

---------------------------------------------------------------- settings

local function env(getenv, name)
  local v = getenv(name)
  if v == "" then return nil end
  return v
end

-- Command-line options win over the environment; within the environment a
-- hash and a login together are ambiguous.
local function credentials(o, getenv)
  if o.hash and o.login then usage("give --hash or --login, not both") end
  if o.hash or o.login then return o.hash, o.login end
  local hash, login = env(getenv, "NAVIXY_HASH"), env(getenv, "NAVIXY_LOGIN")
  if hash and login then
    usage("NAVIXY_HASH and NAVIXY_LOGIN are both set: unset one, or choose with --hash or --login")
  end
  return hash, login
end

local function client_options(o, getenv, hash, on_request)
  return {
    url = o.url or (not o.region and env(getenv, "NAVIXY_URL")) or nil,
    region = o.region, hash = hash, auth = o.auth, panel = o.panel,
    timeout = tonumber(o.timeout), retries = tonumber(o.retries), -- numbers: see parse_args
    encoding = o.form and "form" or nil, ca_file = o["ca-file"], insecure = o.insecure or nil,
    rate_limit = tonumber(o["rate-limit"]), on_request = on_request,
  }
end

---------------------------------------------------------------- calls and output

-- The answer as readable JSON: from the raw body when there is one (exact
-- numbers, [] kept), else from the decoded value.
local function render(raw, value, compact)
  local text = raw and pretty.text(raw, compact)
  return text or pretty.value(value, compact)
end

local Run = {} -- the state of one run of the command
Run.__index = Run
Run.EXIT = M.EXIT

function Run.usage(_, fmt, ...) usage(fmt, ...) end

-- text with the secrets masked: those known so far, and the hash the
-- client holds now (it may have logged in again during the call).
function Run:mask(text)
  local current = self.client and not self.client_closed and self.client:get_hash()
  if current and current ~= self.masked_hash then -- once each: a batch or a subscription masks often
    self.masked_hash = current
    self.secrets[#self.secrets + 1] = current
  end
  return errors.mask(text, self.secrets)
end

function Run:say(line)
  io.stdout:flush() -- the answer first, then the line, also when both go to one pipe
  say_line(self:mask(line))
end

-- An answer is printed as it came: the one the user asked for is theirs
-- (api/key/list shows the key in use), and an error's answer was masked
-- where the client made the error (whole occurrences only: see errors.mask).
function Run:print(value, raw)
  io.stdout:write(render(raw, value, self.o.compact), "\n")
end

-- The call options of every call: the answer's bytes as the server sent
-- them (a 2xx answer is then not decoded by the client), so that the command
-- prints the numbers as the server spelled them; --output's file as the sink.
function Run:call_opts()
  local output = self.o.output ~= "-" and self.o.output or nil -- "-": stdout, as without --output
  return { decode = false, sink = output, method = self.o.get and "GET" or nil }
end

-- One call through the client (sessions, retries, errors): res, err and
-- the raw body of the answer res came from.
function Run:call()
  local action = self.o.action
  local raw, err, info = self.client:call(action, self.params, self:call_opts())
  if not raw then return nil, err end
  if type(raw) == "table" then return raw end -- a file that went to --output
  if self.o.verbose then
    for _, line in ipairs(request.answer_lines(info)) do self:say(line) end
  end
  -- a 2xx answer: what the client would have made of it, had it decoded it
  local res
  res, err = response.interpret(action, { status = info.status, body = raw, content_type = info.content_type },
    self.client_secrets)
  if not res then return nil, err end
  return res, nil, raw
end

-- Writes a successful answer: JSON (re-laid out), a file's bytes as they
-- are, or the description of a file that went to --output.
function Run:answer(res, raw)
  if res.content_type and res.size and res.success == nil then -- a file result
    if res.body then -- on a terminal, its controls made visible; else as it is
      io.stdout:write(shell.stdout_is_tty() and controls.plain(res.body, true) or res.body)
      return
    end
    res = { content_type = res.content_type, filename = res.filename, size = res.size, saved = self.o.output }
    raw = nil
  elseif self.o.format and self.o.format ~= "json" then
    local text, why = format.text(res, self.o.format)
    if text then
      io.stdout:write(text)
      return M.EXIT.ok
    end
    self:print(res, raw) -- the call was made: its answer is not lost
    self:say("navixy: " .. why)
    return M.EXIT.usage
  end
  self:print(res, raw)
  return M.EXIT.ok
end

function Run:fail(err)
  if err.response ~= nil then self:print(err.response) end -- the API's answer
  self:say(tostring(err))
  return EXIT_BY_KIND[err.kind] or M.EXIT.failure
end

function Run:password()
  local pw = env(self.getenv, "NAVIXY_PASSWORD")
  if not pw then
    if not shell.stdin_is_tty() then
      usage("--login needs a password: set NAVIXY_PASSWORD (standard input is not a terminal)")
    end
    local why
    pw, why = prompt.password("Password for " .. controls.plain(self.user) .. ": ")
    if why == "interrupted" then error({ exit = M.EXIT.interrupted, message = "navixy: interrupted" }, 0) end
    if not pw then usage("%s", why) end
  end
  self.secrets[#self.secrets + 1] = errors.hidden(pw)
  local escaped = pretty.quote(pw):sub(2, -2) -- as it would show inside a JSON string
  if escaped ~= pw then self.secrets[#self.secrets + 1] = errors.hidden(escaped) end
  return pw
end

-- Logs in (asking for the password if need be) and saves the session.
-- Returns true, or nil, exit status.
function Run:login()
  local res, err = self.client:login(self.user, self:password())
  if not res then return nil, self:fail(err) end
  self.secrets[#self.secrets + 1] = self.client:get_hash()
  if res.type == "second_factor_required" then
    self:say("navixy: user/auth: this account uses two-factor authentication, which the navixy "
      .. "command does not do: use an API key (--hash)")
    return nil, M.EXIT.api
  end
  self:save()
  return true
end

function Run:save()
  local hash = self.client:get_hash()
  if not self.session or not hash or hash == self.saved_hash then return end
  local ok, why = session_file.write(self.session, { url = self.url, login = self.user, hash = hash })
  if ok then self.saved_hash = hash else self:say("navixy: warning: " .. why) end
end

-- The session saved by an earlier run for this URL and login, when there is
-- one: made the client's hash. Returns whether there was.
function Run:resume_session()
  local saved = self.session and session_file.read(self.session)
  if not (saved and saved.url == self.url and saved.login == self.user) then return false end
  self.saved_hash = saved.hash
  self.secrets[#self.secrets + 1] = saved.hash
  self.client:set_hash(saved.hash)
  return true
end

-- The call with a login: a saved session first, when there is one; a new
-- login when there is none or it has ended.
function Run:call_with_login()
  if self:resume_session() then
    local res, err, raw = self:call()
    if res or err.kind ~= "api" or (err.code ~= 3 and err.code ~= 4) then return res, err, raw end
  end
  local ok, status = self:login()
  if not ok then return nil, status end
  local res, err, raw = self:call()
  self:save() -- the client may have logged in again during the call
  return res, err, raw
end

function Run:finish_login(res)
  local action = self.o.action:gsub("^/+", ""):gsub("/+$", "")
  if action == (self.o.panel and "account/logout" or "user/logout") then
    if res and self.session then session_file.remove(self.session) end
  elseif not self.session then
    self.client:logout() -- not kept: do not leave the session open (a failure changes nothing)
  end
end

-- --verbose and --dry-run: the request as it goes out, masked, on stderr.
function Run:show_request(settings)
  for _, line in ipairs(request.lines(settings, self.o.action, self.params, self.hash, self.o.get, self.user)) do
    self:say(line)
  end
end

function Run:execute()
  local o = self.o
  options.action(o.action)
  local on_request = o.verbose and function(r) self:say(request.attempt_line(r)) end or nil
  local copts = client_options(o, self.getenv, self.hash, on_request)
  local settings = options.client(copts, navixy.VERSION)
  -- a panel session is kept apart from a user session of the same URL
  self.url = settings.url .. (o.panel and options.PANEL_PATH or "")
  if o.action ~= "subscribe" and o.action ~= "batch" then
    local params, why = input.params(o, shell.stdin_is_tty)
    if why then usage("%s", why) end
    self.params = params
    if o.verbose or o["dry-run"] then self:show_request(settings) end
    if o["dry-run"] then return M.EXIT.ok end
  end
  local client = navixy.new(copts)
  self.client = client
  self.client_secrets = function() return self.secrets end
  if o.action == "subscribe" then return require("navixy.cli.subscribe").run(self) end
  if o.action == "batch" then return require("navixy.cli.batch").run(self) end
  local res, err, raw
  if self.user then
    res, err, raw = self:call_with_login()
    if res ~= nil or type(err) == "table" then self:finish_login(res) end
  else
    res, err, raw = self:call()
  end
  if type(err) == "number" then return err end -- the login failed; already said
  if not res then return self:fail(err) end
  return self:answer(res, raw)
end

local function run(argv, getenv)
  local done = require("navixy.cli.catalogue").run(argv, { usage = usage, help = M.HELP,
    version = navixy.VERSION, valued = VALUED, flags = FLAGS }) -- help, actions, completion
  if done then return done end
  local o = M.parse_args(argv)
  if o.help then
    io.stdout:write(M.HELP)
    return M.EXIT.ok
  end
  if o.version then
    io.stdout:write("navixy ", navixy.VERSION, " (navixy-lua, ", rawget(_G, "jit") and jit.version or _VERSION, ")\n")
    return M.EXIT.ok
  end
  if not o.action then usage("no ACTION given (e.g. navixy tracker/list; see navixy --help)") end
  if o.action ~= "subscribe" then
    require("navixy.cli.catalogue").check_action({ usage = usage }, o.action, o.panel)
  end
  if o.action == "subscribe" then
    if o.panel then usage("subscribe is a command of the user API, not of the Admin Panel (--panel)") end
    if o.get or o.output then usage("--get and --output are for calls, not for subscribe") end
  end
  if o.action ~= "batch" and (o.unordered or o.resume or o.concurrency) then
    usage("--unordered, --resume and --concurrency are options of navixy batch")
  end
  if (o.action == "batch" or o.action == "subscribe") and (o.format or o.output or o["dry-run"]) then
    usage("--format, --output and --dry-run are for one call, not for %s (it prints JSON lines)", o.action)
  end
  getenv = profiles.apply(o, getenv, usage)
  local hash, login = credentials(o, getenv)
  if not hash and not login and not require("navixy.cli.catalogue").public(o.action, o.panel) then
    usage("no credentials: give an API key with --hash or NAVIXY_HASH, or a login with --login or "
      .. "NAVIXY_LOGIN (and NAVIXY_PASSWORD)")
  end
  local session = o.session or (login and env(getenv, "NAVIXY_SESSION"))
  if o.session and not login then usage("--session keeps a login's session: it needs --login or NAVIXY_LOGIN") end
  if o.hash then -- once the command line is known to be usable
    say_line("navixy: warning: --hash puts the hash on the command line, where other users of "
      .. "this machine can see it (ps): set NAVIXY_HASH instead (e.g. NAVIXY_HASH=$(cat FILE))")
  end
  local self = setmetatable({
    o = o, getenv = getenv, hash = hash, user = login, session = session,
    secrets = { hash },
  }, Run)
  local ok, status = pcall(self.execute, self)
  if self.client then
    self.client:close()
    self.client_closed = true
  end
  if not ok then
    if type(status) == "string" then status = errors.mask(status, self.secrets) end
    error(status, 0)
  end
  return status
end

--- Runs the command with `argv` (arg[1..n]) and `getenv` (os.getenv by
-- default); returns the exit status.
function M.main(argv, getenv)
  local ok, status = pcall(run, argv, getenv or os.getenv)
  if ok then return status end
  prompt.finish() -- an interrupted prompt restores the terminal before we exit
  if type(status) == "table" and status.exit then
    say_line(status.message)
    return status.exit
  end
  local msg = tostring(status)
  if msg:find("interrupted!$") then -- Ctrl-C, as the lua interpreter reports it
    say_line("navixy: interrupted")
    return M.EXIT.interrupted
  end
  if msg:find("^navixy:") then -- misuse the library refused (a bad URL, option or action)
    say_line(cli_options.in_command_terms(msg))
    return M.EXIT.usage
  end
  say_line("navixy: internal error (please report it): " .. msg:gsub("\n.*", ""))
  return M.EXIT.internal
end

return M

--- Named profiles of the navixy command (--profile NAME, or NAVIXY_PROFILE):
-- sections of the config file ($NAVIXY_CONFIG, else
-- ~/.config/navixy/config), in the form
--
--   [prod]
--   url = https://api.us.navixy.com/v2
--   hash_command = pass show navixy/prod     # or hash_env, hash_file, hash
--
--   [panel]
--   panel = true
--   login = 20410
--   password_env = PANEL_PASSWORD            # or password_file, _command, password
--
-- A profile stands in for the environment: with one, NAVIXY_URL,
-- NAVIXY_HASH, NAVIXY_LOGIN, NAVIXY_PASSWORD and NAVIXY_SESSION come from it
-- (never from the environment), and command-line options still win. The
-- hash or the password comes from an environment variable (_env), the first
-- line of a file (_file, private to the user like a session file) or of what
-- a command prints (_command); written in the config file itself (hash =,
-- password =) only when that file is private (0600), else refused.
local cli_options = require "navixy.cli.options"
local options = require "navixy.options"
local shell = require "navixy.cli.shell"

local M = {}

-- The keys of a profile: those that name an environment variable of the
-- command, and the ones that set an option.
local ENV_OF = { url = "NAVIXY_URL", login = "NAVIXY_LOGIN", session = "NAVIXY_SESSION" }
local OPTION = { region = true, auth = true, panel = true, timeout = true, retries = true, ["ca_file"] = true,
  ["rate_limit"] = true, insecure = true }
local SECRET = { hash = "NAVIXY_HASH", password = "NAVIXY_PASSWORD" }

local KNOWN = {}
for k in pairs(ENV_OF) do KNOWN[k] = true end
for k in pairs(OPTION) do KNOWN[k] = true end
for k in pairs(SECRET) do
  for _, how in ipairs { "", "_env", "_file", "_command" } do KNOWN[k .. how] = true end
end

--- The config file's path.
function M.path(getenv)
  local set = getenv("NAVIXY_CONFIG")
  if set and set ~= "" then return set end
  local home = getenv("HOME")
  if not home or home == "" then return nil end
  return home .. "/.config/navixy/config"
end

-- The sections of the config text: { name = { key = value, _line = { key = n } } },
-- or nil, why.
local function parse(text, path)
  local sections, current, n = {}, nil, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    local body = line:match("^%s*(.-)%s*$")
    if body ~= "" and not body:find("^[#;]") then
      local name = body:match("^%[%s*([^%]]-)%s*%]$")
      local key, value = body:match("^([%w_]+)%s*=%s*(.-)$")
      if name then
        current = sections[name] or {}
        sections[name] = current
      elseif key and current then
        if not KNOWN[key] then
          local best = options.closest(key, KNOWN)
          return nil, ("%s line %d: unknown key '%s'%s"):format(path, n, key,
            best and (" (did you mean '" .. best .. "'?)") or "")
        end
        current[key] = value
      elseif key then
        return nil, ("%s line %d: '%s' comes before any [profile] line"):format(path, n, key)
      else
        return nil, ("%s line %d: not 'key = value', '[name]' or a # comment"):format(path, n)
      end
    end
  end
  return sections
end

local function first_line_of(text)
  return (text or ""):match("^%s*([^\r\n]-)%s*\r?\n") or (text or ""):match("^%s*(.-)%s*$")
end

-- The secret `what` (hash, password) of profile p: value, or nil; raises a
-- usage error through `usage` when its source fails.
local function secret(p, what, name, path, getenv, usage)
  local given = {}
  for _, how in ipairs { "", "_env", "_file", "_command" } do
    if p[what .. how] then given[#given + 1] = what .. how end
  end
  if #given > 1 then usage("profile %s: give one of %s", name, table.concat(given, ", ")) end
  local value
  if p[what] then
    local why = shell.not_private(path)
    if why then
      usage("profile %s writes the %s in %s, which %s: make it private (chmod 600 %s) or use %s_env, %s_file "
        .. "or %s_command", name, what, path, why, path, what, what, what)
    end
    value = p[what]
  elseif p[what .. "_env"] then
    value = getenv(p[what .. "_env"])
    if not value or value == "" then
      usage("profile %s: the environment variable %s (%s_env) is not set", name, p[what .. "_env"], what)
    end
  elseif p[what .. "_file"] then
    local file = p[what .. "_file"]:gsub("^~/", (getenv("HOME") or "~") .. "/")
    local f, err = io.open(file, "rb")
    if not f then usage("profile %s: cannot read %s_file: %s", name, what, tostring(err)) end
    local text = f:read("*a")
    f:close()
    local why = shell.not_private(file)
    if why then usage("profile %s: %s_file %s %s: make it private (chmod 600)", name, what, file, why) end
    value = first_line_of(text)
  elseif p[what .. "_command"] then
    local pipe = io.popen(p[what .. "_command"]) -- its stderr goes to ours: the user sees why it failed
    value = first_line_of(pipe:read("*a"))
    pipe:close()
    if value == "" then usage("profile %s: %s_command printed nothing", name, what) end
  end
  if value == "" then value = nil end
  return value
end

--- Loads profile `name` for a run: returns getenv (the profile's values in
-- place of the command's environment variables, other variables as
-- before) and the options it sets (o's names, for those the command line
-- leaves unset). Raises usage errors through `usage(fmt, ...)`.
function M.load(name, getenv, usage)
  local path = M.path(getenv)
  if not path then usage("--profile: no config file (set NAVIXY_CONFIG, or HOME for ~/.config/navixy/config)") end
  local f, err = io.open(path, "rb")
  if not f then usage("--profile %s: cannot read the config file: %s", name, tostring(err)) end
  local text = f:read("*a")
  f:close()
  local sections, why = parse(text, path)
  if not sections then usage("%s", why) end
  local p = sections[name]
  if not p then
    local names = {}
    for k in pairs(sections) do names[#names + 1] = k end
    table.sort(names)
    usage("no profile [%s] in %s (profiles: %s)", name, path, #names > 0 and table.concat(names, ", ") or "none")
  end
  local env = {}
  for key, var in pairs(ENV_OF) do env[var] = p[key] end
  for what, var in pairs(SECRET) do env[var] = secret(p, what, name, path, getenv, usage) end
  local function profile_getenv(var)
    if var:find("^NAVIXY_") then return env[var] end
    return getenv(var)
  end
  local opts = {}
  for key in pairs(OPTION) do
    local v = p[key]
    if v ~= nil then
      if v == "true" then v = true elseif v == "false" then v = nil end
      opts[(key:gsub("_", "-"))] = v
    end
  end
  return profile_getenv, opts
end

--- The profile of this run (--profile, else NAVIXY_PROFILE), if any, put
-- in place: its options set into `o` where the command line left them unset
-- (checked as on the command line); returns the getenv the run goes on with.
function M.apply(o, getenv, usage)
  local name = o.profile
  if not name then
    name = getenv("NAVIXY_PROFILE")
    if not name or name == "" then return getenv end
  end
  local profile_getenv, opts = M.load(name, getenv, usage)
  for k, v in pairs(opts) do
    if o[k] == nil then
      local wrong = type(v) == "string" and cli_options.check(k, v)
      if wrong then usage("profile %s: %s", name, (wrong:gsub("^option %-%-", ""))) end
      o[k] = v
    end
  end
  return profile_getenv
end

return M

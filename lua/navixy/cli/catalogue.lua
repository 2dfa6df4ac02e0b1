--- The command's subcommands that read the catalogue of documented actions:
--   navixy help ACTION|NAMESPACE|WORD
--   navixy actions [PREFIX]          (one action a line)
--   navixy actions --params ACTION   (its param names as name= / name:=, for completion)
--   navixy completion bash|zsh       (a completion script for actions and params)
-- cli/init.lua hands the command line here first (M.run).
local M = {}

local function say(text)
  io.stdout:write(text)
  return 0
end

local function lines(list)
  if #list == 0 then return "" end
  return table.concat(list, "\n") .. "\n"
end

local function help(ctx, topic)
  if topic == nil then return say(ctx.help) end
  local text = require("navixy.help").topic(topic)
  if not text then ctx.usage("nothing documented about %q (navixy actions lists every action)", topic) end
  return say((text:gsub("^\n", "")))
end

-- name= for a string param (sent as it is written), name:= for any other
-- JSON type (the value is JSON): what the command line takes (cli/init.lua).
local function param_words(entry)
  local out = {}
  for _, p in ipairs(entry.params) do
    if not p.name:find(".", 1, true) then
      out[#out + 1] = p.name .. ((p.type == nil or p.type == "string") and "=" or ":=")
    end
  end
  return out
end

-- The namespaces beside `prefix` ("trackr" -> "tracker", "track") nearest
-- to it: a prefix is a namespace more often than an action.
local function nearest_namespaces(catalogue, prefix)
  local parent = prefix:match("^(.*)/[^/]*$") or ""
  local found = {}
  for _, child in ipairs(catalogue.children(parent)) do
    local path = parent == "" and child or parent .. "/" .. child
    if catalogue.distance(prefix, path) <= 2 then found[#found + 1] = path end
  end
  return found
end

local function actions(ctx, argv)
  local catalogue = require "navixy.catalogue"
  if argv[2] == "--params" then
    local entry = argv[3] and catalogue.get(argv[3])
    if not entry then ctx.usage("actions --params needs a documented ACTION") end
    return say(lines(param_words(entry)))
  end
  local prefix = argv[2]
  local found = catalogue.actions(prefix)
  if #found == 0 then
    local near = nearest_namespaces(catalogue, prefix)
    ctx.usage("no documented action under %q%s", prefix,
      #near > 0 and " (did you mean " .. table.concat(near, ", ") .. "?)" or "")
  end
  return say(lines(found))
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = "--" .. k end
  table.sort(out)
  return out
end

local SUBCOMMANDS = "help actions completion subscribe"

-- @VALUED@: the options that take a value, skipped (with it) when looking
-- for the action; @OPTIONS@ every option.
local BASH = [==[
# bash completion for navixy (navixy-lua): eval "$(navixy completion bash)"
_navixy() {
  local cur=${COMP_WORDS[COMP_CWORD]} action="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      @VALUED@) ((i++)) ;;
      -*) ;;
      *) action=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [[ -z $action ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "@OPTIONS@" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "@SUBCOMMANDS@ $(navixy actions 2>/dev/null)" -- "$cur"))
    fi
    return
  fi
  case $action in
    help) COMPREPLY=($(compgen -W "$(navixy actions 2>/dev/null)" -- "$cur")) ;;
    actions) COMPREPLY=($(compgen -W "$(navixy actions 2>/dev/null)" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    *) compopt -o nospace 2>/dev/null
       COMPREPLY=($(compgen -W "$(navixy actions --params "$action" 2>/dev/null)" -- "$cur")) ;;
  esac
}
complete -F _navixy navixy
]==]

local ZSH = [==[
#compdef navixy
# zsh completion for navixy (navixy-lua): navixy completion zsh > ~/.zfunc/_navixy
# (with ~/.zfunc in fpath before compinit), or eval "$(navixy completion zsh)"
_navixy() {
  local action="" i
  for ((i = 2; i < CURRENT; i++)); do
    case ${words[i]} in
      (@VALUED@) ((i++)) ;;
      (-*) ;;
      (*) action=${words[i]}; break ;;
    esac
  done
  if [[ -z $action ]]; then
    if [[ $PREFIX == -* ]]; then
      compadd -- @OPTIONS@
    else
      compadd -- @SUBCOMMANDS@ ${(f)"$(navixy actions 2>/dev/null)"}
    fi
    return
  fi
  case $action in
    (help|actions) compadd -- ${(f)"$(navixy actions 2>/dev/null)"} ;;
    (completion) compadd -- bash zsh ;;
    (*) compadd -S '' -- ${(f)"$(navixy actions --params "$action" 2>/dev/null)"} ;;
  esac
}
if [[ $funcstack[1] == _navixy ]]; then _navixy "$@"; else compdef _navixy navixy; fi
]==]

local function completion(ctx, shell)
  local script = ({ bash = BASH, zsh = ZSH })[shell]
  if not script then ctx.usage("completion takes bash or zsh") end
  local options = sorted_keys(ctx.flags)
  for _, o in ipairs(sorted_keys(ctx.valued)) do options[#options + 1] = o end
  local fill = {
    VALUED = table.concat(sorted_keys(ctx.valued), "|"),
    OPTIONS = table.concat(options, " "),
    SUBCOMMANDS = SUBCOMMANDS,
  }
  return say((script:gsub("@(%u+)@", fill)))
end

-- What the catalogue says of `action` as the command calls it (with
-- --panel, relative to panel/).
local function known(action, panel)
  return require("navixy.catalogue").lookup(action, panel and "panel/" or "")
end

--- Raises a usage error for a near-typo of a documented action, before
-- credentials are asked for: the library's own words (navixy.catalogue).
function M.check_action(ctx, action, panel)
  local typo = known(action, panel).typo
  if typo then ctx.usage("unknown action %q (did you mean %q?)", action, typo) end
end

--- Whether `action` needs no credentials: the catalogue's no-auth actions
-- that take no session hash (user/auth, panel/account/auth,
-- panel/timezone/list, ...).
function M.public(action, panel)
  local entry = known(action, panel).entry
  return entry and require("navixy.catalogue.calls").no_session(entry) or false
end

local RUN = {
  help = function(ctx, argv) return help(ctx, argv[2]) end,
  actions = actions,
  completion = function(ctx, argv) return completion(ctx, argv[2]) end,
}

--- Runs `argv` when its first word is one of these subcommands and returns
-- the exit status; nil for any other command line. `ctx`: { usage (raises
-- a usage error), help (the command's --help text), version, valued and
-- flags (the command's options, for completion) }.
function M.run(argv, ctx)
  local run = RUN[argv[1]]
  if not run then return nil end
  if #argv > 3 or (argv[1] ~= "actions" and #argv > 2) then
    ctx.usage("too many words for %s (see navixy --help)", argv[1])
  end
  return run(ctx, argv)
end

return M

--- What a call takes from the catalogue of documented actions (see
-- navixy.call, which loads this at a client's first call, never with
-- `require "navixy"`): the checks before sending, the params shaped for
-- the docs, the method, whether the action is safe to repeat, whether it
-- needs a session, and what to say when the server refuses an action the
-- docs do not have.
local catalogue = require "navixy.catalogue"
local errors = require "navixy.errors"
local params_rules = require "navixy.catalogue.params"

local misuse = errors.misuse

local M = {}

-- What every call of a looked-up action reads, worked out at its first
-- call and kept in its lookup (see M.known): the documented method
-- (doc_method: "GET" or nil), documented, read_only (nil when not
-- documented: navixy.retry judges by the name), no_session, and
-- any_required (a call without params has something to check).
local function derive(known)
  local entry = known.entry
  known.documented = entry and true or false
  if not entry then return end
  known.doc_method = entry.method == "GET" and "GET" or nil
  known.read_only = entry.read_only
  known.no_session = M.no_session(entry)
  for _, p in ipairs(entry.params) do
    if p.required then known.any_required = true end
  end
end

--- What the catalogue says of `action` for the client `st` (its actions
-- relative to st.catalogue_base): { entry, typo, path } and what derive
-- adds, kept per name.
function M.known(st, action)
  local known = catalogue.lookup(action, st.catalogue_base)
  if known.documented == nil then derive(known) end
  return known
end

--- The checks before sending, on unless the call or the client says
-- validate = false: a near-typo of a documented action, and params that do
-- not fit what the docs say exactly. Both misuse: the call cannot succeed.
function M.check(st, action, known, params, call_opts)
  local validate = call_opts.validate
  if validate == nil then validate = st.validate end
  if not validate then return end
  if known.typo then misuse("unknown action %q (did you mean %q?)", action, known.typo) end
  if params == nil and not known.any_required then return end -- nothing there to check
  local problems = known.entry and params_rules.check(known.entry, params)
  if problems then
    misuse("%s: params do not fit the docs: %s (validate = false sends them as they are)",
      action, table.concat(problems, "; "))
  end
end

--- `params` as they go: an empty table where the docs type an array as [].
function M.shape(known, params)
  if params == nil then return nil end
  return known.entry and params_rules.shape(known.entry, params) or params
end

--- The method a call goes as: call_opts.method, else the documented one
-- (IoT Logic's GET operations), else POST (nil).
function M.method(known, call_opts)
  return call_opts.method or known.doc_method
end

-- Whether an action's docs take the session's hash as a param: a no-auth
-- action that does (dealer/get_ui_config: the hash names whose dealer) goes
-- with the session as any other call, its login included.
local function takes_hash(entry)
  for _, p in ipairs(entry.params) do
    if p.name == "hash" then return true end
  end
  return false
end

--- Whether a documented action goes with no session at all: no hash, no
-- login first (no-auth, and its docs take no hash).
function M.no_session(entry)
  return entry.no_auth and not takes_hash(entry)
end

function M.mark(job, known)
  job.documented = known.documented
  job.read_only = known.read_only
  if known.no_session then job.sessionless, job.anonymous = true, true end
end

--- An action the catalogue does not know, refused as unknown by the
-- server (HTTP 404, or API error 5, "Wrong request format", as Navixy
-- answers a path it has no action for): the error names the nearest
-- documented actions, in err.nearest and in its description.
function M.undocumented(st, job, err)
  -- 111 "Wrong handler" is the docs' answer to an unknown action (errors.md);
  -- 404 and 5 what a base URL or a proxy in front may answer
  if err.status ~= 404 and not (err.kind == "api" and (err.code == 5 or err.code == 111)) then return end
  local nearest, base = catalogue.nearest(M.known(st, job.action).path), st.catalogue_base
  for i, path in ipairs(nearest) do -- as this client names them
    if base ~= "" and path:sub(1, #base) == base then nearest[i] = path:sub(#base + 1) end
  end
  err.nearest = nearest
  err.description = tostring(err.description) .. " (" .. job.action .. " is not a documented action"
    .. (#nearest > 0 and "; nearest: " .. table.concat(nearest, ", ") or "") .. ")"
end

return M

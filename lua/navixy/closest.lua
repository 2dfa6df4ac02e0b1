--- "Did you mean": the nearest of some names to one mistyped, for the
-- library's misuse errors (options, methods, actions) and the command's.
local M = {}

--- Damerau-Levenshtein distance (optimal string alignment: a swap of two
-- neighbours counts 1), bytes, rows kept three at a time. With `limit`, a
-- distance past it comes back as limit + 1, found as soon as a whole row is
-- past it (no later row can be nearer): a name is weighed against every action in
-- the catalogue, and nearly all are far.
function M.distance(a, b, limit)
  local la, lb = #a, #b
  if limit and (math.abs(la - lb) > limit or M.unmatched(a, b) > limit) then return limit + 1 end
  local before, previous, current = {}, {}, {}
  for j = 0, lb do previous[j] = j end
  for i = 1, la do
    current[0] = i
    local ca, least = a:byte(i), i
    for j = 1, lb do
      local cb = b:byte(j)
      local cost = ca == cb and 0 or 1
      local d = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then
        d = math.min(d, before[j - 2] + 1)
      end
      current[j] = d
      if d < least then least = d end
    end
    if limit and least > limit then return limit + 1 end
    before, previous, current = previous, current, before
  end
  if limit and previous[lb] > limit then return limit + 1 end
  return previous[lb]
end

--- A lower bound of the distance, at the cost of one pass over `b`: every
-- byte of one name that the other lacks (counted with repeats) needs an edit
-- of its own. The table-filling distance costs #a * #b steps; this lets it
-- run only for the few names that can be near. `a`'s byte counts are kept
-- from the call before: one name is weighed against a whole catalogue.
local counted, counts = nil, nil
function M.unmatched(a, b)
  if a ~= counted then
    counts = {}
    for i = 1, #a do
      local c = a:byte(i)
      counts[c] = (counts[c] or 0) + 1
    end
    counted = a
  end
  local used, extra = {}, 0 -- extra: bytes of b with no byte of a left to match
  for j = 1, #b do
    local c = b:byte(j)
    local n = (used[c] or 0) + 1
    used[c] = n
    if n > (counts[c] or 0) then extra = extra + 1 end
  end
  -- matched = #b - extra; what is left of a has no match either
  return math.max(extra, #a - (#b - extra))
end

--- The one of `names` (an array of strings, or a set: name = anything)
-- nearest to `name`: within 2 edits, and fewer than `name` has letters; else
-- nil. At the same distance, the first in sorted order.
function M.closest(name, names)
  name = tostring(name)
  local best, best_d
  local function consider(candidate)
    local d = M.distance(name, candidate, 2)
    if not best_d or d < best_d or (d == best_d and candidate < best) then best, best_d = candidate, d end
  end
  if names[1] ~= nil then
    for _, candidate in ipairs(names) do consider(candidate) end
  else
    for candidate in pairs(names) do if type(candidate) == "string" then consider(candidate) end end
  end
  if best_d and best_d <= 2 and best_d < #name then return best end
  return nil
end

return M

--- "Did you mean": the nearest of some names to one mistyped, for the
-- library's misuse errors (options, methods, actions) and the command's.
local M = {}

--- Damerau-Levenshtein distance (optimal string alignment: a swap of two
-- neighbours counts 1), bytes, rows kept three at a time. With `limit`, a
-- distance past it comes back as limit + 1 as soon as a whole row is past it
-- (no later row can be nearer): a name is weighed against every action in
-- the catalogue, and nearly all are far.
function M.distance(a, b, limit)
  local la, lb = #a, #b
  if limit and math.abs(la - lb) > limit then return limit + 1 end
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
  return previous[lb]
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

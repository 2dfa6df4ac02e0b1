-- The documents a reader gets: README.md, CONTRIBUTING.md and the guides in
-- docs/ (every docs/*.md, read from the tree, so a new guide is included).
-- The specs that replay their examples, check their links and find the
-- examples/ files they print read them through here.
local read = require("local_files").read

local M = {}

-- Their paths, README.md first, relative to `root` (default: the current
-- directory, the checkout's root when busted runs).
function M.paths(root)
  root = root or "."
  local paths = { "README.md", "CONTRIBUTING.md" }
  local ls = assert(io.popen("cd '" .. root .. "' && ls docs/*.md"))
  for path in ls:lines() do paths[#paths + 1] = path end
  ls:close()
  assert(#paths > 3, "no guides in " .. root .. "/docs")
  return paths
end

-- The path of the first document whose text holds `text` exactly, or nil.
function M.showing(text, root)
  root = root or "."
  for _, path in ipairs(M.paths(root)) do
    if read(root .. "/" .. path):find(text, 1, true) then return path end
  end
end

return M

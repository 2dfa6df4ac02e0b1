-- The README's examples for the shell and the REPL are transcripts: this
-- runs every ```console block of "From the shell" and "In the REPL" against
-- the fake server and compares what comes out with what the README shows.
-- In an expected line, a trailing "..." matches any rest of the line, and a
-- line of just "..." matches any lines up to the next expected one.
local fake = require "fake"

local LUA = require "flavour"
local README_PORT = "127.0.0.1:18080"

local q = require("local_files").quote

local local_files = require "local_files"
local read, run = local_files.read, local_files.output

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function lines_of(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  if lines[#lines] == "" then lines[#lines] = nil end
  return lines
end

-- The ```console blocks of a README section, as arrays of lines, with the
-- README's fake-server address replaced by this run's.
local function console_blocks(readme, section)
  local body = readme:match("\n## " .. section:gsub("%p", "%%%0") .. "\n(.-)\n## ")
  assert(body, "README has no section " .. section)
  local blocks = {}
  for block in body:gmatch("```console\n(.-)```") do
    blocks[#blocks + 1] = lines_of((block:gsub(README_PORT:gsub("%p", "%%%0"), "127.0.0.1:" .. fake.port)))
  end
  return blocks
end

-- Splits a transcript into steps { input = "...", expected = { lines } }.
local function steps_of(block, prompt)
  local steps = {}
  for _, line in ipairs(block) do
    if line:sub(1, #prompt) == prompt then
      steps[#steps + 1] = { input = line:sub(#prompt + 1), expected = {} }
    else
      assert(#steps > 0, "output before the first prompt: " .. line)
      table.insert(steps[#steps].expected, line)
    end
  end
  return steps
end

-- Whether `actual` lines are what `expected` shows (with the "..." rules).
local function matches(expected, actual)
  local i, j = 1, 1
  while i <= #expected do
    local e = expected[i]
    if e == "..." then
      if i == #expected then return true end
      while j <= #actual and actual[j] ~= expected[i + 1] do j = j + 1 end
      i = i + 1
    else
      local a = actual[j]
      if a == nil then return false end
      if e:sub(-3) == "..." then
        if a:sub(1, #e - 3) ~= e:sub(1, -4) then return false end
      elseif a ~= e then
        return false
      end
      i, j = i + 1, j + 1
    end
  end
  return j > #actual
end

-- Runs the steps through `command` (which reads a script file whose steps
-- print "@@<n>" before they run) and checks each step's output.
local function check(steps, output)
  local outputs = {}
  local n
  for _, line in ipairs(lines_of(output)) do
    local marker = line:match("^@@(%d+)$")
    if marker then
      n = tonumber(marker)
      outputs[n] = {}
    elseif n then
      table.insert(outputs[n], line)
    end
  end
  for k, step in ipairs(steps) do
    local actual = outputs[k] or {}
    assert(matches(step.expected, actual), ("step %d: %s\nexpected:\n%s\ngot:\n%s"):format(k, step.input,
      table.concat(step.expected, "\n"), table.concat(actual, "\n")))
  end
end

-- Lua's interactive mode, as lua.c does it: a line is tried as an
-- expression first (its values printed), then as a statement.
local REPL = [=[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/]=] .. LUA .. [=[/?.so;" .. package.cpath
local n = 0
for line in io.lines(arg[1]) do
  n = n + 1
  print("@@" .. n)
  local chunk = (loadstring or load)("return " .. line, "=stdin") or assert((loadstring or load)(line, "=stdin"))
  local function show(ok, ...)
    if not ok then print((...)) elseif select("#", ...) > 0 then print(...) end
  end
  show(pcall(chunk))
  io.stdout:flush()
end
]=]

describe("the README's transcripts", function()
  local readme = read("README.md")
  local home, files

  before_each(function()
    fake.reset()
    home = os.tmpname()
    os.remove(home)
    assert(os.execute("mkdir -m 700 " .. q(home)))
    files = {}
  end)
  after_each(function()
    os.execute("rm -rf " .. q(home))
    for _, f in ipairs(files) do os.remove(f) end
  end)

  local function script_file(text)
    local name = os.tmpname()
    files[#files + 1] = name
    write(name, text)
    return name
  end

  it("From the shell: every command prints what the README shows", function()
    -- one shell for all the blocks, as a reader would type them in one
    -- terminal: an empty environment but PATH and a HOME of its own, and a
    -- proxy that is not there, so that nothing could leave the machine
    local blocks = console_blocks(readme, "From the shell")
    assert.is_true(#blocks >= 3)
    local steps = {}
    for _, block in ipairs(blocks) do
      for _, step in ipairs(steps_of(block, "$ ")) do steps[#steps + 1] = step end
    end
    local script = { "navixy() { " .. LUA .. " " .. q(fake.root .. "/bin/navixy") .. ' "$@"; }' }
    for k, step in ipairs(steps) do
      -- the marker keeps $? for a step that reads it (echo $?)
      script[#script + 1] = "s=$?; echo @@" .. k .. "; (exit $s)"
      script[#script + 1] = step.input .. " 2>&1"
    end
    local name = script_file(table.concat(script, "\n") .. "\n")
    check(steps, run("env -i PATH=" .. q(os.getenv("PATH")) .. " HOME=" .. q(home)
      .. " https_proxy=http://127.0.0.1:1 sh " .. q(name)))
  end)

  it("In the REPL, and for files: every line prints what the README shows", function()
    local blocks = console_blocks(readme, "In the REPL")
    assert.is_true(#blocks >= 1)
    for _, block in ipairs(console_blocks(readme, "Files, uploads and GET actions")) do
      blocks[#blocks + 1] = block
    end
    for _, block in ipairs(blocks) do
      local steps = steps_of(block, "> ")
      local inputs = {}
      for k, step in ipairs(steps) do inputs[k] = step.input end
      local repl, input = script_file(REPL), script_file(table.concat(inputs, "\n") .. "\n")
      check(steps, run("env -i PATH=" .. q(os.getenv("PATH")) .. " " .. LUA .. " " .. q(repl) .. " " .. q(input)))
    end
  end)
end)

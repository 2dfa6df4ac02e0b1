-- The documents' examples for the shell and the REPL are transcripts: this
-- runs every ```console block of the README, CONTRIBUTING.md and the guides
-- in docs/ (spec/support/docs.lua) against the fake server and compares what
-- comes out with what the document shows. A block whose first line starts
-- with "$ " is typed into a shell, one shell for all such blocks of a
-- document; one that starts with "> " into a Lua prompt of its own.
-- In an expected line, a trailing "..." matches any rest of the line, and a
-- line of just "..." matches any lines up to the next expected one.
-- It also checks that every relative link of the documents leads somewhere.
local fake = require "fake"
local docs = require "docs"

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

-- The ```console blocks of a document, as arrays of lines, with the
-- documents' fake-server address replaced by this run's.
local function console_blocks(text)
  local blocks = {}
  for block in text:gmatch("```console\n(.-)```") do
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
-- expression first (its values printed), then as a statement; "= exp" is
-- "return exp", as the prompts of Lua 5.1 and LuaJIT read it.
local REPL = [=[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/]=] .. LUA .. [=[/?.so;" .. package.cpath
local n = 0
for line in io.lines(arg[1]) do
  n = n + 1
  print("@@" .. n)
  line = line:gsub("^=", "")
  local chunk = (loadstring or load)("return " .. line, "=stdin") or assert((loadstring or load)(line, "=stdin"))
  local function show(ok, ...)
    if not ok then print((...)) elseif select("#", ...) > 0 then print(...) end
  end
  show(pcall(chunk))
  io.stdout:flush()
end
]=]

-- What a transcript is typed into, by the prompt of its first line.
local function prompt_of(block)
  for _, prompt in ipairs { "$ ", "> " } do
    if (block[1] or ""):sub(1, #prompt) == prompt then return prompt end
  end
  error("a ```console block that starts with neither \"$ \" nor \"> \": " .. tostring(block[1]))
end

describe("the documents' transcripts", function()
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

  -- One shell for all the blocks, as a reader would type them in one
  -- terminal: an empty environment but PATH and a HOME of its own, and a
  -- proxy that is not there, so that nothing could leave the machine.
  local function run_shell(blocks)
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
  end

  local function run_repl(block)
    local steps = steps_of(block, "> ")
    local inputs = {}
    for k, step in ipairs(steps) do inputs[k] = step.input end
    local repl, input = script_file(REPL), script_file(table.concat(inputs, "\n") .. "\n")
    check(steps, run("env -i PATH=" .. q(os.getenv("PATH")) .. " " .. LUA .. " " .. q(repl) .. " " .. q(input)))
  end

  -- Every document's blocks, sorted by what they are typed into.
  local transcripts = {}
  for _, path in ipairs(docs.paths()) do
    local shell, repl = {}, {}
    for _, block in ipairs(console_blocks(read(path))) do
      table.insert(prompt_of(block) == "$ " and shell or repl, block)
    end
    transcripts[#transcripts + 1] = { path = path, shell = shell, repl = repl }
  end

  -- what is replayed, all documents together: never fewer than the README
  -- alone had before the guides were split off it (7 blocks of 45 steps)
  local blocks, steps = 0, 0
  for _, doc in ipairs(transcripts) do
    for _, list in ipairs { doc.shell, doc.repl } do
      for _, block in ipairs(list) do
        blocks = blocks + 1
        steps = steps + #steps_of(block, prompt_of(block))
      end
    end
  end

  for _, doc in ipairs(transcripts) do
    if #doc.shell > 0 then
      it(doc.path .. ": every shell command prints what it shows", function()
        run_shell(doc.shell)
      end)
    end
    if #doc.repl > 0 then
      it(doc.path .. ": every line typed at the Lua prompt prints what it shows", function()
        for _, block in ipairs(doc.repl) do run_repl(block) end
      end)
    end
  end

  -- The README's block for the prompts that print no bare expression, typed
  -- into the real ones (their standard input a file: no terminal, same reading).
  it("README.md: the block for LuaJIT's and Lua 5.1's prompts prints what it shows in luajit -i and lua5.1 -i",
    function()
      local block
      for _, b in ipairs(transcripts[1].repl) do
        for _, line in ipairs(b) do
          if line:find("^> = ") then block = block or b end
        end
      end
      assert.truthy(block, "README.md shows no block with '> = expression'")
      local typed = steps_of(block, "> ")
      local inputs, expected = {}, {}
      for k, step in ipairs(typed) do
        inputs[k] = step.input
        for _, line in ipairs(step.expected) do expected[#expected + 1] = line end
      end
      local input = script_file(table.concat(inputs, "\n") .. "\n")
      for _, lua in ipairs { "luajit", "lua5.1" } do
        local out = run("env -i PATH=" .. q(os.getenv("PATH")) .. " LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH="
          .. q("build/" .. lua .. "/?.so;;") .. " " .. lua .. " -i < " .. q(input) .. " 2>&1")
        local actual = {}
        for _, line in ipairs(lines_of(out)) do
          -- the prompts, printed before each line read, and terminal controls
          line = line:gsub("[\1-\8\11-\31\127]", ""):gsub("^[> ]*>%s?", "")
          -- lua5.1's readline echoes each line read (scrolled: "<" and its end)
          local echo = false
          for _, i in ipairs(inputs) do
            echo = echo or line == i or (line:sub(1, 1) == "<" and i:sub(-(#line - 1)) == line:sub(2))
          end
          if line ~= "" and not echo and not line:find("^LuaJIT ") and not line:find("^JIT: ")
            and not line:find("^Lua 5%.1") then
            actual[#actual + 1] = line
          end
        end
        assert(matches(expected, actual), ("%s -i:\nexpected:\n%s\ngot:\n%s"):format(lua,
          table.concat(expected, "\n"), table.concat(actual, "\n")))
      end
    end)

  it("replays the README's first call from the shell and from the REPL, and no fewer blocks than before", function()
    assert.is_true(#transcripts[1].shell >= 1 and #transcripts[1].repl >= 1, "the README shows no transcript")
    assert.is_true(blocks >= 7 and steps >= 45, ("%d blocks of %d steps"):format(blocks, steps))
  end)
end)

-- GitHub's anchor for a heading: lower case, punctuation but "-" and "_"
-- dropped, spaces made "-"; a repeated one gets "-1", "-2", ...
local function anchors_of(text)
  local anchors, seen, fenced = {}, {}, false
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:find("^%s*```") then fenced = not fenced end
    local heading = not fenced and line:match("^#+%s+(.-)%s*$")
    if heading then
      local slug = heading:lower():gsub("[^%w%s_%-\128-\255]", ""):gsub("%s", "-")
      local n = seen[slug]
      anchors[n and (slug .. "-" .. n) or slug] = true
      seen[slug] = (n or 0) + 1
    end
  end
  return anchors
end

-- The targets of a document's [text](target) links, outside code.
local function links_of(text)
  local links = {}
  text = ("\n" .. text):gsub("\n%s*```.-\n%s*```", "\n")
  for line in text:gmatch("[^\n]+") do
    line = line:gsub("`[^`]*`", "")
    for target in line:gmatch("%b[]%(([^%)%s]+)%)") do links[#links + 1] = target end
  end
  return links
end

describe("the documents' links", function()
  local function exists(path) -- a file or a directory
    local f = io.open(path, "r")
    if f then f:close() end
    return f ~= nil
  end

  it("lead to a file that exists and, with an #anchor, to a heading it has", function()
    local broken, relative = {}, 0
    for _, path in ipairs(docs.paths()) do
      local dir = path:match("^(.*/)") or ""
      local text = read(path)
      for _, target in ipairs(links_of(text)) do
        if not target:find("^%a[%w+.-]*:") then -- not https:, mailto:, ...
          relative = relative + 1
          local file, anchor = target:match("^([^#]*)#?(.*)$")
          local where = file == "" and path or (dir .. file):gsub("[^/]+/%.%./", "")
          if not exists(where) then
            broken[#broken + 1] = path .. ": " .. target .. " (no " .. where .. ")"
          elseif anchor ~= "" and not (where:find("%.md$") and anchors_of(read(where))[anchor]) then
            broken[#broken + 1] = path .. ": " .. target .. " (no heading #" .. anchor .. " in " .. where .. ")"
          end
        end
      end
    end
    assert.same({}, broken)
    assert.is_true(relative > 30, "only " .. relative .. " relative links: is the link pattern still right?")
  end)

  it("are found, and anchors made, as GitHub does", function()
    assert.same({ "a.md", "#x", "docs/b.md#the-c-d" },
      links_of("[A](a.md) and [`b`](#x)\n```\n[not](this)\n```\n`[nor](this)` [x](docs/b.md#the-c-d)"))
    local anchors = anchors_of("# The Admin Panel (dealers)\n## navixy.new options\n"
      .. "```\n# not a heading\n```\n## Options\n## Options\n")
    assert.same({ ["the-admin-panel-dealers"] = true, ["navixynew-options"] = true, options = true,
      ["options-1"] = true }, anchors)
  end)
end)

--- `make bench`: runs every measurement of bench/measure.lua and the plain
-- libcurl baselines (build/bench/raw) against the bench nginx, several
-- rounds, each round in the opposite order to the one before, and prints
-- per pair the median of the per-round ratios ours / baseline, beside its
-- target. Timing only: nothing here passes or fails.
--
--   lua5.4 bench/run.lua URL RAW [ROUNDS]
-- URL is the bench server's base (http://127.0.0.1:PORT); RAW the C baseline.
local url, raw, rounds = arg[1], arg[2], tonumber(arg[3] or 11)
if not (url and raw) then
  io.stderr:write("usage: lua5.4 bench/run.lua URL RAW [ROUNDS]\n")
  os.exit(2)
end

local measure = (arg[0]:match("^(.*)/run%.lua$") or "bench") .. "/measure.lua"
local FAST, SLOW = url .. "/v2", url .. "/slow/v2" -- /slow answers after 5 ms
local ACTION = "/tracker/get_state"
local N_SEQ, N_SOCKET, N_BATCH = 10000, 3000, 20000
local N_SLOW_SEQ, N_SLOW_BATCH = 200, 1600

-- name -> command whose output starts with a rate (calls/s)
local RUNS = {
  { "raw_seq", { raw, "seq", FAST .. ACTION, N_SEQ } },
  { "seq_54", { "lua5.4", measure, "seq", FAST, N_SEQ } },
  { "seq_jit", { "luajit", measure, "seq", FAST, N_SEQ } },
  { "socket_54", { "lua5.4", measure, "luasocket", FAST, N_SOCKET } },
  { "socket_jit", { "luajit", measure, "luasocket", FAST, N_SOCKET } },
  { "raw_multi", { raw, "multi", FAST .. ACTION, N_BATCH, 8 } },
  { "batch_54", { "lua5.4", measure, "batch", FAST, N_BATCH, 8 } },
  { "batch_jit", { "luajit", measure, "batch", FAST, N_BATCH, 8 } },
  { "slow_raw_seq", { raw, "seq", SLOW .. ACTION, N_SLOW_SEQ } },
  { "slow_seq_54", { "lua5.4", measure, "seq", SLOW, N_SLOW_SEQ } },
  { "slow_raw_multi", { raw, "multi", SLOW .. ACTION, N_SLOW_BATCH, 8 } },
  { "slow_batch_54", { "lua5.4", measure, "batch", SLOW, N_SLOW_BATCH, 8 } },
}

-- { label, ours, baseline, target, "min"|"max" }
local PAIRS = {
  { "sequential client:call, Lua 5.4 / raw libcurl easy loop", "seq_54", "raw_seq", 0.90, "min" },
  { "sequential client:call, LuaJIT / raw libcurl easy loop", "seq_jit", "raw_seq", 0.90, "min" },
  { "sequential client:call, Lua 5.4 / LuaSocket + cjson", "seq_54", "socket_54", 1.3, "min" },
  { "sequential client:call, LuaJIT / LuaSocket + cjson", "seq_jit", "socket_jit", 1.3, "min" },
  { "client:batch c=8, Lua 5.4 / raw curl multi, 8 handles", "batch_54", "raw_multi", 0.60, "min" },
  { "client:batch c=8, LuaJIT / raw curl multi, 8 handles", "batch_jit", "raw_multi", 0.60, "min" },
  { "client:batch c=8 / our sequential, Lua 5.4 (0 ms server)", "batch_54", "seq_54", 4, "min" },
  { "  (context: raw multi / raw easy loop, 0 ms server)", "raw_multi", "raw_seq" },
  { "client:batch c=8 / our sequential, Lua 5.4 (5 ms server)", "slow_batch_54", "slow_seq_54", 4, "min" },
  { "client:batch c=8 / raw curl multi, Lua 5.4 (5 ms server)", "slow_batch_54", "slow_raw_multi", 0.60, "min" },
  { "sequential client:call / raw easy loop, Lua 5.4 (5 ms server)", "slow_seq_54", "slow_raw_seq", 0.90, "min" },
}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function run(cmd)
  local words = {}
  for i, w in ipairs(cmd) do words[i] = shell_quote(w) end
  local p = assert(io.popen(table.concat(words, " ") .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

local function numbers(text)
  local list = {}
  for n in text:gmatch("[%d%.]+") do list[#list + 1] = tonumber(n) end
  return list
end

local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

local function load_average()
  local f = io.open("/proc/loadavg")
  local text = f and f:read("*l") or "?"
  if f then f:close() end
  return text:match("^(%S+ %S+ %S+)") or text
end

local function verdict(value, target, sense)
  if not target then return "" end
  local ok = (sense == "min" and value >= target) or (sense == "max" and value <= target)
  return (ok and "meets " or "MISSES ") .. (sense == "min" and ">= " or "<= ") .. target
end

print(("navixy-lua bench: %d rounds, load average at start %s, %s"):format(rounds, load_average(),
  run { "lua5.4", "-e", "print(require'cjson'._VERSION and 'lua-cjson ' .. require'cjson'._VERSION)" }
  :gsub("%s+$", "")))

-- rates[name][round]
local rates, loads = {}, {}
for _, r in ipairs(RUNS) do rates[r[1]] = {} end
for round = 1, rounds do
  local first, last, step = 1, #RUNS, 1
  if round % 2 == 0 then first, last, step = #RUNS, 1, -1 end
  for i = first, last, step do
    local name, cmd = RUNS[i][1], RUNS[i][2]
    local out = run(cmd)
    local rate = numbers(out)[1]
    if not rate then error(name .. " failed: " .. out) end
    rates[name][round] = rate
  end
  loads[round] = load_average():match("^%S+")
  io.stderr:write(("round %d/%d done (load %s)\n"):format(round, rounds, load_average()))
end
print("load average (1 min) after each round: " .. table.concat(loads, " "))

print()
print(("%-66s %12s"):format("measurement (median of rounds)", "calls/s"))
for _, r in ipairs(RUNS) do
  print(("%-66s %12.0f"):format(r[1], median(rates[r[1]])))
end

print()
print(("%-66s %8s  %-12s %s"):format("pair (median of per-round ratios ours / baseline)", "ratio",
  "rounds", "target"))
for _, p in ipairs(PAIRS) do
  local label, ours, base, target, sense = p[1], p[2], p[3], p[4], p[5]
  local ratios = {}
  for round = 1, rounds do ratios[round] = rates[ours][round] / rates[base][round] end
  local m = median(ratios)
  print(("%-66s %8.2f  %-12s %s"):format(label, m,
    ("%.2f-%.2f"):format(math.min(table.unpack(ratios)), math.max(table.unpack(ratios))),
    verdict(m, target, sense)))
end

-- decode: one process per interpreter, the two paths alternately inside it
for _, lua in ipairs { "lua5.4", "luajit" } do
  local list = numbers(run { lua, measure, "decode", rounds })
  local ratios, ours, theirs = {}, {}, {}
  for i = 1, #list, 2 do
    ours[#ours + 1], theirs[#theirs + 1] = list[i], list[i + 1]
    ratios[#ratios + 1] = list[i] / list[i + 1]
  end
  local m = median(ratios)
  print(("%-66s %8.2f  %s"):format(("decode 20,000-tracker answer, %s / cjson.decode (%.0f / %.0f ms)")
    :format(lua == "lua5.4" and "Lua 5.4" or "LuaJIT", median(ours), median(theirs)), m,
    verdict(m, 1.2, "max")))
end

-- memory: RSS growth from 10k to 100k calls (after a full GC), sequential and
-- in batches; for batches also from 300k to 600k, past allocator warm-up
local function rss_line(label, from, to, target)
  print(("%-66s %8s  %s"):format(("%s (%d -> %d KiB)"):format(label, from, to),
    ("%d KiB"):format(to - from), target and ((to - from < 1024 and "meets" or "MISSES") .. " < 1 MiB") or ""))
end
for _, lua in ipairs { "lua5.4", "luajit" } do
  local kib = numbers(run { lua, measure, "rss", FAST })
  local name = lua == "lua5.4" and "Lua 5.4" or "LuaJIT"
  rss_line("RSS growth 10k -> 100k client:call, " .. name, kib[1], kib[2], true)
  rss_line("RSS growth 10k -> 100k calls in batches of 1000, " .. name, kib[3], kib[4], true)
  rss_line("  (and 300k -> 600k calls in batches, " .. name .. ")", kib[5], kib[6])
end

print()
print("load average at end " .. load_average())

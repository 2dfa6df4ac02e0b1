-- Loaded by busted before the specs: finds the C core built for the running
-- interpreter, and makes sure the fake Navixy server is up.
local flavour = rawget(_G, "jit") and "luajit" or "lua5.4"
package.cpath = "build/" .. flavour .. "/?.so;" .. package.cpath
require("fake").ensure()

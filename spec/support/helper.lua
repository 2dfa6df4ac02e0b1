-- Loaded by busted before the specs: finds the C core built for the running
-- interpreter, and makes sure the fake Navixy server is up.
-- NAVIXY_BUILD picks another build of the core (make check-memory: build/asan).
local flavour = rawget(_G, "jit") and "luajit" or "lua5.4"
package.cpath = (os.getenv("NAVIXY_BUILD") or "build") .. "/" .. flavour .. "/?.so;" .. package.cpath
require("fake").ensure()

-- Loaded by busted before the specs: finds the C core built for the running
-- interpreter (build/<flavour>/, see flavour.lua), and makes sure the fake
-- Navixy server is up.
-- NAVIXY_BUILD picks another build of the core (make check-memory: build/asan).
local flavour = require "flavour"
package.cpath = (os.getenv("NAVIXY_BUILD") or "build") .. "/" .. flavour .. "/?.so;" .. package.cpath
require("fake").ensure()

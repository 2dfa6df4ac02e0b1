-- The Lua running this process, as the build and the specs name it:
-- "lua5.1" ... "lua5.4" or "luajit". It is also the command that starts that
-- interpreter, and `make` builds the C core for it in build/<flavour>/.
return rawget(_G, "jit") and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")

std = "max"
max_line_length = 120
files["spec/"] = { std = "+busted" }
files["spec/support/fake/"] = { globals = { "ngx" } }
files["lua/navixy/transport/ngx.lua"] = { read_globals = { "ngx" } }
files["lua/navixy/runtime.lua"] = { read_globals = { "ngx" } }
files["lua/navixy/transport/dns.lua"] = { read_globals = { "ngx" } }
files["lua/navixy/store/"] = { read_globals = { "ngx" } }
files["spec/ngx/harness.lua"] = { globals = { "ngx" } }
files["spec/ngx/store_harness.lua"] = { globals = { "ngx" } }
exclude_files = { "build/" }

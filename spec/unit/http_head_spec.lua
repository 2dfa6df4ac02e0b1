-- core.http_head (csrc/head_lua.c, csrc/http/head.c): the head of an HTTP/1.x
-- answer as the nginx transport reads it, parsed from its buffer in one pass.
local core = require "navixy.core"

describe("core.http_head", function()
  it("gives the position after the head, the status, the headers and the budget left", function()
    local head = "HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 2\r\n\r\n"
    local after, status, headers, major, minor, left = core.http_head(head .. "{}", 1, 65536)
    assert.equal(#head + 1, after)
    assert.same({ 200, 1, 1 }, { status, major, minor })
    assert.same({ ["content-type"] = "application/json", ["x-a"] = "1, 2", ["content-length"] = "2" }, headers)
    assert.equal(65536 - #head, left)
  end)

  it("starts at a position, takes bare LF line ends and skips lines that are no header", function()
    local text = "junkHTTP/1.0 404 Not Found\nA : b\nno colon here\n: empty name\nB:\n\nbody"
    local after, status, headers, major, minor = core.http_head(text, 5, 1000)
    assert.equal(#text - 3, after)
    assert.same({ 404, 1, 0 }, { status, major, minor })
    assert.same({ a = "b", b = "" }, headers)
  end)

  it("asks for more until the empty line came", function()
    for _, part in ipairs { "", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nA: b\r\n" } do
      assert.is_false(core.http_head(part, 1, 1000))
    end
  end)

  it("refuses a malformed status line as soon as it is whole, and heads over the budget", function()
    assert.same({ nil, "malformed status line" }, { core.http_head("HTTP/1.1 2x0 OK\r\n", 1, 1000) })
    assert.same({ nil, "malformed status line" }, { core.http_head("SSH-2.0\r\n", 1, 1000) })
    assert.same({ nil, "status line over the limit" }, { core.http_head("HTTP/1.1 200 " .. ("x"):rep(100), 1, 50) })
    assert.same({ nil, "header block over the limit" },
      { core.http_head("HTTP/1.1 200 OK\r\nA: " .. ("x"):rep(100), 1, 50) })
    assert.same({ nil, "header block over the limit" },
      { core.http_head("HTTP/1.1 200 OK\r\n" .. ("A: b\r\n"):rep(20) .. "\r\n", 1, 100) })
  end)
end)

-- navixy.retry on its own: the classification table of API.md, the safe
-- action names, the backoff bounds (with an injected random source) and
-- next_delay's bookkeeping. The same rules against the fake server are in
-- resilience_spec.lua.
local retry = require "navixy.retry"

local function job(action, fields)
  local j = { action = action, attempts = 1, retried = 0, retries = 2 }
  for k, v in pairs(fields or {}) do j[k] = v end
  return j
end

describe("retry.is_safe", function()
  it("judges by the last path segment", function()
    for _, a in ipairs { "tracker/list", "tracker/get_state", "tracker/get_states", "history/tracker/list",
      "user/get_info", "notification/read", "tracker/count", "getfoo", "tracker/list/" } do
      assert.is_true(retry.is_safe(a), a)
    end
    for _, a in ipairs { "api/key/create", "user/auth", "tracker/update", "tracker/listen",
      "tracker/forget", "get/delete", "list/update", "tracker/unread" } do
      assert.is_false(retry.is_safe(a), a)
    end
  end)

  it("call_opts.idempotent overrides the name", function()
    assert.is_true(retry.safe(job("api/key/create", { idempotent = true })))
    assert.is_false(retry.safe(job("tracker/list", { idempotent = false })))
    assert.is_true(retry.safe(job("tracker/list")))
  end)
end)

describe("retry.classify", function()
  local cases = {
    { "connect refused", { kind = "transport", phase = "connect" }, "always" },
    { "connect timeout", { kind = "timeout", phase = "connect" }, "always" },
    { "timeout after sending", { kind = "timeout", phase = "send" }, "if_safe" },
    { "drop after sending", { kind = "transport", phase = "send" }, "if_safe" },
    { "TLS verification", { kind = "transport", phase = "tls" }, nil },
    { "answer over max_size", { kind = "transport", phase = "limit" }, nil },
    { "HTTP 429", { kind = "http", status = 429 }, "always" },
    { "HTTP 429 with an API body", { kind = "api", status = 429, code = 7 }, "always" },
    { "code 15", { kind = "api", status = 429, code = 15 }, "always" },
    { "code 15 on HTTP 200", { kind = "api", status = 200, code = 15 }, "always" },
    { "code 8", { kind = "api", status = 503, code = 8 }, "always" },
    { "code 14", { kind = "api", status = 503, code = 14 }, "always" },
    { "code 1", { kind = "api", status = 500, code = 1 }, "if_safe" },
    { "code 6", { kind = "api", status = 500, code = 6 }, "if_safe" },
    { "HTML 502", { kind = "http", status = 502 }, "if_safe" },
    { "HTTP 500, no body", { kind = "http", status = 500 }, "if_safe" },
    { "API error object without a code on a 503", { kind = "api", status = 503 }, "if_safe" },
    { "code 7", { kind = "api", status = 400, code = 7 }, nil },
    { "code 7 on a 500", { kind = "api", status = 500, code = 7 }, nil },
    { "code 201", { kind = "api", status = 400, code = 201 }, nil },
    { "code 102", { kind = "api", status = 400, code = 102 }, nil },
    { "code 4", { kind = "api", status = 400, code = 4 }, nil },
    { "HTTP 302", { kind = "http", status = 302 }, nil },
    { "HTTP 404", { kind = "http", status = 404 }, nil },
    { "decode", { kind = "decode", status = 200 }, nil },
  }
  for _, case in ipairs(cases) do
    it(case[1] .. " -> " .. tostring(case[3]), function()
      assert.equal(case[3], retry.classify(case[2]))
    end)
  end
end)

describe("retry.backoff", function()
  it("starts at 0.5 s, doubles, and is capped at 8 s", function()
    local top = function() return 1 end
    local expect = { 0.5, 1, 2, 4, 8, 8, 8 }
    for n, want in ipairs(expect) do
      assert.equal(want, retry.backoff(n, top))
    end
    assert.equal(8, retry.backoff(60, top))
  end)

  it("is full jitter: anywhere from 0 to the ceiling", function()
    assert.equal(0, retry.backoff(3, function() return 0 end))
    assert.equal(1, retry.backoff(3, function() return 0.5 end))
    for n = 1, 10 do
      for _ = 1, 50 do
        local d = retry.backoff(n)
        assert.is_true(d >= 0 and d <= math.min(8, 0.5 * 2 ^ (n - 1)))
      end
    end
  end)
end)

describe("retry.next_delay", function()
  it("fills in attempts and retryable, and counts the retry", function()
    local j = job("tracker/list")
    local err = { kind = "http", status = 502 }
    local d = retry.next_delay(j, err)
    assert.is_true(d >= 0 and d <= 0.5)
    assert.equal(1, j.retried)
    assert.equal(1, err.attempts)
    assert.is_true(err.retryable)
  end)

  it("stops when retries are used up", function()
    local j = job("tracker/list", { retried = 2, attempts = 3 })
    local err = { kind = "http", status = 502 }
    assert.is_nil(retry.next_delay(j, err))
    assert.equal(3, err.attempts)
    assert.is_true(err.retryable)
  end)

  it("uses Retry-After instead of backoff, up to 60 s", function()
    assert.equal(7, retry.next_delay(job("a/b"), { kind = "http", status = 429 }, 7))
    assert.equal(60, retry.next_delay(job("a/b"), { kind = "http", status = 429 }, 60))
    local err = { kind = "http", status = 429 }
    assert.is_nil(retry.next_delay(job("a/b"), err, 61))
    assert.is_true(err.retryable)
  end)

  it("does not repeat an unsafe action for an if_safe failure", function()
    local err = { kind = "http", status = 500 }
    assert.is_nil(retry.next_delay(job("api/key/create"), err))
    assert.is_true(err.retryable)
    assert.is_number(retry.next_delay(job("api/key/create", { idempotent = true }), { kind = "http", status = 500 }))
  end)

  it("idempotent = false does not stop an always failure", function()
    assert.is_number(retry.next_delay(job("tracker/list", { idempotent = false }),
      { kind = "transport", phase = "connect" }))
  end)

  it("marks a final failure not retryable", function()
    local err = { kind = "api", status = 400, code = 7 }
    assert.is_nil(retry.next_delay(job("tracker/list"), err))
    assert.is_false(err.retryable)
  end)
end)

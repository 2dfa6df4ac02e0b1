-- Spec helper: what a subscription's on_status notices (collected in a list) say about
-- its reconnects: the `failures` of each "reconnecting" notice, in order, and how many
-- times it connected. Used by the specs of both transports (curl, cosockets).
return function(statuses)
  local failures, connected = {}, 0
  for _, s in ipairs(statuses) do
    if s.status == "reconnecting" then failures[#failures + 1] = s.failures end
    if s.status == "connected" then connected = connected + 1 end
  end
  return failures, connected
end

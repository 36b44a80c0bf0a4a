-- Repair one user's count (a crash or a frozen Redis left reservations MySQL never recorded).
-- KEYS: stock, users, held (as in quota_gate_reserve.lua).
-- ARGV: user, the count MySQL has for the user plus the ones still on their way to it, how many
-- tokens follow to give back (their stock and count return), then those tokens, then tokens to
-- drop as final (paid: counted, no longer held).
-- The user's count is then lowered to what MySQL says, never raised. Returns the user's count.
local gone = tonumber(ARGV[3])
for i = 4, #ARGV do
  local held = redis.call('HGET', KEYS[3], ARGV[i])
  if held then
    redis.call('HDEL', KEYS[3], ARGV[i])
    if i < 4 + gone then
      local item, user, count = string.match(held, '^([^:]+):([^:]+):([^:]+)')
      redis.call('HINCRBY', KEYS[1], item, tonumber(count))
      redis.call('HINCRBY', KEYS[2], user, -tonumber(count))
    end
  end
end
local now = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if now > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  now = tonumber(ARGV[2])
end
return now

-- Give a reservation's stock back, once: only a token still held counts.
-- KEYS: stock, users, held (as in quota_gate_reserve.lua). ARGV: token, and "1" to give the stock back
-- (a release) or "0" to keep it sold (a commit: the token just stops being held).
-- Returns 1 when the token was held, else 0.
local held = redis.call('HGET', KEYS[3], ARGV[1])
if not held then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[2] == '1' then
  local item, user, count = string.match(held, '^([^:]+):([^:]+):([^:]+)')
  redis.call('HINCRBY', KEYS[1], item, tonumber(count))
  redis.call('HINCRBY', KEYS[2], user, -tonumber(count))
end
return 1

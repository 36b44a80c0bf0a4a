-- A reservation that gave its stock back is paid after all, and MySQL took its stock again: Redis
-- follows. KEYS: stock, users, held (as in quota_gate_reserve.lua). ARGV: token, item, user, count.
-- A token still held means Redis never heard of the give-back: it is still counted, and just
-- becomes final. Returns 1 when the stock and the user's count were taken again, 0 for that case.
if redis.call('HDEL', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], -tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[2], ARGV[3], tonumber(ARGV[4]))
return 1

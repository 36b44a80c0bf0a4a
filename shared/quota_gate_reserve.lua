-- Reserve `count` of an item (a seckill SKU, a coupon template's stock) for a user, atomically,
-- or say why not.
-- KEYS: stock (hash item -> left), users (hash user -> held or taken), held (hash token ->
--       "item:user:count:since", since = Redis's clock in seconds; loaded ones have no since),
--       warm (set once the entity's stock was loaded from the database)
-- ARGV: token, item, user, count, user limit (0 = none), order limit (0 = none)
-- Returns {verdict, left}: verdict 0 reserved (left: the stock left after it), else -1 not loaded,
-- -2 this token already holds, -3 item not in the entity, -4 sold out (nothing left), -5 user limit
-- reached, -6 order limit exceeded, -7 fewer left than asked for (left: how many are left).
if redis.call('EXISTS', KEYS[4]) == 0 then return {-1, 0} end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {-2, 0} end
local count = tonumber(ARGV[4])
local order_limit = tonumber(ARGV[6])
if order_limit > 0 and count > order_limit then return {-6, 0} end
local left = redis.call('HGET', KEYS[1], ARGV[2])
if not left then return {-3, 0} end
left = tonumber(left)
if left <= 0 then return {-4, 0} end
if left < count then return {-7, left} end
local user_limit = tonumber(ARGV[5])
local bought = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
if user_limit > 0 and bought + count > user_limit then return {-5, left} end
redis.call('HINCRBY', KEYS[1], ARGV[2], -count)
redis.call('HINCRBY', KEYS[2], ARGV[3], count)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. redis.call('TIME')[1])
-- keys loaded to expire (`warm` has a time to live) keep expiring together, those made just now too
local ttl = redis.call('PTTL', KEYS[4])
if ttl > 0 then
  for i = 2, 3 do
    if redis.call('PTTL', KEYS[i]) == -1 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
return {0, left - count}

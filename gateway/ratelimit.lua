-- Token buckets, all-or-nothing: consume one token from every bucket in KEYS, or from none.
-- ARGV holds (rate per second, burst) for each key, in order. Time comes from Redis itself.
-- Returns 0 when allowed, else the milliseconds until a token is available.
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local tokens = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local available = tonumber(state[1]) or burst
  local since = now - (tonumber(state[2]) or now)
  if since < 0 then since = 0 end
  available = math.min(burst, available + since * rate / 1000)
  if available < 1 then
    wait = math.max(wait, math.ceil((1 - available) * 1000 / rate))
  end
  tokens[i] = available
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tokens[i] - 1, 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
end
return 0

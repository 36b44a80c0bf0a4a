-- Redis's clock (seconds) on the node that has the entity's keys, and a reservation it holds.
-- KEYS: held (as in quota_gate_reserve.lua). ARGV: token ('' for none).
-- Returns {seconds, the token's "item:user:count[:since]" or nil}.
local seconds = redis.call('TIME')[1]
if ARGV[1] == '' then return {seconds} end
return {seconds, redis.call('HGET', KEYS[1], ARGV[1])}

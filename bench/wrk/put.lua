-- wrk: quorum PUTs of 100-byte values to uniformly random keys key00000..key09999 (or KEYS keys).
local value = string.rep("0123456789abcdefghijklmnopqrstuvwxyz", 3):sub(1, 100)
math.randomseed(os.time())
-- KEYS: how many keys (key00000 .. key<KEYS-1>), as kv bench --keys names them; default 10,000.
keys = tonumber(os.getenv("KEYS") or "10000")
request = function()
  return wrk.format("PUT", string.format("/kv/key%05d?consistency=quorum", math.random(0, keys - 1)),
    {["Content-Type"] = "application/octet-stream"}, value)
end

-- wrk: quorum (linearizable) GETs of uniformly random keys key00000..key09999 (or KEYS keys).
math.randomseed(os.time())
-- KEYS: how many keys (key00000 .. key<KEYS-1>), as kv bench --keys names them; default 10,000.
keys = tonumber(os.getenv("KEYS") or "10000")
request = function()
  return wrk.format("GET", string.format("/kv/key%05d?consistency=quorum", math.random(0, keys - 1)))
end

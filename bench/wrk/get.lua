-- wrk: quorum (linearizable) GETs of uniformly random keys key00000..key09999.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/kv/key%05d?consistency=quorum", math.random(0, 9999)))
end

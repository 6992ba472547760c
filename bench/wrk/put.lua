-- wrk: quorum PUTs of 100-byte values to uniformly random keys key00000..key09999.
local value = string.rep("0123456789abcdefghijklmnopqrstuvwxyz", 3):sub(1, 100)
math.randomseed(os.time())
request = function()
  return wrk.format("PUT", string.format("/kv/key%05d?consistency=quorum", math.random(0, 9999)),
    {["Content-Type"] = "application/octet-stream"}, value)
end

"""HTTP adapters: decode a request, make one service call, encode the answer."""

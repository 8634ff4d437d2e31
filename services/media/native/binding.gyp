{
  "targets": [
    {
      "target_name": "rtp_forward",
      "sources": ["rtp-forward.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"]
    }
  ]
}

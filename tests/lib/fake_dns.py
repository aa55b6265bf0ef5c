#!/usr/bin/env python3
"""A DNS server on a loopback address for tests that put it in a private /etc/resolv.conf:
no query leaves the machine.

    fake_dns.py ADDRESS nxdomain   answers every query "no such name", prints "nxdomain"
    fake_dns.py ADDRESS silent     reads every query and never answers, prints "query"

It prints "listening" once bound; the tests wait for that line, then for the per-query ones.
"""
import socket
import sys

addr, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
print("listening", flush=True)
while True:
    q, peer = s.recvfrom(4096)
    if mode == "silent":
        print("query", flush=True)
        continue
    flags = 0x8000 | ((q[2] << 8) & 0x7900) | 0x0080 | 3  # response, RA, NXDOMAIN
    s.sendto(q[:2] + flags.to_bytes(2, "big") + q[4:6] + bytes(6) + q[12:], peer)
    print("nxdomain", flush=True)

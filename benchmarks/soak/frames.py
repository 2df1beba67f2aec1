#!/usr/bin/env python3
"""Crafted frames for the soak test (bin/modnet-soak): writes a pcap file and a JSON manifest.

The manifest says how many frames of each kind the file holds and what each kind should end on, so
the soak can check that every frame it injected lands on exactly one counter.

    frames.py OUT.pcap OUT.json [--scale N] [--seed S] [--ipid-base B]

Addresses are the soak's: the receiving device has MAC 02:00:00:00:00:02 and 10.0.0.2/16, its peer
02:00:00:00:00:01 and 10.0.0.1/16. The UDP sink listens on port 5000.
"""
import argparse
import json
import random
import struct

DST_MAC = bytes.fromhex("020000000002")
PEER_MAC = bytes.fromhex("020000000001")
OTHER_MAC = bytes.fromhex("020000000099")
BCAST = b"\xff" * 6
DST_IP = bytes([10, 0, 0, 2])
PEER_IP = bytes([10, 0, 0, 1])
SINK_PORT = 5000
ETH_P_IP, ETH_P_ARP, ETH_P_UNKNOWN = 0x0800, 0x0806, 0x88B5


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ipid=0, frag=0, ttl=64, version=4, tot_len=None, bad_csum=False):
    tl = 20 + len(payload) if tot_len is None else tot_len
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | 5, 0, tl, ipid & 0xFFFF, frag, ttl, proto, 0, src, dst)
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5555
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def udp(src, dst, sport, dport, data, bad_csum=False, ulen=None):
    length = 8 + len(data) if ulen is None else ulen
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(pseudo + hdr + data) or 0xFFFF
    if bad_csum:
        c = (c ^ 0x00FF) or 1
    return hdr[:6] + struct.pack("!H", c) + data


def arp_request(sender_mac, sender_ip, target_ip):
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, sender_mac, sender_ip, b"\0" * 6, target_ip)
    return eth(BCAST, sender_mac, ETH_P_ARP, body)


def to_us(payload, src_mac=PEER_MAC, dst_mac=DST_MAC):
    return eth(dst_mac, src_mac, ETH_P_IP, payload)


def build(scale, rng, ipid_base):
    """(kind, frame) pairs, in a shuffled order; the kinds are the manifest's."""
    out = []
    ipid = [ipid_base]

    def next_id():
        ipid[0] = (ipid[0] + 1) & 0xFFFF
        return ipid[0]

    def add(kind, frame):
        out.append((kind, frame))

    for i in range(20 * scale):  # to the sink: UdpInDatagrams
        data = rng.randbytes(rng.randint(1, 900))
        add("udp_sink", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 40000 + i % 1000, SINK_PORT, data),
                                   ipid=next_id())))
    for i in range(10 * scale):  # to closed ports: UdpNoPorts, an ICMP port unreachable back
        add("udp_closed", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 41000, 6000 + rng.randrange(1000), b"x" * 32),
                                     ipid=next_id())))
    frag_sets = []
    for i in range(4 * scale):  # complete fragment sets (3 each), to the sink: IpReasmOKs, then UdpInDatagrams
        frag_sets.append(("frag_complete", False))
    for i in range(1 * scale):  # incomplete sets (first and last, no middle): IpReasmFails after ipfrag_time
        frag_sets.append(("frag_incomplete", True))
    for kind, incomplete in frag_sets:
        data = rng.randbytes(2000)
        dgram = udp(PEER_IP, DST_IP, 42000, SINK_PORT, data)
        i = next_id()
        pieces = [(0, dgram[:808], True), (101, dgram[808:1608], True), (201, dgram[1608:], False)]
        for n, (off8, chunk, more) in enumerate(pieces):
            if incomplete and n == 1:
                continue
            frag = (0x2000 if more else 0) | off8
            add(kind, to_us(ipv4(PEER_IP, DST_IP, 17, chunk, ipid=i, frag=frag)))
    for i in range(50 * scale):  # ARP requests from random sources: the neighbour table churns up to gc_thresh3
        mac = bytes([0x02, 0x10]) + rng.randbytes(4)
        ip = bytes([10, 0, rng.randrange(1, 255), rng.randrange(3, 255)])
        add("arp", arp_request(mac, ip, DST_IP))
    for i in range(5 * scale):  # IPv4 for another MAC: rx_otherhost_dropped
        add("otherhost", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 43000, SINK_PORT, b"other"), ipid=next_id()),
                               dst_mac=OTHER_MAC))
    for i in range(scale):  # malformed, one of each
        add("runt", DST_MAC + PEER_MAC[:4])  # 10 bytes: rx_length_errors
        add("oversize", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"\0" * 1600))))
        add("unknown_ethertype", eth(DST_MAC, PEER_MAC, ETH_P_UNKNOWN, b"\0" * 46))  # rx_dropped
        add("ip_bad_csum", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"c"), bad_csum=True)))
        add("ip_bad_version", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"v"), version=6)))
        add("ip_short", eth(DST_MAC, PEER_MAC, ETH_P_IP, b"\x45\x00\x00"))  # under 20 bytes: InHdrErrors
        add("ip_truncated", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"t" * 80), tot_len=1000)))
        add("ip_not_ours", to_us(ipv4(PEER_IP, bytes([10, 0, 9, 9]), 17,
                                      udp(PEER_IP, bytes([10, 0, 9, 9]), 1, SINK_PORT, b"n"))))  # InAddrErrors
        add("ip_unknown_proto", to_us(ipv4(PEER_IP, DST_IP, 253, b"p" * 20)))  # InUnknownProtos
        add("udp_bad_csum", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"bad", bad_csum=True))))
        add("udp_bad_len", to_us(ipv4(PEER_IP, DST_IP, 17, udp(PEER_IP, DST_IP, 1, SINK_PORT, b"len", ulen=200))))
        add("udp_broadcast", eth(BCAST, PEER_MAC, ETH_P_IP, ipv4(PEER_IP, bytes([10, 0, 255, 255]), 17,
                                                                   udp(PEER_IP, bytes([10, 0, 255, 255]), 1, 9, b"b"))))
        add("arp_truncated", eth(BCAST, PEER_MAC, ETH_P_ARP, b"\x00\x01\x08\x00"))  # ARP drops it (no Linux counter)
    # Fragments of one set stay in order relative to each other; everything else is shuffled.
    rng.shuffle(out)
    return out


# What each kind ends on in the receiving namespace (one terminal counter per frame; fragments
# end on their datagram's fate, counted once per datagram, as Linux counts reassembly).
FATE = {
    "udp_sink": "UdpInDatagrams",
    "udp_closed": "UdpNoPorts",
    "frag_complete": "IpReasmOKs (per 3 fragments), then UdpInDatagrams",
    "frag_incomplete": "IpReasmFails + IpReasmTimeout (per 2 fragments), ICMP time exceeded back",
    "arp": "rcv_probes_mcast (/proc/net/stat/arp_cache); an entry, or table_fulls when the table is at gc_thresh3",
    "arp_truncated": "ARP's drop (no Linux counter)",
    "otherhost": "rx_otherhost_dropped",
    "runt": "rx_length_errors (rx_errors)",
    "oversize": "rx_length_errors (rx_errors)",
    "unknown_ethertype": "rx_dropped",
    "ip_bad_csum": "IpInHdrErrors (and IpInCsumErrors)",
    "ip_bad_version": "IpInHdrErrors",
    "ip_short": "IpInHdrErrors",
    "ip_truncated": "IpInTruncatedPkts",
    "ip_not_ours": "IpInAddrErrors",
    "ip_unknown_proto": "IpInUnknownProtos",
    "udp_bad_csum": "UdpInErrors (and UdpInCsumErrors)",
    "udp_bad_len": "UdpInErrors",
    "udp_broadcast": "UdpIgnoredMulti",
}


def write_pcap(path, frames, gap_us):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 0
        for frame in frames:
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), len(frame)))
            f.write(frame)
            t += gap_us


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pcap")
    p.add_argument("manifest")
    p.add_argument("--scale", type=int, default=10, help="multiplies every kind's count")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ipid-base", type=int, default=0)
    p.add_argument("--gap-us", type=int, default=20, help="recorded time between frames")
    a = p.parse_args()
    rng = random.Random(a.seed)
    frames = build(a.scale, rng, a.ipid_base)
    write_pcap(a.pcap, [f for _, f in frames], a.gap_us)
    counts = {}
    for kind, _ in frames:
        counts[kind] = counts.get(kind, 0) + 1
    manifest = {
        "frames": len(frames),
        "kinds": counts,
        "fate": {k: FATE[k] for k in counts},
        "frag_sets_complete": counts.get("frag_complete", 0) // 3,
        "frag_sets_incomplete": counts.get("frag_incomplete", 0) // 2,
    }
    with open(a.manifest, "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()

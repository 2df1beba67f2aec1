package org.modnet.core;

import org.modnet.api.skb.SkBuff;

/**
 * {@code skb_get_hash}: the frame's flow hash, computed from its IPv4 addresses, protocol and ports
 * when it carries none yet (the flow dissector's keys) and kept in the skb, so every later reader
 * (the TX queue pick, fq_codel's buckets) sees the same value. Frames of other protocols hash by
 * their ethertype: one flow each. Never 0, which means "no hash".
 */
final class FlowHash {
    private static final int ETH_HLEN = 14;

    private FlowHash() {
    }

    static int get(SkBuff skb) {
        int h = skb.hash();
        if (h == 0) {
            h = dissect(skb);
            skb.hash(h);
        }
        return h;
    }

    private static int dissect(SkBuff skb) {
        int d = skb.data();
        int vihl;
        if (skb.headLen() < ETH_HLEN + 20 || skb.getU16(d + 12) != 0x0800 || ((vihl = skb.getU8(d + ETH_HLEN)) >> 4) != 4) {
            return mix(skb.protocol() * 0x9e3779b1);
        }
        int ip = d + ETH_HLEN;
        int proto = skb.getU8(ip + 9);
        int h = skb.getU32(ip + 12) * 0x9e3779b1 ^ skb.getU32(ip + 16) * 0x85ebca6b ^ proto;
        int l4 = ip + (vihl & 0xf) * 4;
        boolean fragment = (skb.getU16(ip + 6) & 0x3fff) != 0; // only the first fragment has ports: leave them out
        if (!fragment && (proto == 6 || proto == 17) && l4 + 4 <= skb.tail()) {
            h ^= skb.getU32(l4) * 0xc2b2ae35;
        }
        return mix(h);
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x7feb352d;
        h ^= h >>> 15;
        return h == 0 ? 1 : h;
    }
}

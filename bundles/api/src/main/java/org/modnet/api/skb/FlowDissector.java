package org.modnet.api.skb;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The flow hash, as {@code net/core/flow_dissector.c} makes it: one dissector reads a frame's flow
 * keys (ethertype, IPv4 addresses, IP protocol, and the ports of TCP and UDP unless the packet is a
 * fragment), and {@code __flow_hash_from_keys} hashes them with {@code jhash2}, both directions of a
 * connection alike ({@code __flow_hash_consistentify}). Never 0, which means "no hash". Every reader of
 * a flow hash uses this one: the core's transmit queue pick, fq and fq_codel, eBPF's
 * {@code bpf_get_hash_recalc}, and UDP's {@code SO_REUSEPORT} pick ({@link #jhash3words}).
 *
 * <p>Linux keys {@code jhash} with a random seed made once per boot ({@code hashrnd}); modnet's is
 * fixed, so a run, and a test, is reproducible. (Later kernels hash the same keys with siphash.)
 */
public final class FlowDissector {
    /** {@code JHASH_INITVAL}. */
    private static final int JHASH_INITVAL = 0xdeadbeef;
    /** {@code hashrnd}, fixed here. */
    private static final int HASHRND = 0x5bd1e995;
    private static final int ETH_HLEN = 14;
    private static final int ETH_P_IP = 0x0800;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private FlowDissector() {
    }

    /**
     * {@code skb_get_hash}: the skb's flow hash, dissected from its linear bytes (an Ethernet frame from
     * {@code data}) when it has none yet and kept in it, so every later reader sees the same value.
     */
    public static int skbGetHash(SkBuff skb) {
        int h = skb.hash();
        if (h == 0) {
            h = frameHash(skb.memory(), skb.data(), skb.tail(), skb.protocol());
            skb.hash(h);
        }
        return h;
    }

    /**
     * {@code __skb_get_hash} over an Ethernet frame at {@code [from, to)} of {@code bytes}; a frame that
     * is not IPv4 (or too short to be) is one flow per {@code protocol}, its ethertype.
     */
    public static int frameHash(MemorySegment bytes, long from, long to, int protocol) {
        long ip = from + ETH_HLEN;
        int vihl;
        if (to - from < ETH_HLEN + 20 || (bytes.get(U16, from + 12) & 0xffff) != ETH_P_IP
                || ((vihl = bytes.get(ValueLayout.JAVA_BYTE, ip) & 0xff) >> 4) != 4) {
            return hashKeys(protocol, 0, 0, 0, 0);
        }
        int proto = bytes.get(ValueLayout.JAVA_BYTE, ip + 9) & 0xff;
        long l4 = ip + (vihl & 0xf) * 4;
        int ports = 0;
        // ip_is_fragment: only a first fragment carries the ports, and skb_get_hash leaves them out of every fragment
        boolean fragment = (bytes.get(U16, ip + 6) & 0x3fff) != 0;
        if (!fragment && (proto == 6 || proto == 17) && l4 + 4 <= to) {
            ports = bytes.get(U32, l4);
        }
        return hashKeys(ETH_P_IP, proto, bytes.get(U32, ip + 12), bytes.get(U32, ip + 16), ports);
    }

    /**
     * {@code __flow_hash_from_keys} for IPv4: {@code ports} is the source port in the high 16 bits and
     * the destination port in the low; the lower address (then port) goes first, so both directions hash
     * alike. Never 0.
     */
    public static int hashKeys(int nProto, int ipProto, int saddr, int daddr, int ports) {
        int sport = ports >>> 16;
        int dport = ports & 0xffff;
        if (Integer.compareUnsigned(daddr, saddr) < 0 || daddr == saddr && dport < sport) {
            int a = saddr;
            saddr = daddr;
            daddr = a;
            ports = dport << 16 | sport;
        }
        int h = jhash4(nProto << 16 | ipProto << 8, ports, saddr, daddr, HASHRND);
        return h == 0 ? 1 : h;
    }

    /** {@code jhash2} of four words. */
    static int jhash4(int k0, int k1, int k2, int k3, int initval) {
        int a = JHASH_INITVAL + (4 << 2) + initval;
        int b = a;
        int c = a;
        a += k0;
        b += k1;
        c += k2;
        // __jhash_mix
        a -= c;
        a ^= Integer.rotateLeft(c, 4);
        c += b;
        b -= a;
        b ^= Integer.rotateLeft(a, 6);
        a += c;
        c -= b;
        c ^= Integer.rotateLeft(b, 8);
        b += a;
        a -= c;
        a ^= Integer.rotateLeft(c, 16);
        c += b;
        b -= a;
        b ^= Integer.rotateLeft(a, 19);
        a += c;
        c -= b;
        c ^= Integer.rotateLeft(b, 4);
        b += a;
        a += k3;
        return jhashFinal(a, b, c);
    }

    /** {@code jhash_3words}: Linux's hash of a socket's 4-tuple ({@code inet_ehashfn}, {@code udp_ehashfn}). */
    public static int jhash3words(int a, int b, int c, int initval) {
        int iv = initval + JHASH_INITVAL + (3 << 2);
        return jhashFinal(a + iv, b + iv, c + iv);
    }

    /**
     * {@code reciprocal_scale}: a 32-bit hash onto [0, n) by its high bits ({@code (u64)hash * n >> 32}),
     * as Linux picks a TX queue or a SO_REUSEPORT socket; the remainder would pick another one. @since 1.4
     */
    public static int reciprocalScale(int hash, int n) {
        return (int) (((hash & 0xffffffffL) * n) >>> 32);
    }

    /** {@code __jhash_final}: c, after the last three words are mixed into a, b and c. */
    private static int jhashFinal(int a, int b, int c) {
        c ^= b;
        c -= Integer.rotateLeft(b, 14);
        a ^= c;
        a -= Integer.rotateLeft(c, 11);
        b ^= a;
        b -= Integer.rotateLeft(a, 25);
        c ^= b;
        c -= Integer.rotateLeft(b, 16);
        a ^= c;
        a -= Integer.rotateLeft(c, 4);
        b ^= a;
        b -= Integer.rotateLeft(a, 14);
        c ^= b;
        c -= Integer.rotateLeft(b, 24);
        return c;
    }
}

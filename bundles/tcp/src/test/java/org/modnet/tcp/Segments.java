package org.modnet.tcp;

import java.io.ByteArrayOutputStream;

import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/**
 * Builds IPv4 TCP segments as the TCP receive path sees them: the network header set, data at the
 * TCP header, a correct checksum unless a test breaks it. Options are written with the small
 * helpers below, by name, not as hex.
 */
final class Segments {
    static final int SADDR = 0x0a000001;
    static final int DADDR = 0x0a000002;
    static final int SPORT = 40000;
    static final int DPORT = 5000;

    final SkBuffPool pool = new SkBuffPool(64, 2048);

    /** A segment with these flags, options (padded by the caller to a multiple of 4) and payload bytes. */
    SkBuff segment(int flags, int seq, int ack, int window, byte[] options, int payload) {
        if (options.length % 4 != 0) {
            throw new IllegalArgumentException("options must fill whole words: " + options.length);
        }
        int tcpLen = TcpHeader.MIN_LEN + options.length + payload;
        SkBuff skb = pool.alloc(20 + tcpLen);
        int nh = skb.put(20 + tcpLen);
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + tcpLen);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, SADDR);
        skb.setU32(nh + 16, DADDR);
        skb.setNetworkHeader(nh);
        int th = skb.pull(20);
        TcpHeader.write(skb, th, SPORT, DPORT, seq, ack, flags, window, options.length);
        skb.setBytes(th + TcpHeader.MIN_LEN, options, 0, options.length);
        for (int i = 0; i < payload; i++) {
            skb.setU8(th + TcpHeader.MIN_LEN + options.length + i, i * 7 + 1);
        }
        TcpHeader.setChecksum(skb, th, tcpLen, TcpAf.inetPseudoSum(SADDR, DADDR, tcpLen));
        return skb;
    }

    SkBuff segment(int flags, byte[] options) {
        return segment(flags, 1000, 0, 65535, options, 0);
    }

    static byte[] opts(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] mss(int mss) {
        return new byte[] { 2, 4, (byte) (mss >>> 8), (byte) mss };
    }

    static byte[] sackPerm() {
        return new byte[] { 4, 2 };
    }

    static byte[] ts(int val, int ecr) {
        return new byte[] { 8, 10, (byte) (val >>> 24), (byte) (val >>> 16), (byte) (val >>> 8), (byte) val,
                (byte) (ecr >>> 24), (byte) (ecr >>> 16), (byte) (ecr >>> 8), (byte) ecr };
    }

    static byte[] nop() {
        return new byte[] { 1 };
    }

    static byte[] eol() {
        return new byte[] { 0 };
    }

    static byte[] ws(int shift) {
        return new byte[] { 3, 3, (byte) shift };
    }

    /** SACK blocks given as start, end pairs. */
    static byte[] sack(int... edges) {
        byte[] b = new byte[2 + edges.length * 4];
        b[0] = 5;
        b[1] = (byte) b.length;
        for (int i = 0; i < edges.length; i++) {
            for (int k = 0; k < 4; k++) {
                b[2 + i * 4 + k] = (byte) (edges[i] >>> (24 - 8 * k));
            }
        }
        return b;
    }

    /** Any bytes: a kind and length of the test's choosing, with filler. */
    static byte[] raw(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    /** Pads with NOPs (not EOL) to a multiple of 4, as the options a test wants checked continue to the end. */
    static byte[] padded(byte[] options) {
        int n = (options.length + 3) / 4 * 4;
        byte[] b = java.util.Arrays.copyOf(options, n);
        for (int i = options.length; i < n; i++) {
            b[i] = 1;
        }
        return b;
    }

    static String hex(SkBuff skb, int offset, int len) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < len; i++) {
            s.append(String.format("%02x", skb.getU8(offset + i)));
        }
        return s.toString();
    }
}

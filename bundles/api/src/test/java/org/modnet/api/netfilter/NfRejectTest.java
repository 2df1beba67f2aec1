package org.modnet.api.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** nf_send_reset's segment, as iptables' and nftables' tcp-reset send it. */
class NfRejectTest {
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private static final int A = 0x0a000001, B = 0x0a000002;

    /** A to B, 40000 to 80, with {@code flags} and {@code payload} bytes. */
    private SkBuff segment(int flags, int payload) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(40 + payload);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 40 + payload);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, A);
        skb.setU32(nh + 16, B);
        skb.setU16(nh + 20, 40000);
        skb.setU16(nh + 22, 80);
        skb.setU32(nh + 24, 1000);
        skb.setU32(nh + 28, 5000);
        skb.setU8(nh + 32, 5 << 4);
        skb.setU8(nh + 33, flags);
        return skb;
    }

    /** The reset's TCP header, from its first byte. */
    private record Rst(SkBuff skb, int o) {
        int u8(int at) {
            return skb.getU8(o + at);
        }

        int u16(int at) {
            return skb.getU16(o + at);
        }

        long u32(int at) {
            return skb.getU32(o + at) & 0xffffffffL;
        }

        int sum() {
            int pseudo = (B >>> 16) + (B & 0xffff) + (A >>> 16) + (A & 0xffff) + 6 + 20;
            return InetChecksum.sum(skb, o, 20, pseudo) & 0xffff;
        }
    }

    private Rst reset(SkBuff in) {
        SkBuff rst = pool.alloc(64);
        int o = rst.data();
        int nh = in.networkHeader();
        assertTrue(NfReject.writeReset(in, nh, nh + 20, rst));
        assertEquals(20, rst.len());
        return new Rst(rst, o);
    }

    @Test
    void aSynGetsRstAckForItsSeqPlusOne() {
        Rst rst = reset(segment(0x02, 0));
        assertEquals(80, rst.u16(0));
        assertEquals(40000, rst.u16(2));
        assertEquals(0, rst.u32(4));
        assertEquals(1001, rst.u32(8));
        assertEquals(0x14, rst.u8(13), "RST and ACK");
        assertEquals(0xffff, rst.sum(), "the checksum verifies over the reversed pseudo-header");
    }

    @Test
    void aSegmentWithAckGetsARstAtItsAckAndDataCountsInTheAckOtherwise() {
        Rst rst = reset(segment(0x10 | 0x08, 10));
        assertEquals(5000, rst.u32(4), "seq = its ack_seq");
        assertEquals(0x04, rst.u8(13), "RST alone");
        Rst fin = reset(segment(0x01, 10));
        assertEquals(1000 + 10 + 1, fin.u32(8), "seq + payload + FIN");
        assertEquals(0xffff, fin.sum());
    }

    @Test
    void aResetIsNeverAnsweredWithOne() {
        SkBuff rst = pool.alloc(64);
        SkBuff in = segment(0x04, 0);
        assertFalse(NfReject.writeReset(in, in.networkHeader(), in.networkHeader() + 20, rst));
        assertEquals(0, rst.len());
    }
}

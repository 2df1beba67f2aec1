package org.modnet.api.netfilter;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * {@code nf_reject_ipv4.c}: the TCP reset that iptables' {@code REJECT --reject-with tcp-reset} and
 * nftables' {@code reject with tcp reset} send, one code for both.
 * @since 1.4
 */
public final class NfReject {
    private NfReject() {
    }

    /**
     * {@code nf_send_reset}: a RST from the segment's destination to its source, leaving through IPv4's
     * output (LOCAL_OUT and all) with DF set. To a segment with ACK: seq = its ack_seq; else ACK set and
     * ack_seq = its seq + SYN + FIN + payload. None for a RST, without IPv4, or when the pool refuses
     * (it counts that).
     *
     * @param in the segment, its IPv4 header at {@code nh} and its TCP header at {@code th}
     */
    public static void sendReset(NetCore core, Ipv4 ipv4, NetNamespace ns, SkBuff in, int nh, int th) {
        if (ipv4 == null || (in.getU8(th + 13) & 0x04) != 0) {
            return;
        }
        SkBuff rst = core.allocSkb(20, 64);
        if (rst == null) {
            return; // the pool counted its refusal
        }
        int saddr = in.getU32(nh + 16);
        int daddr = in.getU32(nh + 12);
        writeReset(in, nh, th, rst);
        ipv4.send(ns, rst, saddr, daddr, 6, 0, 0, true);
    }

    /**
     * The reset's 20-byte TCP header for the segment, appended to {@code rst}, its checksum over the
     * pseudo-header of the reversed addresses. False (nothing written) when the segment is itself a RST.
     */
    public static boolean writeReset(SkBuff in, int nh, int th, SkBuff rst) {
        int flags = in.getU8(th + 13);
        if ((flags & 0x04) != 0) {
            return false; // never a reset for a reset
        }
        int ihl = (in.getU8(nh) & 0xf) << 2;
        int payload = in.getU16(nh + 2) - ihl - ((in.getU8(th + 12) >>> 4) << 2);
        boolean ackd = (flags & 0x10) != 0;
        int seq = ackd ? in.getU32(th + 8) : 0;
        int ack = ackd ? 0 : in.getU32(th + 4) + payload + ((flags & 0x02) != 0 ? 1 : 0) + (flags & 0x01);
        int saddr = in.getU32(nh + 16);
        int daddr = in.getU32(nh + 12);
        int o = rst.put(20);
        rst.setU16(o, in.getU16(th + 2));
        rst.setU16(o + 2, in.getU16(th));
        rst.setU32(o + 4, seq);
        rst.setU32(o + 8, ack);
        rst.setU8(o + 12, 5 << 4);
        rst.setU8(o + 13, ackd ? 0x04 : 0x14);
        rst.setU16(o + 14, 0);
        rst.setU16(o + 16, 0);
        rst.setU16(o + 18, 0);
        int pseudo = (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + 6 + 20;
        rst.setU16(o + 16, ~InetChecksum.sum(rst, o, 20, pseudo) & 0xffff);
        return true;
    }
}

package org.modnet.tcp;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * The TCP header (RFC 9293 3.1) as a view over an skb, reused for every segment a CPU receives:
 * {@link #check} validates the length, the data offset and the checksum once, as Linux's
 * {@code tcp_v4_rcv} does before anything else, and only then do the accessors read — none of them
 * can read past the header. Field offsets are named once; the static setters build headers to send.
 * Nothing here allocates.
 */
final class TcpHeader {
    static final int SOURCE = 0;
    static final int DEST = 2;
    static final int SEQ = 4;
    static final int ACK_SEQ = 8;
    /** Data offset (high nibble) and the reserved bits, AE the lowest (RFC 9768). */
    static final int DOFF = 12;
    static final int FLAGS = 13;
    static final int WINDOW = 14;
    static final int CHECK = 16;
    static final int URG_PTR = 18;
    static final int MIN_LEN = 20;
    static final int MAX_LEN = 60;

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int URG = 0x20;
    static final int ECE = 0x40;
    static final int CWR = 0x80;
    /** AE (Accurate ECN, RFC 9768), the lowest bit of byte 12, beside the data offset. */
    static final int AE = 0x01;

    /**
     * What {@code tcp_v4_rcv} makes of a segment before it looks for a socket, with the counters Linux
     * moves for it: every segment but one not addressed to this host counts in InSegs ("count it even
     * if it's bad"), then the drops below count as marked. The caller counts and frees the skb of
     * anything but {@link #OK}.
     */
    enum Check {
        OK(true, false, false),
        /** Not addressed to this host ({@code pkt_type != PACKET_HOST}): discarded before InSegs. */
        NOT_HOST(false, false, false),
        /** Shorter than the 20-byte header ({@code pskb_may_pull} fails): discarded, no error counted. */
        TOO_SHORT(true, false, false),
        /** Data offset below 5 words: a bad packet, InErrs. */
        BAD_DOFF(true, true, false),
        /** The data offset reaches past the end of the packet: discarded, no error counted. */
        TRUNCATED(true, false, false),
        /** The checksum does not verify: InCsumErrors and InErrs. */
        BAD_CSUM(true, true, true);

        /** Whether Linux counts the segment in Tcp InSegs. */
        final boolean inSegs;
        /** Whether Linux counts the drop in Tcp InErrs. */
        final boolean inErrs;
        /** Whether Linux counts the drop in Tcp InCsumErrors. */
        final boolean inCsumErrors;

        Check(boolean inSegs, boolean inErrs, boolean inCsumErrors) {
            this.inSegs = inSegs;
            this.inErrs = inErrs;
            this.inCsumErrors = inCsumErrors;
        }

        /** Moves the Tcp counters Linux moves for this outcome, on {@code cpu}. */
        void count(TcpMib mib, int cpu) {
            if (inSegs) {
                mib.inc(cpu, TcpMib.Tcp.InSegs);
            }
            if (inCsumErrors) {
                mib.inc(cpu, TcpMib.Tcp.InCsumErrors);
            }
            if (inErrs) {
                mib.inc(cpu, TcpMib.Tcp.InErrs);
            }
        }
    }

    private SkBuff skb;
    private int th;
    private int hlen;
    private int len;

    /**
     * Validates the segment at {@code skb.data()} (the network header set): addressed to this host, at
     * least 20 bytes, data offset at least 5, the header within the packet (pulled into the linear
     * part), and the checksum over {@code af}'s pseudo-header unless the device verified it. On {@link Check#OK} this view
     * reads that segment until the next call; otherwise it reads nothing.
     */
    Check check(SkBuff skb, TcpAf af) {
        this.skb = null;
        if (skb.pktType() != PktType.HOST) {
            return Check.NOT_HOST;
        }
        if (!skb.mayPull(MIN_LEN)) {
            return Check.TOO_SHORT;
        }
        int t = skb.data();
        int doff = (skb.getU8(t + DOFF) >>> 4) * 4;
        if (doff < MIN_LEN) {
            return Check.BAD_DOFF;
        }
        if (!skb.mayPull(doff)) {
            return Check.TRUNCATED;
        }
        t = skb.data();
        int total = skb.len();
        // skb_csum_unnecessary: CHECKSUM_PARTIAL (from a veth peer or lo) never left memory, so it is good
        if (skb.ipSummed() != Checksum.UNNECESSARY && skb.ipSummed() != Checksum.PARTIAL
                && sum(skb, t, total, af.pseudoSum(skb, total)) != 0xffff) {
            return Check.BAD_CSUM;
        }
        this.skb = skb;
        this.th = t;
        this.hlen = doff;
        this.len = total;
        return Check.OK;
    }

    /**
     * The folded ones' complement sum of {@code len} bytes from {@code offset} (in the linear part)
     * through the rest of the head and then the page fragments, plus {@code initial}: the whole
     * segment, wherever its bytes lie, without linearizing it.
     */
    static int sum(SkBuff skb, int offset, int len, int initial) {
        int head = Math.min(len, skb.tail() - offset);
        long s = InetChecksum.sum(skb, offset, head, initial);
        int done = head;
        for (int i = 0; i < skb.nrFrags() && done < len; i++) {
            int n = Math.min(skb.fragSize(i), len - done);
            int f = InetChecksum.sum(skb.fragMemory(i), skb.fragOffset(i), n, 0);
            // a piece that starts at an odd byte of the segment adds its sum byte-swapped (RFC 1071 2.B)
            s += (done & 1) == 0 ? f : ((f << 8) | (f >>> 8)) & 0xffff;
            done += n;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    /** The checksum to store for a segment of {@code len} bytes at {@code th}, its check field zero. */
    static int checksum(SkBuff skb, int th, int len, int pseudoSum) {
        return ~sum(skb, th, len, pseudoSum) & 0xffff;
    }

    /** Zeroes the check field, then stores the checksum over the pseudo-header and the segment. */
    static void setChecksum(SkBuff skb, int th, int len, int pseudoSum) {
        skb.setU16(th + CHECK, 0);
        skb.setU16(th + CHECK, checksum(skb, th, len, pseudoSum));
    }

    /**
     * {@code tcp_v4_send_check} with offload: the check field holds the pseudo-header's folded sum and
     * the skb is {@code CHECKSUM_PARTIAL} from the header, for the device (or the core's
     * {@code skb_checksum_help}) to complete.
     */
    static void setChecksumPartial(SkBuff skb, int th, int pseudoSum) {
        int s = pseudoSum;
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        skb.setU16(th + CHECK, s);
        skb.csumPartial(th, CHECK);
    }

    /**
     * Writes a 20-byte header plus the data offset for {@code optionBytes} of options (a multiple of
     * 4, written after it by {@link TcpOutOptions#write}); the check field is left zero.
     */
    static void write(SkBuff skb, int th, int sport, int dport, int seq, int ackSeq, int flags, int window,
            int optionBytes) {
        skb.setU16(th + SOURCE, sport);
        skb.setU16(th + DEST, dport);
        skb.setU32(th + SEQ, seq);
        skb.setU32(th + ACK_SEQ, ackSeq);
        skb.setU8(th + DOFF, ((MIN_LEN + optionBytes) / 4) << 4 | (flags >>> 8 & AE));
        skb.setU8(th + FLAGS, flags & 0xff);
        skb.setU16(th + WINDOW, window);
        skb.setU16(th + CHECK, 0);
        skb.setU16(th + URG_PTR, 0);
    }

    // --- the segment checked last ---

    /** The checked skb, or null when the last check failed. */
    SkBuff skb() {
        return skb;
    }

    /** Offset of the TCP header in the skb. */
    int offset() {
        return th;
    }

    int source() {
        return skb.getU16(th + SOURCE);
    }

    int dest() {
        return skb.getU16(th + DEST);
    }

    int seq() {
        return skb.getU32(th + SEQ);
    }

    int ackSeq() {
        return skb.getU32(th + ACK_SEQ);
    }

    /** The header length in bytes ({@code doff * 4}), options included. */
    int headerLen() {
        return hlen;
    }

    /** Offset of the first option byte. */
    int optionsOffset() {
        return th + MIN_LEN;
    }

    /** Bytes of options: {@code doff * 4 - 20}. */
    int optionsLen() {
        return hlen - MIN_LEN;
    }

    /** The eight flag bits CWR ECE URG ACK PSH RST SYN FIN, with AE as bit 8 ({@code tcp_flag_word}'s order). */
    int flags() {
        return (skb.getU8(th + DOFF) & AE) << 8 | skb.getU8(th + FLAGS);
    }

    boolean fin() {
        return (skb.getU8(th + FLAGS) & FIN) != 0;
    }

    boolean syn() {
        return (skb.getU8(th + FLAGS) & SYN) != 0;
    }

    boolean rst() {
        return (skb.getU8(th + FLAGS) & RST) != 0;
    }

    boolean psh() {
        return (skb.getU8(th + FLAGS) & PSH) != 0;
    }

    boolean ack() {
        return (skb.getU8(th + FLAGS) & ACK) != 0;
    }

    boolean urg() {
        return (skb.getU8(th + FLAGS) & URG) != 0;
    }

    boolean ece() {
        return (skb.getU8(th + FLAGS) & ECE) != 0;
    }

    boolean cwr() {
        return (skb.getU8(th + FLAGS) & CWR) != 0;
    }

    boolean ae() {
        return (skb.getU8(th + DOFF) & AE) != 0;
    }

    /** The ACE field of Accurate ECN (RFC 9768 3.2.1): AE, CWR and ECE read as a 3-bit counter. */
    int ace() {
        return (skb.getU8(th + DOFF) & AE) << 2 | skb.getU8(th + FLAGS) >>> 6;
    }

    /** The window field as sent, not yet scaled. */
    int window() {
        return skb.getU16(th + WINDOW);
    }

    int checksum() {
        return skb.getU16(th + CHECK);
    }

    int urgPtr() {
        return skb.getU16(th + URG_PTR);
    }

    /** Bytes of data after the header. */
    int payloadLen() {
        return len - hlen;
    }

    /**
     * {@code TCP_SKB_CB(skb)->end_seq}: the sequence number after this segment — its data, and one
     * each for SYN and FIN, which occupy sequence space.
     */
    int endSeq() {
        int f = skb.getU8(th + FLAGS);
        return seq() + payloadLen() + (f & SYN) / SYN + (f & FIN);
    }
}

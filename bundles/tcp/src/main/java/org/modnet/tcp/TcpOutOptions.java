package org.modnet.tcp;

import org.modnet.api.skb.SkBuff;

/**
 * The options a segment will carry, as Linux's {@code struct tcp_out_options}: chosen and sized by
 * {@link #syn}, {@link #synAck} and {@link #established} (Linux's {@code tcp_syn_options},
 * {@code tcp_synack_options}, {@code tcp_established_options}), then written by {@link #write} in
 * Linux's order and 32-bit layout ({@code tcp_options_write}), so segments match Linux's byte for
 * byte: a SYN with everything is {@code mss, sackOK, TS val ecr, nop, wscale} in 20 bytes. One
 * instance per CPU, reused; nothing allocates.
 */
final class TcpOutOptions {
    static final int OPTION_SACK_ADVERTISE = 1 << 0;
    static final int OPTION_TS = 1 << 1;
    static final int OPTION_MSS = 1 << 2;
    static final int OPTION_WSCALE = 1 << 3;

    /** {@code MAX_TCP_OPTION_SPACE}. */
    static final int MAX_SPACE = 40;
    static final int ALIGNED_MSS = 4;
    static final int ALIGNED_TSTAMP = 12;
    static final int ALIGNED_WSCALE = 4;
    static final int ALIGNED_SACKPERM = 4;
    static final int ALIGNED_SACK_BASE = 4;

    int options;
    int mss;
    int ws;
    int tsval;
    int tsecr;
    int numSackBlocks;
    /** The blocks to send: the connection's own arrays (D-SACK first when there is one), not copied. */
    int[] sackStart;
    int[] sackEnd;

    private void reset() {
        options = 0;
        mss = 0;
        ws = 0;
        tsval = 0;
        tsecr = 0;
        numSackBlocks = 0;
        sackStart = null;
        sackEnd = null;
    }

    /**
     * {@code tcp_syn_options}: MSS always; timestamps when {@code tcp_timestamps} is on; the window
     * scale when {@code tcp_window_scaling} is on ({@code wscale} is ours); SACK-permitted when
     * {@code tcp_sack} is on, sharing the timestamps' word when both are. Returns the bytes of options.
     */
    int syn(int mss, boolean timestamps, int tsval, boolean windowScaling, int wscale, boolean sack) {
        reset();
        this.options = OPTION_MSS;
        this.mss = mss;
        int size = ALIGNED_MSS;
        if (timestamps) {
            options |= OPTION_TS;
            this.tsval = tsval;
            this.tsecr = 0;
            size += ALIGNED_TSTAMP;
        }
        if (windowScaling) {
            options |= OPTION_WSCALE;
            this.ws = wscale;
            size += ALIGNED_WSCALE;
        }
        if (sack) {
            options |= OPTION_SACK_ADVERTISE;
            if (!timestamps) {
                size += ALIGNED_SACKPERM;
            }
        }
        return size;
    }

    /**
     * {@code tcp_synack_options}: what the SYN offered and we accept — MSS always, the window scale,
     * timestamps echoing the peer's value, SACK-permitted. Returns the bytes of options.
     */
    int synAck(int mss, boolean wscaleOk, int rcvWscale, boolean tstampOk, int tsval, int tsecr, boolean sackOk) {
        reset();
        this.options = OPTION_MSS;
        this.mss = mss;
        int size = ALIGNED_MSS;
        if (wscaleOk) {
            options |= OPTION_WSCALE;
            ws = rcvWscale;
            size += ALIGNED_WSCALE;
        }
        if (tstampOk) {
            options |= OPTION_TS;
            this.tsval = tsval;
            this.tsecr = tsecr;
            size += ALIGNED_TSTAMP;
        }
        if (sackOk) {
            options |= OPTION_SACK_ADVERTISE;
            if (!tstampOk) {
                size += ALIGNED_SACKPERM;
            }
        }
        return size;
    }

    /**
     * {@code tcp_established_options}: NOP NOP TS when timestamps were negotiated, then as many of
     * {@code blocks} SACK blocks as the remaining space holds (three beside timestamps, four without).
     * Returns the bytes of options.
     */
    int established(boolean tstampOk, int tsval, int tsecr, int[] sackStart, int[] sackEnd, int blocks) {
        reset();
        int size = 0;
        if (tstampOk) {
            options = OPTION_TS;
            this.tsval = tsval;
            this.tsecr = tsecr;
            size += ALIGNED_TSTAMP;
        }
        if (blocks > 0) {
            int remaining = MAX_SPACE - size;
            if (remaining >= ALIGNED_SACK_BASE + TcpOptions.LEN_SACK_PERBLOCK) {
                numSackBlocks = Math.min(blocks, (remaining - ALIGNED_SACK_BASE) / TcpOptions.LEN_SACK_PERBLOCK);
                this.sackStart = sackStart;
                this.sackEnd = sackEnd;
                size += ALIGNED_SACK_BASE + numSackBlocks * TcpOptions.LEN_SACK_PERBLOCK;
            }
        }
        return size;
    }

    /** The bytes {@link #write} writes for the options chosen. */
    int size() {
        int size = 0;
        if ((options & OPTION_MSS) != 0) {
            size += ALIGNED_MSS;
        }
        if ((options & OPTION_TS) != 0) {
            size += ALIGNED_TSTAMP;
        } else if ((options & OPTION_SACK_ADVERTISE) != 0) {
            size += ALIGNED_SACKPERM;
        }
        if ((options & OPTION_WSCALE) != 0) {
            size += ALIGNED_WSCALE;
        }
        if (numSackBlocks > 0) {
            size += ALIGNED_SACK_BASE + numSackBlocks * TcpOptions.LEN_SACK_PERBLOCK;
        }
        return size;
    }

    /**
     * {@code tcp_options_write}: the options at {@code p} (just after the 20-byte header), in Linux's
     * order — MSS; SACK-permitted+TS or NOP NOP TS; NOP NOP SACK-permitted without TS; NOP WS; NOP NOP
     * SACK blocks. Returns the offset after them ({@code p + size()}).
     */
    int write(SkBuff skb, int p) {
        if ((options & OPTION_MSS) != 0) {
            skb.setU32(p, TcpOptions.MSS << 24 | TcpOptions.LEN_MSS << 16 | mss & 0xffff);
            p += 4;
        }
        boolean sackPerm = (options & OPTION_SACK_ADVERTISE) != 0;
        if ((options & OPTION_TS) != 0) {
            int first = sackPerm ? TcpOptions.SACK_PERM << 24 | TcpOptions.LEN_SACK_PERM << 16
                    : TcpOptions.NOP << 24 | TcpOptions.NOP << 16;
            skb.setU32(p, first | TcpOptions.TIMESTAMP << 8 | TcpOptions.LEN_TIMESTAMP);
            skb.setU32(p + 4, tsval);
            skb.setU32(p + 8, tsecr);
            p += 12;
            sackPerm = false;
        }
        if (sackPerm) {
            skb.setU32(p, TcpOptions.NOP << 24 | TcpOptions.NOP << 16 | TcpOptions.SACK_PERM << 8 | TcpOptions.LEN_SACK_PERM);
            p += 4;
        }
        if ((options & OPTION_WSCALE) != 0) {
            skb.setU32(p, TcpOptions.NOP << 24 | TcpOptions.WINDOW << 16 | TcpOptions.LEN_WINDOW << 8 | ws & 0xff);
            p += 4;
        }
        if (numSackBlocks > 0) {
            skb.setU32(p, TcpOptions.NOP << 24 | TcpOptions.NOP << 16 | TcpOptions.SACK << 8
                    | TcpOptions.LEN_SACK_BASE + numSackBlocks * TcpOptions.LEN_SACK_PERBLOCK);
            p += 4;
            for (int i = 0; i < numSackBlocks; i++) {
                skb.setU32(p, sackStart[i]);
                skb.setU32(p + 4, sackEnd[i]);
                p += 8;
            }
        }
        return p;
    }
}

package org.modnet.tcp;

import org.modnet.api.skb.SkBuff;

/**
 * The options a segment carries, parsed as Linux's {@code tcp_parse_options} parses them into a
 * {@code struct tcp_options_received}: one instance per connection (what it negotiated) and one per
 * CPU for segments without a connection (SYNs to a listener), reused, never allocated per segment.
 *
 * <p>The rules Linux follows, which this keeps (RFC 9293 3.2, RFC 7323, RFC 2018):
 * <ul>
 * <li>EOL ends the list; NOP is one byte; any other kind has a length byte. A kind without room for
 * its length byte, a length below 2 ("silly options") or a length reaching past the header stops
 * parsing — what was parsed before stays.</li>
 * <li>A known kind with the wrong length is skipped by its length, as an unknown kind is.</li>
 * <li>MSS, window scale and SACK-permitted count only on a SYN before the connection is established;
 * an MSS of 0 is ignored (the clamp keeps its value); a window scale above 14 is taken as 14
 * (Linux logs it, rate limited; here it is counted in {@link #illegalWscale}).</li>
 * <li>Timestamps count when the connection negotiated them, or on a SYN when
 * {@code tcp_timestamps} is on; SACK blocks only when SACK was negotiated and the length holds
 * whole blocks.</li>
 * </ul>
 */
final class TcpOptions {
    static final int EOL = 0;
    static final int NOP = 1;
    static final int MSS = 2;
    static final int WINDOW = 3;
    static final int SACK_PERM = 4;
    static final int SACK = 5;
    static final int TIMESTAMP = 8;
    static final int MD5SIG = 19;
    static final int AO = 29;
    static final int FASTOPEN = 34;
    static final int EXP = 254;
    static final int FASTOPEN_MAGIC = 0xf989;

    static final int LEN_MSS = 4;
    static final int LEN_WINDOW = 3;
    static final int LEN_SACK_PERM = 2;
    static final int LEN_TIMESTAMP = 10;
    static final int LEN_SACK_BASE = 2;
    static final int LEN_SACK_PERBLOCK = 8;

    /** {@code TCP_MAX_WSCALE} (RFC 7323 2.3). */
    static final int MAX_WSCALE = 14;
    /** {@code TCP_NUM_SACKS}: at most four blocks fit in 40 bytes of options. */
    static final int NUM_SACKS = 4;
    /** {@code TCP_MSS_DEFAULT}: the MSS assumed without the option (RFC 9293 3.7.1, IPv4). */
    static final int MSS_DEFAULT = 536;

    /** Which of the sysctls {@code tcp_window_scaling}, {@code tcp_timestamps}, {@code tcp_sack} are on. */
    static final int SYSCTL_WINDOW_SCALING = 1;
    static final int SYSCTL_TIMESTAMPS = 2;
    static final int SYSCTL_SACK = 4;

    /** The first word of the layout Linux sends on every segment with timestamps: NOP NOP TS 10. */
    static final int ALIGNED_TIMESTAMP = NOP << 24 | NOP << 16 | TIMESTAMP << 8 | LEN_TIMESTAMP;

    // --- per segment ---
    /** The last segment carried a timestamp option ({@code saw_tstamp}). */
    boolean sawTstamp;
    int rcvTsval;
    int rcvTsecr;
    /** The last segment carried a kind this parser does not know ({@code saw_unknown}). */
    boolean sawUnknown;
    /** SACK blocks of the last segment, in the order sent; {@link #numRcvSacks} of them are valid. */
    final int[] rcvSackStart = new int[NUM_SACKS];
    final int[] rcvSackEnd = new int[NUM_SACKS];
    int numRcvSacks;
    /** Offset of the SACK option from the TCP header, 0 if none ({@code TCP_SKB_CB(skb)->sacked}). */
    int sackOffset;

    // --- negotiated, kept across segments ---
    boolean tstampOk;
    boolean sackOk;
    boolean wscaleOk;
    /** The peer's shift count ({@code snd_wscale}), 0..14. */
    int sndWscale;
    /** The MSS the peer announced, clamped by {@link #userMss}; {@link #MSS_DEFAULT} without one. */
    int mssClamp = MSS_DEFAULT;
    /** {@code TCP_MAXSEG} of the socket, 0 if not set. */
    int userMss;

    /** Window scales above 14 received and taken as 14, since this instance was made. */
    long illegalWscale;

    /** {@code tcp_clear_options}: nothing negotiated yet. */
    void clear() {
        tstampOk = false;
        sackOk = false;
        wscaleOk = false;
        sndWscale = 0;
        sawTstamp = false;
        sawUnknown = false;
        numRcvSacks = 0;
        sackOffset = 0;
    }

    /**
     * {@code tcp_parse_options}: the options of the segment whose header is at {@code th} (the data
     * offset already checked, as {@link TcpHeader#check} does). {@code estab} is whether the
     * connection is past the handshake; {@code sysctls} is a set of the {@code SYSCTL_} bits.
     */
    void parse(SkBuff skb, int th, boolean estab, int sysctls) {
        sawTstamp = false;
        sawUnknown = false;
        numRcvSacks = 0;
        sackOffset = 0;
        boolean syn = (skb.getU8(th + TcpHeader.FLAGS) & TcpHeader.SYN) != 0;
        int p = th + TcpHeader.MIN_LEN;
        int length = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4 - TcpHeader.MIN_LEN;
        while (length > 0) {
            int kind = skb.getU8(p);
            if (kind == EOL) {
                return;
            }
            if (kind == NOP) {
                p++;
                length--;
                continue;
            }
            if (length < 2) {
                return;
            }
            int size = skb.getU8(p + 1);
            if (size < 2 || size > length) {
                return; // silly or partial: stop where Linux stops
            }
            int v = p + 2;
            switch (kind) {
                case MSS -> {
                    if (size == LEN_MSS && syn && !estab) {
                        int in = skb.getU16(v);
                        if (in != 0) {
                            mssClamp = userMss != 0 && userMss < in ? userMss : in;
                        }
                    }
                }
                case WINDOW -> {
                    if (size == LEN_WINDOW && syn && !estab && (sysctls & SYSCTL_WINDOW_SCALING) != 0) {
                        int shift = skb.getU8(v);
                        wscaleOk = true;
                        if (shift > MAX_WSCALE) {
                            illegalWscale++;
                            shift = MAX_WSCALE;
                        }
                        sndWscale = shift;
                    }
                }
                case TIMESTAMP -> {
                    if (size == LEN_TIMESTAMP && (estab ? tstampOk : (sysctls & SYSCTL_TIMESTAMPS) != 0)) {
                        sawTstamp = true;
                        rcvTsval = skb.getU32(v);
                        rcvTsecr = skb.getU32(v + 4);
                    }
                }
                case SACK_PERM -> {
                    if (size == LEN_SACK_PERM && syn && !estab && (sysctls & SYSCTL_SACK) != 0) {
                        sackOk = true;
                    }
                }
                case SACK -> {
                    if (size >= LEN_SACK_BASE + LEN_SACK_PERBLOCK && (size - LEN_SACK_BASE) % LEN_SACK_PERBLOCK == 0
                            && sackOk) {
                        sackOffset = p - th;
                        int n = Math.min(NUM_SACKS, (size - LEN_SACK_BASE) / LEN_SACK_PERBLOCK);
                        for (int i = 0; i < n; i++) {
                            rcvSackStart[i] = skb.getU32(v + i * LEN_SACK_PERBLOCK);
                            rcvSackEnd[i] = skb.getU32(v + i * LEN_SACK_PERBLOCK + 4);
                        }
                        numRcvSacks = n;
                    }
                }
                case MD5SIG, AO, FASTOPEN -> {
                    // known kinds this stack does not use (Fast Open, signatures): skipped, not unknown
                }
                case EXP -> {
                    if (size < 4 || skb.getU16(v) != FASTOPEN_MAGIC) {
                        sawUnknown = true;
                    }
                }
                default -> sawUnknown = true;
            }
            p += size;
            length -= size;
        }
    }

    /**
     * {@code tcp_fast_parse_options} for an established connection: no options at all, or exactly the
     * NOP NOP TS layout when timestamps were negotiated, are read without the general parser; anything
     * else goes through {@link #parse}. {@code tsOffset} is subtracted from a nonzero echo, as Linux
     * removes its per-connection timestamp offset. Returns whether the segment had options at all, as
     * Linux's does (then {@link #sawTstamp} says whether one was a timestamp).
     */
    boolean fastParse(SkBuff skb, int th, int sysctls, int tsOffset) {
        int doff = (skb.getU8(th + TcpHeader.DOFF) >>> 4) * 4;
        if (doff == TcpHeader.MIN_LEN) {
            sawTstamp = false;
            numRcvSacks = 0;
            sackOffset = 0;
            return false;
        }
        if (tstampOk && doff == TcpHeader.MIN_LEN + 12 && skb.getU32(th + TcpHeader.MIN_LEN) == ALIGNED_TIMESTAMP) {
            sawTstamp = true;
            numRcvSacks = 0;
            sackOffset = 0;
            rcvTsval = skb.getU32(th + TcpHeader.MIN_LEN + 4);
            int ecr = skb.getU32(th + TcpHeader.MIN_LEN + 8);
            rcvTsecr = ecr != 0 ? ecr - tsOffset : 0;
            return true;
        }
        parse(skb, th, true, sysctls);
        if (sawTstamp && rcvTsecr != 0) {
            rcvTsecr -= tsOffset;
        }
        return true;
    }
}

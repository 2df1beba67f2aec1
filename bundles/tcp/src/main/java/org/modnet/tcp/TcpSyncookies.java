package org.modnet.tcp;

import java.security.SecureRandom;
import java.util.function.LongSupplier;

import org.modnet.api.skb.SkBuff;

/**
 * SYN cookies (RFC 4987 3.6; Linux's {@code net/ipv4/syncookies.c} scheme): when a listener's SYN
 * queue is full it answers a SYN with a SYN-ACK and keeps nothing; the ISN it chooses carries what the
 * connection needs, and the ACK that echoes it makes the connection.
 *
 * <p>The cookie is {@code H0(4-tuple) + SEG.SEQ + (minute << 24) + ((H1(4-tuple, minute) + mssIndex)
 * mod 2^24)}, with H0 and H1 SipHash under secrets of this instance: the top 8 bits carry the minute
 * counter, so a cookie is good for the minute it was made and the next ({@code MAX_SYNCOOKIE_AGE}), and
 * the low 24 the index of the MSS in {@link #MSSTAB}. With timestamps the SYN-ACK's TSval carries in
 * its low 6 bits the peer's window scale (15 when it offered none), SACK-permitted and ECN
 * ({@code cookie_init_timestamp}); the ACK echoes it back in TSecr. Nothing here allocates.
 */
final class TcpSyncookies {
    /** {@code msstab}: the MSS values a cookie can say, smallest first. */
    static final int[] MSSTAB = { 536, 1300, 1440, 1460 };
    /** {@code COOKIEBITS}: the bits below the minute counter. */
    static final int COOKIEBITS = 24;
    static final int COOKIEMASK = (1 << COOKIEBITS) - 1;
    /** {@code MAX_SYNCOOKIE_AGE}: a cookie is valid for the minute it was made in and the next. */
    static final int MAX_AGE = 2;
    /** {@code TCP_SYNCOOKIE_VALID}: the listener accepts cookie ACKs this long after its last overflow. */
    static final long VALID_MS = MAX_AGE * 60_000L;
    /** {@code TSBITS} and the option bits in the low bits of a cookie's TSval. */
    static final int TSBITS = 6;
    static final int TSMASK = (1 << TSBITS) - 1;
    static final int TS_OPT_WSCALE_MASK = 0xf;
    static final int TS_OPT_SACK = 1 << 4;
    static final int TS_OPT_ECN = 1 << 5;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TcpSyncookies.class);

    private final LongSupplier nanos;
    private final long k0;
    private final long k1;

    /** Fresh secrets; {@code nanos} is the core's clock. */
    TcpSyncookies(LongSupplier nanos) {
        this(nanos, new SecureRandom());
    }

    private TcpSyncookies(LongSupplier nanos, SecureRandom r) {
        this(nanos, r.nextLong(), r.nextLong());
    }

    /** Given secrets: for tests. */
    /** The key, to hand over on an update: cookies sent before it stay valid after it. */
    long[] keys() {
        return new long[] { k0, k1 };
    }

    TcpSyncookies(LongSupplier nanos, long k0, long k1) {
        this.nanos = nanos;
        this.k0 = k0;
        this.k1 = k1;
    }

    /** {@code tcp_syn_flood_action}'s warning, once per listener (the caller keeps the once). */
    static void warnFlood(int port, boolean cookies) {
        LOG.warn("TCP: request_sock_TCP: Possible SYN flooding on port {}. {}.  Check SNMP counters.", port,
                cookies ? "Sending cookies" : "Dropping request");
    }

    /** {@code tcp_cookie_time}: minutes on the core's clock. */
    int minute() {
        return (int) (nanos.getAsLong() / 60_000_000_000L);
    }

    private int hash(int saddr, int daddr, int sport, int dport, int count, int c) {
        // the secret pair differs for the two hashes as Linux's syncookie_secret[0] and [1] do
        long kk0 = c == 0 ? k0 : k0 ^ 0x5bd1e9955bd1e995L;
        long kk1 = c == 0 ? k1 : k1 ^ 0x9e3779b97f4a7c15L;
        return (int) SipHash.hash3u32(kk0, kk1, saddr, daddr, (sport << 16 | dport & 0xffff) ^ count * 0x2545F491);
    }

    /** The index in {@link #MSSTAB} of the largest MSS not above {@code mss} (0 when all are). */
    static int mssIndex(int mss) {
        for (int i = MSSTAB.length - 1; i > 0; i--) {
            if (mss >= MSSTAB[i]) {
                return i;
            }
        }
        return 0;
    }

    /**
     * {@code secure_tcp_syn_cookie}: the ISN for a SYN from saddr:sport to daddr:dport with sequence
     * number {@code sseq}, carrying {@code mssIndex}.
     */
    int cookie(int saddr, int daddr, int sport, int dport, int sseq, int mssIndex) {
        int count = minute();
        return hash(saddr, daddr, sport, dport, 0, 0) + sseq + (count << COOKIEBITS)
                + ((hash(saddr, daddr, sport, dport, count, 1) + mssIndex) & COOKIEMASK);
    }

    /**
     * {@code check_tcp_syn_cookie}: the MSS index a cookie carries, or -1 when it was not made here
     * for this 4-tuple and sequence number, or is older than {@link #MAX_AGE} minutes.
     */
    int check(int cookie, int saddr, int daddr, int sport, int dport, int sseq) {
        int count = minute();
        cookie -= hash(saddr, daddr, sport, dport, 0, 0) + sseq;
        int diff = (count - (cookie >>> COOKIEBITS)) & (0xffffffff >>> COOKIEBITS);
        if (diff >= MAX_AGE) {
            return -1;
        }
        int mssind = (cookie - hash(saddr, daddr, sport, dport, count - diff, 1)) & COOKIEMASK;
        return mssind < MSSTAB.length ? mssind : -1;
    }

    /**
     * {@code cookie_init_timestamp}: the raw TSval (before the connection's offset) for a cookie SYN-ACK
     * sent at {@code nowTs}: its low bits the peer's window scale (or 15 for none), SACK and ECN, never
     * ahead of the clock.
     */
    static int timestamp(int nowTs, boolean wscaleOk, int sndWscale, boolean sackOk, boolean ecnOk) {
        int options = wscaleOk ? sndWscale & TS_OPT_WSCALE_MASK : TS_OPT_WSCALE_MASK;
        if (sackOk) {
            options |= TS_OPT_SACK;
        }
        if (ecnOk) {
            options |= TS_OPT_ECN;
        }
        int ts = (nowTs & ~TSMASK) | options;
        if (TcpSeq.after(ts, nowTs)) {
            ts -= 1 << TSBITS;
        }
        return ts;
    }

    /**
     * {@code cookie_timestamp_decode}: from the echoed raw TSecr, the options the SYN offered, set on
     * {@code opt} ({@code sackOk}, {@code wscaleOk}, {@code sndWscale}); with no timestamp all are off.
     * False when the echo asks for an option a sysctl now forbids (the cookie is refused).
     */
    static boolean decodeTimestamp(TcpOptions opt, int rawTsecr, int sysctls) {
        opt.wscaleOk = false;
        opt.sndWscale = 0;
        opt.sackOk = false;
        if (!opt.sawTstamp) {
            opt.tstampOk = false;
            return true;
        }
        if ((sysctls & TcpOptions.SYSCTL_TIMESTAMPS) == 0) {
            return false;
        }
        opt.tstampOk = true;
        opt.sackOk = (rawTsecr & TS_OPT_SACK) != 0;
        if (opt.sackOk && (sysctls & TcpOptions.SYSCTL_SACK) == 0) {
            return false;
        }
        int ws = rawTsecr & TS_OPT_WSCALE_MASK;
        if (ws == TS_OPT_WSCALE_MASK) {
            return true; // no window scaling
        }
        if (ws > TcpOptions.MAX_WSCALE) {
            return false;
        }
        opt.wscaleOk = true;
        opt.sndWscale = ws;
        return (sysctls & TcpOptions.SYSCTL_WINDOW_SCALING) != 0;
    }

    /**
     * {@code cookie_ecn_ok}: the echoed timestamp says our cookie SYN-ACK agreed to ECN, and tcp_ecn still
     * allows it (Linux also lets a route's {@code features ecn} say so; modnet has no such feature yet).
     */
    static boolean ecnOk(TcpOptions opt, int rawTsecr, int tcpEcn) {
        return opt.sawTstamp && (rawTsecr & TS_OPT_ECN) != 0 && tcpEcn != 0;
    }

    /**
     * A SYN-ACK for which no request sock exists ({@code tcp_make_synack} for a cookie): from the address
     * and port the SYN was sent to, with the options in {@code opts} ({@code optLen} bytes) and {@code
     * ecnFlags} (ECE when ECN was agreed) beside SYN and ACK. Counted in OutSegs by the caller; false
     * when no buffer could be had.
     */
    static boolean sendSynack(TcpNet net, SkBuff syn, int iss, int window, int ecnFlags, TcpOutOptions opts, int optLen, int ttl,
            int tos) {
        int t = syn.data();
        int nh = syn.networkHeader();
        int saddr = syn.getU32(nh + 16);
        int daddr = syn.getU32(nh + 12);
        int hlen = TcpHeader.MIN_LEN + optLen;
        SkBuff skb = net.core.allocSkb(hlen, 64);
        if (skb == null) {
            return false;
        }
        int o = skb.put(hlen);
        TcpHeader.write(skb, o, syn.getU16(t + TcpHeader.DEST), syn.getU16(t + TcpHeader.SOURCE), iss,
                syn.getU32(t + TcpHeader.SEQ) + 1, TcpHeader.SYN | TcpHeader.ACK | ecnFlags, window, optLen);
        opts.write(skb, o + TcpHeader.MIN_LEN);
        TcpHeader.setChecksum(skb, o, hlen, TcpAf.inetPseudoSum(saddr, daddr, hlen));
        // the listener's TOS without its ECN bits, as every SYN-ACK (a SYN-ACK is never ECT, RFC 3168 6.1.1);
        // the listener's IP_PMTUDISC_WANT
        net.ipv4.send(net.ns, skb, saddr, daddr, TcpAf.IPPROTO_TCP, ttl, tos & ~TcpEcn.INET_ECN_MASK, true);
        return true;
    }
}

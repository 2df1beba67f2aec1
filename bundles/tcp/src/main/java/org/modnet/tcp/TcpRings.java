package org.modnet.tcp;

/**
 * A connection's byte rings and the sizes Linux gives its buffers. Linux holds no memory for an idle
 * socket: SO_SNDBUF and SO_RCVBUF are limits, and memory is taken per skb queued and given back as it
 * is read or acknowledged. modnet keeps sent and received bytes in two rings per connection instead;
 * to hold as little, a ring comes with the first byte it must keep, starts at {@value #MIN} bytes,
 * doubles as data needs (so it is allocated a handful of times per connection, never per segment in
 * steady state) up to the power of two the buffer allows, and is given back when it has stayed empty
 * while no data moved for {@value #IDLE_MS} ms. The window we offer comes from the buffer's limit, not
 * from the ring's size at the moment. The receive ring also holds the out-of-order bytes, at their
 * offset from {@code rcv_nxt} beyond the in-order tail: it grows to reach them and keeps them when it
 * grows, and is not given back while it holds any.
 */
final class TcpRings {
    /** No ring yet: an established connection before its first byte, or after a quiet time. */
    static final byte[] NONE = new byte[0];
    /** The first ring: a page, the unit {@code sk_mem_schedule} charges. */
    static final int MIN = 4096;
    /**
     * How long a connection must have moved no data before its empty rings are given back: long enough
     * that a request/response connection keeps them between requests, short enough that idle
     * connections hold nothing within a second.
     */
    static final long IDLE_MS = 1000;

    /** {@code MAX_TCP_HEADER}: headroom of an skb TCP builds (x86-64, L1_CACHE_ALIGN(128 + MAX_HEADER)). */
    static final int MAX_TCP_HEADER = 320;
    /** {@code SKB_DATA_ALIGN(sizeof(struct skb_shared_info))} on x86-64. */
    static final int SKB_SHINFO = 320;
    /** {@code SKB_DATA_ALIGN(sizeof(struct sk_buff))} on x86-64. */
    static final int SKB_STRUCT = 256;

    private TcpRings() {
    }

    /**
     * A ring for {@code need} bytes with the {@code live} bytes of {@code ring} starting at
     * {@code from} (a sequence offset from the ring's base, unmasked) copied to its start: twice the old
     * size (or {@link #MIN}), at most {@code limit} unless {@code need} is more, always a power of two.
     */
    static byte[] grow(byte[] ring, int from, int live, int need, int limit) {
        int len = Math.max(ring.length << 1, MIN);
        len = Math.min(len, Math.max(limit, MIN));
        len = Math.max(len, roundupPow2(need));
        byte[] bigger = new byte[len];
        if (live > 0) {
            int at = from & (ring.length - 1);
            int first = Math.min(live, ring.length - at);
            System.arraycopy(ring, at, bigger, 0, first);
            System.arraycopy(ring, 0, bigger, first, live - first);
        }
        return bigger;
    }

    /**
     * {@code tcp_sndbuf_expand}'s measure: twice {@code segs} segments (the congestion window, at least
     * {@code TCP_INIT_CWND} and {@code reordering + 1}) of an MSS buffer's truesize — the MSS with TCP's
     * headroom and the shared info rounded up to a power of two, plus the {@code sk_buff} itself.
     */
    static int sndmem(int mss, int segs, int reordering) {
        long perMss = roundupPow2(mss + MAX_TCP_HEADER + SKB_SHINFO) + (long) SKB_STRUCT;
        long nr = Math.max(segs, reordering + 1);
        return (int) Math.min(2 * nr * perMss, Integer.MAX_VALUE);
    }

    private static int roundupPow2(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}

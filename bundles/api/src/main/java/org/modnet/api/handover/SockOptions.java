package org.modnet.api.handover;

/**
 * The options a socket carries across a hand-over: the {@code SOL_SOCKET} ones (buffers and their
 * user locks, reuse, broadcast, keepalive, linger, timeouts), the IP ones (TTL, -1 for the default;
 * TOS; the PMTU discovery mode; {@code IP_RECVERR}, 1.8) and {@code O_NONBLOCK}; since 1.12 also
 * {@code SO_PRIORITY}, {@code SO_MARK}, {@code IP_RECVTTL}, {@code SO_BUSY_POLL} ({@code busyPollUsec},
 * -1 when not carried: the new socket keeps {@code net.core.busy_read}'s), {@code SO_PREFER_BUSY_POLL},
 * {@code SO_BUSY_POLL_BUDGET} and {@code SO_MAX_PACING_RATE} (-1 for no limit).
 */
public record SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort,
        boolean broadcast, boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos,
        long sndTimeoNanos, int ttl, int tos, int pmtudisc, boolean nonBlocking, boolean recvErr, int priority, int mark,
        boolean recvTtl, int busyPollUsec, boolean preferBusyPoll, int busyPollBudget, long maxPacingRate) {

    /** Options without {@code IP_RECVERR} (before 1.8): it stays off, as on a new socket. */
    public SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort, boolean broadcast,
            boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos, long sndTimeoNanos, int ttl, int tos,
            int pmtudisc, boolean nonBlocking) {
        this(rcvbuf, sndbuf, userLocks, reuseAddr, reusePort, broadcast, keepalive, lingerOnOff, lingerSeconds, rcvTimeoNanos,
                sndTimeoNanos, ttl, tos, pmtudisc, nonBlocking, false);
    }

    /** Options from before 1.12: priority and mark 0, IP_RECVTTL off, busy polling and pacing as on a new socket. */
    public SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort, boolean broadcast,
            boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos, long sndTimeoNanos, int ttl, int tos,
            int pmtudisc, boolean nonBlocking, boolean recvErr) {
        this(rcvbuf, sndbuf, userLocks, reuseAddr, reusePort, broadcast, keepalive, lingerOnOff, lingerSeconds, rcvTimeoNanos,
                sndTimeoNanos, ttl, tos, pmtudisc, nonBlocking, recvErr, 0, 0, false, -1, false, 0, -1L);
    }
}

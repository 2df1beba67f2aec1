package org.modnet.api.handover;

/**
 * The options a socket carries across a hand-over: the {@code SOL_SOCKET} ones (buffers and their
 * user locks, reuse, broadcast, keepalive, linger, timeouts), the IP ones (TTL, -1 for the default;
 * TOS; the PMTU discovery mode; {@code IP_RECVERR}, 1.8) and {@code O_NONBLOCK}.
 */
public record SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort,
        boolean broadcast, boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos,
        long sndTimeoNanos, int ttl, int tos, int pmtudisc, boolean nonBlocking, boolean recvErr) {

    /** Options without {@code IP_RECVERR} (before 1.8): it stays off, as on a new socket. */
    public SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort, boolean broadcast,
            boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos, long sndTimeoNanos, int ttl, int tos,
            int pmtudisc, boolean nonBlocking) {
        this(rcvbuf, sndbuf, userLocks, reuseAddr, reusePort, broadcast, keepalive, lingerOnOff, lingerSeconds, rcvTimeoNanos,
                sndTimeoNanos, ttl, tos, pmtudisc, nonBlocking, false);
    }
}

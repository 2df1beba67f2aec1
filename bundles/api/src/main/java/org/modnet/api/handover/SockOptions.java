package org.modnet.api.handover;

/**
 * The options a socket carries across a hand-over: the {@code SOL_SOCKET} ones (buffers and their
 * user locks, reuse, broadcast, keepalive, linger, timeouts), the IP ones (TTL, -1 for the default;
 * TOS; the PMTU discovery mode) and {@code O_NONBLOCK}.
 */
public record SockOptions(int rcvbuf, int sndbuf, int userLocks, boolean reuseAddr, boolean reusePort,
        boolean broadcast, boolean keepalive, int lingerOnOff, int lingerSeconds, long rcvTimeoNanos,
        long sndTimeoNanos, int ttl, int tos, int pmtudisc, boolean nonBlocking) {
}

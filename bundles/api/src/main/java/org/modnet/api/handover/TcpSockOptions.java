package org.modnet.api.handover;

/**
 * TCP's own socket options ({@code SOL_TCP}): Nagle off ({@code TCP_NODELAY}), {@code TCP_CORK},
 * {@code TCP_KEEPIDLE}, {@code TCP_KEEPINTVL}, {@code TCP_KEEPCNT} (0: the namespace's sysctl), {@code
 * TCP_USER_TIMEOUT} in milliseconds and {@code TCP_MAXSEG} (0: none). The {@code SOL_SOCKET} ones
 * (buffers and their locks, keepalive, linger) are the connection's {@link SockOptions}.
 */
public record TcpSockOptions(boolean nodelay, boolean cork, int keepIdle, int keepIntvl, int keepCnt,
        int userTimeoutMs, int maxseg) {
}

package org.modnet.socket.api;

import java.net.SocketOption;

/**
 * TCP's options a Java {@link java.nio.channels.SocketChannel} on a modnet socket has beyond
 * {@link java.net.StandardSocketOptions}, as {@code jdk.net.ExtendedSocketOptions} adds the JDK's.
 * A channel that is not modnet's does not list them in {@code supportedOptions()}: a program asks
 * before it reads, as iperf3 asks whether the system has {@code TCP_INFO}.
 *
 * @since 1.14
 */
public final class TcpSocketOptions {
    private TcpSocketOptions() {
    }

    /**
     * {@code getsockopt(fd, IPPROTO_TCP, TCP_INFO)}: the connection's {@link TcpInfo} now (read only;
     * setting it is {@link UnsupportedOperationException}, as Linux's setsockopt answers ENOPROTOOPT).
     */
    public static final SocketOption<TcpInfo> TCP_INFO = new SocketOption<>() {
        @Override
        public String name() {
            return "TCP_INFO";
        }

        @Override
        public Class<TcpInfo> type() {
            return TcpInfo.class;
        }

        @Override
        public String toString() {
            return name();
        }
    };
}

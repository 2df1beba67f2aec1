package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

/**
 * One TCP connection, frozen by the old version and remade by the new one: the socket's common part
 * ({@link SocketState}: addresses, state — any of the eleven —, {@code SOL_SOCKET} options, and in
 * {@code extra} the scalars only TCP's implementation reads, by name), the sequence space, the options
 * negotiated, the RTT estimator, the congestion state, the bytes sent but not acknowledged followed by
 * the bytes not yet sent ({@code sendQueue}, from {@code snd_una} to {@code write_seq}), the bytes
 * received but not read ({@code receiveQueue}, from {@code copied_seq} to {@code rcv_nxt}), the
 * out-of-order segments, the push marks (sequence numbers where a write ended with PSH), the timers
 * as what was left of them, TCP's socket options, and the counters {@code TCP_INFO} and {@code ss -i}
 * show, by {@code tcp_info}'s field names.
 */
public record TcpConnectionState(SocketState socket, TcpSequence sequence, TcpNegotiated options,
        TcpEstimator rtt, TcpCongestion congestion, byte[] sendQueue, byte[] receiveQueue,
        List<TcpSegment> outOfOrder, int[] pushMarks, TcpTimersState timers, TcpSockOptions tcpOptions,
        Map<String, Long> counters) {
    public TcpConnectionState {
        outOfOrder = List.copyOf(outOfOrder);
        counters = Map.copyOf(counters);
    }
}

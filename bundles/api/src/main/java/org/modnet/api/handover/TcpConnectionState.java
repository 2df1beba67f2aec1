package org.modnet.api.handover;

import java.util.List;
import java.util.Map;

/**
 * One TCP connection, frozen by the old version and remade by the new one: the socket's common part
 * ({@link SocketState}: addresses, state — any of the eleven —, {@code SOL_SOCKET} options, and in
 * {@code extra} the scalars only TCP's implementation reads, by name), the sequence space, the options
 * negotiated, the RTT estimator, the congestion state, the bytes sent but not acknowledged followed by
 * the bytes not yet sent ({@code sendQueue}, from {@code snd_una} to {@code write_seq}), the bytes
 * received but not read ({@code receiveQueue}, from {@code copied_seq} to {@code rcv_nxt} less a FIN),
 * each a ring: its bytes begin at index {@code sendStart} ({@code receiveStart}) and wrap around at
 * its end, so the old version hands its buffers over without copying them (the array is the
 * record's own: the old version never touches it again); the
 * out-of-order segments, the push marks (sequence numbers where a write ended with PSH), the timers
 * as what was left of them, TCP's socket options, and the counters {@code TCP_INFO} and {@code ss -i}
 * show, by {@code tcp_info}'s field names; since 1.3 the loss-recovery state ({@link TcpRecoveryState}),
 * null from an older version; since 1.5 what the connection learnt about its path ({@link TcpPathState}:
 * ECN, path MTU, soft error) and the sender's F-RTO, pacing, chrono and rate-sampler state ({@link
 * TcpSenderState}), each null from an older version (the new version starts them afresh, as a new
 * connection would).
 */
public record TcpConnectionState(SocketState socket, TcpSequence sequence, TcpNegotiated options,
        TcpEstimator rtt, TcpCongestion congestion, byte[] sendQueue, int sendStart, byte[] receiveQueue, int receiveStart,
        List<TcpSegment> outOfOrder, int[] pushMarks, TcpTimersState timers, TcpSockOptions tcpOptions,
        Map<String, Long> counters, TcpRecoveryState recovery, TcpPathState path, TcpSenderState sender) {
    public TcpConnectionState {
        outOfOrder = List.copyOf(outOfOrder);
        counters = Map.copyOf(counters);
    }

    /** A state without the path and sender parts (1.3, 1.4): the new version starts them afresh. */
    public TcpConnectionState(SocketState socket, TcpSequence sequence, TcpNegotiated options, TcpEstimator rtt,
            TcpCongestion congestion, byte[] sendQueue, int sendStart, byte[] receiveQueue, int receiveStart,
            List<TcpSegment> outOfOrder, int[] pushMarks, TcpTimersState timers, TcpSockOptions tcpOptions,
            Map<String, Long> counters, TcpRecoveryState recovery) {
        this(socket, sequence, options, rtt, congestion, sendQueue, sendStart, receiveQueue, receiveStart, outOfOrder,
                pushMarks, timers, tcpOptions, counters, recovery, null, null);
    }

    /** A state without the loss-recovery part (before 1.3): the new version starts its scoreboard afresh. */
    public TcpConnectionState(SocketState socket, TcpSequence sequence, TcpNegotiated options, TcpEstimator rtt,
            TcpCongestion congestion, byte[] sendQueue, int sendStart, byte[] receiveQueue, int receiveStart,
            List<TcpSegment> outOfOrder, int[] pushMarks, TcpTimersState timers, TcpSockOptions tcpOptions,
            Map<String, Long> counters) {
        this(socket, sequence, options, rtt, congestion, sendQueue, sendStart, receiveQueue, receiveStart, outOfOrder,
                pushMarks, timers, tcpOptions, counters, null, null, null);
    }

    /** {@code n} bytes of the send ring from its start, as a plain array. */
    public byte[] sendBytes(int n) {
        return unwrap(sendQueue, sendStart, n);
    }

    /** {@code n} bytes of the receive ring from its start, as a plain array. */
    public byte[] receiveBytes(int n) {
        return unwrap(receiveQueue, receiveStart, n);
    }

    private static byte[] unwrap(byte[] ring, int start, int n) {
        byte[] out = new byte[n];
        if (n == 0) {
            return out;
        }
        int at = Math.floorMod(start, ring.length);
        int first = Math.min(n, ring.length - at);
        System.arraycopy(ring, at, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        return out;
    }
}

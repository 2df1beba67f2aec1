package org.modnet.tcp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The fate of every segment TCP receives, as Linux records it at the end of the receive path: freed
 * with a drop reason ({@code kfree_skb_reason}, {@code enum skb_drop_reason}) or consumed ({@code
 * consume_skb}). Linux shows these on the {@code skb:kfree_skb} and {@code skb:consume_skb}
 * tracepoints rather than in {@code nstat}; here they are counted per namespace, so every segment
 * counted in InSegs lands on exactly one of them (a test checks the sum).
 *
 * <p>Striped per CPU as {@link TcpMib} is: a softirq CPU writes its own stripe, other threads the
 * shared one atomically; nothing allocates.
 */
final class TcpDrops {
    /** The drop reasons TCP's receive path uses, by Linux's names ({@code SKB_DROP_REASON_*}). */
    enum Reason {
        /** Handled by a TIME-WAIT sock (answered, or dropped as {@code tcp_timewait_state_process} says). */
        NOT_SPECIFIED,
        /** No socket for the segment: answered with a reset unless it is one. */
        NO_SOCKET,
        /** Shorter than its header, or a data offset below 5 words or past the end. */
        PKT_TOO_SMALL,
        /** The checksum does not verify (InCsumErrors). */
        TCP_CSUM,
        /** The socket's filter (SO_ATTACH_FILTER, SO_ATTACH_BPF) returned 0: {@code tcp_filter}, in the socket's drops. */
        SOCKET_FILTER,
        /** The socket's backlog was full while the user held it (TCPBacklogDrop). */
        SOCKET_BACKLOG,
        /** Flags the state does not take: no ACK on a synchronized connection, SYN+FIN to a listener. */
        TCP_FLAGS,
        /** Data for a zero receive window (TCPZeroWindowDrop). */
        TCP_ZEROWINDOW,
        /** Data wholly before {@code rcv_nxt}: a retransmission, acknowledged again. */
        TCP_OLD_DATA,
        /** Data beyond the receive window. */
        TCP_OVERWINDOW,
        /** Out-of-order data already queued (TCPOFOMerge). */
        TCP_OFOMERGE,
        /** A timestamp older than the last one seen (RFC 7323 PAWS). */
        TCP_RFC7323_PAWS,
        /** A segment wholly before the window ({@code tcp_sequence}). */
        TCP_OLD_SEQUENCE,
        /** A segment beyond the window ({@code tcp_sequence}). */
        TCP_INVALID_SEQUENCE,
        /** A reset: taken, or answered with a challenge ACK (RFC 5961 3). */
        TCP_RESET,
        /** A SYN on a synchronized connection, answered with a challenge ACK (RFC 5961 4). */
        TCP_INVALID_SYN,
        /** Data for a socket the user closed or shut for reading: it is reset (TCPAbortOnData). */
        TCP_ABORT_ON_DATA,
        /** No room in the receive buffer for any of the segment's bytes (TCPRcvQDrop). */
        PROTO_MEM,
        /** A segment for a socket that is closing and takes no more data. */
        TCP_CLOSE,
        /** An unacceptable ACK outside ESTABLISHED, answered with a challenge ACK. */
        TCP_OLD_ACK,
        /** An ACK older than the window the peer may still acknowledge (RFC 5961 5.2). */
        TCP_TOO_OLD_ACK,
        /** An ACK of data not yet sent. */
        TCP_ACK_UNSENT_DATA,
        /** Out-of-order data the queue had no room for (TCPOFODrop). */
        TCP_OFO_DROP,
        /** A SYN or a handshake's last ACK refused by a full queue (ListenOverflows, ListenDrops). */
        TCP_LISTEN_OVERFLOW
    }

    private static final Reason[] REASONS = Reason.values();
    /** Slot 0 is consume_skb; reason r is at 1 + r.ordinal(). */
    private static final int SLOTS = REASONS.length + 1;
    private static final int STRIDE = (SLOTS + 7) / 8 * 8 + 8;

    private final int cpus;
    private final AtomicLongArray values;

    TcpDrops(int cpus) {
        this.cpus = cpus;
        this.values = new AtomicLongArray((cpus + 1) * STRIDE);
    }

    private void add(int cpu, int slot) {
        int i = (cpu < 0 || cpu >= cpus ? 0 : (cpu + 1) * STRIDE) + slot;
        if (i < STRIDE) {
            values.getAndIncrement(i);
        } else {
            values.setOpaque(i, values.getPlain(i) + 1); // the CPU's own stripe: it alone writes there
        }
    }

    /** {@code kfree_skb_reason(skb, reason)}, or {@code consume_skb(skb)} when {@code reason} is null. */
    void count(int cpu, Reason reason) {
        add(cpu, reason == null ? 0 : 1 + reason.ordinal());
    }

    private long sum(int slot) {
        long s = 0;
        for (int cpu = 0; cpu <= cpus; cpu++) {
            s += values.getOpaque(cpu * STRIDE + slot);
        }
        return s;
    }

    /** Segments consumed: taken by a connection or a listener. */
    long consumed() {
        return sum(0);
    }

    long get(Reason r) {
        return sum(1 + r.ordinal());
    }

    /** Every reason's count, in declaration order, then "consumed"; the total equals InSegs. */
    Map<String, Long> snapshot() {
        Map<String, Long> all = new LinkedHashMap<>();
        for (Reason r : REASONS) {
            all.put(r.name(), get(r));
        }
        all.put("CONSUMED", consumed());
        return all;
    }

    /** Every fate counted: the drops and the consumed segments together. */
    long total() {
        long s = 0;
        for (int slot = 0; slot < SLOTS; slot++) {
            s += sum(slot);
        }
        return s;
    }
}

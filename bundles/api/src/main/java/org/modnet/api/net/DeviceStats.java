package org.modnet.api.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A device's counters, the fields of {@code struct rtnl_link_stats64} that {@code ip -s link} and
 * {@code /proc/net/dev} show. The packet path counts with {@link #add}: each counter has one writer
 * at a time (the NAPI poller that owns the receive queue, the transmitter that owns the queue), so a
 * count is a plain add published with release semantics, no lock and no atomic read-modify-write.
 * Counters with several concurrent writers use {@link #addShared}.
 */
public final class DeviceStats {
    /** The counters, named as {@code rtnl_link_stats64} names them. */
    public enum Field {
        RX_PACKETS, TX_PACKETS, RX_BYTES, TX_BYTES, RX_ERRORS, TX_ERRORS, RX_DROPPED, TX_DROPPED, MULTICAST,
        COLLISIONS, RX_LENGTH_ERRORS, RX_OVER_ERRORS, RX_CRC_ERRORS, RX_FRAME_ERRORS, RX_FIFO_ERRORS,
        RX_MISSED_ERRORS, TX_ABORTED_ERRORS, TX_CARRIER_ERRORS, TX_FIFO_ERRORS, TX_HEARTBEAT_ERRORS,
        TX_WINDOW_ERRORS, RX_COMPRESSED, TX_COMPRESSED, RX_NOHANDLER,
        /** Frames for another host (PACKET_OTHERHOST) that IP dropped ({@code rx_otherhost_dropped}, Linux 5.19). */
        RX_OTHERHOST_DROPPED
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final Field[] FIELDS = Field.values();

    private final long[] values = new long[FIELDS.length];

    /** Counts {@code n} on a counter this thread is the only writer of now. */
    public void add(Field field, long n) {
        int i = field.ordinal();
        SLOT.setRelease(values, i, (long) SLOT.getOpaque(values, i) + n);
    }

    public void inc(Field field) {
        add(field, 1);
    }

    /** Counts {@code n} on a counter several threads may write at once (drop paths). */
    public void addShared(Field field, long n) {
        SLOT.getAndAdd(values, field.ordinal(), n);
    }

    public long get(Field field) {
        return (long) SLOT.getAcquire(values, field.ordinal());
    }

    /** Adds another device's counters (a device moved or re-registered keeps its history). */
    public void addAll(DeviceStats other) {
        for (Field f : FIELDS) {
            addShared(f, other.get(f));
        }
    }
}

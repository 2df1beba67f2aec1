package org.modnet.socket.api;

import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.IntVectorSysctl;

/**
 * A protocol's socket memory in one namespace ({@code proto->memory_allocated}), in bytes, limited by
 * its {@code *_mem} sysctl (min, pressure, max in pages of 4096 bytes): a charge that would pass the
 * maximum is refused ({@code __sk_mem_raise_allocated}).
 */
public final class SockMemory {
    public static final int PAGE = 4096;

    private final AtomicLong bytes = new AtomicLong();
    private final IntVectorSysctl limit;

    /** @param limit the {@code *_mem} sysctl, three values in pages */
    public SockMemory(IntVectorSysctl limit) {
        this.limit = limit;
    }

    /** Charges {@code size} bytes; false (and nothing charged) above the hard limit. */
    public boolean charge(int size) {
        long max = (long) limit.get()[2] * PAGE;
        long now = bytes.addAndGet(size);
        if (now > max) {
            bytes.addAndGet(-size);
            return false;
        }
        return true;
    }

    public void uncharge(int size) {
        bytes.addAndGet(-size);
    }

    /** Pages in use, as {@code /proc/net/sockstat}'s "mem" shows them. */
    public long pages() {
        return (bytes.get() + PAGE - 1) / PAGE;
    }

    /** Whether the pressure threshold is passed. */
    public boolean underPressure() {
        return pages() > limit.get()[1];
    }

    /**
     * Linux's boot-time default for a machine with {@code bufferBytes} of buffer memory
     * ({@code udp_init}): limit = max(128, pages / 8); min = limit / 4 * 3, pressure = limit,
     * max = pressure / 2 * 3.
     */
    public static int[] defaults(long bufferBytes) {
        long limit = Math.max(128, bufferBytes / PAGE / 8);
        return new int[] { (int) (limit / 4 * 3), (int) limit, (int) (limit / 2 * 3) };
    }
}

package org.modnet.tcp;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.IntVectorSysctl;
import org.modnet.api.net.NetNamespace;

/**
 * TCP's memory in one namespace ({@code tcp_memory_allocated}, {@code tcp_memory_pressure}) and the
 * limits Linux puts on it. Every connection charges the bytes it queues (unread bytes in its receive
 * ring, the out-of-order bytes beyond them, unacknowledged bytes in its send ring) as they change;
 * {@code /proc/net/sockstat}'s TCP "mem" is the total in pages of 4096 bytes.
 *
 * <ul>
 * <li>{@code net.ipv4.tcp_mem} (min pressure max, pages): above "pressure" TCP is under memory pressure
 * (TCPMemoryPressures counts each entry, TCPMemoryPressuresChrono the milliseconds spent) until it
 * falls below "min"; above "max" no receive queue may grow past {@code tcp_rmem[0]} and an orphan
 * holding data is reset (TCPAbortOnMemory). The default is {@code tcp_init_mem}'s on the JVM's
 * maximum heap as the buffer memory: limit = max(128, heap pages / 16); min = limit / 4 * 3,
 * pressure = limit, max = min * 2.</li>
 * <li>{@code net.ipv4.tcp_max_orphans}: closed connections still finishing their close beyond this
 * many are reset ("too many orphaned sockets", TCPAbortOnMemory). Linux's default is half its
 * established hash's buckets; ours has {@value #EHASH_BUCKETS}, so the default is
 * {@value #MAX_ORPHANS_DEFAULT}.</li>
 * <li>{@code net.ipv4.tcp_moderate_rcvbuf}: with 1, a connection's SO_RCVBUF grows (up to
 * {@code tcp_rmem[2]}) as the application reads faster per RTT; SO_SNDBUF grows with the congestion
 * window up to {@code tcp_wmem[2]} whatever this says, but not under memory pressure nor with TCP's
 * memory at "min" or above. A buffer the user set is left alone.</li>
 * <li>{@code net.ipv4.tcp_orphan_retries}: how often an orphan retransmits before it gives up; 0 means
 * 8 while the RTO is below TCP_RTO_MAX ({@code tcp_orphan_retries}).</li>
 * </ul>
 */
final class TcpMem {
    static final int PAGE = 4096;
    static final int EHASH_BUCKETS = 4096;
    static final int MAX_ORPHANS_DEFAULT = EHASH_BUCKETS / 2;
    /** {@code SOCK_MIN_SNDBUF}: an orphan holding more than this while TCP is over tcp_mem[2] is reset. */
    static final int SOCK_MIN_SNDBUF = 4608;
    private static final long WARN_INTERVAL_NS = 5_000_000_000L; // net_info_ratelimited's 5 s
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TcpMem.class);

    final IntVectorSysctl mem;
    final IntSysctl maxOrphans;
    final IntSysctl orphanRetries;
    /** {@code net.ipv4.tcp_moderate_rcvbuf}: receive-buffer autotuning (1, Linux's default). */
    final IntSysctl moderateRcvbuf;
    private final TcpMib mib;
    private final LongSupplier nanoTime;
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean pressure;
    private volatile long pressureSinceNs;
    private final AtomicLong lastWarnNs = new AtomicLong(Long.MIN_VALUE);

    TcpMem(NetNamespace ns, TcpMib mib, LongSupplier nanoTime) {
        this.mib = mib;
        this.nanoTime = nanoTime;
        var s = ns.sysctl();
        mem = s.registerInts("net.ipv4.tcp_mem", defaults(Runtime.getRuntime().maxMemory()), 0, Integer.MAX_VALUE, false);
        maxOrphans = s.registerInt("net.ipv4.tcp_max_orphans", MAX_ORPHANS_DEFAULT, 0, Integer.MAX_VALUE);
        orphanRetries = s.registerInt("net.ipv4.tcp_orphan_retries", 0, 0, 255);
        moderateRcvbuf = s.registerInt("net.ipv4.tcp_moderate_rcvbuf", 1, 0, 1);
    }

    /** {@code tcp_init_mem} for a machine with {@code bufferBytes} of buffer memory. */
    static int[] defaults(long bufferBytes) {
        long limit = Math.max(128, bufferBytes / PAGE / 16);
        long min = Math.min(limit / 4 * 3, Integer.MAX_VALUE / 2);
        return new int[] { (int) min, (int) Math.min(limit, Integer.MAX_VALUE), (int) (min * 2) };
    }

    /**
     * A connection's queued bytes changed by {@code delta} ({@code sk_mem_charge}/{@code sk_mem_uncharge}
     * as they reach {@code tcp_memory_allocated}): entering and leaving memory pressure as Linux does
     * ({@code tcp_enter_memory_pressure}, {@code tcp_leave_memory_pressure}).
     */
    void charge(long delta, int cpu) {
        long pages = pagesOf(bytes.addAndGet(delta));
        int[] m = mem.get();
        if (!pressure && pages > m[1]) {
            pressure = true;
            pressureSinceNs = nanoTime.getAsLong();
            mib.inc(cpu, TcpMib.Ext.TCPMemoryPressures);
        } else if (pressure && pages < m[0]) {
            pressure = false;
            mib.add(cpu, TcpMib.Ext.TCPMemoryPressuresChrono, (nanoTime.getAsLong() - pressureSinceNs) / 1_000_000L);
        }
    }

    /** {@code net_info_ratelimited}: Linux's words, at most once per 5 s per namespace. */
    void warn(String message) {
        long now = nanoTime.getAsLong();
        long last = lastWarnNs.get();
        if ((last == Long.MIN_VALUE || now - last >= WARN_INTERVAL_NS) && lastWarnNs.compareAndSet(last, now)) {
            LOG.info(message);
        }
    }

    /** {@code tcp_under_memory_pressure}. */
    boolean underPressure() {
        return pressure;
    }

    /** Whether {@code size} more bytes would pass {@code tcp_mem[2]} ({@code __sk_mem_raise_allocated}'s hard limit). */
    boolean overLimit(int size) {
        return pagesOf(bytes.get() + size) > mem.get()[2];
    }

    /** Whether TCP's memory is at {@code tcp_mem[0]} or above: send buffers stop growing ({@code tcp_should_expand_sndbuf}). */
    boolean atOrAboveMin() {
        return pagesOf(bytes.get()) >= mem.get()[0];
    }

    /** Pages in use, as {@code /proc/net/sockstat}'s TCP "mem" shows them. */
    long pages() {
        return pagesOf(bytes.get());
    }

    private static long pagesOf(long b) {
        return (Math.max(b, 0) + PAGE - 1) / PAGE;
    }
}

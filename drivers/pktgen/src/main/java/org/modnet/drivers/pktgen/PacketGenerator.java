package org.modnet.drivers.pktgen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/**
 * {@code net/core/pktgen.c}: builds frames as fast as it can and puts them into a device's receive
 * path (as if its NIC had received them: into the receive ring, then NAPI) or its transmit path
 * ({@code dev_queue_xmit}). Each frame carries pktgen's magic and a sequence number after the
 * Ethernet header, as Linux's does.
 */
public final class PacketGenerator {
    /** {@code PKTGEN_MAGIC}. */
    static final int MAGIC = 0xbe9be955;
    static final int MIN_SIZE = 14 + 8;

    public enum Path {
        RX, TX
    }

    /** What to send. {@code size} is the frame length including the Ethernet header. */
    public record Config(int count, int size, MacAddress dst, MacAddress src, int proto, Path path) {
        public Config {
            if (count < 0) {
                throw new IllegalArgumentException("count must not be negative");
            }
            if (size < MIN_SIZE) {
                throw new IllegalArgumentException("pkt_size must be at least " + MIN_SIZE);
            }
        }
    }

    /** What happened: frames handed over, frames the device or the pool refused, and the time taken. */
    public record Result(long sent, long errors, long nanos, int size) {
        public long pps() {
            return nanos == 0 ? 0 : sent * 1_000_000_000L / nanos;
        }

        /** pktgen's result line, as {@code /proc/net/pktgen/DEV} shows it. */
        public String text() {
            long usec = nanos / 1000;
            long bps = pps() * size * 8L;
            return "OK: " + usec + "(c" + usec + "+d0) usec, " + sent + " (" + size + "byte,0frags)\n  " + pps() + "pps "
                    + (bps / 1_000_000) + "Mb/sec (" + bps + "bps) errors: " + errors;
        }
    }

    private PacketGenerator() {
    }

    public static Result run(NetCore core, NetDevice dev, Config c) {
        SkBuffPool pool = core.pool();
        DeviceStats stats = dev.stats();
        long before = refused(stats, c.path);
        long errors = 0;
        long sent = 0;
        int queues = dev.rxQueues();
        long start = System.nanoTime();
        if (c.path == Path.RX && dev.xdpNative()) {
            return intoNativeXdp(dev, c, stats, before, start);
        }
        for (int i = 0; i < c.count; i++) {
            SkBuff skb = pool.alloc(c.size);
            if (skb == null) {
                errors++; // the pool is empty: counted by the pool too
                continue;
            }
            fill(skb, c, i);
            if (c.path == Path.RX) {
                skb.hash(i); // RSS: spread the flow numbers over the receive queues
                dev.rxQueue(queues == 1 ? 0 : i % queues).receive(skb);
            } else {
                skb.dev(dev);
                core.devQueueXmit(skb);
            }
            sent++;
        }
        long nanos = System.nanoTime() - start;
        errors += refused(stats, c.path) - before;
        return new Result(sent, errors, nanos, c.size);
    }

    /**
     * Into a device whose driver runs XDP natively: each frame is built in one reused buffer, as a NIC's
     * DMA fills its page, and handed to {@code receiveFrame} — an skb exists only for what XDP passes.
     */
    private static Result intoNativeXdp(NetDevice dev, Config c, DeviceStats stats, long before, long start) {
        MemorySegment page = Arena.ofAuto().allocate(XDP_HEADROOM + c.size, 64);
        int queues = dev.rxQueues();
        for (int i = 0; i < c.count; i++) {
            fill(page, XDP_HEADROOM, c, i);
            dev.rxQueue(queues == 1 ? 0 : i % queues).receiveFrame(page, XDP_HEADROOM, c.size);
        }
        long nanos = System.nanoTime() - start;
        return new Result(c.count, refused(stats, c.path) - before, nanos, c.size);
    }

    /** The frame of {@link #fill(SkBuff, Config, int)} in a buffer at {@code off}. */
    static void fill(MemorySegment page, int off, Config c, int seq) {
        long dst = c.dst.bits();
        long src = c.src.bits();
        page.set(BE16, off, (short) (dst >>> 32));
        page.set(BE32, off + 2, (int) dst);
        page.set(BE16, off + 6, (short) (src >>> 32));
        page.set(BE32, off + 8, (int) src);
        page.set(BE16, off + 12, (short) c.proto);
        page.set(BE32, off + 14, MAGIC);
        page.set(BE32, off + 18, seq);
        page.asSlice(off + 22, c.size - 22).fill((byte) 0);
    }

    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** {@code XDP_PACKET_HEADROOM}. */
    private static final int XDP_HEADROOM = 256;

    private static long refused(DeviceStats s, Path path) {
        return path == Path.RX ? s.get(DeviceStats.Field.RX_MISSED_ERRORS) + s.get(DeviceStats.Field.RX_DROPPED)
                : s.get(DeviceStats.Field.TX_DROPPED);
    }

    /** Ethernet header, then pktgen's header (magic, sequence), then zeros. */
    static void fill(SkBuff skb, Config c, int seq) {
        int off = skb.put(c.size);
        long dst = c.dst.bits();
        long src = c.src.bits();
        skb.setU16(off, (int) (dst >>> 32));
        skb.setU32(off + 2, (int) dst);
        skb.setU16(off + 6, (int) (src >>> 32));
        skb.setU32(off + 8, (int) src);
        skb.setU16(off + 12, c.proto);
        skb.setU32(off + 14, MAGIC);
        skb.setU32(off + 18, seq);
        for (int i = off + 22; i < off + c.size; i++) {
            skb.setU8(i, 0);
        }
    }
}

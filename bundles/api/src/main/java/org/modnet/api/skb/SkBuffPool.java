package org.modnet.api.skb;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fixed pool of packet buffers: {@code count} data areas of {@code size} bytes sliced out of one
 * off-heap allocation, and twice as many buffer heads (clones need heads of their own). Nothing is
 * allocated after construction: heads and data areas are reused.
 *
 * <p>Threads: allocation comes mostly from a softirq thread, frees from any thread (an application
 * freeing a socket's buffer). Free data areas and free heads are each a lock-free (Treiber) stack of
 * indexes over a preallocated {@code int[]} of links, its top stamped against ABA: one CAS per
 * alloc or free, no lock, no allocation. Per-thread caches were not chosen: frees from application
 * threads would strand buffers in caches the softirq thread cannot reach, and a bounded pool must be
 * able to hand out every buffer it has.
 *
 * <p>An empty pool refuses ({@link #alloc} returns null) and counts the refusal in {@link #refusals}.
 *
 * <p>Leak checking: with {@code -Dmodnet.skb.leakcheck=true}, or {@link #setLeakCheck}, every head and
 * data area taken from the pool records the stack that took it, and {@link #leaks()} lists the
 * buffers never freed with those stacks; {@link #assertNoLeaks()} fails with that list. Off, it costs
 * a field read per allocation. Both read the pool without stopping it: call them when it is quiet.
 *
 * <p>The memory belongs to an automatic arena: it is released when the pool and every segment sliced
 * from it are unreachable.
 */
public final class SkBuffPool {
    /** Headroom a fresh buffer reserves for headers pushed later ({@code NET_SKB_PAD}). */
    public static final int NET_SKB_PAD = 64;
    /** The default size of a data area: an Ethernet frame with headroom, rounded up. */
    public static final int DEFAULT_SIZE = 2048;
    /** The system property that turns leak checking on for every pool made after it is set. */
    public static final String LEAK_CHECK_PROPERTY = "modnet.skb.leakcheck";

    private final int size;
    private final int headroom;
    final SkbData[] data;
    private final SkBuff[] heads;
    private final IndexStack freeData;
    private final IndexStack freeHeads;
    private final AtomicLong refusals = new AtomicLong();
    private volatile boolean leakCheck = Boolean.getBoolean(LEAK_CHECK_PROPERTY);

    /** {@code count} buffers of {@value #DEFAULT_SIZE} bytes, {@value #NET_SKB_PAD} of headroom. */
    public SkBuffPool(int count) {
        this(count, DEFAULT_SIZE);
    }

    /** {@code count} buffers of {@code size} bytes, {@value #NET_SKB_PAD} of headroom by default. */
    public SkBuffPool(int count, int size) {
        this(count, size, NET_SKB_PAD);
    }

    /**
     * {@code count} buffers of {@code size} bytes each (headroom included); {@link #alloc(int)}
     * reserves {@code headroom}.
     */
    public SkBuffPool(int count, int size, int headroom) {
        if (count < 1 || size < NET_SKB_PAD + 64 || headroom < 0 || headroom >= size) {
            throw new IllegalArgumentException("a pool needs at least one buffer of at least " + (NET_SKB_PAD + 64)
                    + " bytes, and a headroom smaller than a buffer (count " + count + ", size " + size + ", headroom "
                    + headroom + ")");
        }
        this.size = size;
        this.headroom = headroom;
        MemorySegment memory = Arena.ofAuto().allocate((long) count * size, 64);
        this.data = new SkbData[count];
        this.freeData = new IndexStack(count);
        for (int i = count - 1; i >= 0; i--) {
            data[i] = new SkbData(this, i, memory.asSlice((long) i * size, size));
            freeData.push(i);
        }
        this.heads = new SkBuff[count * 2];
        this.freeHeads = new IndexStack(heads.length);
        for (int i = heads.length - 1; i >= 0; i--) {
            heads[i] = new SkBuff(this, i);
            freeHeads.push(i);
        }
    }

    /** The size of each data area: the largest buffer, headroom included. */
    public int bufferSize() {
        return size;
    }

    /** The headroom {@link #alloc(int)} reserves. */
    public int headroom() {
        return headroom;
    }

    /**
     * {@code alloc_skb} + {@code skb_reserve}: an empty buffer with the pool's headroom reserved and
     * room for {@code len} bytes after it, or null (counted) when the pool is empty or {@code len} does
     * not fit.
     */
    public SkBuff alloc(int len) {
        return alloc(len, headroom);
    }

    /** An empty buffer with {@code headroom} reserved and room for {@code len} bytes after it, or null (counted). */
    public SkBuff alloc(int len, int headroom) {
        if (len < 0 || headroom < 0 || (long) len + headroom > size) {
            refusals.incrementAndGet();
            return null;
        }
        SkbData d = allocData();
        if (d == null) {
            return null;
        }
        SkBuff skb = allocHead();
        if (skb == null) {
            d.release();
            return null;
        }
        skb.init(d, headroom);
        return skb;
    }

    SkbData allocData() {
        int i = freeData.pop();
        if (i < 0) {
            refusals.incrementAndGet();
            return null;
        }
        SkbData d = data[i];
        d.acquire();
        if (leakCheck) {
            d.allocatedAt = new Throwable("skb data allocated here");
        }
        return d;
    }

    SkBuff allocHead() {
        int i = freeHeads.pop();
        if (i < 0) {
            refusals.incrementAndGet();
            return null;
        }
        SkBuff skb = heads[i];
        if (leakCheck) {
            skb.allocatedAt = new Throwable("skb allocated here");
        }
        return skb;
    }

    void freeData(SkbData d) {
        d.allocatedAt = null;
        freeData.push(d.index);
    }

    void freeHead(SkBuff skb) {
        skb.allocatedAt = null;
        freeHeads.push(skb.index);
    }

    /** Allocations refused: the pool had no data area or head left, or the size did not fit. */
    public long refusals() {
        return refusals.get();
    }

    /** Data areas in use now (buffers and fragment pages). A scan: for statistics, not the packet path. */
    public int inUse() {
        int n = 0;
        for (SkbData d : data) {
            if (d.refs() > 0) {
                n++;
            }
        }
        return n;
    }

    /** Buffer heads in use now. A scan, as {@link #inUse}. */
    public int headsInUse() {
        int n = 0;
        for (SkBuff skb : heads) {
            if (skb.users() > 0) {
                n++;
            }
        }
        return n;
    }

    /** Data areas in all. */
    public int capacity() {
        return data.length;
    }

    /** The pool's counters at one moment. */
    public record Stats(int capacity, int inUse, int headsInUse, long refusals) {
    }

    /** The pool's counters now. */
    public Stats stats() {
        return new Stats(capacity(), inUse(), headsInUse(), refusals());
    }

    /** Turns leak checking on or off for allocations from now on. */
    public void setLeakCheck(boolean on) {
        leakCheck = on;
    }

    /** Whether allocations record where they happen. */
    public boolean leakCheck() {
        return leakCheck;
    }

    /**
     * Every buffer head not freed, and every data area (a fragment page, usually) referenced more
     * often than the live heads account for, each with where it was allocated when leak checking was
     * on at its allocation. Empty when nothing leaked.
     */
    public List<String> leaks() {
        List<String> leaks = new ArrayList<>();
        int[] held = new int[data.length];
        for (SkBuff skb : heads) {
            if (skb.users() > 0) {
                skb.countReferences(held);
                leaks.add(describe("leaked " + skb, skb.allocatedAt));
            }
        }
        for (SkbData d : data) {
            int refs = d.refs();
            if (refs > held[d.index]) {
                leaks.add(describe("leaked " + d + ", " + (refs - held[d.index]) + " reference(s) no live skb holds",
                        d.allocatedAt));
            }
        }
        return leaks;
    }

    /**
     * Fails, listing every leak with its allocation stack, if anything taken from the pool was not
     * returned. For tests, typically in an {@code @AfterEach}.
     *
     * @throws AssertionError if {@link #leaks()} is not empty
     */
    public void assertNoLeaks() {
        List<String> leaks = leaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " skb leak(s)"
                    + (leakCheck ? "" : " (set -D" + LEAK_CHECK_PROPERTY + "=true for where they were allocated)") + ":\n"
                    + String.join("\n", leaks));
        }
    }

    private static String describe(String what, Throwable where) {
        StringBuilder sb = new StringBuilder(what);
        if (where != null) {
            for (StackTraceElement e : where.getStackTrace()) {
                sb.append("\n    at ").append(e);
            }
        }
        return sb.toString();
    }

    /** A lock-free stack of indexes: the top is (stamp << 32 | index + 1), links in an array. */
    private static final class IndexStack {
        private final int[] next;
        private final AtomicLong top = new AtomicLong();

        IndexStack(int capacity) {
            next = new int[capacity];
        }

        void push(int i) {
            while (true) {
                long t = top.get();
                next[i] = (int) t; // index + 1 of the old top, 0 for none
                long stamped = ((t >>> 32) + 1) << 32 | (i + 1);
                if (top.compareAndSet(t, stamped)) {
                    return;
                }
            }
        }

        int pop() {
            while (true) {
                long t = top.get();
                int first = (int) t;
                if (first == 0) {
                    return -1;
                }
                // a stale link read here fails the CAS: any pop/push of first since changed the stamp
                long stamped = ((t >>> 32) + 1) << 32 | (next[first - 1] & 0xffffffffL);
                if (top.compareAndSet(t, stamped)) {
                    return first - 1;
                }
            }
        }
    }
}

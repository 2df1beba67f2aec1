package org.modnet.api.skb;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fixed pool of packet buffers: {@code count} data areas of {@code size} bytes in one off-heap
 * allocation, and twice as many buffer heads (clones need heads of their own). Allocation and free
 * take no lock and allocate nothing: free data areas and free heads are lock-free stacks of indexes,
 * each top stamped against ABA. Frees may come from any thread (an application freeing a socket's
 * buffer), allocation mostly from a softirq thread. An empty pool refuses, and counts the refusal.
 *
 * <p>With {@code -Dmodnet.skb.leakcheck=true} (or {@link #setLeakCheck}) every allocation records
 * where it happened, and {@link #leaks()} lists the buffers never freed.
 */
public final class SkBuffPool {
    /** Headroom a fresh buffer reserves for headers pushed later ({@code NET_SKB_PAD}). */
    public static final int NET_SKB_PAD = 64;

    private final int size;
    private final Arena arena;
    private final MemorySegment memory;
    final SkbData[] data;
    private final SkBuff[] heads;
    private final IndexStack freeData;
    private final IndexStack freeHeads;
    private final AtomicLong refusals = new AtomicLong();
    private volatile boolean leakCheck = Boolean.getBoolean("modnet.skb.leakcheck");

    public SkBuffPool(int count, int size) {
        if (count < 1 || size < NET_SKB_PAD + 64) {
            throw new IllegalArgumentException("a pool needs at least one buffer of at least " + (NET_SKB_PAD + 64) + " bytes");
        }
        this.size = size;
        this.arena = Arena.ofShared();
        this.memory = arena.allocate((long) count * size, 64);
        this.data = new SkbData[count];
        this.freeData = new IndexStack(count);
        for (int i = 0; i < count; i++) {
            data[i] = new SkbData(this, i, memory.asSlice((long) i * size, size));
            freeData.push(i);
        }
        this.heads = new SkBuff[count * 2];
        this.freeHeads = new IndexStack(heads.length);
        for (int i = 0; i < heads.length; i++) {
            heads[i] = new SkBuff(this, i);
            freeHeads.push(i);
        }
    }

    /** The size of each data area: the largest buffer, headroom included. */
    public int bufferSize() {
        return size;
    }

    /**
     * {@code alloc_skb} + {@code skb_reserve(NET_SKB_PAD)}: an empty buffer with room for {@code len}
     * bytes after the headroom, or null when the pool is empty or {@code len} does not fit.
     */
    public SkBuff alloc(int len) {
        return alloc(len, NET_SKB_PAD);
    }

    /** An empty buffer with {@code headroom} reserved and room for {@code len} bytes after it, or null. */
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
        freeData.push(d.index);
    }

    void freeHead(SkBuff skb) {
        skb.allocatedAt = null;
        freeHeads.push(skb.index);
    }

    /** Allocations refused: the pool was empty, or the size did not fit. */
    public long refusals() {
        return refusals.get();
    }

    /** Data areas in use now. */
    public int inUse() {
        return data.length - freeData.size();
    }

    /** Data areas in all. */
    public int capacity() {
        return data.length;
    }

    public void setLeakCheck(boolean on) {
        leakCheck = on;
    }

    /**
     * Every buffer head not freed, each with where it was allocated (when leak checking was on at its
     * allocation). Empty when nothing leaked.
     */
    public List<String> leaks() {
        List<String> leaks = new ArrayList<>();
        for (SkBuff skb : heads) {
            if (skb.users() > 0) {
                StringBuilder sb = new StringBuilder("leaked " + skb);
                Throwable where = skb.allocatedAt;
                if (where != null) {
                    for (StackTraceElement e : where.getStackTrace()) {
                        sb.append("\n    at ").append(e);
                    }
                }
                leaks.add(sb.toString());
            }
        }
        return leaks;
    }

    /** A lock-free stack of indexes: the top is (stamp << 32 | index + 1), next links in an array. */
    private static final class IndexStack {
        private final int[] next;
        private final AtomicLong top = new AtomicLong();
        private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        IndexStack(int capacity) {
            next = new int[capacity];
        }

        void push(int i) {
            while (true) {
                long t = top.get();
                next[i] = (int) t; // index + 1 of the old top, 0 for none
                long stamped = ((t >>> 32) + 1) << 32 | (i + 1);
                if (top.compareAndSet(t, stamped)) {
                    count.incrementAndGet();
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
                long stamped = ((t >>> 32) + 1) << 32 | (next[first - 1] & 0xffffffffL);
                if (top.compareAndSet(t, stamped)) {
                    count.decrementAndGet();
                    return first - 1;
                }
            }
        }

        int size() {
            return count.get();
        }
    }
}

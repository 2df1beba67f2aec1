package org.modnet.api.skb;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One data area of a pool ({@code skb_shared_info} with its {@code dataref}): the bytes a buffer and
 * its clones share, or a page a fragment points into. Counted; back to the pool at zero.
 */
public final class SkbData {
    final SkBuffPool pool;
    final int index;
    final MemorySegment segment;
    private final AtomicInteger refs = new AtomicInteger();
    /** Where the area was taken from the pool, only while leak checking is on. */
    Throwable allocatedAt;

    SkbData(SkBuffPool pool, int index, MemorySegment segment) {
        this.pool = pool;
        this.index = index;
        this.segment = segment;
    }

    /** The bytes of the area. */
    public MemorySegment segment() {
        return segment;
    }

    /** The size of the area in bytes. */
    public int size() {
        return (int) segment.byteSize();
    }

    void acquire() {
        refs.set(1);
    }

    void retain() {
        refs.incrementAndGet();
    }

    void release() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            pool.freeData(this);
        } else if (left < 0) {
            refs.set(0);
            throw new SkbException("skb data area #" + index + " freed twice");
        }
    }

    boolean isShared() {
        return refs.get() > 1;
    }

    int refs() {
        return refs.get();
    }

    @Override
    public String toString() {
        return "skb data #" + index + "[size=" + segment.byteSize() + " refs=" + refs.get() + "]";
    }
}

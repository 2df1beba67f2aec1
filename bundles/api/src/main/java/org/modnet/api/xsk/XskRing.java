package org.modnet.api.xsk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One AF_XDP ring as the kernel lays it out in the memory {@code mmap} gives ({@code struct
 * xdp_ring_offset}): the producer index at {@link #OFF_PRODUCER}, the consumer index at
 * {@link #OFF_CONSUMER} (each on its own cache line), the flags at {@link #OFF_FLAGS}, then the
 * descriptors at {@link #OFF_DESC} — for the fill and completion rings a UMEM address (u64) each, for
 * the RX and TX rings a {@code struct xdp_desc} ({@code {u64 addr; u32 len; u32 options}}). The indices
 * are free-running u32s; an entry is at {@code index & (entries - 1)}.
 * <p>
 * Each side keeps its own view: the program produces into the fill and TX rings and consumes the RX and
 * completion rings, the stack the other way round, each through its own {@code XskRing} over the same
 * memory. A producer {@link #reserve}s slots, writes them and {@link #submit}s them (the index stored
 * with release order after the entries); a consumer {@link #peek}s what is ready from
 * {@link #index()} on and {@link #release}s it, as libxdp's {@code xsk_ring_prod__reserve/submit}
 * and {@code xsk_ring_cons__peek/release} do. The other side's index is never trusted: what it claims
 * is clamped to the ring. Not thread-safe: one thread per side.
 */
public final class XskRing {
    public static final int OFF_PRODUCER = 0;
    public static final int OFF_CONSUMER = 64;
    public static final int OFF_FLAGS = 128;
    public static final int OFF_DESC = 192;
    /** A fill or completion ring's entry: a UMEM address. */
    public static final int ADDR_SIZE = 8;
    /** An RX or TX ring's entry: {@code struct xdp_desc}. */
    public static final int DESC_SIZE = 16;
    /** The flags' {@code XDP_RING_NEED_WAKEUP}. */
    public static final int XDP_RING_NEED_WAKEUP = 1;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment mem;
    private final int entries;
    private final int mask;
    private final int entrySize;
    /** This side's own index, as it last stored it: never read back from the shared memory. */
    private int own;
    /** Producer side: the slots reserved (ahead of the index submitted); consumer side: unused. */
    private int cachedProd;
    /** The other side's index as last read. */
    private int cachedOther;

    /** The bytes a ring of {@code entries} entries of {@code entrySize} bytes takes. */
    public static long byteSize(int entries, int entrySize) {
        return OFF_DESC + (long) entries * entrySize;
    }

    /** A view of the ring in {@code mem} (at least {@link #byteSize} bytes, 8-aligned) of {@code entries}, a power of two. */
    private XskRing(MemorySegment mem, int entries, int entrySize) {
        if (entries <= 0 || (entries & (entries - 1)) != 0) {
            throw new IllegalArgumentException("a ring's size is a power of two, not " + entries);
        }
        if (entrySize != ADDR_SIZE && entrySize != DESC_SIZE) {
            throw new IllegalArgumentException("a ring's entries are 8 or 16 bytes, not " + entrySize);
        }
        if (mem.byteSize() < byteSize(entries, entrySize)) {
            throw new IllegalArgumentException("a ring of " + entries + " entries needs " + byteSize(entries, entrySize) + " bytes");
        }
        this.mem = mem;
        this.entries = entries;
        this.mask = entries - 1;
        this.entrySize = entrySize;
        this.cachedProd = producer();
    }

    /** This view as the ring's producer: its index starts where the memory says. */
    public static XskRing producer(MemorySegment mem, int entries, int entrySize) {
        XskRing r = new XskRing(mem, entries, entrySize);
        r.own = r.producer();
        r.cachedProd = r.own;
        r.cachedOther = r.consumer();
        return r;
    }

    /** This view as the ring's consumer. */
    public static XskRing consumer(MemorySegment mem, int entries, int entrySize) {
        XskRing r = new XskRing(mem, entries, entrySize);
        r.own = r.consumer();
        r.cachedOther = r.producer();
        return r;
    }

    public int entries() {
        return entries;
    }

    public MemorySegment memory() {
        return mem;
    }

    /** The producer index as it is now. */
    public int producer() {
        return (int) U32.getAcquire(mem, (long) OFF_PRODUCER);
    }

    /** The consumer index as it is now: the first entry a consumer has not released. */
    public int consumer() {
        return (int) U32.getAcquire(mem, (long) OFF_CONSUMER);
    }

    public int flags() {
        return (int) U32.getAcquire(mem, (long) OFF_FLAGS);
    }

    // --- the producer's side ---

    /**
     * Reserves {@code nb} slots for the producer: the index of the first, or -1 when fewer are free
     * (nothing reserved then).
     */
    public int reserve(int nb) {
        if (free() < nb) {
            cachedOther = consumer();
            if (free() < nb) {
                return -1;
            }
        }
        int idx = cachedProd;
        cachedProd += nb;
        return idx;
    }

    private long free() {
        long used = Integer.toUnsignedLong(cachedProd - cachedOther);
        return used > entries ? 0 : entries - used; // a consumer index from the future frees nothing
    }

    /** Hands the next {@code nb} reserved slots to the consumer (the producer index stored after the entries). */
    public void submit(int nb) {
        own += nb;
        U32.setRelease(mem, (long) OFF_PRODUCER, own);
    }

    /** Gives back the last {@code nb} slots reserved and not submitted. */
    public void cancel(int nb) {
        cachedProd -= nb;
    }

    // --- the consumer's side ---

    /** The consumer's next entry: where what {@link #peek} counts starts. */
    public int index() {
        return own;
    }

    /** How many entries, up to {@code nb}, are ready from {@link #index()} on. */
    public int peek(int nb) {
        int cons = own;
        long ready = Integer.toUnsignedLong(cachedOther - cons);
        if (ready < nb) {
            cachedOther = producer();
            ready = Integer.toUnsignedLong(cachedOther - cons);
        }
        if (ready > entries) {
            ready = entries; // a producer index too far ahead: at most a ring's worth, the rest is the producer's loss
        }
        return (int) Math.min(ready, nb);
    }

    /** Releases the {@code nb} entries from {@link #index()} on back to the producer. */
    public void release(int nb) {
        own += nb;
        U32.setRelease(mem, (long) OFF_CONSUMER, own);
    }

    // --- the entries ---

    private long at(int idx) {
        return OFF_DESC + (long) (idx & mask) * entrySize;
    }

    /** A fill or completion ring's address at {@code idx}. */
    public long addr(int idx) {
        return mem.get(ValueLayout.JAVA_LONG, at(idx));
    }

    public void addr(int idx, long addr) {
        mem.set(ValueLayout.JAVA_LONG, at(idx), addr);
    }

    /** An RX or TX descriptor's {@code addr} at {@code idx}. */
    public long descAddr(int idx) {
        return mem.get(ValueLayout.JAVA_LONG, at(idx));
    }

    /** An RX or TX descriptor's {@code len}. */
    public int descLen(int idx) {
        return mem.get(ValueLayout.JAVA_INT, at(idx) + 8);
    }

    /** An RX or TX descriptor's {@code options}. */
    public int descOptions(int idx) {
        return mem.get(ValueLayout.JAVA_INT, at(idx) + 12);
    }

    public void desc(int idx, long addr, int len, int options) {
        long o = at(idx);
        mem.set(ValueLayout.JAVA_LONG, o, addr);
        mem.set(ValueLayout.JAVA_INT, o + 8, len);
        mem.set(ValueLayout.JAVA_INT, o + 12, options);
    }
}

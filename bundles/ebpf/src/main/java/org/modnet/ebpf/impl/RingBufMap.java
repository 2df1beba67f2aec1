package org.modnet.ebpf.impl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;

import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.RingBuffer;

/**
 * {@code BPF_MAP_TYPE_RINGBUF} ({@code kernel/bpf/ringbuf.c}): one buffer of {@code max_entries} bytes
 * (a power of two, a whole number of pages) shared by every CPU, which programs write records into —
 * copied in with {@code bpf_ringbuf_output}, or reserved with {@code bpf_ringbuf_reserve}, written in
 * place and then submitted or discarded — and user space consumes in order. Each record is an 8-byte
 * header (the length with the kernel's BUSY and DISCARD bits, then a word the kernel keeps for the page
 * offset) and the data, padded to 8 bytes; a record that does not fit in the free space is refused
 * (-EAGAIN or NULL), never overwrites unread ones. Records are contiguous in the buffer, as the kernel's
 * double mapping makes them: one that would wrap is placed at the start, after a discarded filler.
 * Producers serialise on the map (the kernel's spinlock); a consumer stops at a record still BUSY.
 */
public final class RingBufMap extends BpfMapBase implements RingBuffer {
    /** {@code bpf_ringbuf_query} flags. */
    public static final long BPF_RB_AVAIL_DATA = 0;
    public static final long BPF_RB_RING_SIZE = 1;
    public static final long BPF_RB_CONS_POS = 2;
    public static final long BPF_RB_PROD_POS = 3;
    /** {@code bpf_ringbuf_output} flags: wake-up hints, the only ones allowed. */
    public static final long BPF_RB_NO_WAKEUP = 1;
    public static final long BPF_RB_FORCE_WAKEUP = 2;
    public static final int HEADER = 8;
    public static final int BUSY = 1 << 31;
    public static final int DISCARD = 1 << 30;
    private static final int PAGE = 4096;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment ring;
    private final long mask;
    private final int ringSize;
    private volatile long producer;
    private volatile long consumer;
    private long dropped;

    /** A ring of id {@code id} (0: the next free one); an adopted ring starts empty (its records are not handed over). */
    RingBufMap(int id, String name, int maxEntries, int flags) {
        super(id, name, Verifier.MAP_RINGBUF, 0, 0, 1, flags, 1, null);
        if (Integer.bitCount(maxEntries) != 1 || maxEntries % PAGE != 0) {
            throw new IllegalArgumentException("map " + name + ": a ring buffer's max_entries must be a power of 2 and a multiple of "
                    + PAGE + ", not " + maxEntries);
        }
        this.ring = Arena.ofAuto().allocate(maxEntries, 8);
        this.mask = maxEntries - 1;
        this.ringSize = maxEntries;
    }

    @Override
    public int maxEntries() {
        return ringSize;
    }

    /** The buffer itself is the region programs reach: reserved records are written in place. */
    @Override
    public void attach(Memory memory, int id, int cpu) {
        super.attach(memory, id, cpu);
        memory.set(id, ring, true);
    }

    /**
     * Claims room for a record of {@code size} bytes at the producer position, its header BUSY: the ring
     * offset of the record's data, or -1 when it does not fit (counted).
     */
    private long claim(long size) {
        long total = (size + HEADER + 7) & ~7L;
        if (size > (mask + 1) - HEADER) {
            dropped++;
            return -1;
        }
        long p = producer;
        long pad = (p & mask) + total > mask + 1 ? (mask + 1) - (p & mask) : 0; // would wrap: fill to the end
        if (p + pad + total - consumer > mask + 1) {
            dropped++;
            return -1;
        }
        if (pad > 0) {
            ring.set(U32, p & mask, (int) (pad - HEADER) | DISCARD);
            ring.set(U32, (p + 4) & mask, 0);
            p += pad;
        }
        ring.set(U32, p & mask, (int) size | BUSY);
        ring.set(U32, (p + 4) & mask, (int) ((p & mask) / PAGE));
        producer = p + total;
        return (p + HEADER) & mask;
    }

    /**
     * {@code bpf_ringbuf_reserve} for a program that attached the ring as region {@code region}: the
     * address of {@code size} writable bytes in the ring, or 0 (NULL) when full or flags are set.
     */
    public synchronized long reserve(long size, long flags, int region) {
        if (flags != 0 || size <= 0) {
            return 0;
        }
        long at = claim(size);
        return at < 0 ? 0 : Memory.base(region) + at;
    }

    /**
     * {@code bpf_ringbuf_submit} ({@code discard} false) or {@code bpf_ringbuf_discard}: the record at
     * {@code addr} (an address in the region the caller gave this ring) is complete.
     */
    public synchronized void commit(long addr, boolean discard) {
        long off = (addr & 0xffffffffL) - HEADER;
        if (off < 0 || off > mask || (ring.get(U32, off) & BUSY) == 0) {
            throw new BpfFault("not a reserved ring buffer record: 0x" + Long.toHexString(addr));
        }
        int len = ring.get(U32, off) & ~(BUSY | DISCARD);
        ring.set(U32, off, discard ? len | DISCARD : len);
    }

    /** {@code bpf_ringbuf_output}: copies {@code size} bytes at {@code data} as one record; 0, -EAGAIN when full, -EINVAL for bad flags. */
    public long output(Memory mem, long data, long size, long flags) {
        if ((flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) != 0) {
            return -22;
        }
        MemorySegment src = size == 0 ? MemorySegment.NULL : mem.regionOf(data, size, false);
        if (src == null) {
            throw new BpfFault("bpf_ringbuf_output: the data is outside the program's memory");
        }
        return write(src, size == 0 ? 0 : data & 0xffffffffL, size);
    }

    /** A record from user space (tests, tools): what {@link #output} writes. */
    public long output(byte[] data) {
        return write(MemorySegment.ofArray(data), 0, data.length);
    }

    private synchronized long write(MemorySegment src, long at, long size) {
        long pos = claim(size);
        if (pos < 0) {
            return -11; // EAGAIN: no room for the record
        }
        MemorySegment.copy(src, at, ring, pos, size);
        ring.set(U32, pos - HEADER, (int) size); // complete: no longer BUSY
        return 0;
    }

    /** {@code bpf_ringbuf_query}. */
    public long query(long flags) {
        return switch ((int) flags) {
            case (int) BPF_RB_AVAIL_DATA -> producer - consumer;
            case (int) BPF_RB_RING_SIZE -> mask + 1;
            case (int) BPF_RB_CONS_POS -> consumer;
            case (int) BPF_RB_PROD_POS -> producer;
            default -> 0;
        };
    }

    /** Records a full buffer refused: what a reader lost by not keeping up. */
    public synchronized long dropped() {
        return dropped;
    }

    /**
     * {@code ring_buffer__consume}: hands every record completed so far to {@code sink}, oldest first,
     * up to the first still being written (BUSY); discarded ones are skipped. The count handed over.
     */
    public int consume(Consumer<byte[]> sink) {
        int n = 0;
        long c;
        long p;
        synchronized (this) {
            c = consumer;
            p = producer;
        }
        while (c < p) {
            int word;
            synchronized (this) {
                word = ring.get(U32, c & mask);
            }
            if ((word & BUSY) != 0) {
                break; // reserved, not yet submitted: later records wait behind it, as in the kernel
            }
            int len = word & ~DISCARD;
            if ((word & DISCARD) != 0) {
                c += (len + HEADER + 7) & ~7L;
                consumer = c;
                continue;
            }
            byte[] record = new byte[len];
            MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, (c + HEADER) & mask, record, 0, len); // records never wrap (claim pads)
            c += (len + HEADER + 7) & ~7L;
            consumer = c;
            sink.accept(record);
            n++;
        }
        return n;
    }

    @Override
    protected int find(MemorySegment key, long off) {
        return -1; // no keys: bpf_map_lookup_elem on a ring buffer is refused by the verifier
    }

    @Override
    protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
        return -22;
    }

    @Override
    protected long remove(MemorySegment key) {
        return -22;
    }

    @Override
    public List<byte[]> keys() {
        return List.of();
    }
}

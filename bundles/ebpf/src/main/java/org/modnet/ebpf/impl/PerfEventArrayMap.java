package org.modnet.ebpf.impl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.RingBuffer;

/**
 * {@code BPF_MAP_TYPE_PERF_EVENT_ARRAY}: one bounded ring per entry (per CPU, as bpftool's {@code map
 * event_pipe} opens a perf event on each), written by {@code bpf_perf_event_output} and read by
 * {@code bpftool map event_pipe}. Key and value are 4 bytes; {@code max_entries} 0 becomes the CPU count,
 * as libbpf sets it. A record that does not fit is lost and counted ({@link #dropped()}, the "lost samples"
 * perf reports), and the helper answers ENOSPC; an index past the entries is E2BIG. Each ring is guarded
 * by a flag taken without waiting: a writer arriving while another writes loses its record, counted,
 * as perf's recursion guard drops it.
 */
final class PerfEventArrayMap extends BpfMapBase implements RingBuffer {
    /** {@code BPF_F_CURRENT_CPU}: the index is the running CPU. */
    static final long BPF_F_CURRENT_CPU = 0xffffffffL;
    /** {@code BPF_F_CTXLEN_MASK}: packet bytes to append, which modnet does not take. */
    static final long BPF_F_CTXLEN_MASK = 0xfffffL << 32;
    /** Bytes per ring: 16 pages, as bpftool's event_pipe maps them. */
    static final int RING_BYTES = 16 * 4096;
    private static final int E2BIG = -7;
    private static final int EINVAL = -22;
    private static final int ENOSPC = -28;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** Storage: the rings, their heads and tails, their guards and the lost count: a record written by either version is read once. */
    static final int LAYOUT = 1;

    private final MemorySegment[] rings;
    private final long[] head;
    private final long[] tail;
    private final AtomicBoolean[] taken;
    private final LongAdder dropped;

    PerfEventArrayMap(int id, String name, int keySize, int valueSize, int maxEntries, int flags) {
        this(id, name, keySize, valueSize, maxEntries, flags, null);
    }

    /** A perf event array over a previous version's {@link #storage()} (null: fresh rings). */
    PerfEventArrayMap(int id, String name, int keySize, int valueSize, int maxEntries, int flags, List<Object> st) {
        super(id, name, Verifier.MAP_PERF_EVENT_ARRAY, 4, 4, maxEntries, flags, 1, null);
        if (keySize != 4 || valueSize != 4) {
            throw new IllegalArgumentException("map " + name + ": a perf event array has 4-byte keys and values (EINVAL)");
        }
        if (st != null) {
            rings = (MemorySegment[]) st.get(0);
            head = (long[]) st.get(1);
            tail = (long[]) st.get(2);
            taken = (AtomicBoolean[]) st.get(3);
            dropped = (LongAdder) st.get(4);
            if (rings.length != maxEntries || head.length != maxEntries || tail.length != maxEntries || taken.length != maxEntries) {
                throw new IllegalArgumentException("map " + name + ": not a perf event array's storage");
            }
            return;
        }
        dropped = new LongAdder();
        rings = new MemorySegment[maxEntries];
        head = new long[maxEntries];
        tail = new long[maxEntries];
        taken = new AtomicBoolean[maxEntries];
        for (int i = 0; i < maxEntries; i++) {
            rings[i] = Arena.ofAuto().allocate(RING_BYTES, 8);
            taken[i] = new AtomicBoolean();
        }
    }

    @Override
    protected int layout() {
        return LAYOUT;
    }

    @Override
    protected List<Object> storage() {
        return List.of(rings, head, tail, taken, dropped);
    }

    /** {@code bpf_perf_event_output(ctx, map, flags, data, size)} from a program running on {@code mem}'s CPU. */
    long output(Memory mem, long flags, long dataAddr, long size) {
        if ((flags & ~(BPF_F_CURRENT_CPU | BPF_F_CTXLEN_MASK)) != 0 || (flags & BPF_F_CTXLEN_MASK) != 0) {
            return EINVAL; // packet bytes appended (ctxlen) are not offered
        }
        long index = flags == BPF_F_CURRENT_CPU ? mem.cpu() : flags;
        if (index >= rings.length) {
            return E2BIG;
        }
        MemorySegment data = mem.slice(dataAddr, size, false);
        if (data == null) {
            throw new BpfFault("map " + name() + ": data outside the program's memory");
        }
        int i = (int) index;
        long need = (4 + size + 7) & ~7L;
        if (!taken[i].compareAndSet(false, true)) {
            dropped.increment();
            return ENOSPC;
        }
        try {
            if (tail[i] + need - head[i] > RING_BYTES) {
                dropped.increment();
                return ENOSPC;
            }
            // a record never wraps: it starts at 0 again when the end has no room, the gap marked by size -1
            long at = tail[i] % RING_BYTES;
            if (at + need > RING_BYTES) {
                if (tail[i] + (RING_BYTES - at) + need - head[i] > RING_BYTES) {
                    dropped.increment();
                    return ENOSPC;
                }
                rings[i].set(U32, at, -1);
                tail[i] += RING_BYTES - at;
                at = 0;
            }
            rings[i].set(U32, at, (int) size);
            MemorySegment.copy(data, 0, rings[i], at + 4, size);
            tail[i] += need;
            return 0;
        } finally {
            taken[i].set(false);
        }
    }

    @Override
    public int consume(Consumer<byte[]> sink) {
        int n = 0;
        for (int i = 0; i < rings.length; i++) {
            while (true) {
                byte[] record;
                if (!taken[i].compareAndSet(false, true)) {
                    break; // a writer is at it: the next call reads it
                }
                try {
                    if (head[i] == tail[i]) {
                        break;
                    }
                    long at = head[i] % RING_BYTES;
                    int size = rings[i].get(U32, at);
                    if (size < 0) {
                        head[i] += RING_BYTES - at;
                        continue;
                    }
                    record = rings[i].asSlice(at + 4, size).toArray(ValueLayout.JAVA_BYTE);
                    head[i] += (4 + size + 7) & ~7L;
                } finally {
                    taken[i].set(false);
                }
                sink.accept(record);
                n++;
            }
        }
        return n;
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    /** No values to read from user space (the kernel's lookup answers EOPNOTSUPP). */
    @Override
    public byte[] lookup(byte[] key, int cpu) {
        return null;
    }

    @Override
    protected int find(MemorySegment key, long off) {
        return -1;
    }

    @Override
    protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
        return EINVAL; // the entries are the rings event_pipe reads, not perf event fds user space sets
    }

    @Override
    protected long remove(MemorySegment key) {
        return EINVAL;
    }

    @Override
    public List<byte[]> keys() {
        return List.of();
    }
}

package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import org.modnet.ebpf.api.BpfFault;

/**
 * {@code BPF_MAP_TYPE_QUEUE} (FIFO) and {@code BPF_MAP_TYPE_STACK} (LIFO), as {@code kernel/bpf/queue_stack_maps.c}
 * keeps them: no keys, up to {@code max_entries} values in a ring. Programs use {@code bpf_map_push_elem}
 * (full: E2BIG, or with {@code BPF_EXIST} the oldest value makes room), {@code bpf_map_pop_elem} and
 * {@code bpf_map_peek_elem} (empty: ENOENT); user space updates with no key to push and looks up to peek.
 * The ring is guarded by a flag taken without waiting: a second CPU arriving meanwhile gets EBUSY, as
 * the kernel's trylock answers in NMI context, and {@link #busy()} counts it.
 */
final class QueueStackMap extends BpfMapBase {
    private static final int ENOENT = -2;
    private static final int E2BIG = -7;
    private static final int EINVAL = -22;
    private static final int EBUSY = -16;

    /** Storage: the values' segments, the ring's {@link #HEAD} and {@link #COUNT}, the guard, the EBUSY count. */
    static final int LAYOUT = 1;
    private static final int HEAD = 0;
    private static final int COUNT = 1;

    private final boolean stack;
    private final AtomicBoolean taken;
    private final LongAdder busy;
    /** The oldest value's slot, and how many are held: written only while {@link #taken} is held. */
    private final int[] ring;

    QueueStackMap(int id, String name, int type, int valueSize, int maxEntries, int flags) {
        this(id, name, type, valueSize, maxEntries, flags, null);
    }

    /** A queue or stack over a previous version's {@link #storage()} (null: a fresh one): both versions then share one ring. */
    QueueStackMap(int id, String name, int type, int valueSize, int maxEntries, int flags, List<Object> taken) {
        super(id, name, type, 0, valueSize, maxEntries, flags, 1, taken == null ? null : (MemorySegment[]) taken.get(0));
        if (valueSize == 0) {
            throw new IllegalArgumentException("map " + name + ": a queue or stack needs a value size (EINVAL)");
        }
        this.stack = type == Verifier.MAP_STACK;
        this.ring = taken == null ? new int[2] : (int[]) taken.get(1);
        this.taken = taken == null ? new AtomicBoolean() : (AtomicBoolean) taken.get(2);
        this.busy = taken == null ? new LongAdder() : (LongAdder) taken.get(3);
        if (ring.length != 2) {
            throw new IllegalArgumentException("map " + name + ": not a queue's storage");
        }
    }

    @Override
    protected int layout() {
        return LAYOUT;
    }

    @Override
    protected List<Object> storage() {
        return List.of((Object) values, ring, taken, busy);
    }

    /** Pushes, pops and peeks refused because another CPU held the ring (EBUSY). */
    long busy() {
        return busy.sum();
    }

    /** {@code bpf_map_push_elem}: 0, E2BIG when full (without {@code BPF_EXIST}), EINVAL for other flags. */
    long push(Memory mem, long valueAddr, long flags) {
        MemorySegment value = mem.slice(valueAddr, valueSize(), false);
        if (value == null) {
            throw new BpfFault("map " + name() + ": value outside the program's memory");
        }
        return push(value, flags);
    }

    /** {@code bpf_map_pop_elem} ({@code delete} true) or {@code bpf_map_peek_elem}: the value written at {@code valueAddr}. */
    long pop(Memory mem, long valueAddr, boolean delete) {
        MemorySegment out = mem.slice(valueAddr, valueSize(), true);
        if (out == null) {
            throw new BpfFault("map " + name() + ": value outside the program's memory");
        }
        return take(out, delete);
    }

    private long push(MemorySegment value, long flags) {
        if ((flags & ~BPF_EXIST) != 0) {
            return EINVAL;
        }
        if (!taken.compareAndSet(false, true)) {
            busy.increment();
            return EBUSY;
        }
        try {
            if (ring[COUNT] == maxEntries()) {
                if (flags != BPF_EXIST) {
                    return E2BIG;
                }
                ring[HEAD] = (ring[HEAD] + 1) % maxEntries(); // the oldest goes, for a queue and a stack alike
                ring[COUNT]--;
            }
            write((ring[HEAD] + ring[COUNT]) % maxEntries(), value, 0);
            ring[COUNT]++;
            return 0;
        } finally {
            taken.set(false);
        }
    }

    private long take(MemorySegment out, boolean delete) {
        if (!taken.compareAndSet(false, true)) {
            busy.increment();
            return EBUSY;
        }
        try {
            if (ring[COUNT] == 0) {
                return ENOENT;
            }
            int slot = stack ? (ring[HEAD] + ring[COUNT] - 1) % maxEntries() : ring[HEAD];
            MemorySegment.copy(values[0], (long) slot * stride, out, 0, valueSize());
            if (delete) {
                ring[COUNT]--;
                if (!stack) {
                    ring[HEAD] = (ring[HEAD] + 1) % maxEntries();
                }
            }
            return 0;
        } finally {
            taken.set(false);
        }
    }

    /** User space's lookup is a peek: it has no key. */
    @Override
    public byte[] lookup(byte[] key, int cpu) {
        if (key.length != 0) {
            return null;
        }
        byte[] v = new byte[valueSize()];
        return take(MemorySegment.ofArray(v), false) == 0 ? v : null;
    }

    /** {@code BPF_MAP_LOOKUP_AND_DELETE_ELEM}: a pop from user space; null when empty. */
    byte[] lookupAndDelete() {
        byte[] v = new byte[valueSize()];
        return take(MemorySegment.ofArray(v), true) == 0 ? v : null;
    }

    @Override
    protected int find(MemorySegment key, long off) {
        return -1; // no keys: programs may not look up (the verifier refuses it)
    }

    @Override
    protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
        return push(value, how);
    }

    @Override
    protected long remove(MemorySegment key) {
        return EINVAL;
    }

    /** No keys to list: the kernel's get_next_key answers EINVAL. */
    @Override
    public List<byte[]> keys() {
        return List.of();
    }
}

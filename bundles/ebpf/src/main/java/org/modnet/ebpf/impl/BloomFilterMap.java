package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

import org.modnet.ebpf.api.BpfFault;

/**
 * {@code BPF_MAP_TYPE_BLOOM_FILTER} ({@code kernel/bpf/bloom_filter.c}): no keys; {@code bpf_map_push_elem}
 * adds a value, {@code bpf_map_peek_elem} answers 0 when it may have been added and ENOENT when it
 * surely was not. Sized as the kernel sizes it: {@code max_entries * nr_hash_funcs / ln 2} bits, rounded up
 * to a power of two; {@code nr_hash_funcs} is {@code map_extra}'s low 4 bits, 5 when 0. Bits are set with
 * an atomic OR: no lock.
 */
final class BloomFilterMap extends BpfMapBase {
    private static final int ENOENT = -2;
    private static final int EINVAL = -22;
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] bits;
    private final long mask;
    private final int hashes;
    private final int entries;

    /**
     * Storage: the bit array and the hash count. A version that hashes values differently must number its
     * layout anew: its bits would not answer for the values the old one added.
     */
    static final int LAYOUT = 1;

    BloomFilterMap(int id, String name, int valueSize, int maxEntries, int flags, int mapExtra) {
        this(id, name, valueSize, maxEntries, flags, mapExtra, null);
    }

    /** A bloom filter over a previous version's {@link #storage()} (null: a fresh one): both versions then share its bits. */
    BloomFilterMap(int id, String name, int valueSize, int maxEntries, int flags, int mapExtra, List<Object> taken) {
        super(id, name, Verifier.MAP_BLOOM_FILTER, 0, valueSize, 1, flags, 1, null);
        if (valueSize == 0 || maxEntries <= 0 || (mapExtra & ~0xf) != 0) {
            throw new IllegalArgumentException("map " + name + ": a bloom filter needs a value size, max_entries and at most 15 hashes (EINVAL)");
        }
        if (taken != null) {
            this.bits = (long[]) taken.get(0);
            this.hashes = (Integer) taken.get(1);
        } else {
            this.hashes = (mapExtra & 0xf) == 0 ? 5 : mapExtra & 0xf;
            long n = (long) maxEntries * hashes * 7 / 5; // / ln 2, as bloom_map_alloc approximates it
            long size = Long.highestOneBit(Math.max(64, Math.min(n, 1L << 32) - 1)) << 1;
            this.bits = new long[(int) (size / 64)];
        }
        if (Long.bitCount(bits.length) != 1 || hashes < 1 || hashes > 15) {
            throw new IllegalArgumentException("map " + name + ": not a bloom filter's storage");
        }
        this.mask = (long) bits.length * 64 - 1;
        this.entries = maxEntries;
    }

    @Override
    protected int layout() {
        return LAYOUT;
    }

    @Override
    protected List<Object> storage() {
        return List.of(bits, hashes);
    }

    /** {@code bpf_map_push_elem}: only BPF_ANY. */
    long push(Memory mem, long valueAddr, long flags) {
        MemorySegment value = mem.slice(valueAddr, valueSize(), false);
        if (value == null) {
            throw new BpfFault("map " + name() + ": value outside the program's memory");
        }
        return add(value, flags);
    }

    /** {@code bpf_map_peek_elem}: 0 when the value may be in, ENOENT when it is not. */
    long peek(Memory mem, long valueAddr) {
        MemorySegment value = mem.slice(valueAddr, valueSize(), false);
        if (value == null) {
            throw new BpfFault("map " + name() + ": value outside the program's memory");
        }
        return contains(value) ? 0 : ENOENT;
    }

    private long add(MemorySegment value, long flags) {
        if (flags != BPF_ANY) {
            return EINVAL;
        }
        for (int i = 0; i < hashes; i++) {
            long h = hash(value, i) & mask;
            BITS.getAndBitwiseOr(bits, (int) (h >>> 6), 1L << (h & 63));
        }
        return 0;
    }

    private boolean contains(MemorySegment value) {
        for (int i = 0; i < hashes; i++) {
            long h = hash(value, i) & mask;
            if (((long) BITS.getVolatile(bits, (int) (h >>> 6)) & 1L << (h & 63)) == 0) {
                return false;
            }
        }
        return true;
    }

    /** The value's hash under seed {@code i}: FNV-1a over its bytes, mixed (modnet's, not the kernel's jhash). */
    private long hash(MemorySegment value, int i) {
        long h = 0xcbf29ce484222325L ^ (i * 0x9e3779b97f4a7c15L);
        for (long k = 0; k < valueSize(); k++) {
            h = (h ^ (value.get(ValueLayout.JAVA_BYTE, k) & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        return h ^ h >>> 33;
    }

    /** User space's lookup has no key and no value to return: the kernel answers EINVAL; here, null. */
    @Override
    public byte[] lookup(byte[] key, int cpu) {
        return null;
    }

    /** User space's update adds its value (no key). */
    @Override
    protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
        return add(value, how);
    }

    @Override
    protected int find(MemorySegment key, long off) {
        return -1;
    }

    @Override
    protected long remove(MemorySegment key) {
        return EINVAL;
    }

    @Override
    public List<byte[]> keys() {
        return List.of();
    }

    @Override
    public int maxEntries() {
        return entries;
    }
}

package org.modnet.ebpf.impl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.MapState;
import org.modnet.ebpf.api.ProgType;

/**
 * An eBPF map ({@code kernel/bpf/arraymap.c}, {@code hashtab.c}, {@code lpm_trie.c}, ...): keys and
 * values of fixed sizes, shared by programs and user space. Values live in off-heap memory a program
 * reaches as one region of its address space (a region per CPU for the per-CPU types), so a value
 * pointer from {@code bpf_map_lookup_elem} is an ordinary, bounds-checked pointer. Updates and deletes
 * return 0 or a negative errno as {@code bpf(2)} does.
 */
public abstract class BpfMapBase implements MapSpec, BpfMap {

    private static final int EEXIST = -17;
    private static final int ENOENT = -2;
    private static final int E2BIG = -7;
    /** The largest value a map takes ({@code KMALLOC_MAX_SIZE} on x86-64): larger is E2BIG at creation. */
    private static final int KMALLOC_MAX_SIZE = 4 << 20;
    private static final int EINVAL = -22;
    private static final int ENOMEM = -12;
    private static final int EOVERFLOW = -75;
    private static final int EBADF = -9;
    private static final int ENOTSOCK = -88;

    /** Whether an fd names an open AF_XDP socket (the family tells, {@link BpfSyscallImpl#xskSockets}); null: none does. */
    static volatile java.util.function.IntPredicate xskSockets;
    /** The largest queue a cpumap entry may ask for ({@code struct bpf_cpumap_val.qsize}). */
    private static final int CPUMAP_MAX_QSIZE = 16384;

    private static final java.util.concurrent.atomic.AtomicInteger IDS = new java.util.concurrent.atomic.AtomicInteger();

    private final int id;
    private final String name;
    private final int type;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final int flags;
    /** Bytes between two values: the value size rounded up to 8, as the kernel aligns them. */
    protected final int stride;
    /** The values, one segment per CPU (one for the shared types). */
    protected final MemorySegment[] values;
    private volatile int region = -1;

    protected BpfMapBase(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus) {
        this(0, name, type, keySize, valueSize, maxEntries, flags, cpus, null);
    }

    /**
     * A map with id {@code id} (0: the next free one) over {@code taken} values, one segment per CPU, of a
     * previous version's map (null: fresh, zeroed memory).
     */
    protected BpfMapBase(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus,
            MemorySegment[] taken) {
        if (maxEntries <= 0 || valueSize < 0 || keySize < 0) {
            throw new IllegalArgumentException("map " + name + ": invalid sizes");
        }
        this.id = id == 0 ? IDS.incrementAndGet() : reserve(id);
        this.name = name;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.flags = flags;
        this.stride = Math.max(8, (valueSize + 7) & ~7);
        if (taken != null) {
            if (taken.length != cpus) {
                throw new IllegalArgumentException("map " + name + ": " + taken.length + " value regions for " + cpus + " CPUs");
            }
            for (MemorySegment v : taken) {
                if (v.byteSize() != (long) stride * maxEntries) {
                    throw new IllegalArgumentException("map " + name + ": value region of another size");
                }
            }
            this.values = taken;
        } else {
            this.values = new MemorySegment[cpus];
            for (int c = 0; c < cpus; c++) {
                values[c] = Arena.ofAuto().allocate((long) stride * maxEntries, 64);
            }
        }
        ALL.put(this, Boolean.TRUE);
    }

    /** Every map made and still reachable, for the hand-over (a map pinned without a program is one). */
    private static final java.util.Map<BpfMapBase, Boolean> ALL = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** An adopted id: the next fresh one comes after it. */
    private static int reserve(int id) {
        IDS.accumulateAndGet(id, Math::max);
        return id;
    }

    /** Every map still reachable, by id. */
    static List<BpfMapBase> all() {
        List<BpfMapBase> l;
        synchronized (ALL) {
            l = new ArrayList<>(ALL.keySet());
        }
        l.sort(java.util.Comparator.comparingInt(BpfMapBase::id));
        return l;
    }

    // --- the hand-over on update: the storage as JDK objects, a layout number per type ---

    /** The layout of {@link #storage()}: 0 when this type's storage is not taken over (its contents are copied). */
    protected int layout() {
        return 0;
    }

    /** The storage, in {@link #layout()}'s order: the values' segments first. */
    protected List<Object> storage() {
        return List.of();
    }

    /** This map as the next version adopts it. */
    final org.modnet.ebpf.api.MapHandOver handOver() {
        List<Object> st = storage();
        if (innerTemplate != null) {
            // an array or hash of maps: its array's or hash's storage, then the template; the slots name their maps by id
            st = new ArrayList<>(st);
            MapSpec t = innerTemplate;
            st.add(new int[] { t.type(), t.keySize(), t.valueSize(), t.maxEntries(), t.flags() });
        }
        return new org.modnet.ebpf.api.MapHandOver(id, name, type(), keySize, valueSize, maxEntries(), flags, values.length, layout(), st,
                this::export);
    }

    /**
     * After an update: an adopted array or hash of maps finds each slot's inner map, by the id its value
     * holds, among the maps adopted ({@code adopted}, by id).
     */
    final void relinkInner(java.util.Map<Integer, BpfMapBase> adopted) {
        if (innerTemplate == null) {
            return;
        }
        for (byte[] k : keys()) {
            int slot = find(MemorySegment.ofArray(k));
            byte[] v = slot < 0 ? null : values[0].asSlice((long) slot * stride, 4).toArray(ValueLayout.JAVA_BYTE);
            BpfMapBase m = v == null ? null : adopted.get(u32(v, 0));
            if (slot >= 0) {
                innerBySlot[slot] = m != null && innerFits(m) ? m : null;
            }
        }
    }

    /**
     * A previous version's map under its id: its storage taken over when its layout is this version's
     * (no copy: both versions' programs then see one map), else a fresh map filled from its contents.
     * {@code copied[0]} counts the maps that were copied.
     */
    static BpfMapBase adopt(org.modnet.ebpf.api.MapHandOver h, int[] copied) throws BpfException {
        List<Object> st = h.storage();
        try {
            switch (h.type()) {
                case Verifier.MAP_ARRAY, Verifier.MAP_PERCPU_ARRAY, Verifier.MAP_PROG_ARRAY, Verifier.MAP_DEVMAP, Verifier.MAP_CPUMAP,
                        Verifier.MAP_XSKMAP -> {
                    if (h.layout() == ArrayMap.LAYOUT) {
                        return new ArrayMap(h.id(), h.name(), h.type(), h.valueSize(), h.maxEntries(), h.flags(), h.cpus(),
                                (MemorySegment[]) st.get(0));
                    }
                }
                case Verifier.MAP_HASH, Verifier.MAP_PERCPU_HASH, Verifier.MAP_LRU_HASH, Verifier.MAP_LRU_PERCPU_HASH, Verifier.MAP_DEVMAP_HASH -> {
                    if (h.layout() == HashMap.LAYOUT) {
                        return new HashMap(h.id(), h.name(), h.type(), h.keySize(), h.valueSize(), h.maxEntries(), h.flags(), h.cpus(), st);
                    }
                }
                case Verifier.MAP_LPM_TRIE -> {
                    if (h.layout() == LpmTrie.LAYOUT) {
                        return new LpmTrie(h.id(), h.name(), h.keySize(), h.valueSize(), h.maxEntries(), h.flags(), st);
                    }
                }
                case Verifier.MAP_ARRAY_OF_MAPS, Verifier.MAP_HASH_OF_MAPS -> {
                    if (h.layout() == ArrayMap.LAYOUT || h.layout() == HashMap.LAYOUT) {
                        int[] t = (int[]) st.get(st.size() - 1);
                        List<Object> own = st.subList(0, st.size() - 1);
                        BpfMapBase m = h.type() == Verifier.MAP_ARRAY_OF_MAPS
                                ? new ArrayMap(h.id(), h.name(), Verifier.MAP_ARRAY, h.valueSize(), h.maxEntries(), h.flags(), 1,
                                        (MemorySegment[]) own.get(0))
                                : new HashMap(h.id(), h.name(), Verifier.MAP_HASH, h.keySize(), h.valueSize(), h.maxEntries(), h.flags(), 1, own);
                        m.innerTemplate = new MapSpec.Template(h.name() + ".inner", t[0], t[1], t[2], t[3], t[4]);
                        m.innerBySlot = new BpfMapBase[h.maxEntries()];
                        return m; // its slots' maps found once every map is adopted (relinkInner)
                    }
                }
                case Verifier.MAP_QUEUE, Verifier.MAP_STACK -> {
                    if (h.layout() == QueueStackMap.LAYOUT) {
                        return new QueueStackMap(h.id(), h.name(), h.type(), h.valueSize(), h.maxEntries(), h.flags(), st);
                    }
                }
                case Verifier.MAP_BLOOM_FILTER -> {
                    if (h.layout() == BloomFilterMap.LAYOUT) {
                        return new BloomFilterMap(h.id(), h.name(), h.valueSize(), h.maxEntries(), h.flags(), 0, st);
                    }
                }
                case Verifier.MAP_PERF_EVENT_ARRAY -> {
                    if (h.layout() == PerfEventArrayMap.LAYOUT) {
                        return new PerfEventArrayMap(h.id(), h.name(), h.keySize(), h.valueSize(), h.maxEntries(), h.flags(), st);
                    }
                }
                default -> {
                }
            }
        } catch (ClassCastException | IndexOutOfBoundsException | IllegalArgumentException e) {
            // a storage that does not read as its layout says: copy instead
        }
        copied[0]++;
        BpfMapBase m = create(h.id(), h.name(), h.type(), h.keySize(), h.valueSize(), h.maxEntries(), h.flags(), h.cpus());
        MapState state = h.contents().get();
        for (MapState.Entry e : state.entries()) {
            for (int c = 0; c < m.values.length && c < e.values().size(); c++) {
                m.put(MemorySegment.ofArray(e.key()), MemorySegment.ofArray(e.values().get(c)), BPF_ANY, c);
            }
        }
        return m;
    }

    /**
     * A map of a {@code BPF_MAP_TYPE_*}: array, hash, per-CPU array and hash, LRU hash, LPM trie, prog
     * array, devmap (array and hash), cpumap, ring buffer. EINVAL-style {@link BpfException} for other types or bad
     * sizes, as {@code BPF_MAP_CREATE} refuses them.
     */
    public static BpfMapBase create(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus)
            throws BpfException {
        return create(0, name, type, keySize, valueSize, maxEntries, flags, cpus);
    }

    /** {@link #create} with the id {@code id} (0: the next free one). */
    static BpfMapBase create(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus)
            throws BpfException {
        return create(id, name, type, keySize, valueSize, maxEntries, flags, 0, cpus);
    }

    /**
     * An array or hash of maps ({@code BPF_MAP_TYPE_ARRAY_OF_MAPS}, {@code HASH_OF_MAPS}) whose values are
     * maps shaped as {@code inner} ({@code inner_map_fd}'s map, or the BTF {@code __array(values, ...)}
     * template): 4-byte values, each an inner map's id.
     */
    static BpfMapBase createOuter(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, MapSpec inner)
            throws BpfException {
        if (type != Verifier.MAP_ARRAY_OF_MAPS && type != Verifier.MAP_HASH_OF_MAPS) {
            throw new BpfException("map " + name + ": only an array or hash of maps has an inner map (EINVAL)");
        }
        if (inner == null) {
            throw new BpfException("map " + name + ": a map of maps needs an inner map template (inner_map_fd) (EINVAL)");
        }
        if (valueSize != 4) {
            throw new BpfException("map " + name + ": a map of maps' values are 4 bytes (a map), not " + valueSize + " (EINVAL)");
        }
        if ((flags & BPF_F_INNER_MAP) != 0) {
            throw new BpfException("map " + name + ": BPF_F_INNER_MAP is only for an array (EINVAL)");
        }
        if (inner.innerMap() != null || inner.type() == Verifier.MAP_PROG_ARRAY || inner.type() == Verifier.MAP_RINGBUF
                || inner.type() == Verifier.MAP_PERF_EVENT_ARRAY || inner.type() == Verifier.MAP_XSKMAP) {
            // bpf_map_meta_alloc: no maps of maps of maps, and not the types whose ops lack map_meta_equal
            throw new BpfException("map " + name + ": a map of type " + inner.type() + " cannot be an inner map (EINVAL)");
        }
        BpfMapBase m = create(id, name, type == Verifier.MAP_ARRAY_OF_MAPS ? Verifier.MAP_ARRAY : Verifier.MAP_HASH, keySize, 4,
                maxEntries, flags, 0, 1);
        m.innerTemplate = new MapSpec.Template(inner.name(), inner.type(), inner.keySize(), inner.valueSize(), inner.maxEntries(),
                inner.flags());
        m.innerBySlot = new BpfMapBase[maxEntries];
        return m;
    }

    /** For an array or hash of maps: the template its values' maps match. */
    private MapSpec innerTemplate;
    /** For an array or hash of maps: the inner map in each value slot, held as the kernel holds a reference to it. */
    BpfMapBase[] innerBySlot;

    @Override
    public MapSpec innerMap() {
        return innerTemplate;
    }

    /** The inner map a program's lookup of the key at {@code keyAddr} finds: its value slot, or -1. */
    final int innerSlot(Memory mem, long keyAddr) {
        MemorySegment key = mem.regionOf(keyAddr, keySize, false);
        if (key == null) {
            throw new BpfFault("map " + name + ": key outside the program's memory");
        }
        int slot = find(key, keyAddr & 0xffffffffL);
        return slot >= 0 && innerBySlot[slot] != null ? slot : -1;
    }

    /** Makes this map's values region {@code region} of {@code memory}: an inner map a program just looked up. */
    final void attachAt(Memory memory, int region) {
        memory.set(region, values[Math.min(memory.cpu(), values.length - 1)], (flags & BPF_F_RDONLY_PROG) == 0);
    }

    /** The map of this id still reachable, or null. */
    static BpfMapBase byId(int id) {
        synchronized (ALL) {
            for (BpfMapBase m : ALL.keySet()) {
                if (m.id == id) {
                    return m;
                }
            }
        }
        return null;
    }

    /**
     * {@code map_meta_equal}: {@code m} can be a value of this map of maps — the template's type, sizes and
     * flags; and its {@code max_entries} for an array not made with {@link #BPF_F_INNER_MAP}
     * ({@code array_map_meta_equal}: lookups in it are bounded by the template's), the kernel's only
     * types that compare it, other maps' lookups being bounded by their own.
     */
    private boolean innerFits(BpfMapBase m) {
        MapSpec t = innerTemplate;
        boolean entries = t.type() == Verifier.MAP_ARRAY && (t.flags() & BPF_F_INNER_MAP) == 0;
        return m.type == t.type() && m.keySize == t.keySize() && m.valueSize == t.valueSize()
                && (!entries || m.maxEntries() == t.maxEntries()) && m.flags == t.flags() && m.innerTemplate == null;
    }

    /** {@link #create} with the map's {@code map_extra}: a bloom filter's hash count (low 4 bits), 0 for every other type. */
    static BpfMapBase create(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, long mapExtra, int cpus)
            throws BpfException {
        if (mapExtra != 0 && type != Verifier.MAP_BLOOM_FILTER) {
            // map_create: only a bloom filter (and an arena) has a map_extra
            throw new BpfException("map " + name + ": map_extra " + mapExtra + " is only for a bloom filter (EINVAL)");
        }
        if (mapExtra < 0 || mapExtra > 0xf) {
            throw new BpfException("map " + name + ": a bloom filter has at most 15 hashes, map_extra " + mapExtra + " (EINVAL)");
        }
        if (valueSize > KMALLOC_MAX_SIZE) {
            throw new BpfException("map " + name + ": value size " + valueSize + " is too big (E2BIG): at most " + KMALLOC_MAX_SIZE);
        }
        if ((flags & BPF_F_INNER_MAP) != 0 && type != Verifier.MAP_ARRAY) {
            // array_map_alloc_check: only a plain array may be made an inner map of other sizes (a hash's flags have no such bit)
            throw new BpfException("map " + name + ": BPF_F_INNER_MAP is only for an array (EINVAL)");
        }
        if (redirectMap(type) && (keySize != 4 || (valueSize != 4 && valueSize != 8))) {
            String kind = type == Verifier.MAP_CPUMAP ? "cpumap" : "devmap";
            throw new BpfException("map " + name + ": a " + kind + " has 4-byte keys and values of 4 or 8 bytes (struct bpf_"
                    + kind + "_val), not " + keySize + " and " + valueSize);
        }
        if (type == Verifier.MAP_XSKMAP && (keySize != 4 || valueSize != 4)) {
            // xsk_map_alloc: a u32 queue index, a u32 socket fd
            throw new BpfException("map " + name + ": an xskmap has 4-byte keys and 4-byte values (an AF_XDP socket's fd), not "
                    + keySize + " and " + valueSize + " (EINVAL)");
        }
        try {
            return switch (type) {
                case Verifier.MAP_XSKMAP -> new ArrayMap(id, name, type, valueSize, maxEntries, flags, 1, null);
                case Verifier.MAP_ARRAY, Verifier.MAP_PERCPU_ARRAY, Verifier.MAP_PROG_ARRAY, Verifier.MAP_DEVMAP, Verifier.MAP_CPUMAP -> {
                    if (keySize != 4) {
                        throw new BpfException("map " + name + ": an array's key must be 4 bytes, not " + keySize);
                    }
                    yield new ArrayMap(id, name, type, valueSize, maxEntries, flags, type == Verifier.MAP_PERCPU_ARRAY ? cpus : 1, null);
                }
                case Verifier.MAP_HASH, Verifier.MAP_PERCPU_HASH, Verifier.MAP_LRU_HASH, Verifier.MAP_LRU_PERCPU_HASH, Verifier.MAP_DEVMAP_HASH -> {
                    if (keySize <= 0 || keySize > 512) {
                        throw new BpfException("map " + name + ": invalid key size " + keySize);
                    }
                    yield new HashMap(id, name, type, keySize, valueSize, maxEntries, flags, type == Verifier.MAP_PERCPU_HASH || type == Verifier.MAP_LRU_PERCPU_HASH ? cpus : 1, null);
                }
                case Verifier.MAP_LPM_TRIE -> {
                    if (keySize <= 4 || keySize > 4 + 256 || (flags & BPF_F_NO_PREALLOC) == 0) {
                        throw new BpfException("map " + name + ": an LPM trie needs a key of u32 prefix length plus data, and BPF_F_NO_PREALLOC");
                    }
                    yield new LpmTrie(id, name, keySize, valueSize, maxEntries, flags, null);
                }
                case Verifier.MAP_PERF_EVENT_ARRAY -> new PerfEventArrayMap(id, name, keySize, valueSize, maxEntries == 0 ? cpus : maxEntries, flags);
                case Verifier.MAP_QUEUE, Verifier.MAP_STACK -> {
                    if (keySize != 0) {
                        throw new BpfException("map " + name + ": a queue or stack has no keys (key size 0), not " + keySize + " (EINVAL)");
                    }
                    yield new QueueStackMap(id, name, type, valueSize, maxEntries, flags);
                }
                case Verifier.MAP_BLOOM_FILTER -> {
                    if (keySize != 0) {
                        throw new BpfException("map " + name + ": a bloom filter has no keys (key size 0), not " + keySize + " (EINVAL)");
                    }
                    yield new BloomFilterMap(id, name, valueSize, maxEntries, flags, (int) mapExtra);
                }
                case Verifier.MAP_ARRAY_OF_MAPS, Verifier.MAP_HASH_OF_MAPS -> throw new BpfException("map " + name
                        + ": a map of maps needs an inner map template (inner_map_fd) (EINVAL)");
                case Verifier.MAP_RINGBUF -> {
                    if (keySize != 0 || valueSize != 0) {
                        throw new BpfException("map " + name + ": a ring buffer has no keys or values (key and value size 0)");
                    }
                    yield new RingBufMap(id, name, maxEntries, flags);
                }
                default -> throw new BpfException("map " + name + ": map type " + type + " is not supported");
            };
        } catch (IllegalArgumentException e) {
            throw new BpfException(e.getMessage());
        } catch (OutOfMemoryError e) {
            // the values are allocated up front, as the kernel's bpf_map_area_alloc does, and may not fit
            throw new BpfException("map " + name + ": cannot allocate memory (ENOMEM) for " + maxEntries + " values of " + valueSize
                    + " bytes");
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** The map's id, as {@code bpftool map} shows it. */
    public int id() {
        return id;
    }

    @Override
    public int type() {
        return innerTemplate == null ? type : type == Verifier.MAP_ARRAY ? Verifier.MAP_ARRAY_OF_MAPS : Verifier.MAP_HASH_OF_MAPS;
    }

    @Override
    public int keySize() {
        return keySize;
    }

    @Override
    public int valueSize() {
        return valueSize;
    }

    @Override
    public int maxEntries() {
        return maxEntries;
    }

    @Override
    public int flags() {
        return flags;
    }

    /** The CPUs it keeps values for (1 unless per-CPU). */
    public int cpus() {
        return values.length;
    }

    /** Makes the values region {@code id} of a program's memory on {@code cpu}. */
    public void attach(Memory memory, int id, int cpu) {
        region = id;
        memory.set(id, values[Math.min(cpu, values.length - 1)], (flags & BPF_F_RDONLY_PROG) == 0);
    }

    /**
     * The region it was last attached as; -1 before. A map two programs use may be a different region
     * in each: what a program's helpers return is in the region its own program gave the map.
     */
    public int region() {
        return region;
    }

    // --- what programs call (helpers) ---

    /** {@code bpf_map_lookup_elem}: the value's address, or 0, in the region it was last attached as. */
    public final long lookup(Memory mem, long keyAddr) {
        return lookup(mem, keyAddr, region);
    }

    /** {@code bpf_map_lookup_elem} for a program that attached the map as region {@code region}: the value's address there, or 0. */
    public final long lookup(Memory mem, long keyAddr, int region) {
        MemorySegment key = mem.regionOf(keyAddr, keySize, false); // read in place: no slice per lookup
        if (key == null) {
            throw new BpfFault("map " + name + ": key outside the program's memory");
        }
        int slot = find(key, keyAddr & 0xffffffffL);
        return slot < 0 ? 0 : Memory.base(region) + (long) slot * stride;
    }

    /** {@code bpf_map_update_elem} from a program. */
    public final long update(Memory mem, long keyAddr, long valueAddr, long how) {
        MemorySegment key = mem.slice(keyAddr, keySize, false);
        MemorySegment value = mem.slice(valueAddr, valueSize, false);
        if (key == null || value == null) {
            throw new BpfFault("map " + name + ": key or value outside the program's memory");
        }
        return put(key, value, how, cpuOf(mem));
    }

    /** {@code bpf_map_delete_elem} from a program. */
    public final long delete(Memory mem, long keyAddr) {
        MemorySegment key = mem.slice(keyAddr, keySize, false);
        if (key == null) {
            throw new BpfFault("map " + name + ": key outside the program's memory");
        }
        return remove(key);
    }

    /** The slot of a key at offset 0 of its own segment (user space, writes). */
    protected final int find(MemorySegment key) {
        return find(key, 0);
    }

    private int cpuOf(Memory mem) {
        return Math.min(mem.cpu(), values.length - 1);
    }

    // --- what user space calls (bpftool) ---

    /** The value (of CPU 0 for per-CPU maps), or null. */
    public byte[] lookup(byte[] key) {
        return lookup(key, 0);
    }

    public byte[] lookup(byte[] key, int cpu) {
        if (key.length != keySize) {
            return null;
        }
        if (innerTemplate != null) {
            int s = find(MemorySegment.ofArray(key));
            if (s < 0 || innerBySlot[s] == null) {
                return null; // an array of maps' empty slot: ENOENT, as the kernel answers
            }
        }
        int slot = find(MemorySegment.ofArray(key));
        if (slot < 0) {
            return null;
        }
        return values[cpu].asSlice((long) slot * stride, valueSize).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Sets the value (on every CPU for per-CPU maps); 0 or a negative errno. */
    public int update(byte[] key, byte[] value, long how) {
        if (key.length != keySize || value.length != valueSize) {
            return EINVAL;
        }
        if (innerTemplate != null) {
            return updateOuter(key, value, how);
        }
        if (type == Verifier.MAP_XSKMAP) {
            return updateXsk(key, value, how);
        }
        if (type == Verifier.MAP_CPUMAP && Integer.compareUnsigned(u32(value, 0), CPUMAP_MAX_QSIZE) > 0) {
            return EOVERFLOW; // cpu_map_update_elem's sanity limit on the queue size
        }
        int program = entryProgram(value);
        if (program != 0) {
            AttachType expected = type == Verifier.MAP_CPUMAP ? AttachType.XDP_CPUMAP : AttachType.XDP_DEVMAP;
            LoadedProgram p = LoadedProgram.byId(program);
            if (p == null || p.type() != ProgType.XDP || p.attachType() != expected) {
                return EINVAL; // as dev_map_update_elem and cpu_map_update_elem refuse a program of another attach type
            }
        }
        int r = 0;
        for (int c = 0; c < values.length && r == 0; c++) {
            r = (int) put(MemorySegment.ofArray(key), MemorySegment.ofArray(value), c == 0 ? how : BPF_ANY, c);
        }
        return r;
    }

    public int delete(byte[] key) {
        if (key.length != keySize) {
            return EINVAL;
        }
        if (innerTemplate != null) {
            synchronized (this) {
                int slot = find(MemorySegment.ofArray(key));
                int r = type == Verifier.MAP_ARRAY ? (slot < 0 ? ENOENT : 0) : (int) remove(MemorySegment.ofArray(key));
                if (r == 0 && slot >= 0) {
                    if (type == Verifier.MAP_ARRAY) {
                        clear(slot); // an array of maps' slot names no map again
                    }
                    innerBySlot[slot] = null;
                }
                return r;
            }
        }
        return (int) remove(MemorySegment.ofArray(key));
    }

    /**
     * {@code xsk_map_update_elem}: the value is an AF_XDP socket's fd — ENOTSOCK for a standard stream (0-2),
     * EBADF for an fd no AF_XDP socket has (modnet's other sockets have no fds, so such an fd is not open);
     * a slot holds a socket or none (0), so BPF_NOEXIST and BPF_EXIST mean what they say.
     */
    private synchronized int updateXsk(byte[] key, byte[] value, long how) {
        if (how < 0 || how > BPF_EXIST) {
            return EINVAL;
        }
        int slot = find(MemorySegment.ofArray(key));
        if (slot < 0) {
            return E2BIG;
        }
        int fd = u32(value, 0);
        if (fd >= 0 && fd <= 2) {
            return ENOTSOCK;
        }
        java.util.function.IntPredicate open = xskSockets;
        if (open == null || !open.test(fd)) {
            return EBADF;
        }
        int old = values[0].get(ValueLayout.JAVA_INT_UNALIGNED, (long) slot * stride);
        if (old == fd) {
            return 0;
        }
        if (old != 0 && how == BPF_NOEXIST) {
            return EEXIST;
        }
        if (old == 0 && how == BPF_EXIST) {
            return ENOENT;
        }
        return (int) put(MemorySegment.ofArray(key), MemorySegment.ofArray(value), BPF_ANY, 0);
    }

    /**
     * An array or hash of maps' update from user space: the value names the inner map by id (the kernel's
     * by fd); EBADF for no such map, EINVAL for one not shaped as the template ({@code bpf_map_meta_equal}).
     */
    private synchronized int updateOuter(byte[] key, byte[] value, long how) {
        BpfMapBase inner = byId(u32(value, 0));
        if (inner == null) {
            return -9; // EBADF
        }
        if (!innerFits(inner)) {
            return EINVAL;
        }
        int r = (int) put(MemorySegment.ofArray(key), MemorySegment.ofArray(value), how, 0);
        if (r == 0) {
            innerBySlot[find(MemorySegment.ofArray(key))] = inner;
        }
        return r;
    }

    /**
     * The {@code bpf_prog} of a devmap's or cpumap's 8-byte value ({@code struct bpf_devmap_val},
     * {@code struct bpf_cpumap_val}): the id of a program that runs on each frame after the redirect, 0
     * for none. A devmap entry's must be a loaded {@link AttachType#XDP_DEVMAP} program, a cpumap
     * entry's an {@link AttachType#XDP_CPUMAP} one. Like a prog array's slot, the entry names the
     * program by id and does not keep it loaded.
     */
    final int entryProgram(byte[] value) {
        if (!redirectMap(type) || valueSize != 8) {
            return 0;
        }
        return u32(value, 4);
    }

    /** The little-endian 32-bit word at {@code off}. */
    private static int u32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static boolean redirectMap(int type) {
        return type == Verifier.MAP_DEVMAP || type == Verifier.MAP_DEVMAP_HASH || type == Verifier.MAP_CPUMAP;
    }

    /** Every key present, in the map's order. */
    @Override
    public abstract List<byte[]> keys();

    @Override
    public MapState export() {
        List<MapState.Entry> entries = new ArrayList<>();
        for (byte[] k : keys()) {
            List<byte[]> v = new ArrayList<>(values.length);
            for (int c = 0; c < values.length; c++) {
                byte[] x = lookup(k, c);
                if (x == null) {
                    break; // deleted meanwhile
                }
                v.add(x);
            }
            if (v.size() == values.length) {
                entries.add(new MapState.Entry(k, v));
            }
        }
        return new MapState(name, type, keySize, valueSize, maxEntries, flags, values.length, entries);
    }

    // --- the type's own ---

    /** The slot of the key at {@code off} in {@code key}, or -1. */
    protected abstract int find(MemorySegment key, long off);

    protected abstract long put(MemorySegment key, MemorySegment value, long how, int cpu);

    protected abstract long remove(MemorySegment key);

    protected final void write(int slot, MemorySegment value, int cpu) {
        MemorySegment.copy(value, 0, values[cpu], (long) slot * stride, valueSize);
    }

    protected final void clear(int slot) {
        for (MemorySegment v : values) {
            v.asSlice((long) slot * stride, stride).fill((byte) 0);
        }
    }

    /** {@code BPF_MAP_TYPE_ARRAY} and the array-shaped types: a u32 index, every entry present and zeroed at first. */
    static final class ArrayMap extends BpfMapBase {
        /** Storage: the values' segments, one per CPU. */
        static final int LAYOUT = 1;

        ArrayMap(int id, String name, int type, int valueSize, int maxEntries, int flags, int cpus, MemorySegment[] taken) {
            super(id, name, type, 4, valueSize, maxEntries, flags, cpus, taken);
        }

        @Override
        protected int layout() {
            return LAYOUT;
        }

        @Override
        protected List<Object> storage() {
            return List.of((Object) values); // the array itself, not its elements
        }

        @Override
        protected int find(MemorySegment key, long off) {
            long i = key.get(ValueLayout.JAVA_INT_UNALIGNED, off) & 0xffffffffL;
            return i < maxEntries() ? (int) i : -1;
        }

        @Override
        protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
            int slot = find(key);
            if (slot < 0) {
                return E2BIG;
            }
            if (how == BPF_NOEXIST) {
                return EEXIST; // every element of an array exists
            }
            write(slot, value, cpu);
            return 0;
        }

        @Override
        protected long remove(MemorySegment key) {
            if (type() == Verifier.MAP_XSKMAP) {
                // xsk_map_delete_elem: the slot names no socket again (fd 0: an AF_XDP socket's fd is never 0)
                int slot = find(key);
                if (slot < 0) {
                    return EINVAL;
                }
                clear(slot);
                return 0;
            }
            return EINVAL; // array elements cannot be deleted
        }

        @Override
        public List<byte[]> keys() {
            List<byte[]> k = new ArrayList<>();
            for (int i = 0; i < maxEntries(); i++) {
                k.add(new byte[] { (byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24) });
            }
            return k;
        }
    }

    /**
     * {@code BPF_MAP_TYPE_HASH} (and per-CPU, LRU, devmap hash): open addressing over a table twice the
     * entries, each key kept as little-endian 64-bit words (the last one zero-padded) beside the value
     * slots, no allocation per lookup. The LRU type evicts the least recently used entry when full; the
     * others refuse with E2BIG. Keys of up to 16 bytes have a lookup by words, which the JIT calls with
     * the key read straight off the program's stack.
     */
    static final class HashMap extends BpfMapBase {
        /** The largest key {@link #lookupSmall} takes: two words. */
        static final int SMALL_KEY = 16;

        /**
         * Storage: the values' segments, the key words, the table, the free slots, the recency stamps, the
         * scalars ({@link #FREE}, {@link #CLOCK}) and the lock, so two versions sharing them see one map.
         */
        static final int LAYOUT = 1;
        private static final int FREE = 0;
        private static final int CLOCK = 1;

        private final int words;
        private final long[] keys; // slot * words + w
        private final int[] table; // slot + 1, 0 empty, -1 deleted
        private final int[] freeSlots;
        private final long[] used;
        /** The free slots' count and the LRU clock, in an array another version may share. */
        private final long[] scalars;
        private final boolean lru;
        private final java.util.concurrent.locks.StampedLock lock;

        HashMap(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus, List<Object> taken) {
            super(id, name, type, keySize, valueSize, maxEntries, flags, cpus, taken == null ? null : (MemorySegment[]) taken.get(0));
            this.words = (keySize + 7) / 8;
            this.lru = type == Verifier.MAP_LRU_HASH || type == Verifier.MAP_LRU_PERCPU_HASH;
            int tableSize = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1;
            if (taken != null) {
                this.keys = (long[]) taken.get(1);
                this.table = (int[]) taken.get(2);
                this.freeSlots = (int[]) taken.get(3);
                this.used = (long[]) taken.get(4);
                this.scalars = (long[]) taken.get(5);
                this.lock = (java.util.concurrent.locks.StampedLock) taken.get(6);
                if (keys.length != words * maxEntries || table.length != tableSize || freeSlots.length != maxEntries
                        || used.length != maxEntries || scalars.length != 2) {
                    throw new IllegalArgumentException("map " + name + ": storage of another shape");
                }
                return;
            }
            this.keys = new long[words * maxEntries];
            this.table = new int[tableSize];
            this.freeSlots = new int[maxEntries];
            for (int i = 0; i < maxEntries; i++) {
                freeSlots[i] = maxEntries - 1 - i;
            }
            this.scalars = new long[] { maxEntries, 0 };
            this.used = new long[maxEntries];
            this.lock = new java.util.concurrent.locks.StampedLock();
        }

        @Override
        protected int layout() {
            return LAYOUT;
        }

        @Override
        protected List<Object> storage() {
            return List.of(values, keys, table, freeSlots, used, scalars, lock);
        }

        private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

        /** Word {@code w} of the key at {@code off}: eight bytes, or the last few zero-padded. */
        private long word(MemorySegment key, long off, int w) {
            int at = w * 8;
            int n = Math.min(8, keySize() - at);
            if (n == 8) {
                return key.get(WORD, off + at);
            }
            long v = 0;
            for (int b = n - 1; b >= 0; b--) {
                v = v << 8 | (key.get(ValueLayout.JAVA_BYTE, off + at + b) & 0xffL);
            }
            return v;
        }

        private static final long K0 = 0x9e3779b97f4a7c15L;
        private static final long K1 = 0xc2b2ae3d27d4eb4fL;

        /**
         * Word {@code w} of a key into its hash: each word multiplied on its own (the multiplies of a
         * key's words run side by side rather than one after the other) and folded by
         * {@link #finish}, which brings the product's high half, where every bit of the word counts, down
         * to the low bits a table index takes.
         */
        private static long mix(long h, long word, int w) {
            return h ^ Long.rotateLeft(word * ((w & 1) == 0 ? K0 : K1), 8 * (w >>> 1));
        }

        private static int finish(long h) {
            return (int) (h ^ h >>> 32);
        }

        private int hash(MemorySegment key, long off) {
            long h = 0;
            for (int w = 0; w < words; w++) {
                h = mix(h, word(key, off, w), w);
            }
            return finish(h);
        }

        /** The table index holding the key, or -1. */
        private int index(MemorySegment key, long off) {
            int mask = table.length - 1;
            for (int i = hash(key, off) & mask, n = 0; n < table.length; i = (i + 1) & mask, n++) {
                int t = table[i];
                if (t == 0) {
                    return -1;
                }
                if (t > 0 && same(t - 1, key, off)) {
                    return i;
                }
            }
            return -1;
        }

        private boolean same(int slot, MemorySegment key, long off) {
            for (int w = 0; w < words; w++) {
                if (keys[slot * words + w] != word(key, off, w)) {
                    return false;
                }
            }
            return true;
        }

        /** The slot of a key of one or two words ({@code w1} 0 for one), or -1: no loops over the key's bytes. */
        private int index(long w0, long w1) {
            long h = mix(0, w0, 0);
            if (words == 2) {
                h = mix(h, w1, 1);
            }
            int[] t = table;
            int mask = t.length - 1;
            for (int i = finish(h) & mask, n = 0; n < t.length; i = (i + 1) & mask, n++) {
                int e = t[i];
                if (e == 0) {
                    return -1;
                }
                int k = (e - 1) * words;
                if (e > 0 && keys[k] == w0 && (words == 1 || keys[k + 1] == w1)) {
                    return e - 1;
                }
            }
            return -1;
        }

        /** Lookups read optimistically (no lock taken) and retry under the lock if a writer intervened. */
        @Override
        protected int find(MemorySegment key, long off) {
            long stamp = lock.tryOptimisticRead();
            int slot = -1;
            if (stamp != 0) {
                try {
                    int i = index(key, off);
                    slot = i < 0 ? -1 : table[i] - 1;
                } catch (RuntimeException e) {
                    stamp = 0; // a table changing under us: read again under the lock
                }
            }
            if (stamp == 0 || !lock.validate(stamp)) {
                stamp = lock.readLock();
                try {
                    int i = index(key, off);
                    slot = i < 0 ? -1 : table[i] - 1;
                } finally {
                    lock.unlockRead(stamp);
                }
            }
            return touched(slot);
        }

        private int touched(int slot) {
            if (slot >= 0 && lru) {
                used[slot] = ++scalars[CLOCK]; // recency is a hint: a lost increment only ages an entry a little
            }
            return slot;
        }

        /**
         * {@code bpf_map_lookup_elem} of a key of at most {@link #SMALL_KEY} bytes, for the JIT: a key on
         * the stack is read as two words in place and probed without loops over its bytes; elsewhere
         * (a packet, a map value) it takes the general way.
         */
        long lookupSmall(Memory mem, long keyAddr, int region) {
            if (!mem.onStack(keyAddr, SMALL_KEY)) {
                return lookup(mem, keyAddr, region);
            }
            long w0 = mem.stackWord(keyAddr);
            long w1 = words == 1 ? 0 : mem.stackWord(keyAddr + 8);
            int n = keySize() & 7;
            if (n != 0) { // the last word's bytes past the key are not the key's
                long tail = -1L >>> (64 - 8 * n);
                if (words == 1) {
                    w0 &= tail;
                } else {
                    w1 &= tail;
                }
            }
            long stamp = lock.tryOptimisticRead();
            int slot = index(w0, w1);
            if (stamp == 0 || !lock.validate(stamp)) {
                stamp = lock.readLock();
                try {
                    slot = index(w0, w1);
                } finally {
                    lock.unlockRead(stamp);
                }
            }
            slot = touched(slot);
            return slot < 0 ? 0 : Memory.base(region) + (long) slot * stride;
        }

        @Override
        protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
            long stamp = lock.writeLock();
            try {
                return lockedPut(key, value, how, cpu);
            } finally {
                lock.unlockWrite(stamp);
            }
        }

        private long lockedPut(MemorySegment key, MemorySegment value, long how, int cpu) {
            int i = index(key, 0);
            if (i >= 0) {
                if (how == BPF_NOEXIST) {
                    return EEXIST;
                }
                int slot = table[i] - 1;
                write(slot, value, cpu);
                used[slot] = ++scalars[CLOCK];
                return 0;
            }
            if (how == BPF_EXIST) {
                return ENOENT;
            }
            if (scalars[FREE] == 0) {
                if (!lru) {
                    return E2BIG;
                }
                evictOldest();
            }
            int slot = freeSlots[(int) --scalars[FREE]];
            for (int w = 0; w < words; w++) {
                keys[slot * words + w] = word(key, 0, w);
            }
            clear(slot);
            write(slot, value, cpu);
            used[slot] = ++scalars[CLOCK];
            int mask = table.length - 1;
            for (int t = hash(key, 0) & mask;; t = (t + 1) & mask) {
                if (table[t] <= 0) {
                    table[t] = slot + 1;
                    return 0;
                }
            }
        }

        private void evictOldest() {
            int oldest = -1;
            for (int t = 0; t < table.length; t++) {
                if (table[t] > 0 && (oldest < 0 || used[table[t] - 1] < used[table[oldest] - 1])) {
                    oldest = t;
                }
            }
            if (oldest >= 0) {
                freeSlots[(int) scalars[FREE]++] = table[oldest] - 1;
                table[oldest] = -1;
            }
        }

        @Override
        protected long remove(MemorySegment key) {
            long stamp = lock.writeLock();
            try {
                return lockedRemove(key);
            } finally {
                lock.unlockWrite(stamp);
            }
        }

        private long lockedRemove(MemorySegment key) {
            int i = index(key, 0);
            if (i < 0) {
                return ENOENT;
            }
            freeSlots[(int) scalars[FREE]++] = table[i] - 1;
            table[i] = -1;
            return 0;
        }

        @Override
        public List<byte[]> keys() {
            long stamp = lock.readLock();
            try {
                return lockedKeys();
            } finally {
                lock.unlockRead(stamp);
            }
        }

        private List<byte[]> lockedKeys() {
            List<byte[]> k = new ArrayList<>();
            for (int t : table) {
                if (t > 0) {
                    byte[] key = new byte[keySize()];
                    for (int b = 0; b < key.length; b++) {
                        key[b] = (byte) (keys[(t - 1) * words + b / 8] >>> 8 * (b % 8));
                    }
                    k.add(key);
                }
            }
            return k;
        }
    }

    /**
     * {@code BPF_MAP_TYPE_LPM_TRIE}: keys are a u32 prefix length (host order) and the address bytes;
     * a lookup finds the entry with the longest prefix matching the key's data.
     */
    static final class LpmTrie extends BpfMapBase {
        /** Storage: the values' segment, the prefixes, their lengths, the count (an array of one) and the lock. */
        static final int LAYOUT = 1;

        private final byte[][] prefixes;
        private final int[] lengths;
        /** The entries' count, in an array another version may share. */
        private final int[] count;
        /** What every change and lookup holds: shared with another version that took the storage over. */
        private final Object lock;

        LpmTrie(int id, String name, int keySize, int valueSize, int maxEntries, int flags, List<Object> taken) {
            super(id, name, Verifier.MAP_LPM_TRIE, keySize, valueSize, maxEntries, flags, 1,
                    taken == null ? null : (MemorySegment[]) taken.get(0));
            if (taken != null) {
                prefixes = (byte[][]) taken.get(1);
                lengths = (int[]) taken.get(2);
                count = (int[]) taken.get(3);
                lock = taken.get(4);
                if (prefixes.length != maxEntries || lengths.length != maxEntries || count.length != 1) {
                    throw new IllegalArgumentException("map " + name + ": storage of another shape");
                }
                return;
            }
            prefixes = new byte[maxEntries][];
            lengths = new int[maxEntries];
            count = new int[1];
            lock = new Object();
        }

        @Override
        protected int layout() {
            return LAYOUT;
        }

        @Override
        protected List<Object> storage() {
            return List.of(values, prefixes, lengths, count, lock);
        }

        private int dataBits() {
            return (keySize() - 4) * 8;
        }

        private static boolean matches(byte[] prefix, int bits, MemorySegment key, long off) {
            for (int b = 0; b < bits; b++) {
                int have = (key.get(ValueLayout.JAVA_BYTE, off + 4 + b / 8) >> (7 - b % 8)) & 1;
                int want = (prefix[b / 8] >> (7 - b % 8)) & 1;
                if (have != want) {
                    return false;
                }
            }
            return true;
        }

        @Override
        protected int find(MemorySegment key, long off) {
            synchronized (lock) {
                return lockedFind(key, off);
            }
        }

        private int lockedFind(MemorySegment key, long off) {
            int bits = Math.min(key.get(ValueLayout.JAVA_INT_UNALIGNED, off), dataBits());
            int best = -1;
            for (int i = 0; i < count[0]; i++) {
                if (lengths[i] <= bits && matches(prefixes[i], lengths[i], key, off) && (best < 0 || lengths[i] > lengths[best])) {
                    best = i;
                }
            }
            return best;
        }

        private int exact(MemorySegment key) {
            int bits = key.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
            for (int i = 0; i < count[0]; i++) {
                if (lengths[i] == bits && matches(prefixes[i], bits, key, 0)) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        protected long put(MemorySegment key, MemorySegment value, long how, int cpu) {
            synchronized (lock) {
                return lockedPut(key, value, how, cpu);
            }
        }

        private long lockedPut(MemorySegment key, MemorySegment value, long how, int cpu) {
            int bits = key.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
            if (bits < 0 || bits > dataBits()) {
                return EINVAL;
            }
            int i = exact(key);
            if (i >= 0) {
                if (how == BPF_NOEXIST) {
                    return EEXIST;
                }
                write(i, value, cpu);
                return 0;
            }
            if (how == BPF_EXIST) {
                return ENOENT;
            }
            if (count[0] == maxEntries()) {
                return ENOMEM;
            }
            prefixes[count[0]] = key.asSlice(4, keySize() - 4).toArray(ValueLayout.JAVA_BYTE);
            lengths[count[0]] = bits;
            clear(count[0]);
            write(count[0], value, cpu);
            count[0]++;
            return 0;
        }

        @Override
        protected long remove(MemorySegment key) {
            synchronized (lock) {
                return lockedRemove(key);
            }
        }

        private long lockedRemove(MemorySegment key) {
            int i = exact(key);
            if (i < 0) {
                return ENOENT;
            }
            int last = --count[0];
            prefixes[i] = prefixes[last];
            lengths[i] = lengths[last];
            MemorySegment.copy(values[0], (long) last * stride, values[0], (long) i * stride, stride);
            return 0;
        }

        @Override
        public List<byte[]> keys() {
            synchronized (lock) {
                return lockedKeys();
            }
        }

        private List<byte[]> lockedKeys() {
            List<byte[]> k = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                byte[] key = new byte[keySize()];
                key[0] = (byte) lengths[i];
                key[1] = (byte) (lengths[i] >>> 8);
                System.arraycopy(prefixes[i], 0, key, 4, prefixes[i].length);
                k.add(key);
            }
            return k;
        }
    }
}

package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.HelperProto;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;

/**
 * A program loaded as {@code BPF_PROG_LOAD} loads one: verified for its type against its maps, its map
 * references turned into handles the helpers know, and compiled by the chosen engine. Each CPU runs it
 * in its own {@link Memory} ({@link #memory(int)}): the stack, the context and packet regions, and the
 * maps' values (that CPU's for per-CPU maps).
 */
public final class LoadedProgram implements BpfProg {
    /** Regions of a program's memory: the context, the packet, then one per map. */
    public static final int CTX_REGION = Memory.FIRST_FREE;
    public static final int PACKET_REGION = Memory.FIRST_FREE + 1;
    public static final int FIRST_MAP_REGION = Memory.FIRST_FREE + 2;
    /** What an {@code lddw} of map N becomes: an opaque handle the helpers decode (programs cannot use it otherwise). */
    static final long MAP_HANDLE = 0x7ead_0000_0000_0000L;
    /**
     * What a lookup in an array or hash of maps answers: this tag, the outer map's index among the
     * program's maps (bits 32..47) and the value slot naming the inner map (bits 0..31).
     */
    static final long INNER_HANDLE = 0x7eae_0000_0000_0000L;

    private static final java.util.concurrent.atomic.AtomicInteger IDS = new java.util.concurrent.atomic.AtomicInteger();
    /** Loaded programs by id, as a prog array names them ({@code bpf_prog_get}). */
    private static final java.util.Map<Integer, LoadedProgram> PROGRAMS = new java.util.concurrent.ConcurrentHashMap<>();
    /** {@code MAX_TAIL_CALL_CNT}. */
    public static final int MAX_TAIL_CALLS = 33;

    private final int id;
    private final java.util.concurrent.atomic.AtomicInteger refs = new java.util.concurrent.atomic.AtomicInteger(1);
    private final ThreadLocal<Memory> tailMemory = new ThreadLocal<>();
    private final String name;
    private final ProgType type;
    private final AttachType attach;
    private final Program program;
    private final Executable executable;
    /** The JIT's code with plain context and packet accesses ({@link Executable#plainCode}), or null: XDP's runs call it directly. */
    final Jit.Code plainCode;
    /**
     * Whether an XDP run must set the context's words past data and data_end ({@link XdpBuffer#run}): data_meta,
     * the queue's and the egress device's. False where the verifier found that nothing of the program reads them
     * ({@link #wholeXdpContext(Program, int[], boolean)}); true for any other program.
     */
    boolean wholeXdpContext = true;
    private final List<BpfMapBase> maps;
    private final String log;
    private final int processed;
    /** What the loader gave, kept for the hand-over on update: the instructions before any fixup, the engine asked for. */
    private final long[] original;
    private final String requestedEngine;
    private final Consumer<String> tracePipe;
    /** The runtime's own helpers as its caller gave them ({@link BpfSyscallImpl#progLoad}), for the hand-over. */
    volatile Helpers callerExtra;

    private LoadedProgram(int id, long[] original, String requestedEngine, Consumer<String> tracePipe, String name, ProgType type, AttachType attach, Program program, Executable executable, List<BpfMapBase> maps,
            String log, int processed) {
        this.id = id == 0 ? IDS.incrementAndGet() : id;
        if (id != 0) {
            IDS.accumulateAndGet(id, Math::max); // an adopted id: fresh ones come after it
        }
        this.original = original;
        this.requestedEngine = requestedEngine;
        this.tracePipe = tracePipe;
        this.name = name;
        this.type = type;
        this.attach = attach;
        this.program = program;
        this.executable = executable;
        this.plainCode = executable.plainCode();
        this.maps = maps;
        this.log = log;
        this.processed = processed;
    }

    /**
     * Verifies and compiles {@code insns}, whose {@code lddw} map references ({@code src} 1) index
     * {@code maps}. {@code extra} helpers (the XDP runtime's: redirect, adjust_head...) join the
     * standard ones. Throws the verifier's reason, its log attached.
     */
    public static LoadedProgram load(String name, long[] insns, ProgType type, List<BpfMapBase> maps, List<HelperProto> protos,
            Helpers extra, String engine, boolean verbose, Consumer<String> tracePipe) throws BpfException {
        return load(name, insns, type, AttachType.DEFAULT, maps, protos, extra, engine, verbose, tracePipe);
    }

    /** {@link #load}, for a program that expects to be attached as {@code attach} says (a devmap entry's, ...). */
    public static LoadedProgram load(String name, long[] insns, ProgType type, AttachType attach, List<BpfMapBase> maps,
            List<HelperProto> protos, Helpers extra, String engine, boolean verbose, Consumer<String> tracePipe) throws BpfException {
        return load(0, name, insns, type, attach, maps, protos, extra, engine, verbose, tracePipe);
    }

    /** {@link #load} under the id {@code id} (0: the next free one), as a program adopted on an update keeps its own. */
    static LoadedProgram load(int id, String name, long[] insns, ProgType type, AttachType attach, List<BpfMapBase> maps,
            List<HelperProto> protos, Helpers extra, String engine, boolean verbose, Consumer<String> tracePipe) throws BpfException {
        return load(id, name, insns, new int[0], type, attach, maps, protos, extra, engine, verbose, tracePipe);
    }

    /** {@link #load}, with the starts of the subprograms whose BTF return type is no int ({@code func_info}). */
    static LoadedProgram load(int id, String name, long[] insns, int[] nonScalarReturns, ProgType type, AttachType attach,
            List<BpfMapBase> maps, List<HelperProto> protos, Helpers extra, String engine, boolean verbose, Consumer<String> tracePipe)
            throws BpfException {
        return load(id, name, insns, nonScalarReturns, new int[0], type, attach, maps, protos, extra, engine, verbose, tracePipe);
    }

    /** {@link #load}, with the global functions the verifier checks apart ({@code BpfObject.ProgramDef#globalFuncs}). */
    static LoadedProgram load(int id, String name, long[] insns, int[] nonScalarReturns, int[] globalFuncs, ProgType type,
            AttachType attach, List<BpfMapBase> maps, List<HelperProto> protos, Helpers extra, String engine, boolean verbose,
            Consumer<String> tracePipe) throws BpfException {
        long[] original = insns.clone();
        Program checked = Program.of(name, insns);
        if (nonScalarReturns.length > 0 || globalFuncs.length > 0) {
            checked = checked.withNonScalarReturns(nonScalarReturns).withGlobalFuncs(globalFuncs);
        }
        Helpers helpers = standard(maps, tracePipe);
        if (extra != null) {
            extra.copyInto(helpers);
        }
        Verifier.Checked c = Verifier.check(checked, type, attach, maps, protos, f -> helpers.get(f) != null, verbose);
        Verifier.Result v = c.result();
        long[] code = v.program().instructions();
        for (int i = 0; i < code.length; i++) {
            if (Bpf.opcode(code[i]) == (Bpf.JMP | Bpf.CALL) && Bpf.src(code[i]) == Kfuncs.PSEUDO_KFUNC_CALL) {
                // a verified kfunc call: the runtime's helper for it
                code[i] = Bpf.encode(Bpf.JMP | Bpf.CALL, 0, 0, 0, Kfuncs.HELPER_BASE + Bpf.imm(code[i]));
                continue;
            }
            if (Bpf.opcode(code[i]) == (Bpf.LD | Bpf.IMM | Bpf.DW) && Bpf.src(code[i]) != 0) {
                int index = Bpf.imm(code[i]);
                long value = Bpf.src(code[i]) == Bpf.PSEUDO_MAP_FD ? MAP_HANDLE + index
                        : Memory.base(FIRST_MAP_REGION + index) + (Bpf.imm(code[i + 1]) & 0xffffffffL);
                code[i] = Bpf.encode(Bpf.LD | Bpf.IMM | Bpf.DW, Bpf.dst(code[i]), 0, 0, (int) value);
                code[i + 1] = Bpf.encode(0, 0, 0, 0, (int) (value >>> 32));
                i++;
            }
        }
        Program runnable = Program.of(name, code);
        Executable e = Engines.byName(engine, runnable, helpers, maps, c.bases(), type == ProgType.XDP && !c.movesPacket());
        LoadedProgram loaded = new LoadedProgram(id, original, engine, tracePipe, name, type, attach, runnable, e, List.copyOf(maps), v.log(), v.processed());
        loaded.wholeXdpContext = wholeXdpContext(runnable, c.bases(), c.movesPacket());
        loaded.nonScalarReturns = nonScalarReturns.clone();
        loaded.globalFuncs = globalFuncs.clone();
        PROGRAMS.put(loaded.id, loaded);
        return loaded;
    }

    /**
     * Whether something of a verified program may read the XDP context's words past data and data_end: a load from
     * the context at data_meta or after (the verifier's rewrite puts data_meta at 16, the queue's words from 24), a
     * call that moves the packet (its helper reads and writes data_meta), a tail call (the next program reads the
     * context as it is), or a call of any helper but the maps' lookup, update and delete (a helper given r1 may read
     * it). The driver reads data and data_end after the run ({@link XdpBuffer#data}), so those are always set.
     */
    static boolean wholeXdpContext(Program p, int[] bases, boolean movesPacket) {
        if (movesPacket || bases == null) {
            return true;
        }
        for (int i = 0; i < p.length(); i++) {
            if (p.isSecondHalf(i)) {
                continue;
            }
            int o = p.op[i];
            if (o == (Bpf.JMP | Bpf.CALL) && p.src[i] != Bpf.PSEUDO_CALL
                    && (p.src[i] != 0 || p.imm[i] < HelperProtos.MAP_LOOKUP_ELEM || p.imm[i] > HelperProtos.MAP_DELETE_ELEM)) {
                return true;
            }
            if ((o & 0x07) == Bpf.LDX && bases[i] == Verifier.BASE_CTX && p.off[i] >= 16) {
                return true;
            }
        }
        return false;
    }

    /** Every loaded program, by id: what {@code bpftool prog show} lists. */
    public static List<LoadedProgram> all() {
        List<LoadedProgram> l = new ArrayList<>(PROGRAMS.values());
        l.sort(java.util.Comparator.comparingInt(LoadedProgram::id));
        return l;
    }

    /** The starts of the subprograms whose BTF return type is no int, as its loader gave them. */
    private int[] nonScalarReturns = new int[0];
    /** Its global functions, as its loader gave them. */
    private int[] globalFuncs = new int[0];

    /** This program as the next version adopts it: what its loader gave, its maps by id. */
    org.modnet.ebpf.api.ProgHandOver handOver() {
        return new org.modnet.ebpf.api.ProgHandOver(id, name, type, attach, original, requestedEngine,
                maps.stream().map(BpfMapBase::id).toList(), callerExtra, tracePipe, nonScalarReturns, globalFuncs);
    }

    /** The program's id: what a prog array holds to name it for {@code bpf_tail_call}, and a devmap entry for its program. */
    public int id() {
        return id;
    }

    /** The loaded program of this id, or null (never loaded, or unloaded since). */
    public static LoadedProgram byId(int id) {
        return PROGRAMS.get(id);
    }

    /** Where the program expects to be attached. */
    public AttachType attachType() {
        return attach;
    }

    /**
     * Another holder — a pin, a device's hook — keeps the program loaded until it closes it too, as a
     * file descriptor or a bpffs pin holds a kernel program. The loader holds the first reference.
     */
    public LoadedProgram hold() {
        if (refs.getAndUpdate(r -> r > 0 ? r + 1 : r) <= 0) {
            throw new IllegalStateException("program " + id + " is unloaded");
        }
        return this;
    }

    /** A holder lets go; with the last one the program is unloaded and prog arrays naming it no longer reach it. */
    public void close() {
        if (refs.updateAndGet(r -> Math.max(0, r - 1)) == 0) {
            PROGRAMS.remove(id, this);
        }
    }

    /** Still loaded: some holder has not closed it. */
    public boolean loaded() {
        return refs.get() > 0;
    }

    /**
     * {@code bpf_tail_call}: runs the program that slot {@code index} of the prog array names, on the
     * same context and packet, and makes its result the caller's (which does not go on). Fails — and the
     * caller goes on — for an empty slot, a program of another type, or past {@link #MAX_TAIL_CALLS}.
     */
    static long tailCall(Memory m, long ctx, BpfMapBase progs, long index) {
        if (progs.type() != Verifier.MAP_PROG_ARRAY || index < 0 || index >= progs.maxEntries() || m.tailDepth >= MAX_TAIL_CALLS) {
            return -2;
        }
        byte[] v = progs.lookup(new byte[] { (byte) index, (byte) (index >>> 8), (byte) (index >>> 16), (byte) (index >>> 24) });
        int target = v == null ? 0 : (v[0] & 0xff) | (v[1] & 0xff) << 8 | (v[2] & 0xff) << 16 | (v[3] & 0xff) << 24;
        LoadedProgram p = PROGRAMS.get(target);
        if (p == null) {
            return -2;
        }
        Memory tm = p.tailMemory.get();
        if (tm == null) {
            tm = p.memory(m.cpu());
            p.tailMemory.set(tm);
        }
        for (int region : new int[] { CTX_REGION, PACKET_REGION }) {
            MemorySegment seg = m.region(region);
            if (seg != null) {
                tm.set(region, seg, region == PACKET_REGION);
            }
        }
        tm.attach(m.attachment());
        tm.tailDepth = m.tailDepth + 1;
        long r0 = p.executable.run(tm, ctx, 0);
        m.tailResult = r0;
        m.tailCalled = true;
        return 0;
    }

    /** The map behind a handle from {@code lddw}; a fault for anything else. */
    public static BpfMapBase map(List<BpfMapBase> maps, long handle) {
        if ((handle & 0xffff_0000_0000_0000L) == INNER_HANDLE) {
            return inner(maps, handle);
        }
        return maps.get(mapIndex(maps, handle));
    }

    /** The inner map an {@link #INNER_HANDLE} names; a fault when its slot was emptied since the lookup. */
    private static BpfMapBase inner(List<BpfMapBase> maps, long handle) {
        int outer = (int) (handle >>> 32) & 0xffff;
        int slot = (int) handle;
        BpfMapBase[] bySlot = outer < maps.size() ? maps.get(outer).innerBySlot : null;
        BpfMapBase m = bySlot != null && slot >= 0 && slot < bySlot.length ? bySlot[slot] : null;
        if (m == null) {
            throw new BpfFault("not a map: 0x" + Long.toHexString(handle));
        }
        return m;
    }

    /**
     * Where each map's inner maps' regions start, after the program's own maps' ({@code maps.size()} of
     * them): one region per value slot of each array or hash of maps, so values of two inner maps the
     * program looked up are both reachable at once.
     */
    private static int[] innerBases(List<BpfMapBase> maps) {
        int[] base = new int[maps.size()];
        int next = FIRST_MAP_REGION + maps.size();
        for (int i = 0; i < maps.size(); i++) {
            base[i] = next;
            next += maps.get(i).innerBySlot == null ? 0 : maps.get(i).innerBySlot.length;
        }
        return base;
    }

    /**
     * {@code bpf_map_lookup_elem}: a value's address in the program's numbering; for an array or hash of
     * maps the inner map's handle; in an inner map, the value's address in the region kept for the slot
     * that names it, which this lookup points at the inner map's values.
     */
    private static long lookup(List<BpfMapBase> maps, int[] innerBases, Memory m, long handle, long keyAddr) {
        if ((handle & 0xffff_0000_0000_0000L) == INNER_HANDLE) {
            BpfMapBase in = inner(maps, handle);
            int region = innerBases[(int) (handle >>> 32) & 0xffff] + (int) handle;
            in.attachAt(m, region);
            return in.lookup(m, keyAddr, region);
        }
        int i = mapIndex(maps, handle);
        BpfMapBase b = maps.get(i);
        if (b.innerBySlot != null) {
            int slot = b.innerSlot(m, keyAddr);
            return slot < 0 ? 0 : INNER_HANDLE | (long) i << 32 | slot;
        }
        return b.lookup(m, keyAddr, FIRST_MAP_REGION + i); // an address in this program's numbering
    }

    private static int mapIndex(List<BpfMapBase> maps, long handle) {
        long index = handle - MAP_HANDLE;
        if (index < 0 || index >= maps.size()) {
            throw new BpfFault("not a map: 0x" + Long.toHexString(handle));
        }
        return (int) index;
    }

    private static RingBufMap ringbuf(List<BpfMapBase> maps, long handle) {
        if (map(maps, handle) instanceof RingBufMap r) {
            return r;
        }
        throw new BpfFault("not a ring buffer: 0x" + Long.toHexString(handle));
    }

    /** The ring buffer whose region (in this program's numbering) a record's address is in. */
    private static RingBufMap ringbufOf(List<BpfMapBase> maps, long addr) {
        long index = (addr >>> Memory.SHIFT) - FIRST_MAP_REGION;
        if (index >= 0 && index < maps.size() && maps.get((int) index) instanceof RingBufMap r) {
            return r;
        }
        throw new BpfFault("not a ring buffer record: 0x" + Long.toHexString(addr));
    }

    /** The helpers every program type has: maps, time, random numbers, the CPU, trace_printk, csum_diff, ring buffers. */
    static Helpers standard(List<BpfMapBase> maps, Consumer<String> tracePipe) {
        Helpers h = new Helpers();
        int[] innerBases = innerBases(maps);
        h.register(HelperProtos.MAP_LOOKUP_ELEM, "bpf_map_lookup_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) -> lookup(maps, innerBases, m, r1, r2));
        h.register(HelperProtos.MAP_UPDATE_ELEM, "bpf_map_update_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) -> map(maps, r1).update(m, r2, r3, r4));
        h.register(HelperProtos.MAP_DELETE_ELEM, "bpf_map_delete_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) -> map(maps, r1).delete(m, r2));
        h.register(HelperProtos.MAP_PUSH_ELEM, "bpf_map_push_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) -> switch (map(maps, r1)) {
            case QueueStackMap q -> q.push(m, r2, r3);
            case BloomFilterMap b -> b.push(m, r2, r3);
            default -> -22L; // the verifier lets no other map through
        });
        h.register(HelperProtos.PERF_EVENT_OUTPUT, "bpf_perf_event_output", (OwnHelper) (r1, r2, r3, r4, r5, m) ->
                map(maps, r2) instanceof PerfEventArrayMap a ? a.output(m, r3, r4, r5) : -22L);
        h.register(HelperProtos.MAP_POP_ELEM, "bpf_map_pop_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) ->
                map(maps, r1) instanceof QueueStackMap q ? q.pop(m, r2, true) : -22L);
        h.register(HelperProtos.MAP_PEEK_ELEM, "bpf_map_peek_elem", (OwnHelper) (r1, r2, r3, r4, r5, m) -> switch (map(maps, r1)) {
            case QueueStackMap q -> q.pop(m, r2, false);
            case BloomFilterMap b -> b.peek(m, r2);
            default -> -22L;
        });
        h.register(HelperProtos.KTIME_GET_NS, "bpf_ktime_get_ns", (OwnHelper) (r1, r2, r3, r4, r5, m) -> System.nanoTime());
        h.register(HelperProtos.GET_PRANDOM_U32, "bpf_get_prandom_u32",
                (OwnHelper) (r1, r2, r3, r4, r5, m) -> ThreadLocalRandom.current().nextInt() & 0xffffffffL);
        h.register(HelperProtos.GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id", (OwnHelper) (r1, r2, r3, r4, r5, m) -> m.cpu());
        h.register(HelperProtos.TRACE_PRINTK, "bpf_trace_printk", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            MemorySegment fmt = m.slice(r1, r2, false);
            if (fmt == null) {
                throw new BpfFault("bpf_trace_printk: the format is outside the program's memory");
            }
            String line = TracePrintk.format(fmt, r3, r4, r5);
            if (tracePipe != null) {
                tracePipe.accept(line);
            }
            return line.length();
        });
        h.register(HelperProtos.TAIL_CALL, "bpf_tail_call", (OwnHelper) (r1, r2, r3, r4, r5, m) -> tailCall(m, r1, map(maps, r2), r3));
        h.register(HelperProtos.RINGBUF_OUTPUT, "bpf_ringbuf_output", (OwnHelper) (r1, r2, r3, r4, r5, m) -> ringbuf(maps, r1).output(m, r2, r3, r4));
        h.register(HelperProtos.RINGBUF_RESERVE, "bpf_ringbuf_reserve",
                (OwnHelper) (r1, r2, r3, r4, r5, m) -> ringbuf(maps, r1).reserve(r2, r3, FIRST_MAP_REGION + mapIndex(maps, r1)));
        h.register(HelperProtos.RINGBUF_SUBMIT, "bpf_ringbuf_submit", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            ringbufOf(maps, r1).commit(r1, false);
            return 0;
        });
        h.register(HelperProtos.RINGBUF_DISCARD, "bpf_ringbuf_discard", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            ringbufOf(maps, r1).commit(r1, true);
            return 0;
        });
        h.register(HelperProtos.RINGBUF_QUERY, "bpf_ringbuf_query", (OwnHelper) (r1, r2, r3, r4, r5, m) -> ringbuf(maps, r1).query(r2));
        h.register(HelperProtos.STRTOL, "bpf_strtol", (OwnHelper) (r1, r2, r3, r4, r5, m) -> Strtox.strtol(buffer(m, r1, r2), r3, result(m, r4)));
        h.register(HelperProtos.STRTOUL, "bpf_strtoul", (OwnHelper) (r1, r2, r3, r4, r5, m) -> Strtox.strtoul(buffer(m, r1, r2), r3, result(m, r4)));
        h.register(HelperProtos.CSUM_DIFF, "bpf_csum_diff", (OwnHelper) (r1, r2, r3, r4, r5, m) -> csumDiff(m, r1, r2, r3, r4, r5));
        return h;
    }

    /** A helper's input buffer: what the verifier proved readable, or a fault. */
    private static MemorySegment buffer(Memory m, long addr, long len) {
        MemorySegment s = m.slice(addr, len, false);
        if (s == null) {
            throw new BpfFault("the string is outside the program's memory");
        }
        return s;
    }

    /** A helper's 8-byte result: what the verifier proved writable, or a fault. */
    private static MemorySegment result(Memory m, long addr) {
        MemorySegment s = m.slice(addr, 8, true);
        if (s == null) {
            throw new BpfFault("the result is outside the program's writable memory");
        }
        return s;
    }

    /**
     * {@code bpf_csum_diff}: the ones' complement sum of {@code to} minus {@code from} (both multiples
     * of 4 bytes), added to {@code seed}, unfolded as the kernel returns it.
     */
    static long csumDiff(Memory m, long from, long fromSize, long to, long toSize, long seed) {
        if (fromSize % 4 != 0 || toSize % 4 != 0) {
            return -22;
        }
        long sum = seed & 0xffffffffL;
        MemorySegment f = fromSize == 0 ? null : m.slice(from, fromSize, false);
        MemorySegment t = toSize == 0 ? null : m.slice(to, toSize, false);
        if ((fromSize > 0 && f == null) || (toSize > 0 && t == null)) {
            throw new BpfFault("bpf_csum_diff: a buffer is outside the program's memory");
        }
        for (long i = 0; i < toSize; i += 4) {
            sum += t.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i) & 0xffffffffL;
        }
        for (long i = 0; i < fromSize; i += 4) {
            sum += ~f.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i) & 0xffffffffL;
        }
        while ((sum >>> 32) != 0) {
            sum = (sum & 0xffffffffL) + (sum >>> 32);
        }
        return sum;
    }

    /** A fresh address space for a CPU, with the maps' values attached. */
    public Memory memory(int cpu) {
        Memory m = new Memory(cpu);
        for (int i = 0; i < maps.size(); i++) {
            maps.get(i).attach(m, FIRST_MAP_REGION + i, cpu);
        }
        return m;
    }

    public long run(Memory memory, long r1, long r2) {
        return executable.run(memory, r1, r2);
    }

    public String name() {
        return name;
    }

    public ProgType type() {
        return type;
    }

    /** The program as it runs (context loads and map references rewritten), for {@code bpftool prog dump xlated}. */
    public Program program() {
        return program;
    }

    public String engine() {
        return executable.engine();
    }

    @Override
    public List<BpfMap> maps() {
        return java.util.Collections.unmodifiableList(maps);
    }

    /** The maps as this implementation's, for the engines and helpers. */
    List<BpfMapBase> mapsBase() {
        return maps;
    }

    @Override
    public long[] xlated() {
        return program.instructions();
    }

    @Override
    public boolean jited() {
        return executable.engine().equals("jit");
    }

    @Override
    public int verifiedInsns() {
        return processed;
    }

    @Override
    public XdpContext xdpContext(int cpu) {
        return new XdpBuffer(this, memory(cpu));
    }

    @Override
    public org.modnet.ebpf.api.TcContext tcContext(int cpu) {
        if (type != ProgType.SCHED_CLS) {
            throw new UnsupportedOperationException("not a tc program: " + type);
        }
        return new SkbBuffer(this, memory(cpu));
    }

    @Override
    public org.modnet.ebpf.api.SkFilterContext skFilterContext(int cpu) {
        if (type != ProgType.SOCKET_FILTER) {
            throw new UnsupportedOperationException("not a socket filter: " + type);
        }
        return new SkbBuffer(this, memory(cpu));
    }

    public String log() {
        return log;
    }

    /** Instructions the verifier processed. */
    public int processed() {
        return processed;
    }

    /** The map list a caller builds for {@link #load}. */
    public static List<BpfMapBase> none() {
        return new ArrayList<>();
    }
}

package org.modnet.ebpf.impl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.HelperProto;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;

/**
 * The verifier, in the kernel's spirit ({@code kernel/bpf/verifier.c}): it walks every path of the
 * program with the type of every register and stack slot — scalar (with unsigned and signed bounds),
 * pointer to the context, to the packet (with the range proved against {@code data_end}), to the
 * packet's end, to the stack, to a map, to a map value, or a map value that may be NULL — and refuses
 * the program at the first instruction that could read or write outside what it may, read a register or
 * stack byte never written, call a helper with the wrong argument, leak a pointer as its result (modnet's
 * own raw programs; XDP and tc may, as privileged kernels allow), loop for ever, or exceed the
 * complexity limit. Messages name the instruction and the reason, as the
 * kernel's do ("5: R3 invalid mem access 'scalar'"); with {@code verbose} the log has every instruction
 * processed with the registers' state, and every branch followed.
 *
 * <p>A verified program's context loads are rewritten for the runtime (XDP's u32 {@code data} becomes a
 * 64-bit pointer load).
 */
public final class Verifier {
    /** {@code BPF_COMPLEXITY_LIMIT_INSNS}. */
    public static final int COMPLEXITY_LIMIT = 1_000_000;

    /** The log's size limit, as the kernel's log buffer has one; what follows is not recorded. */
    public static final int LOG_LIMIT = 1 << 20;

    /** Map types the verifier knows by number. */
    public static final int MAP_HASH = 1;
    public static final int MAP_ARRAY = 2;
    public static final int MAP_PROG_ARRAY = 3;
    public static final int MAP_PERF_EVENT_ARRAY = 4;
    public static final int MAP_PERCPU_HASH = 5;
    public static final int MAP_PERCPU_ARRAY = 6;
    public static final int MAP_LRU_HASH = 9;
    public static final int MAP_LRU_PERCPU_HASH = 10;
    public static final int MAP_LPM_TRIE = 11;
    public static final int MAP_DEVMAP = 14;
    public static final int MAP_CPUMAP = 16;
    public static final int MAP_XSKMAP = 17;
    public static final int MAP_QUEUE = 22;
    public static final int MAP_STACK = 23;
    public static final int MAP_DEVMAP_HASH = 25;
    public static final int MAP_RINGBUF = 27;
    public static final int MAP_BLOOM_FILTER = 30;
    public static final int MAP_ARRAY_OF_MAPS = 12;
    public static final int MAP_HASH_OF_MAPS = 13;

    /** What verification gives: the program to run, its log and its statistics. */
    public record Result(Program program, String log, int processed, int maxStack) {
    }

    /** An access whose base register points into the context on every path that reaches it. */
    static final int BASE_CTX = 1;
    /** An access whose base register points into the packet on every path that reaches it. */
    static final int BASE_PACKET = 2;
    /** An access into the values of map {@code n} on every path: {@code BASE_MAP + n}. */
    static final int BASE_MAP = 16;

    /**
     * A verified program with, per load, store or atomic, what its base register points into whichever
     * way it is reached ({@link #BASE_CTX}, {@link #BASE_PACKET}, {@link #BASE_MAP} + the map; 0 for
     * anything else or different things on different paths): the JIT reaches those regions' segments
     * directly, as the kernel's JIT knows what a verified access points to.
     */
    /**
     * What the verifier found, beside its verdict: what each access's base points into ({@link #bases}), and
     * whether a call it reached may move the packet's start, end or metadata ({@code movesPacket}: a helper
     * with {@code changesPacket}, such as {@code bpf_xdp_adjust_head}); where none does, the context's packet
     * words hold for the whole run what the run began with, and the JIT may take them from its caller.
     */
    record Checked(Result result, int[] bases, boolean movesPacket) {
    }

    private enum Kind {
        NOT_INIT, SCALAR, CTX, PKT, PKT_END, PKT_META, STACK, MAP_PTR, MAP_VALUE, MAP_VALUE_OR_NULL, RAW,
        /** What a lookup in an array or hash of maps gives: an inner map (mapIndex: its outer map's template) or NULL. */
        MAP_PTR_OR_NULL,
        /** A ring buffer record a program reserved ({@code bpf_ringbuf_reserve}): memSize bytes, a reference to release. */
        ALLOC_MEM, ALLOC_MEM_OR_NULL
    }

    private static final long MASK32 = 0xffffffffL;

    /** A register's abstract value. */
    private static final class Reg {
        Kind kind = Kind.NOT_INIT;
        long umin;
        long umax = -1L;
        long smin = Long.MIN_VALUE;
        long smax = Long.MAX_VALUE;
        /** Pointers: the fixed offset; for the stack, from the frame pointer (negative). */
        long off;
        /** Pointers: the largest variable part added to the fixed offset. */
        long varMax;
        /** Packet pointers: which derivation (same id = same variable part); NULL checks: which lookup. */
        int id;
        /** Packet pointers: bytes proved readable from the pointer's base (off counted in). */
        long range;
        int frame;
        int mapIndex = -1;
        /** Reserved memory: its size. */
        long memSize;
        /** Scalars: unsigned bounds of the low 32 bits (the kernel's u32_min_value / u32_max_value), always true of the value. */
        long u32min;
        long u32max = MASK32;
        /** Scalars: signed bounds of the low 32 bits read as an int (s32_min_value / s32_max_value). */
        long s32min = Integer.MIN_VALUE;
        long s32max = Integer.MAX_VALUE;

        Reg copy() {
            Reg r = new Reg();
            r.kind = kind;
            r.umin = umin;
            r.umax = umax;
            r.smin = smin;
            r.smax = smax;
            r.off = off;
            r.varMax = varMax;
            r.id = id;
            r.range = range;
            r.frame = frame;
            r.mapIndex = mapIndex;
            r.memSize = memSize;
            r.u32min = u32min;
            r.u32max = u32max;
            r.s32min = s32min;
            r.s32max = s32max;
            return r;
        }

        static Reg scalar() {
            Reg r = new Reg();
            r.kind = Kind.SCALAR;
            return r;
        }

        static Reg constant(long v) {
            Reg r = scalar();
            r.setConst(v);
            return r;
        }

        void setConst(long v) {
            kind = Kind.SCALAR;
            umin = umax = v;
            smin = smax = v;
            u32min = u32max = v & MASK32;
            s32min = s32max = (int) v;
        }

        void unknown() {
            kind = Kind.SCALAR;
            umin = 0;
            umax = -1L;
            smin = Long.MIN_VALUE;
            smax = Long.MAX_VALUE;
            off = varMax = range = 0;
            id = 0;
            mapIndex = -1;
            u32min = 0;
            u32max = MASK32;
            s32min = Integer.MIN_VALUE;
            s32max = Integer.MAX_VALUE;
        }

        /** Unsigned bounds [lo, hi]; signed ones follow when they do not wrap. */
        void unsigned(long lo, long hi) {
            kind = Kind.SCALAR;
            umin = lo;
            umax = hi;
            if (hi >= 0 && lo >= 0) {
                smin = lo;
                smax = hi;
            } else {
                smin = Long.MIN_VALUE;
                smax = Long.MAX_VALUE;
            }
            if (lo >>> 32 == hi >>> 32) { // one 2^32 block: the low halves are ordered as the values are
                u32min = Math.max(u32min, lo & MASK32);
                u32max = Math.min(u32max, hi & MASK32);
            }
        }

        /** The low 32 bits' unsigned bounds, from what is known of them and of the whole value. */
        long lo32() {
            return umin >>> 32 == umax >>> 32 ? Math.max(u32min, umin & MASK32) : u32min;
        }

        long hi32() {
            return umin >>> 32 == umax >>> 32 ? Math.min(u32max, umax & MASK32) : u32max;
        }

        /** The low 32 bits' signed bounds, from what is known of them and of the whole value. */
        long slo32() {
            return smin >= Integer.MIN_VALUE && smax <= Integer.MAX_VALUE ? Math.max(s32min, smin) : s32min;
        }

        long shi32() {
            return smin >= Integer.MIN_VALUE && smax <= Integer.MAX_VALUE ? Math.min(s32max, smax) : s32max;
        }

        boolean isConst() {
            return kind == Kind.SCALAR && umin == umax;
        }

        boolean isPointer() {
            return kind != Kind.SCALAR && kind != Kind.NOT_INIT;
        }

        String describe() {
            return switch (kind) {
                case NOT_INIT -> "?";
                case SCALAR -> isConst() ? Long.toString(umin)
                        : "scalar(umin=" + umin + ",umax=" + Long.toUnsignedString(umax) + ",smin=" + smin + ",smax=" + smax
                                + (u32min != 0 || u32max != MASK32 ? ",u32_min=" + u32min + ",u32_max=" + u32max : "")
                                + (s32min != Integer.MIN_VALUE || s32max != Integer.MAX_VALUE ? ",s32_min=" + s32min + ",s32_max=" + s32max : "") + ")";
                case CTX -> "ctx(off=" + off + ")";
                case PKT -> "pkt(id=" + id + ",off=" + off + ",r=" + range + (varMax > 0 ? ",var<=" + varMax : "") + ")";
                case PKT_END -> "pkt_end";
                case PKT_META -> "pkt_meta(id=" + id + ",off=" + off + ",r=" + range + (varMax > 0 ? ",var<=" + varMax : "") + ")";
                case STACK -> "fp" + (frame > 0 ? "[" + frame + "]" : "") + (off < 0 ? "" : "+") + off;
                case MAP_PTR -> "map_ptr(" + mapIndex + ")";
                case MAP_VALUE -> "map_value(map=" + mapIndex + ",off=" + off + (varMax > 0 ? ",var<=" + varMax : "") + ")";
                case MAP_VALUE_OR_NULL -> "map_value_or_null(id=" + id + ")";
                case MAP_PTR_OR_NULL -> "map_ptr_or_null(id=" + id + ")";
                case RAW -> "mem";
                case ALLOC_MEM -> "alloc_mem(ref=" + id + ",size=" + memSize + ",off=" + off + (varMax > 0 ? ",var<=" + varMax : "") + ")";
                case ALLOC_MEM_OR_NULL -> "alloc_mem_or_null(ref=" + id + ",size=" + memSize + ")";
            };
        }

        /** The state's text; a scalar's id by {@code scalarIds}, which numbers them in the order met (links, not names, matter). */
        String key(Map<Integer, Integer> scalarIds) {
            int shown = kind == Kind.SCALAR && id != 0 ? scalarIds.computeIfAbsent(id, k -> scalarIds.size() + 1) : id;
            return kind.ordinal() + ":" + umin + ":" + umax + ":" + smin + ":" + smax + ":" + off + ":" + varMax + ":" + shown + ":"
                    + range + ":" + frame + ":" + mapIndex + ":" + memSize + ":" + u32min + ":" + u32max + ":" + s32min + ":" + s32max;
        }
    }

    /** One call frame: registers, and the stack's 512 bytes (their kind) with spilled registers. */
    private static final class Frame {
        final Reg[] regs = new Reg[11];
        /** 0 never written, 1 data, 2 part of a spilled register. */
        final byte[] slot = new byte[Bpf.STACK_SIZE];
        final Reg[] spill = new Reg[Bpf.STACK_SIZE / 8];
        int returnPc = -1;

        Frame copy() {
            Frame f = new Frame();
            for (int i = 0; i < 11; i++) {
                f.regs[i] = regs[i].copy();
            }
            System.arraycopy(slot, 0, f.slot, 0, slot.length);
            for (int i = 0; i < spill.length; i++) {
                f.spill[i] = spill[i] == null ? null : spill[i].copy();
            }
            f.returnPc = returnPc;
            return f;
        }
    }

    /**
     * A state kept at a prune point ({@code is_state_visited}'s explored states): {@code branches} counts
     * the paths still being explored below it, directly or through a later checkpoint; at 0 everything
     * that can follow it is verified, and a state it covers need not be walked again. A checkpoint still
     * being explored is an ancestor of the path (the walk is depth first): met again unchanged, the loop
     * between cannot end.
     */
    private static final class Checkpoint {
        final State state;
        final long key;
        final Checkpoint parent;
        int branches = 1;

        Checkpoint(State state, long key, Checkpoint parent) {
            this.state = state;
            this.key = key;
            this.parent = parent;
        }
    }

    /** Checkpoints kept per instruction and in all: beyond them a state is only compared, not kept. */
    private static final int CHECKPOINTS_PER_INSN = 16;
    private static final int CHECKPOINTS = 16384;

    private static final class State {
        List<Frame> frames = new ArrayList<>();
        int pc;
        /** The last checkpoint this path passed. */
        Checkpoint cp;
        /** References held on this path (ring buffer records reserved, not yet submitted or discarded): id to the reserving insn. */
        java.util.TreeMap<Integer, Integer> refs = new java.util.TreeMap<>();
        /** A global function's own walk: its frame 0 is that function's, whose exit hands back a number. */
        boolean global;

        State copy() {
            State s = new State();
            s.global = global;
            for (Frame f : frames) {
                s.frames.add(f.copy());
            }
            s.pc = pc;
            s.cp = cp;
            s.refs = new java.util.TreeMap<>(refs);
            return s;
        }

        Frame cur() {
            return frames.get(frames.size() - 1);
        }

        String key() {
            StringBuilder b = new StringBuilder();
            Map<Integer, Integer> scalarIds = new HashMap<>();
            for (Frame f : frames) {
                for (Reg r : f.regs) {
                    b.append(r.key(scalarIds)).append('|');
                }
                for (int i = 0; i < f.slot.length; i++) {
                    b.append(f.slot[i]);
                }
                for (Reg r : f.spill) {
                    b.append(r == null ? "-" : r.key(scalarIds)).append(';');
                }
                b.append(f.returnPc).append('#');
            }
            b.append(refs);
            return b.toString();
        }
    }

    private final Program p;
    private final ProgType type;
    private final AttachType attach;
    private final List<? extends MapSpec> maps;
    private final Map<Integer, HelperProto> protos;
    /** Whether the load has an implementation of a helper: one with a prototype but none is the kernel's NULL func_proto. */
    private final java.util.function.IntPredicate implemented;
    private final boolean verbose;
    private final StringBuilder log = new StringBuilder();
    private final long[] rewritten;
    /** The instructions some path reached; the others are dead code ({@code sanitize_dead_code}). */
    private final boolean[] reached;
    /** Per load, store or atomic: what its base pointed into on the paths seen so far; -1 before the first. */
    private final int[] bases;
    private final boolean[] ctxLoad;
    /** A call the verifier reached may move the packet ({@link Checked#movesPacket}). */
    private boolean packetMoved;
    private int nextId = 1;
    private int processed;
    private int maxStack;

    /** The program's maps (what lddw's map references index), then at {@code realMaps + i} map i's inner map template. */
    private final int realMaps;

    /**
     * Global functions by first instruction ({@code BTF_FUNC_GLOBAL}): 1 if BTF says it returns no int, then
     * its arguments' kinds (0 a number, 1 the context). A call to one is checked against these and gives an
     * unknown number; the function itself is verified once, apart, from those arguments ({@code do_check_subprogs}).
     */
    private final Map<Integer, int[]> globals = new HashMap<>();
    /** Global functions a reached call named, to verify after the main program; and those verified. */
    private final ArrayDeque<Integer> globalsCalled = new ArrayDeque<>();
    private final Set<Integer> globalsChecked = new HashSet<>();
    /** Per global function: whether it, or a function it calls, may move the packet (a helper with changesPacket). */
    private final Map<Integer, Boolean> movesPacket = new HashMap<>();

    /** The maps, then each one's inner map template ({@code inner_map_meta}, null for a map that holds no maps). */
    private static List<MapSpec> withTemplates(List<? extends MapSpec> maps) {
        List<MapSpec> all = new java.util.ArrayList<>(maps);
        for (MapSpec m : maps) {
            all.add(m.innerMap());
        }
        return all;
    }

    private Verifier(Program p, ProgType type, AttachType attach, List<? extends MapSpec> maps, List<HelperProto> helpers,
            java.util.function.IntPredicate implemented, boolean verbose) {
        this.p = p;
        this.implemented = implemented;
        this.type = type;
        this.attach = attach;
        this.maps = withTemplates(maps);
        this.realMaps = maps.size();
        this.protos = new HashMap<>();
        for (HelperProto h : helpers) {
            protos.put(h.id(), h);
        }
        this.verbose = verbose;
        this.rewritten = p.instructions();
        this.reached = new boolean[p.length()];
        this.bases = new int[p.length()];
        java.util.Arrays.fill(bases, -1);
        this.ctxLoad = new boolean[p.length()];
        int[] g = p.globalFuncs();
        for (int k = 0; k + 2 < g.length; k += 3 + g[k + 2]) {
            int[] desc = new int[1 + g[k + 2]];
            desc[0] = g[k + 1];
            System.arraycopy(g, k + 3, desc, 1, g[k + 2]);
            globals.put(g[k], desc);
        }
    }

    /**
     * Verifies the program: {@code maps} are what its {@code lddw} map references index (src 1, imm the
     * index), {@code helpers} the helpers its type may call. Throws the reason, with the log so far.
     */
    public static Result verify(Program p, ProgType type, List<? extends MapSpec> maps, List<HelperProto> helpers,
            boolean verbose) throws BpfException {
        return check(p, type, AttachType.DEFAULT, maps, helpers, verbose).result();
    }

    /** {@link #verify} for a program that expects to be attached as {@code attach} says. */
    public static Result verify(Program p, ProgType type, AttachType attach, List<? extends MapSpec> maps,
            List<HelperProto> helpers, boolean verbose) throws BpfException {
        return check(p, type, attach, maps, helpers, verbose).result();
    }

    /** {@link #verify}, with what each load reads from. */
    static Checked check(Program p, ProgType type, AttachType attach, List<? extends MapSpec> maps, List<HelperProto> helpers,
            boolean verbose) throws BpfException {
        return check(p, type, attach, maps, helpers, id -> true, verbose);
    }

    /**
     * {@link #check}, refusing a call to a helper the program type has a prototype for but the load
     * has no implementation of ({@code implemented} false), as the kernel refuses a helper whose
     * func_proto the program type does not give.
     */
    static Checked check(Program p, ProgType type, AttachType attach, List<? extends MapSpec> maps, List<HelperProto> helpers,
            java.util.function.IntPredicate implemented, boolean verbose) throws BpfException {
        Verifier v = new Verifier(p, type, attach, maps, helpers, implemented, verbose);
        try {
            v.run();
        } catch (Reject r) {
            String log = v.log.toString();
            throw new VerifierException(r.insn, r.getMessage(), log);
        }
        Program out = Program.of(p.name(), v.rewritten);
        int[] bases = new int[v.bases.length];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = Math.max(0, v.bases[i]);
        }
        return new Checked(new Result(out, v.log.toString(), v.processed, v.maxStack), bases, v.packetMoved);
    }

    /** A refusal with the verifier's log. */
    public static final class VerifierException extends BpfException {
        private static final long serialVersionUID = 1L;
        private final String log;

        VerifierException(int insn, String message, String log) {
            super(insn, message);
            this.log = log;
        }

        public String log() {
            return log;
        }
    }

    private static final class Reject extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int insn;

        Reject(int insn, String message) {
            super(message, null, false, false);
            this.insn = insn;
        }
    }

    private Reject reject(int insn, String message) {
        return new Reject(insn, message);
    }

    // --- the walk ---

    private void run() {
        checkControlFlow();
        checkFuncInfo();
        State init = new State();
        Frame f = new Frame();
        for (int i = 0; i < 11; i++) {
            f.regs[i] = new Reg();
        }
        Reg ctx = new Reg();
        ctx.kind = type == ProgType.RAW ? Kind.RAW : Kind.CTX;
        f.regs[1] = ctx;
        if (type == ProgType.RAW) {
            f.regs[2] = Reg.scalar();
        }
        f.regs[10] = stackPointer(0, 0);
        init.frames.add(f);
        ArrayDeque<State> work = new ArrayDeque<>();
        work.push(init);
        new Liveness().run();
        @SuppressWarnings("unchecked")
        List<Checkpoint>[] explored = new List[p.length()];
        while (true) {
            while (!work.isEmpty()) {
                State s = work.pop();
                if (verbose && s.pc != 0 && log.length() < LOG_LIMIT) {
                    log.append("from branch to ").append(s.pc).append(": ").append(regs(s)).append('\n');
                }
                walk(s, work, explored);
            }
            Integer g = globalsCalled.poll();
            if (g == null) {
                break;
            }
            if (globalsChecked.add(g)) {
                work.push(globalEntry(g));
            }
        }
        sanitizeDeadCode();
    }

    /** A global function's first state ({@code btf_prepare_func_args}): its arguments as BTF types them, nothing else known. */
    private State globalEntry(int start) {
        int[] desc = globals.get(start);
        State g = new State();
        g.global = true;
        g.pc = start;
        Frame gf = new Frame();
        for (int r = 0; r < 11; r++) {
            gf.regs[r] = new Reg();
        }
        for (int a = 1; a < desc.length; a++) {
            Reg arg = Reg.scalar();
            if (desc[a] == 1) {
                arg.kind = Kind.CTX;
            }
            gf.regs[a] = arg;
        }
        gf.regs[10] = stackPointer(0, 0);
        g.frames.add(gf);
        if (verbose && log.length() < LOG_LIMIT) {
            log.append("Validating global function at insn ").append(start).append(": ").append(regs(g)).append('\n');
        }
        return g;
    }

    /** The global function at {@code start}, or one it calls, may call a helper that moves the packet. */
    private boolean movesPacket(int start) {
        Boolean known = movesPacket.get(start);
        if (known != null) {
            return known;
        }
        boolean[] seen = new boolean[p.length()];
        ArrayDeque<Integer> q = new ArrayDeque<>(List.of(start));
        boolean moves = false;
        while (!q.isEmpty() && !moves) {
            int i = q.poll();
            if (i < 0 || i >= p.length() || seen[i]) {
                continue;
            }
            seen[i] = true;
            int o = p.op[i];
            int cls = o & 7;
            if (o == (Bpf.JMP | Bpf.CALL)) {
                if (p.src[i] == Bpf.PSEUDO_CALL) {
                    q.add(p.target(i));
                } else if (p.src[i] == 0 && protos.get(p.imm[i]) != null && protos.get(p.imm[i]).changesPacket()) {
                    moves = true;
                }
                q.add(i + 1);
            } else if (o == (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                q.add(i + 2);
            } else if ((cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) == Bpf.EXIT) {
                continue;
            } else if ((cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) == Bpf.JA) {
                q.add(p.target(i));
            } else if (cls == Bpf.JMP || cls == Bpf.JMP32) {
                q.add(i + 1);
                q.add(p.target(i));
            } else {
                q.add(i + 1);
            }
        }
        movesPacket.put(start, moves);
        return moves;
    }

    /** A packet-moving helper ran: every packet pointer of the state is a number now. */
    private static void invalidatePacket(State s) {
        for (Frame fr : s.frames) {
            for (int r = 0; r <= 10; r++) {
                if (samePacket(fr.regs[r].kind)) {
                    fr.regs[r] = Reg.scalar(); // the packet moved: old pointers are numbers now
                }
            }
            for (int k = 0; k < fr.spill.length; k++) {
                if (fr.spill[k] != null && samePacket(fr.spill[k].kind)) {
                    fr.spill[k] = Reg.scalar();
                }
            }
        }
    }

    /**
     * {@code sanitize_dead_code}: an instruction no path reaches (a branch the verifier proved never taken)
     * becomes {@code ja -1}, so that what it says (a write to the frame pointer, say, that the kernel checks
     * only where it is reached) never runs.
     */
    private void sanitizeDeadCode() {
        long trap = Bpf.encode(Bpf.JMP | Bpf.JA, 0, 0, -1, 0);
        for (int i = 0; i < reached.length; i++) {
            if (!reached[i] && !p.isSecondHalf(i)) {
                rewritten[i] = trap;
                if (p.op[i] == (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                    rewritten[i + 1] = trap;
                }
            }
        }
    }

    private Reg stackPointer(int frame, long off) {
        Reg r = new Reg();
        r.kind = Kind.STACK;
        r.frame = frame;
        r.off = off;
        return r;
    }

    /**
     * {@code check_btf_func}: a subprogram whose BTF prototype returns no int (void, a pointer) may not use
     * LD_ABS / LD_IND or tail calls, which return from it with an int.
     */
    private void checkFuncInfo() {
        int[] starts = p.nonScalarReturns();
        if (starts.length == 0) {
            return;
        }
        java.util.TreeSet<Integer> subprogs = new java.util.TreeSet<>();
        subprogs.add(0);
        for (int i = 0; i < p.length(); i++) {
            if (!p.isSecondHalf(i) && p.op[i] == (Bpf.JMP | Bpf.CALL) && p.src[i] == Bpf.PSEUDO_CALL) {
                subprogs.add(i + p.imm[i] + 1);
            }
        }
        for (int start : starts) {
            if (start <= 0 || start >= p.length()) {
                continue;
            }
            Integer next = subprogs.higher(start);
            int end = next == null ? p.length() : next;
            for (int i = start; i < end; i++) {
                if (p.isSecondHalf(i)) {
                    continue;
                }
                int mode = p.op[i] & 0xe0;
                if ((p.op[i] & 0x07) == Bpf.LD && (mode == Bpf.ABS || mode == Bpf.IND)) {
                    throw reject(i, "LD_ABS is only allowed in functions that return 'int'.");
                }
                if (p.op[i] == (Bpf.JMP | Bpf.CALL) && p.src[i] == 0 && p.imm[i] == HelperProtos.TAIL_CALL) {
                    throw reject(i, "tail_call is only allowed in functions that return 'int'.");
                }
            }
        }
    }

    /** Every instruction reachable; exits and jumps stay inside the program (checked by {@link Program}). */
    private void checkControlFlow() {
        int n = p.length();
        boolean[] seen = new boolean[n];
        ArrayDeque<Integer> q = new ArrayDeque<>();
        q.add(0);
        while (!q.isEmpty()) {
            int i = q.poll();
            if (i < 0 || i >= n || seen[i]) {
                continue;
            }
            seen[i] = true;
            int o = p.op[i];
            int cls = o & 7;
            if (o == (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                seen[i + 1] = true;
                q.add(i + 2);
            } else if ((cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) == Bpf.EXIT) {
                continue;
            } else if ((cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) == Bpf.JA) {
                q.add(p.target(i));
            } else if (cls == Bpf.JMP && (o & 0xf0) == Bpf.CALL) {
                if (p.src[i] == Bpf.PSEUDO_CALL) {
                    q.add(p.target(i));
                }
                q.add(i + 1);
            } else if (cls == Bpf.JMP || cls == Bpf.JMP32) {
                q.add(i + 1);
                q.add(p.target(i));
            } else {
                q.add(i + 1);
            }
        }
        for (int i = 0; i < n; i++) {
            if (!seen[i]) {
                throw reject(i, "unreachable insn " + i);
            }
        }
    }

    /** A 64-bit digest of a state's text: states are compared by it (equal text, equal digest). */
    private static long digest(String key) {
        long h = 0xcbf29ce484222325L;
        long g = 0x9e3779b97f4a7c15L;
        for (int k = 0; k < key.length(); k++) {
            char c = key.charAt(k);
            h = (h ^ c) * 0x100000001b3L;
            g = (g + c) * 0xc2b2ae3d27d4eb4fL;
            g ^= g >>> 29;
        }
        return h ^ Long.rotateLeft(g, 32);
    }

    private int kept;

    private void walk(State s, ArrayDeque<State> work, List<Checkpoint>[] explored) {
        while (true) {
            int i = s.pc;
            if (++processed > COMPLEXITY_LIMIT) {
                throw reject(i, "BPF program is too large. Processed " + processed + " insn");
            }
            if (isBranchTarget(i)) {
                long key = digest(s.key());
                List<Checkpoint> here = explored[i];
                if (here == null) {
                    here = explored[i] = new ArrayList<>();
                }
                for (Checkpoint c : here) {
                    if (c.branches > 0) {
                        if (c.key == key) {
                            throw reject(i, "infinite loop detected at insn " + i);
                        }
                    } else if (covers(c.state, s, i)) {
                        if (verbose && log.length() < LOG_LIMIT) {
                            log.append(i).append(": safe (a verified state covers this one)\n");
                        }
                        endPath(s);
                        return;
                    }
                }
                if (here.size() < CHECKPOINTS_PER_INSN && kept < CHECKPOINTS) {
                    Checkpoint c = new Checkpoint(s.copy(), key, s.cp);
                    here.add(c);
                    kept++;
                    s.cp = c;
                }
            }
            if (verbose && log.length() < LOG_LIMIT) {
                log.append(i).append(": ").append(Disassembler.insn(rewrittenText(i))).append(" ; ").append(regs(s)).append('\n');
            }
            Boolean more = step(s, work);
            if (more == null || !more) {
                endPath(s);
                return;
            }
        }
    }

    /** {@code update_branch_counts}: a path ended; checkpoints with nothing left below them are complete. */
    private static void endPath(State s) {
        for (Checkpoint c = s.cp; c != null; c = c.parent) {
            if (--c.branches > 0) {
                break;
            }
        }
    }

    // --- pruning: states_equal with liveness and precision ---

    /** Per instruction, before it runs: registers read later (bit r), and stack slots (bit n: bytes 8n..8n+7 of the frame array). */
    private int[] liveRegs;
    private long[] liveSlots;
    /** Per instruction: registers and slots whose scalar value can still decide something (a branch, a bound, a helper's argument). */
    private int[] preciseRegs;
    private long[] preciseSlots;

    /**
     * {@code states_equal} with {@code RANGE_WITHIN}: every register and slot the rest of the program may
     * read holds in {@code cur} something {@code old}'s walk already proved safe — the same pointer with no
     * less range and no wider variable part, a scalar within old's bounds where its value still matters
     * (else any scalar: the kernel's imprecise scalars), anything where old had nothing.
     */
    private boolean covers(State old, State cur, int pc) {
        if (old.frames.size() != cur.frames.size() || !old.refs.keySet().equals(cur.refs.keySet()) || old.global != cur.global) {
            return false;
        }
        Map<Integer, Integer> ids = new HashMap<>();
        Map<Integer, Integer> back = new HashMap<>();
        tmpIds = 0;
        int last = old.frames.size() - 1;
        for (int k = 0; k <= last; k++) {
            Frame o = old.frames.get(k);
            Frame c = cur.frames.get(k);
            if (o.returnPc != c.returnPc) {
                return false;
            }
            int live;
            int precise;
            long slots;
            long preciseS;
            if (k == last) {
                live = liveRegs[pc];
                precise = preciseRegs[pc];
                slots = liveSlots[pc];
                preciseS = preciseSlots[pc];
            } else {
                // a caller: what it reads after the call returns; its stack in full (the callee may reach it)
                int ret = old.frames.get(k + 1).returnPc;
                live = liveRegs[ret] & 0x7c0;
                precise = live;
                slots = -1L;
                preciseS = -1L;
            }
            for (int r = 0; r <= 10; r++) {
                if ((live >> r & 1) != 0 && !regSafe(o.regs[r], c.regs[r], (precise >> r & 1) != 0, ids, back)) {
                    return false;
                }
            }
            for (int n = 0; n < Bpf.STACK_SIZE / 8; n++) {
                if ((slots >> n & 1) == 0) {
                    continue;
                }
                int lo = n * 8;
                if (o.slot[lo] == 2 && o.spill[n] != null) {
                    for (int b = lo; b < lo + 8; b++) {
                        if (o.slot[b] != c.slot[b]) {
                            return false;
                        }
                    }
                    if (c.spill[n] == null || !regSafe(o.spill[n], c.spill[n], (preciseS >> n & 1) != 0, ids, back)) {
                        return false;
                    }
                    continue;
                }
                for (int b = lo; b < lo + 8; b++) {
                    if (o.slot[b] == 0) {
                        continue; // old never wrote it and verified: nothing reads it
                    }
                    if (c.slot[b] == 0 || o.slot[b] == 2 && c.slot[b] != 2) {
                        return false;
                    }
                    if (c.slot[b] == 2 && (c.spill[n] == null || c.spill[n].kind != Kind.SCALAR)) {
                        return false; // old read data here; cur would fill a pointer
                    }
                }
            }
        }
        return true;
    }

    /** {@code idmap->tmp_id_gen}: ids standing for cur's unlinked scalars in one comparison, each its own (negative: no real id is). */
    private int tmpIds;

    /** {@code regsafe}. */
    private boolean regSafe(Reg old, Reg cur, boolean precise, Map<Integer, Integer> ids, Map<Integer, Integer> back) {
        if (old.kind == Kind.NOT_INIT) {
            return true;
        }
        if (old.kind != cur.kind) {
            return false;
        }
        return switch (old.kind) {
            // check_scalar_ids: scalars old had linked (sync_linked_regs narrowed them together) must be linked alike in cur
            case SCALAR -> !precise || Long.compareUnsigned(old.umin, cur.umin) <= 0 && Long.compareUnsigned(cur.umax, old.umax) <= 0
                    && old.smin <= cur.smin && cur.smax <= old.smax && old.lo32() <= cur.lo32() && cur.hi32() <= old.hi32()
                    && old.slo32() <= cur.slo32() && cur.shi32() <= old.shi32()
                    && (old.id == 0 || sameId(old.id, cur.id != 0 ? cur.id : -(++tmpIds), ids, back));
            case PKT, PKT_META -> old.off == cur.off && cur.varMax <= old.varMax && old.range <= cur.range && sameId(old.id, cur.id, ids, back);
            case MAP_VALUE -> old.mapIndex == cur.mapIndex && old.off == cur.off && cur.varMax <= old.varMax;
            case MAP_VALUE_OR_NULL -> old.mapIndex == cur.mapIndex && old.off == cur.off && sameId(old.id, cur.id, ids, back);
            case ALLOC_MEM, ALLOC_MEM_OR_NULL -> old.memSize == cur.memSize && old.off == cur.off && cur.varMax <= old.varMax
                    && sameId(old.id, cur.id, ids, back);
            case STACK -> old.frame == cur.frame && old.off == cur.off;
            case MAP_PTR -> old.mapIndex == cur.mapIndex;
            case MAP_PTR_OR_NULL -> old.mapIndex == cur.mapIndex && sameId(old.id, cur.id, ids, back);
            default -> old.off == cur.off && old.varMax == cur.varMax; // ctx, pkt_end, raw memory
        };
    }

    /** {@code check_ids}: ids must correspond one to one between the two states. */
    private static boolean sameId(int old, int cur, Map<Integer, Integer> ids, Map<Integer, Integer> back) {
        Integer o = ids.putIfAbsent(old, cur);
        Integer c = back.putIfAbsent(cur, old);
        return (o == null || o == cur) && (c == null || c == old);
    }

    /**
     * What the pruning may ignore, found once before the walk over each function's instructions (calls
     * are steps): which registers and slots are read later (liveness), and which scalars' values can
     * still decide something (a conservative, static form of the kernel's precision marking: operands of
     * conditional jumps, of 64-bit add/sub which may move a pointer, helper and function arguments,
     * return values, and what flows into them, through the stack too).
     */
    private final class Liveness {
        private static final long ALL = -1L;
        private final int n = p.length();
        /** Per instruction, before it: registers that may point into a stack. */
        private final int[] mayStack = new int[n];
        private boolean stackInMemory;

        void run() {
            forward();
            liveRegs = new int[n];
            liveSlots = new long[n];
            preciseRegs = new int[n];
            preciseSlots = new long[n];
            boolean changed = true;
            while (changed) {
                changed = false;
                for (int i = n - 1; i >= 0; i--) {
                    if (p.isSecondHalf(i)) {
                        continue;
                    }
                    int oR = 0;
                    int oP = 0;
                    long oS = 0;
                    long oPS = 0;
                    for (int t : successors(i)) {
                        if (t >= 0 && t < n) {
                            oR |= liveRegs[t];
                            oP |= preciseRegs[t];
                            oS |= liveSlots[t];
                            oPS |= preciseSlots[t];
                        }
                    }
                    long[] in = backward(i, oR, oP, oS, oPS);
                    if ((int) in[0] != liveRegs[i] || (int) in[1] != preciseRegs[i] || in[2] != liveSlots[i] || in[3] != preciseSlots[i]) {
                        liveRegs[i] = (int) in[0] | liveRegs[i];
                        preciseRegs[i] = (int) in[1] | preciseRegs[i];
                        liveSlots[i] |= in[2];
                        preciseSlots[i] |= in[3];
                        changed = true;
                    }
                }
            }
        }

        private int[] successors(int i) {
            int o = p.op[i];
            int cls = o & 7;
            if (o == (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                return new int[] { i + 2 };
            }
            if (cls == Bpf.JMP || cls == Bpf.JMP32) {
                int op = o & 0xf0;
                if (op == Bpf.EXIT) {
                    return new int[0];
                }
                if (op == Bpf.CALL) {
                    return new int[] { i + 1 };
                }
                if (op == Bpf.JA) {
                    return new int[] { p.target(i) };
                }
                return new int[] { i + 1, p.target(i) };
            }
            return new int[] { i + 1 };
        }

        private void forward() {
            mayStack[0] = 1 << 10;
            for (int i = 0; i < n; i++) {
                if (!p.isSecondHalf(i) && p.op[i] == (Bpf.JMP | Bpf.CALL) && p.src[i] == Bpf.PSEUDO_CALL) {
                    int t = p.target(i);
                    if (t >= 0 && t < n) {
                        mayStack[t] |= 0x43e; // a function's arguments may point into its callers' stacks
                    }
                }
            }
            boolean changed = true;
            while (changed) {
                changed = false;
                for (int i = 0; i < n; i++) {
                    if (p.isSecondHalf(i)) {
                        continue;
                    }
                    int in = mayStack[i];
                    int cls = p.op[i] & 7;
                    if (cls == Bpf.STX && (in >> p.src[i] & 1) != 0 && !stackInMemory) {
                        stackInMemory = true;
                        changed = true;
                    }
                    int out = mayStackAfter(i, in);
                    for (int t : successors(i)) {
                        if (t >= 0 && t < n && (mayStack[t] | out) != mayStack[t]) {
                            mayStack[t] |= out;
                            changed = true;
                        }
                    }
                }
            }
        }

        private int mayStackAfter(int i, int in) {
            int o = p.op[i];
            int cls = o & 7;
            int d = 1 << p.dst[i];
            int sb = 1 << p.src[i];
            boolean x = (o & Bpf.X) != 0;
            switch (cls) {
                case Bpf.ALU64 -> {
                    int op = o & 0xf0;
                    if (op == Bpf.MOV) {
                        return x && p.off[i] == 0 && (in & sb) != 0 ? in | d : in & ~d;
                    }
                    if (op == Bpf.ADD || op == Bpf.SUB) {
                        return x && (in & sb) != 0 ? in | d : in;
                    }
                    return in & ~d;
                }
                case Bpf.ALU, Bpf.LD -> {
                    return (o & 0xe0) == Bpf.ABS || (o & 0xe0) == Bpf.IND ? in & ~0x3f : in & ~d;
                }
                case Bpf.LDX -> {
                    return stackInMemory ? in | d : in & ~d;
                }
                case Bpf.STX -> {
                    if ((o & 0xe0) == Bpf.ATOMIC && stackInMemory) {
                        return in | sb | 1;
                    }
                    return in;
                }
                case Bpf.JMP -> {
                    if ((o & 0xf0) == Bpf.CALL) {
                        return p.src[i] == Bpf.PSEUDO_CALL ? in & ~0x3e | 1 : in & ~0x3f;
                    }
                    return in;
                }
                default -> {
                    return in;
                }
            }
        }

        /** The slots a frame-pointer access at {@code off} of {@code size} bytes touches. */
        private long slotsOf(int off, int size) {
            int lo = off + Bpf.STACK_SIZE;
            if (lo < 0 || lo + size > Bpf.STACK_SIZE || size <= 0) {
                return ALL;
            }
            long m = 0;
            for (int k = lo / 8; k <= (lo + size - 1) / 8; k++) {
                m |= 1L << k;
            }
            return m;
        }

        /** Live registers, precise registers, live slots, precise slots before {@code i}, from after it. */
        private long[] backward(int i, int oR, int oP, long oS, long oPS) {
            int o = p.op[i];
            int cls = o & 7;
            int d = p.dst[i];
            int sr = p.src[i];
            int db = 1 << d;
            int sb = 1 << sr;
            boolean x = (o & Bpf.X) != 0;
            int R = oR;
            int P = oP;
            long S = oS;
            long PS = oPS;
            switch (cls) {
                case Bpf.ALU, Bpf.ALU64 -> {
                    int op = o & 0xf0;
                    boolean readsSrc = x && op != Bpf.END && op != Bpf.NEG;
                    int src = readsSrc ? sb : 0;
                    if (op == Bpf.MOV) {
                        R = oR & ~db | src;
                        P = oP & ~db | ((oP & db) != 0 ? src : 0);
                    } else {
                        R = oR | db | src;
                        P = oP & ~db | ((oP & db) != 0 ? db | src : 0);
                        if (cls == Bpf.ALU64 && readsSrc && (op == Bpf.ADD || op == Bpf.SUB)) {
                            P |= db | sb; // may move a pointer: its variable part is checked against bounds
                        }
                    }
                }
                case Bpf.LD -> {
                    if ((o & 0xe0) == Bpf.ABS || (o & 0xe0) == Bpf.IND) {
                        // a legacy packet load reads r6 (the skb) and its index, and clobbers r0-r5 as a call does
                        int index = (o & 0xe0) == Bpf.IND ? sb : 0;
                        R = oR & ~0x3f | 1 << 6 | index;
                        P = oP & ~0x3f | index;
                    } else {
                        R = oR & ~db;
                        P = oP & ~db;
                    }
                }
                case Bpf.LDX -> {
                    R = oR & ~db | sb;
                    P = oP & ~db;
                    long m = sr == 10 ? slotsOf(p.off[i], Bpf.bytes(o)) : (mayStack[i] & sb) != 0 ? ALL : 0;
                    S = oS | m;
                    if ((oP & db) != 0) {
                        PS = oPS | m;
                    }
                }
                case Bpf.ST, Bpf.STX -> {
                    boolean atomic = (o & 0xe0) == Bpf.ATOMIC;
                    int src = cls == Bpf.STX ? sb : 0;
                    R = oR | db | src;
                    long m = d == 10 ? slotsOf(p.off[i], Bpf.bytes(o)) : (mayStack[i] & db) != 0 ? ALL : 0;
                    if (atomic) {
                        R |= p.imm[i] == Bpf.CMPXCHG ? 1 : 0;
                        P = oP | src | (p.imm[i] == Bpf.CMPXCHG ? 1 : 0);
                        S = oS | m;
                    } else if (d == 10) {
                        boolean full = Bpf.bytes(o) == 8 && ((p.off[i] + Bpf.STACK_SIZE) & 7) == 0 && m != ALL;
                        if ((oPS & m) != 0) {
                            P = oP | src;
                        }
                        if (full) {
                            S = oS & ~m;
                            PS = oPS & ~m;
                        }
                    } else if (m != 0) {
                        P = oP | src; // into a stack we cannot name: a caller's slot, maybe one that matters
                    }
                }
                case Bpf.JMP, Bpf.JMP32 -> {
                    int op = o & 0xf0;
                    if (op == Bpf.EXIT) {
                        R = 1;
                        P = 1;
                        S = 0;
                        PS = 0;
                    } else if (op == Bpf.CALL) {
                        // a helper reads the arguments its prototype has; a function what its body reads
                        int args;
                        int preciseArgs;
                        if (sr == Bpf.PSEUDO_CALL) {
                            int t = p.target(i);
                            args = t >= 0 && t < n ? liveRegs[t] & 0x3e : 0x3e;
                            preciseArgs = t >= 0 && t < n ? preciseRegs[t] & 0x3e : 0x3e;
                        } else if (sr == Kfuncs.PSEUDO_KFUNC_CALL) {
                            Kfuncs.Kfunc k = Kfuncs.byId(p.imm[i]);
                            args = k == null ? 0x3e : (1 << (k.written().length + 2)) - 2; // the context, then its memory
                            preciseArgs = args;
                        } else {
                            HelperProto h = protos.get(p.imm[i]);
                            args = h == null ? 0x3e : (1 << (h.args().size() + 1)) - 2;
                            preciseArgs = args;
                        }
                        R = oR & ~0x3f | args;
                        P = oP & ~0x3f | preciseArgs;
                        if ((mayStack[i] & 0x3e) != 0) {
                            S = ALL; // the callee may read what its arguments point to
                            if (sr == Bpf.PSEUDO_CALL) {
                                PS = ALL;
                            }
                        }
                    } else if (op != Bpf.JA) {
                        int src = x ? sb : 0;
                        R = oR | db | src;
                        P = oP | db | src;
                    }
                }
                default -> {
                }
            }
            return new long[] { R, P, S, PS };
        }
    }

    private long rewrittenText(int i) {
        return rewritten[i];
    }

    private boolean isBranchTarget(int i) {
        return branchTargets().contains(i);
    }

    private Set<Integer> targets;

    private Set<Integer> branchTargets() {
        if (targets == null) {
            targets = new HashSet<>();
            for (int i = 0; i < p.length(); i++) {
                int o = p.op[i];
                int cls = o & 7;
                if (!p.isSecondHalf(i) && (cls == Bpf.JMP || cls == Bpf.JMP32) && (o & 0xf0) != Bpf.EXIT && (o & 0xf0) != Bpf.CALL) {
                    targets.add(p.target(i));
                }
            }
        }
        return targets;
    }

    private static String regs(State s) {
        StringBuilder b = new StringBuilder();
        Frame f = s.cur();
        for (int r = 0; r <= 10; r++) {
            if (f.regs[r].kind != Kind.NOT_INIT) {
                b.append(" R").append(r).append('=').append(f.regs[r].describe());
            }
        }
        return b.toString().strip();
    }

    /** Executes one instruction abstractly; false when the path ends, and branches pushed on {@code work}. */
    private Boolean step(State s, ArrayDeque<State> work) {
        int i = s.pc;
        int o = p.op[i];
        int cls = o & 7;
        Frame f = s.cur();
        reached[i] = true;
        if (p.dst[i] == 10 && (cls == Bpf.ALU || cls == Bpf.ALU64 || cls == Bpf.LDX || o == (Bpf.LD | Bpf.IMM | Bpf.DW))) {
            throw reject(i, "frame pointer is read only"); // check_reg_arg: where the write is reached, as the kernel checks it
        }
        switch (cls) {
            case Bpf.ALU, Bpf.ALU64 -> {
                alu(i, f, o, cls == Bpf.ALU64);
                s.pc++;
            }
            case Bpf.LD -> {
                if ((o & 0xe0) == Bpf.ABS || (o & 0xe0) == Bpf.IND) {
                    ldAbs(i, s, f, o);
                    if (s.frames.size() > 1) {
                        // gen_ld_abs's hidden exit: a failed load returns 0 from the subprogram, a return
                        // its caller must allow for (the main program's ends the run, nothing to follow)
                        State fail = s.copy();
                        fail.cur().regs[0] = Reg.constant(0);
                        if (exit(i, fail)) {
                            if (fail.cp != null) {
                                fail.cp.branches++;
                            }
                            work.push(fail);
                        }
                    }
                    s.pc++;
                    return true;
                }
                Reg r;
                if (p.src[i] == Bpf.PSEUDO_MAP_FD) {
                    int index = p.imm[i];
                    if (index < 0 || index >= realMaps) {
                        throw reject(i, "fd " + index + " is not pointing to valid bpf_map");
                    }
                    r = new Reg();
                    r.kind = Kind.MAP_PTR;
                    r.mapIndex = index;
                } else if (p.src[i] == Bpf.PSEUDO_MAP_VALUE) {
                    int index = p.imm[i];
                    if (index < 0 || index >= realMaps) {
                        throw reject(i, "fd " + index + " is not pointing to valid bpf_map");
                    }
                    r = new Reg();
                    r.kind = Kind.MAP_VALUE;
                    r.mapIndex = index;
                    r.off = p.imm[i + 1] & 0xffffffffL;
                } else if (p.src[i] == 0) {
                    r = Reg.constant(p.imm64[i]);
                } else {
                    throw reject(i, "unsupported BPF_LD_IMM64 source " + p.src[i]);
                }
                f.regs[p.dst[i]] = r;
                s.pc += 2;
            }
            case Bpf.LDX -> {
                load(i, s, f);
                s.pc++;
            }
            case Bpf.ST, Bpf.STX -> {
                store(i, s, f, cls == Bpf.STX);
                s.pc++;
            }
            case Bpf.JMP, Bpf.JMP32 -> {
                return jump(i, s, work, cls == Bpf.JMP32);
            }
            default -> throw reject(i, "unknown opcode " + Program.hex(o));
        }
        return true;
    }

    private Reg read(int i, Frame f, int r) {
        Reg reg = f.regs[r];
        if (reg.kind == Kind.NOT_INIT) {
            throw reject(i, "R" + r + " !read_ok");
        }
        return reg;
    }

    // --- ALU ---

    private void alu(int i, Frame f, int o, boolean wide) {
        int operation = o & 0xf0;
        int d = p.dst[i];
        boolean x = (o & Bpf.X) != 0;
        // a byte swap's X bit says big-endian, not "a source register": it reads only its destination
        boolean readsSrc = x && operation != Bpf.END && operation != Bpf.NEG;
        Reg src = readsSrc ? read(i, f, p.src[i]) : Reg.constant(wide ? p.imm[i] : p.imm[i] & 0xffffffffL);
        if (operation == Bpf.MOV) {
            // assign_scalar_id_before_mov: a copy of a scalar is linked to it (same id), so what a branch
            // learns of one the other learns too (sync_linked_regs); a 32-bit copy only of a value that fits
            boolean link = x && p.off[i] == 0 && src.kind == Kind.SCALAR && (wide || Long.compareUnsigned(src.umax, MASK32) <= 0);
            if (link && src.id == 0 && !src.isConst()) {
                src.id = nextId++;
            }
            Reg r = src.copy();
            if (!link && r.kind == Kind.SCALAR) {
                r.id = 0;
            }
            if (x && p.off[i] != 0) {
                if (src.isPointer()) {
                    throw reject(i, "R" + p.src[i] + " sign-extension of a pointer is prohibited");
                }
                r.unknown(); // movsx: bounds of the narrowed value are not tracked
                if (src.isConst()) {
                    r.setConst(wide ? Interpreter.movsx64(src.umin, p.off[i]) : Interpreter.movsx32((int) src.umin, p.off[i]) & 0xffffffffL);
                }
            }
            if (!wide) {
                if (r.isPointer()) {
                    r.unknown(); // a partial copy of a pointer is a number
                    r.unsigned(0, 0xffffffffL);
                } else if (!(r.umax >= 0 && r.umax <= 0xffffffffL)) {
                    r.unsigned(r.lo32(), r.hi32()); // the low half, zero-extended: its bounds are the value's
                }
            }
            f.regs[d] = r;
            return;
        }
        if ((operation == Bpf.DIV || operation == Bpf.MOD) && !x && p.imm[i] == 0) {
            throw reject(i, "div by zero");
        }
        Reg dst = read(i, f, d);
        if (operation == Bpf.NEG || operation == Bpf.END) {
            // a pointer negated or swapped is a number (is_pointer_value: refused only where pointers may not leak)
            Reg r = Reg.scalar();
            if (dst.isConst() && !dst.isPointer()) {
                long v = operation == Bpf.NEG ? (wide ? -dst.umin : -(int) dst.umin & 0xffffffffL)
                        : (o & Bpf.X) != 0 || wide ? Interpreter.bswap(dst.umin, p.imm[i]) : Interpreter.toLe(dst.umin, p.imm[i]);
                r.setConst(v);
            } else if (!wide) {
                r.unsigned(0, 0xffffffffL);
            }
            f.regs[d] = r;
            return;
        }
        if (dst.isPointer() || src.isPointer()) {
            f.regs[d] = pointerArithmetic(i, dst, src, operation, wide, d, x ? p.src[i] : -1);
            return;
        }
        f.regs[d] = scalarAlu(operation, dst, src, wide, p.off[i]);
    }

    private Reg pointerArithmetic(int i, Reg dst, Reg src, int operation, boolean wide, int d, int s) {
        Reg ptr = dst.isPointer() ? dst : src;
        Reg other = dst.isPointer() ? src : dst;
        if (dst.isPointer() && src.isPointer()) {
            // the distance between two packet pointers (clang's data_end - data, often in 32 bits): a
            // number the program cannot turn back into a pointer, as the kernel allows privileged programs
            if (operation == Bpf.SUB && samePacket(dst.kind) && samePacket(src.kind)) {
                Reg r = Reg.scalar();
                if (!wide) {
                    r.unsigned(0, 0xffffffffL);
                }
                return r;
            }
            throw reject(i, "R" + d + " pointer " + (operation == Bpf.SUB ? "-" : "op") + " pointer prohibited");
        }
        if (!wide) {
            throw reject(i, "R" + d + " 32-bit pointer arithmetic prohibited");
        }
        if (operation == Bpf.SUB && !dst.isPointer()) {
            throw reject(i, "R" + d + " tried to subtract pointer from scalar");
        }
        if (operation != Bpf.ADD && operation != Bpf.SUB) {
            throw reject(i, "R" + d + " pointer arithmetic with " + opName(operation) + " operator prohibited");
        }
        if (operation == Bpf.SUB && ptr.kind == Kind.STACK) {
            // adjust_ptr_min_max_vals: never from the frame pointer, not even a constant (JITs may not handle it)
            throw reject(i, "R" + d + " subtraction from stack pointer prohibited");
        }
        if (ptr.kind == Kind.MAP_PTR && operation == Bpf.ADD && other.isConst() && other.umin == 0) {
            return ptr.copy(); // adjust_ptr_min_max_vals: a map pointer plus a known 0 stays the map
        }
        switch (ptr.kind) {
            case MAP_PTR, PKT_END -> throw reject(i, "R" + d + " pointer arithmetic on " + kindName(ptr.kind) + " prohibited");
            case MAP_VALUE_OR_NULL, ALLOC_MEM_OR_NULL, MAP_PTR_OR_NULL ->
                    throw reject(i, "R" + d + " pointer arithmetic on " + kindName(ptr.kind) + " prohibited, null-check it first");
            default -> {
            }
        }
        Reg r = ptr.copy();
        if (other.isConst()) {
            long c = operation == Bpf.SUB ? -other.umin : other.umin;
            r.off += c;
            if (Math.abs(r.off) > (1 << 29)) {
                throw reject(i, "R" + d + " pointer offset " + r.off + " is out of range");
            }
            return r;
        }
        if (operation == Bpf.SUB) {
            throw reject(i, "R" + d + " subtraction of a variable from a pointer is prohibited");
        }
        if (ptr.kind == Kind.STACK && Long.compareUnsigned(other.umax, 1 << 29) > 0 && other.smin >= -(1 << 29) && other.smax <= (1 << 29)) {
            // a variable offset that may be negative (fp + [-16, -8]): kept as the least offset plus a
            // non-negative variable part, the range check_stack_access_within_bounds takes from smin/smax
            r.off += other.smin;
            r.varMax += other.smax - other.smin;
            return r;
        }
        if (Long.compareUnsigned(other.umax, 1 << 29) > 0) {
            throw reject(i, "R" + d + " unbounded variable offset " + other.describe() + " added to " + kindName(ptr.kind));
        }
        r.varMax += other.umax;
        if (r.kind == Kind.PKT || r.kind == Kind.PKT_META) {
            r.id = nextId++; // a new variable part: its range is proved anew
            r.range = 0;
        }
        return r;
    }

    private static boolean samePacket(Kind k) {
        return k == Kind.PKT || k == Kind.PKT_END || k == Kind.PKT_META;
    }

    private static Reg scalarAlu(int operation, Reg dst, Reg src, boolean wide, int signed) {
        Reg r = Reg.scalar();
        if (dst.isConst() && src.isConst()) {
            long a = dst.umin;
            long b = src.umin;
            long v;
            if (wide) {
                v = switch (operation) {
                    case Bpf.ADD -> a + b;
                    case Bpf.SUB -> a - b;
                    case Bpf.MUL -> a * b;
                    case Bpf.DIV -> Interpreter.div64(a, b, signed);
                    case Bpf.MOD -> Interpreter.mod64(a, b, signed);
                    case Bpf.OR -> a | b;
                    case Bpf.AND -> a & b;
                    case Bpf.XOR -> a ^ b;
                    case Bpf.LSH -> a << b;
                    case Bpf.RSH -> a >>> b;
                    default -> a >> b;
                };
            } else {
                int x = (int) a;
                int y = (int) b;
                v = switch (operation) {
                    case Bpf.ADD -> x + y;
                    case Bpf.SUB -> x - y;
                    case Bpf.MUL -> x * y;
                    case Bpf.DIV -> (int) Interpreter.div32(x, y, signed);
                    case Bpf.MOD -> (int) Interpreter.mod32(x, y, signed);
                    case Bpf.OR -> x | y;
                    case Bpf.AND -> x & y;
                    case Bpf.XOR -> x ^ y;
                    case Bpf.LSH -> x << y;
                    case Bpf.RSH -> x >>> y;
                    default -> x >> y;
                } & 0xffffffffL;
            }
            r.setConst(v);
            return r;
        }
        long lo = 0;
        long hi = -1L;
        boolean known = false;
        boolean bounded = dst.umax >= 0 && src.umax >= 0; // both below 2^63: no unsigned wrap in sums
        long arshMin = Long.MIN_VALUE;
        long arshMax = Long.MAX_VALUE;
        switch (operation) {
            case Bpf.ADD -> {
                if (bounded && dst.umax <= Long.MAX_VALUE - src.umax) {
                    lo = dst.umin + src.umin;
                    hi = dst.umax + src.umax;
                    known = true;
                }
            }
            case Bpf.SUB -> {
                if (bounded && dst.umin >= src.umax) {
                    lo = dst.umin - src.umax;
                    hi = dst.umax - src.umin;
                    known = true;
                }
            }
            case Bpf.MUL -> {
                if (bounded && dst.umax < (1L << 31) && src.umax < (1L << 31)) {
                    lo = dst.umin * src.umin;
                    hi = dst.umax * src.umax;
                    known = true;
                }
            }
            case Bpf.AND -> {
                long cap = Long.compareUnsigned(dst.umax, src.umax) < 0 ? dst.umax : src.umax;
                lo = 0;
                hi = cap;
                known = true;
            }
            case Bpf.OR, Bpf.XOR -> {
                if (bounded) {
                    int bits = 64 - Long.numberOfLeadingZeros(dst.umax | src.umax);
                    lo = operation == Bpf.OR ? Math.max(dst.umin, src.umin) : 0;
                    hi = bits >= 63 ? -1L : (1L << bits) - 1;
                    known = hi >= 0;
                }
            }
            case Bpf.RSH -> {
                if (src.isConst()) {
                    int c = (int) (src.umin & (wide ? 63 : 31));
                    long umax = wide ? dst.umax : Math.min(dst.umax >= 0 ? dst.umax : 0xffffffffL, 0xffffffffL);
                    lo = wide ? dst.umin >>> c : 0;
                    hi = umax >>> c;
                    known = true;
                }
            }
            case Bpf.LSH -> {
                if (src.isConst() && bounded) {
                    int c = (int) (src.umin & (wide ? 63 : 31));
                    if (c < 63 && dst.umax <= (Long.MAX_VALUE >>> c)) {
                        lo = dst.umin << c;
                        hi = dst.umax << c;
                        known = true;
                    }
                }
            }
            case Bpf.ARSH -> {
                if (src.isConst() && wide) {
                    // scalar_min_max_arsh: an arithmetic shift keeps the signed order
                    int c = (int) (src.umin & 63);
                    arshMin = dst.smin >> c;
                    arshMax = dst.smax >> c;
                    if (arshMin >= 0) {
                        lo = arshMin;
                        hi = arshMax;
                        known = true;
                    }
                }
            }
            case Bpf.MOD -> {
                if (src.isConst() && src.umin > 0 && signed == 0) {
                    lo = 0;
                    hi = Long.compareUnsigned(dst.umax, src.umin - 1) < 0 ? dst.umax : src.umin - 1;
                    known = true;
                }
            }
            case Bpf.DIV -> {
                if (src.isConst() && src.umin > 0 && signed == 0 && bounded) {
                    lo = dst.umin / src.umin;
                    hi = dst.umax / src.umin;
                    known = true;
                }
            }
            default -> {
            }
        }
        if (!wide) {
            if (!known || hi < 0 || hi > 0xffffffffL) {
                lo = 0;
                hi = 0xffffffffL;
            }
            known = true;
        }
        if (known) {
            r.unsigned(lo, hi);
        }
        if (wide && operation == Bpf.ARSH && !known) {
            r.smin = arshMin;
            r.smax = arshMax;
        }
        if (wide && (operation == Bpf.ADD || operation == Bpf.SUB) && (!known || lo < 0 || hi < 0)) {
            // scalar_min_max_add / _sub: the signed bounds, where they do not overflow (a small number
            // minus a larger one is negative, which the unsigned bounds cannot say)
            try {
                long slo = operation == Bpf.ADD ? Math.addExact(dst.smin, src.smin) : Math.subtractExact(dst.smin, src.smax);
                long shi = operation == Bpf.ADD ? Math.addExact(dst.smax, src.smax) : Math.subtractExact(dst.smax, src.smin);
                if (!known && (slo < 0) == (shi < 0)) {
                    r.umin = slo; // one sign: the unsigned order is the signed one (__reg_deduce_bounds)
                    r.umax = shi;
                }
                r.smin = Math.max(r.smin, slo);
                r.smax = Math.min(r.smax, shi);
            } catch (ArithmeticException overflow) {
                // unknown, as it was
            }
        }
        return r;
    }

    private static String opName(int operation) {
        return switch (operation) {
            case Bpf.SUB -> "-=";
            case Bpf.MUL -> "*=";
            case Bpf.DIV -> "/=";
            case Bpf.OR -> "|=";
            case Bpf.AND -> "&=";
            case Bpf.LSH -> "<<=";
            case Bpf.RSH -> ">>=";
            case Bpf.MOD -> "%=";
            case Bpf.XOR -> "^=";
            case Bpf.ARSH -> "s>>=";
            default -> "+=";
        };
    }

    private static String kindName(Kind k) {
        return switch (k) {
            case SCALAR -> "scalar";
            case CTX -> "ctx";
            case PKT -> "pkt";
            case PKT_END -> "pkt_end";
            case PKT_META -> "pkt_meta";
            case STACK -> "fp";
            case MAP_PTR -> "map_ptr";
            case MAP_VALUE -> "map_value";
            case MAP_VALUE_OR_NULL -> "map_value_or_null";
            case MAP_PTR_OR_NULL -> "map_ptr_or_null";
            case RAW -> "mem";
            case ALLOC_MEM -> "alloc_mem";
            case ALLOC_MEM_OR_NULL -> "alloc_mem_or_null";
            default -> "inv";
        };
    }

    // --- memory ---

    /** What an access's base points into, as {@link Checked#bases} says it. */
    private static int baseOf(Reg base) {
        return switch (base.kind) {
            case CTX -> BASE_CTX;
            case PKT -> BASE_PACKET;
            case MAP_VALUE -> BASE_MAP + base.mapIndex;
            default -> 0;
        };
    }

    /** Access {@code i} reached with a base pointing into {@code to}: kept if every path agrees, else 0. */
    private void noteBase(int i, int to) {
        bases[i] = bases[i] == -1 || bases[i] == to ? to : 0;
    }

    private void load(int i, State s, Frame f) {
        int size = Bpf.bytes(p.op[i]);
        boolean signed = (p.op[i] & 0xe0) == Bpf.MEMSX;
        Reg base = read(i, f, p.src[i]);
        long off = p.off[i];
        Reg result = Reg.scalar();
        int from = baseOf(base);
        if (bases[i] != -1 && (bases[i] == BASE_CTX) != (from == BASE_CTX)) {
            // a context load is rewritten for the runtime: the rewrite would be wrong for the other pointer
            throw reject(i, "same insn cannot be used with different pointers");
        }
        noteBase(i, from);
        switch (base.kind) {
            case CTX -> result = ctxRead(i, base, off, size);
            case STACK -> result = stackRead(i, s, base, off, size);
            case PKT, PKT_META -> checkPacket(i, p.src[i], base, off, size);
            case MAP_VALUE -> checkMapValue(i, p.src[i], base, off, size, true);
            case ALLOC_MEM -> checkAllocMem(i, base, off, size);
            case RAW -> {
            }
            default -> throw reject(i, "R" + p.src[i] + " invalid mem access '" + kindName(base.kind) + "'");
        }
        if (result.kind == Kind.SCALAR && base.kind != Kind.STACK && base.kind != Kind.CTX) {
            bounds(result, size, signed);
        } else if (result.kind == Kind.SCALAR && base.kind == Kind.STACK && signed && !result.isConst()) {
            bounds(result, size, signed); // a filled scalar keeps its bounds (stackRead); sign-extended, only its size's
        }
        if (signed && result.isPointer()) {
            throw reject(i, "R" + p.src[i] + " sign-extending load of a spilled pointer");
        }
        f.regs[p.dst[i]] = result;
    }

    private static void bounds(Reg r, int size, boolean signed) {
        if (signed) {
            r.unknown();
            long half = 1L << (size * 8 - 1);
            if (size < 8) {
                r.smin = -half;
                r.smax = half - 1;
            }
        } else if (size < 8) {
            r.unsigned(0, (1L << (size * 8)) - 1);
        } else {
            r.unknown();
        }
    }

    /** XDP's context: u32 reads at the field offsets; data, data_end and data_meta become pointers. */
    private Reg ctxRead(int i, Reg base, long off, int size) {
        if (type == ProgType.SCHED_CLS) {
            return skbCtxRead(i, base, off, size);
        }
        if (type == ProgType.SOCKET_FILTER) {
            return sockCtxRead(i, base, off, size);
        }
        if (type != ProgType.XDP) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        if (base.off != 0 || base.varMax != 0) {
            throw reject(i, "dereference of modified ctx ptr R" + p.src[i] + " off=" + base.off + " disallowed");
        }
        if (off < 0 || off >= 24 || off % 4 != 0 || size != 4 || (off == 20 && attach != AttachType.XDP_DEVMAP)) {
            // egress_ifindex (20) means something only to a devmap entry's program (xdp_is_valid_access)
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        Reg r = new Reg();
        int runtimeOff;
        switch ((int) off) {
            case 0 -> {
                r.kind = Kind.PKT;
                r.id = 0;
                runtimeOff = 0;
            }
            case 4 -> {
                r.kind = Kind.PKT_END;
                runtimeOff = 8;
            }
            case 8 -> {
                r.kind = Kind.PKT_META;
                runtimeOff = 16;
            }
            default -> {
                r = Reg.scalar();
                r.unsigned(0, 0xffffffffL);
                runtimeOff = 24 + ((int) off - 12);
            }
        }
        // the rewrite ({@code convert_ctx_accesses}): pointers are 64-bit loads in the runtime's context
        int opcode = runtimeOff < 24 ? Bpf.LDX | Bpf.MEM | Bpf.DW : Bpf.LDX | Bpf.MEM | Bpf.W;
        rewritten[i] = Bpf.encode(opcode, p.dst[i], p.src[i], runtimeOff, 0);
        ctxLoad[i] = true;
        return r;
    }

    /**
     * A tc program's {@code struct __sk_buff} ({@code tc_cls_act_is_valid_access}): u32 reads of the
     * fields up to {@code tc_classid}, and of data and data_end, which become packet pointers.
     */
    private Reg skbCtxRead(int i, Reg base, long off, int size) {
        if (base.off != 0 || base.varMax != 0) {
            throw reject(i, "dereference of modified ctx ptr R" + p.src[i] + " off=" + base.off + " disallowed");
        }
        if (off < 0 || off > 80 || off % 4 != 0 || size != 4) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        Reg r = new Reg();
        int runtimeOff;
        if (off == 76) {
            r.kind = Kind.PKT;
            r.id = 0;
            runtimeOff = 0;
        } else if (off == 80) {
            r.kind = Kind.PKT_END;
            runtimeOff = 8;
        } else {
            r = Reg.scalar();
            r.unsigned(0, 0xffffffffL);
            runtimeOff = 16 + (int) off;
        }
        int opcode = runtimeOff < 16 ? Bpf.LDX | Bpf.MEM | Bpf.DW : Bpf.LDX | Bpf.MEM | Bpf.W;
        rewritten[i] = Bpf.encode(opcode, p.dst[i], p.src[i], runtimeOff, 0);
        ctxLoad[i] = true;
        return r;
    }

    /**
     * A socket filter's {@code struct __sk_buff} ({@code sk_filter_is_valid_access}, then
     * {@code bpf_skb_is_valid_access}): the u32 fields from len to hash, napi_id, gso_segs and gso_size,
     * also by narrower loads of their low bytes; tc_classid, data, data_end, data_meta, the socket's
     * fields, tstamp, wire_len and hwtstamp are the kernel's refusals here, and the sk pointer is
     * modnet's (no {@code struct bpf_sock} yet).
     */
    private Reg sockCtxRead(int i, Reg base, long off, int size) {
        if (base.off != 0 || base.varMax != 0) {
            throw reject(i, "dereference of modified ctx ptr R" + p.src[i] + " off=" + base.off + " disallowed");
        }
        if ((p.op[i] & 0xe0) == Bpf.MEMSX) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        long field = off & ~3L;
        boolean readable = (field >= 0 && field <= 68) || field == 84 || field == 164 || field == 176;
        if (!readable || size > 4 || off % size != 0) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        Reg r = Reg.scalar();
        r.unsigned(0, size == 4 ? 0xffffffffL : (1L << (size * 8)) - 1);
        // the runtime keeps the fields little-endian at 16 + off: a narrow load of the low bytes reads them there
        rewritten[i] = Bpf.encode(p.op[i], p.dst[i], p.src[i], 16 + (int) off, 0);
        ctxLoad[i] = true;
        return r;
    }

    /** A socket filter's store into {@code __sk_buff}: cb[0..4] only ({@code sk_filter_is_valid_access}). */
    private void sockCtxWrite(int i, Reg base, long off, int size, Reg value, boolean atomic) {
        if (atomic) {
            throw reject(i, "BPF_ATOMIC stores into R" + p.dst[i] + " ctx is not allowed");
        }
        if (base.off != 0 || base.varMax != 0) {
            throw reject(i, "dereference of modified ctx ptr R" + p.dst[i] + " off=" + base.off + " disallowed");
        }
        // bpf_skb_is_valid_access: cb[] by any aligned size up to 8 that ends within cb[4]
        if (off < 48 || off + size > 68 || off % size != 0) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        // a pointer stored is a number to whoever reads it back: privileged programs may (allow_ptr_leaks)
        rewritten[i] = Bpf.encode(p.op[i], p.dst[i], p.src[i], 16 + (int) off, p.imm[i]);
    }

    /**
     * {@code check_ld_abs}: the legacy packet loads are for the skb's program types, with r6 the
     * context they read through (the program's r1 saved there); r1-r5 are clobbered as by a call and
     * r0 holds the value, in network order. A load past the end ends the program at run time with 0.
     */
    private void ldAbs(int i, State s, Frame f, int o) {
        if (type != ProgType.SOCKET_FILTER && type != ProgType.SCHED_CLS) {
            throw reject(i, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
        }
        if (!s.refs.isEmpty()) {
            // the load may end the program, which would leak the reference
            throw reject(i, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
        }
        Reg ctx = f.regs[6];
        if (ctx.kind == Kind.NOT_INIT) {
            throw reject(i, "R6 !read_ok");
        }
        if (ctx.kind != Kind.CTX || ctx.off != 0 || ctx.varMax != 0) {
            throw reject(i, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        }
        if ((o & 0xe0) == Bpf.IND && f.regs[p.src[i]].kind == Kind.NOT_INIT) {
            throw reject(i, "R" + p.src[i] + " !read_ok");
        }
        for (int r = 1; r <= 5; r++) {
            f.regs[r] = new Reg();
        }
        Reg r0 = Reg.scalar();
        int size = Bpf.bytes(o);
        r0.unsigned(0, (1L << (size * 8)) - 1);
        f.regs[0] = r0;
    }

    /**
     * {@code check_packet_access}: the range a comparison proved is counted from the pointer's variable
     * part (every pointer of one {@code id} has the same one), so only the fixed offsets meet it.
     */
    private void checkPacket(int i, int reg, Reg base, long off, int size) {
        long start = base.off + off;
        long end = base.off + off + size;
        if (start < 0) {
            throw reject(i, "R" + reg + " invalid access to packet, off=" + start + " size=" + size);
        }
        if (end > base.range) {
            throw reject(i, "invalid access to packet, off=" + (base.off + off) + " size=" + size + ", R" + reg
                    + "(id=" + base.id + ",off=" + base.off + ",r=" + base.range + ")\n"
                    + "R" + reg + " offset is outside of the packet");
        }
    }

    /** {@code BPF_F_WRONLY_PROG}: programs may write the map's values, not read them. */
    static final int BPF_F_WRONLY_PROG = 1 << 8;

    /** {@code BPF_F_RDONLY_PROG}, which dev_map_init_map sets on every devmap and devmap_hash. */
    private static boolean readOnlyToPrograms(MapSpec m) {
        return (m.flags() & BpfMap.BPF_F_RDONLY_PROG) != 0 || m.type() == MAP_DEVMAP || m.type() == MAP_DEVMAP_HASH;
    }

    private void checkMapValue(int i, int reg, Reg base, long off, int size, boolean read) {
        MapSpec m = maps.get(base.mapIndex);
        if (read && (m.flags() & BPF_F_WRONLY_PROG) != 0) {
            // check_map_access_type
            throw reject(i, "read from map forbidden, value_regno=" + (p.op[i] == (Bpf.JMP | Bpf.CALL) ? -1 : p.dst[i])
                    + " (" + m.name() + " is write-only to programs)");
        }
        long start = base.off + off;
        long end = base.off + base.varMax + off + size;
        if (start < 0 || end > m.valueSize()) {
            throw reject(i, "invalid access to map value, value_size=" + m.valueSize() + " off=" + start + " size=" + size
                    + (base.varMax > 0 ? " (variable part up to " + base.varMax + ")" : ""));
        }
    }

    /** An access of a reserved record stays within its size. */
    private void checkAllocMem(int i, Reg base, long off, int size) {
        long start = base.off + off;
        long end = base.off + base.varMax + off + size;
        if (start < 0 || end > base.memSize) {
            throw reject(i, "invalid access to memory, mem_size=" + base.memSize + " off=" + start + " size=" + size
                    + (base.varMax > 0 ? " (variable part up to " + base.varMax + ")" : ""));
        }
    }

    /** The stack slot range [lo, hi) of an access, refused outside the frame or at a variable offset. */
    private int stackOffset(int i, int reg, Reg base, long off, int size) {
        if (base.varMax != 0) {
            throw reject(i, "variable stack access var_off=(0; " + base.varMax + ") disallowed");
        }
        long at = base.off + off;
        if (at < -Bpf.STACK_SIZE || at + size > 0) {
            throw reject(i, "invalid stack off=" + at + " size=" + size + " (R" + reg + ")");
        }
        return (int) (at + Bpf.STACK_SIZE);
    }

    /**
     * The slot range [lo, hi) of a privileged access at a variable offset ({@code check_stack_access_within_bounds}
     * with the least and greatest offset): all of it inside the frame.
     */
    private int[] stackRange(int i, int reg, Reg base, long off, int size) {
        long min = base.off + off;
        long max = base.off + base.varMax + off;
        if (min < -Bpf.STACK_SIZE || max + size > 0) {
            throw reject(i, "invalid variable-offset stack access R" + reg + " var_off=(" + min + "; " + max + ") size=" + size);
        }
        return new int[] {(int) (min + Bpf.STACK_SIZE), (int) (max + size + Bpf.STACK_SIZE)};
    }

    private Reg stackRead(int i, State s, Reg base, long off, int size) {
        Frame f = s.frames.get(base.frame);
        if (base.varMax != 0) {
            // check_stack_read_var_off: a privileged load may read any byte of the range (allow_uninit_stack,
            // allow_ptr_leaks), and what it reads is an unknown number of the load's size
            int[] range = stackRange(i, p.src[i], base, off, size);
            maxStack = Math.max(maxStack, Bpf.STACK_SIZE - range[0]);
            Reg data = Reg.scalar();
            bounds(data, size, false);
            return data;
        }
        int lo = stackOffset(i, p.src[i], base, off, size);
        maxStack = Math.max(maxStack, Bpf.STACK_SIZE - lo);
        // bytes never written read as an unknown number: a privileged load may (allow_uninit_stack, CAP_PERFMON)
        Reg spilled = f.spill[lo / 8];
        if (lo % 8 == 0 && f.slot[lo] == 2 && spilled != null && size <= spillSize(f, lo)) {
            if (size == 8) {
                return spilled.copy(); // fill: the register as it was spilled
            }
            if (spilled.kind == Kind.SCALAR) {
                return narrowed(spilled, size); // a narrower fill of a scalar keeps its low bytes' bounds
            }
        }
        for (int k = lo; k < lo + size; k++) {
            if (f.slot[k] == 2 && f.spill[k / 8] != null && f.spill[k / 8].isPointer()) {
                // check_stack_read_fixed_off: part of a pointer would leak as a number
                throw reject(i, "invalid size of register fill");
            }
        }
        Reg data = Reg.scalar();
        bounds(data, size, false); // data bytes: any value of the load's size
        return data;
    }

    /** The bytes of a spill, from the slot's start: 8 for a register, 4, 2 or 1 for a narrower scalar store. */
    private static int spillSize(Frame f, int lo) {
        int n = 0;
        while (n < 8 && f.slot[lo + n] == 2) {
            n++;
        }
        return n;
    }

    /** A scalar as its low {@code size} bytes read: its bounds when they fit, else the size's range. */
    private static Reg narrowed(Reg r, int size) {
        Reg out = r.copy();
        if (size == 8) {
            return out;
        }
        long mask = (1L << (size * 8)) - 1;
        if (size < 4) {
            out.u32min = 0; // fewer bytes than the low half: what was known of it says nothing of them
            out.u32max = MASK32;
            out.s32min = Integer.MIN_VALUE;
            out.s32max = Integer.MAX_VALUE;
        }
        if (r.isConst()) {
            out.setConst(r.umin & mask);
        } else if (r.umax >= 0 && r.umax <= mask) {
            out.unsigned(r.umin, r.umax);
        } else {
            out.unsigned(0, mask);
        }
        if (!fits(r, size)) {
            out.id = 0; // a narrowing spill or fill breaks the link: the values differ
        }
        return out;
    }

    /** The scalar's value fits in {@code size} bytes ({@code get_reg_width}): a copy that wide is the same value. */
    private static boolean fits(Reg r, int size) {
        return size == 8 || Long.compareUnsigned(r.umax, (1L << (size * 8)) - 1) <= 0;
    }

    private void store(int i, State s, Frame f, boolean fromRegister) {
        int o = p.op[i];
        int size = Bpf.bytes(o);
        boolean atomic = (o & 0xe0) == Bpf.ATOMIC;
        Reg base = read(i, f, p.dst[i]);
        Reg value = fromRegister ? read(i, f, p.src[i]) : Reg.constant(p.imm[i]);
        noteBase(i, baseOf(base));
        long off = p.off[i];
        // an atomic add of a pointer stores a number (check_atomic refuses it only where pointers may not leak)
        if (atomic && base.varMax == 0 && (base.kind == Kind.STACK || base.kind == Kind.MAP_VALUE) && (base.off + off) % size != 0) {
            // check_atomic checks alignment strictly, whatever the architecture allows for plain accesses
            throw reject(i, "misaligned " + (base.kind == Kind.STACK ? "stack" : "value") + " access off (0x0; 0x0)+" + base.off + "+"
                    + off + " size " + size);
        }
        switch (base.kind) {
            case STACK -> {
                Frame target = s.frames.get(base.frame);
                if (base.varMax != 0 && !atomic) {
                    // check_stack_write_var_off: any byte of the range may be the one written, so each is a
                    // number now and every spill it touches is lost (a privileged load may, allow_uninit_stack)
                    int[] range = stackRange(i, p.dst[i], base, off, size);
                    maxStack = Math.max(maxStack, Bpf.STACK_SIZE - range[0]);
                    for (int k = range[0]; k < range[1]; k++) {
                        if (target.slot[k] == 2) {
                            Arrays.fill(target.slot, (k / 8) * 8, (k / 8) * 8 + 8, (byte) 1);
                            target.spill[k / 8] = null;
                        }
                        target.slot[k] = 1;
                    }
                    return;
                }
                int lo = stackOffset(i, p.dst[i], base, off, size);
                maxStack = Math.max(maxStack, Bpf.STACK_SIZE - lo);
                if (atomic) {
                    for (int k = lo; k < lo + size; k++) {
                        if (target.slot[k] == 0) {
                            throw reject(i, "invalid read from stack R" + p.dst[i] + " off " + (base.off + off) + " size " + size);
                        }
                    }
                    atomicResult(i, f);
                    for (int k = lo; k < lo + size; k++) {
                        target.slot[k] = 1;
                    }
                    target.spill[lo / 8] = null;
                    return;
                }
                if (size != 8 && value.isPointer()) {
                    throw reject(i, "invalid size of register spill"); // check_stack_write_fixed_off
                }
                if (lo % 8 == 0 && (size == 8 || value.kind == Kind.SCALAR)) {
                    // spill: the register's state is kept; a scalar stored narrower at a slot's start
                    // too (save_register_state with its size), the slot's other bytes as they were
                    for (int k = lo + size; k < lo + 8; k++) {
                        if (target.slot[k] == 2) {
                            target.slot[k] = 1; // the rest of an older spill is data now
                        }
                    }
                    Arrays.fill(target.slot, lo, lo + size, (byte) 2);
                    if (fromRegister && value.kind == Kind.SCALAR && value.id == 0 && !value.isConst() && fits(value, size)) {
                        value.id = nextId++; // the spill is linked to the register (check_stack_write_fixed_off)
                    }
                    target.spill[lo / 8] = narrowed(value, size);
                } else {
                    for (int k = lo; k < lo + size; k++) {
                        if (target.slot[k] == 2) {
                            Arrays.fill(target.slot, (k / 8) * 8, (k / 8) * 8 + 8, (byte) 1); // a spill partly overwritten is data
                            target.spill[k / 8] = null;
                        }
                        target.slot[k] = 1;
                    }
                }
            }
            case PKT, PKT_META -> {
                if (atomic) {
                    throw reject(i, "BPF_ATOMIC stores into R" + p.dst[i] + " " + kindName(base.kind) + " is not allowed");
                }
                checkPacket(i, p.dst[i], base, off, size);
            }
            case MAP_VALUE -> {
                if (readOnlyToPrograms(maps.get(base.mapIndex))) {
                    throw reject(i, "write into map forbidden, value_regno=" + (fromRegister ? p.src[i] : -1)
                            + " (" + maps.get(base.mapIndex).name() + " is read-only to programs)");
                }
                checkMapValue(i, p.dst[i], base, off, size, false);
                if (atomic) {
                    atomicResult(i, f);
                }
            }
            case ALLOC_MEM -> {
                checkAllocMem(i, base, off, size);
                if (atomic) {
                    atomicResult(i, f);
                }
            }
            case RAW -> {
                if (atomic) {
                    atomicResult(i, f);
                }
            }
            case CTX -> {
                if (type == ProgType.SOCKET_FILTER) {
                    sockCtxWrite(i, base, off, size, value, atomic);
                    return;
                }
                if (type != ProgType.SCHED_CLS) {
                    throw reject(i, "invalid bpf_context access off=" + (base.off + off) + " size=" + size + " (the context is read-only)");
                }
                skbCtxWrite(i, base, off, size, value, atomic);
            }
            default -> throw reject(i, "R" + p.dst[i] + " invalid mem access '" + kindName(base.kind) + "'");
        }
    }

    /**
     * A tc program's store into {@code struct __sk_buff} ({@code tc_cls_act_is_valid_access}): u32 writes
     * of mark, priority, tc_index, cb[0..4] and tc_classid, rewritten to where the runtime keeps them.
     */
    private void skbCtxWrite(int i, Reg base, long off, int size, Reg value, boolean atomic) {
        if (atomic) {
            throw reject(i, "BPF_ATOMIC stores into R" + p.dst[i] + " ctx is not allowed");
        }
        if (base.off != 0 || base.varMax != 0) {
            throw reject(i, "dereference of modified ctx ptr R" + p.dst[i] + " off=" + base.off + " disallowed");
        }
        boolean writable = off == 8 || off == 32 || off == 44 || (off >= 48 && off <= 64) || off == 72;
        if (size != 4 || off % 4 != 0 || !writable) {
            throw reject(i, "invalid bpf_context access off=" + off + " size=" + size);
        }
        // a pointer stored is a number to whoever reads it back: a privileged load may (check_mem_access's
        // "leaks addr into ctx" is is_pointer_value, false under allow_ptr_leaks), as socket filters may
        rewritten[i] = Bpf.encode(p.op[i], p.dst[i], p.src[i], 16 + (int) off, p.imm[i]);
    }

    private void atomicResult(int i, Frame f) {
        int operation = p.imm[i];
        if (operation == Bpf.CMPXCHG) {
            read(i, f, 0);
            f.regs[0] = Reg.scalar();
        } else if ((operation & Bpf.FETCH) != 0) {
            f.regs[p.src[i]] = Reg.scalar();
        }
    }

    // --- jumps, calls, exit ---

    private Boolean jump(int i, State s, ArrayDeque<State> work, boolean j32) {
        int o = p.op[i];
        int operation = o & 0xf0;
        Frame f = s.cur();
        switch (operation) {
            case Bpf.EXIT -> {
                return exit(i, s);
            }
            case Bpf.CALL -> {
                call(i, s);
                return true;
            }
            case Bpf.JA -> {
                s.pc = p.target(i);
                return true;
            }
            default -> {
            }
        }
        Reg dst = read(i, f, p.dst[i]);
        boolean x = (o & Bpf.X) != 0;
        Reg src = x ? read(i, f, p.src[i]) : Reg.constant(j32 ? p.imm[i] & 0xffffffffL : p.imm[i]);
        State taken = s.copy();
        taken.pc = p.target(i);
        s.pc = i + 1;
        Boolean decided = refine(i, operation, j32, x, s, taken);
        if (decided == null) {
            for (State st : new State[] { s, taken }) {
                syncLinked(st, st.cur().regs[p.dst[i]]);
                if (x) {
                    syncLinked(st, st.cur().regs[p.src[i]]);
                }
            }
            if (taken.cp != null) {
                taken.cp.branches++; // one more path below the last checkpoint
            }
            work.push(taken);
            if (verbose && log.length() < LOG_LIMIT) {
                log.append(i).append(": both branches: to ").append(taken.pc).append(" later\n");
            }
            return true;
        }
        if (decided) {
            s.frames = taken.frames;
            s.pc = taken.pc;
        }
        return true;
    }

    /** {@code sync_linked_regs}: every scalar linked to {@code known} (its id) takes what a branch learned of it. */
    private static void syncLinked(State s, Reg known) {
        if (known.kind != Kind.SCALAR || known.id == 0) {
            return;
        }
        for (Frame f : s.frames) {
            for (int r = 0; r < f.regs.length; r++) {
                if (f.regs[r] != known && f.regs[r].kind == Kind.SCALAR && f.regs[r].id == known.id) {
                    f.regs[r] = known.copy();
                }
            }
            for (int n = 0; n < f.spill.length; n++) {
                if (f.spill[n] != null && f.spill[n] != known && f.spill[n].kind == Kind.SCALAR && f.spill[n].id == known.id) {
                    f.spill[n] = known.copy();
                }
            }
        }
    }

    /**
     * Learns what each branch implies: bounds of scalars compared with constants, packet ranges from
     * comparisons with {@code data_end}, NULL checks of map values. Returns TRUE when only the jump can
     * be taken, FALSE when only the fall-through can, null when both can.
     */
    private Boolean refine(int i, int operation, boolean j32, boolean x, State fall, State taken) {
        int d = p.dst[i];
        int sreg = x ? p.src[i] : -1;
        Reg a = fall.cur().regs[d];
        Reg b = x ? fall.cur().regs[sreg] : Reg.constant(j32 ? p.imm[i] & 0xffffffffL : p.imm[i]);
        // packet pointers against the end of the packet, metadata pointers against the packet's start
        // ({@code try_match_pkt_pointers}): the branch where the pointer is at most the end proves its
        // offset, the one where it is below the end one byte more
        if (!j32 && x && (isPacketBound(a, b) || isPacketBound(b, a))) {
            boolean ptrLeft = isPacketBound(a, b);
            Reg ptr = ptrLeft ? a : b;
            State inRange = null;
            boolean open = false;
            switch (operation) {
                case Bpf.JGT -> { // ptr > end: falls through when ptr <= end; end > ptr: taken when ptr < end
                    inRange = ptrLeft ? fall : taken;
                    open = !ptrLeft;
                }
                case Bpf.JLT -> { // ptr < end: taken; end < ptr: falls through when ptr <= end
                    inRange = ptrLeft ? taken : fall;
                    open = ptrLeft;
                }
                case Bpf.JGE -> { // ptr >= end: falls through when ptr < end; end >= ptr: taken when ptr <= end
                    inRange = ptrLeft ? fall : taken;
                    open = ptrLeft;
                }
                case Bpf.JLE -> { // ptr <= end: taken; end <= ptr: falls through when ptr < end
                    inRange = ptrLeft ? taken : fall;
                    open = !ptrLeft;
                }
                default -> {
                }
            }
            if (inRange != null) {
                markRange(inRange, ptr, open);
            }
            return null;
        }
        // NULL checks
        if ((operation == Bpf.JEQ || operation == Bpf.JNE) && !j32
                && (a.kind == Kind.MAP_VALUE_OR_NULL || a.kind == Kind.ALLOC_MEM_OR_NULL || a.kind == Kind.MAP_PTR_OR_NULL)
                && b.isConst() && b.umin == 0) {
            State isNull = operation == Bpf.JEQ ? taken : fall;
            State notNull = operation == Bpf.JEQ ? fall : taken;
            int id = a.id; // read before the first marking turns this register into 0
            markNull(isNull, id, true);
            markNull(notNull, id, false);
            return null;
        }
        // two pointers, one that may be NULL and one that cannot be: where they are equal the first is
        // not NULL either (check_cond_jmp_op's mark_ptr_not_null_reg, that register alone)
        if ((operation == Bpf.JEQ || operation == Bpf.JNE) && !j32 && x && isPointer(a) && isPointer(b) && maybeNull(a) != maybeNull(b)) {
            State equal = operation == Bpf.JEQ ? taken : fall;
            Reg r = equal.cur().regs[maybeNull(a) ? d : sreg];
            nullOrValue(r, r.id, false);
            return null;
        }
        // is_branch_taken: a map value or a reserved record (reg_not_null) is never NULL
        if ((operation == Bpf.JEQ || operation == Bpf.JNE) && !j32 && (a.kind == Kind.MAP_VALUE || a.kind == Kind.ALLOC_MEM)
                && b.isConst() && b.umin == 0) {
            return operation == Bpf.JNE;
        }
        if (a.kind != Kind.SCALAR || b.kind != Kind.SCALAR) {
            return null; // other pointer comparisons: nothing learned
        }
        long amin = a.umin;
        long amax = a.umax;
        boolean signed = operation == Bpf.JSGT || operation == Bpf.JSGE || operation == Bpf.JSLT || operation == Bpf.JSLE;
        if (j32) {
            return refine32(i, operation, signed, x, fall, taken);
        }
        if (b.isConst()) {
            return narrow(operation, signed, fall.cur().regs[d], taken.cur().regs[d], b.umin, false);
        }
        if (a.isConst() && x) {
            return narrow(operation, signed, fall.cur().regs[sreg], taken.cur().regs[sreg], amin, true);
        }
        if (amax == amin) {
            return null;
        }
        return null;
    }

    /**
     * A 32-bit comparison of scalars ({@code is_branch_taken} and {@code reg_set_min_max} on the subregisters):
     * decided, or learned into the low halves' bounds of both branches' copies, when one side's low half is
     * a constant.
     */
    private Boolean refine32(int i, int operation, boolean signed, boolean x, State fall, State taken) {
        int d = p.dst[i];
        Reg a = fall.cur().regs[d];
        Reg b = x ? fall.cur().regs[p.src[i]] : Reg.constant(p.imm[i] & MASK32);
        int reg;
        long k;
        boolean reversed;
        if (b.lo32() == b.hi32()) {
            reg = d;
            k = b.lo32();
            reversed = false;
        } else if (a.lo32() == a.hi32()) {
            reg = p.src[i];
            k = a.lo32();
            reversed = true;
        } else {
            return null;
        }
        Reg fr = fall.cur().regs[reg];
        Reg tr = taken.cur().regs[reg];
        Reg f32 = low32(fr);
        Reg t32 = low32(tr);
        Boolean decided = narrow(operation, signed, f32, t32, signed ? (int) k : k, reversed);
        if (decided == null) {
            learn32(fr, f32, signed);
            learn32(tr, t32, signed);
        }
        return decided;
    }

    /** A scalar standing for a register's low half: its unsigned bounds and its signed ones, each sharpened by the other. */
    private static Reg low32(Reg r) {
        Reg t = Reg.scalar();
        long lo = r.lo32();
        long hi = r.hi32();
        long slo = r.slo32();
        long shi = r.shi32();
        if (slo >= 0) { // one sign: the two readings order alike
            lo = Math.max(lo, slo);
            hi = Math.min(hi, shi);
        } else if (shi < 0) {
            lo = Math.max(lo, slo + (1L << 32));
            hi = Math.min(hi, shi + (1L << 32));
        }
        if (hi < 1L << 31) {
            slo = Math.max(slo, lo);
            shi = Math.min(shi, hi);
        } else if (lo >= 1L << 31) {
            slo = Math.max(slo, lo - (1L << 32));
            shi = Math.min(shi, hi - (1L << 32));
        }
        t.unsigned(lo, hi);
        t.smin = slo;
        t.smax = shi;
        return t;
    }

    /** What a branch proved of a register's low half ({@code t}, as {@link #low32} made it) kept in the register. */
    private static void learn32(Reg r, Reg t, boolean signed) {
        long lo = r.lo32();
        long hi = r.hi32();
        long slo = r.slo32();
        long shi = r.shi32();
        if (signed) { // t's signed bounds are the low half's; its unsigned ones follow where the sign is one
            slo = Math.max(slo, t.smin);
            shi = Math.min(shi, t.smax);
            if (slo >= 0) {
                lo = Math.max(lo, slo);
                hi = Math.min(hi, shi);
            } else if (shi < 0) {
                lo = Math.max(lo, slo + (1L << 32));
                hi = Math.min(hi, shi + (1L << 32));
            }
        } else { // t's unsigned bounds are the low half's (its signed ones are those same numbers, not an int's)
            lo = Math.max(lo, t.umin);
            hi = Math.min(hi, t.umax);
            if (hi < 1L << 31) {
                slo = Math.max(slo, lo);
                shi = Math.min(shi, hi);
            } else if (lo >= 1L << 31) {
                slo = Math.max(slo, lo - (1L << 32));
                shi = Math.min(shi, hi - (1L << 32));
            }
        }
        r.u32min = lo;
        r.u32max = hi;
        r.s32min = slo;
        r.s32max = shi;
        if (r.umax >= 0 && r.umax <= MASK32) { // upper half zero: the value is its low half
            r.unsigned(Math.max(r.umin, lo), Math.min(r.umax, hi));
        } else if (r.smin >= Integer.MIN_VALUE && r.smax <= Integer.MAX_VALUE) { // the value is its low half sign-extended
            r.smin = Math.max(r.smin, slo);
            r.smax = Math.min(r.smax, shi);
        }
    }

    /**
     * Narrows {@code fall} (branch not taken) and {@code taken} copies of a scalar compared with the
     * constant {@code k} ({@code reversed}: the constant is on the left).
     */
    private static Boolean narrow(int operation, boolean signed, Reg fall, Reg taken, long k, boolean reversed) {
        int op = reversed ? mirror(operation) : operation;
        switch (op) {
            case Bpf.JEQ -> {
                long lo = fall.umin;
                long hi = fall.umax;
                if (Long.compareUnsigned(k, lo) < 0 || Long.compareUnsigned(k, hi) > 0) {
                    return false;
                }
                if (lo == hi) {
                    return true;
                }
                taken.setConst(k);
                if (k == lo) {
                    fall.unsigned(lo + 1, hi);
                } else if (k == hi) {
                    fall.unsigned(lo, hi - 1);
                }
                return null;
            }
            case Bpf.JNE -> {
                Boolean eq = narrow(Bpf.JEQ, signed, taken, fall, k, false);
                return eq == null ? null : !eq;
            }
            case Bpf.JSET -> {
                if (fall.isConst()) {
                    return (fall.umin & k) != 0;
                }
                return null;
            }
            default -> {
            }
        }
        if (signed) {
            long lo = fall.smin;
            long hi = fall.smax;
            switch (op) {
                case Bpf.JSGT -> {
                    if (lo > k) {
                        return true;
                    }
                    if (hi <= k) {
                        return false;
                    }
                    setSigned(taken, k + 1, hi);
                    setSigned(fall, lo, k);
                }
                case Bpf.JSGE -> {
                    if (lo >= k) {
                        return true;
                    }
                    if (hi < k) {
                        return false;
                    }
                    setSigned(taken, k, hi);
                    setSigned(fall, lo, k - 1);
                }
                case Bpf.JSLT -> {
                    if (hi < k) {
                        return true;
                    }
                    if (lo >= k) {
                        return false;
                    }
                    setSigned(taken, lo, k - 1);
                    setSigned(fall, k, hi);
                }
                default -> { // JSLE
                    if (hi <= k) {
                        return true;
                    }
                    if (lo > k) {
                        return false;
                    }
                    setSigned(taken, lo, k);
                    setSigned(fall, k + 1, hi);
                }
            }
            return null;
        }
        long lo = fall.umin;
        long hi = fall.umax;
        switch (op) {
            case Bpf.JGT -> {
                if (Long.compareUnsigned(lo, k) > 0) {
                    return true;
                }
                if (Long.compareUnsigned(hi, k) <= 0) {
                    return false;
                }
                taken.unsigned(k + 1, hi);
                fall.unsigned(lo, k);
            }
            case Bpf.JGE -> {
                if (Long.compareUnsigned(lo, k) >= 0) {
                    return true;
                }
                if (Long.compareUnsigned(hi, k) < 0) {
                    return false;
                }
                taken.unsigned(k, hi);
                fall.unsigned(lo, k - 1);
            }
            case Bpf.JLT -> {
                if (Long.compareUnsigned(hi, k) < 0) {
                    return true;
                }
                if (Long.compareUnsigned(lo, k) >= 0) {
                    return false;
                }
                taken.unsigned(lo, k - 1);
                fall.unsigned(k, hi);
            }
            default -> { // JLE
                if (Long.compareUnsigned(hi, k) <= 0) {
                    return true;
                }
                if (Long.compareUnsigned(lo, k) > 0) {
                    return false;
                }
                taken.unsigned(lo, k);
                fall.unsigned(k + 1, hi);
            }
        }
        return null;
    }

    private static void setSigned(Reg r, long lo, long hi) {
        r.kind = Kind.SCALAR;
        r.smin = lo;
        r.smax = hi;
        if (lo >= 0) {
            r.umin = Math.max(r.umin >= 0 ? r.umin : 0, lo);
            r.umax = r.umax >= 0 ? Math.min(r.umax, hi) : hi;
        }
    }

    /** The comparison with its operands swapped: k OP r is r MIRROR(OP) k. */
    private static int mirror(int op) {
        return switch (op) {
            case Bpf.JGT -> Bpf.JLT;
            case Bpf.JGE -> Bpf.JLE;
            case Bpf.JLT -> Bpf.JGT;
            case Bpf.JLE -> Bpf.JGE;
            case Bpf.JSGT -> Bpf.JSLT;
            case Bpf.JSGE -> Bpf.JSLE;
            case Bpf.JSLT -> Bpf.JSGT;
            case Bpf.JSLE -> Bpf.JSGE;
            default -> op;
        };
    }

    /**
     * {@code ptr} is a packet pointer bounded by {@code end}: data by data_end, data_meta by data itself
     * ({@code reg_is_init_pkt_pointer}: data with no offset, fixed or variable).
     */
    private static boolean isPacketBound(Reg ptr, Reg end) {
        return ptr.kind == Kind.PKT && end.kind == Kind.PKT_END
                || ptr.kind == Kind.PKT_META && end.kind == Kind.PKT && end.off == 0 && end.varMax == 0;
    }

    /** {@code MAX_PACKET_OFF}: no range is proved for a pointer that may lie further into the packet. */
    private static final long MAX_PACKET_OFF = 0xffff;

    /**
     * {@code find_good_pkt_pointers}: {@code ptr} is at most the end (below it when {@code open}), so every
     * pointer of its kind and derivation may read {@code ptr.off} bytes (one more when open).
     */
    private static void markRange(State s, Reg ptr, boolean open) {
        if (ptr.off < 0 || ptr.off == 0 && open || ptr.varMax > MAX_PACKET_OFF || ptr.varMax + ptr.off > MAX_PACKET_OFF) {
            return;
        }
        long range = ptr.off + (open ? 1 : 0);
        for (Frame f : s.frames) {
            for (Reg r : f.regs) {
                if (r.kind == ptr.kind && r.id == ptr.id && r.range < range) {
                    r.range = range;
                }
            }
            for (Reg r : f.spill) {
                if (r != null && r.kind == ptr.kind && r.id == ptr.id && r.range < range) {
                    r.range = range;
                }
            }
        }
    }

    /** {@code mark_ptr_or_null_regs}: after a NULL check every copy is either 0 or the value pointer. */
    private static void markNull(State s, int id, boolean isNull) {
        if (isNull) {
            s.refs.remove(id); // a reservation that failed holds nothing to release
        }
        for (Frame f : s.frames) {
            for (Reg r : f.regs) {
                nullOrValue(r, id, isNull);
            }
            for (Reg r : f.spill) {
                if (r != null) {
                    nullOrValue(r, id, isNull);
                }
            }
        }
    }

    private static boolean isPointer(Reg r) {
        return r.kind != Kind.SCALAR && r.kind != Kind.NOT_INIT;
    }

    private static boolean maybeNull(Reg r) {
        return r.kind == Kind.MAP_VALUE_OR_NULL || r.kind == Kind.ALLOC_MEM_OR_NULL || r.kind == Kind.MAP_PTR_OR_NULL;
    }

    private static void nullOrValue(Reg r, int id, boolean isNull) {
        if ((r.kind == Kind.MAP_VALUE_OR_NULL || r.kind == Kind.ALLOC_MEM_OR_NULL || r.kind == Kind.MAP_PTR_OR_NULL) && r.id == id) {
            if (isNull) {
                r.setConst(0);
                r.mapIndex = -1;
                r.id = 0;
                r.memSize = 0;
            } else {
                r.kind = switch (r.kind) {
                    case MAP_VALUE_OR_NULL -> Kind.MAP_VALUE;
                    case MAP_PTR_OR_NULL -> Kind.MAP_PTR; // an inner map: usable only as a map argument
                    default -> Kind.ALLOC_MEM;
                };
                if (r.kind == Kind.MAP_PTR) {
                    r.id = 0;
                }
            }
        }
    }

    /** {@code release_reference}: the record is submitted or discarded; every copy of its pointer is a number now. */
    private static void release(State s, int id) {
        s.refs.remove(id);
        for (Frame f : s.frames) {
            for (Reg r : f.regs) {
                if (r.kind == Kind.ALLOC_MEM && r.id == id) {
                    r.unknown();
                }
            }
            for (Reg r : f.spill) {
                if (r != null && r.kind == Kind.ALLOC_MEM && r.id == id) {
                    r.unknown();
                }
            }
        }
    }

    private Boolean exit(int i, State s) {
        Frame f = s.cur();
        Reg r0 = f.regs[0];
        if (s.frames.size() == 1) {
            if (r0.kind == Kind.NOT_INIT) {
                throw reject(i, "R0 !read_ok"); // check_return_code: the program's own exit only
            }
            if (!s.refs.isEmpty()) {
                var ref = s.refs.firstEntry();
                throw reject(i, "Unreleased reference id=" + ref.getKey() + " alloc_insn=" + ref.getValue()
                        + " (a reserved ring buffer record must be submitted or discarded on every path)");
            }
            if (r0.kind != Kind.SCALAR && type == ProgType.RAW) {
                throw reject(i, "R0 leaks addr as return value");
            }
            if (s.global && r0.kind != Kind.SCALAR) {
                // check_return_code: a global function returns a number to callers that know nothing of it
                throw reject(i, "At subprogram exit the register R0 is not a scalar value (" + kindName(r0.kind) + ")");
            }
            // XDP and tc: check_return_code lets a privileged loader's program return a pointer
            // (allow_ptr_leaks), and neither has a return range; the runtime takes it as an unknown action
            // an XDP program may return any number (check_return_code has no range for XDP): an action
            // the runtime does not know is bpf_warn_invalid_xdp_action's case, aborted and dropped
            return false;
        }
        if (r0.isPointer() && r0.kind == Kind.STACK && r0.frame == s.frames.size() - 1) {
            throw reject(i, "cannot return a pointer to the callee's stack");
        }
        // prepare_func_exit: a subprogram hands back whatever r0 holds, unset too; the caller that reads it is refused
        Reg ret = r0.copy();
        int returnPc = f.returnPc;
        s.frames.remove(s.frames.size() - 1);
        Frame caller = s.cur();
        caller.regs[0] = ret;
        for (int r = 1; r <= 5; r++) {
            caller.regs[r] = new Reg(); // clobbered by the call
        }
        s.pc = returnPc;
        return true;
    }

    private void call(int i, State s) {
        Frame f = s.cur();
        if ((p.op[i] & Bpf.X) != 0) {
            throw reject(i, "indirect calls (callx) are not allowed in verified programs");
        }
        if (p.src[i] == Bpf.PSEUDO_CALL && globals.containsKey(p.target(i))) {
            globalCall(i, s, f, p.target(i));
            return;
        }
        if (p.src[i] == Bpf.PSEUDO_CALL) {
            if (s.frames.size() >= Bpf.MAX_FRAMES) {
                throw reject(i, "the call stack of " + Bpf.MAX_FRAMES + " frames is too deep");
            }
            Frame callee = new Frame();
            for (int r = 0; r <= 10; r++) {
                callee.regs[r] = r >= 1 && r <= 5 ? f.regs[r].copy() : new Reg();
            }
            callee.regs[10] = stackPointer(s.frames.size(), 0);
            callee.returnPc = i + 1;
            s.frames.add(callee);
            s.pc = p.target(i);
            return;
        }
        if (p.src[i] == Kfuncs.PSEUDO_KFUNC_CALL) {
            kfuncCall(i, s, f);
            return;
        }
        int id = p.imm[i];
        HelperProto proto = protos.get(id);
        if (proto == null) {
            throw reject(i, "invalid func unknown#" + id);
        }
        if (!implemented.test(id)) {
            // check_helper_call: the program type's get_func_proto gave no function for it
            throw reject(i, "unknown func " + proto.name() + "#" + id);
        }
        if (id == HelperProtos.TAIL_CALL && !s.refs.isEmpty()) {
            throw reject(i, "tail_call would lead to reference leak");
        }
        MapSpec map = null;
        int mapIndex = -1;
        long allocSize = 0;
        int released = 0;
        for (int a = 0; a < proto.args().size(); a++) {
            int r = a + 1;
            Reg arg = f.regs[r];
            HelperProto.Arg want = proto.args().get(a);
            if (arg.kind == Kind.NOT_INIT) {
                throw reject(i, "R" + r + " !read_ok");
            }
            boolean memory = want == HelperProto.Arg.PTR_TO_MAP_KEY || want == HelperProto.Arg.PTR_TO_MAP_VALUE
                    || want == HelperProto.Arg.PTR_TO_MEM || want == HelperProto.Arg.PTR_TO_UNINIT_MEM
                    || want == HelperProto.Arg.PTR_TO_LONG;
            if (memory && (arg.kind == Kind.PKT || arg.kind == Kind.PKT_META) && !PKT_ACCESS.contains(proto.name())) {
                // may_access_direct_pkt_data: only helpers whose prototype says pkt_access take packet memory
                throw reject(i, "helper access to the packet is not allowed");
            }
            switch (want) {
                case ANYTHING -> {
                }
                case CONST_MAP_PTR -> {
                    if (arg.kind != Kind.MAP_PTR) {
                        throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=map_ptr");
                    }
                    mapIndex = arg.mapIndex;
                    map = maps.get(mapIndex);
                    checkMapForHelper(i, proto, map);
                }
                case PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE -> {
                    if (map == null) {
                        throw reject(i, "R" + r + " a map key or value needs the map argument first");
                    }
                    int size = want == HelperProto.Arg.PTR_TO_MAP_KEY ? map.keySize() : map.valueSize();
                    readableMemory(i, s, r, arg, size, want == HelperProto.Arg.PTR_TO_MAP_KEY ? "key" : "value");
                }
                case PTR_TO_UNINIT_MAP_VALUE -> {
                    if (map == null) {
                        throw reject(i, "R" + r + " a map value needs the map argument first");
                    }
                    if (map.type() == MAP_BLOOM_FILTER) {
                        readableMemory(i, s, r, arg, map.valueSize(), "value"); // a bloom filter's peek reads the value it tests
                    } else {
                        writtenMemory(i, s, r, arg, map.valueSize()); // pop and peek fill it
                    }
                }
                case PTR_TO_CTX -> {
                    if (arg.kind != Kind.CTX || arg.off != 0) {
                        throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=ctx");
                    }
                }
                case PTR_TO_MEM -> {
                    Reg size = f.regs[r + 1];
                    if (size.kind != Kind.SCALAR) {
                        throw reject(i, "R" + (r + 1) + " type=" + kindName(size.kind) + " expected=scalar (a size)");
                    }
                    if (Long.compareUnsigned(size.umax, 1 << 29) > 0) {
                        throw reject(i, "R" + (r + 1) + " unbounded memory access, use 'var &= const' or 'if (var < const)'");
                    }
                    if (arg.isConst() && arg.umin == 0 && size.umax == 0 && proto.name().equals("bpf_csum_diff")) {
                        continue; // ARG_PTR_TO_MEM | PTR_MAYBE_NULL: NULL of no bytes (check_helper_mem_access)
                    }
                    readableMemory(i, s, r, arg, size.umax, "memory");
                }
                case PTR_TO_UNINIT_MEM -> {
                    Reg size = f.regs[r + 1];
                    if (size.kind != Kind.SCALAR) {
                        throw reject(i, "R" + (r + 1) + " type=" + kindName(size.kind) + " expected=scalar (a size)");
                    }
                    if (Long.compareUnsigned(size.umax, 1 << 29) > 0) {
                        throw reject(i, "R" + (r + 1) + " unbounded memory access, use 'var &= const' or 'if (var < const)'");
                    }
                    writtenMemory(i, s, r, arg, size.umax);
                }
                case PTR_TO_LONG -> {
                    // check_func_arg: 8 writable bytes, aligned strictly (check_ptr_alignment with strict)
                    if (arg.varMax == 0 && (arg.kind == Kind.STACK || arg.kind == Kind.MAP_VALUE) && arg.off % 8 != 0) {
                        throw reject(i, "misaligned " + (arg.kind == Kind.STACK ? "stack" : "value") + " access off (0x0; 0x0)+" + arg.off
                                + "+0 size 8");
                    }
                    writtenMemory(i, s, r, arg, 8);
                }
                case CONST_ALLOC_SIZE -> {
                    if (!arg.isConst()) {
                        throw reject(i, "R" + r + " is not a known constant'");
                    }
                    if (arg.umin == 0 || Long.compareUnsigned(arg.umin, 1 << 29) > 0) {
                        throw reject(i, "R" + r + " invalid size " + Long.toUnsignedString(arg.umin) + " to reserve");
                    }
                    allocSize = arg.umin;
                }
                case PTR_TO_ALLOC_MEM -> {
                    if (arg.kind != Kind.ALLOC_MEM) {
                        throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=alloc_mem");
                    }
                    if (arg.off != 0 || arg.varMax != 0) {
                        throw reject(i, "R" + r + " must have zero offset when passed to release func");
                    }
                    if (!s.refs.containsKey(arg.id)) {
                        throw reject(i, "release reference of unknown id " + arg.id);
                    }
                    released = arg.id;
                }
                case CONST_SIZE, CONST_SIZE_OR_ZERO -> {
                    if (arg.kind != Kind.SCALAR) {
                        throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=scalar");
                    }
                    if (want == HelperProto.Arg.CONST_SIZE && arg.umax == 0) {
                        throw reject(i, "R" + r + " invalid zero-sized read");
                    }
                }
            }
        }
        Reg r0;
        switch (proto.ret()) {
            case PTR_TO_MAP_VALUE_OR_NULL -> {
                r0 = new Reg();
                boolean ofMaps = mapIndex >= 0 && mapIndex < realMaps && maps.get(mapIndex).innerMap() != null;
                // check_helper_call: a map of maps' lookup gives CONST_PTR_TO_MAP | PTR_MAYBE_NULL, of its inner_map_meta
                r0.kind = ofMaps ? Kind.MAP_PTR_OR_NULL : Kind.MAP_VALUE_OR_NULL;
                r0.mapIndex = ofMaps ? realMaps + mapIndex : mapIndex;
                r0.id = nextId++;
            }
            case PTR_TO_ALLOC_MEM_OR_NULL -> {
                r0 = new Reg();
                r0.kind = Kind.ALLOC_MEM_OR_NULL;
                r0.memSize = allocSize;
                r0.id = nextId++;
                s.refs.put(r0.id, i); // acquired: every path must submit or discard it
            }
            case VOID -> r0 = new Reg(); // nothing to read
            default -> r0 = Reg.scalar();
        }
        if (released != 0) {
            release(s, released);
        }
        for (int r = 1; r <= 5; r++) {
            f.regs[r] = new Reg(); // caller-saved registers are clobbered
        }
        f.regs[0] = r0;
        if (proto.changesPacket()) {
            invalidatePacket(s);
            packetMoved = true;
        }
        s.pc = i + 1;
    }

    /**
     * A call of a global function ({@code check_func_call} with {@code subprog_is_global}): the arguments
     * checked against its BTF types ({@code btf_check_subprog_call}), its body verified apart once, and the
     * caller goes on with an unknown number in r0 and r1-r5 clobbered.
     */
    private void globalCall(int i, State s, Frame f, int target) {
        int[] desc = globals.get(target);
        if (desc[0] != 0) {
            throw reject(i, "Global function at insn " + target + " doesn't return scalar. Only those are supported.");
        }
        for (int a = 1; a < desc.length; a++) {
            Reg arg = f.regs[a];
            if (desc[a] == 0 && arg.kind != Kind.SCALAR) {
                throw reject(i, "R" + a + " is not a scalar");
            }
            if (desc[a] == 1) {
                if (arg.kind != Kind.CTX) {
                    throw reject(i, "arg#" + (a - 1) + " expects pointer to ctx");
                }
                if (arg.off != 0 || arg.varMax != 0) {
                    throw reject(i, "dereference of modified ctx ptr R" + a + " off=" + arg.off + " disallowed");
                }
            }
        }
        if (!globalsChecked.contains(target)) {
            globalsCalled.add(target);
        }
        for (int r = 1; r <= 5; r++) {
            f.regs[r] = new Reg();
        }
        f.regs[0] = Reg.scalar();
        if (movesPacket(target)) {
            invalidatePacket(s);
            packetMoved = true;
        }
        s.pc = i + 1;
    }

    /**
     * A call of a kernel function ({@code check_kfunc_call}): one modnet serves, allowed for the program
     * type, the context in r1 and, in the next registers, memory of the sizes it fills; r0 a number.
     */
    private void kfuncCall(int i, State s, Frame f) {
        Kfuncs.Kfunc k = Kfuncs.byId(p.imm[i]);
        if (k == null) {
            throw reject(i, "kernel btf_id " + p.imm[i] + " is not a function");
        }
        if (type != ProgType.XDP) {
            throw reject(i, "calling kernel function " + k.name() + " is not allowed");
        }
        Reg ctx = f.regs[1];
        if (ctx.kind == Kind.NOT_INIT) {
            throw reject(i, "R1 !read_ok");
        }
        if (ctx.kind != Kind.CTX || ctx.off != 0 || ctx.varMax != 0) {
            throw reject(i, "arg#0 expected pointer to ctx, but got " + kindName(ctx.kind));
        }
        for (int a = 0; a < k.written().length; a++) {
            int r = a + 2;
            Reg arg = f.regs[r];
            if (arg.kind == Kind.NOT_INIT) {
                throw reject(i, "R" + r + " !read_ok");
            }
            writtenMemory(i, s, r, arg, k.written()[a]);
        }
        for (int r = 1; r <= 5; r++) {
            f.regs[r] = new Reg(); // caller-saved registers are clobbered
        }
        f.regs[0] = Reg.scalar();
        s.pc = i + 1;
    }

    /** Helpers whose prototype has {@code pkt_access}: they may be handed packet memory. */
    private static final Set<String> PKT_ACCESS = Set.of("bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_map_delete_elem",
            "bpf_csum_diff");

    private void checkMapForHelper(int i, HelperProto proto, MapSpec map) {
        boolean redirect = proto.name().equals("bpf_redirect_map");
        boolean tail = proto.name().equals("bpf_tail_call");
        int t = map.type();
        boolean redirectMap = t == MAP_DEVMAP || t == MAP_CPUMAP || t == MAP_DEVMAP_HASH || t == MAP_XSKMAP;
        // a devmap's, devmap_hash's or xskmap's entries may also be looked up (its value read-only to programs)
        boolean lookupOfRedirect = proto.id() == HelperProtos.MAP_LOOKUP_ELEM && redirectMap && t != MAP_CPUMAP;
        if (redirect != redirectMap && !lookupOfRedirect && (redirect || proto.name().startsWith("bpf_map_"))) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
        if (tail != (t == MAP_PROG_ARRAY) && (tail || proto.name().startsWith("bpf_map_"))) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
        if (proto.name().startsWith("bpf_ringbuf") != (t == MAP_RINGBUF) && (proto.name().startsWith("bpf_ringbuf")
                || proto.name().startsWith("bpf_map_"))) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
        // check_map_func_compatibility: a program only looks a map of maps up (its inner maps are the user's to set)
        if ((t == MAP_ARRAY_OF_MAPS || t == MAP_HASH_OF_MAPS) && proto.id() != HelperProtos.MAP_LOOKUP_ELEM) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
        // check_map_func_compatibility: a perf event array is for bpf_perf_event_output, which takes no other map
        if ((t == MAP_PERF_EVENT_ARRAY) != (proto.id() == HelperProtos.PERF_EVENT_OUTPUT)
                && (proto.id() == HelperProtos.PERF_EVENT_OUTPUT || proto.name().startsWith("bpf_map_"))) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
        // check_map_func_compatibility: queues and stacks only push, pop and peek; bloom filters push and peek
        int id = proto.id();
        boolean queueOp = id == HelperProtos.MAP_PUSH_ELEM || id == HelperProtos.MAP_POP_ELEM || id == HelperProtos.MAP_PEEK_ELEM;
        boolean queue = t == MAP_QUEUE || t == MAP_STACK;
        if (queue && !queueOp || t == MAP_BLOOM_FILTER && !(id == HelperProtos.MAP_PUSH_ELEM || id == HelperProtos.MAP_PEEK_ELEM)
                || queueOp && !(queue || t == MAP_BLOOM_FILTER)) {
            throw reject(i, "cannot pass map_type " + t + " into func " + proto.name() + "#" + proto.id());
        }
    }

    /** {@code check_helper_mem_access}: {@code size} bytes at the pointer are readable (and, on the stack, written). */
    /** Memory a helper fills ({@code ARG_PTR_TO_UNINIT_MEM}): in bounds and writable; stack bytes count as written after. */
    private void writtenMemory(int i, State s, int r, Reg arg, long size) {
        switch (arg.kind) {
            case STACK -> {
                Frame f = s.frames.get(arg.frame);
                int lo = stackOffset(i, r, arg, 0, (int) Math.max(size, 1));
                maxStack = Math.max(maxStack, Bpf.STACK_SIZE - lo);
                for (int k = lo; k < lo + size; k++) {
                    if (f.slot[k] == 2) {
                        Arrays.fill(f.slot, (k / 8) * 8, (k / 8) * 8 + 8, (byte) 1);
                        f.spill[k / 8] = null;
                    }
                    f.slot[k] = 1;
                }
            }
            case PKT, PKT_META -> checkPacket(i, r, arg, 0, (int) size);
            case MAP_VALUE -> {
                if (readOnlyToPrograms(maps.get(arg.mapIndex))) {
                    throw reject(i, "write into map forbidden, value_regno=" + r + " (" + maps.get(arg.mapIndex).name()
                            + " is read-only to programs)");
                }
                checkMapValue(i, r, arg, 0, (int) size, false);
            }
            default -> throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=fp, pkt, map_value");
        }
    }

    private void readableMemory(int i, State s, int r, Reg arg, long size, String what) {
        switch (arg.kind) {
            case STACK -> {
                Frame f = s.frames.get(arg.frame);
                int lo = stackOffset(i, r, arg, 0, (int) Math.max(size, 1));
                // never-written bytes are passed as they are: privileged programs may (allow_uninit_stack)
            }
            case PKT, PKT_META -> checkPacket(i, r, arg, 0, (int) size);
            case MAP_VALUE -> checkMapValue(i, r, arg, 0, (int) size, true);
            case ALLOC_MEM -> checkAllocMem(i, arg, 0, (int) size);
            case RAW -> {
            }
            default -> throw reject(i, "R" + r + " type=" + kindName(arg.kind) + " expected=fp, pkt, map_value");
        }
    }
}

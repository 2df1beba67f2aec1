package org.modnet.ebpf.impl;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.Opcode;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.AccessFlag;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfMemory;
import org.modnet.ebpf.api.Helper;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;

/**
 * The JIT: compiles a checked program to JVM bytecode with {@code java.lang.classfile}, one hidden
 * class per program, which HotSpot then compiles to machine code. eBPF registers become {@code long}
 * locals, jumps become branches, each bpf-to-bpf subprogram a static method (its callee-saved
 * registers are its own locals; its frame pointer 512 bytes below the caller's), helpers and memory
 * accesses calls into {@link Memory} and {@link Helpers} that HotSpot inlines. Semantics are the
 * interpreter's, shared through its static methods, so both give the same result on every program.
 * Backward jumps count down a budget of {@link Interpreter#MAX_STEPS}, so an unverified program cannot
 * run for ever either.
 */
final class Jit {
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final ClassDesc CD_MEMORY = ClassDesc.of(Memory.class.getName());
    private static final ClassDesc CD_HELPERS = ClassDesc.of(Helpers.class.getName());
    private static final ClassDesc CD_JIT = ClassDesc.of(Jit.class.getName());
    private static final ClassDesc CD_INTERP = ClassDesc.of(Interpreter.class.getName());
    private static final ClassDesc CD_CODE = ClassDesc.of(Code.class.getName());
    private static final ClassDesc CD_HELPER = ClassDesc.of(Helper.class.getName());
    private static final ClassDesc CD_MAP = ClassDesc.of(BpfMapBase.class.getName());
    private static final ClassDesc CD_HASH_MAP = ClassDesc.of(BpfMapBase.HashMap.class.getName());
    private static final ClassDesc CD_BPF_MEMORY = ClassDesc.of(BpfMemory.class.getName());
    private static final MethodTypeDesc MT_HELPER = MethodTypeDesc.of(CD_long, CD_long, CD_long, CD_long, CD_long, CD_long, CD_BPF_MEMORY);
    /**
     * A subprogram: r1-r5 and r10, then the memory and the helpers. The registers come first so that
     * slots 0 and 2, which the JVM loads and stores with one-byte instructions, can hold the two
     * registers the subprogram uses most (a large program stays under HotSpot's 8000-byte limit
     * for compiling a method, {@code HugeMethodLimit}, longer).
     */
    private static final MethodTypeDesc MT_SUB = MethodTypeDesc.of(CD_long, CD_long, CD_long, CD_long, CD_long, CD_long,
            CD_long, CD_MEMORY, CD_HELPERS);
    private static final MethodTypeDesc MT_RUN = MethodTypeDesc.of(CD_long, CD_MEMORY, CD_HELPERS, CD_long, CD_long, CD_long);
    /**
     * The main subprogram's entry for {@link Code#runPlain}: the memory, the stack's bytes, the context's array,
     * the packet's displacement and the frame's start and end, which the caller hands over instead of the
     * subprogram reading them from the memory and the context at every run. Six arguments, all in registers
     * in HotSpot's calling convention; r1 (the context), r2-r5 (zero), r10 (the stack's top) and the helpers
     * are constants of the code.
     */
    private static final MethodTypeDesc MT_ENTRY = MethodTypeDesc.of(CD_long, CD_MEMORY, ConstantDescs.CD_byte.arrayType(),
            ConstantDescs.CD_long.arrayType(), CD_long, CD_long, CD_long);
    private static final MethodTypeDesc MT_RUN_PLAIN = MethodTypeDesc.of(CD_long, CD_MEMORY, ConstantDescs.CD_long.arrayType(), CD_long,
            ConstantDescs.CD_byte.arrayType(), CD_long, CD_long);
    private static final MethodTypeDesc MT_LOAD = MethodTypeDesc.of(CD_long, CD_long);
    private static final ClassDesc CD_SEGMENT = ClassDesc.of(java.lang.foreign.MemorySegment.class.getName());
    private static final ClassDesc CD_BYTES = ConstantDescs.CD_byte.arrayType();
    private static final ClassDesc CD_LONGS = ConstantDescs.CD_long.arrayType();
    private static final MethodTypeDesc MT_LOAD_IN = MethodTypeDesc.of(CD_long, CD_SEGMENT, CD_int, CD_long);
    private static final MethodTypeDesc MT_STORE_IN = MethodTypeDesc.of(CD_void, CD_SEGMENT, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MT_STORE_IN_RESULT = MethodTypeDesc.of(CD_long, CD_SEGMENT, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MT_STORE = MethodTypeDesc.of(CD_void, CD_long, CD_long);
    private static final ClassDesc CD_PLAIN = ClassDesc.of(PlainMemory.class.getName());
    private static final ClassDesc CD_UNSAFE = ClassDesc.of("sun.misc.Unsafe");
    private static final MethodTypeDesc MT_PLAIN_ATOMIC = MethodTypeDesc.of(CD_long, CD_Object, CD_long, CD_long, CD_long);

    /** What the hidden class implements: the entry with r1, r2 and the frame pointer. */
    public interface Code {
        long run(Memory mem, Helpers helpers, long r1, long r2, long r10);

        /**
         * A run of the variant with plain context and packet accesses, r1 the context, r2 zero, the frame
         * pointer the stack's top, the helpers the class's own: what {@link Jit#plainRun} allows, with what
         * that variant reads from the memory at every run ({@link Memory#plainContext}, {@link
         * Memory#plainPacketDisplacement}, {@link Memory#stackBytes}) handed over by the caller, which
         * can keep them in registers ({@link XdpBuffer#testRun}): a run is then the program's own code, as a
         * native JIT's called function is. Only where {@link Executable#plainCode} gave this code.
         *
         * <p>{@code data} and {@code dataEnd} are the XDP context's first two words as the caller just set them
         * (the frame's start, also data_meta's, and its end): where no call the verifier reached moves the
         * packet ({@link Verifier.Checked#movesPacket}), the main subprogram's loads of {@code ctx->data},
         * {@code ctx->data_end} and {@code ctx->data_meta} are these arguments, not loads of what the caller
         * has just stored; elsewhere they are loaded from the context, which the helpers update.
         */
        long runPlain(Memory mem, long[] ctx, long packetDisplacement, byte[] stack, long data, long dataEnd);
    }

    /** The frame pointer of a run's first frame ({@link Memory#stackTop}: the stack's size is fixed). */
    private static final long STACK_TOP = Memory.base(Memory.STACK) + (long) Bpf.STACK_SIZE * Bpf.MAX_FRAMES;

    private Jit() {
    }

    /** Compiles the program; throws if it cannot (a subprogram too large for one JVM method). */
    static Executable compile(Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases) throws BpfException {
        return compile(p, helpers, maps, bases, false);
    }

    /**
     * {@link #compile}; {@code packetArgs}: the program is XDP's and no call the verifier reached moves the
     * packet, so {@code entry0} takes data, data_end and data_meta from {@link Code#runPlain}'s arguments.
     */
    static Executable compile(Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases, boolean packetArgs) throws BpfException {
        byte[] bytes = build(p, helpers, maps, bases, packetArgs);
        return define(p, bytes, helpers, maps, bases);
    }

    /** The hidden class's bytes: {@code run}, {@code runPlain}, {@code entry0} and each subprogram's two variants. */
    static byte[] build(Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases, boolean packetArgs) throws BpfException {
        List<Integer> starts = subprograms(p);
        boolean[] targets = jumpTargets(p);
        String name = Jit.class.getPackageName() + ".BpfProgram$" + SEQUENCE.incrementAndGet();
        ClassDesc self = ClassDesc.of(name);
        byte[] bytes;
        try {
            bytes = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                    ClassHierarchyResolver.ofClassLoading(Jit.class.getClassLoader()))).build(self, cb -> {
                        cb.withFlags(AccessFlag.PUBLIC, AccessFlag.FINAL, AccessFlag.SYNTHETIC);
                        cb.withInterfaceSymbols(CD_CODE);
                        cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> {
                            code.aload(0);
                            code.invokespecial(CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void);
                            code.return_();
                        });
                        cb.withMethodBody("run", MT_RUN, ClassFile.ACC_PUBLIC, code -> {
                            // the run's packet native and its context a long[] (XDP's and tc's): the variant whose
                            // proven context and packet accesses are plain; else the one that checks them
                            Label checkedRun = code.newLabel();
                            code.aload(1);
                            code.invokestatic(CD_JIT, "plainRun", MethodTypeDesc.of(CD_boolean, CD_MEMORY));
                            code.ifeq(checkedRun);
                            entryArgs(code);
                            code.invokestatic(self, "sub0", MT_SUB);
                            code.lreturn();
                            code.labelBinding(checkedRun);
                            entryArgs(code);
                            code.invokestatic(self, "checked0", MT_SUB);
                            code.lreturn();
                        });
                        cb.withMethodBody("runPlain", MT_RUN_PLAIN, ClassFile.ACC_PUBLIC, code -> {
                            // this, the memory, the context's array, the displacement (3-4), the stack's bytes, data (6-7), data_end (8-9)
                            code.aload(1);
                            code.aload(5);
                            code.aload(2);
                            code.lload(3);
                            code.lload(6);
                            code.lload(8);
                            code.invokestatic(self, "entry0", MT_ENTRY);
                            code.lreturn();
                        });
                        int end0 = starts.size() > 1 ? starts.get(1) : p.length();
                        cb.withMethodBody("entry0", MT_ENTRY, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC,
                                code -> new Emitter(p, helpers, maps, bases, targets, self, code, 0, end0, true, true, packetArgs).emit());
                        for (int k = 0; k < starts.size(); k++) {
                            int from = starts.get(k);
                            int to = k + 1 < starts.size() ? starts.get(k + 1) : p.length();
                            cb.withMethodBody("sub" + from, MT_SUB, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC,
                                    code -> new Emitter(p, helpers, maps, bases, targets, self, code, from, to, true, false, false).emit());
                            cb.withMethodBody("checked" + from, MT_SUB, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC,
                                    code -> new Emitter(p, helpers, maps, bases, targets, self, code, from, to, false, false, false).emit());
                        }
                    });
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new BpfException("the JIT cannot compile " + p.name() + ": " + e.getMessage());
        }
        return bytes;
    }

    /** Defines the class {@link #build} made, with its class data, and gives its code as an {@link Executable}. */
    private static Executable define(Program p, byte[] bytes, Helpers helpers, List<BpfMapBase> maps, int[] bases) throws BpfException {
        try {
            // the class data: the helpers by number, then the maps, then the maps' values (one segment
            // for all CPUs, or null for per-CPU maps), which call sites load as constants
            List<Object> data = new ArrayList<>();
            for (int id = 0; id < helpers.size(); id++) {
                data.add(helpers.get(id));
            }
            data.addAll(maps);
            for (BpfMapBase m : maps) {
                data.add(m.cpus() == 1 ? m.values[0] : null);
            }
            data.add(PlainMemory.UNSAFE); // the plain accesses' accessor
            data.add(helpers); // runPlain's helpers, last
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClassWithClassData(bytes,
                    java.util.Collections.unmodifiableList(data), true);
            Code code = (Code) lookup.findConstructor(lookup.lookupClass(), java.lang.invoke.MethodType.methodType(void.class))
                    .invoke();
            // entry0's accesses are plain only where the emitter's are (a verified program, the accessors there)
            boolean plainEntry = bases != null && PlainMemory.AVAILABLE && !Boolean.getBoolean("modnet.ebpf.jit.checked");
            return new Executable() {
                @Override
                public Code plainCode() {
                    return plainEntry ? code : null;
                }

                @Override
                public long run(Memory memory, long r1, long r2) {
                    if (memory.tailCalled) {
                        memory.tailCalled = false; // a load per run, a store only after a fault left it set
                    }
                    return code.run(memory, helpers, r1, r2, memory.stackTop());
                }

                @Override
                public String engine() {
                    return "jit";
                }
            };
        } catch (Throwable e) {
            throw new BpfException("the JIT's class for " + p.name() + " was refused by the JVM: " + e);
        }
    }

    /**
     * HotSpot's {@code HugeMethodLimit}: a method with more bytecode than this is never compiled (with the default
     * {@code -XX:+DontCompileHugeMethods}), so a subprogram past it would run in the interpreter for ever.
     */
    static final int HUGE_METHOD_LIMIT = 8000;

    /** The bytecode size of each method of a class {@link #build} made, by name. */
    static java.util.Map<String, Integer> methodSizes(byte[] bytes) {
        java.util.Map<String, Integer> sizes = new java.util.TreeMap<>();
        for (java.lang.classfile.MethodModel m : ClassFile.of().parse(bytes).methods()) {
            m.findAttribute(java.lang.classfile.Attributes.code())
                    .ifPresent(c -> sizes.put(m.methodName().stringValue(), c.codeLength()));
        }
        return sizes;
    }

    /** Which instructions a jump or call lands on: where what a register holds depends on the way in. */
    static boolean[] jumpTargets(Program p) {
        boolean[] t = new boolean[p.length() + 1];
        for (int i = 0; i < p.length(); i++) {
            if (p.isSecondHalf(i)) {
                continue;
            }
            int cls = p.op[i] & 0x07;
            int operation = p.op[i] & 0xf0;
            if ((cls == Bpf.JMP || cls == Bpf.JMP32) && operation != Bpf.EXIT && operation != Bpf.CALL) {
                int target = p.target(i);
                if (target >= 0 && target < t.length) {
                    t[target] = true;
                }
            } else if (cls == Bpf.JMP && operation == Bpf.CALL && p.src[i] == Bpf.PSEUDO_CALL) {
                int target = p.target(i);
                if (target >= 0 && target < t.length) {
                    t[target] = true;
                }
            }
        }
        return t;
    }

    /** Instruction 0 and every target of a bpf-to-bpf call, in order. */
    static List<Integer> subprograms(Program p) {
        TreeSet<Integer> s = new TreeSet<>();
        s.add(0);
        for (int i = 0; i < p.length(); i++) {
            if (!p.isSecondHalf(i) && p.op[i] == (Bpf.JMP | Bpf.CALL) && p.src[i] == Bpf.PSEUDO_CALL) {
                s.add(p.target(i));
            }
        }
        return new ArrayList<>(s);
    }

    /** The bytecode of one subprogram. */
    private static final class Emitter {
        private final Program p;
        private final Helpers helpers;
        private final List<BpfMapBase> maps;
        /** What each access's base points into, as the verifier found ({@link Verifier.Checked#bases}); null when unknown. */
        private final int[] bases;
        private final boolean[] targets;
        private final ClassDesc self;
        private final CodeBuilder code;
        private final int from;
        private final int to;
        private final Label[] labels;
        private static final int MEM = 12;
        private static final int HELPERS = 13;
        private static final int R0 = 14; // r0..r10 in slots 14, 16, ..., 34 (but the two most used in 0 and 2); the budget after them
        private static final int BUDGET = R0 + 2 * 11;
        /** The stack's bytes, the context's and the packet's segments, read once when the subprogram starts (a run never changes them). */
        private static final int STACK_BYTES = BUDGET + 2;
        private static final int CTX_SEGMENT = STACK_BYTES + 1;
        private static final int PACKET_SEGMENT = CTX_SEGMENT + 1;
        /** For plain accesses ({@link PlainMemory}): the context's array, its displacement and the native packet's. */
        private static final int CTX_BASE = PACKET_SEGMENT + 1;
        private static final int CTX_DISP = CTX_BASE + 1;
        private static final int PACKET_DISP = CTX_DISP + 2;
        /** The frame pointer as a plain access's offset into the stack's bytes (r10 never changes in a subprogram). */
        private static final int STACK_DISP = PACKET_DISP + 2;
        /** The native address of the memory's sequence-point words ({@link Memory#scratchAddress}). */
        private static final int SCRATCH = STACK_DISP + 2;
        /** The {@code sun.misc.Unsafe} instance of the plain accesses (two bytes to load, a constant three). */
        private static final int UNSAFE = SCRATCH + 2;
        /** {@code entry0}'s data (also data_meta's) and data_end, from its caller ({@link Code#runPlain}). */
        private static final int DATA_ARG = UNSAFE + 1;
        private static final int END_ARG = DATA_ARG + 2;
        /**
         * A sequence point every this many instructions of a straight run (no jump, call or jump target
         * between): a plain store of a register to {@link #SCRATCH}, which keeps C2 from scheduling every
         * load of a long unrolled run first (a 1 KiB checksum's 256 loads, then 256 spills and reloads)
         * and gives the matcher a root (see {@link #MAX_DEPTH}).
         */
        private static final int STRAIGHT_RUN = 16;
        /**
         * How long a chain of dependent ALU results may grow before a sequence point stores its register:
         * C2 matches a chain of single-use values as one expression tree and gives up on the whole method
         * past {@code MaxLabelRootDepth} (1100) levels ("Out of stack space"), about four levels per
         * eBPF add; a stored value has a second use, so the tree ends there.
         */
        private static final int MAX_DEPTH = 64;
        /**
         * Whether accesses the verifier proved compile to plain loads and stores: the program was
         * verified, the JVM offers {@link PlainMemory}, and {@code -Dmodnet.ebpf.jit.checked=true} (which
         * benchmarks set to measure what the checks cost) is not given.
         */
        private final boolean plain;
        /**
         * Whether this is the variant for runs whose packet is native memory and whose context is a
         * {@code long[]} ({@link Jit#plainRun}), where proven context and packet accesses are plain too
         * (the packet's base a constant null: raw memory to C2); the other variant checks them.
         */
        private final boolean plainRegions;
        /** The name of this variant's methods, before the subprogram's start. */
        private final String prefix;
        /** How many dependent ALU results each register's value stands on since it was loaded, set or stored ({@link #MAX_DEPTH}). */
        private final int[] depth = new int[11];
        /** Instructions since the last jump, call, jump target or sequence point ({@link #STRAIGHT_RUN}). */
        private int straight;
        /** Sequence points emitted so far: which scratch word the next one stores to. */
        private int sequencePoints;

        /**
         * Whether this is {@code entry0} ({@link Jit#MT_ENTRY}): the stack's bytes, the context's array and
         * the packet's displacement are its parameters, not read from the memory.
         */
        private final boolean entry;
        /** In {@code entry0}: the context's data, data_end and data_meta loads are its arguments ({@link Code#runPlain}). */
        private final boolean packetArgs;

        Emitter(Program p, Helpers helpers, List<BpfMapBase> maps, int[] bases, boolean[] targets, ClassDesc self, CodeBuilder code,
                int from, int to, boolean plainRegions, boolean entry, boolean packetArgs) {
            this.entry = entry;
            this.packetArgs = entry && packetArgs && bases != null;
            this.plainRegions = plainRegions;
            this.prefix = plainRegions ? "sub" : "checked";
            this.p = p;
            this.helpers = helpers;
            this.maps = maps;
            this.bases = bases;
            this.targets = targets;
            this.self = self;
            this.code = code;
            this.from = from;
            this.to = to;
            this.plain = bases != null && PlainMemory.AVAILABLE && !Boolean.getBoolean("modnet.ebpf.jit.checked");
            this.hot = hotRegisters();
            this.labels = new Label[to - from];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = code.newLabel();
            }
        }

        /** The two registers in slots 0 and 2 (see {@link Jit#MT_SUB}). */
        private final int[] hot;

        private int slot(int reg) {
            return reg == hot[0] ? 0 : reg == hot[1] ? 2 : R0 + 2 * reg;
        }

        /** The two registers the subprogram names most often. */
        private int[] hotRegisters() {
            int[] uses = new int[11];
            for (int i = from; i < to; i++) {
                if (!p.isSecondHalf(i)) {
                    for (int r : new int[] { p.dst[i], p.src[i] }) {
                        if (r >= 0 && r < 11) {
                            uses[r]++;
                        }
                    }
                }
            }
            uses[10] = 0; // r10 is read once, for the stack's displacement
            int first = 0;
            for (int r = 1; r < 10; r++) {
                if (uses[r] > uses[first]) {
                    first = r;
                }
            }
            int second = first == 0 ? 1 : 0;
            for (int r = 0; r < 10; r++) {
                if (r != first && uses[r] > uses[second]) {
                    second = r;
                }
            }
            return new int[] { first, second };
        }

        private void load(int reg) {
            code.lload(slot(reg));
        }

        private void store(int reg) {
            code.lstore(slot(reg));
        }

        private Label label(int target, int at) {
            if (target < from || target >= to) {
                throw new IllegalStateException("insn " + at + " jumps out of its subprogram to " + target);
            }
            return labels[target - from];
        }

        void emit() {
            if (entry) {
                // the caller's memory (slot 0), stack bytes (1), context array (2), packet displacement (3-4), data
                // (5-6) and data_end (7-8) into their own slots first: the registers' slots reuse 0-8 below
                code.lload(7);
                code.lstore(END_ARG);
                code.lload(5);
                code.lstore(DATA_ARG);
                code.lload(3);
                code.lstore(PACKET_DISP);
                code.aload(2);
                code.astore(CTX_BASE);
                code.aload(1);
                code.astore(STACK_BYTES);
                code.aload(0);
                code.astore(MEM);
                code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, CD_HELPERS,
                        helpers.size() + 2 * maps.size() + 1));
                code.astore(HELPERS);
                // r1 the context, r2-r5 zero, r10 the stack's top: a run's first frame
                code.ldc(Memory.base(LoadedProgram.CTX_REGION));
                for (int r = 2; r <= 5; r++) {
                    code.lconst_0();
                }
                code.ldc(STACK_TOP);
            } else {
                // parameters: r1..r5 at 0..8, r10 at 10, mem 12, helpers 13; pushed first, since the most used
                // registers' slots are 0 and 2
                for (int r = 1; r <= 6; r++) {
                    code.lload(2 * (r - 1));
                }
            }
            store(10);
            for (int r = 5; r >= 1; r--) {
                store(r);
            }
            for (int r : new int[] { 0, 6, 7, 8, 9 }) {
                code.lconst_0();
                store(r);
            }
            // only what the body uses: a small subprogram stays under C2's inlining size (FreqInlineSize,
            // 325 bytes) and runs inside its caller's compiled code
            if (jumpsBack()) {
                code.ldc(Interpreter.MAX_STEPS);
                code.lstore(BUDGET);
            }
            if (!entry) {
                code.aload(MEM);
                code.invokevirtual(CD_MEMORY, "stackBytes", MethodTypeDesc.of(CD_BYTES));
                code.astore(STACK_BYTES);
            }
            for (int slot : new int[] { CTX_SEGMENT, PACKET_SEGMENT }) {
                if (plain && plainRegions && (slot == CTX_SEGMENT || !hasAtomic())) {
                    continue; // this variant's context and packet accesses are plain: no segment read per run
                }
                code.aload(MEM);
                code.ldc(slot == CTX_SEGMENT ? LoadedProgram.CTX_REGION : LoadedProgram.PACKET_REGION);
                code.invokevirtual(CD_MEMORY, "region", MethodTypeDesc.of(CD_SEGMENT, CD_int));
                code.astore(slot);
            }
            // a dry run of the sequence points: whether the scratch words' address is needed at all
            for (int i = from; i < to; i++) {
                if (!p.isSecondHalf(i)) {
                    if (targets[i]) {
                        straight = 0;
                    }
                    sequence(i, false);
                }
            }
            boolean points = sequencePoints > 0;
            java.util.Arrays.fill(depth, 0);
            straight = 0;
            sequencePoints = 0;
            if (plain) {
                // the stack's plain offsets from r10 (a 64-bit displacement added once, not at every access)
                load(10);
                code.ldc(PlainMemory.BYTE_ARRAY_BASE - Memory.base(Memory.STACK));
                code.ladd();
                code.lstore(STACK_DISP);
                if (points) {
                    code.aload(MEM);
                    code.invokevirtual(CD_MEMORY, "scratchAddress", MethodTypeDesc.of(CD_long));
                    code.lstore(SCRATCH);
                }
                code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, CD_UNSAFE,
                        helpers.size() + 2 * maps.size()));
                code.astore(UNSAFE);
            }
            if (plain && plainRegions) {
                // what the memory worked out when its regions were set (once per buffer, not per run); entry0's
                // caller handed them over
                if (!entry) {
                    code.aload(MEM);
                    code.invokevirtual(CD_MEMORY, "plainContext", MethodTypeDesc.of(CD_LONGS));
                    code.astore(CTX_BASE);
                    code.aload(MEM);
                    code.invokevirtual(CD_MEMORY, "plainPacketDisplacement", MethodTypeDesc.of(CD_long));
                    code.lstore(PACKET_DISP);
                }
                code.ldc(PlainMemory.LONG_ARRAY_BASE - Memory.base(LoadedProgram.CTX_REGION)); // the context from its array's start (Memory#set)
                code.lstore(CTX_DISP);
            }
            for (int i = from; i < to; i++) {
                code.labelBinding(labels[i - from]);
                if (p.isSecondHalf(i)) {
                    continue;
                }
                if (targets[i]) {
                    straight = 0; // a merge: C2 starts a new block here
                }
                int pairs = plain ? sumPairs(i) : 0;
                if (pairs >= 2) {
                    sum(i, pairs);
                    for (int j = i; j < i + 2 * pairs; j++) {
                        if (j > i) {
                            code.labelBinding(labels[j - from]); // no jump lands inside (sumPairs)
                        }
                        sequence(j, true);
                    }
                    i += 2 * pairs - 1;
                    continue;
                }
                insn(i);
                sequence(i, true);
            }
        }

        /** How many loads into one register each added to another ({@link #sum}) start at {@code i}: at most 4. */
        private int sumPairs(int i) {
            if (i + 1 >= to || p.isSecondHalf(i)) {
                return 0;
            }
            int t = p.dst[i];
            int acc = p.dst[i + 1];
            int pairs = 0;
            while (pairs < 4) {
                int a = i + 2 * pairs;
                int b = a + 1;
                if (b >= to || (pairs > 0 && targets[a]) || targets[b]) {
                    break;
                }
                boolean load = p.op[a] == (Bpf.LDX | Bpf.MEM | (p.op[a] & 0x18)) && p.dst[a] == t && p.src[a] != t && p.src[a] != acc;
                boolean add = p.op[b] == (Bpf.ALU64 | Bpf.ADD | Bpf.X) && p.dst[b] == acc && p.src[b] == t && p.off[b] == 0;
                if (!load || !add || acc == t || acc == 10 || t == 10) {
                    break;
                }
                pairs++;
            }
            return pairs;
        }

        /**
         * {@code pairs} (2 to 4) of "load t; acc += t" (a checksum's words): the loaded words summed as a
         * tree first and then added to acc, so the chain of dependent adds through acc is a quarter as
         * long (a 64-bit add is associative, so acc ends the same; t ends with the last word, as the
         * instructions leave it). A fault in any load ends the run, so no partial sum is ever seen.
         */
        private void sum(int i, int pairs) {
            int t = p.dst[i];
            int acc = p.dst[i + 1];
            load(acc);
            for (int j = 0; j < pairs; j++) {
                loadValue(i + 2 * j);
                if (j == pairs - 1) {
                    code.dup2();
                    store(t);
                }
                if (j % 2 == 1) {
                    code.ladd(); // w(j-1) + w(j)
                }
                if (j == 3) {
                    code.ladd(); // (w0 + w1) + (w2 + w3)
                }
            }
            if (pairs == 3) {
                code.ladd(); // (w0 + w1) + w2
            }
            code.ladd();
            store(acc);
        }

        /** Whether this subprogram jumps backwards (and so counts down a budget). */
        private boolean jumpsBack() {
            for (int i = from; i < to; i++) {
                int cls = p.op[i] & 0x07;
                int operation = p.op[i] & 0xf0;
                if (!p.isSecondHalf(i) && (cls == Bpf.JMP || cls == Bpf.JMP32) && operation != Bpf.CALL && operation != Bpf.EXIT) {
                    int target = cls == Bpf.JMP32 && operation == Bpf.JA ? i + 1 + p.imm[i] : i + 1 + p.off[i];
                    if (target <= i) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** Whether this subprogram has an atomic instruction (whose packet accesses go through the packet's segment). */
        private boolean hasAtomic() {
            for (int i = from; i < to; i++) {
                if (!p.isSecondHalf(i) && (p.op[i] & 0x07) == Bpf.STX && (p.op[i] & 0xe0) == Bpf.ATOMIC) {
                    return true;
                }
            }
            return false;
        }

        /**
         * After instruction {@code i}: what it did to the registers' chains, and a sequence point where a
         * straight run or a chain has grown long ({@link #STRAIGHT_RUN}, {@link #MAX_DEPTH}); with
         * {@code emit} false, only counted.
         */
        private void sequence(int i, boolean emit) {
            int o = p.op[i];
            int cls = o & 0x07;
            int d = p.dst[i];
            int s = p.src[i];
            switch (cls) {
                case Bpf.ALU, Bpf.ALU64 -> {
                    boolean x = (o & Bpf.X) != 0;
                    if ((o & 0xf0) == Bpf.MOV) {
                        depth[d] = x ? depth[s] + (cls == Bpf.ALU || p.off[i] != 0 ? 1 : 0) : 0;
                    } else {
                        depth[d] = Math.max(depth[d], x && (o & 0xf0) != Bpf.END ? depth[s] : 0) + 1;
                    }
                }
                case Bpf.LD, Bpf.LDX -> depth[(o & 0xe0) == Bpf.ABS || (o & 0xe0) == Bpf.IND ? 0 : d] = cls == Bpf.LDX ? 1 : 0;
                case Bpf.STX -> {
                    if ((o & 0xe0) == Bpf.ATOMIC && ((p.imm[i] & Bpf.FETCH) != 0 || p.imm[i] == Bpf.CMPXCHG)) {
                        depth[p.imm[i] == Bpf.CMPXCHG ? 0 : s] = 1;
                    }
                }
                case Bpf.JMP, Bpf.JMP32 -> {
                    if ((o & 0xf0) == Bpf.CALL) {
                        java.util.Arrays.fill(depth, 0, 6, 0);
                    }
                    straight = 0; // a branch ends C2's block: loads after it stay after it
                    return;
                }
                default -> {
                }
            }
            straight++;
            int deepest = 0;
            for (int r = 1; r < 10; r++) {
                if (depth[r] > depth[deepest]) {
                    deepest = r;
                }
            }
            if (!plain || straight < STRAIGHT_RUN && depth[deepest] < MAX_DEPTH) {
                return;
            }
            if (!emit) {
                sequencePoints++;
                depth[deepest] = 0;
                straight = 0;
                return;
            }
            // a plain store of the deepest chain's register to a word of the memory's own (native, per CPU):
            // raw memory, as the packet's and the maps' plain accesses are, so C2 keeps loads on their side of it
            unsafe(false);
            code.aconst_null();
            code.lload(SCRATCH);
            code.ldc(8L * (sequencePoints++ % Memory.SCRATCH_WORDS));
            code.ladd();
            load(deepest);
            code.invokevirtual(CD_UNSAFE, "putLong", MethodTypeDesc.of(CD_void, CD_Object, CD_long, CD_long));
            depth[deepest] = 0;
            straight = 0;
        }

        /**
         * Where access {@code i} through {@code base} (plus {@code off}) was proven in bounds and can be
         * a plain access: pushes the base object and the offset from it, and says true. The stack
         * through the frame pointer, the context and the packet, and the values of a map shared by all
         * CPUs whose values are native (their address a constant of the code).
         */
        private boolean plainAddress(int i, int base, int off, boolean write, boolean atomic) {
            if (!plain) {
                return false;
            }
            if (base == 10) {
                unsafe(atomic);
                code.aload(STACK_BYTES);
                code.lload(STACK_DISP);
                if (off != 0) {
                    code.ldc((long) off);
                    code.ladd();
                }
                return true;
            }
            int to = bases[i];
            if (plainRegions && (to == Verifier.BASE_CTX && !write && !atomic || to == Verifier.BASE_PACKET && !atomic)) {
                unsafe(atomic);
                if (to == Verifier.BASE_CTX) {
                    code.aload(CTX_BASE);
                } else {
                    code.aconst_null();
                }
                load(base);
                code.lload(to == Verifier.BASE_CTX ? CTX_DISP : PACKET_DISP);
                code.ladd();
                if (off != 0) {
                    code.ldc((long) off);
                    code.ladd();
                }
                return true;
            }
            if (to >= Verifier.BASE_MAP && to - Verifier.BASE_MAP < maps.size()) {
                int map = to - Verifier.BASE_MAP;
                BpfMapBase m = maps.get(map);
                if (m.cpus() != 1 || write && (m.flags() & BpfMap.BPF_F_RDONLY_PROG) != 0 || !m.values[0].isNative()) {
                    return false;
                }
                // the values' segment is held by the class data (the map): its address stays valid while this code runs
                unsafe(atomic);
                code.aconst_null();
                load(base);
                code.ldc(PlainMemory.displacement(m.values[0], LoadedProgram.FIRST_MAP_REGION + map) + off);
                code.ladd();
                return true;
            }
            return false;
        }

        /** The Unsafe instance, first of a plain access's operands (not for an atomic, which calls {@link PlainMemory}). */
        private void unsafe(boolean atomic) {
            if (!atomic) {
                code.aload(UNSAFE);
            }
        }

        /** A plain load of {@code size} bytes from the operands {@link #plainAddress} pushed, zero-extended to a long. */
        private void plainLoad(int size) {
            switch (size) {
                case 1 -> {
                    code.invokevirtual(CD_UNSAFE, "getByte", MethodTypeDesc.of(ConstantDescs.CD_byte, CD_Object, CD_long));
                    code.i2l();
                    code.ldc(0xffL);
                    code.land();
                }
                case 2 -> {
                    code.invokevirtual(CD_UNSAFE, "getShort", MethodTypeDesc.of(ConstantDescs.CD_short, CD_Object, CD_long));
                    code.i2l();
                    code.ldc(0xffffL);
                    code.land();
                }
                case 4 -> {
                    code.invokevirtual(CD_UNSAFE, "getInt", MethodTypeDesc.of(CD_int, CD_Object, CD_long));
                    code.i2l();
                    code.ldc(0xffffffffL);
                    code.land();
                }
                default -> code.invokevirtual(CD_UNSAFE, "getLong", MethodTypeDesc.of(CD_long, CD_Object, CD_long));
            }
        }

        /** A plain store of the long on the stack, {@code size} bytes of it, to the operands {@link #plainAddress} pushed. */
        private void plainStore(int size) {
            switch (size) {
                case 1 -> {
                    code.l2i();
                    code.i2b();
                    code.invokevirtual(CD_UNSAFE, "putByte", MethodTypeDesc.of(CD_void, CD_Object, CD_long, ConstantDescs.CD_byte));
                }
                case 2 -> {
                    code.l2i();
                    code.i2s();
                    code.invokevirtual(CD_UNSAFE, "putShort", MethodTypeDesc.of(CD_void, CD_Object, CD_long, ConstantDescs.CD_short));
                }
                case 4 -> {
                    code.l2i();
                    code.invokevirtual(CD_UNSAFE, "putInt", MethodTypeDesc.of(CD_void, CD_Object, CD_long, CD_int));
                }
                default -> code.invokevirtual(CD_UNSAFE, "putLong", MethodTypeDesc.of(CD_void, CD_Object, CD_long, CD_long));
            }
        }

        private void insn(int i) {
            int o = p.op[i];
            int d = p.dst[i];
            int s = p.src[i];
            int off = p.off[i];
            int imm = p.imm[i];
            int cls = o & 0x07;
            switch (cls) {
                case Bpf.ALU64 -> alu64(o, d, s, off, imm);
                case Bpf.ALU -> alu32(o, d, s, off, imm);
                case Bpf.LD -> {
                    if ((o & 0xe0) == Bpf.ABS || (o & 0xe0) == Bpf.IND) {
                        ldAbs(o, s, imm);
                    } else {
                        code.ldc(p.imm64[i]);
                        store(d);
                    }
                }
                case Bpf.LDX -> {
                    loadValue(i);
                    store(d);
                }
                case Bpf.ST -> storeInsn(i, d, off, Bpf.bytes(o), () -> code.ldc((long) imm));
                case Bpf.STX -> {
                    if ((o & 0xe0) == Bpf.ATOMIC) {
                        atomic(i, o, d, s, off, imm);
                    } else {
                        storeInsn(i, d, off, Bpf.bytes(o), () -> load(s));
                    }
                }
                case Bpf.JMP, Bpf.JMP32 -> jump(i, o, d, s, off, imm, cls);
                default -> throw new IllegalStateException("insn " + i + ": unknown opcode");
            }
        }

        /** Pushes what load instruction {@code i} reads (sign-extended for MEMSX), as a long. */
        private void loadValue(int i) {
            int o = p.op[i];
            int s = p.src[i];
            int off = p.off[i];
            int size = Bpf.bytes(o);
            if (packetArgs && bases[i] == Verifier.BASE_CTX && size == 8 && (off == 0 || off == 8 || off == 16)) {
                // ctx->data, ->data_end, ->data_meta (the verifier's rewrite: 64-bit loads at 0, 8, 16 of the
                // runtime's context, through the context itself, never an offset pointer): what the caller stored
                code.lload(off == 8 ? END_ARG : DATA_ARG);
            } else if (plainAddress(i, s, off, false, false)) {
                plainLoad(size);
            } else if (s == 10) {
                stackAddress(off);
                code.invokestatic(CD_MEMORY, "stackLoad" + size * 8, MethodTypeDesc.of(CD_long, CD_BYTES, CD_long));
            } else if (direct(i, s, off, false)) {
                code.invokestatic(CD_MEMORY, "loadIn" + size * 8, MT_LOAD_IN);
            } else {
                generalAddress(s, off);
                code.invokevirtual(CD_MEMORY, "load" + size * 8, MT_LOAD);
            }
            if ((o & 0xe0) == Bpf.MEMSX) {
                code.l2i();
                if (size == 1) {
                    code.i2b();
                } else if (size == 2) {
                    code.i2s();
                }
                code.i2l();
            }
        }

        /**
         * Where the verifier proved access {@code i} (through {@code base}, plus {@code off}) goes into
         * the context, the packet or a map's values shared by all CPUs, pushes that region's segment,
         * its number and the address, and says true: the access then reaches the segment directly,
         * bounds still checked, with no region table between (the packet's and the context's segments
         * are read once when the subprogram starts, a map's is a constant of the class). A write goes
         * this way only where programs may write (the packet, a map not read-only to them).
         */
        private boolean direct(int i, int base, int off, boolean write) {
            int to = bases == null ? 0 : bases[i];
            if (to == Verifier.BASE_CTX && !write || to == Verifier.BASE_PACKET) {
                code.aload(to == Verifier.BASE_CTX ? CTX_SEGMENT : PACKET_SEGMENT);
                code.ldc(to == Verifier.BASE_CTX ? LoadedProgram.CTX_REGION : LoadedProgram.PACKET_REGION);
            } else if (to >= Verifier.BASE_MAP && to - Verifier.BASE_MAP < maps.size()) {
                int map = to - Verifier.BASE_MAP;
                BpfMapBase m = maps.get(map);
                if (m.cpus() != 1 || write && (m.flags() & BpfMap.BPF_F_RDONLY_PROG) != 0) {
                    return false;
                }
                code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, CD_SEGMENT,
                        helpers.size() + maps.size() + map));
                code.ldc(LoadedProgram.FIRST_MAP_REGION + map);
            } else {
                return false;
            }
            load(base);
            code.ldc((long) off);
            code.ladd();
            return true;
        }

        /**
         * The stack's bytes and the address {@code off} from the frame pointer (r10, which programs
         * cannot change, always points into the stack): a frame-pointer access is an array access.
         */
        private void stackAddress(int off) {
            code.aload(STACK_BYTES);
            load(10);
            code.ldc((long) off);
            code.ladd();
        }

        /** A store of {@code size} bytes through {@code base}: the frame pointer's, a proven region's, or the general way; {@code value} pushes the value. */
        private void storeInsn(int i, int base, int off, int size, Runnable value) {
            if (plainAddress(i, base, off, true, false)) {
                value.run();
                plainStore(size);
            } else if (base == 10) {
                stackAddress(off);
                value.run();
                code.invokestatic(CD_MEMORY, "stackStore" + size * 8, MethodTypeDesc.of(CD_void, CD_BYTES, CD_long, CD_long));
            } else if (direct(i, base, off, true)) {
                value.run();
                code.invokestatic(CD_MEMORY, "storeIn" + size * 8, MT_STORE_IN);
            } else {
                generalAddress(base, off);
                value.run();
                code.invokevirtual(CD_MEMORY, "store" + size * 8, MT_STORE);
            }
        }

        /** The memory and the address {@code off} from {@code base}, for the accessors that go through the region table. */
        private void generalAddress(int base, int off) {
            code.aload(MEM);
            load(base);
            code.ldc((long) off);
            code.ladd();
        }

        /**
         * The map r1 holds at the helper call {@code i}, or -1: found when r1 was last set, in the same
         * straight run of instructions (nothing jumps in between), by an {@code lddw} of a map.
         */
        private int knownMap(int i) {
            for (int j = i - 1; j >= from && !targets[j + 1]; j--) {
                if (p.isSecondHalf(j)) {
                    continue;
                }
                int cls = p.op[j] & 0x07;
                if (cls == Bpf.JMP && (p.op[j] & 0xf0) == Bpf.CALL) {
                    return -1; // a call clobbers r1
                }
                if (cls == Bpf.STX && (p.op[j] & 0xe0) == Bpf.ATOMIC && p.src[j] == 1 && (p.imm[j] & Bpf.FETCH) != 0) {
                    return -1; // a fetch writes its source register
                }
                boolean writesDst = cls == Bpf.ALU || cls == Bpf.ALU64 || cls == Bpf.LD || cls == Bpf.LDX;
                if (writesDst && p.dst[j] == 1) {
                    if (p.op[j] != (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                        return -1;
                    }
                    long index = p.imm64[j] - LoadedProgram.MAP_HANDLE;
                    // a map of maps' lookup answers an inner map, not a value: the helper's way
                    return index >= 0 && index < maps.size() && maps.get((int) index).innerMap() == null ? (int) index : -1;
                }
            }
            return -1;
        }

        private void operand64(int o, int s, int imm) {
            if ((o & Bpf.X) != 0) {
                load(s);
            } else {
                code.ldc((long) imm);
            }
        }

        private void operand32(int o, int s, int imm) {
            if ((o & Bpf.X) != 0) {
                load(s);
                code.l2i();
            } else {
                code.ldc(imm);
            }
        }

        private void alu64(int o, int d, int s, int off, int imm) {
            int operation = o & 0xf0;
            switch (operation) {
                case Bpf.MOV -> {
                    if ((o & Bpf.X) != 0) {
                        load(s);
                        if (off != 0) {
                            code.ldc(off);
                            code.invokestatic(CD_INTERP, "movsx64", MethodTypeDesc.of(CD_long, CD_long, CD_int));
                        }
                    } else {
                        code.ldc((long) imm);
                    }
                    store(d);
                    return;
                }
                case Bpf.NEG -> {
                    load(d);
                    code.lneg();
                    store(d);
                    return;
                }
                case Bpf.END -> {
                    load(d);
                    code.ldc(imm);
                    code.invokestatic(CD_INTERP, "bswap", MethodTypeDesc.of(CD_long, CD_long, CD_int));
                    store(d);
                    return;
                }
                default -> {
                }
            }
            load(d);
            if (operation == Bpf.LSH || operation == Bpf.RSH || operation == Bpf.ARSH) {
                operand64(o, s, imm);
                code.l2i();
                switch (operation) {
                    case Bpf.LSH -> code.lshl();
                    case Bpf.RSH -> code.lushr();
                    default -> code.lshr();
                }
                store(d);
                return;
            }
            operand64(o, s, imm);
            switch (operation) {
                case Bpf.ADD -> code.ladd();
                case Bpf.SUB -> code.lsub();
                case Bpf.MUL -> code.lmul();
                case Bpf.OR -> code.lor();
                case Bpf.AND -> code.land();
                case Bpf.XOR -> code.lxor();
                case Bpf.DIV, Bpf.MOD -> {
                    code.ldc(off);
                    code.invokestatic(CD_INTERP, operation == Bpf.DIV ? "div64" : "mod64",
                            MethodTypeDesc.of(CD_long, CD_long, CD_long, CD_int));
                }
                default -> throw new IllegalStateException("unknown ALU64 operation " + operation);
            }
            store(d);
        }

        private void alu32(int o, int d, int s, int off, int imm) {
            int operation = o & 0xf0;
            if (operation == Bpf.END) {
                load(d);
                code.ldc(imm);
                code.invokestatic(CD_INTERP, (o & Bpf.X) != 0 ? "bswap" : "toLe", MethodTypeDesc.of(CD_long, CD_long, CD_int));
                store(d);
                return;
            }
            if (operation == Bpf.MOV) {
                if ((o & Bpf.X) != 0) {
                    load(s);
                    code.l2i();
                    if (off != 0) {
                        code.ldc(off);
                        code.invokestatic(CD_INTERP, "movsx32", MethodTypeDesc.of(CD_int, CD_int, CD_int));
                    }
                } else {
                    code.ldc(imm);
                }
                zeroExtend(d);
                return;
            }
            if (operation == Bpf.NEG) {
                load(d);
                code.l2i();
                code.ineg();
                zeroExtend(d);
                return;
            }
            if (operation == Bpf.DIV || operation == Bpf.MOD) {
                load(d);
                code.l2i();
                operand32(o, s, imm);
                code.ldc(off);
                code.invokestatic(CD_INTERP, operation == Bpf.DIV ? "div32" : "mod32", MethodTypeDesc.of(CD_long, CD_int, CD_int, CD_int));
                store(d);
                return;
            }
            load(d);
            code.l2i();
            operand32(o, s, imm);
            switch (operation) {
                case Bpf.ADD -> code.iadd();
                case Bpf.SUB -> code.isub();
                case Bpf.MUL -> code.imul();
                case Bpf.OR -> code.ior();
                case Bpf.AND -> code.iand();
                case Bpf.XOR -> code.ixor();
                case Bpf.LSH -> code.ishl();
                case Bpf.RSH -> code.iushr();
                case Bpf.ARSH -> code.ishr();
                default -> throw new IllegalStateException("unknown ALU operation " + operation);
            }
            zeroExtend(d);
        }

        /** The int on the stack, zero-extended, into register {@code d}. */
        private void zeroExtend(int d) {
            code.i2l();
            code.ldc(0xffffffffL);
            code.land();
            store(d);
        }

        private void atomic(int i, int o, int d, int s, int off, int imm) {
            int size = Bpf.bytes(o);
            if ((imm & ~Bpf.FETCH) == Bpf.ADD) {
                // the common case (counters) its own small method, which HotSpot inlines
                if (d != 10 && plainAddress(i, d, off, true, true)) {
                    load(d);
                    code.ldc((long) off);
                    code.ladd();
                    load(s);
                    code.invokestatic(CD_PLAIN, size == 4 ? "atomicAdd32" : "atomicAdd64", MT_PLAIN_ATOMIC);
                } else if (direct(i, d, off, true)) {
                    load(s);
                    code.invokestatic(CD_MEMORY, size == 4 ? "atomicAddIn32" : "atomicAddIn64", MT_STORE_IN_RESULT);
                } else {
                    generalAddress(d, off);
                    load(s);
                    code.invokevirtual(CD_MEMORY, size == 4 ? "atomicAdd32" : "atomicAdd64", MethodTypeDesc.of(CD_long, CD_long, CD_long));
                }
                if ((imm & Bpf.FETCH) != 0) {
                    store(s);
                } else {
                    code.pop2();
                }
                return;
            }
            generalAddress(d, off);
            code.ldc(size);
            code.ldc(imm);
            load(s);
            if (imm == Bpf.CMPXCHG) {
                load(0);
                if (size == 4) {
                    code.ldc(0xffffffffL);
                    code.land();
                }
            } else {
                code.lconst_0();
            }
            code.invokevirtual(CD_MEMORY, "atomic", MethodTypeDesc.of(CD_long, CD_long, CD_int, CD_int, CD_long, CD_long));
            if (imm == Bpf.CMPXCHG) {
                store(0);
            } else if ((imm & Bpf.FETCH) != 0) {
                store(s);
            } else {
                code.pop2();
            }
        }

        private void jump(int i, int o, int d, int s, int off, int imm, int cls) {
            int operation = o & 0xf0;
            switch (operation) {
                case Bpf.EXIT -> {
                    load(0);
                    code.lreturn();
                }
                case Bpf.JA -> {
                    int target = cls == Bpf.JMP32 ? i + 1 + imm : i + 1 + off;
                    if (target <= i) {
                        countDown();
                    }
                    code.goto_(label(target, i));
                }
                case Bpf.CALL -> call(i, o, d, s, imm);
                default -> {
                    int target = i + 1 + off;
                    Label taken = label(target, i);
                    Label via = taken;
                    if (target <= i) {
                        via = code.newLabel(); // a backward branch goes through the budget
                    }
                    compare(o, d, s, imm, cls, operation, via);
                    if (via != taken) {
                        Label fall = code.newLabel();
                        code.goto_(fall);
                        code.labelBinding(via);
                        countDown();
                        code.goto_(taken);
                        code.labelBinding(fall);
                    }
                }
            }
        }

        /** Leaves nothing on the stack; branches to {@code taken} when the condition holds. */
        private void compare(int o, int d, int s, int imm, int cls, int operation, Label taken) {
            if (cls == Bpf.JMP) {
                load(d);
                operand64(o, s, imm);
                switch (operation) {
                    case Bpf.JSET -> {
                        code.land();
                        code.lconst_0();
                        code.lcmp();
                        code.ifne(taken);
                        return;
                    }
                    case Bpf.JGT, Bpf.JGE, Bpf.JLT, Bpf.JLE ->
                        code.invokestatic(ClassDesc.of("java.lang.Long"), "compareUnsigned", MethodTypeDesc.of(CD_int, CD_long, CD_long));
                    default -> code.lcmp();
                }
            } else {
                load(d);
                code.l2i();
                operand32(o, s, imm);
                switch (operation) {
                    case Bpf.JSET -> {
                        code.iand();
                        code.ifne(taken);
                        return;
                    }
                    case Bpf.JGT, Bpf.JGE, Bpf.JLT, Bpf.JLE ->
                        code.invokestatic(ClassDesc.of("java.lang.Integer"), "compareUnsigned", MethodTypeDesc.of(CD_int, CD_int, CD_int));
                    default -> {
                        Opcode op = switch (operation) {
                            case Bpf.JEQ -> Opcode.IF_ICMPEQ;
                            case Bpf.JNE -> Opcode.IF_ICMPNE;
                            case Bpf.JSGT -> Opcode.IF_ICMPGT;
                            case Bpf.JSGE -> Opcode.IF_ICMPGE;
                            case Bpf.JSLT -> Opcode.IF_ICMPLT;
                            default -> Opcode.IF_ICMPLE;
                        };
                        code.branch(op, taken);
                        return;
                    }
                }
            }
            Opcode op = switch (operation) {
                case Bpf.JEQ -> Opcode.IFEQ;
                case Bpf.JNE -> Opcode.IFNE;
                case Bpf.JGT, Bpf.JSGT -> Opcode.IFGT;
                case Bpf.JGE, Bpf.JSGE -> Opcode.IFGE;
                case Bpf.JLT, Bpf.JSLT -> Opcode.IFLT;
                default -> Opcode.IFLE;
            };
            code.branch(op, taken);
        }

        /**
         * A legacy packet load ({@code gen_ld_abs}): the value in r0, or, past the end of the packet, a
         * return of 0 from this (sub)program.
         */
        private void ldAbs(int o, int s, int imm) {
            code.aload(MEM);
            if ((o & 0xe0) == Bpf.IND) {
                load(s);
                code.l2i();
                code.ldc(imm);
                code.iadd();
            } else {
                code.ldc(imm);
            }
            code.ldc(Bpf.bytes(o));
            code.invokestatic(ClassDesc.of(SkbBuffer.class.getName()), "ldAbs", MethodTypeDesc.of(CD_long, CD_MEMORY, CD_int, CD_int));
            code.dup2();
            store(0);
            Label ok = code.newLabel();
            code.lconst_0();
            code.lcmp();
            code.ifge(ok);
            code.lconst_0();
            code.lreturn();
            code.labelBinding(ok);
        }

        /** After a call that may have tail-called: end with the other program's result. */
        private void tailCheck() {
            Label go = code.newLabel();
            code.aload(MEM);
            code.invokestatic(CD_JIT, "tailCalled", MethodTypeDesc.of(CD_boolean, CD_MEMORY));
            code.ifeq(go);
            code.aload(MEM);
            code.invokestatic(CD_JIT, "tailResult", MethodTypeDesc.of(CD_long, CD_MEMORY));
            code.lreturn();
            code.labelBinding(go);
        }

        /** One backward jump less in the budget; a fault when it is spent. */
        private void countDown() {
            code.lload(BUDGET);
            code.lconst_1();
            code.lsub();
            code.dup2();
            code.lstore(BUDGET);
            code.invokestatic(CD_JIT, "budget", MethodTypeDesc.of(CD_void, CD_long));
        }

        private void call(int i, int o, int d, int s, int imm) {
            if ((o & Bpf.X) == 0 && s == Bpf.PSEUDO_CALL) {
                int target = i + 1 + imm;
                for (int r = 1; r <= 5; r++) {
                    load(r);
                }
                load(10);
                code.invokestatic(CD_JIT, "frame", MethodTypeDesc.of(CD_long, CD_long));
                code.aload(MEM);
                code.aload(HELPERS);
                code.invokestatic(self, prefix + target, MT_SUB);
                store(0);
                tailCheck(); // a tail call in the subprogram ends the whole program
                return;
            }
            int map = (o & Bpf.X) == 0 ? knownMap(i) : -1;
            String direct = map < 0 ? null : switch (imm) {
                case HelperProtos.MAP_LOOKUP_ELEM -> "bpf_map_lookup_elem".equals(helpers.name(imm)) ? "lookup" : null;
                case HelperProtos.MAP_UPDATE_ELEM -> "bpf_map_update_elem".equals(helpers.name(imm)) ? "update" : null;
                case HelperProtos.MAP_DELETE_ELEM -> "bpf_map_delete_elem".equals(helpers.name(imm)) ? "delete" : null;
                default -> null;
            };
            if (direct != null) {
                // the map is known here: its own operation called directly, as the kernel's fixups turn
                // bpf_map_lookup_elem into a call of the map's lookup once the verifier knows the map
                // a hash map's lookup of a small key: by words, the key read off the stack (no loops over bytes)
                boolean small = direct.equals("lookup") && maps.get(map) instanceof BpfMapBase.HashMap h
                        && h.keySize() <= BpfMapBase.HashMap.SMALL_KEY;
                code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME,
                        small ? CD_HASH_MAP : CD_MAP, helpers.size() + map));
                code.aload(MEM);
                load(2);
                if (direct.equals("update")) {
                    load(3);
                    load(4);
                    code.invokevirtual(CD_MAP, direct, MethodTypeDesc.of(CD_long, CD_MEMORY, CD_long, CD_long, CD_long));
                } else if (direct.equals("lookup")) {
                    code.ldc(LoadedProgram.FIRST_MAP_REGION + map); // the value's address in this program's numbering
                    if (small) {
                        code.invokevirtual(CD_HASH_MAP, "lookupSmall", MethodTypeDesc.of(CD_long, CD_MEMORY, CD_long, CD_int));
                    } else {
                        code.invokevirtual(CD_MAP, direct, MethodTypeDesc.of(CD_long, CD_MEMORY, CD_long, CD_int));
                    }
                } else {
                    code.invokevirtual(CD_MAP, direct, MethodTypeDesc.of(CD_long, CD_MEMORY, CD_long));
                }
            } else if ((o & Bpf.X) == 0 && helpers.get(imm) != null) {
                // a known helper: called directly, the call site bound to that one function (as the
                // kernel's JIT emits a call to the helper's address), so HotSpot inlines it
                code.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, CD_HELPER, imm));
                for (int r = 1; r <= 5; r++) {
                    load(r);
                }
                code.aload(MEM);
                code.invokeinterface(CD_HELPER, "call", MT_HELPER);
            } else {
                code.aload(HELPERS);
                if ((o & Bpf.X) != 0) {
                    load(d);
                } else {
                    code.ldc((long) imm);
                }
                for (int r = 1; r <= 5; r++) {
                    load(r);
                }
                code.aload(MEM);
                code.invokestatic(CD_JIT, "helper",
                        MethodTypeDesc.of(CD_long, CD_HELPERS, CD_long, CD_long, CD_long, CD_long, CD_long, CD_long, CD_MEMORY));
            }
            store(0);
            if ((o & Bpf.X) != 0 || imm == HelperProtos.TAIL_CALL) {
                tailCheck();
            }
            boolean mayUnwind = (o & Bpf.X) != 0 || helpers.unwinds(imm);
            if (mayUnwind) {
                Label go = code.newLabel();
                code.aload(HELPERS);
                if ((o & Bpf.X) != 0) {
                    load(d);
                } else {
                    code.ldc((long) imm);
                }
                load(0);
                code.invokestatic(CD_JIT, "unwound", MethodTypeDesc.of(CD_boolean, CD_HELPERS, CD_long, CD_long));
                code.ifeq(go);
                code.lconst_0();
                code.lreturn();
                code.labelBinding(go);
            }
        }
    }

    // --- what the generated code calls ---

    public static long helper(Helpers h, long id, long r1, long r2, long r3, long r4, long r5, Memory mem) {
        Helper helper = h.get(id);
        if (helper == null) {
            throw new BpfFault("call to unknown helper " + id);
        }
        return helper.call(r1, r2, r3, r4, r5, mem);
    }

    /**
     * {@code run}'s arguments as the main subprogram takes them ({@link #MT_SUB}): r1-r2, r3-r5 zero,
     * the stack's base, memory and helpers; pushed before either variant's call.
     */
    private static void entryArgs(CodeBuilder code) {
        code.lload(3);
        code.lload(5);
        code.lconst_0();
        code.lconst_0();
        code.lconst_0();
        code.lload(7);
        code.aload(1);
        code.aload(2);
    }

    /** Whether a run's packet is native memory and its context a {@code long[]}: the variant with plain accesses to both runs it. */
    public static boolean plainRun(Memory m) {
        return m.plainRegions();
    }


    public static boolean tailCalled(Memory m) {
        return m.tailCalled;
    }

    /** The tail-called program's r0, the flag cleared. */
    public static long tailResult(Memory m) {
        m.tailCalled = false;
        return m.tailResult;
    }

    public static boolean unwound(Helpers h, long id, long r0) {
        return r0 == 0 && h.unwinds(id);
    }

    /** The frame pointer of a callee: 512 bytes below the caller's, within the stack. */
    public static long frame(long r10) {
        long callee = r10 - Bpf.STACK_SIZE;
        if ((callee >>> Memory.SHIFT) != Memory.STACK || (callee & 0xffffffffL) < Bpf.STACK_SIZE) {
            throw new BpfFault("the call stack is too deep (" + Bpf.MAX_FRAMES + " frames)");
        }
        return callee;
    }

    public static void budget(long left) {
        if (left <= 0) {
            throw new BpfFault("the program ran " + Interpreter.MAX_STEPS + " backward jumps without ending");
        }
    }
}

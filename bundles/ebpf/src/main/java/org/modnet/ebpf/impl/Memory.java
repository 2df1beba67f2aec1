package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfMemory;

/**
 * A program's address space. A pointer is a 64-bit value whose high 32 bits name a region (the stack,
 * the context, the packet, a map's values) and whose low 32 bits are the offset in it, so pointer
 * arithmetic and comparisons within a region work as on real addresses, while every access is
 * bounds-checked against its region: a program can read and write nothing outside what it was given.
 * Region 0 is the null page. Accesses are little-endian, as eBPF's on x86 and arm64.
 */
public final class Memory implements BpfMemory {
    public static final int SHIFT = 32;
    public static final int STACK = 1;
    /** The first region free for a runtime's own use (context, packet, map values...). */
    public static final int FIRST_FREE = 2;

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle ATOMIC_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final VarHandle ATOMIC_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private MemorySegment[] regions = new MemorySegment[8];
    private boolean[] writable = new boolean[8];
    /**
     * The stack: a Java array, which the JIT's frame-pointer accesses reach as array elements (a bounds
     * check and a move; HotSpot keeps what it knows of the rest of memory across them), viewed as a
     * segment for its region.
     */
    private final byte[] stackBytes;
    private final MemorySegment stack;
    private final int cpu;
    /**
     * Native words the JIT's sequence points store to ({@code Jit}: a store every few instructions of a
     * long straight run, which C2 keeps in order with the plain loads around it); nothing reads them.
     * One memory's own, so CPUs do not share their cache line.
     */
    private final MemorySegment scratch = java.lang.foreign.Arena.ofAuto().allocate(8L * SCRATCH_WORDS, 64);
    /** How many words {@link #scratch} holds: C2 folds a store into a later one to the same address, so points use different words. */
    static final int SCRATCH_WORDS = 64;

    private static final VarHandle STACK_16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle STACK_32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle STACK_64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    public Memory() {
        this(0);
    }

    /** The address space of programs running on {@code cpu} (per-CPU maps show that CPU's values). */
    public Memory(int cpu) {
        this.cpu = cpu;
        stackBytes = new byte[Bpf.STACK_SIZE * Bpf.MAX_FRAMES];
        stack = MemorySegment.ofArray(stackBytes);
        set(STACK, stack, true);
    }

    private Object attachment;
    /** The packet region native memory and the context's a {@code long[]}: what the JIT's plain variant needs ({@link Jit#plainRun}). */
    private boolean plainRegions;

    /** The context's array and the displacement of the packet's plain accesses, while {@link #plainRegions}. */
    private long[] plainContext;
    private long plainPacketDisplacement;

    boolean plainRegions() {
        return plainRegions;
    }

    long[] plainContext() {
        return plainContext;
    }

    long plainPacketDisplacement() {
        return plainPacketDisplacement;
    }

    /** A tail call ran another program: its r0 is this run's result ({@code bpf_tail_call} does not return). */
    boolean tailCalled;
    long tailResult;
    /** How many tail calls deep this run is ({@code MAX_TAIL_CALL_CNT}: 33). */
    int tailDepth;

    /** The interpreter's registers, saved caller registers (5 per frame) and return addresses: one run at a time per memory. */
    final long[] interpreterRegs = new long[11 + 5 * Bpf.MAX_FRAMES];
    final int[] interpreterReturns = new int[Bpf.MAX_FRAMES];

    /** What a runtime keeps with the memory for its helpers (XDP's {@link XdpBuffer}). */
    public void attach(Object o) {
        attachment = o;
    }

    @Override
    public Object device() {
        return attachment instanceof XdpBuffer x ? x.device() : attachment instanceof SkbBuffer s ? s.device() : null;
    }

    public Object attachment() {
        return attachment;
    }

    /** The segment of region {@code id}, or null. */
    public MemorySegment region(int id) {
        return id > 0 && id < regions.length ? regions[id] : null;
    }

    public int cpu() {
        return cpu;
    }

    /** Where the JIT's sequence points store ({@link #scratch}). */
    long scratchAddress() {
        return scratch.address();
    }

    /** The frame pointer of the first frame: the top of the stack. */
    public long stackTop() {
        return ((long) STACK << SHIFT) + stackBytes.length;
    }

    /** Makes {@code seg} region {@code id}; returns its base address. */
    public long set(int id, MemorySegment seg, boolean canWrite) {
        if (id <= 0) {
            throw new IllegalArgumentException("region 0 is the null page");
        }
        if (id >= regions.length) {
            regions = java.util.Arrays.copyOf(regions, Math.max(id + 1, regions.length * 2));
            writable = java.util.Arrays.copyOf(writable, regions.length);
        }
        regions[id] = seg;
        writable[id] = canWrite;
        if (id == LoadedProgram.CTX_REGION || id == LoadedProgram.PACKET_REGION) {
            MemorySegment ctx = regions[LoadedProgram.CTX_REGION];
            MemorySegment packet = LoadedProgram.PACKET_REGION < regions.length ? regions[LoadedProgram.PACKET_REGION] : null;
            // a context from its array's start: its plain accesses' displacement is a constant of the JIT's code
            plainRegions = packet != null && packet.isNative() && ctx != null && ctx.heapBase().orElse(null) instanceof long[]
                    && ctx.address() == 0;
            if (plainRegions) {
                plainContext = (long[]) ctx.heapBase().orElseThrow();
                plainPacketDisplacement = PlainMemory.displacement(packet, LoadedProgram.PACKET_REGION);
            }
        }
        return (long) id << SHIFT;
    }

    /** Adds a region after the last one; returns its id. */
    public int add(MemorySegment seg, boolean canWrite) {
        int id = FIRST_FREE;
        while (id < regions.length && regions[id] != null) {
            id++;
        }
        set(id, seg, canWrite);
        return id;
    }

    public static long base(int id) {
        return (long) id << SHIFT;
    }

    private MemorySegment region(long addr, int size, boolean write) {
        int id = (int) (addr >>> SHIFT);
        long offset = addr & 0xffffffffL;
        MemorySegment seg = id > 0 && id < regions.length ? regions[id] : null;
        if (seg == null || offset + size > seg.byteSize() || (write && !writable[id])) {
            throw new BpfFault((write ? "invalid write of " : "invalid read of ") + size + " bytes at 0x" + Long.toHexString(addr));
        }
        return seg;
    }

    // --- the stack, for the JIT: frame-pointer accesses and hash keys it holds ---

    private static final long STACK_BASE = (long) STACK << SHIFT;

    /** The stack's bytes, which the JIT's code reads once per subprogram. */
    byte[] stackBytes() {
        return stackBytes;
    }

    /** The index in {@code stack} of {@code size} bytes at {@code addr}; a fault outside the stack. */
    private static int stackIndex(byte[] stack, long addr, int size) {
        long off = addr - STACK_BASE;
        if (off < 0 || off > stack.length - size) {
            throw new BpfFault("invalid stack access of " + size + " bytes at 0x" + Long.toHexString(addr));
        }
        return (int) off;
    }

    static long stackLoad8(byte[] stack, long addr) {
        return stack[stackIndex(stack, addr, 1)] & 0xffL;
    }

    static long stackLoad16(byte[] stack, long addr) {
        return (short) STACK_16.get(stack, stackIndex(stack, addr, 2)) & 0xffffL;
    }

    static long stackLoad32(byte[] stack, long addr) {
        return (int) STACK_32.get(stack, stackIndex(stack, addr, 4)) & 0xffffffffL;
    }

    static long stackLoad64(byte[] stack, long addr) {
        return (long) STACK_64.get(stack, stackIndex(stack, addr, 8));
    }

    static void stackStore8(byte[] stack, long addr, long v) {
        stack[stackIndex(stack, addr, 1)] = (byte) v;
    }

    static void stackStore16(byte[] stack, long addr, long v) {
        STACK_16.set(stack, stackIndex(stack, addr, 2), (short) v);
    }

    static void stackStore32(byte[] stack, long addr, long v) {
        STACK_32.set(stack, stackIndex(stack, addr, 4), (int) v);
    }

    static void stackStore64(byte[] stack, long addr, long v) {
        STACK_64.set(stack, stackIndex(stack, addr, 8), v);
    }

    /** Whether [addr, addr + size) lies on the stack. */
    boolean onStack(long addr, int size) {
        long off = addr - STACK_BASE;
        return off >= 0 && off <= stackBytes.length - size;
    }

    /**
     * Eight bytes of the stack, little-endian, at an address {@link #onStack} admitted: read as two
     * four-byte halves, since a program writes its keys in pieces of four bytes or less just before it
     * looks them up, and a load that spans two pending stores waits for them to reach the cache
     * (store-to-load forwarding serves a load only from one store that holds all of it).
     */
    long stackWord(long addr) {
        int off = (int) (addr - STACK_BASE);
        return (int) STACK_32.get(stackBytes, off) & 0xffffffffL | (long) (int) STACK_32.get(stackBytes, off + 4) << 32;
    }

    // --- any region ---

    public long load8(long addr) {
        return region(addr, 1, false).get(U8, addr & 0xffffffffL) & 0xffL;
    }

    public long load16(long addr) {
        return region(addr, 2, false).get(U16, addr & 0xffffffffL) & 0xffffL;
    }

    public long load32(long addr) {
        return region(addr, 4, false).get(U32, addr & 0xffffffffL) & 0xffffffffL;
    }

    public long load64(long addr) {
        return region(addr, 8, false).get(U64, addr & 0xffffffffL);
    }

    public void store8(long addr, long v) {
        region(addr, 1, true).set(U8, addr & 0xffffffffL, (byte) v);
    }

    public void store16(long addr, long v) {
        region(addr, 2, true).set(U16, addr & 0xffffffffL, (short) v);
    }

    public void store32(long addr, long v) {
        region(addr, 4, true).set(U32, addr & 0xffffffffL, (int) v);
    }

    public void store64(long addr, long v) {
        region(addr, 8, true).set(U64, addr & 0xffffffffL, v);
    }

    // --- a region the verifier proved an access is in, reached through its segment (the JIT's) ---

    /** The offset in region {@code id}'s segment {@code seg} of {@code size} bytes at {@code addr}; a fault outside it. */
    private static long offsetIn(MemorySegment seg, int id, long addr, int size, boolean write) {
        long off = addr - ((long) id << SHIFT);
        if (seg == null || off < 0 || off > seg.byteSize() - size) {
            throw new BpfFault((write ? "invalid write of " : "invalid read of ") + size + " bytes at 0x" + Long.toHexString(addr));
        }
        return off;
    }

    static long loadIn8(MemorySegment seg, int id, long addr) {
        return seg.get(U8, offsetIn(seg, id, addr, 1, false)) & 0xffL;
    }

    static long loadIn16(MemorySegment seg, int id, long addr) {
        return seg.get(U16, offsetIn(seg, id, addr, 2, false)) & 0xffffL;
    }

    static long loadIn32(MemorySegment seg, int id, long addr) {
        return seg.get(U32, offsetIn(seg, id, addr, 4, false)) & 0xffffffffL;
    }

    static long loadIn64(MemorySegment seg, int id, long addr) {
        return seg.get(U64, offsetIn(seg, id, addr, 8, false));
    }

    static void storeIn8(MemorySegment seg, int id, long addr, long v) {
        seg.set(U8, offsetIn(seg, id, addr, 1, true), (byte) v);
    }

    static void storeIn16(MemorySegment seg, int id, long addr, long v) {
        seg.set(U16, offsetIn(seg, id, addr, 2, true), (short) v);
    }

    static void storeIn32(MemorySegment seg, int id, long addr, long v) {
        seg.set(U32, offsetIn(seg, id, addr, 4, true), (int) v);
    }

    static void storeIn64(MemorySegment seg, int id, long addr, long v) {
        seg.set(U64, offsetIn(seg, id, addr, 8, true), v);
    }

    /** {@link #atomicAdd32} in a region reached through its segment. */
    static long atomicAddIn32(MemorySegment seg, int id, long addr, long v) {
        aligned(addr, 4);
        return (int) ATOMIC_INT.getAndAdd(seg, offsetIn(seg, id, addr, 4, true), (int) v) & 0xffffffffL;
    }

    /** {@link #atomicAdd64} in a region reached through its segment. */
    static long atomicAddIn64(MemorySegment seg, int id, long addr, long v) {
        aligned(addr, 8);
        return (long) ATOMIC_LONG.getAndAdd(seg, offsetIn(seg, id, addr, 8, true), v);
    }

    /** A load of {@code size} bytes, zero-extended (or sign-extended with {@code signed}). */
    public long load(long addr, int size, boolean signed) {
        return switch (size) {
            case 1 -> signed ? (byte) load8(addr) : load8(addr);
            case 2 -> signed ? (short) load16(addr) : load16(addr);
            case 4 -> signed ? (int) load32(addr) : load32(addr);
            default -> load64(addr);
        };
    }

    public void store(long addr, int size, long v) {
        switch (size) {
            case 1 -> store8(addr, v);
            case 2 -> store16(addr, v);
            case 4 -> store32(addr, v);
            default -> store64(addr, v);
        }
    }

    /** An atomic's address is a multiple of its size, or a fault. */
    private static void aligned(long addr, int size) {
        if ((addr & (size - 1)) != 0) {
            throw new BpfFault("misaligned atomic access at 0x" + Long.toHexString(addr));
        }
    }

    /**
     * An atomic read-modify-write ({@code BPF_ATOMIC}, {@code imm} its operation) of 4 or 8 bytes,
     * which must be aligned. Returns the old value (zero-extended for 4 bytes): what the fetch
     * variants, xchg and cmpxchg give back.
     */
    public long atomic(long addr, int size, int operation, long operand, long expected) {
        aligned(addr, size);
        MemorySegment seg = region(addr, size, true);
        long o = addr & 0xffffffffL;
        if (seg == stack) {
            return stackAtomic((int) o, size, operation, operand, expected);
        }
        if (size == 4) {
            int v = (int) operand;
            int old = switch (operation & ~Bpf.FETCH) {
                case Bpf.ADD -> (int) ATOMIC_INT.getAndAdd(seg, o, v);
                case Bpf.OR -> (int) ATOMIC_INT.getAndBitwiseOr(seg, o, v);
                case Bpf.AND -> (int) ATOMIC_INT.getAndBitwiseAnd(seg, o, v);
                case Bpf.XOR -> (int) ATOMIC_INT.getAndBitwiseXor(seg, o, v);
                case Bpf.XCHG & ~Bpf.FETCH -> (int) ATOMIC_INT.getAndSet(seg, o, v);
                default -> (int) ATOMIC_INT.compareAndExchange(seg, o, (int) expected, v);
            };
            return old & 0xffffffffL;
        }
        return switch (operation & ~Bpf.FETCH) {
            case Bpf.ADD -> (long) ATOMIC_LONG.getAndAdd(seg, o, operand);
            case Bpf.OR -> (long) ATOMIC_LONG.getAndBitwiseOr(seg, o, operand);
            case Bpf.AND -> (long) ATOMIC_LONG.getAndBitwiseAnd(seg, o, operand);
            case Bpf.XOR -> (long) ATOMIC_LONG.getAndBitwiseXor(seg, o, operand);
            case Bpf.XCHG & ~Bpf.FETCH -> (long) ATOMIC_LONG.getAndSet(seg, o, operand);
            default -> (long) ATOMIC_LONG.compareAndExchange(seg, o, expected, operand);
        };
    }

    /**
     * An atomic on the stack: a read, the operation and a write, since only the one run this memory
     * serves at a time ever sees its stack (a program's stack is its own, as in the kernel).
     */
    private long stackAtomic(int o, int size, int operation, long operand, long expected) {
        long old = size == 4 ? (int) STACK_32.get(stackBytes, o) & 0xffffffffL : (long) STACK_64.get(stackBytes, o);
        long v = switch (operation & ~Bpf.FETCH) {
            case Bpf.ADD -> old + operand;
            case Bpf.OR -> old | operand;
            case Bpf.AND -> old & operand;
            case Bpf.XOR -> old ^ operand;
            case Bpf.XCHG & ~Bpf.FETCH -> operand;
            default -> (size == 4 ? old == (expected & 0xffffffffL) : old == expected) ? operand : old; // cmpxchg
        };
        if (size == 4) {
            STACK_32.set(stackBytes, o, (int) v);
        } else {
            STACK_64.set(stackBytes, o, v);
        }
        return old;
    }

    /** {@code lock add} of 4 bytes (and {@code BPF_FETCH}'s old value, zero-extended): the JIT's counter update, small enough to inline. */
    public long atomicAdd32(long addr, long v) {
        aligned(addr, 4);
        MemorySegment seg = region(addr, 4, true);
        if (seg == stack) {
            return stackAtomic((int) (addr & 0xffffffffL), 4, Bpf.ADD, v, 0);
        }
        return (int) ATOMIC_INT.getAndAdd(seg, addr & 0xffffffffL, (int) v) & 0xffffffffL;
    }

    /** {@code lock add} of 8 bytes, returning the old value. */
    public long atomicAdd64(long addr, long v) {
        aligned(addr, 8);
        MemorySegment seg = region(addr, 8, true);
        if (seg == stack) {
            return stackAtomic((int) (addr & 0xffffffffL), 8, Bpf.ADD, v, 0);
        }
        return (long) ATOMIC_LONG.getAndAdd(seg, addr & 0xffffffffL, v);
    }

    /**
     * The whole region holding [addr, addr + size), for helpers that read in place at offset
     * {@code addr & 0xffffffffL} without making a slice; null if the range is out of bounds.
     */
    public MemorySegment regionOf(long addr, long size, boolean write) {
        int id = (int) (addr >>> SHIFT);
        long offset = addr & 0xffffffffL;
        MemorySegment seg = id > 0 && id < regions.length ? regions[id] : null;
        if (seg == null || size < 0 || offset + size > seg.byteSize() || (write && !writable[id])) {
            return null;
        }
        return seg;
    }

    /** The segment behind an address and its offset, for helpers that read or write buffers; null if out of bounds. */
    public MemorySegment slice(long addr, long size, boolean write) {
        int id = (int) (addr >>> SHIFT);
        long offset = addr & 0xffffffffL;
        MemorySegment seg = id > 0 && id < regions.length ? regions[id] : null;
        if (seg == null || size < 0 || offset + size > seg.byteSize() || (write && !writable[id])) {
            return null;
        }
        return seg.asSlice(offset, size);
    }
}

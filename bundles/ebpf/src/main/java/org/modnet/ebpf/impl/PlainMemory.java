package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteOrder;

import org.modnet.ebpf.api.BpfFault;

/**
 * Loads and stores with no check at all, for the JIT's accesses the verifier proved in bounds: a
 * packet access after a {@code data_end} comparison, a frame-pointer access to the stack, a map value
 * of a map known at the access. The kernel's JIT emits a plain {@code mov} for those; so does HotSpot
 * for these: the generated code calls {@code sun.misc.Unsafe}'s accessors directly, which C2 inlines
 * ({@code @ForceInline}, even past a large program's inlining budget) to one instruction each; atomics
 * go through method handles held in static finals. An address is a base object (a heap segment's array, or null
 * for native memory) and a displacement that the JIT computes once per subprogram for the packet and
 * the context, and once per program for a map's values. The JIT's variant with plain context and packet
 * accesses runs only where the packet is native and the context a {@code long[]} ({@link Jit#plainRun}).
 *
 * <p>Safe only where the verifier's proof holds and the region's segment stays as large as the run was
 * told: {@link XdpBuffer} and {@link SkbBuffer} refuse a frame whose {@code data_end} lies past its
 * buffer. Where the JVM refuses these accessors ({@code --sun-misc-unsafe-memory-access=deny}, or a
 * processor that faults on unaligned loads) {@link #AVAILABLE} is false and the JIT keeps every check.
 * The interpreter always checks.
 */
final class PlainMemory {
    /** Whether plain accesses can be used here. */
    static final boolean AVAILABLE;
    /**
     * The {@code sun.misc.Unsafe} instance, a constant of the JIT's classes, whose code calls its
     * accessors directly: C2 inlines those ({@code @ForceInline}, so even past a large program's
     * inlining budget) to one instruction each, where a method handle per access would not fit.
     */
    static final Object UNSAFE;
    private static final boolean BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    /** Where a {@code byte[]}'s first element is from its object's start. */
    static final long BYTE_ARRAY_BASE;
    static final long LONG_ARRAY_BASE;
    private static final MethodHandle ADD_INT;
    private static final MethodHandle ADD_LONG;

    static {
        boolean ok = false;
        Object unsafe = null;
        long byteBase = 0;
        long longBase = 0;
        MethodHandle[] h = new MethodHandle[10];
        String arch = System.getProperty("os.arch", "");
        // unaligned loads are plain loads there, and eBPF is little-endian as these are
        if (!BIG_ENDIAN && (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            try {
                // jdk.unsupported exports and opens sun.misc to everyone: found through the platform loader, the
                // bundle needs no import of it
                Class<?> u = Class.forName("sun.misc.Unsafe", true, ClassLoader.getPlatformClassLoader());
                // the JIT's classes name it: their loader (the bundle's, importing sun.misc optionally) must see it too
                Class.forName("sun.misc.Unsafe", false, PlainMemory.class.getClassLoader());
                java.lang.reflect.Field f = u.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                unsafe = f.get(null);
                MethodHandles.Lookup l = MethodHandles.publicLookup();
                h[0] = l.findVirtual(u, "getByte", MethodType.methodType(byte.class, Object.class, long.class)).bindTo(unsafe);
                h[8] = l.findVirtual(u, "getAndAddInt", MethodType.methodType(int.class, Object.class, long.class, int.class)).bindTo(unsafe);
                h[9] = l.findVirtual(u, "getAndAddLong", MethodType.methodType(long.class, Object.class, long.class, long.class))
                        .bindTo(unsafe);
                byteBase = (int) l.findVirtual(u, "arrayBaseOffset", MethodType.methodType(int.class, Class.class)).invoke(unsafe, byte[].class);
                longBase = (int) l.findVirtual(u, "arrayBaseOffset", MethodType.methodType(int.class, Class.class)).invoke(unsafe, long[].class);
                byte[] probe = { 7 };
                ok = (byte) h[0].invoke(probe, byteBase) == 7; // throws where the JVM denies the accessors
            } catch (Throwable e) {
                ok = false;
            }
        }
        AVAILABLE = ok;
        UNSAFE = ok ? unsafe : null;
        BYTE_ARRAY_BASE = byteBase;
        LONG_ARRAY_BASE = longBase;
        ADD_INT = h[8];
        ADD_LONG = h[9];
    }

    private PlainMemory() {
    }

    /**
     * What to add to an address of region {@code id} to get the plain access's offset from its base
     * object (the segment's array, or null for native memory); 0 for no segment.
     */
    static long displacement(MemorySegment seg, int id) {
        if (seg == null) {
            return 0;
        }
        Object array = seg.heapBase().orElse(null);
        long start = array == null ? seg.address()
                : seg.address() + (array instanceof byte[] ? BYTE_ARRAY_BASE : array instanceof long[] ? LONG_ARRAY_BASE : -1L << 62);
        return start - ((long) id << Memory.SHIFT);
    }

    /**
     * {@code lock add} of 4 bytes at a proven address {@code addr} (checked for alignment, as every
     * engine faults on a misaligned atomic), the old value zero-extended.
     */
    static long atomicAdd32(Object base, long off, long addr, long v) {
        if ((addr & 3) != 0) {
            throw new BpfFault("misaligned atomic access at 0x" + Long.toHexString(addr));
        }
        try {
            return (int) ADD_INT.invokeExact(base, off, (int) v) & 0xffffffffL;
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    /** {@code lock add} of 8 bytes at a proven address, the old value. */
    static long atomicAdd64(Object base, long off, long addr, long v) {
        if ((addr & 7) != 0) {
            throw new BpfFault("misaligned atomic access at 0x" + Long.toHexString(addr));
        }
        try {
            return (long) ADD_LONG.invokeExact(base, off, v);
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }
}

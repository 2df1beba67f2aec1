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
 * for these ({@code sun.misc.Unsafe}'s accessors, reached through method handles held in static finals,
 * which C2 inlines to one instruction). An address is a base object (a heap segment's array, or null
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
    private static final boolean BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    /** Where a {@code byte[]}'s first element is from its object's start. */
    static final long BYTE_ARRAY_BASE;
    private static final long LONG_ARRAY_BASE;
    private static final MethodHandle GET_BYTE;
    private static final MethodHandle GET_SHORT;
    private static final MethodHandle GET_INT;
    private static final MethodHandle GET_LONG;
    private static final MethodHandle PUT_BYTE;
    private static final MethodHandle PUT_SHORT;
    private static final MethodHandle PUT_INT;
    private static final MethodHandle PUT_LONG;
    private static final MethodHandle ADD_INT;
    private static final MethodHandle ADD_LONG;

    static {
        boolean ok = false;
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
                java.lang.reflect.Field f = u.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                Object unsafe = f.get(null);
                MethodHandles.Lookup l = MethodHandles.publicLookup();
                Class<?>[] types = { byte.class, short.class, int.class, long.class };
                String[] names = { "Byte", "Short", "Int", "Long" };
                for (int i = 0; i < 4; i++) {
                    h[i] = l.findVirtual(u, "get" + names[i], MethodType.methodType(types[i], Object.class, long.class)).bindTo(unsafe);
                    h[4 + i] = l.findVirtual(u, "put" + names[i], MethodType.methodType(void.class, Object.class, long.class, types[i]))
                            .bindTo(unsafe);
                }
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
        BYTE_ARRAY_BASE = byteBase;
        LONG_ARRAY_BASE = longBase;
        GET_BYTE = h[0];
        GET_SHORT = h[1];
        GET_INT = h[2];
        GET_LONG = h[3];
        PUT_BYTE = h[4];
        PUT_SHORT = h[5];
        PUT_INT = h[6];
        PUT_LONG = h[7];
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

    static long load8(Object base, long off) {
        try {
            return (byte) GET_BYTE.invokeExact(base, off) & 0xffL;
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static long load16(Object base, long off) {
        try {
            short v = (short) GET_SHORT.invokeExact(base, off);
            return v & 0xffffL;
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static long load32(Object base, long off) {
        try {
            int v = (int) GET_INT.invokeExact(base, off);
            return v & 0xffffffffL;
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static long load64(Object base, long off) {
        try {
            long v = (long) GET_LONG.invokeExact(base, off);
            return v;
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static void store8(Object base, long off, long v) {
        try {
            PUT_BYTE.invokeExact(base, off, (byte) v);
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static void store16(Object base, long off, long v) {
        try {
            PUT_SHORT.invokeExact(base, off, (short) v);
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static void store32(Object base, long off, long v) {
        try {
            PUT_INT.invokeExact(base, off, (int) v);
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
    }

    static void store64(Object base, long off, long v) {
        try {
            PUT_LONG.invokeExact(base, off, v);
        } catch (Throwable e) {
            throw new BpfFault(e.toString());
        }
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

package org.modnet.drivers.afpacket;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls a packet socket needs (packet(7)), through the Foreign Function & Memory API:
 * {@code socket(AF_PACKET, SOCK_RAW)}, {@code setsockopt}/{@code getsockopt} at SOL_PACKET,
 * {@code bind} to a {@code sockaddr_ll}, {@code mmap} of the receive ring, {@code send}, {@code poll},
 * the interface ioctls, and {@code setns} into a named network namespace — each with errno captured.
 */
final class Packet {
    static final int AF_PACKET = 17;
    static final int SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int ETH_P_ALL = 0x0003;
    static final int SOL_SOCKET = 1;
    static final int SO_ERROR = 4;
    static final int SOL_PACKET = 263;
    static final int PACKET_ADD_MEMBERSHIP = 1;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_TX_RING = 13;
    static final int PACKET_LOSS = 14;
    static final int PACKET_FANOUT = 18;
    static final int PACKET_FANOUT_HASH = 0;
    static final int PACKET_FANOUT_LB = 1;
    static final int PACKET_FANOUT_CPU = 2;
    static final int PACKET_FANOUT_RND = 4;
    static final int PACKET_FANOUT_QM = 5;
    static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_VERSION = 10;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int PACKET_MR_PROMISC = 1;
    static final int TPACKET_V3 = 2;
    static final long SIOCGIFMTU = 0x8921;
    static final long SIOCGIFINDEX = 0x8933;
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCGIFHWADDR = 0x8927;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_LOCKED = 0x2000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;
    static final int MSG_DONTWAIT = 0x40;
    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;
    static final int EAGAIN = 11;
    static final int ENOBUFS = 105;
    static final int ENODEV = 19;
    static final int ENXIO = 6;
    static final int ENETDOWN = 100;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(INT, INT, INT, INT), -1);
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt", FunctionDescriptor.of(INT, INT, INT, INT, ADDR, INT), -1);
    private static final MethodHandle GETSOCKOPT = downcall("getsockopt", FunctionDescriptor.of(INT, INT, INT, INT, ADDR, ADDR), -1);
    private static final MethodHandle BIND = downcall("bind", FunctionDescriptor.of(INT, INT, ADDR, INT), -1);
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(INT, INT, LONG, ADDR), 2);
    private static final MethodHandle MMAP = downcall("mmap", FunctionDescriptor.of(ADDR, ADDR, LONG, INT, INT, INT, LONG), -1);
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(INT, ADDR, LONG), -1);
    /** The buffer as a raw address: a frame is sent straight from its packet buffer, with no segment made per frame. */
    private static final MethodHandle SEND = downcall("send", FunctionDescriptor.of(LONG, INT, LONG, LONG, INT), -1);
    private static final MethodHandle POLL = downcall("poll", FunctionDescriptor.of(INT, ADDR, LONG, INT), -1);
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(LONG, INT, ADDR, LONG), -1);
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(LONG, INT, ADDR, LONG), -1);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(INT, INT), -1);
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(INT, ADDR, INT), 2);
    private static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(INT, INT, INT), -1);
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(INT, INT, INT), -1);

    private Packet() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return firstVariadic < 0 ? LINKER.downcallHandle(symbol, fd, ERRNO_OPTION)
                : LINKER.downcallHandle(symbol, fd, ERRNO_OPTION, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A call's result, or its errno as a negative number. */
    private static long result(long r, MemorySegment state) {
        return r < 0 ? -(int) ERRNO.get(state, 0L) : r;
    }

    static StructLayout captureLayout() {
        return CAPTURE;
    }

    /** A non-blocking raw packet socket that hears nothing until bound with a protocol; fd or -errno. */
    static int socket(MemorySegment state) {
        try {
            return (int) result((int) SOCKET.invokeExact(state, AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int setsockopt(MemorySegment state, int fd, int level, int name, MemorySegment value) {
        try {
            return (int) result((int) SETSOCKOPT.invokeExact(state, fd, level, name, value, (int) value.byteSize()), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** getsockopt into {@code value}; {@code len} is a 4-byte scratch for the length. 0 or -errno. */
    static int getsockopt(MemorySegment state, int fd, int level, int name, MemorySegment value, MemorySegment len) {
        len.set(ValueLayout.JAVA_INT, 0, (int) value.byteSize());
        try {
            return (int) result((int) GETSOCKOPT.invokeExact(state, fd, level, name, value, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Binds to the interface {@code ifindex}, every protocol ({@code ETH_P_ALL}): a {@code sockaddr_ll}. */
    static int bind(MemorySegment state, Arena arena, int fd, int ifindex) {
        return bind(state, arena, fd, ifindex, ETH_P_ALL);
    }

    /**
     * Binds to the interface {@code ifindex} for {@code protocol}; protocol 0 hears nothing (no packet
     * type is registered) but still sends on that interface: the transmit socket's binding.
     */
    static int bind(MemorySegment state, Arena arena, int fd, int ifindex, int protocol) {
        MemorySegment sll = arena.allocate(20, 4);
        sll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
        sll.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2, (short) protocol);
        sll.set(ValueLayout.JAVA_INT, 4, ifindex);
        try {
            return (int) result((int) BIND.invokeExact(state, fd, sll, 20), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * An interface ioctl on {@code struct ifreq} for {@code name} ({@code SIOCGIFINDEX}, {@code SIOCGIFMTU}):
     * the int it answers, or -errno (ENODEV: no such interface).
     */
    static int ifreqInt(MemorySegment state, Arena arena, int fd, long request, String name) {
        MemorySegment ifreq = ifreq(arena, name);
        try {
            int r = (int) result((int) IOCTL.invokeExact(state, fd, request, ifreq), state);
            return r < 0 ? r : ifreq.get(ValueLayout.JAVA_INT, 16);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code SIOCGIFHWADDR}: the interface's link type ({@code sa_family}, ARPHRD_*), or -errno. */
    static int hardwareType(MemorySegment state, Arena arena, int fd, String name) {
        MemorySegment ifreq = ifreq(arena, name);
        try {
            int r = (int) result((int) IOCTL.invokeExact(state, fd, SIOCGIFHWADDR, ifreq), state);
            return r < 0 ? r : Short.toUnsignedInt(ifreq.get(ValueLayout.JAVA_SHORT, 16));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment ifreq(Arena arena, String name) {
        MemorySegment ifreq = arena.allocate(40, 8);
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(n, 0, ifreq, ValueLayout.JAVA_BYTE, 0, Math.min(n.length, 15));
        return ifreq;
    }

    /** A shared read-write mapping of the socket's ring, or null with the errno in {@code state}. */
    static MemorySegment mmap(MemorySegment state, int fd, long size) {
        try {
            MemorySegment m = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
            return m.address() == -1L ? null : m.reinterpret(size);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static void munmap(MemorySegment ring) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) MUNMAP.invokeExact(arena.allocate(CAPTURE), ring, ring.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * A non-blocking send of the {@code len} bytes at native address {@code address} on the bound socket:
     * bytes sent, or -errno (-EAGAIN: the socket's send buffer is full).
     */
    static long send(MemorySegment state, int fd, long address, long len) {
        try {
            return result((long) SEND.invokeExact(state, fd, address, len, MSG_DONTWAIT), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** poll(2) on {@code n} pollfd entries (8 bytes each: fd, events, revents) for at most {@code ms}. */
    static int poll(MemorySegment state, MemorySegment fds, int n, int ms) {
        try {
            return (int) result((int) POLL.invokeExact(state, fds, (long) n, ms), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static long read(MemorySegment state, int fd, MemorySegment buf, long len) {
        try {
            return result((long) READ.invokeExact(state, fd, buf, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static long write(MemorySegment state, int fd, MemorySegment buf, long len) {
        try {
            return result((long) WRITE.invokeExact(state, fd, buf, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Opens a file read-only (a network namespace's file); fd or -errno. */
    static int open(MemorySegment state, Arena arena, String path) {
        try {
            return (int) result((int) OPEN.invokeExact(state, arena.allocateFrom(path), O_RDONLY | O_CLOEXEC), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Moves the calling thread into the network namespace of {@code nsfd}; 0 or -errno. */
    static int setns(MemorySegment state, int nsfd) {
        try {
            return (int) result((int) SETNS.invokeExact(state, nsfd, CLONE_NEWNET), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A non-blocking eventfd, for waking a thread asleep in poll(2); the fd or -errno. */
    static int eventfd() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            return (int) result((int) EVENTFD.invokeExact(state, 0, SOCK_NONBLOCK), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

package org.modnet.drivers.tap;

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
 * The few libc calls a TAP device needs, through the Foreign Function & Memory API (no JNI):
 * {@code open("/dev/net/tun")}, {@code ioctl(TUNSETIFF)}, non-blocking {@code read}/{@code write},
 * {@code poll} and {@code close}, each with errno captured.
 */
final class Tun {
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final long TUNSETIFF = 0x400454caL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_VNET_HDR = 0x4000;
    static final short IFF_MULTI_QUEUE = 0x0100;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    /** {@code _IOW('T', 216, int)}: the size of the header before every frame. */
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /** Linux may hand over partial checksums ({@code NEEDS_CSUM}): {@code tx-checksumming} on its side. */
    static final int TUN_F_CSUM = 0x01;
    /** Linux may hand over TCPv4 GSO frames whole: {@code tcp-segmentation-offload} on its side. */
    static final int TUN_F_TSO4 = 0x02;
    /**
     * Linux may hand over UDP GSO frames (USO) whole: {@code tx-udp-segmentation} on its side. Its tun
     * (since 6.2) takes them only with {@link #TUN_F_USO6} in the same call ("for now USO4 and USO6
     * should work simultaneously"); an older kernel refuses either with EINVAL.
     */
    static final int TUN_F_USO4 = 0x20;
    static final int TUN_F_USO6 = 0x40;
    /** Both USO bits, as {@code TUNSETOFFLOAD} must be given them. */
    static final int TUN_F_USO = TUN_F_USO4 | TUN_F_USO6;
    /**
     * {@code struct virtio_net_hdr_v1} without the hash report: flags, gso_type, hdr_len, gso_size,
     * csum_start, csum_offset (little-endian), and num_buffers, which tun neither fills nor reads.
     */
    static final int VNET_HDR_LEN = 12;
    static final int VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    static final int VIRTIO_NET_HDR_F_DATA_VALID = 2;
    static final int VIRTIO_NET_HDR_GSO_NONE = 0;
    static final int VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    /** A UDP GSO frame (USO, IPv4 or IPv6), since Linux 6.2. */
    static final int VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
    /** The bit that says the segments carry ECN's CWR (only with {@code TUN_F_TSO_ECN}, not asked for). */
    static final int VIRTIO_NET_HDR_GSO_ECN = 0x80;
    static final short POLLIN = 0x1;
    /** epoll(7): a queue's descriptor is watched once per arming ({@code EPOLLONESHOT}), as an interrupt re-enabled by NAPI. */
    static final int EPOLLIN = 0x1;
    static final int EPOLLONESHOT = 1 << 30;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    private static final int EPOLL_CLOEXEC = 0x80000;
    /** struct epoll_event: packed on x86-64 (12 bytes, the data at 4), naturally aligned elsewhere (16, at 8). */
    static final boolean EPOLL_PACKED = "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    static final int EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
    static final int EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;
    static final int EAGAIN = 11;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), 2);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), 2);
    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), -1);
    private static final MethodHandle READV = downcall("readv",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), -1);
    /** read(2) and write(2) on a raw address: no segment slice made per frame (the packet path allocates nothing). */
    private static final MethodHandle READ_AT = downcall("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), -1);
    private static final MethodHandle WRITE_AT = downcall("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), -1);
    private static final MethodHandle POLL = downcall("poll",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle EPOLL_CREATE1 = downcall("epoll_create1",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle EPOLL_CTL = downcall("epoll_ctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS), -1);
    private static final MethodHandle EPOLL_WAIT = downcall("epoll_wait",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    /** epoll_pwait2(2) (Linux 5.11, glibc 2.35): a timeout in nanoseconds; null where libc lacks it. */
    private static final MethodHandle EPOLL_PWAIT2 = LINKER.defaultLookup().find("epoll_pwait2")
            .map(sym -> LINKER.downcallHandle(sym, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS), ERRNO_OPTION))
            .orElse(null);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle EVENTFD = downcall("eventfd",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);

    private Tun() {
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

    /**
     * Opens /dev/net/tun and attaches a TAP interface of that name (made, or an existing persistent one)
     * with a 12-byte virtio-net header before every frame and Linux allowed {@code offloads}
     * ({@code TUN_F_*}: partial checksums, TCPv4 GSO frames); with
     * {@code multiQueue} one queue of a multi-queue TAP (each call attaches another). The fd, or -errno.
     */
    static int openTap(String name, boolean multiQueue, int offloads) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) result((int) OPEN.invokeExact(state, arena.allocateFrom("/dev/net/tun"), O_RDWR | O_NONBLOCK), state);
            if (fd < 0) {
                return fd;
            }
            MemorySegment ifreq = arena.allocate(40);
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, ifreq, ValueLayout.JAVA_BYTE, 0, Math.min(n.length, 15));
            ifreq.set(ValueLayout.JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0)));
            int r = (int) result((int) IOCTL.invokeExact(state, fd, TUNSETIFF, ifreq), state);
            if (r >= 0) {
                MemorySegment size = arena.allocateFrom(ValueLayout.JAVA_INT, VNET_HDR_LEN);
                r = (int) result((int) IOCTL.invokeExact(state, fd, TUNSETVNETHDRSZ, size), state);
            }
            if (r >= 0) {
                r = (int) result((int) IOCTL.invokeExact(state, fd, TUNSETOFFLOAD, MemorySegment.ofAddress(offloads)), state);
            }
            if (r < 0) {
                close(fd);
                return r;
            }
            return fd;
        } catch (Throwable t) {
            throw new IllegalStateException("tap: " + t, t);
        }
    }

    /** A non-blocking read into {@code buf}: bytes read, -EAGAIN when nothing waits, or -errno. */
    static long read(MemorySegment state, int fd, MemorySegment buf, long len) {
        try {
            return result((long) READ.invokeExact(state, fd, buf, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * A non-blocking read into {@code len} bytes at {@code offset} of the native segment {@code buf}
     * (checked here, so the kernel never writes outside it): bytes read, -EAGAIN, or -errno.
     */
    static long readAt(MemorySegment state, int fd, MemorySegment buf, long offset, long len) {
        java.util.Objects.checkFromIndexSize(offset, len, buf.byteSize());
        try {
            return result((long) READ_AT.invokeExact(state, fd, buf.address() + offset, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** write(2) of {@code len} bytes at {@code offset} of the native segment {@code buf}: bytes written, or -errno. */
    static long writeAt(MemorySegment state, int fd, MemorySegment buf, long offset, long len) {
        java.util.Objects.checkFromIndexSize(offset, len, buf.byteSize());
        try {
            return result((long) WRITE_AT.invokeExact(state, fd, buf.address() + offset, len), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@code TUNSETOFFLOAD}: what Linux may hand over from now on (the device's, whichever queue asks);
     * 0 or -errno.
     */
    static int setOffload(MemorySegment state, int fd, int offloads) {
        try {
            return (int) result((int) IOCTL.invokeExact(state, fd, TUNSETOFFLOAD, MemorySegment.ofAddress(offloads)), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@link #setOffload} outside the packet path (a TAP being made): 0 or -errno. */
    static int trySetOffload(int fd, int offloads) {
        try (Arena arena = Arena.ofConfined()) {
            return setOffload(arena.allocate(CAPTURE), fd, offloads);
        }
    }

    /** readv(2) into {@code n} iovecs (16 bytes each: base, length): bytes read, or -errno. */
    static long readv(MemorySegment state, int fd, MemorySegment iov, int n) {
        try {
            return result((long) READV.invokeExact(state, fd, iov, n), state);
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

    /** poll(2) on {@code n} pollfd entries (8 bytes each: fd, events, revents) for at most {@code ms}. */
    static int poll(MemorySegment state, MemorySegment fds, int n, int ms) {
        try {
            return (int) result((int) POLL.invokeExact(state, fds, (long) n, ms), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** An epoll instance (close-on-exec); the fd or -errno. */
    static int epollCreate() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            return (int) result((int) EPOLL_CREATE1.invokeExact(state, EPOLL_CLOEXEC), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * epoll_ctl(2) for {@code fd} with {@code events}, its data the fd itself; {@code event} is the
     * caller's own room for one struct epoll_event. 0 or -errno.
     */
    static int epollCtl(MemorySegment state, int epfd, int op, int fd, int events, MemorySegment event) {
        event.set(ValueLayout.JAVA_INT_UNALIGNED, 0, events);
        event.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, fd);
        try {
            return (int) result((int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** epoll_wait(2) into {@code max} struct epoll_event for at most {@code ms}: how many are ready, or -errno. */
    static int epollWait(MemorySegment state, int epfd, MemorySegment events, int max, int ms) {
        try {
            return (int) result((int) EPOLL_WAIT.invokeExact(state, epfd, events, max, ms), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * epoll_pwait2(2) for at most {@code nanos} (a struct timespec in {@code timespec}, 16 bytes), as
     * {@link #epollWait} otherwise; where libc has no epoll_pwait2, epoll_wait for as many whole milliseconds, rounded up.
     */
    static int epollWaitNanos(MemorySegment state, int epfd, MemorySegment events, int max, long nanos, MemorySegment timespec) {
        if (EPOLL_PWAIT2 == null) {
            return epollWait(state, epfd, events, max, (int) Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
        }
        timespec.set(ValueLayout.JAVA_LONG, 0, nanos / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, 8, nanos % 1_000_000_000L);
        try {
            return (int) result((int) EPOLL_PWAIT2.invokeExact(state, epfd, events, max, timespec, MemorySegment.NULL), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The fd an epoll_wait result names (its data, as {@link #epollCtl} set it). */
    static int epollFd(MemorySegment events, int i) {
        return (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) EPOLL_EVENT_SIZE * i + EPOLL_DATA_OFFSET);
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A non-blocking eventfd, for waking a thread asleep in poll(2); the fd or -errno. */
    static int eventfd() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            return (int) result((int) EVENTFD.invokeExact(state, 0, O_NONBLOCK), state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static StructLayout captureLayout() {
        return CAPTURE;
    }
}

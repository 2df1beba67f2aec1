package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfSyscallImpl;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * The socket filter options through the system calls ({@code socket(7)}): SO_ATTACH_FILTER's classic
 * program and SO_ATTACH_BPF's program decide what the socket receives and how much of it, with the
 * kernel's errnos for what they refuse; SO_DETACH_FILTER, SO_LOCK_FILTER and SO_GET_FILTER.
 */
class SockFilterOptionsTest {
    private final LoopStack stack = new LoopStack();
    private final BpfSyscall bpf = new BpfSyscallImpl();
    private final SocketCalls proc;
    private final int rx;
    private final int tx;

    SockFilterOptionsTest() {
        stack.layer.setFilters(new SkFilters(bpf, 1));
        proc = stack.layer.process("test", "");
        rx = proc.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        tx = proc.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        assertEquals(0, proc.bind(rx, new SockAddr(0x7f000001, 7000)));
    }

    @AfterEach
    void close() {
        proc.close();
        stack.close();
    }

    private static ByteBuffer classic(long... insns) {
        ByteBuffer b = ByteBuffer.allocate(insns.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long i : insns) {
            b.putLong(i);
        }
        return b.flip();
    }

    private static long c(int code, int jt, int jf, int k) {
        return (code & 0xffffL) | (jt & 0xffL) << 16 | (jf & 0xffL) << 24 | (k & 0xffffffffL) << 32;
    }

    private void send(String s) {
        assertEquals(s.length(), proc.sendto(tx, ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)), 0, new SockAddr(0x7f000001, 7000)));
    }

    private String recv() {
        ByteBuffer b = ByteBuffer.allocate(100);
        int n = proc.recv(rx, b, SocketCalls.MSG_DONTWAIT);
        return n < 0 ? SocketCalls.strerror(n) : new String(b.array(), 0, n, StandardCharsets.US_ASCII);
    }

    @Test
    void classicFilterKeepsWhatItReturnsAndDropsTheRest() {
        // ldb [0]; jset #1 -> ret #0; ret #3: odd first bytes dropped, the others cut to 3 bytes
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER,
                classic(c(0x30, 0, 0, 0), c(0x45, 1, 0, 1), c(0x06, 0, 0, 3), c(0x06, 0, 0, 0))));
        send("abcdef"); // 'a' is odd
        send("bcdefg");
        assertEquals("bcd", recv(), "truncated to what the filter returned");
        assertEquals("Resource temporarily unavailable", recv(), "the odd one was dropped");
        int[] back = new int[8];
        assertEquals(8, proc.getsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_GET_FILTER, back));
        assertEquals(0x30, back[0] & 0xffff);
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
        send("abc");
        assertEquals("abc", recv(), "detached: everything again");
    }

    @Test
    void socketProgramAttachedByIdFilters() throws Exception {
        BpfProg p = bpf.progLoad("len4", bpf.assemble("""
                ldxw %r0, [%r1+0]
                jeq %r0, 4, keep
                mov %r0, 0
                keep:
                exit
                """), ProgType.SOCKET_FILTER, AttachType.DEFAULT, List.of(), null, null);
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, p.id()));
        p.close(); // the socket holds it
        send("abc");
        send("abcd");
        assertEquals("abcd", recv());
        assertEquals("Resource temporarily unavailable", recv());
        int[] back = new int[8];
        assertEquals(-Errno.EACCES.number(), proc.getsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_GET_FILTER, back),
                "an eBPF program has no classic form to give back");
    }

    @Test
    void refusalsCarryTheKernelsErrnos() throws Exception {
        assertEquals(-Errno.EBADF.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, 99999));
        BpfProg xdp = bpf.progLoad("x", bpf.assemble("mov %r0, 2\nexit"), ProgType.XDP, AttachType.DEFAULT, List.of(), null, null);
        assertEquals(-Errno.EINVAL.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, xdp.id()),
                "not a socket filter");
        assertEquals(-Errno.EINVAL.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER,
                classic(c(0x28, 0, 0, 12))), "no return at the end: bpf_check_classic refuses it");
        assertEquals(-Errno.EINVAL.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER, 1),
                "integers are no sock_fprog");
        assertEquals(-Errno.ENOENT.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
        ByteBuffer keepAll = classic(c(0x06, 0, 0, -1));
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER, keepAll));
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, 1));
        assertEquals(-Errno.EPERM.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER, keepAll.rewind()));
        assertEquals(-Errno.EPERM.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
        assertEquals(-Errno.EPERM.number(), proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, 0), "no unlocking");
        stack.layer.unsetFilters(stack.layer.filters());
        assertEquals(-Errno.ENOPROTOOPT.number(), proc.setsockopt(tx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, 1),
                "without the eBPF layer");
    }

    @Test
    void anUpdateOfTheEbpfLayerMovesTheFilterToTheAdoptedProgram() throws Exception {
        BpfProg p = bpf.progLoad("len4", bpf.assemble("""
                ldxw %r0, [%r1+0]
                jeq %r0, 4, keep
                mov %r0, 0
                keep:
                exit
                """), ProgType.SOCKET_FILTER, AttachType.DEFAULT, List.of(), null, null);
        assertEquals(0, proc.setsockopt(rx, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, p.id()));
        p.close();
        BpfSyscall next = new BpfSyscallImpl();
        org.modnet.ebpf.api.BpfHandOver all = bpf.handOver();
        org.modnet.ebpf.api.BpfAdoption adoption = next.adopt(new org.modnet.ebpf.api.BpfHandOver(all.version(), List.of(),
                all.progs().stream().filter(h -> h.id() == p.id()).toList()));
        BpfProg adopted = adoption.prog(p.id());
        assertEquals(1, new SkFilterRebind().rebind(bpf, next, adoption));
        adopted.close(); // the adopter lets go: the filter holds its own reference
        assertEquals(true, adopted.loaded(), "the filter runs the adopted program");
        assertEquals(false, p.loaded(), "and let go of the old one");
        send("abc");
        send("abcd");
        assertEquals("abcd", recv());
        assertEquals("Resource temporarily unavailable", recv());
    }
}

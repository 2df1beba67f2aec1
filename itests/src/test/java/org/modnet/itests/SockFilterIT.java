package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * Socket filters on a real Felix (issue 21): a UDP socket in ns2 with a {@code SEC("socket")}-type
 * program attached by {@code SO_ATTACH_BPF} receives only the even-numbered datagrams ns1 sends, the
 * others counted in UdpInErrors; and {@code tcpdump -dd}'s classic program for an expression, attached
 * by {@code SO_ATTACH_FILTER}, keeps what the expression says.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class SockFilterIT {
    private static final int SKF_LL_OFF = -0x200000;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Sockets sockets;

    /** The boot set plus the socket and eBPF APIs this class's signatures name. */
    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = java.util.Arrays.copyOf(boot, boot.length + 2);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        all[boot.length + 1] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.ebpf-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void twoNamespaces() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        sockets = ModnetRuntime.service(context, Sockets.class, null);
        ModnetRuntime.service(context, org.modnet.socket.api.SocketProtocol.class, null);
        ModnetRuntime.vethPair(context, core);
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
    }

    private long counter(String ns, String name) throws Exception {
        for (String line : ModnetRuntime.run(processor, ns, "nstat -az " + name).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[0].equals(name)) {
                return Long.parseLong(w[1]);
            }
        }
        throw new AssertionError("nstat has no " + name);
    }

    private static int check(int ret) {
        assertTrue("system call failed: " + SocketCalls.strerror(ret), ret >= 0);
        return ret;
    }

    /** Sends datagrams 0..n-1 (each its number, 4 bytes big-endian, then 4 more bytes) from ns1 to 10.0.0.2:port. */
    private void send(int port, int n) {
        try (SocketCalls sys = sockets.process("sender", "ns1")) {
            int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
            for (int i = 0; i < n; i++) {
                ByteBuffer b = ByteBuffer.allocate(8).putInt(i).putInt(0x61626364);
                b.flip();
                check(sys.sendto(fd, b, 0, new SockAddr(0x0a000002, port)));
            }
        }
    }

    /** What the socket receives until a second passes without a datagram: the numbers, and the lengths. */
    private static List<int[]> receive(SocketCalls sys, int fd) {
        List<int[]> got = new ArrayList<>();
        ByteBuffer b = ByteBuffer.allocate(100);
        while (true) {
            b.clear();
            int n = sys.recv(fd, b, 0);
            if (n < 0) {
                assertEquals(-Errno.EAGAIN.number(), n);
                return got;
            }
            got.add(new int[] { n >= 4 ? b.getInt(0) : -1, n });
        }
    }

    @Test
    public void socketProgramPassesOnlyEvenNumberedDatagramsAndTheOthersAreCounted() throws Exception {
        BpfSyscall bpf = ModnetRuntime.service(context, BpfSyscall.class, null);
        // the datagram's number is the first payload word, past the 8-byte UDP header the filter starts at
        BpfProg even = bpf.progLoad("even", bpf.assemble("""
                mov %r6, %r1
                ldabsw 8
                and %r0, 1
                jne %r0, 0, drop
                ldxw %r0, [%r6+0]
                exit
                drop:
                mov %r0, 0
                exit
                """), ProgType.SOCKET_FILTER, AttachType.DEFAULT, List.of(), null, null);
        long inErrors = counter("ns2", "UdpInErrors");
        try (SocketCalls sys = sockets.process("receiver", "ns2")) {
            int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
            check(sys.bind(fd, new SockAddr(0, 6000)));
            check(sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 1, 0));
            check(sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_BPF, even.id()));
            even.close(); // the socket holds the program now
            send(6000, 10);
            List<Integer> numbers = receive(sys, fd).stream().map(r -> r[0]).toList();
            assertEquals(List.of(0, 2, 4, 6, 8), numbers);
            assertEquals("the filtered-out datagrams are UdpInErrors, as udp_queue_rcv_one_skb counts them", 5,
                    counter("ns2", "UdpInErrors") - inErrors);
            // SO_LOCK_FILTER: from now on the filter stays
            check(sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, 1));
            assertEquals(-Errno.EPERM.number(), sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
            int[] locked = new int[1];
            check(sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_LOCK_FILTER, locked));
            assertEquals(1, locked[0]);
        }
    }

    @Test
    public void tcpdumpExpressionAttachedWithSoAttachFilterKeepsWhatItSays() throws Exception {
        // tcpdump -dd compiles for a link-layer frame; a UDP socket's filter starts at the UDP header, so the
        // program's packet loads are moved to SKF_LL_OFF, the kernel's base for the link-layer header
        String dd = ModnetRuntime.run(processor, "tcpdump -dd 'udp dst port 6001 and udp[11] & 1 = 0'");
        ByteBuffer prog = ByteBuffer.allocate(8 * 64).order(ByteOrder.LITTLE_ENDIAN);
        for (String line : dd.split("\n")) {
            line = line.trim();
            if (!line.startsWith("{")) {
                continue;
            }
            String[] v = line.replaceAll("[{}, ]+", " ").trim().split(" ");
            int code = Integer.decode(v[0]);
            int k = (int) Long.parseLong(v[3].substring(2), 16);
            int mode = code & 0xe0;
            boolean packetLoad = (code & 0x07) == 0x00 && (mode == 0x20 || mode == 0x40) || code == 0xb1; // ld abs/ind, ldxb msh
            prog.putShort((short) code).put((byte) Integer.parseInt(v[1])).put((byte) Integer.parseInt(v[2]))
                    .putInt(packetLoad ? k + SKF_LL_OFF : k);
        }
        prog.flip();
        assertTrue(dd, prog.remaining() >= 8 * 4);
        try (SocketCalls sys = sockets.process("receiver", "ns2")) {
            int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
            check(sys.bind(fd, new SockAddr(0, 6001)));
            check(sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 1, 0));
            assertEquals(0, sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER, prog));
            send(6001, 6);
            List<int[]> got = receive(sys, fd);
            assertEquals(List.of(0, 2, 4), got.stream().map(r -> r[0]).toList());
            int[] back = new int[128];
            int n = sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_GET_FILTER, back);
            assertEquals("SO_GET_FILTER gives the program back", prog.limit() / 4, n);
            check(sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
            assertEquals(-Errno.ENOENT.number(), sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_DETACH_FILTER, 0));
            send(6001, 2);
            assertEquals("without the filter both arrive", 2, receive(sys, fd).size());
        }
        // a program the kernel's checker refuses: EINVAL
        try (SocketCalls sys = sockets.process("bad", "ns2")) {
            int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0));
            ByteBuffer bad = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x28).put((byte) 0).put((byte) 0).putInt(12);
            bad.flip(); // ldh [12] and no return
            assertEquals(-Errno.EINVAL.number(), sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ATTACH_FILTER, bad));
        }
    }
}

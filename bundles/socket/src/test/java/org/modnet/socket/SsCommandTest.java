package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockException;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.SocketProtocol;

/** {@code ss}: selection, columns and the filter language over sockets placed by hand; and the socket switch's errnos. */
class SsCommandTest {
    private final StandaloneCore stack = StandaloneCore.manual(1, 64, System::nanoTime);
    private final SocketLayer layer = new SocketLayer(stack.core());
    private final NetNamespace ns = stack.core().initNet();

    /** A datagram socket whose addresses the test sets; it sends nothing. */
    static final class PlacedSock extends Sock {
        PlacedSock(NetNamespace ns) {
            super(ns, SocketCalls.SOCK_DGRAM, SocketCalls.IPPROTO_UDP, null);
        }

        void place(String local, int lport, String remote, int rport) {
            SockAddr l = SockAddr.of(local, lport);
            SockAddr r = SockAddr.of(remote, rport);
            localAddress = l.address();
            localPort = l.port();
            remoteAddress = r.address();
            remotePort = r.port();
            state = rport == 0 ? TCP_CLOSE : TCP_ESTABLISHED;
        }

        @Override
        public void bind(SockAddr addr) throws SockException {
            throw SockException.of(Errno.EOPNOTSUPP);
        }

        @Override
        public void connect(SockAddr addr) throws SockException {
            throw SockException.of(Errno.EOPNOTSUPP);
        }

        @Override
        public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) throws SockException {
            throw SockException.of(Errno.EOPNOTSUPP);
        }

        @Override
        protected SockAddr source(SkBuff skb) {
            return SockAddr.ANY;
        }

        @Override
        protected void release() {
        }

        @Override
        public String netid() {
            return "udp";
        }
    }

    SsCommandTest() {
        layer.init(ns);
        layer.addProtocol(new SocketProtocol() {
            @Override
            public Sock create(NetNamespace n) {
                return new PlacedSock(n);
            }

            @Override
            public String name() {
                return "UDP";
            }

            @Override
            public long memoryPages(NetNamespace n) {
                return 3;
            }
        }, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 2, SocketProtocol.PROTOCOL, 17, SocketProtocol.DEFAULT, true));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private PlacedSock sock(String local, int lport, String remote, int rport) throws SockException {
        PlacedSock s = (PlacedSock) layer.create(ns, 2, 2, 0);
        s.place(local, lport, remote, rport);
        return s;
    }

    private String ss(String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new SsCommand(new PrintStream(b, true, StandardCharsets.UTF_8)).run(layer, ns, List.of(args));
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void columnsAndSelection() throws Exception {
        sock("0.0.0.0", 53, "0.0.0.0", 0);
        sock("10.0.0.1", 40000, "10.0.0.2", 53);
        String all = ss("-u", "-a", "-n");
        // as iproute2 6.1's ss prints into a pipe: columns as wide as their fields, the last line's Process field unmeasured
        assertEquals("State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
                + "UNCONN 0      0            0.0.0.0:53         0.0.0.0:*          \n"
                + "ESTAB  0      0           10.0.0.1:40000     10.0.0.2:53         \n", all);
        assertEquals(2, ss("-u", "-n").lines().count(), "without -a: connected sockets only");
        assertTrue(ss("-u", "-l", "-n").contains(":53 "), "-l: the unconnected ones");
        assertEquals(1, ss("-u", "-H", "-n").lines().count(), "-H: no header");
        assertTrue(ss("-a", "-n").startsWith("Netid"), "several protocols: a Netid column");
    }

    @Test
    void filterExpressions() throws Exception {
        sock("0.0.0.0", 53, "0.0.0.0", 0);
        sock("10.0.0.1", 40000, "10.0.0.2", 53);
        sock("10.0.0.1", 40001, "192.168.1.9", 123);
        assertEquals(1, rows("-u", "-a", "sport = :53"));
        assertEquals(2, rows("-u", "-a", "dport = :53 or dport = :123"));
        assertEquals(1, rows("-u", "-a", "dst 192.168.0.0/16"));
        assertEquals(2, rows("-u", "-a", "src 10.0.0.1"));
        assertEquals(1, rows("-u", "-a", "src 10.0.0.1 and not ( dport == :53 )"));
        assertEquals(2, rows("-u", "-a", "sport > :1024"));
        assertEquals(2, rows("-u", "state", "established"));
        assertEquals(1, rows("-u", "exclude", "established"));
        assertThrows(CommandException.class, () -> ss("-u", "sport", "=", ":abc"));
        assertThrows(CommandException.class, () -> ss("-u", "bogus"));
        assertThrows(CommandException.class, () -> ss("-u", "state", "nonsense"));
        assertThrows(CommandException.class, () -> ss("-Z"));
    }

    private long rows(String... args) {
        return ss(args).lines().count() - 1;
    }

    @Test
    void summaryAndSockstat() throws Exception {
        sock("0.0.0.0", 53, "0.0.0.0", 0);
        String s = ss("-s");
        assertTrue(s.contains("Total: 1"), s);
        assertTrue(s.matches("(?s).*UDP\\s+1\\s+1\\s+0.*"), s);
        assertEquals(List.of("sockets: used 1", "UDP: inuse 1 mem 3", "UDPLITE: inuse 0", "RAW: inuse 0"), SsCommand.sockstat(layer, ns));
        assertTrue(ss("-h").startsWith("Usage: ss"));
    }

    @Test
    void memoryGoesOnALineOfItsOwnAndExtendedEndsWithTheShutdownArrows() throws Exception {
        PlacedSock u = sock("10.0.0.1", 40000, "10.0.0.2", 53);
        String out = ss("-u", "-m", "-e", "-n");
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        assertTrue(lines.get(1).endsWith(" ino:" + u.inode() + " sk:" + Long.toHexString(u.inode()) + " <->"), lines.get(1));
        assertEquals("\t skmem:(r0,rb" + u.rcvbuf() + ",t0,tb" + u.sndbuf() + ",f0,w0,o0,bl0,d0)", lines.get(2));
        assertEquals(2, ss("-u", "-i", "-n").lines().count(), "-i adds nothing to a UDP socket");
    }

    @Test
    void tcpInfoOfADatagramSocketIsNoProtocolOption() throws Exception {
        PlacedSock u = sock("10.0.0.1", 40000, "10.0.0.2", 53);
        SockException e = assertThrows(SockException.class, () -> u.getOption(SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, new int[62]));
        assertEquals(Errno.ENOPROTOOPT, e.errno());
    }

    @Test
    void numbersPrintAsCsPercentGAndRatesAsSprintBw() {
        assertEquals("0.034", SsTcpInfo.g(0.034));
        assertEquals("204", SsTcpInfo.g(204.0));
        assertEquals("5.165", SsTcpInfo.g(5.165));
        assertEquals("10.262", SsTcpInfo.g(10.262));
        assertEquals("4.29497e+06", SsTcpInfo.g(4294967.295), "min_rtt ~0 as ss would print it");
        assertEquals("1e-05", SsTcpInfo.g(0.00001));
        assertEquals("109G", SsTcpInfo.bw(109226666667.0, false));
        assertEquals("1.03G", SsTcpInfo.bw(1032525073.0, false));
        assertEquals("28.4M", SsTcpInfo.bw(28351992.0, false));
        assertEquals("8k", SsTcpInfo.bw(8000.0, false));
        assertEquals("109226666667", SsTcpInfo.bw(109226666667.0, true), "-n: %.0f");
    }

    @Test
    void timersPrintAsPrintMsTimer() {
        assertEquals("200ms", SsTcpInfo.msTimer(200));
        assertEquals("1.500ms", SsTcpInfo.msTimer(1500));
        assertEquals("59sec", SsTcpInfo.msTimer(59_870));
        assertEquals("2min5sec", SsTcpInfo.msTimer(125_400));
        assertEquals("119min", SsTcpInfo.msTimer(7_159_000));
        assertEquals("", SsTcpInfo.msTimer(-5), "overdue: nothing, as ss prints it");
    }

    @Test
    void theSocketSwitchAnswersWithLinuxErrnos() {
        SocketCalls sys = layer.process("t", "");
        assertEquals(-Errno.EAFNOSUPPORT.number(), sys.socket(99, 2, 0));
        assertEquals(-Errno.ESOCKTNOSUPPORT.number(), sys.socket(2, SocketCalls.SOCK_RAW, 0));
        assertEquals(-Errno.EPROTONOSUPPORT.number(), sys.socket(2, 2, 6));
        assertEquals(3, sys.socket(2, 2 | SocketCalls.SOCK_NONBLOCK, 0));
        assertEquals(SocketCalls.O_NONBLOCK, sys.fcntl(3, SocketCalls.F_GETFL, 0) & SocketCalls.O_NONBLOCK);
        assertEquals(-Errno.ENOENT.number(), sys.setns("nowhere"));
        assertEquals(null, layer.process("t", "nowhere"));
        sys.close();
        assertEquals(0, layer.sockets("").size());
    }
}

package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.SsCommandAccess;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.TcpInfo;

/** Seeing TCP as Linux shows it: TCP_INFO, ss -i/-o/-e/-m/-s, /proc/net/tcp and sockstat, over a connection on lo. */
class TcpObserveTest {
    private static final int LOCALHOST = 0x7f000001;

    private TcpStack s;
    private SocketCalls sys;
    private int listener;
    private int client;
    private int server;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
        listener = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(listener, new SockAddr(LOCALHOST, 7000)));
        assertEquals(0, sys.listen(listener, 8));
        client = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(-Errno.EINPROGRESS.number(), sys.connect(client, new SockAddr(LOCALHOST, 7000)));
        s.run();
        server = sys.accept(listener, null, SOCK_NONBLOCK);
        assertTrue(server >= 3, "accept: " + SocketCalls.strerror(server));
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    /** getsockopt(fd, SOL_TCP, TCP_INFO) as a C caller gets it: words of the little-endian struct, read back as bytes. */
    private static TcpInfo info(SocketCalls p, int fd) {
        int[] words = new int[TcpInfo.SIZE / 4];
        assertEquals(TcpInfo.SIZE / 4, p.getsockopt(fd, SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, words));
        ByteBuffer b = ByteBuffer.allocate(TcpInfo.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) {
            b.putInt(w);
        }
        return TcpInfo.read(b.flip());
    }

    private void send(int fd, int n) {
        assertEquals(n, sys.send(fd, ByteBuffer.wrap(new byte[n]), 0));
    }

    private int recv(int fd) {
        return sys.recv(fd, ByteBuffer.allocate(65536), MSG_DONTWAIT);
    }

    private String ss(String... args) {
        return SsCommandAccess.run(s.sockets, args);
    }

    private Sock sockOf(int port) {
        return s.sockets.sockets("").stream().filter(k -> k.localAddress().port() == port && k.state() != Sock.TCP_LISTEN)
                .findFirst().orElseThrow();
    }

    @Test
    void tcpInfoCountsSegmentsAndBytesEachWayInLinuxsUnits() {
        send(client, 1000);
        s.run();
        assertEquals(1000, recv(server));
        s.advance(500);
        TcpInfo c = info(sys, client);
        TcpInfo v = info(sys, server);
        assertEquals(Sock.TCP_ESTABLISHED, c.state());
        assertEquals(TcpInfo.TCPI_OPT_TIMESTAMPS | TcpInfo.TCPI_OPT_SACK | TcpInfo.TCPI_OPT_WSCALE, c.options());
        assertEquals(1000, c.bytesSent());
        assertEquals(1001, c.bytesAcked(), "the SYN counts, as tcp_snd_una_update counts it on the active side");
        assertEquals(0, v.bytesAcked(), "the passive side's SYN-ACK does not");
        assertEquals(1000, v.bytesReceived());
        assertEquals(1, c.dataSegsOut());
        assertEquals(1, v.dataSegsIn());
        assertEquals(c.segsOut(), v.segsIn(), "every segment the client sent reached the server");
        assertEquals(2, c.delivered(), "the SYN and the data segment");
        assertEquals(204_000, c.rto(), "rto in microseconds: srtt + tcp_rto_min rounded up to the jiffy, Linux's rto:204 on lo at HZ=250");
        assertTrue(c.rtt() > 0 && c.minRtt() > 0 && c.minRtt() <= c.rtt(), "rtt " + c.rtt() + " min " + c.minRtt());
        assertEquals(500, c.lastDataSent(), "ms since the data went");
        assertEquals(500, v.lastDataRecv());
        assertEquals(40_000, v.ato(), "a receiver reports the delayed-ACK timeout");
        assertEquals(1000, v.rcvMss(), "raised by a segment at least as large as the guess");
        assertEquals(536, c.rcvMss(), "tcp_initialize_rcv_mss's guess while nothing came");
        assertEquals(10, c.sndCwnd(), "one segment never filled the window: tcp_is_cwnd_limited kept it at the initial 10");
        assertEquals(TcpInfo.INFINITE_SSTHRESH, c.sndSsthresh());
        assertEquals(65535 - 40, c.advmss(), "lo's MTU capped at IPV4_MAX_PMTU, less the headers (ipv4_default_advmss)");
        assertEquals(65535, c.pmtu(), "lo's 65536 capped at IP_MAX_MTU, as Linux reports it");
        assertEquals(0, c.unacked());
        assertTrue(c.sndWnd() > 0 && c.rcvWnd() > 0);
    }

    @Test
    void aShortBufferGetsTheFirstWordsAsLinuxCutsTheStruct() {
        int[] linux61 = new int[TcpInfo.SIZE_6_1 / 4];
        assertEquals(58, sys.getsockopt(client, SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, linux61));
        assertEquals(Sock.TCP_ESTABLISHED, linux61[0] & 0xff);
        assertEquals(info(sys, client).sndWnd(), linux61[57], "tcpi_snd_wnd is the last word of 6.1's struct");
    }

    @Test
    void aCCallerReadsTheStructFromBytesAsOnLinux() {
        ByteBuffer linux61 = ByteBuffer.allocate(TcpInfo.SIZE_6_1);
        assertEquals(232, sys.getsockopt(client, SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, linux61));
        ByteBuffer b = linux61.flip().order(ByteOrder.LITTLE_ENDIAN);
        TcpInfo i = info(sys, client);
        assertEquals(Sock.TCP_ESTABLISHED, b.get(0));
        assertEquals(i.sndWscale() | i.rcvWscale() << 4, b.get(6) & 0xff);
        assertEquals(i.sndMss(), b.getInt(16)); // tcpi_snd_mss
        assertEquals(i.segsOut(), b.getInt(136)); // tcpi_segs_out
        assertEquals(i.sndWnd(), b.getInt(228)); // tcpi_snd_wnd
        ByteBuffer whole = ByteBuffer.allocate(512);
        assertEquals(TcpInfo.SIZE, sys.getsockopt(client, SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, whole), "sizeof(struct tcp_info)");
    }

    @Test
    void aListenerReportsItsAcceptQueueAndBacklogAsUnackedAndSacked() {
        int second = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sys.connect(second, new SockAddr(LOCALHOST, 7000));
        s.run();
        TcpInfo l = info(sys, listener);
        assertEquals(Sock.TCP_LISTEN, l.state());
        assertEquals(1, l.unacked(), "one connection waits to be accepted");
        assertEquals(8, l.sacked(), "the listen backlog");
        assertEquals(0, l.rto(), "nothing else, as tcp_get_info returns early for a listener");
        String out = ss("-t", "-l", "-i");
        assertTrue(out.contains("\n\t reno cwnd:10 unacked:1\n"), out);
    }

    @Test
    void ssInfoPrintsTheDetailLineInIproute2Order() {
        send(client, 1000);
        s.run();
        recv(server);
        s.advance(300);
        String out = ss("-t", "-i", "-n");
        String[] lines = out.split("\n");
        assertEquals(5, lines.length, out);
        String detail = lines[lines[1].stripTrailing().endsWith(":7000") ? 2 : 4]; // after the client's row: its peer is :7000
        // no delivery_rate or app_limited: on the virtual clock the ACK came at the instant of the send, a
        // rate sample shorter than min_rtt, which tcp_rate_gen discards (TcpRateTest pins app_limited)
        Matcher m = Pattern.compile("^\t reno wscale:(\\d+),(\\d+) rto:204 rtt:([0-9.]+)/([0-9.]+) mss:(\\d+) pmtu:65535 rcvmss:536"
                + " advmss:65495 cwnd:(\\d+) bytes_sent:1000 bytes_acked:1001 segs_out:(\\d+) segs_in:(\\d+) data_segs_out:1 send (\\d+)bps"
                + " lastsnd:300 lastrcv:300 lastack:300 pacing_rate (\\d+)bps delivered:2 rcv_space:(\\d+) rcv_ssthresh:(\\d+)"
                + " minrtt:([0-9.]+) snd_wnd:(\\d+) *$").matcher(detail); // padded to the Process column, as ss pads it
        assertTrue(m.matches(), detail);
        assertTrue(out.split("\n")[0].startsWith("State"), out);
        String opts = ss("-t", "-i", "-o");
        assertTrue(opts.contains("\t ts sack reno wscale:"), "-o adds the options: " + opts);
        assertTrue(opts.matches("(?s).*send [0-9.]+[kMGT]?bps.*"), "without -n, rates in k, M, G: " + opts);
    }

    @Test
    void ssOptionsShowTheRetransmitTimerAndExtendedTheInodeAndShutdown() {
        send(client, 100); // not yet processed: in flight, the timer running
        String out = ss("-t", "-o", "-e");
        Sock c = sockOf(localPort(client));
        assertTrue(out.contains(" timer:(on,204ms,0) ino:" + c.inode() + " sk:" + Long.toHexString(c.inode()) + " <->"), out);
        s.run();
        assertEquals(0, sys.shutdown(client, SocketCalls.SHUT_WR));
        s.run();
        out = ss("-t", "-e");
        assertTrue(out.contains(" ino:" + c.inode() + " sk:" + Long.toHexString(c.inode()) + " <--"), "FIN sent: " + out);
        assertTrue(out.contains(" -->"), "the server saw the FIN: " + out);
    }

    private int localPort(int fd) {
        SockAddr[] me = new SockAddr[1];
        sys.getsockname(fd, me);
        return me[0].port();
    }

    @Test
    void ssMemoryShowsSkmemOnALineOfItsOwn() {
        send(client, 700); // in the server's receive queue until read
        s.run();
        String out = ss("-t", "-m");
        assertTrue(out.matches("(?s).*\n\t skmem:\\(r700,rb\\d+,t0,tb\\d+,f0,w0,o0,bl0,d0\\)\n.*"), out);
    }

    @Test
    void timeWaitAndOrphansShowInSsSummarySockstatAndProcNetTcp() {
        int port = localPort(client);
        assertEquals(0, sys.close(client)); // FIN-WAIT-1, then FIN-WAIT-2: an orphan, handed to a timewait sock
        s.run();
        List<String> sockstat = SsCommandAccess.sockstat(s.sockets);
        // tcp_fin_timeout (60) is not above TCP_TIMEWAIT_LEN, so Linux's tcp_rcv_state_process calls
        // tcp_time_wait(sk, TCP_FIN_WAIT2, tmo): the orphan is gone, a tw sock holds the 4-tuple
        assertEquals("TCP: inuse 2 orphan 0 tw 1 alloc 2 mem 0", sockstat.get(1));
        assertTrue(ss("-t", "-a", "-n").contains("\nFIN-WAIT-2"), "the tw sock shows in its substate");
        assertEquals(0, sys.close(server)); // LAST-ACK; the client's answer to its FIN moves it to TIME-WAIT
        s.run();
        sockstat = SsCommandAccess.sockstat(s.sockets);
        assertEquals("TCP: inuse 1 orphan 0 tw 1 alloc 1 mem 0", sockstat.get(1));
        String summary = ss("-s");
        assertTrue(summary.contains("TCP:   2 (estab 0, closed 1, orphaned 0, timewait 1)\n"), summary);
        assertTrue(summary.contains("TCP\t  1         1         0        \n"), summary);
        String tw = ss("-t", "-o", "-e", "-n", "state", "time-wait");
        assertTrue(tw.startsWith("Recv-Q"), "one state asked for: no State column, as ss prints it: " + tw);
        assertTrue(tw.matches("(?s).*\n0 +0 +127\\.0\\.0\\.1:" + port + " +127\\.0\\.0\\.1:7000 +timer:\\(timewait,1min,0\\) ino:0 sk:[0-9a-f]+\n"),
                tw);
        assertTrue(ss("-t", "-a", "-m", "-i").contains("\nTIME-WAIT"), "with its state when more than one is shown");
        assertTrue(ss("-t", "-a", "-m", "-i").matches("(?s).*\nTIME-WAIT[^\n]*\n\t *\n.*"), "and an empty detail line, as ss prints it");
        List<String> proc = ProcNetTcp.lines(s.tcp.net(s.ns).hashed(), s.tcp.net(s.ns).deathRow.all());
        assertEquals("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", proc.get(0).stripTrailing());
        assertTrue(proc.stream().allMatch(l -> l.length() == 149), "padded as seq_pad pads");
        assertTrue(proc.get(1).startsWith("   0: 0100007F:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "),
                proc.get(1));
        assertTrue(proc.get(1).strip().endsWith(" 1 0000000000000000 100 0 0 10 0"), proc.get(1));
        assertEquals(String.format("   1: 0100007F:%04X 0100007F:1B58 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000",
                port), proc.get(2).stripTrailing());
    }

    @Test
    void procNetTcpShowsAConnectionsQueuesAndTimer() {
        send(client, 300);
        List<String> proc = ProcNetTcp.lines(s.tcp.net(s.ns).hashed(), s.tcp.net(s.ns).deathRow.all());
        String mine = proc.stream().filter(l -> l.contains(String.format("0100007F:%04X 0100007F:1B58", localPort(client)))).findFirst()
                .orElseThrow();
        Sock c = sockOf(localPort(client));
        assertTrue(mine.contains(" 01 0000012C:00000000 01:00000014 00000000     0        0 " + c.inode() + " 1 0000000000000000 20 0 "),
                "300 bytes unacknowledged, the retransmit timer 200 ms (20 ticks) away: " + mine);
        assertTrue(mine.strip().endsWith(" 10 -1"), "cwnd 10, ssthresh -1 in the first slow start: " + mine);
    }

    @Test
    void aClosedWindowShowsThePersistTimer() {
        ByteBuffer out = ByteBuffer.wrap(new byte[8 << 20]); // more than the autotuned SO_SNDBUF over lo (2.5 MB)
        for (int i = 0; i < 200 && out.hasRemaining(); i++) {
            sys.send(client, out, MSG_DONTWAIT);
            s.advance(20);
        }
        assertTrue(out.hasRemaining(), "the server does not read: its window closes");
        s.advance(1000);
        TcpInfo c = info(sys, client);
        assertEquals(0, c.sndWnd(), "the peer's window is closed");
        assertTrue(s.count(TcpMib.Ext.TCPWinProbe) > 0);
        assertEquals(0, c.probes(), "each probe was answered (with the window still closed), as tcp_ack clears icsk_probes_out");
        String out2 = ss("-t", "-o", "-n", "sport", "=", ":" + localPort(client));
        assertTrue(out2.matches("(?s).* timer:\\(persist,[0-9.]+(ms|sec),0\\)\n"), out2);
        assertTrue(ProcNetTcp.lines(s.tcp.net(s.ns).hashed(), s.tcp.net(s.ns).deathRow.all()).stream()
                .anyMatch(l -> l.contains(String.format(":%04X 0100007F:1B58 01 ", localPort(client))) && l.contains(" 04:")),
                "tr 4: the zero-window probe timer");
    }

    // --- loss: a wire between two namespaces that drops what the test says ---

    @Test
    void aRetransmissionShowsInTcpInfoAndTheBackedOffTimer() throws Exception {
        s.ns.sysctl().set("net.ipv4.tcp_early_retrans", "0"); // the RTO's view, without the loss probe before it
        java.util.concurrent.atomic.AtomicReference<Predicate<Integer>> drop = new java.util.concurrent.atomic.AtomicReference<>(len -> false);
        NetNamespace nsb = s.stack.core().addNamespace("b");
        NetDevice[] dev = new NetDevice[2];
        dev[0] = s.ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, dev[1], drop.get()));
        dev[1] = nsb.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> wire(skb, dev[0], x -> false));
        dev[0].addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        dev[1].addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "eth0"));
        dev[0].open();
        dev[1].open();
        s.arp.add(dev[0], 0x0a000002, dev[1].address(), NudState.PERMANENT, false);
        s.arp.add(dev[1], 0x0a000001, dev[0].address(), NudState.PERMANENT, false);
        SocketCalls b = s.sockets.process("test", "b");
        int l = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, b.bind(l, new SockAddr(0, 8000)));
        assertEquals(0, b.listen(l, 8));
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sys.connect(c, new SockAddr(0x0a000002, 8000));
        s.run();
        drop.set(len -> len > 0); // every data segment from a
        send(c, 500);
        s.run();
        s.advance(250); // the first timeout: sent again, RTO doubled
        TcpInfo i = info(sys, c);
        assertEquals(1, i.retransmits());
        assertEquals(1, i.backoff());
        assertEquals(TcpInfo.TCP_CA_LOSS, i.caState());
        assertEquals(1, i.totalRetrans());
        assertEquals(500, i.bytesRetrans());
        assertEquals(1000, i.bytesSent(), "the original and the retransmission");
        assertEquals(1, i.totalRto());
        assertEquals(408_000, i.rto());
        String out = ss("-t", "-o", "-i", "-n", "dst", "10.0.0.2");
        // 408 ms from the retransmission, which went 40 ms ago (lastsnd:40): the 204 ms RTO (51 jiffies) went
        // off in a tick after its expiry, as Linux's wheel takes it, not at 201 ms as with millisecond timers
        assertTrue(out.contains(" timer:(on,368ms,1)"), out);
        assertTrue(out.contains(" backoff:1 ") && out.contains(" bytes_retrans:500 ") && out.contains(" retrans:1/1 ")
                && out.contains(" lost:1 ") && out.contains(" unacked:1 "), out);
        b.close();
    }

    private static TxResult wire(SkBuff skb, NetDevice peer, Predicate<Integer> drop) {
        int ip = skb.data() + 14;
        if (skb.getU16(skb.data() + 12) == 0x0800 && skb.getU8(ip + 9) == 6) {
            int th = ip + (skb.getU8(ip) & 0xf) * 4;
            int len = skb.getU16(ip + 2) - (th - ip) - (skb.getU8(th + 12) >>> 4) * 4;
            if (drop.test(len)) {
                skb.free();
                return TxResult.OK;
            }
        }
        if (!peer.rxQueue(0).receive(skb)) {
            skb.free();
        }
        return TxResult.OK;
    }
}

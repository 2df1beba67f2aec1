package org.modnet.apps;

import java.nio.ByteBuffer;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code udpgso_bench_tx -4 -D ADDR [-p PORT] [-s LEN] [-S GSO] [-M MSGS] [-l SECS] [-u] [-a]}: the UDP
 * part of Linux's selftest sender ({@code tools/testing/selftests/net/udpgso_bench_tx}). Each message is
 * one send of {@code -s} bytes (default 1472 x 42, letters 'a' to 'z' over and over); with {@code -S}
 * (0: 1472, an Ethernet MTU's payload) the socket sends it as datagrams of that size through UDP
 * segmentation offload (the selftest sets {@code UDP_SEGMENT} per call as a control message; modnet's
 * socket layer has none, so it is set once with {@code setsockopt(SOL_UDP, UDP_SEGMENT)}, which Linux
 * takes the same way) and IP_PMTUDISC_DO; without it, as datagrams of 1472 bytes, one send each. Connected
 * unless {@code -u}. Every second, and with {@code -a} a summary at the end, on standard error as the
 * selftest prints them; a failed send ends it with status 1 ({@code udpgso_bench_tx: send: Message too long}).
 */
@Component(service = UdpgsoBenchTx.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=udpgso_bench_tx" })
public final class UdpgsoBenchTx {
    /** ETH_DATA_LEN less the IPv4 and UDP headers: the selftest's {@code cfg_mss}. */
    private static final int MSS = 1500 - 28;
    private static final String USAGE = "udpgso_bench_tx: Usage: udpgso_bench_tx [-46acmHPtTuvz] [-C cpu] [-D dst ip] [-l secs] "
            + "[-L secs] [-M messagenr] [-p port] [-s sendsize] [-S gsosize]";

    private final NetCore core;
    private final Sockets sockets;

    @Activate
    public UdpgsoBenchTx(@Reference NetCore core, @Reference Sockets sockets) {
        this.core = core;
        this.sockets = sockets;
    }

    public void udpgso_bench_tx(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        boolean v4 = false;
        boolean connected = true;
        boolean audit = false;
        boolean segment = false;
        String dst = "0.0.0.0";
        int port = 8000;
        int len = 1472 * 42;
        int gso = 0;
        long msgs = 0;
        long runtimeMs = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-") || a.length() != 2) {
                throw new CommandException(USAGE, 1);
            }
            char o = a.charAt(1);
            String v = null;
            if ("DpsSMl".indexOf(o) >= 0) {
                if (i + 1 >= args.length) {
                    throw new CommandException("udpgso_bench_tx: option requires an argument -- '" + o + "'", 1);
                }
                v = args[++i];
            }
            switch (o) {
                case '4' -> v4 = true;
                case 'D' -> dst = v;
                case 'p' -> port = (int) number(v);
                case 's' -> len = (int) number(v);
                case 'S' -> {
                    gso = (int) number(v);
                    segment = true;
                }
                case 'M' -> msgs = number(v);
                case 'l' -> runtimeMs = number(v) * 1000;
                case 'u' -> connected = false;
                case 'a' -> audit = true;
                default -> throw new CommandException("udpgso_bench_tx: invalid option -- '" + o + "'", 1);
            }
        }
        if (!v4) {
            throw new CommandException("udpgso_bench_tx: must pass one of -4 or -6", 1);
        }
        if (len > 65535 - 28) {
            throw new CommandException("udpgso_bench_tx: payload length " + len + " exceeds max " + (65535 - 28), 1);
        }
        long daddr = Ipv4Addresses.parse(dst);
        if (daddr < 0) {
            throw new CommandException("udpgso_bench_tx: " + dst + ": Name or service not known", 1);
        }
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "udpgso_bench_tx");
        SocketCalls sys = sockets.process("udpgso_bench_tx", ns.isInitNet() ? "" : ns.name());
        if (sys == null) {
            throw new CommandException("udpgso_bench_tx: network namespace \"" + ns.name() + "\" does not exist any more", 1);
        }
        try {
            run(sys, new SockAddr((int) daddr, port), connected, segment ? (gso == 0 ? MSS : gso) : 0, len, msgs, runtimeMs,
                    audit);
        } finally {
            sys.close();
        }
    }

    private static long number(String v) {
        try {
            return Long.decode(v);
        } catch (NumberFormatException e) {
            return 0; // strtoul: what does not parse is 0
        }
    }

    private static CommandException failed(String call, int rc) {
        return new CommandException("udpgso_bench_tx: " + call + ": " + SocketCalls.strerror(rc), 1);
    }

    private static void run(SocketCalls sys, SockAddr to, boolean connected, int gso, int len, long msgNr, long runtimeMs,
            boolean audit) {
        int fd = sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        if (fd < 0) {
            throw failed("socket", fd);
        }
        if (connected) {
            int rc = sys.connect(fd, to);
            if (rc < 0) {
                throw failed("connect", rc);
            }
        }
        if (gso != 0) {
            sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO);
            int rc = sys.setsockopt(fd, SocketCalls.SOL_UDP, SocketCalls.UDP_SEGMENT, gso);
            if (rc < 0) {
                throw failed("setsockopt udp segmentation offload", rc);
            }
        }
        byte[] data = new byte[len];
        for (int i = 0; i < len; i++) {
            data[i] = (byte) ('a' + i % 26);
        }
        ByteBuffer buf = ByteBuffer.wrap(data);
        long numMsgs = 0;
        long numSends = 0;
        long totalMsgs = 0;
        long totalSends = 0;
        long start = System.currentTimeMillis();
        long now = start;
        long stop = start + runtimeMs;
        long report = now + 1000;
        do {
            if (gso != 0) {
                buf.clear();
                int rc = connected ? sys.send(fd, buf, 0) : sys.sendto(fd, buf, 0, to);
                if (rc < 0) {
                    throw failed("sendmsg", rc);
                }
                numSends++;
            } else {
                for (int off = 0; off < len; off += MSS) { // send_udp: the payload as MSS datagrams
                    buf.limit(Math.min(len, off + MSS)).position(off);
                    int rc = connected ? sys.send(fd, buf, 0) : sys.sendto(fd, buf, 0, to);
                    if (rc < 0) {
                        throw failed(connected ? "send" : "sendto", rc);
                    }
                    numSends++;
                }
            }
            numMsgs++;
            if (msgNr != 0 && numMsgs >= msgNr) {
                break;
            }
            now = System.currentTimeMillis();
            if (now >= report) {
                System.err.printf("udp tx: %6d MB/s %8d calls/s %6d msg/s%n", (numMsgs * len) >> 20, numSends, numMsgs);
                totalMsgs += numMsgs;
                totalSends += numSends;
                numMsgs = 0;
                numSends = 0;
                report = now + 1000;
            }
        } while (!Thread.currentThread().isInterrupted() && (runtimeMs == -1 || now < stop));
        totalMsgs += numMsgs;
        totalSends += numSends;
        long delta = System.currentTimeMillis() - start;
        if (audit && delta > 0) {
            System.err.printf("Summary over %d.%03d seconds...%n", delta / 1000, delta % 1000);
            System.err.printf("sum udp tx: %6d MB/s %10d calls (%d/s) %10d msgs (%d/s)%n", ((totalMsgs * len) >> 10) / delta,
                    totalSends, totalSends * 1000 / delta, totalMsgs, totalMsgs * 1000 / delta);
        }
    }
}

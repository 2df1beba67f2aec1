package org.modnet.apps;

import java.nio.ByteBuffer;
import java.util.Locale;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.socket.api.MsgHdr;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SockExtendedErr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code tracepath [-n] [-b] [-l pktlen] [-m max_hops] [-p port] destination}, as iputils' tracepath
 * (20221126) does it, through the socket API alone: one UDP socket with IP_MTU_DISCOVER=IP_PMTUDISC_DO
 * (what iputils sets for IPv4), IP_RECVERR and IP_RECVTTL; probes as large as the path MTU to port
 * 44444 and up (one more per hop), sent with IP_TTL; each answer read from the socket's error queue
 * ({@code recvmsg(MSG_ERRQUEUE)}): the ICMP sender is the hop, "frag needed" gives its MTU in
 * {@code ee_info} (the hop is printed with {@code pmtu N} and probed again smaller; IPv4 has learned
 * the path MTU, so a second run starts from it), the IP_TTL control message counts the hops back. A
 * probe larger than the path MTU fails with EMSGSIZE and queues a local error ({@code ip_local_error})
 * whose {@code ee_info} is the MTU: the {@code [LOCALHOST]} line. The first hop is probed twice as
 * iputils' does, and the run ends with {@code Resume}. modnet has no name service: a hop is printed as
 * its address, {@code -b} adds it in parentheses.
 */
@Component(service = TracepathCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=tracepath" })
public final class TracepathCommand {
    static final String USAGE = "\nUsage\n  tracepath [options] <destination>\n\nOptions:\n"
            + "  -4             use IPv4\n  -6             use IPv6\n  -b             print both name and ip\n"
            + "  -l <length>    use packet <length>\n  -m <hops>      use maximum <hops>\n"
            + "  -n             no dns name resolution\n  -p <port>      use destination <port>\n"
            + "  -V             print version and exit\n  <destination>  dns name or ip address\n\n"
            + "For more details see tracepath(8).";
    static final int BASE_PORT = 44444;
    /** Probes per hop before "no reply", each waited for this long. */
    static final int PROBES = 3;
    static final long WAIT_NANOS = 1_000_000_000L;
    /** iputils' {@code struct probehdr}: what it reads back of the quoted probe. */
    private static final int PROBE_HEADER = 24;
    /** Sends of one probe before "send failed", as iputils' probe_ttl tries. */
    private static final int SEND_ATTEMPTS = 10;
    private static final int DEST_UNREACH = 3;
    private static final int PORT_UNREACH = 3;
    private static final int FRAG_NEEDED = 4;

    private final NetCore core;
    private final Sockets sockets;

    @Activate
    public TracepathCommand(@Reference NetCore core, @Reference Sockets sockets) {
        this.core = core;
        this.sockets = sockets;
    }

    /** One answer from the error queue: who sent it, its ICMP type, code and info, the TTL it came with, when. */
    record Answer(int from, int type, int code, int info, int ttl, long nanos) {
    }

    public void tracepath(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        boolean both = false;
        int len = -1;
        int max = 30;
        int port = BASE_PORT;
        String host = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-") || a.length() < 2) {
                if (host != null) {
                    throw new CommandException(USAGE, 255);
                }
                host = a;
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char o = a.charAt(k);
                String v = null;
                if ("lmp".indexOf(o) >= 0) {
                    if (k + 1 < a.length()) {
                        v = a.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        v = args[++i];
                    } else {
                        throw new CommandException("tracepath: option requires an argument -- '" + o + "'" + USAGE, 255);
                    }
                    k = a.length();
                }
                switch (o) {
                    case 'n', '4' -> {
                    }
                    case 'b' -> both = true;
                    case 'l' -> len = number(v, 0, 65535);
                    case 'm' -> max = number(v, 1, 255);
                    case 'p' -> port = number(v, 0, 65535);
                    default -> throw new CommandException("tracepath: invalid option -- '" + o + "'" + USAGE, 255);
                }
            }
        }
        if (host == null) {
            throw new CommandException(USAGE, 255);
        }
        long parsed = Ipv4Addresses.parse(host);
        if (parsed < 0) {
            throw new CommandException("tracepath: " + host + ": Name or service not known", 1);
        }
        int daddr = (int) parsed;
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "tracepath");
        SocketCalls sys = sockets.process("tracepath", ns.isInitNet() ? "" : ns.name());
        if (sys == null) {
            throw new CommandException("tracepath: network namespace \"" + ns.name() + "\" does not exist any more", 1);
        }
        try {
            trace(sys, daddr, len > 0 ? len : 65535, max, port, both, System.out);
        } finally {
            sys.close();
        }
    }

    private static void trace(SocketCalls sys, int daddr, int startMtu, int max, int port, boolean both, java.io.PrintStream out)
            throws InterruptedException {
        int fd = sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        if (fd < 0) {
            throw new CommandException("tracepath: socket: " + SocketCalls.strerror(fd), 1);
        }
        sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_MTU_DISCOVER, SocketCalls.IP_PMTUDISC_DO);
        sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVERR, 1);
        sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_RECVTTL, 1);
        int mtu = startMtu;
        int hopsTo = -1;
        int hopsFrom = -1;
        boolean firstAgain = true;
        boolean failed = false;
        hops: for (int ttl = 1; ttl <= max; ttl++) {
            sys.setsockopt(fd, SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, ttl);
            int dport = (port + ttl - 1) & 0xffff;
            Answer got = null;
            long sent = 0;
            for (int p = 0; p < PROBES && got == null; p++) {
                int r = -1;
                // iputils' probe_ttl: up to 10 sends; a failed one reads the error queue first
                for (int attempt = 0; attempt < SEND_ATTEMPTS && r < 0; attempt++) {
                    drain(sys, fd); // answers to earlier probes that came too late
                    sent = System.nanoTime();
                    r = sys.sendto(fd, ByteBuffer.allocate(Math.max(0, mtu - 28)), 0, new SockAddr(daddr, dport));
                    if (r == -Errno.EMSGSIZE.number()) {
                        SockExtendedErr local = localError(sys, fd);
                        if (local != null && local.info() > 0 && local.info() < mtu) {
                            mtu = local.info(); // the path MTU as this host knows it: probe again at that size
                            out.println(localhost(ttl, mtu));
                        }
                    }
                    // any other failure may be an earlier answer's sk_err, which the failed call took: send again
                }
                if (r < 0) {
                    out.println(String.format(Locale.ROOT, "%2d:  send failed", ttl));
                    failed = true;
                    break hops;
                }
                got = await(sys, fd, dport, sent + WAIT_NANOS);
            }
            if (got == null) {
                out.println(String.format(Locale.ROOT, "%2d:  no reply", ttl));
                continue;
            }
            boolean reached = got.from() == daddr && got.type() == DEST_UNREACH && got.code() == PORT_UNREACH;
            boolean fragNeeded = got.type() == DEST_UNREACH && got.code() == FRAG_NEEDED;
            StringBuilder line = new StringBuilder(hop(ttl, got.from(), both, got.nanos() - sent));
            if (fragNeeded) {
                line.append("pmtu ").append(got.info());
            } else if (reached) {
                line.append("reached");
            } else if (got.type() == DEST_UNREACH) {
                String a = annotation(got.code());
                if (a != null) {
                    line.append(a);
                }
            } else if (got.ttl() >= 0) {
                int back = back(got.ttl());
                if (back != ttl) {
                    line.append(String.format(Locale.ROOT, "asymm %2d ", back));
                }
            }
            out.println(line);
            if (fragNeeded && got.info() > 0 && got.info() < mtu) {
                mtu = got.info();
                ttl--; // the same hop again, smaller
                continue;
            }
            if (reached) {
                hopsTo = ttl;
                hopsFrom = got.ttl() >= 0 ? back(got.ttl()) : ttl;
                break;
            }
            if (got.type() == DEST_UNREACH && !fragNeeded) {
                break; // another unreachable ends the trace as iputils' does
            }
            if (ttl == 1 && firstAgain) {
                firstAgain = false; // iputils probes the first hop twice and prints both
                ttl--;
            }
        }
        sys.close(fd);
        if (hopsTo >= 0) {
            out.println("     Resume: pmtu " + mtu + " hops " + hopsTo + " back " + hopsFrom + " ");
        } else {
            if (!failed) {
                out.println("     Too many hops: pmtu " + mtu);
            }
            out.println("     Resume: pmtu " + mtu + " ");
        }
    }

    /** Reads the error queue until it is empty. */
    private static void drain(SocketCalls sys, int fd) {
        while (sys.recvmsg(fd, new MsgHdr(null, ByteBuffer.allocate(PROBE_HEADER)), SocketCalls.MSG_ERRQUEUE) >= 0) {
            // stale
        }
    }

    /** The local error a send that met EMSGSIZE queued ({@code SO_EE_ORIGIN_LOCAL}), or null. */
    private static SockExtendedErr localError(SocketCalls sys, int fd) {
        while (true) {
            MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(PROBE_HEADER));
            if (sys.recvmsg(fd, m, SocketCalls.MSG_ERRQUEUE) < 0) {
                return null;
            }
            if (m.extendedErr != null && m.extendedErr.origin() == SockExtendedErr.SO_EE_ORIGIN_LOCAL) {
                return m.extendedErr;
            }
        }
    }

    /**
     * Waits for the ICMP answer to the probe to {@code dport} on the error queue (poll's POLLERR), until
     * {@code deadline}; answers about other probes are passed over.
     */
    private static Answer await(SocketCalls sys, int fd, int dport, long deadline) throws InterruptedException {
        PollFd[] p = { new PollFd(fd, SocketCalls.POLLERR) };
        while (true) {
            MsgHdr m = new MsgHdr(null, ByteBuffer.allocate(PROBE_HEADER));
            if (sys.recvmsg(fd, m, SocketCalls.MSG_ERRQUEUE) >= 0) {
                SockExtendedErr e = m.extendedErr;
                if (e != null && e.origin() == SockExtendedErr.SO_EE_ORIGIN_ICMP && m.name != null && m.name.port() == dport) {
                    return new Answer(e.offender(), e.type(), e.code(), e.info(), m.ttl, System.nanoTime());
                }
                continue;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            int r = sys.poll(p, (int) Math.max(1, Math.min(left / 1_000_000, 100)));
            if (r == -Errno.EINTR.number() || Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            if (r > 0 && (p[0].revents & SocketCalls.POLLIN) != 0) {
                sys.recv(fd, ByteBuffer.allocate(PROBE_HEADER), SocketCalls.MSG_DONTWAIT); // a datagram back: not an answer
            }
        }
    }

    /** How a "destination unreachable" other than port and frag-needed is marked, as traceroute's. */
    static String annotation(int code) {
        return switch (code) {
            case 0 -> "!N";
            case 1 -> "!H";
            case 2 -> "!P";
            case 5 -> "!S";
            case 13 -> "!X";
            case 14 -> "!V";
            case 15 -> "!C";
            default -> "!<" + code + ">";
        };
    }

    /** {@code " 1?: [LOCALHOST]                      pmtu 1500"}. */
    static String localhost(int ttl, int mtu) {
        return String.format(Locale.ROOT, "%2d?: %-32s pmtu %d", ttl, "[LOCALHOST]", mtu);
    }

    /** A hop's line up to its status: number, address in a 52-column field, time in ms as {@code %3d.%03dms}. */
    static String hop(int ttl, int from, boolean both, long nanos) {
        String a = Ipv4Addresses.format(from);
        String who = both ? a + " (" + a + ")" : a;
        long us = Math.max(0, nanos / 1000);
        return String.format(Locale.ROOT, "%2d:  %-52s%3d.%03dms ", ttl, who, us / 1000, us % 1000);
    }

    /** The hops an answer came back over, from its TTL and the nearest usual initial TTL (64, 128, 255). */
    static int back(int ttl) {
        int initial = ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
        return initial - ttl + 1;
    }

    private static int number(String v, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CommandException("tracepath: invalid argument: '" + v + "'", 1);
        }
    }
}

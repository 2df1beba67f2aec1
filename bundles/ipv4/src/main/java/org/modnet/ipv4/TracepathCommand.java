package org.modnet.ipv4;

import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code tracepath [-n] [-b] [-l pktlen] [-m max_hops] [-p port] destination}, as iputils' tracepath
 * (20221126) prints it: UDP probes as large as the path MTU, with DF, to port 44444 and up (one more
 * per hop), each hop's answer and time; a "frag needed" on the way prints the hop with {@code pmtu N}
 * and the hop is probed again at the smaller size (the path MTU is learned as any frag-needed teaches
 * it, so a second run starts from it). The first line says the local path MTU ({@code [LOCALHOST]}),
 * the first hop is probed twice as iputils' does, and the run ends with {@code Resume}. modnet has no
 * name service: a hop is printed as its address, {@code -b} adds it in parentheses.
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

    private final NetCore core;
    private final Ipv4Protocol ipv4;

    @Activate
    public TracepathCommand(@Reference NetCore core, @Reference Ipv4Protocol ipv4) {
        this.core = core;
        this.ipv4 = ipv4;
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
        long parsed = org.modnet.api.inet.Ipv4Addresses.parse(host);
        if (parsed < 0) {
            throw new CommandException("tracepath: " + host + ": Name or service not known", 1);
        }
        int daddr = (int) parsed;
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "tracepath");
        Ipv4Net net = ipv4.net(ns);
        Ipv4Output.Decision route = net == null ? null : net.output.route(daddr);
        if (route == null || route.error() != null) {
            throw new CommandException("tracepath: connect: " + (route == null ? Errno.ENETUNREACH : route.error()).text(), 1);
        }
        java.io.PrintStream out = System.out;
        int mtu = len > 0 ? len : 65535;
        int pathMtu = net.output.pathMtu(daddr);
        if (mtu > pathMtu) {
            // the first probe met EMSGSIZE on the way out; its extended error names the local path MTU
            mtu = pathMtu;
            out.println(localhost(1, mtu));
        }
        LinkedBlockingQueue<TracerouteCommand.Answer> answers = new LinkedBlockingQueue<>();
        int sport;
        do {
            sport = ThreadLocalRandom.current().nextInt(32768, 61000);
        } while (!net.icmp.listenProbes(sport, answers::add));
        int hopsTo = -1;
        int hopsFrom = -1;
        try {
            boolean firstAgain = true;
            for (int ttl = 1; ttl <= max; ttl++) {
                TracerouteCommand.Answer got = null;
                long sent = 0;
                int dport = (port + ttl - 1) & 0xffff;
                for (int p = 0; p < PROBES && got == null; p++) {
                    answers.clear();
                    sent = System.nanoTime();
                    Errno err = TracerouteCommand.sendUdp(net, 0, daddr, sport, dport, mtu - 28, ttl, true);
                    if (err != null) {
                        throw new CommandException("tracepath: sendto: " + err.text(), 1);
                    }
                    got = TracerouteCommand.await(answers, dport, sent + WAIT_NANOS);
                }
                if (got == null) {
                    out.println(String.format(Locale.ROOT, "%2d:  no reply", ttl));
                    continue;
                }
                boolean reached = got.from() == daddr && got.type() == Icmp.DEST_UNREACH && got.code() == 3;
                boolean fragNeeded = got.type() == Icmp.DEST_UNREACH && got.code() == Icmp.FRAG_NEEDED;
                StringBuilder line = new StringBuilder(hop(ttl, got.from(), both, got.nanos() - sent));
                if (fragNeeded) {
                    line.append("pmtu ").append(got.mtu());
                } else if (reached) {
                    line.append("reached");
                } else if (got.type() == Icmp.DEST_UNREACH) {
                    line.append(TracerouteCommand.annotation(got, false));
                } else {
                    int back = back(got.ttl());
                    if (back != ttl) {
                        line.append(String.format(Locale.ROOT, "asymm %2d ", back));
                    }
                }
                out.println(line);
                if (fragNeeded && got.mtu() > 0 && got.mtu() < mtu) {
                    mtu = got.mtu();
                    ttl--; // the same hop again, smaller
                    continue;
                }
                if (reached) {
                    hopsTo = ttl;
                    hopsFrom = back(got.ttl());
                    break;
                }
                if (got.type() == Icmp.DEST_UNREACH && !fragNeeded) {
                    break; // another unreachable ends the trace as iputils' does
                }
                if (ttl == 1 && firstAgain) {
                    firstAgain = false; // iputils probes the first hop twice and prints both
                    ttl--;
                }
            }
        } finally {
            net.icmp.unlistenProbes(sport);
        }
        if (hopsTo < 0) {
            out.println("     Too many hops: pmtu " + mtu);
            out.println("     Resume: pmtu " + mtu + " ");
        } else {
            out.println("     Resume: pmtu " + mtu + " hops " + hopsTo + " back " + hopsFrom + " ");
        }
    }

    /** {@code " 1?: [LOCALHOST]                      pmtu 1500"}. */
    static String localhost(int ttl, int mtu) {
        return String.format(Locale.ROOT, "%2d?: %-32s pmtu %d", ttl, "[LOCALHOST]", mtu);
    }

    /** A hop's line up to its status: number, address in a 52-column field, time in ms as {@code %3d.%03dms}. */
    static String hop(int ttl, int from, boolean both, long nanos) {
        String a = PingCommand.toText(from);
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

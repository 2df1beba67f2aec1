package org.modnet.ipv4;

import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code traceroute [-InU] [-f first_ttl] [-m max_ttl] [-p port] [-q nqueries] [-w wait] [-s src_addr]
 * host [packetlen]}, as Linux's traceroute (2.1) prints it: UDP probes to port 33434 and up, one more
 * per probe (the "default" method), {@code -U} UDP to port 53, {@code -I} ICMP echo requests; each hop's
 * answers as {@code  2  10.0.2.2 (10.0.2.2)  0.071 ms  0.023 ms  0.019 ms}, {@code *} for a probe that
 * got none within the wait, {@code !H !N !P !X !S !F-MTU} after an unreachable's time. Ends at the hop
 * where the destination answered (port unreachable, or an echo reply) or every probe was unreachable.
 * The probes go one at a time (Linux sends up to 16 at once, {@code -N}); the lines are the same unless
 * a router's ICMP rate limit meets the burst. modnet has no name service, so a hop is printed as
 * {@code address (address)}, as Linux prints one without a reverse name, and {@code -n} as the address.
 */
@Component(service = TracerouteCommand.class, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=traceroute" })
public final class TracerouteCommand {
    static final String USAGE = "Usage:\n  traceroute [ -InU ] [ -f first_ttl ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -q nqueries ]"
            + " [ -s src_addr ] [ -w MAX,HERE,NEAR ] host [ packetlen ]";
    /** The default method's first destination port, and the port of {@code -U}. */
    static final int BASE_PORT = 33434;
    static final int UDP_PORT = 53;

    private final NetCore core;
    private final Ipv4Protocol ipv4;

    @Activate
    public TracerouteCommand(@Reference NetCore core, @Reference Ipv4Protocol ipv4) {
        this.core = core;
        this.ipv4 = ipv4;
    }

    /**
     * An answer to a probe: who sent it, the ICMP type and code, which probe (its port or sequence),
     * when, the next-hop MTU a "frag needed" names, and the TTL the answer arrived with.
     */
    record Answer(int from, int type, int code, int probe, long nanos, int mtu, int ttl) {
    }

    public void traceroute(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        boolean icmp = false;
        boolean fixedUdp = false;
        boolean numeric = false;
        int first = 1;
        int max = 30;
        int queries = 3;
        double wait = 5.0;
        int port = -1;
        String source = null;
        String host = null;
        int packetLen = -1;
        int position = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-") || a.length() < 2) {
                position++;
                if (host == null) {
                    host = a;
                } else if (packetLen < 0) {
                    packetLen = number(a, "packetlen", position, 0, 65000);
                } else {
                    throw new CommandException("Extra arg `" + a + "' (position " + position + ", argc " + position + ")", 2);
                }
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char o = a.charAt(k);
                String v = null;
                if ("fmNpqswz".indexOf(o) >= 0) {
                    if (k + 1 < a.length()) {
                        v = a.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        v = args[++i];
                    } else {
                        throw new CommandException("Option `-" + o + "' (argc " + (i + 1) + ") requires an argument: `-" + o + " "
                                + argName(o) + "'", 2);
                    }
                    k = a.length();
                }
                switch (o) {
                    case 'I' -> icmp = true;
                    case 'U' -> fixedUdp = true;
                    case 'n' -> numeric = true;
                    case '4' -> {
                    }
                    case 'f' -> first = number(v, "first hop", i, 1, 255);
                    case 'm' -> max = number(v, "max hops", i, 1, 255);
                    case 'N' -> number(v, "sim-queries", i, 1, 1000); // probes go one at a time here
                    case 'p' -> port = number(v, "port", i, 0, 65535);
                    case 'q' -> queries = number(v, "nqueries", i, 1, 10);
                    case 's' -> source = v;
                    case 'w' -> wait = waitTime(v);
                    case 'z' -> {
                        // sendwait: the probes go one after another's answer anyway
                    }
                    default -> throw new CommandException("Bad option `-" + o + "' (argc " + (i + 1) + ")\n" + USAGE, 2);
                }
            }
        }
        if (host == null) {
            throw new CommandException(USAGE, 2);
        }
        long parsed = org.modnet.api.inet.Ipv4Addresses.parse(host);
        if (parsed < 0) {
            throw new CommandException(host + ": Name or service not known\nCannot handle \"host\" cmdline arg `" + host
                    + "' on position 1 (argc " + position + ")", 2);
        }
        int daddr = (int) parsed;
        if (first > max) {
            throw new CommandException("first hop out of range", 2);
        }
        int len = packetLen < 0 ? 60 : Math.max(packetLen, 28);
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "traceroute");
        Ipv4Net net = ipv4.net(ns);
        if (net == null) {
            throw new CommandException("connect: Network is unreachable", 1);
        }
        int saddr = 0;
        if (source != null) {
            long s = org.modnet.api.inet.Ipv4Addresses.parse(source);
            if (s < 0 || !net.output.isLocal((int) s)) {
                throw new CommandException("bind: Cannot assign requested address", 1);
            }
            saddr = (int) s;
        }
        Ipv4Output.Decision route = net.output.route(daddr);
        if (route.error() != null) {
            throw new CommandException("connect: " + route.error().text(), 1);
        }
        java.io.PrintStream out = System.out;
        out.println("traceroute to " + host + " (" + PingCommand.toText(daddr) + "), " + max + " hops max, " + len + " byte packets");
        LinkedBlockingQueue<Answer> answers = new LinkedBlockingQueue<>();
        int id;
        Icmp.EchoListener echo = null;
        if (icmp) {
            echo = echoListener(answers);
            do {
                id = ThreadLocalRandom.current().nextInt(1, 0x10000);
            } while (!net.icmp.listen(id, echo));
        } else {
            do {
                id = ThreadLocalRandom.current().nextInt(32768, 61000); // the probes' source port
            } while (!net.icmp.listenProbes(id, answers::add));
        }
        int next = port >= 0 ? port : icmp ? 1 : fixedUdp ? UDP_PORT : BASE_PORT;
        try {
            for (int ttl = first; ttl <= max; ttl++) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%2d ", ttl));
                int lastFrom = 0;
                boolean reached = false;
                int unreachable = 0;
                for (int q = 0; q < queries; q++) {
                    int probe = icmp || !fixedUdp ? next++ & 0xffff : next;
                    answers.clear();
                    long sent = System.nanoTime();
                    Errno err = icmp ? net.icmp.sendEcho(daddr, saddr, id, probe, len - 28, ttl)
                            : sendUdp(net, saddr, daddr, id, probe, len - 28, ttl);
                    if (err != null) {
                        throw new CommandException("send: " + err.text(), 1);
                    }
                    Answer got = await(answers, probe, sent + (long) (wait * 1e9));
                    if (got == null) {
                        line.append(" *");
                        continue;
                    }
                    if (got.from() != lastFrom) {
                        String a = PingCommand.toText(got.from());
                        line.append(' ').append(a);
                        if (!numeric) {
                            line.append(" (").append(a).append(')');
                        }
                        lastFrom = got.from();
                    }
                    line.append(String.format(Locale.ROOT, "  %.3f ms", (got.nanos() - sent) / 1e6));
                    String note = annotation(got, icmp);
                    if (got.from() == daddr && (icmp ? got.type() == Icmp.ECHO_REPLY : got.type() == Icmp.DEST_UNREACH && got.code() == 3)) {
                        reached = true;
                    } else if (note != null) {
                        line.append(' ').append(note);
                        unreachable++;
                    }
                }
                out.println(line);
                if (reached || unreachable == queries) {
                    break;
                }
            }
        } finally {
            if (icmp) {
                net.icmp.unlisten(id);
            } else {
                net.icmp.unlistenProbes(id);
            }
        }
    }

    /** The answer to {@code probe} that comes before {@code deadline} (answers to earlier probes are passed over). */
    static Answer await(LinkedBlockingQueue<Answer> answers, int probe, long deadline) throws InterruptedException {
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Answer a = answers.poll(left, TimeUnit.NANOSECONDS);
            if (a == null) {
                return null;
            }
            if (a.probe() == probe) {
                return a;
            }
        }
    }

    /** traceroute's marks for an unreachable (its destination's port unreachable marks nothing), or null. */
    static String annotation(Answer a, boolean icmp) {
        if (a.type() != Icmp.DEST_UNREACH) {
            return null;
        }
        return switch (a.code()) {
            case 0 -> "!N";
            case 1 -> "!H";
            case 2 -> "!P";
            case 3 -> icmp ? "!P" : null; // from a router before the destination it would be odd; Linux prints none
            case 4 -> "!F-" + a.mtu();
            case 5 -> "!S";
            case 13 -> "!X";
            case 14 -> "!V";
            case 15 -> "!C";
            default -> "!<" + a.code() + ">";
        };
    }

    /**
     * A UDP probe from {@code sport} to {@code dport} with {@code payload} bytes, sent with {@code ttl}
     * and without DF, as traceroute sends it unless told {@code -F}.
     */
    static Errno sendUdp(Ipv4Net net, int saddr, int daddr, int sport, int dport, int payload, int ttl) {
        int udpLen = 8 + Math.max(0, payload);
        org.modnet.api.skb.SkBuff skb = net.core.allocSkb(udpLen, 128);
        if (skb == null) {
            return Errno.ENOBUFS;
        }
        int o = skb.put(udpLen);
        skb.setU16(o, sport);
        skb.setU16(o + 2, dport);
        skb.setU16(o + 4, udpLen);
        skb.setU16(o + 6, 0); // no checksum: RFC 768 allows it over IPv4, and the answer quotes the header only
        for (int k = 8; k < udpLen; k++) {
            skb.setU8(o + k, 0x40 + (k - 8) % 32);
        }
        return net.output.send(skb, saddr, daddr, 17, ttl, 0, false);
    }

    private static Icmp.EchoListener echoListener(LinkedBlockingQueue<Answer> answers) {
        return new Icmp.EchoListener() {
            @Override
            public void reply(int from, int seq, int ttl, int bytes, long sentNanos) {
                answers.add(new Answer(from, Icmp.ECHO_REPLY, 0, seq, System.nanoTime(), 0, 0));
            }

            @Override
            public void error(int from, int type, int code, int seq) {
                answers.add(new Answer(from, type, code, seq, System.nanoTime(), 0, 0));
            }
        };
    }

    private static double waitTime(String v) {
        String max = v.split(",")[0];
        try {
            double w = Double.parseDouble(max);
            if (w < 0) {
                throw new NumberFormatException();
            }
            return w;
        } catch (NumberFormatException e) {
            throw new CommandException("Cannot handle `-w' option with arg `" + v + "' (argc 2)", 2);
        }
    }

    private static int number(String v, String what, int argc, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new CommandException(what + " out of range", 2);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CommandException("Cannot handle `" + what + "' cmdline arg `" + v + "' on position " + argc, 2);
        }
    }

    private static String argName(char o) {
        return switch (o) {
            case 'f' -> "first_ttl";
            case 'm' -> "max_ttl";
            case 'N' -> "squeries";
            case 'p' -> "port";
            case 'q' -> "nqueries";
            case 's' -> "src_addr";
            case 'w' -> "MAX,HERE,NEAR";
            default -> "sendwait";
        };
    }
}

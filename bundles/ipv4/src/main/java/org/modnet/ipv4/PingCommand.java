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
import org.osgi.service.component.annotations.Reference;

/**
 * {@code ping [-c COUNT] [-i INTERVAL] [-s SIZE] [-t TTL] [-W TIMEOUT] ADDRESS}, iputils' ping on
 * modnet: echo requests from the current namespace, its lines and its summary. Exit status 0 when a
 * reply came, 1 when none did, 2 on other errors, as iputils.
 */
@Component(service = PingCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=ping" })
public final class PingCommand {
    static final String USAGE = "Usage: ping [-c count] [-i interval] [-s packetsize] [-t ttl] [-W timeout] destination";

    private final NetCore core;
    private final Ipv4Protocol ipv4;

    @Activate
    public PingCommand(@Reference NetCore core, @Reference Ipv4Protocol ipv4) {
        this.core = core;
        this.ipv4 = ipv4;
    }

    private record Event(boolean reply, int from, int seq, int ttl, int bytes, double ms, int type, int code) {
    }

    public void ping(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        int count = 0;
        double interval = 1.0;
        int size = 56;
        int ttl = 0;
        double timeout = 10;
        String host = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            try {
                switch (a) {
                    case "-c" -> count = positive(args, ++i, "count");
                    case "-i" -> interval = Double.parseDouble(value(args, ++i));
                    case "-s" -> size = Integer.parseInt(value(args, ++i));
                    case "-t" -> ttl = Integer.parseInt(value(args, ++i));
                    case "-W" -> timeout = Double.parseDouble(value(args, ++i));
                    default -> {
                        if (a.startsWith("-") || host != null) {
                            throw new CommandException("ping: invalid argument: '" + a + "'\n" + USAGE, 2);
                        }
                        host = a;
                    }
                }
            } catch (NumberFormatException e) {
                throw new CommandException("ping: invalid argument: '" + args[i] + "'", 2);
            }
        }
        if (host == null) {
            throw new CommandException("ping: usage error: Destination address required", 2);
        }
        if (size < 0 || size > 65507) {
            throw new CommandException("ping: invalid argument: '" + size + "': out of range: 0 <= value <= 65507", 2);
        }
        if (ttl < 0 || ttl > 255) {
            throw new CommandException("ping: invalid argument: '" + ttl + "': out of range: 0 <= value <= 255", 2);
        }
        if (interval < 0.002) {
            throw new CommandException("ping: cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)", 2);
        }
        int daddr = parseAddress(host);
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "ping");
        Ipv4Net net = ipv4.net(ns);
        if (net == null) {
            throw new CommandException("ping: connect: Network is unreachable", 2);
        }
        String dst = toText(daddr);
        Ipv4Output.Decision route = net.output.route(daddr);
        if (route.error() != null) {
            throw new CommandException("ping: connect: " + route.error().text(), 2);
        }
        System.out.println("PING " + host + " (" + dst + ") " + size + "(" + (size + 28) + ") bytes of data.");

        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, 0x10000);
        } while (!net.icmp.listen(id, listener(events)));
        int sent = 0;
        int received = 0;
        int errors = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        double sum2 = 0;
        long start = System.nanoTime();
        try {
            long next = start;
            sending:
            while (count == 0 || sent < count) {
                Errno err = net.icmp.sendEcho(daddr, id, sent + 1, size, ttl);
                sent++;
                if (err != null) {
                    System.out.println("ping: sendmsg: " + err.text());
                    errors++;
                }
                next += (long) (interval * 1e9);
                boolean last = count != 0 && sent >= count;
                long until = last ? System.nanoTime() + (long) (timeout * 1e9) : next;
                while (true) {
                    if (last && received + errors >= sent) {
                        break;
                    }
                    long wait = until - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                    Event e;
                    try {
                        e = events.poll(wait, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException interrupted) {
                        settle();
                        break sending; // Ctrl-C: as Linux's ping on SIGINT, stop and print the statistics
                    }
                    if (e == null) {
                        break;
                    }
                    if (e.reply) {
                        received++;
                        min = Math.min(min, e.ms);
                        max = Math.max(max, e.ms);
                        sum += e.ms;
                        sum2 += e.ms * e.ms;
                        System.out.println(e.bytes + " bytes from " + toText(e.from) + ": icmp_seq=" + e.seq + " ttl=" + e.ttl
                                + " time=" + rtt(e.ms) + " ms");
                    } else {
                        errors++;
                        System.out.println("From " + toText(e.from) + " icmp_seq=" + e.seq + " " + describe(e.type, e.code));
                    }
                }
            }
        } finally {
            net.icmp.unlisten(id);
        }
        long time = (System.nanoTime() - start) / 1_000_000;
        System.out.println();
        System.out.println("--- " + host + " ping statistics ---");
        int loss = sent == 0 ? 0 : (int) ((sent - received) * 100L / sent);
        System.out.println(sent + " packets transmitted, " + received + " received" + (errors > 0 ? ", +" + errors + " errors" : "")
                + ", " + loss + "% packet loss, time " + time + "ms");
        if (received > 0) {
            double avg = sum / received;
            double mdev = Math.sqrt(Math.max(0, sum2 / received - avg * avg));
            System.out.println(String.format(Locale.ROOT, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", min, avg, max, mdev));
        }
        if (received == 0) {
            throw new CommandException("", 1);
        }
    }

    /**
     * Gogo's Ctrl-C interrupts a job's thread more than once in a row (the pipe, then the job's
     * future); one that landed while the statistics are written would close the job's output and lose
     * them. Waits until a few milliseconds pass without one.
     */
    private static void settle() {
        for (int quiet = 0; quiet < 2;) {
            try {
                Thread.sleep(5);
                quiet++;
            } catch (InterruptedException again) {
                quiet = 0;
            }
        }
    }

    private static Icmp.EchoListener listener(LinkedBlockingQueue<Event> events) {
        return new Icmp.EchoListener() {
            @Override
            public void reply(int from, int seq, int ttl, int bytes, long sentNanos) {
                events.add(new Event(true, from, seq, ttl, bytes, (System.nanoTime() - sentNanos) / 1e6, 0, 0));
            }

            @Override
            public void error(int from, int type, int code, int seq) {
                events.add(new Event(false, from, seq, 0, 0, 0, type, code));
            }
        };
    }

    private static String rtt(double ms) {
        return ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms) : ms >= 10 ? String.format(Locale.ROOT, "%.1f", ms)
                : String.format(Locale.ROOT, "%.3f", ms);
    }

    static String describe(int type, int code) {
        if (type == Icmp.DEST_UNREACH) {
            return switch (code) {
                case 0 -> "Destination Net Unreachable";
                case 1 -> "Destination Host Unreachable";
                case 2 -> "Destination Protocol Unreachable";
                case 3 -> "Destination Port Unreachable";
                case 4 -> "Frag needed and DF set";
                default -> "Dest Unreachable, Bad Code: " + code;
            };
        }
        if (type == Icmp.TIME_EXCEEDED) {
            return code == 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
        }
        return "Parameter problem";
    }

    private static int positive(String[] args, int i, String what) {
        int v = Integer.parseInt(value(args, i));
        if (v <= 0) {
            throw new CommandException("ping: invalid argument: '" + v + "': out of range: 1 <= value <= 9223372036854775807", 2);
        }
        return v;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new CommandException("ping: option requires an argument -- '" + args[i - 1].substring(1) + "'\n" + USAGE, 2);
        }
        return args[i];
    }

    /** A dotted quad, strictly (no name service here). */
    static int parseAddress(String text) {
        long a = org.modnet.api.inet.Ipv4Addresses.parse(text);
        if (a < 0) {
            throw new CommandException("ping: " + text + ": Name or service not known", 2);
        }
        return (int) a;
    }

    static String toText(int a) {
        return org.modnet.api.inet.Ipv4Addresses.format(a);
    }
}

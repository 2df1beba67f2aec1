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
 * {@code ping [-bDfnOq] [-c COUNT] [-i INTERVAL] [-I ADDR|DEV] [-m MARK] [-s SIZE] [-t TTL] [-W TIMEOUT] [-w DEADLINE]
 * ADDRESS}, iputils' ping on modnet: echo requests from the current namespace, its lines and its
 * summary; -w keeps sending until COUNT replies came or the deadline passed, -I DEV takes the device's
 * first address as the source (modnet does not bind the route to the device, as SO_BINDTODEVICE does). Exit status 0 when a
 * reply came, 1 when none did, 2 on other errors, as iputils.
 */
@Component(service = PingCommand.class, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=ping" })
public final class PingCommand {
    static final String USAGE = "Usage: ping [-bDfnOq] [-c count] [-i interval] [-I interface] [-m mark] [-s packetsize] [-t ttl] [-W timeout] [-w deadline] destination";

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
        double interval = -1;
        int size = 56;
        int ttl = 0;
        double timeout = 10;
        double deadline = 0;
        boolean quiet = false;
        boolean broadcast = false;
        boolean timestamps = false;
        boolean outstanding = false;
        boolean flood = false;
        String iface = null;
        int mark = 0;
        String host = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-") || a.length() < 2) {
                if (host != null) {
                    throw new CommandException("ping: invalid argument: '" + a + "'\n" + USAGE, 2);
                }
                host = a;
                continue;
            }
            // iputils' getopt: flags may be grouped (-qc3, -c 3, -c3)
            for (int k = 1; k < a.length(); k++) {
                char o = a.charAt(k);
                String v = null;
                if ("ciIstwWm".indexOf(o) >= 0) {
                    v = k + 1 < a.length() ? a.substring(k + 1) : value(args, ++i, o);
                    k = a.length();
                }
                try {
                    switch (o) {
                        case 'c' -> count = positive(v);
                        case 'i' -> interval = Double.parseDouble(v);
                        case 's' -> size = Integer.parseInt(v);
                        case 't' -> ttl = Integer.parseInt(v);
                        case 'W' -> timeout = Double.parseDouble(v);
                        case 'w' -> deadline = Double.parseDouble(v);
                        case 'I' -> iface = v;
                        case 'm' -> mark = (int) Long.parseLong(v); // SO_MARK: the routing rules' fwmark sees it
                        case 'q' -> quiet = true;
                        case 'n' -> {
                            // numeric output: modnet resolves no names anyway
                        }
                        case 'b' -> broadcast = true;
                        case 'D' -> timestamps = true;
                        case 'O' -> outstanding = true;
                        case 'f' -> flood = true;
                        default -> throw new CommandException("ping: invalid option -- '" + o + "'\n" + USAGE, 2);
                    }
                } catch (NumberFormatException e) {
                    throw new CommandException("ping: invalid argument: '" + v + "'", 2);
                }
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
        if (deadline < 0 || deadline > Integer.MAX_VALUE) {
            throw new CommandException("ping: invalid argument: '" + (long) deadline + "': out of range: 0 <= value <= 2147483647", 2);
        }
        if (interval < 0) {
            interval = flood ? 0.01 : 1.0; // flood: as fast as replies come, at least 100 a second
        } else if (interval < 0.002 && !flood) {
            throw new CommandException("ping: cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)", 2);
        }
        int daddr = parseAddress(host);
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "ping");
        Ipv4Net net = ipv4.net(ns);
        if (net == null) {
            throw new CommandException("ping: connect: Network is unreachable", 2);
        }
        int saddr = 0;
        String from = "";
        if (iface != null) {
            long a = org.modnet.api.inet.Ipv4Addresses.parse(iface);
            if (a >= 0) {
                saddr = (int) a;
                if (!net.output.isLocal(saddr)) {
                    throw new CommandException("ping: bind: Cannot assign requested address", 2);
                }
                from = "from " + toText(saddr) + " : ";
            } else {
                org.modnet.api.net.NetDevice dev = ns.device(iface);
                if (dev == null) {
                    throw new CommandException("ping: SO_BINDTODEVICE " + iface + ": No such device", 2);
                }
                saddr = firstAddress(dev);
                from = "from " + toText(saddr) + " " + iface + ": ";
            }
        }
        if (isBroadcast(ns, daddr)) {
            if (!broadcast) {
                throw new CommandException("ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules", 2);
            }
            System.err.println("WARNING: pinging broadcast address");
        }
        String dst = toText(daddr);
        Ipv4Output.Decision route = net.output.route(daddr, saddr, 0, mark);
        if (route.error() != null) {
            throw new CommandException("ping: connect: " + route.error().text(), 2);
        }
        System.out.println("PING " + host + " (" + dst + ") " + from + size + "(" + (size + 28) + ") bytes of data.");

        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, 0x10000);
        } while (!net.icmp.listen(id, listener(events)));
        int sent = 0;
        int received = 0;
        int duplicates = 0;
        int errors = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        double sum2 = 0;
        double ewma = 0;
        boolean[] answered = new boolean[65536];
        long start = System.nanoTime();
        long end = deadline > 0 ? start + (long) (deadline * 1e9) : Long.MAX_VALUE;
        java.io.PrintStream out = System.out;
        try {
            long next = start;
            sending:
            while (deadline > 0 ? (count == 0 || received < count) && System.nanoTime() < end : count == 0 || sent < count) {
                int seq = sent + 1;
                Errno err = net.icmp.sendEcho(daddr, saddr, id, seq & 0xffff, size, ttl, mark);
                sent++;
                answered[seq & 0xffff] = false;
                if (err != null) {
                    out.println("ping: sendmsg: " + err.text());
                    errors++;
                } else if (flood) {
                    out.print('.');
                    out.flush();
                }
                next += (long) (interval * 1e9);
                boolean last = deadline == 0 && count != 0 && sent >= count;
                long until = last ? System.nanoTime() + (long) (timeout * 1e9) : Math.min(next, end);
                boolean heard = false;
                while (true) {
                    if (last && received + errors >= sent || flood && heard) {
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
                    String stamp = timestamps ? String.format(Locale.ROOT, "[%.6f] ", System.currentTimeMillis() / 1000.0) : "";
                    if (e.reply) {
                        // iputils: a second reply to one request is a duplicate, not a reception; its time still counts
                        boolean dup = answered[e.seq & 0xffff];
                        if (dup) {
                            duplicates++;
                        } else {
                            received++;
                        }
                        heard = true;
                        answered[e.seq & 0xffff] = true;
                        min = Math.min(min, e.ms);
                        max = Math.max(max, e.ms);
                        sum += e.ms;
                        sum2 += e.ms * e.ms;
                        ewma = received + duplicates == 1 ? e.ms : ewma + (e.ms - ewma) / 8; // iputils' rtt/8
                        if (flood) {
                            out.print("\b \b");
                            out.flush();
                        } else if (!quiet) {
                            out.println(stamp + e.bytes + " bytes from " + toText(e.from) + ": icmp_seq=" + e.seq + " ttl=" + e.ttl
                                    + " time=" + rtt(e.ms) + " ms" + (dup ? " (DUP!)" : ""));
                        }
                    } else {
                        errors++;
                        if (flood) {
                            out.print("\bE");
                            out.flush();
                        } else if (!quiet) {
                            out.println(stamp + "From " + toText(e.from) + " icmp_seq=" + e.seq + " " + describe(e.type, e.code));
                        }
                    }
                }
                // iputils says so as it sends the next request: after the last one there is none to say it before
                if (outstanding && !quiet && !flood && !answered[seq & 0xffff] && err == null && !last && System.nanoTime() < end) {
                    out.println("no answer yet for icmp_seq=" + seq);
                }
            }
        } finally {
            net.icmp.unlisten(id);
        }
        long time = (System.nanoTime() - start) / 1_000_000;
        out.println();
        out.println("--- " + host + " ping statistics ---");
        int loss = sent == 0 ? 0 : (int) ((sent - received) * 100L / sent);
        out.println(sent + " packets transmitted, " + received + " received" + (duplicates > 0 ? ", +" + duplicates + " duplicates" : "")
                + (errors > 0 ? ", +" + errors + " errors" : "")
                + ", " + loss + "% packet loss, time " + time + "ms");
        if (received > 0) {
            int timed = received + duplicates; // iputils averages over every reply, duplicates too
            double avg = sum / timed;
            double mdev = Math.sqrt(Math.max(0, sum2 / timed - avg * avg));
            String line = String.format(Locale.ROOT, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", min, avg, max, mdev);
            if (flood) {
                double ipg = sent > 1 ? (System.nanoTime() - start) / 1e6 / (sent - 1) : 0;
                line += String.format(Locale.ROOT, ", ipg/ewma %.3f/%.3f ms", ipg, ewma);
            }
            out.println(line);
        } else {
            out.println(); // iputils ends a run without replies with an empty line where the rtt line goes
        }
        if (received == 0) {
            throw new CommandException("", 1);
        }
    }

    /** The first IPv4 address of {@code dev}, or 0. */
    private static int firstAddress(org.modnet.api.net.NetDevice dev) {
        for (org.modnet.api.net.IfAddress a : dev.addresses()) {
            if (a.address() instanceof java.net.Inet4Address v4) {
                byte[] b = v4.getAddress();
                return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | b[3] & 0xff;
            }
        }
        return 0;
    }

    /** 255.255.255.255 or a local subnet's broadcast address (iputils asks the route: RTN_BROADCAST). */
    private static boolean isBroadcast(NetNamespace ns, int daddr) {
        if (daddr == -1) {
            return true;
        }
        for (org.modnet.api.net.NetDevice dev : ns.devices()) {
            for (org.modnet.api.net.IfAddress a : dev.addresses()) {
                if (a.broadcast() instanceof java.net.Inet4Address b4) {
                    byte[] b = b4.getAddress();
                    if (((b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | b[3] & 0xff) == daddr) {
                        return true;
                    }
                }
            }
        }
        return false;
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

    /** iputils' precision: 3 decimals below 1 ms, 2 below 10, 1 below 100, none above. */
    static String rtt(double ms) {
        return ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms) : ms >= 10 ? String.format(Locale.ROOT, "%.1f", ms)
                : ms >= 1 ? String.format(Locale.ROOT, "%.2f", ms) : String.format(Locale.ROOT, "%.3f", ms);
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

    private static int positive(String text) {
        long v = Long.parseLong(text);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new CommandException("ping: invalid argument: '" + v + "': out of range: 1 <= value <= 9223372036854775807", 2);
        }
        return (int) v;
    }

    private static String value(String[] args, int i, char option) {
        if (i >= args.length) {
            throw new CommandException("ping: option requires an argument -- '" + option + "'\n" + USAGE, 2);
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

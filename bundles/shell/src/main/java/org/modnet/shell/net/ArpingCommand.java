package org.modnet.shell.net;

import java.util.Hashtable;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * iputils' {@code arping [-AbDfqU] [-c count] [-w timeout] [-i interval] [-I device] [-s source]
 * destination}: ARP requests from a user program, as arping sends them through a packet socket — here a
 * handler for ARP frames beside the ARP layer's own ({@code dev_add_pack}) and frames handed to the
 * device's queue ({@code dev_queue_xmit}). The first request is broadcast, later ones go to the
 * replier's address unless {@code -b}. Lines and statuses as iputils 20221126 prints them: {@code
 * ARPING 10.1.0.2 from 10.1.0.1 v0}, {@code Unicast reply from 10.1.0.2 [82:11:C0:62:51:D4]  0.538ms},
 * {@code Sent 2 probes (1 broadcast(s))}, {@code Received 2 response(s)}; status 0 when a reply came
 * (in {@code -D}, duplicate address detection, when none came; always in {@code -U}/{@code -A}), 1
 * otherwise, 2 for a device or address arping cannot use. Without {@code -w} it stops one interval after
 * the last of {@code -c} requests; with it at the deadline or once {@code count} replies came. Without
 * {@code -c} it runs until interrupted.
 */
@Component(service = ArpingCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=arping" })
public final class ArpingCommand {
    static final String USAGE = """

            Usage:
              arping [options] <destination>

            Options:
              -f            quit on first reply
              -q            be quiet
              -b            keep on broadcasting, do not unicast
              -D            duplicate address detection mode
              -U            unsolicited ARP mode, update your neighbours
              -A            ARP answer mode, update your neighbours
              -V            print version and exit
              -c <count>    how many packets to send
              -w <timeout>  how long to wait for a reply
              -i <interval> set interval between packets (default: 1 second)
              -I <device>   which ethernet device to use
              -s <source>   source ip address
              <destination> dns name or ip address

            For more details see arping(8).""";
    private static final int ARP_LEN = 28;
    private static final int ARPOP_REQUEST = 1;
    private static final int ARPOP_REPLY = 2;

    private final BundleContext context;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NetCore core;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile RouteTable routes;

    @Activate
    public ArpingCommand(BundleContext context) {
        this.context = context;
    }

    /** What arping was asked to do. */
    record Options(boolean version, boolean firstOnly, boolean quiet, boolean broadcastOnly, boolean dad, boolean unsolicited, boolean answer,
            long count, long timeoutSeconds, long intervalSeconds, String device, String source, String destination) {
    }

    /** An ARP frame arping took: who sent it, from which link address, whether it came broadcast, when. */
    record Heard(int op, int sip, long sha, int tip, long tha, boolean broadcast, long nanos) {
    }

    static Options parse(String... args) {
        boolean f = false;
        boolean q = false;
        boolean b = false;
        boolean d = false;
        boolean u = false;
        boolean a = false;
        long count = -1;
        long timeout = -1;
        long interval = 1;
        String device = null;
        String source = null;
        String destination = null;
        for (int i = 0; i < args.length; i++) {
            String w = args[i];
            if (!w.startsWith("-") || w.length() < 2) {
                if (destination == null) {
                    destination = w;
                    continue;
                }
                throw new CommandException("arping: too many arguments: " + w + USAGE, 2);
            }
            for (int k = 1; k < w.length(); k++) {
                char o = w.charAt(k);
                String v = null;
                if ("cwiIs".indexOf(o) >= 0) {
                    if (k + 1 < w.length()) {
                        v = w.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        v = args[++i];
                    } else {
                        throw new CommandException("arping: option requires an argument -- '" + o + "'" + USAGE, 2);
                    }
                    k = w.length();
                }
                switch (o) {
                    case 'f' -> f = true;
                    case 'q' -> q = true;
                    case 'b' -> b = true;
                    case 'D' -> {
                        d = true;
                        f = true; // a reply is all duplicate address detection needs to know
                    }
                    case 'U' -> u = true;
                    case 'A' -> {
                        a = true;
                        u = true;
                    }
                    case 'V' -> {
                        return new Options(true, f, q, b, d, u, a, count, timeout, interval, device, source, destination);
                    }
                    case 'c' -> count = number(v);
                    case 'w' -> timeout = number(v);
                    case 'i' -> interval = number(v);
                    case 'I' -> device = v;
                    case 's' -> source = v;
                    case 'h' -> throw new CommandException(USAGE.substring(1), 2);
                    default -> throw new CommandException("arping: invalid option -- '" + o + "'" + USAGE, 2);
                }
            }
        }
        if (destination == null) {
            throw new CommandException(USAGE.substring(1), 2);
        }
        return new Options(false, f, q, b, d, u, a, count, timeout, interval, device, source, destination);
    }

    /** iputils' {@code strtol_or_err}: a whole number from 1 up, else its words and status 1. */
    private static long number(String v) {
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new CommandException("arping: invalid argument: '" + v + "'", 1);
        }
        if (n < 1 || n > Integer.MAX_VALUE) {
            throw new CommandException("arping: invalid argument: '" + v + "': out of range: 1 <= value <= 2147483647", 1);
        }
        return n;
    }

    public void arping(CommandSession session, String... args) throws InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        Options o = parse(args);
        if (o.version()) {
            System.out.println("arping from modnet (the options and output of iputils 20221126)");
            return;
        }
        NetCore c = core;
        if (c == null) {
            throw new CommandException("arping: the stack is not running", 2);
        }
        NetNamespace ns = Commands.namespace(c, session.get(Commands.NETNS), "arping");
        long parsed = Ipv4Addresses.parse(o.destination());
        if (parsed < 0) {
            throw new CommandException("arping: " + o.destination() + ": Name or service not known", 2);
        }
        int target = (int) parsed;
        NetDevice dev;
        int source = 0;
        if (o.device() != null) {
            dev = ns.device(o.device());
            if (dev == null) {
                throw new CommandException("arping: Device " + o.device() + " not available.", 2);
            }
        } else {
            RouteTable r = routes;
            RouteTable.Decision route;
            try {
                route = r == null ? null : r.get(ns, target);
            } catch (NetException e) {
                route = null;
            }
            if (route == null || route.route() == null || route.route().dev() == null) {
                throw new CommandException("arping: Suitable device could not be determined. Please, use option -I.", 2);
            }
            dev = route.route().dev();
            source = route.src();
        }
        if ((dev.flags() & (IfFlags.NOARP | IfFlags.LOOPBACK)) != 0) {
            System.out.println("Interface \"" + dev.name() + "\" is not ARPable");
            throw new CommandException("", 2);
        }
        if ((dev.flags() & IfFlags.UP) == 0) {
            throw new CommandException("arping: Interface \"" + dev.name() + "\" is down", 2);
        }
        if (o.source() != null) {
            long s = Ipv4Addresses.parse(o.source());
            if (s < 0) {
                throw new CommandException("arping: invalid source " + o.source(), 2);
            }
            source = (int) s;
        }
        if (o.unsolicited()) {
            source = target; // gratuitous ARP: the sender announces the target address as its own
        } else if (o.dad()) {
            source = 0; // RFC 5227's probe: "from 0.0.0.0"
        } else if (source == 0) {
            source = Ipv4Addresses.select(dev, target, false);
        }
        if (!o.dad() && !o.unsolicited() && !isLocal(ns, source)) {
            throw new CommandException("arping: bind: Cannot assign requested address", 2);
        }
        int result = run(c, dev, source, target, o);
        if (result != 0) {
            throw new CommandException("", result);
        }
    }

    private static boolean isLocal(NetNamespace ns, int address) {
        for (int a : Ipv4Addresses.local(ns)) {
            if (a == address) {
                return true;
            }
        }
        return false;
    }

    private int run(NetCore c, NetDevice dev, int source, int target, Options o) throws InterruptedException {
        java.io.PrintStream out = System.out;
        if (!o.quiet()) {
            out.println("ARPING " + Ipv4Addresses.format(target) + " from " + Ipv4Addresses.format(source) + " " + dev.name());
        }
        long self = dev.address().bits();
        ArrayBlockingQueue<Heard> heard = new ArrayBlockingQueue<>(1024);
        PacketHandler listener = (skb, from) -> {
            try {
                if (from == dev && skb.headLen() >= ARP_LEN && skb.pktType() != PktType.OUTGOING) {
                    int a = skb.data();
                    if (skb.getU16(a) == 1 && skb.getU16(a + 2) == Eth.ETH_P_IP && skb.getU8(a + 4) == 6 && skb.getU8(a + 5) == 4) {
                        long sha = ((long) skb.getU16(a + 8) << 32) | (skb.getU32(a + 10) & 0xffffffffL);
                        long tha = ((long) skb.getU16(a + 18) << 32) | (skb.getU32(a + 20) & 0xffffffffL);
                        heard.offer(new Heard(skb.getU16(a + 6), skb.getU32(a + 14), sha, skb.getU32(a + 24), tha,
                                skb.pktType() == PktType.BROADCAST, System.nanoTime())); // a full queue: arping misses it, as a socket's full buffer would
                    }
                }
            } finally {
                skb.free();
            }
        };
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(PacketHandler.ETHERTYPE, Eth.ETH_P_ARP);
        ServiceRegistration<PacketHandler> reg = context.registerService(PacketHandler.class, listener, props);
        long sent = 0;
        long broadcasts = 0;
        long received = 0;
        long broadcastReplies = 0;
        long unicastTo = -1; // the replier's address, once one replied
        long interval = o.intervalSeconds() * 1_000_000_000L;
        long start = System.nanoTime();
        long end = o.timeoutSeconds() > 0 ? start + o.timeoutSeconds() * 1_000_000_000L : Long.MAX_VALUE;
        long lastSent = 0;
        long ticks = 0;
        try {
            sending:
            while (true) {
                long now = System.nanoTime();
                // arping's tick: a request when one is due, then the deadline's check (so -w 2 sends at 0, 1 and 2 s)
                boolean due = now >= start + ticks * interval - 1_000_000; // on a fixed beat, as arping's timer
                if (due && (o.count() < 0 || ticks < o.count())) {
                    ticks++; // a request that found no buffer is a tick without a frame, not one more try
                    boolean broadcast = o.broadcastOnly() || unicastTo < 0;
                    lastSent = System.nanoTime(); // before the frame goes: its answer can come back within the call
                    if (send(c, dev, broadcast ? MacAddress.BROADCAST.bits() : unicastTo, self, o.answer() ? ARPOP_REPLY : ARPOP_REQUEST,
                            source, broadcast ? 0 : unicastTo, target)) {
                        sent++;
                        if (broadcast) {
                            broadcasts++;
                        }
                    }
                } else if (due && o.timeoutSeconds() <= 0) {
                    break; // one interval after the last request
                }
                if (now >= end - 1_000_000) {
                    break; // the deadline's check on the same beat: -w 2's third request is its last word, no reply is waited for
                }
                boolean more = o.count() < 0 || ticks < o.count();
                long nextProbe = more || o.timeoutSeconds() <= 0 ? start + ticks * interval : end; // all sent: -w waits for replies
                while (true) {
                    long wait = Math.min(nextProbe, end) - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                    Heard h;
                    try {
                        h = heard.poll(wait, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException interrupted) {
                        break sending; // Ctrl-C: as arping on SIGINT, the summary follows
                    }
                    if (h == null) {
                        break;
                    }
                    if (!answers(h, o, source, target, self)) {
                        continue;
                    }
                    received++;
                    if (h.broadcast()) {
                        broadcastReplies++;
                    }
                    if (!o.quiet()) {
                        long us = (h.nanos() - lastSent) / 1000;
                        out.println(String.format(Locale.ROOT, "%s %s from %s [%s]  %d.%03dms", h.broadcast() ? "Broadcast" : "Unicast",
                                h.op() == ARPOP_REPLY ? "reply" : "request", Ipv4Addresses.format(h.sip()),
                                new MacAddress(h.sha()).toString().toUpperCase(Locale.ROOT), us / 1000, us % 1000));
                    }
                    unicastTo = h.sha();
                    if (o.firstOnly() || o.count() > 0 && o.timeoutSeconds() > 0 && received >= o.count()) {
                        break sending;
                    }
                }
            }
        } finally {
            reg.unregister();
        }
        if (!o.quiet()) {
            out.println("Sent " + sent + " probes (" + broadcasts + " broadcast(s))");
            out.println("Received " + received + " response(s)" + (broadcastReplies > 0 ? " (" + broadcastReplies + " broadcast(s))" : ""));
        }
        if (o.unsolicited()) {
            return 0;
        }
        if (o.dad()) {
            return received == 0 ? 0 : 1;
        }
        return received > 0 ? 0 : 1;
    }

    /** Whether {@code h} answers our request: from the target, to us (in DAD mode any word from the target). */
    static boolean answers(Heard h, Options o, int source, int target, long self) {
        if (h.sip() != target || h.sha() == self) {
            return false;
        }
        if (o.dad()) {
            return true; // a reply, or another host probing or owning the same address
        }
        return h.op() == ARPOP_REPLY && h.tip() == source && (h.tha() == self || h.tha() == 0);
    }

    /** One ARP frame (RFC 826) to {@code ethDst}; false when no buffer was free. */
    private static boolean send(NetCore c, NetDevice dev, long ethDst, long self, int op, int sip, long tha, int tip) {
        SkBuff skb = c.allocSkb(Eth.ETH_HLEN + ARP_LEN, org.modnet.api.skb.SkBuffPool.NET_SKB_PAD);
        if (skb == null) {
            return false;
        }
        int e = skb.put(Eth.ETH_HLEN + ARP_LEN);
        skb.setU16(e, (int) (ethDst >>> 32));
        skb.setU32(e + 2, (int) ethDst);
        skb.setU16(e + 6, (int) (self >>> 32));
        skb.setU32(e + 8, (int) self);
        skb.setU16(e + 12, Eth.ETH_P_ARP);
        int a = e + Eth.ETH_HLEN;
        skb.setU16(a, 1);
        skb.setU16(a + 2, Eth.ETH_P_IP);
        skb.setU8(a + 4, 6);
        skb.setU8(a + 5, 4);
        skb.setU16(a + 6, op);
        skb.setU16(a + 8, (int) (self >>> 32));
        skb.setU32(a + 10, (int) self);
        skb.setU32(a + 14, sip);
        skb.setU16(a + 18, (int) (tha >>> 32));
        skb.setU32(a + 20, (int) tha);
        skb.setU32(a + 24, tip);
        skb.protocol(Eth.ETH_P_ARP);
        skb.dev(dev);
        c.devQueueXmit(skb);
        return true;
    }
}

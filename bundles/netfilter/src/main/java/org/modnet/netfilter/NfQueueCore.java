package org.modnet.netfilter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfLogLine;
import org.modnet.api.netfilter.NfQueue;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.api.shell.ProcFile;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code nf_queue} and {@code nfnetlink_queue}: the queues the QUEUE verdict hands packets to, one per
 * number and namespace that a consumer has bound, the {@code nfqueue} command that is such a consumer,
 * and {@code /proc/net/netfilter/nfnetlink_queue}.
 *
 * <p>A queue is a ring of {@value #QUEUE_MAXLEN} slots made when it is bound (Linux's default
 * {@code queue_maxlen}): a packet claims a slot by compare-and-set and wakes the consumer, with no lock
 * and no allocation; a full queue refuses and counts ({@code queue_dropped}). The consumer copies a slot
 * out before it frees it, and counts the packet against the bound until its verdict.
 */
@Component(service = { NfQueue.class, NfQueueCore.class, ProcFile.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=nfqueue",
        ProcFile.PATH + "=/proc/net/netfilter/nfnetlink_queue" })
public final class NfQueueCore implements NfQueue, ProcFile {
    /** {@code NFQNL_QMAX_DEFAULT}. */
    static final int QUEUE_MAXLEN = 1024;
    private static final AtomicInteger PORTIDS = new AtomicInteger(4000);

    private final NetCore core;
    private volatile Ipv4 ipv4;
    private final Map<NetNamespace, Map<Integer, Queue>> queues = new ConcurrentHashMap<>();
    /** Packets queued to a number no consumer had bound, dropped (per namespace, made at its first such drop). */
    private final Map<NetNamespace, AtomicLong> unbound = new ConcurrentHashMap<>();

    @Activate
    public NfQueueCore(@Reference NetCore core) {
        this.core = core;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIpv4(Ipv4 v) {
        ipv4 = v;
    }

    void unsetIpv4(Ipv4 v) {
        if (ipv4 == v) {
            ipv4 = null;
        }
    }

    /** One waiting packet's slot. */
    private static final class Slot {
        volatile long seq = -1;
        SkBuff skb;
        NfHook hook;
        NetDevice in, out;
        NfHookFunction from;
        int id;
    }

    /** A packet the consumer took, until its verdict. */
    private record Taken(int id, NfHook hook, NetDevice in, NetDevice out, SkBuff skb, NfHookFunction from) implements Packet {
    }

    /** {@code struct nfqnl_instance}: one bound queue. */
    final class Queue implements Listener {
        final NetNamespace ns;
        final int num;
        final int portid = PORTIDS.incrementAndGet();
        private final Slot[] ring = new Slot[QUEUE_MAXLEN];
        private final AtomicLong tail = new AtomicLong();
        private volatile long head;
        /** Packets in the ring or taken and awaiting a verdict: what the bound limits ({@code queue_total}). */
        final AtomicInteger total = new AtomicInteger();
        final AtomicLong dropped = new AtomicLong(), userDropped = new AtomicLong();
        final AtomicInteger idSequence = new AtomicInteger();
        private volatile Thread consumer;
        private final Map<Integer, Taken> taken = new ConcurrentHashMap<>();
        private volatile boolean closed;

        Queue(NetNamespace ns, int num) {
            this.ns = ns;
            this.num = num;
            for (int i = 0; i < ring.length; i++) {
                ring[i] = new Slot();
            }
        }

        /** The packet path's side: false when full or closed (counted; the caller drops). */
        boolean offer(SkBuff skb, NfHook hook, NetDevice in, NetDevice out, NfHookFunction from) {
            if (closed || total.incrementAndGet() > QUEUE_MAXLEN) {
                total.decrementAndGet();
                dropped.incrementAndGet();
                return false;
            }
            long t = tail.getAndIncrement();
            Slot s = ring[(int) (t % QUEUE_MAXLEN)];
            s.skb = skb;
            s.hook = hook;
            s.in = in;
            s.out = out;
            s.from = from;
            s.id = idSequence.incrementAndGet();
            s.seq = t; // publishes the slot
            Thread c = consumer;
            if (c != null) {
                LockSupport.unpark(c);
            }
            return true;
        }

        @Override
        public Packet take(long millis) throws InterruptedException {
            consumer = Thread.currentThread();
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (true) {
                long h = head;
                Slot s = ring[(int) (h % QUEUE_MAXLEN)];
                if (s.seq == h) {
                    Taken p = new Taken(s.id, s.hook, s.in, s.out, s.skb, s.from);
                    s.skb = null;
                    s.in = s.out = null;
                    s.from = null;
                    head = h + 1; // the slot is free again
                    taken.put(p.id(), p);
                    return p;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                LockSupport.parkNanos(this, Math.min(left, 50_000_000L));
            }
        }

        @Override
        public void verdict(Packet p, Verdict v) {
            Taken t = taken.remove(p.id());
            if (t == null) {
                return; // a verdict for a packet already judged: nothing to do (the kernel answers ENOENT)
            }
            total.decrementAndGet();
            Ipv4 ip = ipv4;
            boolean goesOn = v == Verdict.ACCEPT || v == Verdict.REPEAT || v == Verdict.STOP;
            if (goesOn && ip != null) {
                ip.nfReinject(t.skb(), t.hook(), t.from(), ns, t.in(), t.out(), v);
            } else {
                if (goesOn) {
                    userDropped.incrementAndGet(); // IPv4 went: it cannot go on
                }
                t.skb().free();
            }
        }

        @Override
        public void close() {
            closed = true;
            queues.getOrDefault(ns, Map.of()).remove(num, this);
            for (Taken t : new ArrayList<>(taken.values())) {
                if (taken.remove(t.id()) != null) {
                    t.skb().free();
                    total.decrementAndGet();
                    userDropped.incrementAndGet();
                }
            }
            while (true) {
                long h = head;
                Slot s = ring[(int) (h % QUEUE_MAXLEN)];
                if (s.seq != h) {
                    break;
                }
                s.skb.free();
                s.skb = null;
                head = h + 1;
                total.decrementAndGet();
                userDropped.incrementAndGet();
            }
        }

        /** {@code seq_show} of nfnetlink_queue. */
        String line() {
            return String.format("%5d %6d %5d %1d %5d %5d %5d %8d %2d", num, portid, total.get(), 2, 0xffff, dropped.get(),
                    userDropped.get(), idSequence.get(), 1);
        }
    }

    @Override
    public Verdict enqueue(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, int num, boolean bypass,
            NfHookFunction from) {
        Map<Integer, Queue> m = queues.get(ns);
        Queue q = m == null ? null : m.get(num);
        if (q == null) {
            if (bypass) {
                return Verdict.ACCEPT; // --queue-bypass: no consumer, the packet goes on to the next rule's hook
            }
            AtomicLong c = unbound.get(ns);
            if (c == null) {
                c = unbound.computeIfAbsent(ns, n -> new AtomicLong());
            }
            c.incrementAndGet();
            return Verdict.DROP;
        }
        return q.offer(skb, hook, in, out, from) ? Verdict.STOLEN : Verdict.DROP;
    }

    @Override
    public Listener bind(NetNamespace ns, int num) throws NetException {
        Map<Integer, Queue> m = queues.computeIfAbsent(ns, n -> new ConcurrentHashMap<>());
        Queue q = new Queue(ns, num);
        if (m.putIfAbsent(num, q) != null) {
            throw new NetException(Errno.EBUSY);
        }
        return q;
    }

    /** Packets dropped in {@code ns} because no consumer was bound to their queue number. */
    long unboundDrops(NetNamespace ns) {
        AtomicLong c = unbound.get(ns);
        return c == null ? 0 : c.get();
    }

    @Override
    public List<String> read(NetNamespace ns) {
        List<String> out = new ArrayList<>();
        queues.getOrDefault(ns, Map.of()).values().stream().sorted((a, b) -> Integer.compare(a.num, b.num))
                .forEach(q -> out.add(q.line()));
        return out;
    }

    @Deactivate
    void deactivate() {
        for (Map<Integer, Queue> m : queues.values()) {
            for (Queue q : new ArrayList<>(m.values())) {
                q.close();
            }
        }
    }

    /** One packet as {@code nfqueue} prints it: its id and the LOG target's fields. */
    static String line(Packet p) {
        SkBuff skb = p.skb();
        int nh = skb.networkHeader();
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int proto = skb.getU8(nh + 9);
        int th = (skb.getU16(nh + 6) & 0x1fff) == 0 && nh + ihl + 8 <= skb.tail() ? nh + ihl : -1;
        return NfLogLine.ipv4("id=" + p.id() + " hook=" + HOOK_NAMES[p.hook().ordinal()] + " ", skb, nh, th, proto, p.in(), p.out());
    }

    private static final String[] HOOK_NAMES = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" };

    /**
     * {@code nfqueue -q N [--accept|--drop] [-c COUNT] [-t SECONDS]}: binds queue N of the namespace, prints
     * each packet as a line and gives it the verdict (ACCEPT unless {@code --drop}), until COUNT packets,
     * SECONDS without one, or Ctrl-C; then how many it judged.
     */
    public void nfqueue(CommandSession session, String... args) throws Exception {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        NetNamespace ns = Commands.namespace(core, netns, "nfqueue");
        run(ns, args, l -> {
            System.out.println(l);
            System.out.flush();
        });
    }

    /** The command without a shell: what it prints goes to {@code out}. */
    void run(NetNamespace ns, String[] args, java.util.function.Consumer<String> out) throws Exception {
        int num = -1;
        Verdict v = Verdict.ACCEPT;
        long count = Long.MAX_VALUE;
        long seconds = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-q", "--queue-num" -> num = number(args, ++i, 65535);
                case "--accept" -> v = Verdict.ACCEPT;
                case "--drop" -> v = Verdict.DROP;
                case "--repeat" -> v = Verdict.REPEAT;
                case "--stop" -> v = Verdict.STOP;
                case "-c", "--count" -> count = number(args, ++i, Integer.MAX_VALUE);
                case "-t", "--timeout" -> seconds = number(args, ++i, Integer.MAX_VALUE);
                default -> throw new CommandException("nfqueue: unknown option \"" + args[i] + "\"\n" + USAGE, 2);
            }
        }
        if (num < 0) {
            throw new CommandException("nfqueue: a queue number is required (-q N)\n" + USAGE, 2);
        }
        Listener l;
        try {
            l = bind(ns, num);
        } catch (NetException e) {
            throw new CommandException("nfqueue: queue " + num + " is bound already: Device or resource busy", 1);
        }
        long judged = 0;
        try {
            long idleUntil = seconds > 0 ? System.nanoTime() + seconds * 1_000_000_000L : Long.MAX_VALUE;
            while (judged < count && !Thread.currentThread().isInterrupted() && System.nanoTime() < idleUntil) {
                Packet p;
                try {
                    p = l.take(100);
                } catch (InterruptedException e) {
                    break; // Ctrl-C
                }
                if (p == null) {
                    continue;
                }
                out.accept(line(p) + " " + v);
                l.verdict(p, v);
                judged++;
                if (seconds > 0) {
                    idleUntil = System.nanoTime() + seconds * 1_000_000_000L;
                }
            }
        } finally {
            l.close();
        }
        out.accept(judged + " packets judged on queue " + num);
    }

    private static final String USAGE = "Usage: nfqueue -q N [--accept|--drop|--repeat|--stop] [-c COUNT] [-t SECONDS]";

    private static int number(String[] args, int i, int max) throws CommandException {
        if (i >= args.length || !args[i].matches("[0-9]{1,10}") || Long.parseLong(args[i]) > max) {
            throw new CommandException("nfqueue: bad number \"" + (i < args.length ? args[i] : "") + "\"\n" + USAGE, 2);
        }
        return Integer.parseInt(args[i]);
    }
}

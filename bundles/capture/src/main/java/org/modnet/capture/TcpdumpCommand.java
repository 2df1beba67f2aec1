package org.modnet.capture;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.api.skb.SkBuff;
import org.modnet.capture.file.PcapWriter;
import org.modnet.capture.file.PcapngWriter;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@code tcpdump -i DEV|any [-c COUNT] [-w FILE] [-n] [-e] [-q] [-S] [-t...] [-v] [-X|-XX] [-O] [EXPRESSION]}: while it runs, an
 * ETH_P_ALL tap (a packet socket) copies the frames DEV (or, for {@code any}, every device of the namespace)
 * receives and sends into a bounded queue; the command prints them in tcpdump's form or writes a pcap file.
 * Stops after COUNT frames, or on interrupt. {@code tcpdump -r FILE} reads a pcap or pcapng file instead.
 * Frames the queue had no room for are reported as "dropped by kernel", as tcpdump reports them.
 * The expression is compiled to eBPF and optimised ({@code -O}: not optimised; {@code -d}: print it).
 */
@Component(service = TcpdumpCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=tcpdump" })
public final class TcpdumpCommand {
    static final String USAGE = "Usage: tcpdump [-i interface | -r file] [-c count] [-w file] [-n] [-e] [-q] [-S] [-t] [-v] [-X] [-d] [-D] [-O] [expression]";
    /** The flags that take no value. */
    private static final String FLAGS = "nleqdOvSDXt";

    private final BundleContext context;
    private final NetCore core;
    /** The eBPF implementation filters compile with; replaced in place when the ebpf bundle is updated. */
    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile BpfSyscall bpf;

    @Activate
    public TcpdumpCommand(BundleContext context, @Reference NetCore core) {
        this.context = context;
        this.core = core;
    }

    /** Outside OSGi (tests): the eBPF implementation given. */
    TcpdumpCommand(BundleContext context, NetCore core, BpfSyscall bpf) {
        this(context, core);
        this.bpf = bpf;
    }

    private record Captured(Instant when, byte[] bytes, int length, String dev, org.modnet.api.skb.PktType type) {
    }

    /** How a frame is printed: the line, the device for {@code -i any}, the hex dump of {@code -X}/{@code -XX}. */
    private record Output(Printer printer, boolean any, int hex) {
        String of(Captured c) {
            Frame f = new Frame(c.bytes);
            String line = printer.line(f, c.when);
            if (any) {
                line = Printer.withDevice(line, c.dev, c.type);
            }
            return hex == 0 ? line : line + Printer.hex(c.bytes, hex > 1 || printer.truncated());
        }
    }

    public void tcpdump(CommandSession session, String... args) throws IOException, InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        String dev = null;
        long count = Long.MAX_VALUE;
        String file = null;
        String read = null;
        int hex = 0;
        boolean ethernet = false;
        List<String> expression = new ArrayList<>();
        int dump = 0;
        boolean optimise = true;
        int verbosity = 0;
        boolean absolute = false;
        boolean quick = false;
        boolean list = false;
        int stamps = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-i" -> dev = value(args, ++i);
                case "-c" -> {
                    try {
                        count = Long.parseLong(value(args, ++i));
                    } catch (NumberFormatException e) {
                        throw new CommandException("tcpdump: invalid packet count " + args[i], 1);
                    }
                    if (count <= 0) {
                        throw new CommandException("tcpdump: invalid packet count " + args[i], 1);
                    }
                }
                case "-w" -> file = value(args, ++i);
                case "-r" -> read = value(args, ++i);
                default -> {
                    if (a.startsWith("-") && a.length() > 1 && a.chars().skip(1).allMatch(c -> FLAGS.indexOf(c) >= 0)) {
                        // flags without a value, alone or run together as tcpdump takes them (-nnS, -vv, -ne)
                        for (char c : a.substring(1).toCharArray()) {
                            switch (c) {
                                case 'e' -> ethernet = true;
                                case 'd' -> dump++; // -d, -dd, -ddd
                                case 'O' -> optimise = false; // as tcpdump: do not run the filter optimiser
                                case 'v' -> verbosity++;
                                case 'S' -> absolute = true;
                                case 'q' -> quick = true;
                                case 'D' -> list = true;
                                case 'X' -> hex++;
                                case 't' -> stamps++; // -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since the first
                                default -> {
                                    // n, l: names are never resolved here and output is always line-buffered
                                }
                            }
                        }
                        continue;
                    }
                    if (a.startsWith("-")) {
                        // as getopt says it: the first letter it does not know
                        String bad = "";
                        for (int k = 1; k < a.length() && bad.isEmpty(); k++) {
                            bad = FLAGS.indexOf(a.charAt(k)) < 0 ? String.valueOf(a.charAt(k)) : "";
                        }
                        throw new CommandException("tcpdump: invalid option -- '" + bad + "'\n" + USAGE, 1);
                    }
                    expression.add(a);
                }
            }
        }
        if (list) {
            listInterfaces(Commands.namespace(core, session.get(Commands.NETNS), "tcpdump")).forEach(System.out::println);
            return;
        }
        BpfFilter bpf;
        try {
            bpf = BpfFilter.compile(this.bpf, expression, optimise);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandException("tcpdump: " + e.getMessage(), 1);
        }
        if (dump > 0) {
            // -d: the compiled (and, without -O, optimised) program as classic BPF in libpcap's words; -dd as a
            // C array, -ddd in decimal; no capture
            long[] classic;
            try {
                classic = bpf.classic();
            } catch (IllegalStateException e) {
                throw new CommandException("tcpdump: " + e.getMessage(), 1);
            }
            (dump == 1 ? ClassicCode.image(classic) : dump == 2 ? ClassicCode.cArray(classic) : ClassicCode.decimal(classic))
                    .forEach(System.out::println);
            return;
        }
        if (verbosity > 0 && !"jit".equals(bpf.engine())) {
            System.err.println("tcpdump: filter program of " + bpf.length() + " instructions is interpreted (too large for the JIT)");
        }
        Predicate<Frame> filter = f -> bpf.test(f.b); // the expression compiled to eBPF, JIT-run on each frame
        Printer printer = new Printer(ethernet, verbosity, absolute, quick, TcpPrinter.DEFAULT_MAX_FLOWS).stamps(stamps);
        if (read != null) {
            readFile(read, count, file == null ? null : Path.of(file), new Output(printer, false, hex), filter);
            return;
        }
        if (dev == null) {
            throw new CommandException("tcpdump: no interface given (-i)\n" + USAGE, 1);
        }
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "tcpdump");
        NetDevice target = dev.equals("any") ? null : ns.device(dev);
        if (target == null && !dev.equals("any")) {
            throw new CommandException("tcpdump: " + dev + ": No such device exists", 1);
        }
        run(ns, target, count, file == null ? null : Path.of(file), new Output(printer, target == null, hex), verbosity > 0, filter);
    }

    /**
     * {@code tcpdump -D}: {@code any}, then the namespace's devices as libpcap orders them (up and
     * running first, then up, then down; connected before disconnected, loopback after the others,
     * ifindex within), each with libpcap's flags ({@code Up}, {@code Running}, {@code Loopback},
     * {@code none}) and, for a device with a link, its connection status.
     */
    static List<String> listInterfaces(NetNamespace ns) {
        List<NetDevice> devs = new ArrayList<>(ns.devices());
        devs.sort(java.util.Comparator.comparingInt(TcpdumpCommand::merit).thenComparingInt(NetDevice::ifindex));
        List<String> out = new ArrayList<>();
        out.add("1.any (Pseudo-device that captures on all interfaces) [Up, Running]");
        int n = 2;
        for (NetDevice d : devs) {
            List<String> flags = new ArrayList<>();
            int f = d.flags();
            boolean loopback = (f & org.modnet.api.net.IfFlags.LOOPBACK) != 0;
            if ((f & org.modnet.api.net.IfFlags.UP) != 0) {
                flags.add("Up");
            }
            if ((f & org.modnet.api.net.IfFlags.RUNNING) != 0) {
                flags.add("Running");
            }
            if (loopback) {
                flags.add("Loopback");
            }
            if (flags.isEmpty()) {
                flags.add("none");
            }
            if (!loopback) {
                flags.add((f & org.modnet.api.net.IfFlags.RUNNING) != 0 ? "Connected" : "Disconnected");
            }
            out.add(n++ + "." + d.name() + " [" + String.join(", ", flags) + "]");
        }
        return out;
    }

    /** libpcap's figure of merit: the lower, the earlier in the list. */
    private static int merit(NetDevice d) {
        int f = d.flags();
        int m = 0;
        if ((f & org.modnet.api.net.IfFlags.UP) == 0) {
            m |= 8;
        }
        if ((f & org.modnet.api.net.IfFlags.RUNNING) == 0) {
            m |= 4;
            if ((f & org.modnet.api.net.IfFlags.LOOPBACK) == 0) {
                m |= 2; // disconnected
            }
        }
        if ((f & org.modnet.api.net.IfFlags.LOOPBACK) != 0) {
            m |= 1;
        }
        return m;
    }

    /**
     * {@code tcpdump -r FILE}: the file's frames through the filter, printed (or, with {@code -w}, written),
     * at most {@code count}; libpcap's words for a file it cannot read.
     */
    static void readFile(String name, long count, Path write, Output out, Predicate<Frame> filter) throws IOException {
        Path path = Path.of(name);
        if (!Files.exists(path)) {
            throw new CommandException("tcpdump: " + name + ": No such file or directory", 1);
        }
        try (org.modnet.capture.file.PcapReader r = open(path);
                PcapWriter pcap = write == null ? null : new PcapWriter(new BufferedOutputStream(Files.newOutputStream(write)), 262144)) {
            System.err.println("reading from file " + name + ", link-type EN10MB (Ethernet), snapshot length " + r.snaplen());
            long kept = 0;
            org.modnet.capture.file.PcapReader.Record rec;
            while (kept < count && (rec = next(r)) != null) {
                if (!filter.test(new Frame(rec.bytes()))) {
                    continue;
                }
                kept++;
                if (pcap != null) {
                    pcap.write(rec.nanos(), rec.bytes(), rec.origLen());
                } else {
                    Instant when = Instant.ofEpochSecond(0, rec.nanos());
                    System.out.println(out.of(new Captured(when, rec.bytes(), rec.origLen(), null, null)));
                }
            }
        }
    }

    private static org.modnet.capture.file.PcapReader open(Path path) throws IOException {
        try {
            return new org.modnet.capture.file.PcapReader(new java.io.BufferedInputStream(Files.newInputStream(path)));
        } catch (java.nio.file.AccessDeniedException e) {
            throw new CommandException("tcpdump: " + path + ": Permission denied", 1);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("link type")) {
                throw new CommandException("tcpdump: " + e.getMessage(), 1); // a link type modnet's printer does not read
            }
            throw new CommandException("tcpdump: unknown file format", 1); // libpcap's words for a file that is not a capture
        }
    }

    /** The next record; a file cut short ends as tcpdump ends it, with the reason. */
    private static org.modnet.capture.file.PcapReader.Record next(org.modnet.capture.file.PcapReader r) {
        try {
            return r.next();
        } catch (IOException e) {
            throw new CommandException("tcpdump: pcap_loop: " + e.getMessage(), 1);
        }
    }

    private void run(NetNamespace ns, NetDevice target, long count, Path file, Output out, boolean verbose, Predicate<Frame> filter)
            throws IOException, InterruptedException {
        ArrayBlockingQueue<Captured> queue = new ArrayBlockingQueue<>(8192);
        AtomicLong dropped = new AtomicLong();
        AtomicLong received = new AtomicLong();
        PacketHandler tap = (skb, dev) -> {
            try {
                if (target == null ? dev.namespace() == ns : dev == target) { // any: a device of this namespace
                    copy(skb, dev, queue, dropped, received);
                }
            } finally {
                skb.free();
            }
        };
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(PacketHandler.ETHERTYPE, Eth.ETH_P_ALL);
        PrintStream err = System.err;
        if (file == null && !verbose) {
            err.println("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode");
        }
        // -i any: Linux gives cooked (SLL2) headers; modnet's devices are Ethernet, and so are the frames here
        err.println("listening on " + (target == null ? "any" : target.name()) + ", link-type EN10MB (Ethernet), snapshot length 262144 bytes");
        ServiceRegistration<PacketHandler> reg = context.registerService(PacketHandler.class, tap, props);
        long captured = 0;
        try (PcapWriter pcap = file == null ? null
                : file.toString().endsWith(".pcapng")
                        ? new PcapngWriter(new BufferedOutputStream(Files.newOutputStream(file)), 262144, target == null ? "any" : target.name())
                        : new PcapWriter(new BufferedOutputStream(Files.newOutputStream(file)), 262144)) {
            // (a pcapng of -i any names no device: the frames come from several)
            while (captured < count) {
                Captured c = queue.poll(200, TimeUnit.MILLISECONDS);
                if (c == null) {
                    if (Thread.currentThread().isInterrupted()) {
                        break;
                    }
                    continue;
                }
                Frame f = new Frame(c.bytes);
                if (!filter.test(f)) {
                    continue;
                }
                captured++;
                if (pcap != null) {
                    long nanos = c.when.getEpochSecond() * 1_000_000_000L + c.when.getNano();
                    pcap.write(nanos, c.bytes, c.length);
                } else {
                    System.out.println(out.of(c));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            reg.unregister();
        }
        err.println(captured + " packets captured");
        err.println(received.get() + " packets received by filter");
        err.println(dropped.get() + " packets dropped by kernel");
        if (out.printer().tcp().flowsEvicted() > 0) {
            // tcpdump's table never forgets; this one is bounded, and says when it forgot
            err.println(out.printer().tcp().flowsEvicted() + " TCP conversations forgotten (sequence table full), printed absolute again");
        }
    }

    /** Copies a frame from its MAC header, on the softirq: the tap must not keep the skb. */
    private static void copy(SkBuff skb, NetDevice dev, ArrayBlockingQueue<Captured> queue, AtomicLong dropped, AtomicLong received) {
        received.incrementAndGet();
        int start = skb.macHeader() >= 0 && skb.macHeader() <= skb.data() ? skb.macHeader() : skb.data();
        int len = skb.tail() - start;
        if (len < 0) {
            return;
        }
        byte[] bytes = new byte[len];
        skb.getBytes(start, bytes, 0, len);
        if (!queue.offer(new Captured(Instant.now(), bytes, len, dev.name(), skb.pktType()))) {
            dropped.incrementAndGet();
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new CommandException("tcpdump: option requires an argument -- '" + args[i - 1].substring(1) + "'\n" + USAGE, 1);
        }
        return args[i];
    }
}

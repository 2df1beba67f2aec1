package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/** {@code ip link}: show, add, delete and set devices, as iproute2's {@code ip/iplink.c}. */
final class IpLink {
    static final String USAGE = """
            Usage: ip link add [ name ] NAME
                               [ txqueuelen PACKETS ]
                               [ address LLADDR ]
                               [ mtu MTU ]
                               type TYPE [ ARGS ]

                   ip link delete { DEVICE | dev DEVICE } [ type TYPE ]

                   ip link set { DEVICE | dev DEVICE }
                               [ { up | down } ]
                               [ promisc { on | off } ]
                               [ txqueuelen PACKETS ]
                               [ name NEWNAME ]
                               [ address LLADDR ]
                               [ mtu MTU ]
                               [ netns NETNSNAME ]

                   ip link show [ DEVICE ] [ up ] [ type TYPE ]

                   ip link help""";

    /** Settings iproute2 knows that modnet's devices do not have (yet). */
    private static final Set<String> UNSUPPORTED = Set.of("arp", "dynamic", "multicast", "allmulticast", "trailers",
            "broadcast", "brd", "link", "master", "nomaster", "alias", "group", "vf", "xdp", "xdpgeneric",
            "xdpdrv", "xdpoffload", "mode", "state", "protodown", "protodown_reason", "numtxqueues", "numrxqueues",
            "gso_max_size", "gso_max_segs", "gro_max_size", "addrgenmode", "vrf", "index", "parentdev", "carrier");

    private final Invocation inv;
    private final IpCommand.Options options;
    private final NetNamespace ns;

    IpLink(Invocation inv, IpCommand.Options options, NetNamespace ns) {
        this.inv = inv;
        this.options = options;
        this.ns = ns;
    }

    void run(List<String> words) {
        if (words.isEmpty()) {
            show(List.of());
            return;
        }
        String cmd = words.get(0);
        List<String> rest = words.subList(1, words.size());
        if (matches(cmd, "add")) {
            add(rest);
        } else if (matches(cmd, "set") || matches(cmd, "change")) {
            set(rest);
        } else if (matches(cmd, "delete")) {
            delete(rest);
        } else if (matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list")) {
            show(rest);
        } else if (matches(cmd, "help")) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "link");
        }
    }

    // --- show ---

    private void show(List<String> words) {
        Args args = new Args(words);
        String dev = null;
        boolean upOnly = false;
        String kind = null;
        while (args.more()) {
            String w = args.next();
            if (w.equals("up")) {
                upOnly = true;
            } else if (w.equals("type")) {
                kind = args.value(Iproute::incomplete);
            } else {
                if (w.equals("dev")) {
                    w = args.value(Iproute::incomplete);
                }
                if (matches(w, "help")) {
                    throw new CommandException(USAGE, Iproute.SYNTAX);
                }
                if (dev != null) {
                    throw Iproute.duparg2("dev", w);
                }
                dev = w;
            }
        }
        List<NetDevice> devices = selected(dev);
        List<Object> json = options.json() ? new ArrayList<>() : null;
        for (NetDevice d : devices) {
            if ((upOnly && !d.isUp()) || (kind != null && !kind.equals(d.kind()))) {
                continue;
            }
            if (json != null) {
                json.add(options.brief() ? LinkFormat.briefJson(d, ns) : LinkFormat.json(d, ns, true, options.stats(), options.details()));
            } else {
                print(d);
            }
        }
        if (json != null) {
            inv.out().print(Json.render(json, options.pretty()));
        }
    }

    /** The one named device (or iproute2's error), or all of them. */
    private List<NetDevice> selected(String dev) {
        if (dev == null) {
            return ns.devices();
        }
        NetDevice d = ns.device(dev);
        if (d == null) {
            throw Iproute.doesNotExist(dev);
        }
        return List.of(d);
    }

    private void print(NetDevice d) {
        if (options.brief()) {
            inv.out().println(LinkFormat.brief(d, ns));
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(LinkFormat.header(d, ns, true));
        if (options.details()) {
            String[] more = LinkFormat.details(d);
            lines.add(LinkFormat.linkLine(d, ns) + more[0]);
            if (more[1] != null) {
                lines.add(more[1]);
            }
        } else {
            lines.add(LinkFormat.linkLine(d, ns));
        }
        String xdp = LinkFormat.xdpLine(d);
        if (xdp != null) {
            lines.add(xdp);
        }
        if (options.stats() > 0) {
            lines.addAll(LinkFormat.stats(d.stats(), options.stats(), d.carrierChanges()));
        }
        emit(lines);
    }

    /** One record: lines, or with {@code -o} one line joined by backslashes. */
    private void emit(List<String> lines) {
        if (options.oneline()) {
            inv.out().println(String.join("\\", lines));
        } else {
            lines.forEach(inv.out()::println);
        }
    }

    // --- set, add, delete ---

    /** What {@code iplink_parse} gathered; null fields are not to change. */
    private static final class Request {
        String dev;
        String name;
        String kind;
        List<String> kindArgs = List.of();
        Integer mtu;
        MacAddress address;
        Integer txQueueLen;
        /** {@code numtxqueues}, {@code numrxqueues}: given at creation only ({@code rtnl_create_link}). */
        Integer numTxQueues;
        Integer numRxQueues;
        NetNamespace netns;
        Boolean up;
        Boolean promisc;
        /** {@code xdp off} (and its xdpgeneric/xdpdrv forms): detach the XDP program. */
        boolean xdpOff;
        /** {@code xdp obj FILE [sec NAME]}: attach the program of that object. */
        String xdpObject;
        String xdpSection;
        /** {@code xdp} (native where the driver has it, else generic), {@code xdpgeneric}, {@code xdpdrv}, {@code xdpoffload}. */
        String xdpMode;
    }

    private Request parse(List<String> words, boolean create) {
        Request r = new Request();
        Args args = new Args(words);
        while (args.more()) {
            String w = args.next();
            if (w.equals("up")) {
                r.up = true;
            } else if (w.equals("down")) {
                r.up = false;
            } else if (w.equals("name")) {
                String v = args.value(Iproute::incomplete);
                if (!Iproute.validIfName(v)) {
                    throw Iproute.invarg("\"name\" not a valid ifname", v);
                }
                r.name = v;
            } else if (matches(w, "address")) {
                String v = args.value(Iproute::incomplete);
                try {
                    r.address = MacAddress.parse(v);
                } catch (IllegalArgumentException e) {
                    throw new CommandException("\"" + v + "\" is invalid lladdr.", Iproute.FAILED);
                }
            } else if (matches(w, "txqueuelen") || w.equals("qlen") || matches(w, "txqlen")) {
                String v = args.value(Iproute::incomplete);
                if (r.txQueueLen != null) {
                    throw Iproute.duparg("txqueuelen", v);
                }
                r.txQueueLen = Iproute.parseInt(v);
                if (r.txQueueLen == null) {
                    throw Iproute.invarg("Invalid \"txqueuelen\" value", v);
                }
            } else if (w.equals("mtu")) {
                String v = args.value(Iproute::incomplete);
                if (r.mtu != null) {
                    throw Iproute.duparg("mtu", v);
                }
                r.mtu = Iproute.parseInt(v);
                if (r.mtu == null) {
                    throw Iproute.invarg("Invalid \"mtu\" value", v);
                }
            } else if (w.equals("netns")) {
                String v = args.value(Iproute::incomplete);
                if (r.netns != null) {
                    throw Iproute.duparg("netns", v);
                }
                r.netns = inv.requireCore("ip").namespace(v);
                if (r.netns == null) {
                    throw Iproute.invarg("Invalid \"netns\" value", v);
                }
            } else if (w.equals("promisc")) {
                String v = args.value(Iproute::incomplete);
                r.promisc = onOff("promisc", v);
            } else if (w.equals("xdp") || w.equals("xdpgeneric") || w.equals("xdpdrv") || w.equals("xdpoffload")) {
                String v = args.value(Iproute::incomplete);
                r.xdpMode = w;
                if (v.equals("off")) {
                    r.xdpOff = true;
                } else if (v.equals("obj") || v.equals("object")) {
                    r.xdpObject = args.value(Iproute::incomplete);
                    while (args.more()) {
                        String k = args.next();
                        if (k.equals("sec") || k.equals("section")) {
                            r.xdpSection = args.value(Iproute::incomplete);
                        } else if (k.equals("verbose")) {
                            // the verifier's log is in the error when it refuses
                        } else {
                            throw new CommandException("Error: \"" + k + "\" is not a valid xdp argument.", Iproute.SYNTAX);
                        }
                    }
                } else {
                    throw new CommandException("Error: either \"off\" or \"obj FILE [sec NAME]\" after \"" + w + "\"", Iproute.SYNTAX);
                }
            } else if (create && (w.equals("numtxqueues") || w.equals("numrxqueues"))) {
                String v = args.value(Iproute::incomplete);
                Integer n = Iproute.parseInt(v);
                if (n == null) {
                    throw Iproute.invarg("Invalid \"" + w + "\" value", v);
                }
                if (w.equals("numtxqueues")) {
                    r.numTxQueues = n;
                } else {
                    r.numRxQueues = n;
                }
            } else if (matches(w, "type")) {
                r.kind = args.value(Iproute::incomplete);
                r.kindArgs = List.copyOf(args.rest());
                args.skipAll();
            } else if (UNSUPPORTED.contains(w)) {
                throw new CommandException("ip link: \"" + w + "\" is not supported by modnet", Iproute.SYNTAX);
            } else {
                if (w.equals("dev")) {
                    w = args.value(Iproute::incomplete);
                }
                if (matches(w, "help")) {
                    throw new CommandException(USAGE, Iproute.SYNTAX);
                }
                if (r.dev != null) {
                    throw Iproute.duparg2("dev", w);
                }
                if (create && !Iproute.validIfName(w)) {
                    throw Iproute.invarg("\"dev\" not a valid ifname", w);
                }
                r.dev = w;
            }
        }
        return r;
    }

    private static boolean onOff(String key, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new CommandException("Error: argument of \"" + key + "\" must be \"on\" or \"off\", not \""
                    + value + "\"", Iproute.FAILED);
        };
    }

    private void set(List<String> words) {
        Request r = parse(words, false);
        if (r.kind != null && !r.kindArgs.isEmpty()) {
            throw new CommandException("Garbage instead of arguments \"" + r.kindArgs.get(0)
                    + " ...\". Try \"ip link help\".", Iproute.FAILED);
        }
        if (r.dev == null) {
            throw new CommandException("Not enough information: \"dev\" argument is required.", Iproute.SYNTAX);
        }
        NetDevice dev = ns.device(r.dev);
        if (dev == null) {
            throw Iproute.cannotFind(r.dev);
        }
        org.modnet.api.net.XdpHook hook = null;
        boolean xdpNative = r.xdpObject != null && nativeMode(dev, r.xdpMode);
        if (r.xdpObject != null) {
            // load first: a program that does not load changes nothing on the device
            if (inv.xdpLoader() == null) {
                throw new CommandException("Error: XDP is not available: the xdp bundle is not running.", Iproute.FAILED);
            }
            try {
                hook = inv.xdpLoader().load(r.xdpObject, r.xdpSection);
            } catch (NetException e) {
                throw new CommandException("Error: " + e.getMessage(), Iproute.FAILED);
            }
        }
        apply(dev, r);
        if (hook != null) {
            org.modnet.api.net.XdpHook old = dev.xdp();
            try {
                dev.setXdp(hook, xdpNative);
            } catch (NetException e) {
                hook.close();
                throw Iproute.rtnl(e);
            }
            if (old != null) {
                old.close(); // replaced, as ip link's xdp obj replaces the attached program
            }
        }
    }

    /**
     * Whether to attach natively: {@code xdpdrv} asks for it, {@code xdpgeneric} refuses it, plain
     * {@code xdp} takes it where the driver has it (the kernel's choice without a mode flag).
     */
    private static boolean nativeMode(NetDevice dev, String mode) {
        return switch (mode) {
            case "xdpdrv" -> true;
            case "xdpgeneric" -> false;
            case "xdpoffload" -> throw new CommandException("Error: Underlying driver does not support XDP in HW offload mode.", Iproute.FAILED);
            default -> dev.supportsNativeXdp();
        };
    }

    /** The changes in the order the kernel's {@code do_setlink} makes them; the first refusal stops the rest. */
    private static void apply(NetDevice dev, Request r) {
        try {
            // rtnl_create_link sizes the queues before anything else (a driver that did not take them at
            // creation gets them set on the device made)
            if (r.numTxQueues != null && r.numTxQueues != dev.txQueues()) {
                dev.setTxQueues(r.numTxQueues);
            }
            if (r.numRxQueues != null && r.numRxQueues != dev.rxQueues()) {
                dev.setRxQueues(r.numRxQueues);
            }
            if (r.netns != null && !Namespaces.same(r.netns, dev.namespace())) {
                dev.setNamespace(r.netns);
            }
            if (r.address != null) {
                dev.setAddress(r.address);
            }
            if (r.mtu != null && r.mtu != dev.mtu()) {
                dev.setMtu(r.mtu);
            }
            if (r.name != null && !r.name.equals(dev.name())) {
                dev.setName(r.name);
            }
            if (r.up != null && r.up != dev.isUp()) {
                if (r.up) {
                    dev.open();
                } else {
                    dev.close();
                }
            }
            if (r.promisc != null) {
                dev.setPromisc(r.promisc);
            }
            if (r.txQueueLen != null && r.txQueueLen != dev.txQueueLen()) {
                dev.setTxQueueLen(r.txQueueLen);
            }
            if (r.xdpOff && dev.xdp() != null) {
                org.modnet.api.net.XdpHook old = dev.xdp();
                dev.setXdp(null);
                old.close();
            }
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }

    private void add(List<String> words) {
        Request r = parse(words, true);
        if (r.kind == null) {
            throw new CommandException("Not enough information: \"type\" argument is required", Iproute.FAILED);
        }
        if (r.netns != null) {
            throw new CommandException("ip link add: \"netns\" is not supported by modnet; add, then "
                    + "\"ip link set DEV netns NAME\"", Iproute.SYNTAX);
        }
        String name = r.name != null ? r.name : r.dev;
        LinkFactory factory = inv.links().find(r.kind);
        if (factory == null) {
            throw new CommandException("Error: Unknown device type.", Iproute.KERNEL);
        }
        if (name == null) {
            name = freeName(r.kind);
        }
        NetDevice dev;
        try {
            // rtnl_create_link: the driver makes the device with the queue counts given before "type"
            dev = factory.create(ns, name, r.kindArgs, r.numTxQueues == null ? 0 : r.numTxQueues,
                    r.numRxQueues == null ? 0 : r.numRxQueues);
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
        try {
            apply(dev, r);
        } catch (CommandException e) {
            // the kernel makes the device with its settings or not at all
            try {
                dev.delete();
            } catch (NetException | RuntimeException ignored) {
                // it stays; the error below is the one to report
            }
            throw e;
        }
    }

    /** The kernel's {@code KIND%d}: the first free name of the kind. */
    private String freeName(String kind) {
        String base = kind.length() > 12 ? kind.substring(0, 12) : kind;
        for (int i = 0;; i++) {
            if (ns.device(base + i) == null) {
                return base + i;
            }
        }
    }

    private void delete(List<String> words) {
        Request r = parse(words, false);
        if (r.dev == null) {
            throw new CommandException("Not enough information: \"dev\" argument is required.", Iproute.SYNTAX);
        }
        NetDevice dev = ns.device(r.dev);
        if (dev == null) {
            throw Iproute.cannotFind(r.dev);
        }
        try {
            dev.delete();
        } catch (NetException e) {
            throw Iproute.rtnl(e);
        }
    }
}

package org.modnet.ipv4;

import java.net.Inet4Address;
import java.util.Arrays;

import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;
import org.modnet.api.skb.SkBuff;

/**
 * IPv4's state in one namespace ({@code net->ipv4}): its MIB, its sysctls, the receive path, and the
 * local and broadcast addresses derived from the namespace's interface addresses, rebuilt when they
 * change (the namespace's address generation moves).
 */
final class Ipv4Net implements Ipv4Input.Routing, Ipv4Input.Forwarder {
    final NetNamespace ns;
    final org.modnet.api.net.NetCore core;
    final Ipv4Mib mib = new Ipv4Mib();
    final Ipv4Input input;
    /** The main table ({@code rules.main}): what {@code ip route} changes without {@code table}. */
    final Ipv4Fib fib;
    /** The routing policy rules and every table: what packets are routed by. */
    final FibRules rules;
    private final AutoCloseable addressListener;
    final Ipv4Output output;
    /** Software segmentation ({@code inet_gso_segment}), set by the component; null where none is wired. */
    Ipv4Gso gso;
    final Icmp icmp;
    private final org.modnet.api.inet.NeighbourTable neighbours;
    final IntSysctl ipForward;
    final IntSysctl defaultTtl;
    final IntSysctl icmpRatelimit;
    final IntSysctl icmpMsgsPerSec;
    final IntSysctl icmpMsgsBurst;
    final IntSysctl icmpRatemask;
    final IntSysctl fragTime;
    final IntSysctl fragHighThresh;
    final org.modnet.api.net.IntVectorSysctl localPortRange;
    final Ipv4Defrag defrag;
    final IntSysctl noPmtuDisc;
    /** Path MTU exceptions ({@code fnhe}): what frag-needed messages taught. */
    final Ipv4Pmtu pmtu;

    private volatile Addresses addresses = new Addresses(-1, new int[0], new int[0]);

    private record Addresses(long generation, int[] local, int[] broadcast) {
    }

    final NfHooks hooks;
    /** The sysctls this layer registered here, by name: what its exit removes and its hand-over lists. */
    final java.util.List<String> sysctlNames = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** {@code net.ipv4.conf.{all,default,DEV}.*}: what IPv4 does per device. */
    final Ipv4DevConf devconf;
    final IntSysctl icmpEchoIgnoreBroadcasts;
    final IntSysctl icmpIgnoreBogusErrorResponses;
    final IntSysctl nonlocalBind;
    /** 1: an ICMP error about a received packet comes from the address of the device it came in on. */
    final IntSysctl icmpErrorsUseInboundIfaddr;
    /** {@code net.ipv4.ip_local_reserved_ports}, as the bitmap ephemeral port choice reads. */
    final Ipv4ReservedPorts reservedPorts;
    /** ICMP redirects: the router's back-off per sender, the host's next-hop exceptions. */
    final Ipv4Redirects redirects = new Ipv4Redirects();
    /** Packets dropped for a martian source or destination ({@code rt_cache}'s in_martian_src, in_martian_dst). */
    final java.util.concurrent.atomic.AtomicLong martianSrc = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong martianDst = new java.util.concurrent.atomic.AtomicLong();
    /**
     * Unicast datagrams dropped for arriving in a link-layer broadcast or multicast ({@code
     * drop_unicast_in_l2_multicast}). Linux counts these in no MIB: {@code ip_rcv_finish_core} frees
     * them with {@code SKB_DROP_REASON_UNICAST_IN_L2_MULTICAST}, seen only on the kfree_skb tracepoint,
     * so neither {@code nstat} nor {@code ip -s link} shows them here either.
     */
    final java.util.concurrent.atomic.AtomicLong unicastInL2Multicast = new java.util.concurrent.atomic.AtomicLong();
    /**
     * {@code /proc/net/stat/rt_cache} as Linux 6.x prints it (one line here, not one per CPU): the
     * columns modnet counts are {@code in_no_route} (with {@code IpExtInNoRoutes}, as Linux counts both
     * at once), {@code in_martian_dst} and {@code in_martian_src}; the rest are 0 (Linux's own
     * {@code in_hit}, {@code out_hit} and {@code gc_*} have been 0 since the route cache went in 3.6).
     */
    java.util.List<String> rtCache() {
        return java.util.List.of("entries  in_hit   in_slow_tot in_slow_mc in_no_route in_brd   in_martian_dst in_martian_src "
                + "out_hit  out_slow_tot out_slow_mc gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search",
                String.format("%08x %08x %08x    %08x   %08x    %08x %08x       %08x       %08x %08x     %08x    %08x %08x   "
                        + "%08x     %08x        %08x        %08x", 0, 0, 0, 0, mib.get(Ipv4Mib.Counter.InNoRoutes), 0,
                        martianDst.get(), martianSrc.get(), 0, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    /** {@code net_ratelimit}'s budget for the martian warnings: 10 per 5 seconds. */
    private final java.util.concurrent.atomic.AtomicLong martianLogWindow = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger martianLogged = new java.util.concurrent.atomic.AtomicInteger();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Ipv4Net.class);

    /** Registers through the namespace's tree and remembers each name registered (aliases too). */
    private record Owned(Sysctl tree, java.util.List<String> names) implements Sysctl {
        @Override
        public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
            names.add(name);
            return tree.registerInt(name, defaultValue, min, max);
        }

        @Override
        public IntSysctl registerInt(String name, int defaultValue, int min, int max, java.util.function.IntConsumer onWrite) {
            names.add(name);
            return tree.registerInt(name, defaultValue, min, max, onWrite);
        }

        @Override
        public IntSysctl registerInt(String name, IntSysctl parent, int min, int max) {
            names.add(name);
            return tree.registerInt(name, parent, min, max);
        }

        @Override
        public org.modnet.api.net.StringSysctl registerString(String name, String defaultValue,
                org.modnet.api.net.StringSysctl.Check check) {
            names.add(name);
            return tree.registerString(name, defaultValue, check);
        }

        @Override
        public org.modnet.api.net.IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered) {
            names.add(name);
            return tree.registerInts(name, defaults, min, max, ordered);
        }

        @Override
        public void alias(String name, String target) {
            names.add(name);
            tree.alias(name, target);
        }

        @Override
        public void stored(String name, Stored how) {
            tree.stored(name, how);
        }

        @Override
        public void unregister(String prefix) {
            tree.unregister(prefix);
        }

        @Override
        public String get(String name) throws org.modnet.api.net.NetException {
            return tree.get(name);
        }

        @Override
        public void set(String name, String value) throws org.modnet.api.net.NetException {
            tree.set(name, value);
        }

        @Override
        public java.util.SortedMap<String, String> all() {
            return tree.all();
        }
    }

    Ipv4Net(NetNamespace ns, org.modnet.api.net.NetCore core, org.modnet.api.inet.NeighbourTable neighbours, NfHooks hooks) {
        this.ns = ns;
        this.core = core;
        this.neighbours = neighbours;
        this.hooks = hooks;
        Sysctl s = new Owned(ns.sysctl(), sysctlNames);
        this.devconf = new Ipv4DevConf(ns.sysctl(), sysctlNames);
        // devinet_sysctl_forward: a write (a configured value too) copies itself into default and every
        // device (inet_forward_change)
        this.ipForward = s.registerInt("net.ipv4.ip_forward", 0, 0, 1, new ForwardChange(devconf));
        devconf.allForwarding(ipForward);
        // one value under two names in Linux (IPV4_DEVCONF_ALL(net, FORWARDING))
        s.alias("net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward");
        this.icmpEchoIgnoreBroadcasts = s.registerInt("net.ipv4.icmp_echo_ignore_broadcasts", 1, 0, 1);
        this.icmpIgnoreBogusErrorResponses = s.registerInt("net.ipv4.icmp_ignore_bogus_error_responses", 1, 0, 1);
        this.nonlocalBind = s.registerInt("net.ipv4.ip_nonlocal_bind", 0, 0, 1);
        this.icmpErrorsUseInboundIfaddr = s.registerInt("net.ipv4.icmp_errors_use_inbound_ifaddr", 0, 0, 1);
        this.reservedPorts = new Ipv4ReservedPorts();
        s.registerString("net.ipv4.ip_local_reserved_ports", "", new ReservedPortsCheck(reservedPorts));
        this.defaultTtl = s.registerInt("net.ipv4.ip_default_ttl", 64, 1, 255);
        this.fragTime = s.registerInt("net.ipv4.ipfrag_time", 30, 0, Integer.MAX_VALUE);
        this.fragHighThresh = s.registerInt("net.ipv4.ipfrag_high_thresh", 4194304, 0, Integer.MAX_VALUE);
        s.registerInt("net.ipv4.ipfrag_low_thresh", 3145728, 0, Integer.MAX_VALUE);
        s.registerInt("net.ipv4.icmp_echo_ignore_all", 0, 0, 1);
        this.localPortRange = s.registerInts("net.ipv4.ip_local_port_range", new int[] { 32768, 60999 }, 1, 65535, true);
        this.icmpRatelimit = s.registerInt("net.ipv4.icmp_ratelimit", 1000, 0, Integer.MAX_VALUE);
        s.stored("net.ipv4.icmp_ratelimit", Sysctl.Stored.MS_JIFFIES);
        this.icmpMsgsPerSec = s.registerInt("net.ipv4.icmp_msgs_per_sec", 1000, 0, Integer.MAX_VALUE);
        this.icmpMsgsBurst = s.registerInt("net.ipv4.icmp_msgs_burst", 50, 0, Integer.MAX_VALUE);
        // dest unreachable, source quench, time exceeded, parameter problem: (1<<3)|(1<<4)|(1<<11)|(1<<12)
        this.icmpRatemask = s.registerInt("net.ipv4.icmp_ratemask", 6168, Integer.MIN_VALUE, Integer.MAX_VALUE);
        this.noPmtuDisc = s.registerInt("net.ipv4.ip_no_pmtu_disc", 0, 0, 3);
        this.pmtu = new Ipv4Pmtu(s.registerInt("net.ipv4.route.mtu_expires", 600, 0, Integer.MAX_VALUE),
                s.registerInt("net.ipv4.route.min_pmtu", 552, 68, 65535));
        this.input = new Ipv4Input(mib, this, this);
        InputCalls calls = new InputCalls();
        input.forwarding(calls);
        input.hooks(hooks, ns);
        this.defrag = new Ipv4Defrag(this);
        input.defrag(calls);
        this.rules = new FibRules(ns);
        this.fib = rules.main;
        // fib_netdev_event and fib_inetaddr_event: the kernel's routes follow links and addresses at once
        AutoCloseable l;
        try {
            l = ns.rtnlListen(org.modnet.api.net.Rtnetlink.mask(org.modnet.api.net.Rtnetlink.RTNLGRP_LINK)
                    | org.modnet.api.net.Rtnetlink.mask(org.modnet.api.net.Rtnetlink.RTNLGRP_IPV4_IFADDR), new LinksChanged(rules));
        } catch (UnsupportedOperationException e) {
            l = null; // a namespace without notifications: the kernel's routes are remade at the next lookup
        }
        this.addressListener = l;
        this.output = new Ipv4Output(this, neighbours);
        this.icmp = new Icmp(this, new IcmpRateLimit(icmpMsgsPerSec, icmpMsgsBurst, icmpRatemask, icmpRatelimit));
        input.addProtocol(1, icmp);
        input.protocolUnreachable(calls);
        input.parameterProblem(calls);
    }

    /*
     * Classes, not lambdas, for what the namespace hands its parts: a new version makes its namespaces inside a live
     * update, with the forwarding held, and each lambda's class would be spun there at its first run (0.3-1 ms each).
     */

    /** What the receive path asks of the namespace: a device's forwarding, reassembly, ICMP's protocol unreachable and parameter problem. */
    private final class InputCalls implements java.util.function.ToIntFunction<NetDevice>, java.util.function.UnaryOperator<SkBuff>,
            java.util.function.Consumer<SkBuff>, java.util.function.ObjIntConsumer<SkBuff> {
        @Override
        public int applyAsInt(NetDevice dev) {
            return devconf.get(dev, Ipv4DevConf.Key.forwarding);
        }

        @Override
        public SkBuff apply(SkBuff skb) {
            return defrag.add(skb);
        }

        @Override
        public void accept(SkBuff skb) {
            icmp.sendError(skb, Icmp.DEST_UNREACH, 2, 0);
        }

        @Override
        public void accept(SkBuff skb, int pointer) {
            icmp.sendError(skb, Icmp.PARAMETER_PROB, 0, pointer << 24);
        }
    }

    /** {@code net.ipv4.ip_forward}'s write: {@code inet_forward_change}. */
    private record ForwardChange(Ipv4DevConf devconf) implements java.util.function.IntConsumer {
        @Override
        public void accept(int on) {
            devconf.forwardChange(on);
        }
    }

    /** {@code net.ipv4.ip_local_reserved_ports}'s write. */
    private record ReservedPortsCheck(Ipv4ReservedPorts ports) implements org.modnet.api.net.StringSysctl.Check {
        @Override
        public String check(String value) throws org.modnet.api.net.NetException {
            return ports.parse(value);
        }
    }

    /** {@code fib_netdev_event}, {@code fib_inetaddr_event}: links and addresses changed. */
    private record LinksChanged(FibRules rules) implements org.modnet.api.net.RtnlListener {
        @Override
        public void rtnlMessage(org.modnet.api.net.RtnlMessage m) {
            rules.linksChanged();
        }
    }

    /**
     * {@code ip_forward}: a packet for another host arrived and forwarding is on. Its route (looked up
     * first, as {@code ip_rcv_finish} does), its TTL and the outgoing MTU are checked, each failure
     * answered with the ICMP error Linux sends; then the TTL goes down by one and the packet leaves
     * toward its next hop.
     */
    @Override
    public void forward(SkBuff skb, NetDevice in) {
        int h = skb.data();
        if (skb.pktType() != org.modnet.api.skb.PktType.HOST) {
            mib.inc(Ipv4Mib.Counter.InDiscards);
            skb.free();
            return;
        }
        int daddr = Ipv4Header.daddr(skb, h);
        RouteEntry r = route(skb, h, in);
        if (r == null || !r.type().equals("unicast") || r.dev() == null || !r.dev().isUp()) {
            mib.inc(Ipv4Mib.Counter.InNoRoutes);
            // ip_error: no route or a rule's unreachable is net unreachable, a route's unreachable host unreachable
            int code = r == null || r == FibRules.UNREACHABLE || r.type().equals("unicast") ? 0 : r.type().equals("prohibit") ? 13 : 1;
            if (r == null || !r.type().equals("blackhole")) {
                icmp.sendError(skb, Icmp.DEST_UNREACH, code, 0);
            }
            skb.free();
            return;
        }
        // ip_forward: the TTL after the route, which ip_rcv_finish looked up first (no route is !N, not a TTL)
        if (Ipv4Header.ttl(skb, h) <= 1) {
            mib.inc(Ipv4Mib.Counter.InHdrErrors);
            icmp.sendError(skb, Icmp.TIME_EXCEEDED, 0, 0);
            skb.free();
            return;
        }
        int len = Ipv4Header.totalLen(skb, h);
        if (skb.isGso() && gso != null && gso.networkSegLen(skb) > 0) {
            len = gso.networkSegLen(skb); // ip_exceeds_mtu: a GSO skb goes out as segments of this size
        }
        // ip_exceeds_mtu: a datagram conntrack reassembled (ignore_df) exceeds only if a fragment it came in did
        int fragMax = skb.fragMaxSize();
        if (len > r.dev().mtu() && (Ipv4Header.fragOff(skb, h) & Ipv4Header.FLAG_DF) != 0
                && (fragMax == 0 || fragMax > r.dev().mtu())) {
            mib.inc(Ipv4Mib.Counter.FragFails);
            icmp.sendError(skb, Icmp.DEST_UNREACH, 4, r.dev().mtu()); // fragmentation needed, with the MTU
            skb.free();
            return;
        }
        if (!skb.isWritable() && !skb.unshare()) {
            mib.inc(Ipv4Mib.Counter.OutDiscards);
            skb.free();
            return;
        }
        if (r.dev() == in && doRedirect(skb, h, in, r.gateway())) {
            // ip_rt_send_redirect: the sender could reach the next hop itself; the packet still goes
            icmp.sendError(skb, Icmp.REDIRECT, 1, r.gateway() != 0 ? r.gateway() : daddr); // ICMP_REDIR_HOST
        }
        // ip_decrease_ttl: one less hop, and the checksum adjusted in place (RFC 1624)
        skb.setU8(h + Ipv4Header.TTL, Ipv4Header.ttl(skb, h) - 1);
        int check = skb.getU16(h + Ipv4Header.CHECK) + 0x0100;
        skb.setU16(h + Ipv4Header.CHECK, (check + (check >>> 16)) & 0xffff);
        if (!hooks.run(org.modnet.api.netfilter.NfHook.FORWARD, skb, ns, in, r.dev())) {
            return;
        }
        forwardFinish(skb, r.dev(), r.gateway() != 0 ? r.gateway() : daddr);
    }

    /** {@code ip_forward_finish}: after FORWARD (also where a queued packet goes on, {@code nf_reinject}). */
    void forwardFinish(SkBuff skb, NetDevice out, int nextHop) {
        mib.inc(Ipv4Mib.Counter.ForwDatagrams);
        if (!hooks.run(org.modnet.api.netfilter.NfHook.POST_ROUTING, skb, ns, null, out)) {
            return;
        }
        output.finish(skb, out, nextHop);
    }

    /** The next hop toward {@code daddr} looked up again, or the address itself when no route gives one. */
    private int nextHop(int daddr) {
        Ipv4Output.Decision d = output.route(daddr);
        return d.error() == null && d.nextHop() != 0 ? d.nextHop() : daddr;
    }

    /**
     * {@code nf_reinject}: with NF_ACCEPT the hook's functions after {@code from}, with NF_REPEAT
     * {@code from} and those after it, with NF_STOP none; then the path on from that hook
     * ({@code okfn}). Any other verdict frees the packet. A packet this host sends is routed again
     * from its header ({@code nf_reroute}); a forwarded one's next hop is looked up again.
     */
    void reinject(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.netfilter.NfHookFunction from, NetDevice in,
            NetDevice out, org.modnet.api.netfilter.Verdict verdict) {
        boolean goesOn = switch (verdict) {
            case ACCEPT -> hooks.runAfter(hook, from, skb, ns, in, out, false);
            case REPEAT -> hooks.runAfter(hook, from, skb, ns, in, out, true);
            case STOP -> true;
            default -> {
                skb.free();
                yield false;
            }
        };
        if (!goesOn) {
            return;
        }
        int h = skb.networkHeader();
        switch (hook) {
            case PRE_ROUTING -> input.rcvFinish(skb, in, h, (skb.getU8(h) & 0xf) << 2);
            case LOCAL_IN -> input.localInFinish(skb, in);
            case FORWARD -> forwardFinish(skb, out, nextHop(Ipv4Header.daddr(skb, h)));
            case LOCAL_OUT -> output.reinjectLocalOut(skb);
            case POST_ROUTING -> output.finish(skb, out, nextHop(Ipv4Header.daddr(skb, h)));
        }
    }

    /**
     * {@code ip_route_input_slow}'s {@code fib_lookup} for a packet to forward: through the rules, with
     * its source, in device, mark, TOS, protocol and (for the first fragment of TCP, UDP, SCTP) ports.
     */
    private RouteEntry route(SkBuff skb, int h, NetDevice in) {
        int daddr = Ipv4Header.daddr(skb, h);
        int proto = Ipv4Header.protocol(skb, h);
        int sport = 0;
        int dport = 0;
        int l4 = h + Ipv4Header.headerLen(skb, h);
        if ((proto == 6 || proto == 17 || proto == 132) && (Ipv4Header.fragOff(skb, h) & Ipv4Header.OFFSET_MASK) == 0
                && skb.len() >= l4 - h + 4) {
            sport = skb.getU16(l4);
            dport = skb.getU16(l4 + 2);
        }
        return rules.lookup(daddr, Ipv4Header.saddr(skb, h), in == null ? 0 : in.ifindex(), 0, skb.mark(),
                skb.getU8(h + Ipv4Header.TOS), proto, sport, dport, null);
    }

    void exit() {
        exit(false);
    }

    /**
     * {@code __mkroute_input}'s IPSKB_DOREDIRECT for a packet leaving by the device it came in on:
     * {@code send_redirects} is on, the sender is on a network of the device (its route back has no
     * gateway) and, unless {@code shared_media}, on the same subnet as the next hop; then the sender's
     * back-off allows one now.
     */
    private boolean doRedirect(SkBuff skb, int h, NetDevice dev, int gw) {
        if (devconf.get(dev, Ipv4DevConf.Key.send_redirects) == 0) {
            return false;
        }
        int saddr = Ipv4Header.saddr(skb, h);
        RouteEntry back = fib.lookup(saddr);
        if (back == null || back.dev() != dev || back.gateway() != 0 || !"unicast".equals(back.type())) {
            return false;
        }
        if (devconf.get(dev, Ipv4DevConf.Key.shared_media) == 0 && !onlink(dev, saddr, gw)) {
            return false;
        }
        return redirects.mayRedirect(saddr, core.nanoTime() / 1_000_000);
    }

    /** {@code inet_addr_onlink}: a subnet of the device holds {@code a} and (unless 0) {@code b}. */
    private static boolean onlink(NetDevice dev, int a, int b) {
        for (IfAddress ifa : dev.addresses()) {
            if (ifa.address() instanceof Inet4Address v4) {
                int addr = org.modnet.api.inet.Ipv4Addresses.toInt(v4);
                int mask = ifa.prefixLen() == 0 ? 0 : -1 << (32 - ifa.prefixLen());
                if (((a ^ addr) & mask) == 0 && (b == 0 || ((b ^ addr) & mask) == 0)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code __ip_do_redirect}: an ICMP redirect from {@code from} (at {@code i} in the skb) about a
     * packet we sent. Taken only from the gateway our route uses now, for a new gateway that is not
     * that one, not multicast, broadcast or 0.0.0.0, when the device accepts redirects
     * ({@code IN_DEV_RX_REDIRECTS}); without {@code shared_media} the new gateway must share a subnet
     * with the old and, with {@code secure_redirects}, be one of the default routes' gateways; with it,
     * a unicast address. Then packets to the quoted destination go by the new gateway for 300 s. A
     * refusal is logged with {@code log_martians}, in the kernel's words. (Linux waits to install the
     * exception until the new gateway's neighbour entry is valid, resolving it first; modnet installs it
     * at once, and ARP resolves the gateway when the next packet needs it.)
     */
    void redirected(SkBuff skb, int i, int from) {
        int code = skb.getU8(i + 1) & 7;
        if (code > 3) {
            return;
        }
        int newGw = skb.getU32(i + 4);
        int inner = i + 8;
        int d = Ipv4Header.daddr(skb, inner);
        NetDevice dev = skb.dev();
        RouteEntry r = fib.lookup(d);
        long now = core.nanoTime() / 1_000_000;
        if (r == null || r.gateway() == 0 || dev == null || redirects.gateway(d, r.gateway(), now) != from) {
            return; // not from the gateway we use toward it
        }
        boolean ok = newGw != from && devconf.acceptRedirects(dev) && (newGw & 0xf0000000) != 0xe0000000
                && newGw != -1 && (newGw >>> 24) != 0;
        if (ok && devconf.get(dev, Ipv4DevConf.Key.shared_media) == 0) {
            ok = onlink(dev, newGw, from) && (devconf.get(dev, Ipv4DevConf.Key.secure_redirects) == 0 || defaultGateway(newGw, dev));
        } else if (ok) {
            ok = classify(newGw, null) == Ipv4Input.Destination.OTHER; // inet_addr_type: RTN_UNICAST
        }
        if (!ok) {
            if (devconf.get(dev, Ipv4DevConf.Key.log_martians) != 0 && logAllowed()) {
                LOG.info("Redirect from {} on {} about {} ignored\n  Advised path = {} -> {}", dotted(from), dev.name(),
                        dotted(newGw), dotted(Ipv4Header.saddr(skb, inner)), dotted(d));
            }
            return;
        }
        redirects.learn(d, r.gateway(), newGw, now);
    }

    /** {@code ip_fib_check_default}: {@code gw} is the gateway of a default route by {@code dev}. */
    private boolean defaultGateway(int gw, NetDevice dev) {
        for (RouteEntry r : fib.routes()) {
            if (r.len() == 0 && r.gateway() == gw && r.dev() == dev) {
                return true;
            }
        }
        return false;
    }

    /**
     * The namespace or the layer goes: reassembly queues are freed and this layer's sysctls removed
     * (only its own: ARP's {@code net.ipv4.neigh.*} and TCP's {@code net.ipv4.tcp_*} are theirs). Leaving
     * for an update, the sysctls stay registered in the namespace's tree, values and all, for the next
     * version to register again (which returns the same entries), and the queues count as ReasmFails.
     */
    void exit(boolean handOver) {
        if (addressListener != null) {
            try {
                addressListener.close();
            } catch (Exception e) {
                // closing a subscription throws nothing
            }
        }
        if (handOver) {
            return; // the component took the reassembly queues (ReasmFails) and the state already
        }
        defrag.clear();
        for (SkBuff skb : input.takeHeld()) { // held for a protocol whose next version no longer comes here
            mib.inc(Ipv4Mib.Counter.InDiscards);
            skb.free();
        }
        for (String name : sysctlNames) {
            ns.sysctl().unregister(name);
        }
    }

    /** This namespace's share of a hand-over: routes added by hand, sysctl values, the IP and ICMP MIBs. */
    org.modnet.api.handover.NamespaceState export(long reasmDropped) {
        java.util.List<org.modnet.api.handover.RouteState> routes = new java.util.ArrayList<>();
        for (long id : rules.tableIds()) {
            for (RouteEntry r : rules.table(id).routes()) {
                if (!"kernel".equals(r.protocol())) {
                    routes.add(new org.modnet.api.handover.RouteState((int) id, r)); // an id above 2^31 as its 32 bits
                }
            }
        }
        java.util.Map<String, String> sysctls = new java.util.LinkedHashMap<>();
        for (String name : sysctlNames) {
            try {
                sysctls.put(name, ns.sysctl().get(name));
            } catch (org.modnet.api.net.NetException e) {
                // removed meanwhile: nothing to carry
            }
        }
        java.util.Map<String, Long> counters = new java.util.LinkedHashMap<>(mib.snapshot());
        counters.putAll(icmp.mib.snapshot());
        return new org.modnet.api.handover.NamespaceState(ns, sysctls, counters, routes, java.util.List.of(),
                java.util.Map.of("IpReasmFails", reasmDropped));
    }

    /**
     * The new version's side: counters continue, routes come back (a route whose device left the
     * namespace meanwhile is skipped and counted); sysctls kept their entries in the tree. Returns the
     * routes that could not be restored.
     */
    int adopt(org.modnet.api.handover.NamespaceState st) {
        mib.restore(st.counters());
        icmp.mib.restore(st.counters());
        for (java.util.Map.Entry<String, String> s : st.sysctls().entrySet()) { // a loop: a lambda would be spun in the swap
            try {
                if (!s.getValue().equals(ns.sysctl().get(s.getKey()))) {
                    ns.sysctl().set(s.getKey(), s.getValue()); // an entry made afresh (its old one was removed meanwhile)
                }
            } catch (org.modnet.api.net.NetException e) {
                // a sysctl this version no longer has
            }
        }
        int lost = 0;
        for (org.modnet.api.handover.RouteState rs : st.routes()) {
            RouteEntry r = rs.route();
            if (r.dev() != null && ns.device(r.dev().ifindex()) != r.dev()) {
                lost++;
                continue;
            }
            try {
                rules.tableOrNew(Integer.toUnsignedLong(rs.table())).add(r, true);
            } catch (org.modnet.api.net.NetException e) {
                lost++;
            }
        }
        return lost;
    }

    @Override
    public Ipv4Input.Destination classify(int daddr, NetDevice dev) {
        if (daddr == -1) {
            return Ipv4Input.Destination.BROADCAST; // 255.255.255.255
        }
        if ((daddr >>> 24) == 127 && dev != null && dev.type() == org.modnet.api.net.Eth.ARPHRD_LOOPBACK) {
            return Ipv4Input.Destination.LOCAL; // 127.0.0.0/8 is lo's, as its host-scope route says
        }
        Addresses a = current();
        if (Arrays.binarySearch(a.local, daddr) >= 0) {
            return Ipv4Input.Destination.LOCAL;
        }
        if (Arrays.binarySearch(a.broadcast, daddr) >= 0) {
            return Ipv4Input.Destination.BROADCAST;
        }
        return Ipv4Input.Destination.OTHER;
    }

    /**
     * The source checks of {@code ip_route_input_slow} and {@code fib_validate_source} for a packet that
     * arrived on {@code dev} (not lo, whose packets are our own): martian sources and destinations
     * (multicast or limited broadcast source, 0.0.0.0/8, 127.0.0.0/8 unless {@code route_localnet}),
     * one of our own addresses as source unless {@code accept_local}, and the reverse path filter
     * ({@code rp_filter} 1: the route back to the source leaves by {@code dev}; 2: there is a route back
     * at all), whose refusals count {@code TcpExtIPReversePathFilter}. Packets not for us that will not
     * be forwarded are left to {@code ip_error} (InAddrErrors), as Linux checks no source for them.
     * False when the packet is to be dropped (counted here, logged if {@code log_martians}).
     */
    @Override
    public boolean sourceValid(SkBuff skb, int h, NetDevice dev, Ipv4Input.Destination d) {
        if (dev == null || dev.type() == org.modnet.api.net.Eth.ARPHRD_LOOPBACK) {
            return true;
        }
        int saddr = Ipv4Header.saddr(skb, h);
        int daddr = Ipv4Header.daddr(skb, h);
        if ((saddr & 0xf0000000) == 0xe0000000 || saddr == -1) {
            return martianSource(skb, dev, saddr, daddr);
        }
        if (daddr == -1 || (saddr == 0 && daddr == 0)) {
            return saddr == 0 || validateSource(skb, dev, saddr, daddr); // brd_input: DHCP's 0.0.0.0 passes
        }
        if ((saddr >>> 24) == 0) {
            return martianSource(skb, dev, saddr, daddr);
        }
        if ((daddr >>> 24) == 0) {
            return martianDestination(dev, saddr, daddr);
        }
        boolean localnet = devconf.get(dev, Ipv4DevConf.Key.route_localnet) != 0;
        if ((daddr >>> 24) == 127 && !localnet) {
            return martianDestination(dev, saddr, daddr);
        }
        if ((saddr >>> 24) == 127 && !localnet) {
            return martianSource(skb, dev, saddr, daddr);
        }
        if (d == Ipv4Input.Destination.OTHER && devconf.get(dev, Ipv4DevConf.Key.forwarding) == 0) {
            return true; // ip_error counts it as InAddrErrors
        }
        if (!validateSource(skb, dev, saddr, daddr)) {
            return false;
        }
        // ip_rcv_finish_core: a unicast route for a frame sent to a link-layer group
        if (d != Ipv4Input.Destination.BROADCAST && (skb.pktType() == org.modnet.api.skb.PktType.BROADCAST
                || skb.pktType() == org.modnet.api.skb.PktType.MULTICAST)
                && devconf.get(dev, Ipv4DevConf.Key.drop_unicast_in_l2_multicast) != 0) {
            unicastInL2Multicast.incrementAndGet();
            return false;
        }
        return true;
    }

    /** {@code fib_validate_source}: false (counted, maybe logged) for a martian or reverse-path-filtered source. */
    private boolean validateSource(SkBuff skb, NetDevice dev, int saddr, int daddr) {
        int rpf = devconf.get(dev, Ipv4DevConf.Key.rp_filter);
        boolean acceptLocal = devconf.get(dev, Ipv4DevConf.Key.accept_local) != 0;
        boolean local = classify(saddr, null) == Ipv4Input.Destination.LOCAL;
        if (rpf == 0) {
            // the fast path: only our own addresses are refused as sources, unless accept_local
            return !local || acceptLocal || martianSource(skb, dev, saddr, daddr);
        }
        if (local) {
            if (!acceptLocal) {
                return martianSource(skb, dev, saddr, daddr); // a local route's type is not unicast: -EINVAL
            }
            if (rpf != 1 || owns(dev, saddr)) {
                return true; // the local route's device is the one that has the address
            }
            return reversePathFiltered(skb, dev, saddr, daddr);
        }
        RouteEntry back = fib.lookup(saddr);
        if (back == null) {
            return reversePathFiltered(skb, dev, saddr, daddr); // last_resort with rp_filter on
        }
        if (!back.type().equals("unicast")) {
            return martianSource(skb, dev, saddr, daddr);
        }
        if (back.dev() == dev) {
            return true;
        }
        if (rpf == 1 || !hasIpv4Address(dev)) {
            return reversePathFiltered(skb, dev, saddr, daddr);
        }
        return true; // loose mode: a route back exists, by whichever device
    }

    private static boolean owns(NetDevice dev, int addr) {
        for (IfAddress a : dev.addresses()) {
            if (a.address() instanceof Inet4Address v4 && org.modnet.api.inet.Ipv4Addresses.toInt(v4) == addr) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasIpv4Address(NetDevice dev) {
        for (IfAddress a : dev.addresses()) {
            if (a.address() instanceof Inet4Address) {
                return true;
            }
        }
        return false;
    }

    /** -EXDEV: {@code LINUX_MIB_IPRPFILTER}, and the martian source warning if asked for. */
    private boolean reversePathFiltered(SkBuff skb, NetDevice dev, int saddr, int daddr) {
        mib.inc(Ipv4Mib.Counter.IPReversePathFilter);
        return martianSource(skb, dev, saddr, daddr);
    }

    /** {@code ip_handle_martian_source}: counted, and with {@code log_martians} the kernel's two lines. */
    private boolean martianSource(SkBuff skb, NetDevice dev, int saddr, int daddr) {
        martianSrc.incrementAndGet();
        if (devconf.get(dev, Ipv4DevConf.Key.log_martians) != 0 && logAllowed()) {
            LOG.warn("martian source {} from {}, on dev {}", dotted(daddr), dotted(saddr), dev.name());
            int mac = skb.macHeader();
            int hlen = dev.type() == org.modnet.api.net.Eth.ARPHRD_ETHER ? org.modnet.api.net.Eth.ETH_HLEN : 0;
            if (mac >= 0 && hlen > 0 && skb.networkHeader() - mac >= hlen) {
                StringBuilder b = new StringBuilder("ll header: 00000000:");
                for (int i = 0; i < hlen; i++) {
                    b.append(String.format(" %02x", skb.getU8(mac + i)));
                }
                LOG.warn("{}", b);
            }
        }
        return false;
    }

    /** {@code ip_route_input_slow}'s martian_destination. */
    private boolean martianDestination(NetDevice dev, int saddr, int daddr) {
        martianDst.incrementAndGet();
        if (devconf.get(dev, Ipv4DevConf.Key.log_martians) != 0 && logAllowed()) {
            LOG.warn("martian destination {} from {}, dev {}", dotted(daddr), dotted(saddr), dev.name());
        }
        return false;
    }

    /** {@code net_ratelimit}: 10 messages, then none until 5 seconds have passed. */
    private boolean logAllowed() {
        long now = core.nanoTime();
        long start = martianLogWindow.get();
        if (now - start > 5_000_000_000L && martianLogWindow.compareAndSet(start, now)) {
            martianLogged.set(0);
        }
        return martianLogged.incrementAndGet() <= 10;
    }

    private static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    private Addresses current() {
        Addresses a = addresses;
        long generation = ns.addressGeneration();
        if (a.generation == generation) {
            return a;
        }
        int[] local = org.modnet.api.inet.Ipv4Addresses.local(ns);
        int[] broadcast = new int[0];
        for (NetDevice dev : ns.devices()) {
            for (IfAddress ifa : dev.addresses()) {
                if (ifa.address() instanceof Inet4Address && ifa.broadcast() instanceof Inet4Address b) {
                    broadcast = append(broadcast, org.modnet.api.inet.Ipv4Addresses.toInt(b));
                }
                if (ifa.address() instanceof Inet4Address a4 && ifa.prefixLen() < 31) {
                    // fib_add_ifaddr: the subnet's broadcast is a broadcast route even without "brd"
                    int host = (int) (0xffffffffL >>> ifa.prefixLen());
                    broadcast = append(broadcast, org.modnet.api.inet.Ipv4Addresses.toInt(a4) | host);
                }
            }
        }
        Arrays.sort(broadcast);
        a = new Addresses(generation, local, broadcast);
        addresses = a;
        return a;
    }

    private static int[] append(int[] a, int v) {
        int[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = v;
        return b;
    }


}

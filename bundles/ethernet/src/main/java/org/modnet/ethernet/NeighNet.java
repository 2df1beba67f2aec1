package org.modnet.ethernet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlMessage;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's ARP table and ARP protocol ({@code arp_tbl} + {@code arp_process}): entries keyed by
 * device and address, the per-device parameters, the garbage collection of {@code net/core/neighbour.c}
 * (periodic work every base_reachable_time/2 above {@code gc_thresh1}; a forced collection when a new
 * entry meets {@code gc_thresh2}/{@code gc_thresh3}, which refuses the entry and counts
 * {@code table_fulls} if nothing could go), and the statistics of {@code /proc/net/stat/arp_cache}.
 */
final class NeighNet {
    /** {@code struct neigh_statistics}, in {@code /proc/net/stat/arp_cache}'s column order; rcv_malformed is modnet's. */
    enum Stat {
        allocs, destroys, hash_grows, lookups, hits, res_failed, rcv_probes_mcast, rcv_probes_ucast, periodic_gc_runs,
        forced_gc_runs, unresolved_discards, table_fulls, rcv_malformed,
        /** modnet's: gratuitous ARP dropped by {@code drop_gratuitous_arp}. */
        rcv_garp_dropped,
        /** {@code LINUX_MIB_ARPFILTER}: a request for us not answered because the route back leaves by another device. */
        arp_filter,
        /** modnet's: requests for another host answered by {@code proxy_arp}. */
        proxy_replies
    }

    /** What ARP asks of IPv4 (bound when IPv4 is there): the route toward an address, forwarding per device. */
    interface Inet {
        /** {@code fib_lookup}'s route for {@code daddr}, or null. */
        org.modnet.api.inet.RouteEntry route(NetNamespace ns, int daddr);

        /** {@code IN_DEV_FORWARD} of the device. */
        boolean forwarding(NetDevice dev);

        Inet NONE = new Inet() {
            @Override
            public org.modnet.api.inet.RouteEntry route(NetNamespace ns, int daddr) {
                return null;
            }

            @Override
            public boolean forwarding(NetDevice dev) {
                return false;
            }
        };
    }

    /** {@code neigh_forced_gc} keeps what was updated this recently, and runs above gc_thresh2 this often. */
    private static final long FORCED_GC_MS = 5_000;
    /** {@code neigh_periodic_work} redraws every reachable_time this often. */
    private static final long REACHABLE_REDRAW_MS = 300_000;

    private record Key(int ifindex, int address) {
    }

    final NetNamespace ns;
    /** {@code net.ipv4.neigh.default.*}, and the table's own knobs there. */
    final NeighParams params;
    final NeighParams.Table table;
    /** {@code net.ipv4.conf.*.arp_*}, {@code proxy_arp}, {@code drop_gratuitous_arp}. */
    final ArpConf conf;
    private final Inet inet;
    /** Link notifications, for arp_notify; null where the namespace has none. */
    private final AutoCloseable linkListener;
    /** Each device's last seen state, {up, link address}: what tells NETDEV_UP and NETDEV_CHANGEADDR apart. */
    private final Map<Integer, long[]> linkSeen = new ConcurrentHashMap<>();
    /** Each device's {@code net.ipv4.neigh.DEV.*}, by ifindex. */
    private final Map<Integer, NeighParams> devParms = new ConcurrentHashMap<>();
    private final NetCore core;
    private final Timer periodic;
    /** Entries counted against the thresholds: all but PERMANENT ones ({@code tbl->gc_entries}). */
    private final AtomicInteger gcEntries = new AtomicInteger();
    private volatile long lastFlush;
    private volatile long lastRand;
    private final NeighbourTable.Unreachable[] unreachable;
    private final Map<Key, NeighEntry> entries = new ConcurrentHashMap<>();
    /**
     * The entry the last output used: a stream of packets to one next hop finds it without a key made
     * per packet (the kernel finds it through the route's cached neighbour). A dead one is looked up again.
     */
    private volatile NeighEntry lastOutput;
    private final AtomicLongArray stats = new AtomicLongArray(Stat.values().length);
    private volatile LocalAddresses local = new LocalAddresses(-1, new int[0]);

    private record LocalAddresses(long generation, int[] sorted) {
    }

    NeighNet(NetNamespace ns, NetCore core, NeighbourTable.Unreachable[] unreachable) {
        this(ns, core, unreachable, Inet.NONE);
    }

    NeighNet(NetNamespace ns, NetCore core, NeighbourTable.Unreachable[] unreachable, Inet inet) {
        this.ns = ns;
        this.inet = inet;
        this.conf = new ArpConf(ns.sysctl());
        AutoCloseable l;
        try {
            l = ns.rtnlListen(Rtnetlink.mask(Rtnetlink.RTNLGRP_LINK), new LinkChanged());
        } catch (UnsupportedOperationException e) {
            l = null; // a namespace without notifications: arp_notify has nothing to act on
        }
        this.linkListener = l;
        for (NetDevice dev : ns.devices()) { // lo came with the namespace, before ARP's init
            conf.register(dev);
            linkSeen.put(dev.ifindex(), new long[] { dev.isUp() ? 1 : 0, dev.address().bits() });
        }
        this.core = core;
        this.unreachable = unreachable;
        this.params = new NeighParams(ns.sysctl());
        this.table = new NeighParams.Table(ns.sysctl());
        long now = now();
        this.lastFlush = now;
        this.lastRand = now;
        this.periodic = core.timer(0, new PeriodicWork());
        periodic.mod(Math.max(1, params.baseReachableTimeMs.get() / 2));
    }

    /*
     * Classes, not lambdas, for what a namespace's table registers: a new version makes its tables inside a live update
     * (IPv4 holding the packets for next hops meanwhile), where each lambda's class would be spun at its first run.
     */

    /** {@code neigh_periodic_work}. */
    private final class PeriodicWork implements Runnable {
        @Override
        public void run() {
            periodicWork();
        }
    }

    /** The links' notifications: {@code arp_netdev_event}. */
    private final class LinkChanged implements org.modnet.api.net.RtnlListener {
        @Override
        public void rtnlMessage(RtnlMessage m) {
            linkChanged(m);
        }
    }

    /** The parameters entries on {@code dev} follow: the device's set, or the default if it has none. */
    NeighParams parms(NetDevice dev) {
        NeighParams p = devParms.get(dev.ifindex());
        return p != null && p.name.equals(dev.name()) ? p : params;
    }

    // --- devices ---

    /** NETDEV_REGISTER: the device's {@code net.ipv4.neigh.DEV} directory, following default. */
    void deviceUp(NetDevice dev) {
        devParms.put(dev.ifindex(), new NeighParams(ns.sysctl(), dev.name(), params));
        conf.register(dev);
        linkSeen.put(dev.ifindex(), new long[] { dev.isUp() ? 1 : 0, dev.address().bits() });
    }

    /** NETDEV_UNREGISTER ({@code neigh_ifdown}): its entries and its directory go. */
    void deviceGone(NetDevice dev) {
        for (NeighEntry e : entries.values()) {
            if (e.dev == dev) {
                remove(e);
            }
        }
        conf.unregister(dev);
        linkSeen.remove(dev.ifindex());
        NeighParams p = devParms.remove(dev.ifindex());
        if (p != null) {
            ns.sysctl().unregister(NeighParams.PREFIX + p.name);
        }
    }

    /**
     * NETDEV_CHANGENAME: the directory moves to the new name. The values written in the old one are
     * carried over; entries keep the set they were made with until they are made again.
     */
    void deviceRenamed(NetDevice dev, String oldName) {
        NeighParams old = devParms.get(dev.ifindex());
        conf.rename(dev);
        ns.sysctl().unregister(NeighParams.PREFIX + oldName);
        NeighParams p = new NeighParams(ns.sysctl(), dev.name(), params);
        if (old != null) {
            copyWritten(old.baseReachableTimeMs, params.baseReachableTimeMs, p.baseReachableTimeMs);
            copyWritten(old.retransTimeMs, params.retransTimeMs, p.retransTimeMs);
            copyWritten(old.delayFirstProbeTime, params.delayFirstProbeTime, p.delayFirstProbeTime);
            copyWritten(old.gcStaleTime, params.gcStaleTime, p.gcStaleTime);
            copyWritten(old.mcastSolicit, params.mcastSolicit, p.mcastSolicit);
            copyWritten(old.ucastSolicit, params.ucastSolicit, p.ucastSolicit);
            copyWritten(old.unresQlen, params.unresQlen, p.unresQlen);
            copyWritten(old.locktime, params.locktime, p.locktime);
        }
        devParms.put(dev.ifindex(), p);
    }

    /** A value that differs from the default was written: the new directory keeps it. */
    private static void copyWritten(org.modnet.api.net.IntSysctl old, org.modnet.api.net.IntSysctl dflt,
            org.modnet.api.net.IntSysctl now) {
        if (old.get() != dflt.get()) {
            try {
                now.set(old.get());
            } catch (org.modnet.api.net.NetException e) {
                // same range: cannot happen
            }
        }
    }

    // --- garbage collection ---

    /**
     * {@code neigh_periodic_work}, every base_reachable_time/2: redraws reachable times every 300 s;
     * with at least {@code gc_thresh1} entries, removes unreferenced entries that failed or were not used
     * for gc_stale_time (STALE, FAILED, NOARP; never PERMANENT or one whose timer runs).
     */
    void periodicWork() {
        long now = now();
        if (now - lastRand >= REACHABLE_REDRAW_MS) {
            lastRand = now;
            params.randomizeReachableTime();
            for (NeighParams p : devParms.values()) {
                p.randomizeReachableTime();
            }
        }
        if (entries.size() >= table.gcThresh1.get()) {
            stat(Stat.periodic_gc_runs);
            for (NeighEntry e : entries.values()) {
                if (e.staleForGc(now)) {
                    remove(e);
                }
            }
        }
        periodic.mod(Math.max(1, params.baseReachableTimeMs.get() / 2));
    }

    /**
     * {@code neigh_alloc}'s bound: with {@code gc_thresh3} entries, or more than {@code gc_thresh2} and
     * no forced collection in the last 5 s, collect first; refuse (and count table_fulls) only when the
     * table is at gc_thresh3 and nothing could be collected.
     */
    private boolean admit() {
        int n = gcEntries.get();
        int thresh3 = table.gcThresh3.get();
        if (n >= thresh3 || (n >= table.gcThresh2.get() && now() - lastFlush > FORCED_GC_MS)) {
            if (forcedGc() == 0 && n >= thresh3) {
                stat(Stat.table_fulls);
                return false;
            }
        }
        return true;
    }

    /**
     * {@code neigh_forced_gc}: down to {@code gc_thresh2}, removes unreferenced entries that failed, need
     * no ARP, or were not updated in the last 5 s. Returns how many went.
     */
    int forcedGc() {
        stat(Stat.forced_gc_runs);
        long now = now();
        int maxClean = gcEntries.get() - table.gcThresh2.get();
        long tref = now - FORCED_GC_MS;
        int shrunk = 0;
        for (NeighEntry e : entries.values()) {
            if (e.forcedGcCandidate(tref) && remove(e)) {
                shrunk++;
                if (shrunk >= maxClean) {
                    break;
                }
            }
        }
        lastFlush = now;
        return shrunk;
    }

    /** Puts a new entry in, or returns the one that raced it there. */
    private NeighEntry insert(Key key, NeighEntry created) {
        NeighEntry raced = entries.putIfAbsent(key, created);
        if (raced != null) {
            created.kill();
            return raced;
        }
        stat(Stat.allocs);
        if (!created.exempt()) {
            gcEntries.incrementAndGet();
        }
        return created;
    }

    long now() {
        return core.nanoTime() / 1_000_000;
    }

    Timer timer(int address, Runnable fn) {
        return core.timer(address, fn);
    }

    void stat(Stat s) {
        stats.incrementAndGet(s.ordinal());
    }

    /**
     * {@code neigh_update_notify} / {@code neigh_cleanup_and_release}: tells neighbour listeners of the
     * entry as it is now. In softirq too, so it is one volatile read and nothing more when nobody listens.
     */
    void notify(NeighEntry e, int type) {
        if (ns.rtnlListening(Rtnetlink.RTNLGRP_NEIGH)) {
            ns.rtnlNotify(new RtnlMessage(type, e.dev, e.view()));
        }
    }

    /**
     * {@code neigh_stat_seq_show}: the header and one line of hex counters. Linux prints a line per CPU
     * of per-CPU counters; modnet's table counters are not per CPU, so one line holds their sums.
     */
    List<String> arpCache() {
        long[] v = new long[Stat.table_fulls.ordinal() + 1];
        for (int i = 0; i < v.length; i++) {
            v[i] = stats.get(i);
        }
        return List.of("entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast "
                + "rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls",
                String.format("%08x %08x %08x %08x   %08x %08x %08x   %08x         %08x         %08x         "
                        + "%08x       %08x            %08x", entries.size(), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
                        v[8], v[9], v[10], v[11]));
    }

    Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("entries", (long) entries.size());
        for (Stat s : Stat.values()) {
            m.put(s.name(), stats.get(s.ordinal()));
        }
        return m;
    }

    // --- output ---

    int output(SkBuff skb, NetDevice dev, int nextHop) {
        if ((dev.flags() & (IfFlags.NOARP | IfFlags.LOOPBACK)) != 0) {
            return transmit(skb, dev, dev.broadcast().bits() == 0 ? MacAddress.ZERO : dev.broadcast());
        }
        stat(Stat.lookups);
        NeighEntry e = lastOutput;
        if (e == null || e.address != nextHop || e.dev != dev || e.isDead()) {
            e = entries.get(new Key(dev.ifindex(), nextHop));
            if (e != null) {
                lastOutput = e;
            }
        }
        if (e != null) {
            stat(Stat.hits);
            return e.output(skb);
        }
        MacAddress group = groupAddress(dev, nextHop);
        if (group != null) {
            return transmit(skb, dev, group); // arp_constructor's NUD_NOARP entries: broadcast and multicast need no ARP
        }
        if (!admit()) {
            skb.dev(dev); // the table is full of live entries: the packet cannot wait for resolution
            unreachable(skb);
            return 0;
        }
        NeighEntry created = new NeighEntry(this, dev, nextHop, NudState.INCOMPLETE, null);
        NeighEntry in = insert(new Key(dev.ifindex(), nextHop), created);
        if (in != created) {
            return in.output(skb);
        }
        created.resolve(skb);
        return 0; // queued until resolution, as neigh_resolve_output's 0
    }

    /**
     * The link address of a broadcast or multicast next hop: the device's broadcast for 255.255.255.255
     * and for the broadcast address of one of its subnets, 01:00:5e plus the low 23 bits for 224/4
     * ({@code ip_eth_mc_map}); null for a unicast address, which ARP resolves.
     */
    private static MacAddress groupAddress(NetDevice dev, int nextHop) {
        if ((nextHop & 0xf0000000) == 0xe0000000) {
            return new MacAddress(0x01005e000000L | (nextHop & 0x7fffff));
        }
        if (nextHop == -1) {
            return dev.broadcast();
        }
        for (org.modnet.api.net.IfAddress ifa : dev.addresses()) {
            if (ifa.broadcast() instanceof java.net.Inet4Address b && org.modnet.api.inet.Ipv4Addresses.toInt(b) == nextHop) {
                return dev.broadcast();
            }
        }
        return null;
    }

    /** Adds the Ethernet header and hands the frame to the device's qdisc; returns {@code dev_queue_xmit}'s answer. */
    int transmit(SkBuff skb, NetDevice dev, MacAddress to) {
        int proto = skb.protocol();
        if (!skb.isWritable() && !skb.unshare()) {
            skb.free(); // a clone we may not write and no buffer to copy it into
            return org.modnet.api.sched.Qdisc.NET_XMIT_DROP;
        }
        int h = skb.push(Eth.ETH_HLEN);
        long dst = to.bits();
        long src = dev.address().bits();
        skb.setU16(h, (int) (dst >>> 32));
        skb.setU32(h + 2, (int) dst);
        skb.setU16(h + 6, (int) (src >>> 32));
        skb.setU32(h + 8, (int) src);
        skb.setU16(h + 12, proto);
        skb.resetMacHeader();
        skb.dev(dev);
        return core.devQueueXmitStatus(skb);
    }

    void unreachable(SkBuff skb) {
        NeighbourTable.Unreachable u = unreachable[0];
        if (u != null) {
            u.report(skb);
        } else {
            skb.free();
        }
    }

    /**
     * {@code inetdev_event}'s NETDEV_UP and NETDEV_CHANGEADDR: with {@code arp_notify}, a device that came
     * up or took a new link address announces each of its addresses in a gratuitous request
     * ({@code inetdev_send_gratuitous_arp}), so that neighbours update their caches at once.
     */
    private void linkChanged(RtnlMessage m) {
        NetDevice dev = m.dev();
        if (m.type() != Rtnetlink.RTM_NEWLINK || dev == null || dev.namespace() != ns) {
            return;
        }
        long[] now = { dev.isUp() ? 1 : 0, dev.address().bits() };
        long[] was = linkSeen.replace(dev.ifindex(), now);
        if (was == null || now[0] == 0 || (was[0] == 1 && was[1] == now[1])) {
            return; // unknown to ARP, down, or neither up nor a new address
        }
        if ((dev.flags() & (IfFlags.NOARP | IfFlags.LOOPBACK)) != 0 || conf.get(dev, ArpConf.Key.arp_notify) == 0) {
            return;
        }
        for (org.modnet.api.net.IfAddress ifa : dev.addresses()) {
            if (ifa.address() instanceof java.net.Inet4Address v4) {
                int a = org.modnet.api.inet.Ipv4Addresses.toInt(v4);
                send(dev, ArpHeader.ARPOP_REQUEST, MacAddress.BROADCAST, a, MacAddress.ZERO, a);
            }
        }
    }

    private void closeLinkListener() {
        if (linkListener != null) {
            try {
                linkListener.close();
            } catch (Exception e) {
                // closing a subscription throws nothing
            }
        }
    }

    /** {@code arp_solicit}: a request for {@code target}, broadcast, or unicast to {@code to} when probing. */
    void solicit(NetDevice dev, int target, MacAddress to) {
        solicit(dev, target, to, 0);
    }

    /**
     * {@code arp_solicit} with the source of the packet waiting for the answer ({@code saddr}, 0 for
     * none): {@code arp_announce} 0 names it if it is one of ours, 1 only if it is on a subnet of the
     * device that holds the target, 2 never; otherwise the device's address for the target
     * ({@code inet_select_addr}).
     */
    void solicit(NetDevice dev, int target, MacAddress to, int saddr) {
        int source = switch (conf.get(dev, ArpConf.Key.arp_announce)) {
            case 0 -> saddr != 0 && isLocal(saddr) ? saddr : 0;
            case 1 -> saddr != 0 && isLocal(saddr) && onlink(dev, target, saddr) ? saddr : 0;
            default -> 0;
        };
        if (source == 0) {
            source = org.modnet.api.inet.Ipv4Addresses.select(dev, target, false);
        }
        send(dev, ArpHeader.ARPOP_REQUEST, to == null ? MacAddress.BROADCAST : to, source, MacAddress.ZERO, target);
    }

    private void send(NetDevice dev, int op, MacAddress ethDst, int sip, MacAddress tha, int tip) {
        SkBuff skb = core.pool().alloc(ArpHeader.LEN);
        if (skb == null) {
            return; // no buffer: the timer retries; the pool counts the refusal
        }
        int a = skb.put(ArpHeader.LEN);
        long sha = dev.address().bits();
        skb.setU16(a + ArpHeader.HTYPE, ArpHeader.ARPHRD_ETHER);
        skb.setU16(a + ArpHeader.PTYPE, Eth.ETH_P_IP);
        skb.setU8(a + ArpHeader.HLEN, 6);
        skb.setU8(a + ArpHeader.PLEN, 4);
        skb.setU16(a + ArpHeader.OPER, op);
        skb.setU16(a + ArpHeader.SHA, (int) (sha >>> 32));
        skb.setU32(a + ArpHeader.SHA + 2, (int) sha);
        skb.setU32(a + ArpHeader.SPA, sip);
        skb.setU16(a + ArpHeader.THA, (int) (tha.bits() >>> 32));
        skb.setU32(a + ArpHeader.THA + 2, (int) tha.bits());
        skb.setU32(a + ArpHeader.TPA, tip);
        skb.protocol(Eth.ETH_P_ARP);
        transmit(skb, dev, ethDst);
    }

    // --- input ---

    /** {@code arp_process}: the skb's data is at the ARP header. Takes the skb. */
    void receive(SkBuff skb, NetDevice dev) {
        try {
            process(skb, dev);
        } finally {
            skb.free();
        }
    }

    private void process(SkBuff skb, NetDevice dev) {
        int a = skb.data();
        if (skb.headLen() < ArpHeader.LEN || skb.getU16(a + ArpHeader.HTYPE) != ArpHeader.ARPHRD_ETHER
                || skb.getU16(a + ArpHeader.PTYPE) != Eth.ETH_P_IP || skb.getU8(a + ArpHeader.HLEN) != 6
                || skb.getU8(a + ArpHeader.PLEN) != 4 || (dev.flags() & (IfFlags.NOARP | IfFlags.LOOPBACK)) != 0) {
            stat(Stat.rcv_malformed);
            return;
        }
        int op = skb.getU16(a + ArpHeader.OPER);
        if (op != ArpHeader.ARPOP_REQUEST && op != ArpHeader.ARPOP_REPLY) {
            stat(Stat.rcv_malformed);
            return;
        }
        MacAddress sha = new MacAddress(((long) skb.getU16(a + ArpHeader.SHA) << 32) | (skb.getU32(a + ArpHeader.SHA + 2) & 0xffffffffL));
        int sip = skb.getU32(a + ArpHeader.SPA);
        int tip = skb.getU32(a + ArpHeader.TPA);
        if (sha.isMulticast() || (sip >>> 24) == 127 || (sip & 0xf0000000) == 0xe0000000) {
            stat(Stat.rcv_malformed); // no neighbour has a multicast, loopback or class D address
            return;
        }
        if (sip == tip && conf.get(dev, ArpConf.Key.drop_gratuitous_arp) != 0) {
            stat(Stat.rcv_garp_dropped); // 802.11 proxies: a gratuitous ARP is an attack there
            return;
        }
        boolean forUs = isLocal(tip);
        if (op == ArpHeader.ARPOP_REQUEST && forUs) {
            stat(skb.pktType() == PktType.HOST ? Stat.rcv_probes_ucast : Stat.rcv_probes_mcast);
            boolean dontSend = arpIgnore(dev, sip, tip);
            if (!dontSend && sip != 0 && conf.get(dev, ArpConf.Key.arp_filter) != 0) {
                dontSend = arpFilter(dev, sip);
            }
            if (dontSend) {
                return;
            }
            if (sip != 0) {
                learn(dev, sip, sha, NudState.STALE, true, true); // neigh_event_ns: the asker is a neighbour, STALE
            }
            send(dev, ArpHeader.ARPOP_REPLY, sha, tip, sha, sip);
            return;
        }
        if (sip == 0) {
            return; // duplicate address detection probe of another host
        }
        if (op == ArpHeader.ARPOP_REQUEST && proxies(dev, tip)) {
            // arp_fwd_proxy: we route toward tip by another device, so we answer for it (Linux delays an
            // answer to a broadcast request by up to proxy_delay; modnet answers at once)
            learn(dev, sip, sha, NudState.STALE, true, true);
            stat(Stat.proxy_replies);
            send(dev, ArpHeader.ARPOP_REPLY, sha, tip, sha, sip);
            return;
        }
        // a reply to us confirms; other ARP (gratuitous, requests for others) only updates what we know
        boolean solicited = op == ArpHeader.ARPOP_REPLY && skb.pktType() == PktType.HOST && forUs;
        // arp_is_garp: a gratuitous ARP announces a move and overrides locktime
        boolean garp = tip == sip && (op == ArpHeader.ARPOP_REQUEST || tha(skb, a) == 0 || tha(skb, a) == sha.bits());
        // arp_accept: unsolicited ARP (a gratuitous one, or a reply from a unicast address) may create an entry
        boolean create = (garp || (op == ArpHeader.ARPOP_REPLY && !isLocal(sip))) && arpAccept(dev, sip);
        learn(dev, sip, sha, solicited ? NudState.REACHABLE : NudState.STALE, create, garp);
    }

    /**
     * {@code arp_ignore}: whether a request for our {@code tip} goes unanswered. 1: unless the device that
     * got it has tip; 2: unless it has tip on a subnet that holds the asker; 3: unless tip's scope is
     * more than host; 8: never answer; others (4-7, reserved): answer.
     */
    private boolean arpIgnore(NetDevice dev, int sip, int tip) {
        return switch (conf.get(dev, ArpConf.Key.arp_ignore)) {
            case 1 -> !confirm(dev, 0, tip, false);
            case 2 -> !confirm(dev, sip, tip, false);
            case 3 -> !confirmAnywhere(tip);
            case 8 -> true;
            default -> false;
        };
    }

    /** {@code confirm_addr_indev}: {@code dev} has {@code local} (of scope link or wider unless host), on a subnet holding {@code dst} if not 0. */
    private static boolean confirm(NetDevice dev, int dst, int local, boolean linkScopeOnly) {
        for (org.modnet.api.net.IfAddress ifa : dev.addresses()) {
            if (!(ifa.address() instanceof java.net.Inet4Address v4) || (linkScopeOnly && "host".equals(ifa.scope()))) {
                continue;
            }
            int addr = org.modnet.api.inet.Ipv4Addresses.toInt(v4);
            int mask = ifa.prefixLen() == 0 ? 0 : -1 << (32 - ifa.prefixLen());
            if ((local == 0 || local == addr) && (dst == 0 || ((dst ^ addr) & mask) == 0)) {
                return true;
            }
        }
        return false;
    }

    /** arp_ignore 3: some device has tip with a scope wider than host. */
    private boolean confirmAnywhere(int tip) {
        for (NetDevice d : ns.devices()) {
            if (confirm(d, 0, tip, true)) {
                return true;
            }
        }
        return false;
    }

    /** {@code inet_addr_onlink}: one of the device's subnets holds both addresses. */
    private static boolean onlink(NetDevice dev, int a, int b) {
        for (org.modnet.api.net.IfAddress ifa : dev.addresses()) {
            if (ifa.address() instanceof java.net.Inet4Address v4) {
                int addr = org.modnet.api.inet.Ipv4Addresses.toInt(v4);
                int mask = ifa.prefixLen() == 0 ? 0 : -1 << (32 - ifa.prefixLen());
                if (((a ^ addr) & mask) == 0 && ((b ^ addr) & mask) == 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code arp_filter}: the route back to the asker leaves by another device (or there is none): no answer. */
    private boolean arpFilter(NetDevice dev, int sip) {
        org.modnet.api.inet.RouteEntry r = inet.route(ns, sip);
        if (r == null) {
            return true;
        }
        if (r.dev() != dev) {
            stat(Stat.arp_filter);
            return true;
        }
        return false;
    }

    /** {@code arp_accept}: 0 no unsolicited entries, 1 yes, 2 only for an asker on one of the device's subnets. */
    private boolean arpAccept(NetDevice dev, int sip) {
        return switch (conf.get(dev, ArpConf.Key.arp_accept)) {
            case 1 -> true;
            case 2 -> confirm(dev, sip, 0, true);
            default -> false;
        };
    }

    /** {@code arp_fwd_proxy} under {@code IN_DEV_FORWARD}: proxy_arp is on and tip is routed out of another device. */
    private boolean proxies(NetDevice dev, int tip) {
        if (conf.get(dev, ArpConf.Key.proxy_arp) == 0 || !inet.forwarding(dev)) {
            return false;
        }
        org.modnet.api.inet.RouteEntry r = inet.route(ns, tip);
        return r != null && "unicast".equals(r.type()) && r.dev() != null && r.dev() != dev;
    }

    private static long tha(SkBuff skb, int a) {
        return ((long) skb.getU16(a + ArpHeader.THA) << 32) | (skb.getU32(a + ArpHeader.THA + 2) & 0xffffffffL);
    }

    /**
     * What ARP learns of {@code address}: a new entry only when {@code create} (a request for us), and
     * then within the table's bound; an existing one is updated, its address overridden when
     * {@code override} or once {@code locktime} has passed since its last change.
     */
    private void learn(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean create, boolean override) {
        Key key = new Key(dev.ifindex(), address);
        NeighEntry e = entries.get(key);
        if (e == null) {
            if (!create || !admit()) {
                return; // arp_accept=0: unsolicited ARP creates no entry; a full table none either
            }
            e = insert(key, new NeighEntry(this, dev, address, NudState.STALE, lladdr));
            if (state == NudState.STALE) {
                notify(e, Rtnetlink.RTM_NEWNEIGH); // arp_process's neigh_update of the new entry; the update below changes nothing
            }
        }
        e.update(lladdr, state, override || e.pastLocktime(now()));
    }

    private boolean isLocal(int address) {
        LocalAddresses l = local;
        long generation = ns.addressGeneration();
        if (l.generation != generation) {
            l = new LocalAddresses(generation, org.modnet.api.inet.Ipv4Addresses.local(ns));
            local = l;
        }
        return Arrays.binarySearch(l.sorted, address) >= 0;
    }

    // --- administration ---

    /** The entry's view, or null: no entry made, no resolution started. */
    Neighbour lookup(NetDevice dev, int address) {
        NeighEntry e = entries.get(new Key(dev.ifindex(), address));
        return e == null ? null : e.view();
    }

    List<Neighbour> entries() {
        List<Neighbour> all = new ArrayList<>();
        for (NeighEntry e : entries.values()) {
            all.add(e.view());
        }
        all.sort((x, y) -> x.dev().ifindex() != y.dev().ifindex() ? Integer.compare(x.dev().ifindex(), y.dev().ifindex())
                : Integer.compareUnsigned(x.address(), y.address()));
        return all;
    }

    void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) throws NetException {
        Key key = new Key(dev.ifindex(), address);
        NeighEntry e = entries.get(key);
        if (e != null && !replace) {
            throw new NetException(Errno.EEXIST);
        }
        if (e == null) {
            if (state != NudState.PERMANENT && !admit()) {
                throw new NetException(Errno.ENOBUFS); // neigh_alloc refused: "No buffer space available"
            }
            e = insert(key, new NeighEntry(this, dev, address, state, lladdr));
        }
        boolean wasExempt = e.exempt();
        e.set(lladdr, state);
        if (wasExempt != e.exempt()) {
            gcEntries.addAndGet(wasExempt ? 1 : -1);
        }
    }

    void delete(NetDevice dev, int address) throws NetException {
        NeighEntry e = entries.get(new Key(dev.ifindex(), address));
        if (e == null) {
            throw new NetException(Errno.ENOENT);
        }
        boolean listening = ns.rtnlListening(Rtnetlink.RTNLGRP_NEIGH);
        Neighbour failed = null;
        if (listening) {
            // neigh_delete: the entry is first updated to FAILED (its address forgotten), then removed
            Neighbour v = e.view();
            failed = new Neighbour(v.address(), v.dev(), null, NudState.FAILED, v.usedMs(), v.confirmedMs(), 0, v.probes(), 0,
                    v.refcnt());
            ns.rtnlNotify(new RtnlMessage(Rtnetlink.RTM_NEWNEIGH, dev, failed));
        }
        if (!remove(e, false)) {
            throw new NetException(Errno.ENOENT);
        }
        if (listening) {
            ns.rtnlNotify(new RtnlMessage(Rtnetlink.RTM_DELNEIGH, dev, failed));
        }
    }

    int flush(NetDevice devOrNull) {
        int n = 0;
        for (NeighEntry e : entries.values()) {
            if ((devOrNull == null || e.dev == devOrNull) && e.state() != NudState.PERMANENT && remove(e)) {
                n++;
            }
        }
        return n;
    }

    /** Takes the entry out of the table; false if it was gone already. */
    boolean remove(NeighEntry e) {
        return remove(e, true);
    }

    private boolean remove(NeighEntry e, boolean notify) {
        if (!entries.remove(new Key(e.dev.ifindex(), e.address), e)) {
            return false;
        }
        stat(Stat.destroys);
        if (!e.exempt()) {
            gcEntries.decrementAndGet();
        }
        e.kill();
        if (notify) {
            notify(e, Rtnetlink.RTM_DELNEIGH);
        }
        return true;
    }

    /**
     * Leaving for an update: every entry as the hand-over carries it, and the table's statistics. The
     * table keeps serving until {@link #retire}: IPv4 may still send through this version for a moment
     * after the core has taken the namespace from it. Packets waiting for a resolution are not carried
     * ({@code dropped}: they are freed and counted at retire, and the next version counts them too).
     */
    org.modnet.api.handover.NamespaceState export() {
        List<org.modnet.api.handover.NeighbourState> all = new ArrayList<>();
        long queued = 0;
        for (NeighEntry e : entries.values()) {
            org.modnet.api.handover.NeighbourState st = e.handOver();
            queued += st.view().queued();
            all.add(st);
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Stat st : Stat.values()) {
            counters.put(st.name(), stats.get(st.ordinal()));
        }
        Map<String, String> sysctls = new LinkedHashMap<>();
        for (Map.Entry<String, String> s : ns.sysctl().all().entrySet()) { // a loop: the old version's first deposit runs this
            if (s.getKey().startsWith(NeighParams.PREFIX)) {
                sysctls.put(s.getKey(), s.getValue());
            }
        }
        return new org.modnet.api.handover.NamespaceState(ns, sysctls, counters, List.of(), all,
                Map.of(Stat.unresolved_discards.name(), queued));
    }

    /** The old version is gone: timers stop and waiting packets are freed; the sysctls stay for the next version. */
    void retire() {
        closeLinkListener();
        periodic.del();
        for (NeighEntry e : entries.values()) {
            remove(e);
        }
        devParms.clear();
    }

    /**
     * The new version's side: the statistics continue, the devices' parameter sets are made, and every entry comes back with its timer. Returns
     * the entries not restored (their device left meanwhile, or the table is full).
     */
    int adopt(org.modnet.api.handover.NamespaceState st) {
        for (Stat s : Stat.values()) {
            Long v = st.counters().get(s.name());
            if (v != null) {
                stats.addAndGet(s.ordinal(), v);
            }
        }
        Long dropped = st.dropped().get(Stat.unresolved_discards.name());
        if (dropped != null) {
            stats.addAndGet(Stat.unresolved_discards.ordinal(), dropped); // the packets that waited in the old entries
        }
        for (NetDevice dev : ns.devices()) {
            deviceUp(dev);
        }
        int lost = 0;
        for (org.modnet.api.handover.NeighbourState n : st.neighbours()) {
            NetDevice dev = n.view().dev();
            if (dev == null || ns.device(dev.ifindex()) != dev) {
                lost++;
                continue;
            }
            NeighEntry e = NeighEntry.adopt(this, n);
            Key key = new Key(dev.ifindex(), n.view().address());
            if (entries.putIfAbsent(key, e) != null) {
                e.kill();
                lost++;
                continue;
            }
            if (!e.exempt()) {
                gcEntries.incrementAndGet();
            }
        }
        return lost;
    }

    /** The namespace goes: its entries, its periodic work and its device directories go with it. */
    void clear() {
        closeLinkListener();
        periodic.del();
        for (NeighEntry e : entries.values()) {
            remove(e);
        }
        devParms.clear();
    }
}

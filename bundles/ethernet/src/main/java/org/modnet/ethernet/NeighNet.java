package org.modnet.ethernet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
import org.modnet.api.net.Timer;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's ARP table and ARP protocol ({@code arp_tbl} + {@code arp_process}): entries keyed by
 * device and address, bounded by {@code gc_thresh3}, and the statistics of
 * {@code /proc/net/stat/arp_cache}.
 */
final class NeighNet {
    enum Stat {
        allocs, destroys, lookups, hits, res_failed, rcv_probes_mcast, rcv_probes_ucast, unresolved_discards,
        table_fulls, rcv_malformed
    }

    private record Key(int ifindex, int address) {
    }

    final NetNamespace ns;
    final NeighParams params;
    private final NetCore core;
    private final NeighbourTable.Unreachable[] unreachable;
    private final Map<Key, NeighEntry> entries = new ConcurrentHashMap<>();
    private final AtomicLongArray stats = new AtomicLongArray(Stat.values().length);
    private volatile LocalAddresses local = new LocalAddresses(-1, new int[0]);

    private record LocalAddresses(long generation, int[] sorted) {
    }

    NeighNet(NetNamespace ns, NetCore core, NeighbourTable.Unreachable[] unreachable) {
        this.ns = ns;
        this.core = core;
        this.unreachable = unreachable;
        this.params = new NeighParams(ns.sysctl());
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

    Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("entries", (long) entries.size());
        for (Stat s : Stat.values()) {
            m.put(s.name(), stats.get(s.ordinal()));
        }
        return m;
    }

    // --- output ---

    void output(SkBuff skb, NetDevice dev, int nextHop) {
        if ((dev.flags() & (IfFlags.NOARP | IfFlags.LOOPBACK)) != 0) {
            transmit(skb, dev, dev.broadcast().bits() == 0 ? MacAddress.ZERO : dev.broadcast());
            return;
        }
        stat(Stat.lookups);
        Key key = new Key(dev.ifindex(), nextHop);
        NeighEntry e = entries.get(key);
        if (e != null) {
            stat(Stat.hits);
            e.output(skb);
            return;
        }
        MacAddress group = groupAddress(dev, nextHop);
        if (group != null) {
            transmit(skb, dev, group); // arp_constructor's NUD_NOARP entries: broadcast and multicast need no ARP
            return;
        }
        if (entries.size() >= params.gcThresh3.get()) {
            stat(Stat.table_fulls); // the table is full: the packet cannot wait for resolution
            skb.dev(dev);
            unreachable(skb);
            return;
        }
        NeighEntry created = new NeighEntry(this, dev, nextHop, NudState.INCOMPLETE, null);
        NeighEntry raced = entries.putIfAbsent(key, created);
        if (raced != null) {
            raced.output(skb);
            return;
        }
        stat(Stat.allocs);
        created.resolve(skb);
    }

    /** Adds the Ethernet header and hands the frame to the device's qdisc. */
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

    void transmit(SkBuff skb, NetDevice dev, MacAddress to) {
        int proto = skb.protocol();
        if (!skb.isWritable() && !skb.unshare()) {
            skb.free(); // a clone we may not write and no buffer to copy it into
            return;
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
        core.devQueueXmit(skb);
    }

    void unreachable(SkBuff skb) {
        NeighbourTable.Unreachable u = unreachable[0];
        if (u != null) {
            u.report(skb);
        } else {
            skb.free();
        }
    }

    /** {@code arp_solicit}: a request for {@code target}, broadcast, or unicast to {@code to} when probing. */
    void solicit(NetDevice dev, int target, MacAddress to) {
        int source = org.modnet.api.inet.Ipv4Addresses.select(dev, target, false);
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
        boolean forUs = isLocal(tip);
        if (op == ArpHeader.ARPOP_REQUEST && forUs) {
            stat(skb.pktType() == PktType.HOST ? Stat.rcv_probes_ucast : Stat.rcv_probes_mcast);
            if (sip != 0) {
                learn(dev, sip, sha, false, true); // neigh_event_ns: the asker is a neighbour, STALE
            }
            send(dev, ArpHeader.ARPOP_REPLY, sha, tip, sha, sip);
            return;
        }
        if (sip == 0) {
            return; // duplicate address detection probe of another host
        }
        // a reply to us confirms; other ARP (gratuitous, requests for others) only updates what we know
        boolean solicited = op == ArpHeader.ARPOP_REPLY && skb.pktType() == PktType.HOST && forUs;
        learn(dev, sip, sha, solicited, false);
    }

    private void learn(NetDevice dev, int address, MacAddress lladdr, boolean solicited, boolean create) {
        Key key = new Key(dev.ifindex(), address);
        NeighEntry e = entries.get(key);
        if (e == null) {
            if (!create) {
                return; // arp_accept=0: unsolicited ARP creates no entry
            }
            if (entries.size() >= params.gcThresh3.get()) {
                stat(Stat.table_fulls); // neigh_alloc's refusal above gc_thresh3
                return;
            }
            e = new NeighEntry(this, dev, address, NudState.STALE, lladdr);
            NeighEntry raced = entries.putIfAbsent(key, e);
            if (raced != null) {
                e = raced;
            } else {
                stat(Stat.allocs);
            }
        }
        e.update(lladdr, solicited);
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
            e = new NeighEntry(this, dev, address, state, lladdr);
            NeighEntry raced = entries.putIfAbsent(key, e);
            if (raced != null) {
                e = raced;
            } else {
                stat(Stat.allocs);
            }
        }
        e.set(lladdr, state);
    }

    void delete(NetDevice dev, int address) throws NetException {
        NeighEntry e = entries.remove(new Key(dev.ifindex(), address));
        if (e == null) {
            throw new NetException(Errno.ENOENT);
        }
        stat(Stat.destroys);
        e.kill();
    }

    int flush(NetDevice devOrNull) {
        int n = 0;
        for (NeighEntry e : entries.values()) {
            if ((devOrNull == null || e.dev == devOrNull) && e.state() != NudState.PERMANENT && entries.remove(new Key(e.dev.ifindex(), e.address), e)) {
                stat(Stat.destroys);
                e.kill();
                n++;
            }
        }
        return n;
    }

    void remove(NeighEntry e) {
        if (entries.remove(new Key(e.dev.ifindex(), e.address), e)) {
            stat(Stat.destroys);
            e.kill();
        }
    }

    /** The namespace goes, or a device: its entries go with it. */
    void clear() {
        for (NeighEntry e : entries.values()) {
            remove(e);
        }
    }
}

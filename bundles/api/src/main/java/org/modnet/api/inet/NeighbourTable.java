package org.modnet.api.inet;

import java.util.List;
import java.util.Map;

import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * The IPv4 neighbour table ({@code arp_tbl}, {@code net/core/neighbour.c}): resolves next hops to
 * link-layer addresses with ARP, per namespace. A service of the ethernet bundle.
 */
public interface NeighbourTable {

    /** What the IP layer hears back when resolution fails for a packet it queued ({@code neigh->ops->error_report}). */
    @FunctionalInterface
    interface Unreachable {
        /** The packet (data at its IP header) could not be sent: send ICMP host unreachable for it, then free it. */
        void report(SkBuff skb);
    }

    /**
     * {@code neigh_output}: sends the packet (data at its network header, protocol set) to
     * {@code nextHop} on {@code dev}, adding the Ethernet header, or queues it until ARP resolves the
     * next hop. Takes the skb.
     */
    void output(SkBuff skb, NetDevice dev, int nextHop);

    /**
     * {@link #output} with {@code neigh_output}'s answer: {@code dev_queue_xmit}'s ({@code NET_XMIT_DROP}
     * when a full qdisc refused the frame), or 0 when the packet waits for resolution.
     */
    default int outputStatus(SkBuff skb, NetDevice dev, int nextHop) {
        output(skb, dev, nextHop);
        return 0;
    }

    /** Who hears of packets dropped because resolution failed (the IPv4 layer sets itself). */
    void setUnreachable(Unreachable handler);

    /** Every entry of the namespace, as {@code ip neigh show} lists them. */
    List<Neighbour> entries(NetNamespace ns);

    /**
     * The entry for {@code address} on {@code dev}, or null — a look that neither creates an entry nor
     * starts resolution ({@code __ipv4_neigh_lookup_noref}, what {@code bpf_fib_lookup} uses).
     */
    default Neighbour lookup(NetDevice dev, int address) {
        for (Neighbour n : entries(dev.namespace())) {
            if (n.dev() == dev && n.address() == address) {
                return n;
            }
        }
        return null;
    }

    /** {@code ip neigh add|replace}: a PERMANENT (or given) entry; EEXIST on add of an existing one. */
    void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) throws NetException;

    /** {@code ip neigh del}: ENOENT if there is none. */
    void delete(NetDevice dev, int address) throws NetException;

    /** {@code ip neigh flush [dev DEV]}: removes non-permanent entries; returns how many. */
    int flush(NetNamespace ns, NetDevice devOrNull);

    /**
     * The table's statistics in {@code /proc/net/stat/arp_cache}'s names and order: entries, allocs,
     * destroys, hash_grows, lookups, hits, res_failed, rcv_probes_mcast, rcv_probes_ucast,
     * periodic_gc_runs, forced_gc_runs, unresolved_discards, table_fulls (then modnet's own counters).
     */
    Map<String, Long> stats(NetNamespace ns);
}

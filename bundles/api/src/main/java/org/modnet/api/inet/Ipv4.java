package org.modnet.api.inet;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * What IPv4 offers the transport protocols above it, registered as a service by the IPv4 layer:
 * {@code ip_route_output}, {@code ip_queue_xmit}, {@code inet_addr_type} and {@code icmp_send}.
 */
public interface Ipv4 {
    /** How an address is known in a namespace, {@code inet_addr_type}'s answer. */
    enum AddressType {
        /** One of the namespace's own addresses (or 127/8). */
        LOCAL,
        /** 255.255.255.255 or a directed broadcast of one of its subnets. */
        BROADCAST,
        MULTICAST,
        UNICAST,
        /** 0.0.0.0. */
        ANY
    }

    /**
     * A route for output: the device, the source address a socket bound to 0.0.0.0 uses, or the errno
     * the sender sees ({@code ENETUNREACH}, {@code EHOSTUNREACH}, {@code EACCES}, ...).
     */
    record OutputRoute(NetDevice device, int source, Errno error) {
    }

    /** {@code ip_route_output_key} for {@code daddr} in {@code ns}; IPv4 absent from it is ENETUNREACH. */
    OutputRoute route(NetNamespace ns, int daddr);

    /**
     * {@code ip_route_output_key} for a flow from {@code saddr} (0: any) carrying {@code mark}
     * (SO_MARK): what the routing rules ({@code ip rule from, fwmark}) see. @since 1.8
     */
    default OutputRoute route(NetNamespace ns, int daddr, int saddr, int mark) {
        return route(ns, daddr);
    }

    /**
     * The {@code RTAX_FEATURES} of the route a flow from {@code saddr} (0: any) with {@code mark} to {@code
     * daddr} takes ({@code dst_feature}): {@link RouteEntry#RTAX_FEATURE_ECN}; 0 with no route, for a
     * local destination, or from an IPv4 without route features. @since 1.12
     */
    default int routeFeatures(NetNamespace ns, int daddr, int saddr, int mark) {
        return 0;
    }

    /**
     * Sends the skb's data as the payload of an IPv4 packet: header, netfilter's LOCAL_OUT and
     * POST_ROUTING, neighbour output, fragments where the MTU asks. {@code saddr} 0 takes the route's
     * source, {@code ttl} 0 the namespace's {@code ip_default_ttl}. Leave 64 bytes of headroom.
     * Returns null when sent, else the errno (the skb is freed either way).
     */
    Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos);

    /**
     * {@link #send(NetNamespace, SkBuff, int, int, int, int, int)} with DF set in the header when
     * {@code dontFragment} ({@code ip_dont_fragment}: the socket's IP_MTU_DISCOVER asks for path MTU
     * discovery). A datagram larger than the route's MTU is still sent in fragments, which carry no DF.
     * An IPv4 that cannot set DF sends it without. @since 1.5
     */
    default Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos,
            boolean dontFragment) {
        return send(ns, skb, saddr, daddr, protocol, ttl, tos);
    }

    AddressType addressType(NetNamespace ns, int addr);

    /**
     * {@code dst_mtu} of the route toward {@code daddr}: the device's MTU, or the smaller path MTU an
     * ICMP "fragmentation needed" taught; 0 without a route. What IP_MTU reads and what an
     * IP_PMTUDISC_DO socket may not exceed. @since 1.7
     */
    default int pathMtu(NetNamespace ns, int daddr) {
        OutputRoute r = route(ns, daddr);
        return r.error() == null && r.device() != null ? r.device().mtu() : 0;
    }

    /**
     * {@code icmp_send}: an ICMP error about a received packet (its network header set) to its sender,
     * rate-limited as the namespace's sysctls say. The skb stays the caller's.
     */
    void sendIcmpError(SkBuff skb, int type, int code, int info);

    /** {@code net.ipv4.ip_local_port_range} of the namespace: {low, high}. */
    int[] localPortRange(NetNamespace ns);

    /** {@code net.ipv4.ip_forward} of the namespace is on: read per packet, as forwarding reads it. */
    default boolean forwarding(NetNamespace ns) {
        try {
            return "1".equals(ns.sysctl().get("net.ipv4.ip_forward"));
        } catch (org.modnet.api.net.NetException e) {
            return false;
        }
    }

    /**
     * {@code IN_DEV_FORWARD}: {@code net.ipv4.conf.DEV.forwarding} of the device a packet came in on
     * (the device's own value; {@code all.forwarding} is copied into it when written). @since 1.8
     */
    default boolean forwarding(NetDevice in) {
        return forwarding(in.namespace());
    }

    /** {@code net.ipv4.ip_nonlocal_bind}: a socket may bind an address the namespace does not have. @since 1.8 */
    default boolean nonlocalBind(NetNamespace ns) {
        return false;
    }

    /**
     * {@code inet_is_local_reserved_port}: {@code net.ipv4.ip_local_reserved_ports} holds the port, so an
     * ephemeral port choice skips it (an explicit bind may still take it). @since 1.8
     */
    default boolean reservedPort(NetNamespace ns, int port) {
        return false;
    }

    /**
     * {@code nf_reinject} with {@code NF_ACCEPT}: a packet a hook function {@code from} queued (the QUEUE
     * verdict) and user space accepted goes on through the hook's functions after {@code from} and then
     * along the path from that hook. A packet whose function is gone (updated, unregistered) is dropped.
     * Without this layer's support it is freed. @since 1.10
     */
    default void nfReinject(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.netfilter.NfHookFunction from,
            NetNamespace ns, org.modnet.api.net.NetDevice in, org.modnet.api.net.NetDevice out) {
        skb.free();
    }

    /**
     * {@code nf_reinject} with user space's verdict: ACCEPT as {@link #nfReinject(SkBuff,
     * org.modnet.api.netfilter.NfHook, org.modnet.api.netfilter.NfHookFunction, NetNamespace,
     * org.modnet.api.net.NetDevice, org.modnet.api.net.NetDevice)}; REPEAT runs {@code from} again first; STOP
     * skips the hook's later functions and goes on along the path; any other verdict frees the packet.
     * @since 1.11
     */
    default void nfReinject(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.netfilter.NfHookFunction from,
            NetNamespace ns, org.modnet.api.net.NetDevice in, org.modnet.api.net.NetDevice out,
            org.modnet.api.netfilter.Verdict verdict) {
        if (verdict == org.modnet.api.netfilter.Verdict.ACCEPT) {
            nfReinject(skb, hook, from, ns, in, out);
        } else {
            skb.free();
        }
    }

    /** {@code IP_DEFRAG_LOCAL_DELIVER}: the queue {@code ip_local_deliver} reassembles in. @since 1.13 */
    int IP_DEFRAG_LOCAL_DELIVER = 0;
    /** {@code IP_DEFRAG_CONNTRACK_IN}: conntrack's queues at PRE_ROUTING, one per zone (this plus the zone). @since 1.13 */
    int IP_DEFRAG_CONNTRACK_IN = 2;
    /** {@code IP_DEFRAG_CONNTRACK_OUT}: conntrack's queues at LOCAL_OUT, one per zone (this plus the zone). @since 1.13 */
    int IP_DEFRAG_CONNTRACK_OUT = IP_DEFRAG_CONNTRACK_IN + 65536;

    /**
     * {@code ip_defrag} for netfilter ({@code nf_defrag_ipv4}): takes a fragment (data at its IP header)
     * into the namespace's reassembly queue of {@code user} (queues are kept apart by user as by source,
     * destination, id and protocol; the namespace's {@code ipfrag_*} sysctls and its Reasm counters apply)
     * and returns the whole datagram when it completed it (a new skb, data at its IP header,
     * {@link SkBuff#fragMaxSize()} the largest fragment's size), or null while it waits (the fragment is
     * the queue's now) or when it was dropped and counted. A packet that is not a fragment comes back as
     * it is, and so does every packet without this layer's support. @since 1.13
     */
    default SkBuff defrag(NetNamespace ns, SkBuff skb, int user) {
        return skb;
    }
}

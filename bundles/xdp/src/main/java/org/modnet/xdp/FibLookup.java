package org.modnet.xdp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.modnet.api.inet.Ipv4;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.BpfMemory;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code bpf_fib_lookup} for XDP ({@code bpf_ipv4_fib_lookup} in {@code net/core/filter.c}): an XDP
 * program asks the receiving namespace's IPv4 routing and neighbour tables where a packet would be
 * forwarded — the egress ifindex, the next hop's and the device's MAC addresses — so it can rewrite the
 * Ethernet header and redirect the frame itself. It answers as the kernel does: forwarding disabled,
 * reject routes (blackhole, unreachable, prohibit), destinations not forwarded (local, broadcast,
 * no route), a packet larger than the egress MTU, a next hop without a valid neighbour entry each
 * have their {@code BPF_FIB_LKUP_RET_*} code. Without the IPv4 bundle nothing is forwarded.
 */
@Component(service = FibLookup.class, immediate = true)
public final class FibLookup {
    public static final int SUCCESS = 0;
    public static final int BLACKHOLE = 1;
    public static final int UNREACHABLE = 2;
    public static final int PROHIBIT = 3;
    public static final int NOT_FWDED = 4;
    public static final int FWD_DISABLED = 5;
    public static final int NO_NEIGH = 7;
    public static final int FRAG_NEEDED = 8;
    public static final int NO_SRC_ADDR = 9;
    /** {@code BPF_FIB_LOOKUP_*} flags. */
    public static final long DIRECT = 1;
    public static final long OUTPUT = 2;
    public static final long SKIP_NEIGH = 4;
    public static final long TBID = 8;
    public static final long SRC = 16;
    /** {@code sizeof(struct bpf_fib_lookup)}. */
    public static final int SIZE = 64;
    private static final int AF_INET = 2;

    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile RouteTable routes;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NeighbourTable neighbours;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Ipv4 ipv4;

    public FibLookup() {
    }

    /** Outside OSGi (tests, benchmarks): the tables given. */
    public FibLookup(RouteTable routes, NeighbourTable neighbours, Ipv4 ipv4) {
        this.routes = routes;
        this.neighbours = neighbours;
        this.ipv4 = ipv4;
    }

    /** The helpers this runtime adds to the ebpf bundle's XDP set: this one. */
    public Helpers helpers() {
        Helpers h = new Helpers();
        h.register(HelperProtos.FIB_LOOKUP, "bpf_fib_lookup", (r1, r2, r3, r4, r5, m) -> lookup(m, r2, r3, r4));
        return h;
    }

    /** {@code bpf_fib_lookup(ctx, params, plen, flags)}: a {@code BPF_FIB_LKUP_RET_*} code, or a negative errno. */
    long lookup(BpfMemory m, long params, long plen, long flags) {
        if (plen < SIZE) {
            return -Errno.EINVAL.number();
        }
        if ((flags & ~(DIRECT | OUTPUT | SKIP_NEIGH | TBID | SRC)) != 0) {
            return -Errno.EINVAL.number();
        }
        MemorySegment p = m.regionOf(params, SIZE, true);
        if (p == null) {
            throw new BpfFault("bpf_fib_lookup: the parameters are outside the program's writable memory");
        }
        long o = params & 0xffffffffL;
        if (p.get(ValueLayout.JAVA_BYTE, o) != AF_INET) {
            return -Errno.EAFNOSUPPORT.number();
        }
        if (!(m.device() instanceof NetDevice rx)) {
            return -Errno.ENODEV.number();
        }
        NetNamespace ns = rx.namespace();
        if (ns.device(p.get(LE32, o + 8)) == null) {
            return -Errno.ENODEV.number();
        }
        RouteTable rt = routes;
        Ipv4 ip = ipv4;
        if (rt == null || ip == null) {
            return NOT_FWDED; // no IPv4 here: nothing is forwarded
        }
        if ((flags & OUTPUT) == 0 && !ip.forwarding(ns)) {
            return FWD_DISABLED;
        }
        int dst = p.get(BE32, o + 32);
        if (ip.addressType(ns, dst) != Ipv4.AddressType.UNICAST) {
            return NOT_FWDED; // ours, broadcast, multicast: not forwarded
        }
        RouteEntry route = rt.lookup(ns, dst); // one walk of the FIB, nothing allocated
        if (route == null) {
            return NOT_FWDED;
        }
        switch (route.type()) {
            case "unicast" -> {
            }
            case "blackhole" -> {
                return BLACKHOLE;
            }
            case "unreachable" -> {
                return UNREACHABLE;
            }
            case "prohibit" -> {
                return PROHIBIT;
            }
            default -> {
                return NOT_FWDED;
            }
        }
        NetDevice out = route.dev();
        if (out == null || !out.isUp()) {
            return NOT_FWDED;
        }
        int nextHop = route.gateway() != 0 ? route.gateway() : dst;
        int mtu = out.mtu();
        if (Short.toUnsignedInt(p.get(LE16, o + 6)) > mtu) {
            p.set(LE16, o + 6, (short) mtu);
            return FRAG_NEEDED;
        }
        if ((flags & SRC) != 0) {
            int src = route.src() != 0 ? route.src() : Ipv4Addresses.select(out, nextHop, true);
            if (src == 0) {
                return NO_SRC_ADDR;
            }
            p.set(BE32, o + 16, src);
        }
        p.set(LE32, o + 12, route.metric());
        p.set(LE32, o + 8, out.ifindex());
        p.set(BE32, o + 32, nextHop); // the gateway, when there is one, replaces the destination
        if ((flags & SKIP_NEIGH) == 0) {
            NeighbourTable nt = neighbours;
            Neighbour n = nt == null ? null : nt.lookup(out, nextHop);
            if (n == null || !valid(n.state()) || n.lladdr() == null) {
                return NO_NEIGH;
            }
            putMac(p, o + 58, n.lladdr());
            putMac(p, o + 52, out.address());
        }
        p.set(LE32, o + 48, 0); // no VLAN
        p.set(LE16, o + 6, (short) mtu);
        return SUCCESS;
    }

    private static void putMac(MemorySegment p, long at, org.modnet.api.net.MacAddress mac) {
        long bits = mac.bits();
        p.set(BE16, at, (short) (bits >>> 32));
        p.set(BE32, at + 2, (int) bits);
    }

    /** {@code NUD_VALID}: an address that can be used now. */
    private static boolean valid(NudState s) {
        return switch (s) {
            case REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP -> true;
            default -> false;
        };
    }
}

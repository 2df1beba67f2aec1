package org.modnet.ipv4;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.Errno;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.net.NetCore;
import org.osgi.service.component.annotations.Activate;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * IPv4 in the stack: the handler of ethertype 0x0800 ({@code ip_packet_type}), IPv4's per-namespace
 * state ({@code ipv4_mib_ops}), the transport protocols registered by number
 * ({@code inet_add_protocol}), and the {@code Ip} MIB for {@code nstat}. Stopping this bundle takes
 * IPv4 away: frames of 0x0800 are then dropped and counted by the core, as Linux without IPv4 would.
 */
@Component(service = { PacketHandler.class, PernetOperations.class, SnmpMib.class, Ipv4Protocol.class, Ipv4.class,
        org.modnet.api.net.PacketOffload.class }, immediate = true, property = {
        PacketHandler.ETHERTYPE + ":Integer=2048", PernetOperations.ORDER + ":Integer=10" })
public final class Ipv4Protocol implements PacketHandler, PernetOperations, SnmpMib, Ipv4, org.modnet.api.net.PacketOffload {
    private final Map<NetNamespace, Ipv4Net> nets = new ConcurrentHashMap<>();
    private final Map<Integer, InetProtocol> protocols = new ConcurrentHashMap<>();
    private final NetCore core;
    private final NeighbourTable neighbours;
    private final NfHooks hooks = new NfHooks();
    private final Ipv4Gso gso;

    @Activate
    public Ipv4Protocol(@Reference NetCore core, @Reference NeighbourTable neighbours) {
        this.core = core;
        this.neighbours = neighbours;
        this.gso = new Ipv4Gso(core);
        // arp_error_report: packets that waited for a neighbour that never answered
        neighbours.setUnreachable(skb -> {
            Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
            if (net != null) {
                net.mib.inc(Ipv4Mib.Counter.OutDiscards);
                net.icmp.sendError(skb, Icmp.DEST_UNREACH, 1, 0); // host unreachable, to the sender
            }
            skb.free();
        });
    }

    /** IPv4's state in a namespace, or null. */
    Ipv4Net net(NetNamespace ns) {
        return nets.get(ns);
    }

    @Override
    public void init(NetNamespace ns) {
        Ipv4Net net = new Ipv4Net(ns, core, neighbours, hooks);
        net.gso = gso;
        protocols.forEach(net.input::addProtocol);
        nets.put(ns, net);
    }

    @Override
    public void exit(NetNamespace ns) {
        Ipv4Net net = nets.remove(ns);
        if (net != null) {
            net.exit();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addProtocol(InetProtocol protocol, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            protocols.put(n.intValue(), protocol);
            nets.values().forEach(net -> net.input.addProtocol(n.intValue(), protocol));
        }
    }

    public void removeProtocol(InetProtocol protocol, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            protocols.remove(n.intValue(), protocol);
            boolean handOver = protocol.handingOver(); // its next version takes over: hold its packets meanwhile
            nets.values().forEach(net -> {
                if (handOver) {
                    net.input.holdFor(n.intValue());
                }
                net.input.removeProtocol(n.intValue(), protocol);
            });
        }
    }

    /** {@code inet_add_offload}: a transport protocol's part of software segmentation, by its number. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addOffload(org.modnet.api.inet.InetOffload offload, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            gso.add(n.intValue(), offload);
        }
    }

    public void removeOffload(org.modnet.api.inet.InetOffload offload, Map<String, Object> props) {
        if (props.get(InetProtocol.PROTOCOL) instanceof Number n) {
            gso.remove(n.intValue(), offload);
        }
    }

    /** {@code inet_gso_segment}, offered to the core for ethertype 0x0800 ({@code ip_packet_offload}). */
    @Override
    public int gsoSegment(SkBuff skb, long features, java.util.function.Consumer<SkBuff> out) {
        return gso.segment(skb, features, out);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addHook(org.modnet.api.netfilter.NfHookFunction fn, Map<String, Object> props) {
        org.modnet.api.netfilter.NfHook hook = org.modnet.api.netfilter.NfHook.valueOf(
                String.valueOf(props.get(org.modnet.api.netfilter.NfHookFunction.HOOK)));
        int priority = props.get(org.modnet.api.netfilter.NfHookFunction.PRIORITY) instanceof Number n ? n.intValue() : 0;
        hooks.add(hook, priority, fn);
    }

    void removeHook(org.modnet.api.netfilter.NfHookFunction fn) {
        hooks.remove(fn);
    }

    /** {@code ip_rcv} for a frame of ethertype 0x0800. */
    @Override
    public void receive(SkBuff skb, NetDevice dev) {
        Ipv4Net net = nets.get(dev.namespace());
        if (net == null) {
            dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1); // namespace coming or going
            skb.free();
            return;
        }
        net.input.rcv(skb, dev);
    }

    @Override
    public String mib() {
        return "Ip";
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return Map.of();
        }
        Map<String, Long> all = new java.util.LinkedHashMap<>(net.mib.snapshot());
        all.putAll(net.icmp.mib.snapshot());
        return all;
    }

    // --- what the transport protocols use (Ipv4) ---

    @Override
    public OutputRoute route(NetNamespace ns, int daddr) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return new OutputRoute(null, 0, Errno.ENETUNREACH);
        }
        Ipv4Output.Decision d = net.output.route(daddr);
        return new OutputRoute(d.dev(), d.src(), d.error());
    }

    @Override
    public Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            skb.free();
            return Errno.ENETUNREACH;
        }
        return net.output.send(skb, saddr, daddr, protocol, ttl, tos, false);
    }

    @Override
    public Errno send(NetNamespace ns, SkBuff skb, int saddr, int daddr, int protocol, int ttl, int tos,
            boolean dontFragment) {
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            skb.free();
            return Errno.ENETUNREACH;
        }
        return net.output.send(skb, saddr, daddr, protocol, ttl, tos, dontFragment);
    }

    @Override
    public AddressType addressType(NetNamespace ns, int addr) {
        if (addr == 0) {
            return AddressType.ANY;
        }
        if ((addr >>> 24) == 127) {
            return AddressType.LOCAL;
        }
        if ((addr & 0xf0000000) == 0xe0000000) {
            return AddressType.MULTICAST;
        }
        Ipv4Net net = nets.get(ns);
        if (net == null) {
            return addr == -1 ? AddressType.BROADCAST : AddressType.UNICAST;
        }
        return switch (net.classify(addr, null)) {
            case LOCAL -> AddressType.LOCAL;
            case BROADCAST -> AddressType.BROADCAST;
            default -> AddressType.UNICAST;
        };
    }

    @Override
    public void sendIcmpError(SkBuff skb, int type, int code, int info) {
        Ipv4Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net != null) {
            net.icmp.sendError(skb, type, code, info);
        }
    }

    @Override
    public int[] localPortRange(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net == null ? new int[] { 32768, 60999 } : net.localPortRange.get();
    }

    @Override
    public boolean forwarding(NetNamespace ns) {
        Ipv4Net net = nets.get(ns);
        return net != null && net.ipForward.get() == 1;
    }
}

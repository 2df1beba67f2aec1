package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;

/** {@link RouteTable} over each namespace's FIB: what {@code ip route} reads and changes. */
@Component(service = RouteTable.class, immediate = true, configurationPolicy = ConfigurationPolicy.IGNORE)
public final class RouteService implements RouteTable {
    private final Ipv4Protocol ipv4;

    @Activate
    public RouteService(@Reference Ipv4Protocol ipv4) {
        this.ipv4 = ipv4;
    }

    private Ipv4Net net(NetNamespace ns) throws NetException {
        Ipv4Net net = ipv4.net(ns);
        if (net == null) {
            throw new NetException(Errno.EAFNOSUPPORT, "no IPv4 in namespace " + ns.name());
        }
        return net;
    }

    @Override
    public List<RouteEntry> routes(NetNamespace ns) {
        Ipv4Net net = ipv4.net(ns);
        List<RouteEntry> all = new ArrayList<>();
        if (net != null) {
            for (RouteEntry r : net.fib.routes()) {
                all.add(r);
            }
        }
        return all;
    }

    @Override
    public void add(NetNamespace ns, RouteEntry e, boolean replace) throws NetException {
        add(ns, FibRule.MAIN, e, replace);
    }

    @Override
    public List<RouteEntry> routes(NetNamespace ns, long table) throws NetException {
        Ipv4Net net = ipv4.net(ns);
        Ipv4Fib t = net == null ? null : net.rules.table(table);
        if (t == null) {
            if (table == FibRule.LOCAL) {
                return List.of(); // always there in Linux; the routes of modnet's own addresses are not kept in it
            }
            throw new NetException(Errno.ENOENT, "ipv4: FIB table does not exist");
        }
        return t.routes();
    }

    @Override
    public List<Long> tables(NetNamespace ns) {
        Ipv4Net net = ipv4.net(ns);
        return net == null ? List.of() : net.rules.tableIds();
    }

    @Override
    public void delete(NetNamespace ns, long table, int prefix, int len, int metric) throws NetException {
        Ipv4Fib t = net(ns).rules.table(table);
        if (t == null) {
            throw new NetException(Errno.ESRCH);
        }
        t.delete(prefix, len, metric);
    }

    @Override
    public List<FibRule> rules(NetNamespace ns) {
        Ipv4Net net = ipv4.net(ns);
        return net == null ? FibRule.defaults() : net.rules.rules();
    }

    @Override
    public void addRule(NetNamespace ns, FibRule rule) throws NetException {
        net(ns).rules.add(rule);
    }

    @Override
    public void deleteRule(NetNamespace ns, FibRule selector) throws NetException {
        net(ns).rules.delete(selector);
    }

    @Override
    public void add(NetNamespace ns, long table, RouteEntry e, boolean replace) throws NetException {
        if (e.len() < 0 || e.len() > 32) {
            throw new NetException(Errno.EINVAL);
        }
        if (e.type().equals("unicast") && e.dev() == null) {
            throw new NetException(Errno.ENODEV, "a unicast route needs a device (dev) or a reachable gateway (via)");
        }
        if (e.dev() != null && e.dev().namespace() != ns) {
            throw new NetException(Errno.ENODEV);
        }
        Ipv4Net net = net(ns);
        (table == FibRule.MAIN ? net.fib : net.rules.tableOrNew(table)).add(new RouteEntry(e.type(), e.prefix() & FibTrie.mask(e.len()), e.len(), e.gateway(), e.dev(), e.src(),
                e.metric(), e.protocol(), e.scope(), e.features()), replace);
    }

    @Override
    public void delete(NetNamespace ns, int prefix, int len, int metric) throws NetException {
        net(ns).fib.delete(prefix, len, metric);
    }

    @Override
    public Decision get(NetNamespace ns, int address) throws NetException {
        return get(ns, address, Flow.NONE);
    }

    /**
     * {@code inet_rtm_getroute}: an output route ({@code ip_route_output_key}) for the flow, or with
     * {@code iif} an input one ({@code ip_route_input}: a packet from that device, which needs
     * forwarding on: EHOSTUNREACH without it, as {@code ip_route_input_slow} answers).
     */
    @Override
    public Decision get(NetNamespace ns, int address, Flow flow) throws NetException {
        Ipv4Net net = net(ns);
        if (net.output.isLocal(address)) {
            Ipv4Output.Decision d = net.output.route(address);
            if (d.error() != null) {
                throw new NetException(d.error());
            }
            return new Decision(address, new RouteEntry("local", address, 32, 0, d.dev(), d.src(), 0, "kernel", "host"), d.nextHop(),
                    d.src(), FibRule.LOCAL);
        }
        long[] table = { FibRule.MAIN };
        boolean input = flow.iif() != null;
        RouteEntry r = net.rules.lookup(address, flow.saddr(), input ? flow.iif().ifindex() : FibRules.LOOPBACK_IFINDEX,
                flow.oif() == null ? 0 : flow.oif().ifindex(), flow.mark(), flow.tos(), flow.protocol(), flow.sport(), flow.dport(), table);
        Errno e = Ipv4Output.error(r);
        if (input && (e != null || net.ipForward.get() == 0)) {
            throw new NetException(e == null || net.ipForward.get() == 0 ? Errno.EHOSTUNREACH : e);
        }
        if (e != null) {
            throw new NetException(e);
        }
        int nextHop = r.gateway() != 0 ? r.gateway() : address;
        int src = flow.saddr() != 0 ? flow.saddr()
                : r.src() != 0 ? r.src() : org.modnet.api.inet.Ipv4Addresses.select(r.dev(), nextHop, true);
        return new Decision(address, r, nextHop, src, table[0]);
    }

    @Override
    public PmtuException exception(NetNamespace ns, int address) {
        Ipv4Net net = ipv4.net(ns);
        if (net == null) {
            return null;
        }
        long now = net.core.nanoTime() / 1_000_000;
        int mtu = net.pmtu.exception(address, now);
        return mtu == 0 ? null : new PmtuException(mtu, net.pmtu.expiresIn(address, now), net.pmtu.locked(address, now));
    }

    @Override
    public void flushCache(NetNamespace ns) {
        Ipv4Net net = ipv4.net(ns);
        if (net != null) {
            net.pmtu.flush();
            net.redirects.flush();
        }
    }

    @Override
    public RouteEntry lookup(NetNamespace ns, int daddr) {
        Ipv4Net net = ipv4.net(ns);
        // through the rules (bpf_fib_lookup's own keys beyond the destination are not passed here);
        // the FIB keeps the API's own records: nothing to copy
        return net == null ? null : net.rules.output(daddr, 0, 0, 0, 0, 0, 0, 0);
    }
}

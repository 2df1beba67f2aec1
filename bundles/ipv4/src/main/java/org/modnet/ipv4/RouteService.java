package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.RouteEntry;
import org.modnet.api.inet.RouteTable;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@link RouteTable} over each namespace's FIB: what {@code ip route} reads and changes. */
@Component(service = RouteTable.class, immediate = true)
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
        if (e.len() < 0 || e.len() > 32) {
            throw new NetException(Errno.EINVAL);
        }
        if (e.type().equals("unicast") && e.dev() == null) {
            throw new NetException(Errno.ENODEV, "a unicast route needs a device (dev) or a reachable gateway (via)");
        }
        if (e.dev() != null && e.dev().namespace() != ns) {
            throw new NetException(Errno.ENODEV);
        }
        net(ns).fib.add(new RouteEntry(e.type(), e.prefix() & FibTrie.mask(e.len()), e.len(), e.gateway(), e.dev(), e.src(),
                e.metric(), e.protocol(), e.scope()), replace);
    }

    @Override
    public void delete(NetNamespace ns, int prefix, int len, int metric) throws NetException {
        net(ns).fib.delete(prefix, len, metric);
    }

    @Override
    public Decision get(NetNamespace ns, int address) throws NetException {
        Ipv4Net net = net(ns);
        Ipv4Output.Decision d = net.output.route(address);
        if (d.error() != null) {
            throw new NetException(d.error());
        }
        RouteEntry r = net.fib.lookup(address);
        RouteEntry route = r != null && r.dev() == d.dev() ? r
                : new RouteEntry("local", address, 32, 0, d.dev(), d.src(), 0, "kernel", "host");
        return new Decision(address, route, d.nextHop(), d.src());
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
        return net == null ? null : net.fib.lookup(daddr); // the FIB keeps the API's own records: nothing to copy
    }
}

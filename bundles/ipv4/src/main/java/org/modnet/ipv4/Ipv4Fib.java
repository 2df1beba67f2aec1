package org.modnet.ipv4;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlMessage;

/**
 * One of a namespace's routing tables on the FIB trie. In the main table ({@code RT_TABLE_MAIN}) the
 * kernel's own routes (connected networks of the addresses of devices that are up) are remade
 * whenever the namespace's addresses or devices change; routes added by hand stay (in every table,
 * while their device is in the namespace). Lookups take the lowest metric of the longest prefix.
 */
final class Ipv4Fib {
    /** Routes of one prefix in the order of their metric: a class, not a method reference, as the adoption of a live update sorts with it. */
    private static final class ByMetric implements Comparator<RouteEntry> {
        @Override
        public int compare(RouteEntry a, RouteEntry b) {
            return Integer.compare(a.metric(), b.metric());
        }
    }

    private static final Comparator<RouteEntry> BY_METRIC = new ByMetric();

    private final NetNamespace ns;
    /** The table's id ({@code tb_id}): 254 main, 253 default, or any the user named. */
    final long id;
    /** The writers' table, changed under this object's lock. */
    private final FibTrie<RouteEntry> trie = new FibTrie<>();
    private long generation = -1;
    /**
     * What lookups read, without a lock: a copy of {@link #trie} made after each change and never
     * changed after it is published (the role RCU plays for Linux's trie). A route change costs a copy
     * of the table; a lookup costs no lock and no write.
     */
    private volatile FibTrie<RouteEntry> published = new FibTrie<>();
    private volatile long publishedGeneration = -1;

    Ipv4Fib(NetNamespace ns) {
        this(ns, org.modnet.api.inet.FibRule.MAIN);
    }

    Ipv4Fib(NetNamespace ns, long id) {
        this.ns = ns;
        this.id = id;
    }

    /** {@code fib_lookup}: the route for {@code daddr}, or null (network unreachable). Takes no lock unless addresses changed. */
    RouteEntry lookup(int daddr) {
        if (ns.addressGeneration() != publishedGeneration) {
            synchronized (this) {
                refresh();
            }
        }
        List<RouteEntry> routes = published.lookup(daddr);
        return routes == null ? null : routes.get(0);
    }

    /** Publishes a copy of the writers' table for the lookups (lock held). */
    private void publish() {
        FibTrie<RouteEntry> copy = new FibTrie<>();
        for (List<RouteEntry> list : trie.lists()) {
            copy.routesOf(list.get(0).prefix(), list.get(0).len()).addAll(list);
        }
        published = copy;
        publishedGeneration = generation;
    }

    /** {@code fib_table_insert}: EEXIST if a route with the same prefix and metric exists and replace is false. */
    synchronized void add(RouteEntry r, boolean replace) throws org.modnet.api.net.NetException {
        refresh();
        List<RouteEntry> list = trie.routesOf(r.prefix(), r.len());
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).metric() == r.metric()) {
                if (!replace) {
                    throw new org.modnet.api.net.NetException(org.modnet.api.net.Errno.EEXIST);
                }
                list.remove(i);
                break;
            }
        }
        list.add(r);
        list.sort(BY_METRIC);
        publish();
        notify(Rtnetlink.RTM_NEWROUTE, r);
    }

    /** {@code fib_table_delete}: ESRCH if there is no route with that prefix (and metric, if not -1). */
    synchronized void delete(int prefix, int len, int metric) throws org.modnet.api.net.NetException {
        refresh();
        List<RouteEntry> list = trie.exact(prefix & FibTrie.mask(len), len);
        // fib_table_delete: the first route of the prefix that matches (by metric when one is given), one only
        int at = -1;
        for (int i = 0; list != null && i < list.size(); i++) {
            if (metric < 0 || list.get(i).metric() == metric) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            throw new org.modnet.api.net.NetException(org.modnet.api.net.Errno.ESRCH);
        }
        RouteEntry gone = list.remove(at);
        trie.prune(prefix & FibTrie.mask(len), len);
        publish();
        notify(Rtnetlink.RTM_DELROUTE, gone);
    }

    synchronized List<RouteEntry> routes() {
        refresh();
        List<RouteEntry> all = new ArrayList<>();
        for (List<RouteEntry> list : trie.lists()) {
            all.addAll(list);
        }
        return all;
    }

    /** Remakes the kernel's routes if addresses or devices changed since. */
    private void refresh() {
        long g = ns.addressGeneration();
        if (g == generation) {
            if (publishedGeneration != g) {
                publish();
            }
            return;
        }
        generation = g;
        // loops, not lambdas: a new version of IPv4 runs this first inside a live update, where each lambda's class would be spun
        List<RouteEntry> before = new ArrayList<>();
        List<RouteEntry> manual = new ArrayList<>();
        List<int[]> prefixes = new ArrayList<>();
        for (List<RouteEntry> list : trie.lists()) {
            for (RouteEntry r : list) {
                if ("kernel".equals(r.protocol())) {
                    before.add(r);
                } else if (r.dev() == null || ns.device(r.dev().ifindex()) == r.dev()) {
                    manual.add(r); // routes by hand stay, unless their device left the namespace
                }
            }
            prefixes.add(new int[] { list.get(0).prefix(), list.get(0).len() });
        }
        for (int[] p : prefixes) {
            trie.exact(p[0], p[1]).clear();
            trie.prune(p[0], p[1]);
        }
        for (NetDevice dev : id == org.modnet.api.inet.FibRule.MAIN ? ns.devices() : java.util.List.<NetDevice>of()) {
            if (!dev.isUp()) {
                continue;
            }
            java.util.Set<Long> subnets = new java.util.HashSet<>();
            for (IfAddress a : dev.addresses()) {
                if (!(a.address() instanceof Inet4Address v4)) {
                    continue;
                }
                int addr = org.modnet.api.inet.Ipv4Addresses.toInt(v4);
                int len = a.prefixLen();
                int prefix = addr & FibTrie.mask(len);
                if (!subnets.add((long) prefix << 8 | len)) {
                    continue; // a secondary address (fib_add_ifaddr): its primary's prefix route serves it
                }
                String scope = dev.type() == Eth.ARPHRD_LOOPBACK ? "host" : "link";
                trie.routesOf(prefix, len).add(new RouteEntry("unicast", prefix, len, 0, dev, addr, 0, "kernel", scope));
            }
        }
        List<RouteEntry> after = new ArrayList<>();
        for (List<RouteEntry> list : trie.lists()) {
            after.addAll(list);
        }
        for (RouteEntry r : manual) {
            List<RouteEntry> list = trie.routesOf(r.prefix(), r.len());
            list.add(r);
            list.sort(BY_METRIC);
        }
        publish();
        if (ns.rtnlListening(Rtnetlink.RTNLGRP_IPV4_ROUTE)) {
            // fib_del_ifaddr / fib_add_ifaddr: the kernel's routes that went, then those that came
            for (RouteEntry r : before) {
                if (!after.contains(r)) {
                    notify(Rtnetlink.RTM_DELROUTE, r);
                }
            }
            for (RouteEntry r : after) {
                if (!before.contains(r)) {
                    notify(Rtnetlink.RTM_NEWROUTE, r);
                }
            }
        }
    }

    /**
     * Remakes the kernel's routes now (not at the next lookup) when addresses or devices changed, so
     * that route listeners hear of them with the change; called by the layer's link and address listener.
     */
    synchronized void addressesChanged() {
        refresh();
    }

    private void notify(int type, RouteEntry r) {
        if (ns.rtnlListening(Rtnetlink.RTNLGRP_IPV4_ROUTE)) {
            // rtmsg_fib: the table rides with a route of any table but main (ip monitor prints "table ID")
            ns.rtnlNotify(new RtnlMessage(type, r.dev(), id == org.modnet.api.inet.FibRule.MAIN ? r
                    : new org.modnet.api.inet.TableRoute(id, r)));
        }
    }
}

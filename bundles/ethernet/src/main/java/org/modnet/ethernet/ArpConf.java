package org.modnet.ethernet;

import java.util.List;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/**
 * ARP's keys of {@code struct ipv4_devconf} in one namespace: {@code net.ipv4.conf.{all,default,DEV}.arp_*},
 * {@code proxy_arp} and {@code drop_gratuitous_arp}. Linux keeps them in devinet.c's table with IPv4's
 * other keys; modnet's ARP lives in this bundle, so it registers the keys it acts on beside IPv4's (the
 * directories are shared, the entries each layer's own). A device's directory appears when it registers,
 * follows the default until written ({@code devinet_copy_dflt_conf}), moves with a rename and goes with
 * the device; a path reads {@code all} and the device combined as {@code include/linux/inetdevice.h} says.
 */
final class ArpConf {
    static final String PREFIX = "net.ipv4.conf.";

    enum Key {
        /** {@code IN_DEV_ARP_IGNORE}: the larger of all and the device. */
        arp_ignore(true),
        /** {@code IN_DEV_ARP_ANNOUNCE}: max. */
        arp_announce(true),
        /** {@code IN_DEV_ARPFILTER}: either. */
        arp_filter(false),
        /** {@code IN_DEV_ARP_ACCEPT}: max. */
        arp_accept(true),
        /** {@code IN_DEV_ARP_NOTIFY}: max. */
        arp_notify(true),
        /** {@code IN_DEV_ORCONF(DROP_GRATUITOUS_ARP)}: either. */
        drop_gratuitous_arp(false),
        /** {@code IN_DEV_PROXY_ARP}: either. */
        proxy_arp(false);

        /** Combined as the larger value (MAXCONF), else as a boolean OR (ORCONF). */
        final boolean max;

        Key(boolean max) {
            this.max = max;
        }
    }

    private static final Key[] KEYS = Key.values();

    private record Dir(String name, IntSysctl[] values) {
        int get(Key k) {
            return values[k.ordinal()].get();
        }
    }

    private final Sysctl sysctl;
    private final Dir all;
    private final Dir dflt;
    private volatile Dir[] devs = new Dir[16];

    ArpConf(Sysctl sysctl) {
        this.sysctl = sysctl;
        IntSysctl[] a = new IntSysctl[KEYS.length];
        IntSysctl[] d = new IntSysctl[KEYS.length];
        for (Key k : KEYS) { // Linux's defaults are all 0, in all and default alike
            a[k.ordinal()] = sysctl.registerInt(PREFIX + "all." + k.name(), 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
            d[k.ordinal()] = sysctl.registerInt(PREFIX + "default." + k.name(), 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        this.all = new Dir("all", a);
        this.dflt = new Dir("default", d);
    }

    /** Every name this layer registered in the namespace: what its exit removes. */
    List<String> names() {
        List<String> out = new java.util.ArrayList<>();
        for (Dir d : new Dir[] { all, dflt }) {
            for (Key k : KEYS) {
                out.add(PREFIX + d.name + "." + k.name());
            }
        }
        for (Dir d : devs) {
            if (d != null) {
                for (Key k : KEYS) {
                    out.add(PREFIX + d.name + "." + k.name());
                }
            }
        }
        return out;
    }

    synchronized void register(NetDevice dev) {
        put(dev.ifindex(), makeDir(dev.name()));
    }

    private Dir makeDir(String name) {
        IntSysctl[] v = new IntSysctl[KEYS.length];
        for (Key k : KEYS) {
            v[k.ordinal()] = sysctl.registerInt(PREFIX + name + "." + k.name(), dflt.values[k.ordinal()],
                    Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        return new Dir(name, v);
    }

    synchronized void unregister(NetDevice dev) {
        Dir d = dir(dev.ifindex());
        if (d != null) {
            put(dev.ifindex(), null);
            drop(d);
        }
    }

    private void drop(Dir d) {
        for (Key k : KEYS) {
            sysctl.unregister(PREFIX + d.name + "." + k.name());
        }
    }

    /** NETDEV_CHANGENAME: the directory moves with the values written in it. */
    synchronized void rename(NetDevice dev) {
        Dir old = dir(dev.ifindex());
        if (old == null) {
            register(dev);
            return;
        }
        drop(old);
        Dir now = makeDir(dev.name());
        for (Key k : KEYS) {
            if (old.get(k) != dflt.get(k)) {
                try {
                    now.values[k.ordinal()].set(old.get(k));
                } catch (NetException e) {
                    // same range: cannot happen
                }
            }
        }
        put(dev.ifindex(), now);
    }

    private Dir dir(int ifindex) {
        Dir[] d = devs;
        return ifindex >= 0 && ifindex < d.length ? d[ifindex] : null;
    }

    private void put(int ifindex, Dir d) {
        Dir[] now = devs;
        Dir[] next = java.util.Arrays.copyOf(now, Math.max(now.length, Integer.highestOneBit(Math.max(1, ifindex)) << 1));
        next[ifindex] = d;
        devs = next;
    }

    /** The value ARP acts on for {@code dev}: all and the device's combined; allocates nothing. */
    int get(NetDevice dev, Key k) {
        Dir d = dev == null ? null : dir(dev.ifindex());
        int own = d != null ? d.get(k) : dflt.get(k);
        int a = all.get(k);
        return k.max ? Math.max(a, own) : (a != 0 || own != 0) ? 1 : 0;
    }
}

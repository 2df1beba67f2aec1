package org.modnet.ipv4;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/**
 * {@code struct ipv4_devconf} of one namespace ({@code net/ipv4/devinet.c}): the keys of
 * {@code net.ipv4.conf.all}, {@code net.ipv4.conf.default} and one {@code net.ipv4.conf.DEV} per device
 * that IPv4 acts on. A device's directory appears when it registers, takes the default's values, follows
 * later writes of the default until its own entry is written ({@code devinet_copy_dflt_conf}), is renamed
 * with the device and goes with it. What a packet path reads combines {@code all} and the device as
 * {@code include/linux/inetdevice.h} says for each key ({@link Combine}).
 */
final class Ipv4DevConf {
    static final String PREFIX = "net.ipv4.conf.";

    /** How {@code all} and the device's value make the one a path acts on. */
    enum Combine {
        /** {@code IN_DEV_CONF_GET}: the device's own value. */
        OWN,
        /** {@code IN_DEV_ORCONF}: on if either is on. */
        OR,
        /** {@code IN_DEV_ANDCONF}: on if both are. */
        AND,
        /** {@code IN_DEV_MAXCONF}: the larger of the two. */
        MAX
    }

    /**
     * The keys IPv4 acts on, with Linux's defaults in a new namespace for {@code all} and
     * {@code default} ({@code ipv4_devconf}, {@code ipv4_devconf_dflt}) and Linux's combination.
     */
    enum Key {
        forwarding(0, 0, Combine.OWN),
        rp_filter(0, 0, Combine.MAX),
        accept_local(0, 0, Combine.OR),
        route_localnet(0, 0, Combine.OR),
        log_martians(0, 0, Combine.OR),
        /** RFC 1122 3.3.6 (802.11's "hole 196"): a unicast datagram in a link-layer broadcast or multicast is dropped. */
        drop_unicast_in_l2_multicast(0, 0, Combine.OR),
        /** {@code IN_DEV_RX_REDIRECTS}: see {@link Ipv4DevConf#acceptRedirects}. */
        accept_redirects(1, 1, Combine.OR),
        /** {@code IN_DEV_TX_REDIRECTS}. */
        send_redirects(1, 1, Combine.OR),
        /** {@code IN_DEV_SEC_REDIRECTS}. */
        secure_redirects(1, 1, Combine.OR),
        /** {@code IN_DEV_SHARED_MEDIA}. */
        shared_media(1, 1, Combine.OR);

        final int all;
        final int dflt;
        final Combine combine;

        Key(int all, int dflt, Combine combine) {
            this.all = all;
            this.dflt = dflt;
            this.combine = combine;
        }
    }

    private static final Key[] KEYS = Key.values();

    /** One directory's entries, by {@link Key} ordinal. */
    private record Dir(String name, IntSysctl[] values) {
        int get(Key k) {
            return values[k.ordinal()].get();
        }
    }

    private final Sysctl sysctl;
    private final List<String> owned;
    final Dir all;
    final Dir dflt;
    /** Each device's directory by ifindex, replaced whole on a change: the packet path reads it without a lock. */
    private volatile Dir[] devs = new Dir[16];
    private final ConcurrentHashMap<Integer, NetDevice> devices = new ConcurrentHashMap<>();

    /**
     * Registers {@code all} and {@code default}; {@code all.forwarding} is {@code net.ipv4.ip_forward}
     * (one value under two names in Linux), which its owner registers next and hands over with
     * {@link #allForwarding}. {@code owned} collects every name registered, for the layer's exit and
     * hand-over.
     */
    Ipv4DevConf(Sysctl sysctl, List<String> owned) {
        this.sysctl = sysctl;
        this.owned = owned;
        IntSysctl[] a = new IntSysctl[KEYS.length];
        IntSysctl[] d = new IntSysctl[KEYS.length];
        for (Key k : KEYS) {
            int min = k == Key.forwarding ? 0 : Integer.MIN_VALUE;
            int max = k == Key.forwarding ? 1 : Integer.MAX_VALUE;
            d[k.ordinal()] = reg(PREFIX + "default." + k.name(), k.dflt, min, max);
            if (k != Key.forwarding) {
                a[k.ordinal()] = reg(PREFIX + "all." + k.name(), k.all, min, max);
            }
        }
        this.all = new Dir("all", a);
        this.dflt = new Dir("default", d);
    }

    /** {@code net.ipv4.ip_forward}, registered with {@link #forwardChange} as its write handler. */
    void allForwarding(IntSysctl ipForward) {
        all.values[Key.forwarding.ordinal()] = ipForward;
    }

    private IntSysctl reg(String name, int value, int min, int max) {
        owned.add(name);
        return sysctl.registerInt(name, value, min, max);
    }

    /**
     * {@code inet_forward_change}: {@code all.forwarding} (or {@code ip_forward}) was written, and the
     * value is copied into {@code default} and every device, as written values.
     */
    void forwardChange(int on) {
        set(dflt.values[Key.forwarding.ordinal()], on);
        for (Dir d : devs) {
            if (d != null) {
                set(d.values[Key.forwarding.ordinal()], on);
            }
        }
    }

    private static void set(IntSysctl e, int v) {
        try {
            e.set(v);
        } catch (NetException ex) {
            // the same range as the source: cannot happen
        }
    }

    /**
     * {@code inetdev_init}: the device's directory, its values the default's. {@code forwarding} is
     * copied once (Linux's forwarding handler does not pass later writes of the default on); the others
     * follow the default until written.
     */
    synchronized void register(NetDevice dev) {
        Dir d = makeDir(dev.name());
        devices.put(dev.ifindex(), dev);
        put(dev.ifindex(), d);
    }

    private Dir makeDir(String name) {
        IntSysctl[] v = new IntSysctl[KEYS.length];
        for (Key k : KEYS) {
            String full = PREFIX + name + "." + k.name();
            owned.add(full);
            IntSysctl parent = dflt.values[k.ordinal()];
            int min = k == Key.forwarding ? 0 : Integer.MIN_VALUE;
            int max = k == Key.forwarding ? 1 : Integer.MAX_VALUE;
            v[k.ordinal()] = k == Key.forwarding ? sysctl.registerInt(full, parent.get(), min, max)
                    : sysctl.registerInt(full, parent, min, max);
        }
        return new Dir(name, v);
    }

    /** {@code inetdev_destroy}: the device's directory goes. */
    synchronized void unregister(NetDevice dev) {
        Dir d = dir(dev.ifindex());
        devices.remove(dev.ifindex());
        if (d == null) {
            return;
        }
        put(dev.ifindex(), null);
        drop(d);
    }

    private void drop(Dir d) {
        for (Key k : KEYS) {
            String full = PREFIX + d.name + "." + k.name();
            owned.remove(full);
            sysctl.unregister(full);
        }
    }

    /** NETDEV_CHANGENAME: the directory moves to the new name with the values written in it. */
    synchronized void rename(NetDevice dev) {
        Dir old = dir(dev.ifindex());
        if (old == null) {
            register(dev);
            return;
        }
        drop(old);
        Dir now = makeDir(dev.name());
        for (Key k : KEYS) {
            int v = old.get(k);
            if (k == Key.forwarding || v != dflt.get(k)) {
                set(now.values[k.ordinal()], v);
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

    /**
     * The value a path acts on for a packet on {@code dev}: {@code all} and the device's combined as
     * Linux combines this key. A device without a directory (IPv4 arrived after it and has not been
     * told yet) reads as the default. Costs two volatile reads; allocates nothing.
     */
    int get(NetDevice dev, Key k) {
        Dir d = dev == null ? null : dir(dev.ifindex());
        int own = d != null ? d.get(k) : dflt.get(k);
        int a = all.get(k);
        return switch (k.combine) {
            case OWN -> own;
            case OR -> (a != 0 || own != 0) ? 1 : 0;
            case AND -> (a != 0 && own != 0) ? 1 : 0;
            case MAX -> Math.max(a, own);
        };
    }

    /**
     * {@code IN_DEV_RX_REDIRECTS}: a device that forwards takes redirects only if all and the device
     * accept them; a host's device if either does.
     */
    boolean acceptRedirects(NetDevice dev) {
        Dir d = dev == null ? null : dir(dev.ifindex());
        int own = d != null ? d.get(Key.accept_redirects) : dflt.get(Key.accept_redirects);
        int a = all.get(Key.accept_redirects);
        return get(dev, Key.forwarding) != 0 ? a != 0 && own != 0 : a != 0 || own != 0;
    }
}

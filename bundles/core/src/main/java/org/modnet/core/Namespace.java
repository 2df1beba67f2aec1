package org.modnet.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlListener;
import org.modnet.api.net.RtnlMessage;
import org.modnet.api.net.Sysctl;

/** {@code struct net}: one namespace's devices (by index and by name) and sysctls. */
final class Namespace implements NetNamespace {
    static final String INIT_NET = "init_net";
    /** ifindex 1 is the loopback's in every namespace, as in Linux where lo registers first. */
    private static final int LOOPBACK_IFINDEX = 1;

    private final CoreEngine core;
    private final String name;
    private final SysctlTree sysctl;
    private final ConcurrentSkipListMap<Integer, NetDev> byIndex = new ConcurrentSkipListMap<>();
    private final ConcurrentHashMap<String, NetDev> byName = new ConcurrentHashMap<>();
    private int nextIfindex = LOOPBACK_IFINDEX + 1;
    private volatile long addressGeneration;
    /** {@code LINUX_MIB_BUSYPOLLRXPACKETS}: busy polling threads add to it, lock-free. */
    private final java.util.concurrent.atomic.AtomicLong busyPollRxPackets = new java.util.concurrent.atomic.AtomicLong();

    Namespace(CoreEngine core, String name) {
        this.core = core;
        this.name = name;
        this.sysctl = new SysctlTree(core.sysctlConf());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isInitNet() {
        return INIT_NET.equals(name);
    }

    @Override
    public List<NetDevice> devices() {
        return new ArrayList<>(byIndex.values());
    }

    @Override
    public NetDevice device(String devName) {
        return byName.get(devName);
    }

    @Override
    public NetDevice device(int ifindex) {
        return byIndex.get(ifindex);
    }

    @Override
    public NetDevice register(DeviceSetup setup, NetDeviceOps ops) throws NetException {
        synchronized (core.rtnl()) {
            checkName(setup.name());
            if (byName.containsKey(setup.name())) {
                throw new NetException(Errno.EEXIST);
            }
            int ifindex = pickIfindex((setup.flags() & IfFlags.LOOPBACK) != 0 ? LOOPBACK_IFINDEX : 0);
            NetDev dev = new NetDev(core, this, ifindex, setup, ops);
            byIndex.put(ifindex, dev);
            byName.put(setup.name(), dev);
            dev.checkCarrier(); // veth_newlink's netif_carrier_off: a pair is made without carrier
            core.netdevEvent(dev, 0, null);
            notifyLink(dev, Rtnetlink.RTM_NEWLINK);
            return dev;
        }
    }

    @Override
    public void unregister(NetDevice dev) {
        synchronized (core.rtnl()) {
            ((NetDev) dev).unregisterLocked();
        }
    }

    /** Adds a device moving in from another namespace; keeps its ifindex if free here. */
    int add(NetDev dev, int wanted) {
        int ifindex = pickIfindex(wanted);
        byIndex.put(ifindex, dev);
        byName.put(dev.name(), dev);
        return ifindex;
    }

    void remove(NetDev dev) {
        byIndex.remove(dev.ifindex(), dev);
        byName.remove(dev.name(), dev);
        if (!dev.addresses().isEmpty()) {
            addressesChanged();
        }
    }

    void rename(NetDev dev, String newName) throws NetException {
        if (byName.containsKey(newName)) {
            throw new NetException(Errno.EEXIST);
        }
        byName.remove(dev.name(), dev);
        byName.put(newName, dev);
    }

    private int pickIfindex(int wanted) {
        if (wanted > 0 && !byIndex.containsKey(wanted)) {
            nextIfindex = Math.max(nextIfindex, wanted + 1);
            return wanted;
        }
        while (byIndex.containsKey(nextIfindex) || nextIfindex == LOOPBACK_IFINDEX) {
            nextIfindex++;
        }
        return nextIfindex++;
    }

    /** {@code dev_valid_name}: 1 to 15 characters, none of them '/', ':' or white space. */
    static void checkName(String n) throws NetException {
        if (n == null || n.isEmpty() || n.length() > 15 || n.equals(".") || n.equals("..")) {
            throw new NetException(Errno.EINVAL, "invalid device name \"" + n + "\"");
        }
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c)) {
                throw new NetException(Errno.EINVAL, "invalid device name \"" + n + "\"");
            }
        }
    }

    @Override
    public long addressGeneration() {
        return addressGeneration;
    }

    void addressesChanged() {
        addressGeneration = addressGeneration + 1; // under RTNL
    }

    @Override
    public Sysctl sysctl() {
        return sysctl;
    }

    SysctlTree sysctlTree() {
        return sysctl;
    }

    @Override
    public NetCore core() {
        return core.api();
    }

    /** A listener and the groups it joined. */
    private record RtnlSub(int mask, RtnlListener listener) {
    }

    private static final RtnlSub[] NO_SUBS = {};
    /** Replaced whole on every change (under the lock of this array's owner), read without a lock. */
    private volatile RtnlSub[] rtnlSubs = NO_SUBS;
    /** The union of the listeners' masks: {@link #rtnlListening} is one volatile read. */
    private volatile int rtnlMask;
    /** Listeners that threw: counted, the notification goes on to the others. */
    final java.util.concurrent.atomic.LongAdder rtnlListenerErrors = new java.util.concurrent.atomic.LongAdder();

    @Override
    public AutoCloseable rtnlListen(int groupMask, RtnlListener listener) {
        java.util.Objects.requireNonNull(listener);
        RtnlSub sub = new RtnlSub(groupMask, listener);
        synchronized (byName) {
            RtnlSub[] old = rtnlSubs;
            RtnlSub[] now = java.util.Arrays.copyOf(old, old.length + 1);
            now[old.length] = sub;
            publish(now);
        }
        return () -> {
            synchronized (byName) {
                RtnlSub[] now = java.util.Arrays.stream(rtnlSubs).filter(x -> x != sub).toArray(RtnlSub[]::new);
                publish(now);
            }
        };
    }

    private void publish(RtnlSub[] now) {
        int mask = 0;
        for (RtnlSub x : now) {
            mask |= x.mask();
        }
        rtnlSubs = now;
        rtnlMask = mask;
    }

    @Override
    public boolean rtnlListening(int group) {
        return (rtnlMask & Rtnetlink.mask(group)) != 0;
    }

    @Override
    public void rtnlNotify(RtnlMessage message) {
        int bit = Rtnetlink.mask(Rtnetlink.groupOf(message.type()));
        RtnlSub[] subs = rtnlSubs;
        // the latest listener first: the stack's own listeners (the IPv4 layer's, which remakes the
        // kernel's routes) joined when the namespace was made and act after the user's sockets heard
        // the change, as Linux sends rtmsg_ifa before it calls the inetaddr notifier chain
        for (int i = subs.length - 1; i >= 0; i--) {
            RtnlSub sub = subs[i];
            if ((sub.mask() & bit) != 0) {
                try {
                    sub.listener().rtnlMessage(message);
                } catch (RuntimeException e) {
                    rtnlListenerErrors.increment();
                }
            }
        }
    }

    /** Tells link listeners the device's state ({@code rtmsg_ifinfo}); nothing is built when nobody listens. */
    void notifyLink(NetDevice dev, int type) {
        if (rtnlListening(Rtnetlink.RTNLGRP_LINK)) {
            rtnlNotify(new RtnlMessage(type, dev, null));
        }
    }

    /** Tells address listeners ({@code rtmsg_ifa}). */
    void notifyAddress(NetDevice dev, int type, IfAddress a) {
        if (rtnlListening(Rtnetlink.RTNLGRP_IPV4_IFADDR) && a.address() instanceof java.net.Inet4Address) {
            rtnlNotify(new RtnlMessage(type, dev, a));
        }
    }

    @Override
    public String toString() {
        return name;
    }

    @Override
    public long busyPollRxPackets() {
        return busyPollRxPackets.get();
    }

    /** {@code __NET_ADD_STATS(net, LINUX_MIB_BUSYPOLLRXPACKETS, work)}. */
    void addBusyPollRxPackets(int work) {
        busyPollRxPackets.getAndAdd(work);
    }
}

package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;

/** An in-memory namespace: devices in ifindex order, its own sysctls. */
final class FakeNamespace implements NetNamespace {
    final String name;
    final FakeCore core;
    final List<FakeDevice> devices = new ArrayList<>();
    final FakeSysctl sysctl = new FakeSysctl();
    int nextIndex = 1;

    FakeNamespace(String name, FakeCore core) {
        this.name = name;
        this.core = core;
    }

    /** Registers a device with the next free index, or keeps its index if it is free here (a move). */
    FakeDevice add(FakeDevice d) {
        if (d.ifindex == 0 || device(d.ifindex) != null) {
            d.ifindex = nextIndex;
        }
        nextIndex = Math.max(nextIndex, d.ifindex + 1);
        d.ns = this;
        devices.add(d);
        devices.sort(Comparator.comparingInt(FakeDevice::ifindex));
        return d;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isInitNet() {
        return name.equals("init_net");
    }

    @Override
    public List<NetDevice> devices() {
        return List.copyOf(devices);
    }

    @Override
    public NetDevice device(String n) {
        return devices.stream().filter(d -> d.name.equals(n)).findFirst().orElse(null);
    }

    @Override
    public NetDevice device(int ifindex) {
        return devices.stream().filter(d -> d.ifindex == ifindex).findFirst().orElse(null);
    }

    @Override
    public NetDevice register(DeviceSetup setup, NetDeviceOps ops) {
        throw new UnsupportedOperationException("the fake registers devices with add()");
    }

    @Override
    public void unregister(NetDevice dev) {
        devices.remove(dev);
    }

    @Override
    public Sysctl sysctl() {
        return sysctl;
    }

    @Override
    public long addressGeneration() {
        return 0;
    }

    @Override
    public NetCore core() {
        return core;
    }

    /** The rtnetlink listeners, as the core keeps them (without its lock-free publication). */
    final List<java.util.Map.Entry<Integer, org.modnet.api.net.RtnlListener>> rtnl = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public AutoCloseable rtnlListen(int groupMask, org.modnet.api.net.RtnlListener listener) {
        java.util.Map.Entry<Integer, org.modnet.api.net.RtnlListener> e = java.util.Map.entry(groupMask, listener);
        rtnl.add(e);
        return () -> rtnl.remove(e);
    }

    @Override
    public boolean rtnlListening(int group) {
        return rtnl.stream().anyMatch(e -> (e.getKey() & org.modnet.api.net.Rtnetlink.mask(group)) != 0);
    }

    @Override
    public void rtnlNotify(org.modnet.api.net.RtnlMessage m) {
        int bit = org.modnet.api.net.Rtnetlink.mask(org.modnet.api.net.Rtnetlink.groupOf(m.type()));
        rtnl.stream().filter(e -> (e.getKey() & bit) != 0).forEach(e -> e.getValue().rtnlMessage(m));
    }
}

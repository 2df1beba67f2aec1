package org.modnet.drivers.vxlan;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * VXLAN (RFC 7348, {@code drivers/net/vxlan/}): {@code ip link add vx0 type vxlan id 42 remote ADDR
 * dstport 4789 [dev DEV]} makes an Ethernet device whose frames travel in UDP datagrams over modnet's
 * UDP/IPv4 to the remote end, behind an 8-byte header carrying the VNI. Each device has its own UDP
 * socket on {@code dstport} in its namespace (Linux shares one per port among VNIs; here a second
 * device on the same port and namespace is refused, EADDRINUSE). Made with {@code bin/modnet-new-module
 * driver vxlan}. Stopping the bundle removes every device.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=vxlan")
public final class VxlanDriver implements LinkFactory, ModuleUsage {
    /** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14): an MTU of 1450 over a 1500 underlay. */
    static final int OVERHEAD = 50;

    private final Sockets sockets;
    private final Set<VxlanDev> devices = ConcurrentHashMap.newKeySet();

    @Activate
    public VxlanDriver(@Reference Sockets sockets) {
        this.sockets = sockets;
    }

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        VxlanConfig cfg = VxlanConfig.parse(ns, args);
        SocketCalls calls = sockets.process("vxlan/" + name, ns.name());
        if (calls == null) {
            throw new NetException(Errno.ENODEV, "vxlan: no namespace " + ns.name());
        }
        int fd = calls.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0);
        int r = fd < 0 ? fd : calls.bind(fd, new SockAddr(cfg.local(), cfg.dstport()));
        if (r == 0) { // the receiver looks up from its wait each second, to see the device go
            r = calls.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, 1, 0);
        }
        if (r < 0) {
            calls.close();
            Errno e = Errno.of(-r);
            throw new NetException(e == null ? Errno.EINVAL : e, "vxlan: UDP port " + cfg.dstport() + ": " + SocketCalls.strerror(r));
        }
        VxlanDev vx = new VxlanDev(cfg, calls, fd, devices);
        NetDevice dev;
        try {
            dev = ns.register(setup(name), vx);
        } catch (NetException e) {
            calls.close();
            throw e;
        }
        devices.add(vx);
        vx.start(dev);
        return dev;
    }

    /** {@code vxlan_setup}: Ethernet, no offloads (the stack segments and checksums first), MTU less the overhead. */
    private static DeviceSetup setup(String name) {
        DeviceSetup e = DeviceSetup.ether(name, "vxlan").withQdisc("noqueue").withFeatures(Map.of(), Set.of());
        return new DeviceSetup(e.name(), e.kind(), e.type(), e.flags(), 1500 - OVERHEAD, 68, 65535 - OVERHEAD, e.address(),
                e.broadcast(), e.txQueueLen(), e.qdisc(), e.rxQueues(), e.maxRxQueues(), e.rxRing(), e.rxRingMax(), e.txRing(),
                e.txRingMax(), e.features(), e.fixedFeatures());
    }

    /** The devices made and still registered. */
    int devices() {
        return devices.size();
    }

    /** lsmod's "Used by": the devices this driver made; rmmod refuses while there are any (rmmod -f removes them). */
    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, devices.size());
    }

    @Deactivate
    void deactivate() {
        for (VxlanDev vx : devices.toArray(new VxlanDev[0])) {
            vx.unregister();
        }
    }
}

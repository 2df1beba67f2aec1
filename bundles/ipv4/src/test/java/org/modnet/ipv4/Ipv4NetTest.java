package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.core.StandaloneCore;
import org.modnet.ipv4.Ipv4Input.Destination;

/** Where a destination leads on input: ours, a broadcast of one of our subnets, or someone else's. */
class Ipv4NetTest {
    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 64, () -> 0L);
        NetNamespace ns = stack.core().addNamespace("h");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.open();
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks());
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
    }

    private static int ip(String a) throws Exception {
        return org.modnet.api.inet.Ipv4Addresses.toInt((java.net.Inet4Address) InetAddress.getByName(a));
    }

    @Test
    void theSubnetBroadcastIsABroadcastEvenWithoutBrd() throws Exception {
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 16, null, "global", "eth0"));
        assertEquals(Destination.LOCAL, net.classify(ip("10.0.0.2"), eth0));
        assertEquals(Destination.BROADCAST, net.classify(ip("10.0.255.255"), eth0), "ip addr add 10.0.0.2/16 makes broadcast 10.0.255.255");
        assertEquals(Destination.OTHER, net.classify(ip("10.0.255.254"), eth0));
        assertEquals(Destination.OTHER, net.classify(ip("10.1.255.255"), eth0), "another subnet's broadcast is not ours");
    }

    @Test
    void aSlash31OrSlash32HasNoSubnetBroadcast() throws Exception {
        eth0.addAddress(new IfAddress(InetAddress.getByName("192.168.1.0"), 31, null, "global", "eth0"));
        eth0.addAddress(new IfAddress(InetAddress.getByName("192.168.2.7"), 32, null, "global", "eth0"));
        assertEquals(Destination.OTHER, net.classify(ip("192.168.1.1"), eth0), "RFC 3021: both /31 addresses are hosts");
        assertEquals(Destination.OTHER, net.classify(ip("192.168.2.8"), eth0));
    }
}

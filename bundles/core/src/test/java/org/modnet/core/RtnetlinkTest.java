package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.RtnlMessage;

/** The core's rtnetlink notifications: what {@code ip monitor link address} hears from device changes. */
class RtnetlinkTest {
    private final CoreEngine core = TestDevices.manualCore(1);
    private final NetNamespace ns = core.initNet();
    private final List<String> heard = new ArrayList<>();

    @AfterEach
    void tearDown() {
        core.shutdown();
    }

    private AutoCloseable listen(int groups) {
        return ns.rtnlListen(groups, m -> heard.add(describe(m)));
    }

    private static String describe(RtnlMessage m) {
        String what = switch (m.type()) {
            case Rtnetlink.RTM_NEWLINK -> "NEWLINK";
            case Rtnetlink.RTM_DELLINK -> "DELLINK";
            case Rtnetlink.RTM_NEWADDR -> "NEWADDR";
            case Rtnetlink.RTM_DELADDR -> "DELADDR";
            default -> "type " + m.type();
        };
        // the link's state is read in the listener, as iproute2 reads the message
        String state = m.body() instanceof IfAddress a ? a.address().getHostAddress() : m.dev().isUp() + " mtu " + m.dev().mtu();
        return what + " " + m.dev().name() + " " + state;
    }

    @Test
    void nobodyListensUntilAGroupIsJoinedAndAfterItIsLeft() throws Exception {
        assertFalse(ns.rtnlListening(Rtnetlink.RTNLGRP_NEIGH));
        AutoCloseable sub = listen(Rtnetlink.mask(Rtnetlink.RTNLGRP_NEIGH));
        assertTrue(ns.rtnlListening(Rtnetlink.RTNLGRP_NEIGH));
        assertFalse(ns.rtnlListening(Rtnetlink.RTNLGRP_LINK));
        sub.close();
        assertFalse(ns.rtnlListening(Rtnetlink.RTNLGRP_NEIGH));
    }

    @Test
    void deviceChangesAreToldInOrderWithTheStateAfterEach() throws Exception {
        listen(Rtnetlink.mask(Rtnetlink.RTNLGRP_LINK) | Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_IFADDR));
        NetDevice dev = ns.register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        dev.open();
        dev.setMtu(1400);
        dev.setMtu(1400); // no change, no message
        dev.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        dev.setAddress(MacAddress.parse("02:00:00:00:00:99"));
        dev.close();
        dev.setName("wan0");
        ns.unregister(dev);
        assertEquals(List.of("NEWLINK eth0 false mtu 1500", "NEWLINK eth0 true mtu 1500", "NEWLINK eth0 true mtu 1400",
                "NEWADDR eth0 10.0.0.1", "NEWLINK eth0 true mtu 1400", "NEWLINK eth0 false mtu 1400", "NEWLINK wan0 false mtu 1400",
                "DELADDR wan0 10.0.0.1", "DELLINK wan0 false mtu 1400"), heard);
    }

    @Test
    void aListenerHearsOnlyItsGroupsAndOneThatThrowsDoesNotStopTheOthers() throws Exception {
        ns.rtnlListen(Rtnetlink.ALL_GROUPS, m -> {
            throw new IllegalStateException("a broken listener");
        });
        listen(Rtnetlink.mask(Rtnetlink.RTNLGRP_IPV4_IFADDR));
        NetDevice dev = ns.register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        dev.open();
        dev.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        dev.removeAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        assertEquals(List.of("NEWADDR eth0 10.0.0.1", "DELADDR eth0 10.0.0.1"), heard);
        assertEquals(4, ((Namespace) ns).rtnlListenerErrors.sum(), "register, open and the two addresses: each failure counted");
    }

    /** One end of a pair as veth is: the other end is its link, and it has carrier while that end is up. */
    private static final class PairEnd implements org.modnet.api.net.NetDeviceOps {
        NetDevice other;

        @Override
        public org.modnet.api.net.TxResult startXmit(org.modnet.api.skb.SkBuff skb, NetDevice dev) {
            skb.free();
            return org.modnet.api.net.TxResult.OK;
        }

        @Override
        public NetDevice link(NetDevice dev) {
            return other;
        }

        @Override
        public boolean carrier(NetDevice dev) {
            return other != null && other.isUp();
        }
    }

    @Test
    void carrierChangesCountAsLinuxsVethAndLoCountThem() throws Exception {
        PairEnd pa = new PairEnd();
        PairEnd pb = new PairEnd();
        NetDevice v1 = ns.register(DeviceSetup.ether("v1", "veth"), pb);
        NetDevice v0 = ns.register(DeviceSetup.ether("v0", "veth"), pa);
        pa.other = v1;
        pb.other = v0;
        NetDevice plain = ns.register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        long[][] seen = new long[5][];
        seen[0] = new long[] { v0.carrierChanges(), v1.carrierChanges() };
        v0.open();
        seen[1] = new long[] { v0.carrierChanges(), v1.carrierChanges() };
        v1.open();
        seen[2] = new long[] { v0.carrierChanges(), v1.carrierChanges() };
        v1.close();
        seen[3] = new long[] { v0.carrierChanges(), v1.carrierChanges() };
        v0.close();
        seen[4] = new long[] { v0.carrierChanges(), v1.carrierChanges() };
        // Linux 6.18's /sys/class/net/v{0,1}/carrier_changes after the same steps: 1 1, 1 1, 2 2, 3 3, 3 3
        long[][] linux = { { 1, 1 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 3, 3 } };
        for (int i = 0; i < linux.length; i++) {
            assertEquals(java.util.Arrays.toString(linux[i]), java.util.Arrays.toString(seen[i]), "step " + i);
        }
        plain.open();
        plain.close();
        assertEquals(0, plain.carrierChanges(), "a device whose driver always has carrier (lo) never counts");
    }
}

package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;

/** Devices, namespaces and sysctls as rtnetlink and procfs present them. */
class DevicesTest {
    private final CoreEngine core = TestDevices.manualCore(2);

    @AfterEach
    void tearDown() {
        core.shutdown();
        assertEquals(0, core.pool().inUse(), "every skb went back to the pool");
    }

    @Test
    void receiveQueuesSpreadOverTheSoftirqCpus() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test").withQueues(1, 4),
                new TestDevices.RecordingDriver());
        dev.open();
        dev.setRxQueues(4);
        Set<Integer> cpus = new HashSet<>();
        for (int q = 0; q < 4; q++) {
            cpus.add(dev.rxQueue(q).cpu());
        }
        assertEquals(Set.of(0, 1), cpus, "four queues over two softirq threads");
        core.addHandler(Eth.ETH_P_IP, (skb, d) -> skb.free());
        for (int i = 0; i < 100; i++) {
            dev.rxQueue(i % 4).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, 64));
        }
        while (core.softirq(0).netRxAction() | core.softirq(1).netRxAction()) {
            // both CPUs drain their queues
        }
        for (int q = 0; q < 4; q++) {
            assertEquals(25L, dev.ethtoolStats().get("rx_queue_" + q + "_packets"));
        }
        assertEquals(100, core.softnetStats().get(0).processed() + core.softnetStats().get(1).processed());
        assertThrows(NetException.class, () -> dev.setRxQueues(5));
    }

    /**
     * A driver without {@code set_channels} (afpacket: its queues are packet sockets in a fanout group)
     * refuses {@code ethtool -L}: EOPNOTSUPP whatever the count, before anything changes, the queues as they were.
     */
    @Test
    void aDriverWithoutSetChannelsKeepsItsQueues() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test").withQueues(2, 2), new org.modnet.api.net.NetDeviceOps() {
            @Override
            public org.modnet.api.net.TxResult startXmit(org.modnet.api.skb.SkBuff skb, NetDevice d) {
                skb.free();
                return org.modnet.api.net.TxResult.OK;
            }

            @Override
            public void setChannels(NetDevice d, int combined) throws NetException {
                throw new NetException(Errno.EOPNOTSUPP);
            }
        });
        NetException e = assertThrows(NetException.class, () -> dev.setRxQueues(1));
        assertEquals(Errno.EOPNOTSUPP, e.errno());
        assertEquals(2, dev.rxQueues(), "both queues stay");
        // the count it has: refused all the same, as ethnl_set_channels refuses such a driver before looking at counts
        assertEquals(Errno.EOPNOTSUPP, assertThrows(NetException.class, () -> dev.setRxQueues(2)).errno());
        assertEquals(2, dev.rxQueues());
    }

    @Test
    void aSecondDeviceWithTheSameNameIsRefusedWithEexist() throws Exception {
        core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        NetException e = assertThrows(NetException.class,
                () -> core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver()));
        assertEquals(Errno.EEXIST, e.errno());
    }

    @Test
    void badDeviceNamesAreRefused() {
        for (String bad : new String[] { "", "a/b", "with space", "sixteen-chars-xx", "a:1" }) {
            NetException e = assertThrows(NetException.class,
                    () -> core.initNet().register(DeviceSetup.ether(bad, "test"), new TestDevices.RecordingDriver()), bad);
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void mtuOutsideTheDeviceRangeIsRefusedAndNothingChanges() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        NetException e = assertThrows(NetException.class, () -> dev.setMtu(70000));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("mtu greater than device maximum", e.getMessage());
        assertEquals(1500, dev.mtu());
        dev.setMtu(9000);
        assertEquals(9000, dev.mtu());
    }

    @Test
    void flagsShowUpAndCarrierOnlyWhileTheDeviceIsUp() throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        assertEquals("DOWN", dev.operState());
        assertEquals(0, dev.flags() & (IfFlags.UP | IfFlags.LOWER_UP));
        dev.open();
        assertEquals(IfFlags.UP | IfFlags.RUNNING | IfFlags.LOWER_UP, dev.flags() & (IfFlags.UP | IfFlags.RUNNING | IfFlags.LOWER_UP));
        assertEquals("UP", dev.operState());
        assertEquals(java.util.List.of("BROADCAST", "MULTICAST", "UP", "LOWER_UP"), IfFlags.names(dev.flags()));
    }

    @Test
    void aDeviceMovesToAnotherNamespaceDownAndWithoutItsAddresses() throws Exception {
        NetNamespace blue = core.addNamespace("blue");
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        dev.open();
        dev.addAddress(new IfAddress(InetAddress.getByAddress(new byte[] { 10, 0, 0, 1 }), 24, null, "global", "eth0"));
        int ifindex = dev.ifindex();

        dev.setNamespace(blue);

        assertNull(core.initNet().device("eth0"));
        assertEquals(dev, blue.device("eth0"));
        assertEquals(ifindex, dev.ifindex(), "the index is kept when it is free there");
        assertFalse(dev.isUp());
        assertTrue(dev.addresses().isEmpty());
    }

    @Test
    void deletingANamespaceUnregistersItsDevicesAndNamesAreUnique() throws Exception {
        NetNamespace blue = core.addNamespace("blue");
        assertEquals(Errno.EEXIST, assertThrows(NetException.class, () -> core.addNamespace("blue")).errno());
        NetDevice dev = blue.register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        core.deleteNamespace("blue");
        assertNull(core.namespace("blue"));
        assertEquals(Errno.ENODEV, assertThrows(NetException.class, dev::open).errno());
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> core.deleteNamespace("blue")).errno());
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> core.deleteNamespace("init_net")).errno());
    }

    @Test
    void sysctlsAreTypedRangedAndPerNamespace() throws Exception {
        NetNamespace blue = core.addNamespace("blue");
        blue.sysctl().set("net.core.rmem_max", "1048576");
        assertEquals("1048576", blue.sysctl().get("net.core.rmem_max"));
        assertEquals("212992", core.initNet().sysctl().get("net.core.rmem_max"), "init_net keeps its own");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> blue.sysctl().set("net.core.dev_weight", "0")).errno());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> blue.sysctl().set("net.core.dev_weight", "x")).errno());
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> blue.sysctl().get("net.core.nope")).errno());
        assertEquals("64", blue.sysctl().all().get("net.core.dev_weight"));
        assertEquals("64", blue.sysctl().get("net/core/dev_weight"), "slashes as in /proc/sys");
    }

    @Test
    void aDeviceThatIsDownDropsWhatItIsAskedToSendAndCountsIt() throws Exception {
        TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test"), driver);
        var skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
        skb.dev(dev);
        core.devQueueXmit(skb);
        assertEquals(1, dev.stats().get(DeviceStats.Field.TX_DROPPED));
        assertTrue(driver.sent.isEmpty());
    }

    @Test
    void pfifoFastHoldsTxqueuelenFramesWhileTheDriverIsBusyAndDropsTheRest() throws Exception {
        TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();
        NetDevice dev = TestDevices.ether(core, "eth0", driver);
        dev.setTxQueueLen(10);
        driver.busy = true;
        for (int i = 0; i < 15; i++) {
            var skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
            skb.dev(dev);
            core.devQueueXmit(skb);
        }
        assertEquals(10, dev.qdiscBacklog());
        assertEquals(5L, dev.ethtoolStats().get("tx_qdisc_drops"));
        driver.busy = false;
        ((NetDev) dev).wakeQueue();
        assertEquals(10, driver.sent.size(), "the queue drains once the driver has room");
        assertEquals(0, dev.qdiscBacklog());
        driver.freeAll();
    }

    @Test
    void theNetdeviceNotifierHearsOfEveryDeviceComingGoingRenamedOrMoving() throws Exception {
        java.util.List<String> events = new java.util.ArrayList<>();
        core.initNet().register(DeviceSetup.ether("eth0", "test"), new TestDevices.RecordingDriver());
        core.addPernet(new org.modnet.api.net.PernetOperations() {
            @Override
            public void init(NetNamespace ns) {
            }

            @Override
            public void exit(NetNamespace ns) {
            }

            @Override
            public void netdevRegister(NetDevice dev) {
                events.add("register " + dev.name() + "@" + dev.namespace().name());
            }

            @Override
            public void netdevUnregister(NetDevice dev) {
                events.add("unregister " + dev.name() + "@" + dev.namespace().name());
            }

            @Override
            public void netdevChangeName(NetDevice dev, String oldName) {
                events.add("rename " + oldName + " " + dev.name());
            }
        }, 10);
        assertEquals(java.util.List.of("register eth0@init_net"), events, "devices already there are replayed");
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth1", "test"), new TestDevices.RecordingDriver());
        dev.setName("wan0");
        NetNamespace blue = core.addNamespace("blue");
        dev.setNamespace(blue);
        blue.unregister(dev);
        assertEquals(java.util.List.of("register eth0@init_net", "register eth1@init_net", "rename eth1 wan0",
                "unregister wan0@init_net", "register wan0@blue", "unregister wan0@blue"), events);
    }

    @Test
    void aSysctlThatFollowsItsParentReadsItUntilWritten() throws Exception {
        var s = core.initNet().sysctl();
        var parent = s.registerInt("net.test.default.x", 5, 0, 100);
        var child = s.registerInt("net.test.eth0.x", parent, 0, 100);
        parent.set(7);
        assertEquals(7, child.get());
        assertEquals("7", s.get("net.test.eth0.x"));
        s.set("net.test.eth0.x", "3");
        parent.set(9);
        assertEquals(3, child.get(), "written: its own from now on");
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> s.set("net.test.eth0.x", "101")).errno());
    }
}

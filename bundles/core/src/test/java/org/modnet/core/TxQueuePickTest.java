package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.skb.SkBuff;

/** {@code netdev_pick_tx}: which transmit queue a frame goes to. */
class TxQueuePickTest {
    private final CoreEngine core = TestDevices.manualCore(1);
    private final TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();

    @AfterEach
    void stop() {
        driver.freeAll();
        core.shutdown();
    }

    private NetDevice device(int txQueues) throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether("eth0", "test").withQueues(1, 8), driver);
        dev.setTxQueues(txQueues);
        dev.open();
        return dev;
    }

    /** A UDP/IPv4 frame of the flow 10.0.0.1:{@code sport} -> 10.0.0.2:53. */
    private SkBuff udp(NetDevice dev, int sport) {
        SkBuff skb = TestDevices.frame(core.pool(), MacAddress.BROADCAST, Eth.ETH_P_IP, 60);
        int ip = skb.data() + Eth.ETH_HLEN;
        skb.setU8(ip, 0x45);
        skb.setU8(ip + 9, 17);
        skb.setU32(ip + 12, 0x0a000001);
        skb.setU32(ip + 16, 0x0a000002);
        skb.setU16(ip + 20, sport);
        skb.setU16(ip + 22, 53);
        skb.dev(dev);
        return skb;
    }

    private int send(NetDevice dev, int sport) {
        core.devQueueXmit(udp(dev, sport));
        return driver.sent.get(driver.sent.size() - 1).queueMapping();
    }

    @Test
    void aFlowStaysOnOneQueueAndFlowsSpreadOverAll() throws Exception {
        NetDevice dev = device(4);
        assertEquals(4, dev.txQueues());
        Map<Integer, Integer> queueOf = new HashMap<>();
        Set<Integer> used = new HashSet<>();
        for (int sport = 40000; sport < 40064; sport++) {
            int q = send(dev, sport);
            assertTrue(q >= 0 && q < 4, "queue " + q);
            queueOf.put(sport, q);
            used.add(q);
        }
        for (int sport = 40000; sport < 40064; sport++) {
            assertEquals(queueOf.get(sport), send(dev, sport), "flow " + sport + " moved queue");
        }
        assertEquals(Set.of(0, 1, 2, 3), used, "64 flows use every queue");
    }

    @Test
    void aSingleQueueDeviceUsesQueueZeroWithoutHashing() throws Exception {
        NetDevice dev = device(1);
        assertEquals(0, send(dev, 40001));
        assertEquals(0, driver.sent.get(0).hash(), "no flow hash computed for one queue");
    }

    @Test
    void txQueuesOutsideOneToTheMaximumAreInvalid() throws Exception {
        NetDevice dev = device(2);
        assertEquals(8, dev.maxTxQueues());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> dev.setTxQueues(0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(NetException.class, () -> dev.setTxQueues(9)).errno());
        assertEquals(2, dev.txQueues());
    }
}

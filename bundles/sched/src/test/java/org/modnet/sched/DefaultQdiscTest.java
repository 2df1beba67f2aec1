package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.NetException;
import org.modnet.api.net.TxResult;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.skb.SkBuff;

/** {@code net.core.default_qdisc} with the sched bundle's families: what tc shows on a new device and after del. */
class DefaultQdiscTest {
    private SchedRig rig;
    private final QdiscOps fqCodel = new FqCodelOps();
    private final QdiscOps pfifo = new PfifoOps();

    @BeforeEach
    void setUp() throws Exception {
        rig = new SchedRig();
        rig.core.addQdiscFamily("fq_codel", fqCodel);
        rig.core.addQdiscFamily("pfifo", pfifo);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private void sysctl(String value) throws NetException {
        rig.core.core().initNet().sysctl().set("net.core.default_qdisc", value);
    }

    private NetDevice nic(String name) throws Exception {
        NetDevice dev = rig.core.core().initNet().register(DeviceSetup.ether(name, "test"), new NetDeviceOps() {
            @Override
            public TxResult startXmit(SkBuff skb, NetDevice d) {
                skb.free();
                return TxResult.OK;
            }
        });
        dev.open();
        return dev;
    }

    @Test
    void aNewDeviceGetsTheDefaultWithItsDefaultOptions() throws Exception {
        assertEquals(List.of("qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"),
                rig.tc("qdisc show dev eth0".replace("eth0", nic("eth0").name())));
        sysctl("fq_codel");
        nic("eth1");
        assertEquals(List.of("qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms "
                + "interval 100ms memory_limit 32Mb ecn drop_batch 64 "), rig.tc("qdisc show dev eth1"));
        sysctl("pfifo");
        NetDevice eth2 = nic("eth2");
        eth2.setTxQueueLen(500);
        assertEquals(List.of("qdisc pfifo 0: root refcnt 2 limit 1000p"), rig.tc("qdisc show dev eth2"),
                "pfifo's limit is the txqueuelen when it was made, as Linux's");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"), "veth keeps noqueue");
    }

    @Test
    void delGoesBackToTodaysDefaultAndAnUnknownNameIsRefused() throws Exception {
        NetDevice eth0 = nic("eth0");
        sysctl("fq_codel");
        rig.tc("qdisc add dev eth0 root tbf rate 1mbit burst 10kb latency 50ms");
        rig.tc("qdisc del dev eth0 root");
        assertEquals("fq_codel", eth0.qdisc());
        NetException e = assertThrows(NetException.class, () -> sysctl("sfq"));
        assertEquals(org.modnet.api.net.Errno.ENOENT, e.errno());
        assertEquals("fq_codel", rig.core.core().initNet().sysctl().get("net.core.default_qdisc"));
        rig.core.removeQdiscFamily("fq_codel", fqCodel);
        assertEquals("pfifo_fast", eth0.qdisc(), "its family gone, the device has the built-in default");
        assertEquals("pfifo_fast", rig.core.core().initNet().sysctl().get("net.core.default_qdisc"));
    }
}

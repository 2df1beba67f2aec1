package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.skb.SkBuff;
import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * A tc bpf filter across an update of the ebpf bundle, both versions played by two implementation
 * objects and the adoption carried as the xdp bundle's XdpDetach carries it: the filter moves to the
 * adopted program under the same id, which counts on in the map the old one counted in.
 */
class TcBpfHandOverTest {
    private final SchedRig rig;
    private final BpfSyscallImpl old = new BpfSyscallImpl(() -> true);
    private int received;

    TcBpfHandOverTest() throws Exception {
        Assumptions.assumeTrue(TcBpfTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        rig = new SchedRig();
        rig.tc.setBpf(new ClsBpfObjects(rig.core.core(), old));
        rig.core.addHandler(Eth.ETH_P_IP, (skb, dev) -> {
            received += dev == rig.vb ? 1 : 0;
            skb.free();
        });
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private void send(int n) {
        for (int i = 0; i < n; i++) {
            rig.core.core().devQueueXmit(ip(17));
        }
        rig.advanceMillis(1);
    }

    /** An Ethernet + IPv4 frame va -> vb, protocol {@code proto}, with a correct header checksum. */
    SkBuff ip(int proto) {
        int size = 14 + 20 + 8 + 22;
        SkBuff skb = rig.core.core().pool().alloc(size + 64, 64);
        int off = skb.put(size);
        MacAddress to = rig.vb.address();
        MacAddress from = rig.va.address();
        skb.setU16(off, (int) (to.bits() >>> 32));
        skb.setU32(off + 2, (int) to.bits());
        skb.setU16(off + 6, (int) (from.bits() >>> 32));
        skb.setU32(off + 8, (int) from.bits());
        skb.setU16(off + 12, Eth.ETH_P_IP);
        int nh = off + 14;
        skb.setU8(nh, 0x45);
        skb.setU8(nh + 1, 0);
        skb.setU16(nh + 2, size - 14);
        skb.setU32(nh + 4, 0);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, proto);
        skb.setU16(nh + 10, 0);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        skb.protocol(Eth.ETH_P_IP);
        skb.dev(rig.va);
        return skb;
    }

    private static long count(BpfMap m) {
        return java.nio.ByteBuffer.wrap(m.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The filter this test attached (other tests' filters may still be live in this JVM). */
    private static ClsBpf counter() {
        return ClsBpf.LIVE.stream().filter(f -> f.prog().name().equals("tc_count")).findFirst().orElseThrow();
    }

    private ClsBpf attachCounter() throws Exception {
        rig.tc("qdisc add dev vb clsact");
        rig.tc("filter add dev vb ingress bpf da obj " + TcBpfTest.build("tc_count") + " sec tc");
        send(3);
        return counter();
    }

    @Test
    void anUpdateMovesTheFilterToTheAdoptedProgramWhichCountsOnInTheSameMap() throws Exception {
        ClsBpf filter = attachCounter();
        BpfProg before = filter.prog();
        int id = before.id();
        String shown = rig.tc("filter show dev vb ingress").get(1);

        BpfSyscallImpl next = new BpfSyscallImpl();
        BpfAdoption a = next.adopt(old.handOver());
        assertTrue(new ClsBpfRebind().rebind(old, next, a) >= 1);
        a.progs().forEach(BpfProg::close); // the adopter lets go: the filter holds its own reference

        BpfProg now = filter.prog();
        assertNotSame(before, now);
        assertSame(a.prog(id), now, "the new implementation's program, under the same id");
        assertTrue(now.loaded(), "the filter keeps it loaded");
        assertFalse(before.loaded(), "the old program is unloaded");
        assertEquals(shown, rig.tc("filter show dev vb ingress").get(1), "tc shows the same filter, id and tag");
        send(2);
        assertEquals(5, count(now.maps().get(0)), "every frame counted, before and after the update");
        assertEquals(5, received);
        rig.tc("filter del dev vb ingress");
        assertFalse(now.loaded(), "deleting the filter unloads the adopted program");
    }

    @Test
    void aProgramTheNewVersionRefusedStaysOnTheOldCode() throws Exception {
        ClsBpf filter = attachCounter();
        BpfProg before = filter.prog();
        BpfAdoption refused = new BpfAdoption(List.of(), List.of(), Map.of(before.id(), "refused"), 0, 0);
        assertEquals(0, new ClsBpfRebind().rebind(old, new BpfSyscallImpl(), refused));
        assertSame(before, filter.prog());
        send(1);
        assertEquals(4, count(before.maps().get(0)));
    }
}

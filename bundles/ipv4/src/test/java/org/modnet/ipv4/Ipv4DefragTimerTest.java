package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.function.LongSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.ipv4.Ipv4Mib.Counter;

/**
 * Reassembly queues spread over every CPU's timer wheel (by IP id) all time out in
 * {@code ipfrag_time}, though the fragments are taken by a thread that is no softirq and the CPUs are
 * otherwise idle: on the wall clock with running softirq threads, and on virtual time.
 */
class Ipv4DefragTimerTest {
    private static final int LOCAL = 0x0a000001;
    private static final int PEER = 0x0a000002;
    private static final int DATAGRAMS = 2000;

    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;

    private void setUp(StandaloneCore core, int fragTimeSeconds) throws Exception {
        stack = core;
        NetNamespace ns = stack.core().addNamespace("h");
        eth0 = ns.register(DeviceSetup.ether("eth0", "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
        eth0.open();
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours(), new NfHooks());
        net.fragTime.set(fragTimeSeconds);
        net.fragHighThresh.set(16 << 20); // room for all of them
    }

    @AfterEach
    void tearDown() {
        if (net != null) {
            net.exit();
        }
        if (stack != null) {
            stack.shutdown();
        }
    }

    /** The first 8 bytes of a UDP datagram with IP id {@code id}: more fragments follow, never. */
    private SkBuff firstFragment(int id) {
        SkBuff skb = stack.core().pool().alloc(28);
        int h = skb.put(28);
        skb.setU8(h, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, 28);
        skb.setU16(h + Ipv4Header.ID, id);
        skb.setU16(h + Ipv4Header.FRAG_OFF, Ipv4Header.FLAG_MF);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, 17);
        skb.setU32(h + Ipv4Header.SADDR, PEER);
        skb.setU32(h + Ipv4Header.DADDR, LOCAL);
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        return skb;
    }

    private void burstOfFirstFragments() {
        for (int id = 0; id < DATAGRAMS; id++) {
            net.input.rcv(firstFragment(id), eth0);
        }
    }

    @Test
    void twoThousandFirstFragmentsIntoAnIdleInstanceAllTimeOutWithinIpfragTimeOnTheWallClock() throws Exception {
        setUp(StandaloneCore.threaded(2, 4096), 1);
        long start = System.nanoTime();
        burstOfFirstFragments();
        long deadline = start + 2_000_000_000L; // ipfrag_time + 1 s
        while (net.mib.get(Counter.ReasmTimeout) < DATAGRAMS && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(DATAGRAMS, net.mib.get(Counter.ReasmTimeout), "queues timed out by ipfrag_time + 1 s");
        long idle = System.nanoTime() + 200_000_000L;
        while (stack.core().pool().inUse() > 0 && System.nanoTime() < idle) {
            Thread.sleep(10);
        }
        assertEquals(0, stack.core().pool().inUse(), "every fragment freed");
    }

    @Test
    void twoThousandFirstFragmentsAllTimeOutInIpfragTimeOnVirtualTime() throws Exception {
        long[] now = { 5_000_000_000L };
        LongSupplier clock = () -> now[0];
        setUp(StandaloneCore.manual(2, 4096, clock), 30);
        burstOfFirstFragments();
        now[0] += 29_999_000_000L;
        stack.run();
        assertEquals(0, net.mib.get(Counter.ReasmTimeout), "not before ipfrag_time");
        // 30 s is 7,500 jiffies at HZ=250: the timer wheel's fourth level, whose buckets are 2,048 ms
        now[0] += 2_100_000_000L;
        stack.run();
        assertEquals(DATAGRAMS, net.mib.get(Counter.ReasmTimeout));
        assertEquals(0, stack.core().pool().inUse(), "every fragment freed");
    }
}

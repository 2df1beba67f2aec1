package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * {@code ip_route_me_harder}: a packet this host sends is routed again when a LOCAL_OUT function changed its
 * destination, both on the way through the hook and when a queue gives it back ({@code nf_reinject}'s {@code nf_reroute}).
 */
class Ipv4RouteMeHarderTest {
    private static final int FIRST = 0x0a000009; // 10.0.0.9, on eth0's subnet
    private static final int SECOND = 0x0a010009; // 10.1.0.9, on eth1's subnet

    private StandaloneCore stack;
    private Ipv4Net net;
    private NetDevice eth0;
    private NetDevice eth1;
    /** Each packet handed to the neighbour layer: its device and next hop. */
    private final List<String> out = new ArrayList<>();
    /** nat OUTPUT's DNAT in miniature: FIRST becomes SECOND; with {@code queue}, the packet is taken as NFQUEUE takes it. */
    private final class Dnat implements NfHookFunction {
        final boolean queue;
        SkBuff queued;

        Dnat(boolean queue) {
            this.queue = queue;
        }

        @Override
        public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice dev) {
            if (queue) {
                queued = skb;
                return Verdict.STOLEN;
            }
            rewrite(skb);
            return Verdict.ACCEPT;
        }
    }

    private static void rewrite(SkBuff skb) {
        int h = skb.networkHeader();
        if (Ipv4Header.daddr(skb, h) == FIRST) {
            skb.setU32(h + Ipv4Header.DADDR, SECOND);
            skb.setU16(h + Ipv4Header.CHECK, 0);
            skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, Ipv4Header.MIN_LEN));
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 256, () -> 0L);
        NetNamespace ns = stack.core().addNamespace("h");
        eth0 = device(ns, "eth0", "10.0.0.1");
        eth1 = device(ns, "eth1", "10.1.0.1");
        net = new Ipv4Net(ns, stack.core(), new NoNeighbours((skb, dev, nextHop) -> out.add(dev.name() + " " + Integer.toHexString(nextHop))), new NfHooks());
    }

    private static NetDevice device(NetNamespace ns, String name, String address) throws Exception {
        NetDevice d = ns.register(DeviceSetup.ether(name, "test"), (skb, dev) -> {
            skb.free();
            return TxResult.OK;
        });
        d.addAddress(new IfAddress(InetAddress.getByName(address), 24, null, "global", name));
        d.open();
        return d;
    }

    @AfterEach
    void tearDown() {
        net.exit();
        stack.shutdown();
        assertEquals(0, stack.core().pool().inUse(), "every buffer freed");
    }

    private SkBuff datagram() {
        SkBuff skb = stack.core().pool().alloc(8, 48);
        int d = skb.put(8);
        for (int i = 0; i < 8; i++) {
            skb.setU8(d + i, 0);
        }
        return skb;
    }

    @Test
    void aDestinationChangedInLocalOutLeavesByTheNewRoutesDevice() {
        net.hooks.add(NfHook.LOCAL_OUT, -100, new Dnat(false));
        assertNull(net.output.send(datagram(), 0, FIRST, 17, 64, 0, false));
        assertEquals(List.of("eth1 a010009"), out);
    }

    @Test
    void aQueuedPacketGivenBackWithANewDestinationIsRoutedAgain() {
        Dnat fn = new Dnat(true);
        net.hooks.add(NfHook.LOCAL_OUT, -100, fn);
        assertNull(net.output.send(datagram(), 0, FIRST, 17, 64, 0, false));
        assertEquals(List.of(), out, "held by the queue");
        rewrite(fn.queued); // the queue's consumer changed the destination in its verdict
        net.reinject(fn.queued, NfHook.LOCAL_OUT, fn, null, eth0, Verdict.ACCEPT);
        assertEquals(List.of("eth1 a010009"), out, "not out eth0, the device of the route it had when it was queued");
    }
}

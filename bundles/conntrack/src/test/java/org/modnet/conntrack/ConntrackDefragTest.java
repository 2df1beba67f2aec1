package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * nf_defrag_ipv4 on a router with IPv4 and conntrack wired as DS wires them: fragments are gathered at
 * PRE_ROUTING -400 (STOLEN while the datagram is incomplete), raw, conntrack and NAT see the whole
 * datagram and its ports, and it leaves cut again to the sizes it came in; IPv4's reassembly queue,
 * sysctls and Reasm counters are the namespace's.
 */
class ConntrackDefragTest {
    private final long[] clock = { 1_000_000_000L };
    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private NetDevice eth1;
    private Ipv4Protocol ipv4;
    private ConntrackComponent conntrack;
    /** Each packet the neighbour layer was asked to send: its length, fragment field, protocol, device. */
    private final List<int[]> sent = new ArrayList<>();
    private final List<NetDevice> sentOn = new ArrayList<>();
    /** What a raw-table function at -300 saw: each packet's length and fragment field. */
    private final List<int[]> raw = new ArrayList<>();
    /** Where {@link #receive} addresses its fragments: 10.9.0.5 behind eth1, or this host. */
    private String destination = "10.9.0.5";

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 256, () -> clock[0]);
        ns = stack.core().addNamespace("defrag18");
        eth0 = device("eth0", "10.0.1.1");
        eth1 = device("eth1", "10.0.2.1");
        ipv4 = new Ipv4Protocol(stack.core(), new Recording(), null, () -> false, Ipv4Protocol.STATE_VERSION);
        stack.addPernet(ipv4, 10);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        ns.sysctl().set("net.ipv4.ip_forward", "1");
        new org.modnet.ipv4.RouteService(ipv4).add(ns,
                new RouteEntry("unicast", ip("10.9.0.0"), 16, ip("10.0.2.2"), eth1, 0, 0, "boot", "global"), false);
        conntrack = new ConntrackComponent(stack.core(), null);
        conntrack.setIpv4(ipv4);
        stack.addPernet(conntrack, 35);
        for (ConntrackComponent.HookOps h : conntrack.hookSet()) {
            ipv4.addHook(h.fn(), Map.of(NfHookFunction.HOOK, h.hook().name(), NfHookFunction.PRIORITY, h.priority()));
        }
        NfHookFunction rawFn = (skb, hook, n, in, out) -> {
            int nh = skb.networkHeader();
            raw.add(new int[] { skb.getU16(nh + 2), skb.getU16(nh + 6) });
            return Verdict.ACCEPT;
        };
        ipv4.addHook(rawFn, Map.of(NfHookFunction.HOOK, NfHook.PRE_ROUTING.name(), NfHookFunction.PRIORITY, -300));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private NetDevice device(String name, String address) throws Exception {
        NetDevice dev = ns.register(DeviceSetup.ether(name, "test"), (skb, d) -> {
            skb.free();
            return TxResult.OK;
        });
        dev.addAddress(new IfAddress(InetAddress.getByName(address), 24, null, "global", name));
        dev.open();
        return dev;
    }

    private static int ip(String a) throws Exception {
        return Ipv4Addresses.toInt((java.net.Inet4Address) InetAddress.getByName(a));
    }

    /**
     * A fragment of UDP datagram {@code id} from 10.0.1.2:5000 to {@link #destination} port 53, 4000 bytes of IP payload
     * (8 of them the UDP header), arriving on eth0: {@code len} bytes at {@code offset}.
     */
    private void receive(int id, int offset, int len, boolean more, boolean df) throws Exception {
        SkBuff skb = stack.core().allocSkb(14 + 20 + len, 64);
        int off = skb.put(14 + 20 + len);
        long mac = eth0.address().bits();
        skb.setU16(off, (int) (mac >>> 32));
        skb.setU32(off + 2, (int) mac);
        skb.setU16(off + 6, 0x0200);
        skb.setU32(off + 8, 2);
        skb.setU16(off + 12, Eth.ETH_P_IP);
        int h = off + 14;
        for (int i = 0; i < 20 + len; i++) {
            skb.setU8(h + i, (offset + i) & 0xff);
        }
        skb.setU8(h, 0x45);
        skb.setU8(h + 1, 0);
        skb.setU16(h + 2, 20 + len);
        skb.setU16(h + 4, id);
        skb.setU16(h + 6, (offset / 8) | (more ? 0x2000 : 0) | (df ? 0x4000 : 0));
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 17);
        skb.setU16(h + 10, 0);
        skb.setU32(h + 12, ip("10.0.1.2"));
        skb.setU32(h + 16, ip(destination));
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        if (offset == 0) {
            skb.setU16(h + 20, 5000);
            skb.setU16(h + 22, 53);
            skb.setU16(h + 24, 4000);
            skb.setU16(h + 26, 0);
        }
        eth0.rxQueue(0).receive(skb);
        stack.run();
    }

    /** IPv4's {@code Ip} MIB counter {@code name} in the router's namespace. */
    private long mib(String name) {
        return ipv4.counters(ns).getOrDefault("Ip" + name, -1L);
    }

    @Test
    void fragmentsAreGatheredAt400TrackedWholeAndCutAgainToTheSizesTheyCameIn() throws Exception {
        receive(7, 0, 1480, true, false);
        receive(7, 1480, 1480, true, false);
        assertTrue(raw.isEmpty(), "STOLEN at -400 while the datagram waits: raw at -300 saw nothing");
        assertTrue(sent.isEmpty());
        assertEquals(0, conntrack.net(ns).table().entries().size());

        receive(7, 2960, 1040, false, false);
        assertEquals(1, raw.size(), "raw saw one packet, the whole datagram");
        assertEquals(4020, raw.get(0)[0]);
        assertEquals(0, raw.get(0)[1] & 0x3fff, "no fragment bits left");
        List<NfConn> flows = conntrack.net(ns).table().entries();
        assertEquals(1, flows.size());
        String line = Conntrack.line(conntrack.net(ns).table(), flows.get(0), false);
        assertTrue(line.contains("src=10.0.1.2 dst=10.9.0.5 sport=5000 dport=53"), line);

        // forwarded in the pieces it came in (frag_max_size 1500), though eth1's MTU would take 1500 too
        assertEquals(3, sent.size());
        assertEquals(List.of(1500, 1500, 1060), sent.stream().map(s -> s[0]).toList());
        assertEquals(List.of(0x2000, 0x2000 | 185, 370), sent.stream().map(s -> s[1]).toList());
        assertEquals(3L, mib("ReasmReqds"));
        assertEquals(1L, mib("ReasmOKs"));
        assertEquals(1L, mib("ForwDatagrams"));
        assertEquals(1L, mib("FragOKs"));
        assertEquals(3L, mib("FragCreates"));
    }

    @Test
    void aDatagramLeavesInPiecesNoLargerThanItsLargestFragmentEvenBelowTheMtu() throws Exception {
        for (int off = 0; off < 4000; off += 1000) {
            receive(9, off, 1000, off + 1000 < 4000, false);
        }
        assertEquals(List.of(1020, 1020, 1020, 1020), sent.stream().map(s -> s[0]).toList(),
                "cut to frag_max_size (1020), not to eth1's MTU (1500)");
        assertEquals(List.of(0x2000, 0x2000 | 125, 0x2000 | 250, 375), sent.stream().map(s -> s[1]).toList());
        assertEquals(4L, mib("ReasmReqds"));
        assertEquals(1L, mib("ReasmOKs"));
    }

    @Test
    void aDatagramForThisHostGoesUpWholeReassembledOnce() throws Exception {
        List<Integer> delivered = new ArrayList<>();
        ipv4.addProtocol(skb -> {
            delivered.add(skb.len());
            skb.free();
        }, Map.of(org.modnet.api.inet.InetProtocol.PROTOCOL, 17));
        destination = "10.0.1.1";
        for (int off = 0; off < 4000; off += 1000) {
            receive(21, off, 1000, off + 1000 < 4000, false);
        }
        assertEquals(List.of(4000), delivered, "the UDP layer got the whole datagram");
        assertEquals(1, raw.size());
        assertEquals(1, conntrack.net(ns).table().entries().size());
        assertEquals(4L, mib("ReasmReqds"));
        assertEquals(1L, mib("ReasmOKs"), "reassembled once, at -400; ip_local_deliver had nothing left to do");
        assertTrue(sent.isEmpty());
    }

    @Test
    void anIncompleteDatagramTimesOutAfterIpfragTimeWithoutAnIcmpErrorFromTheRouter() throws Exception {
        ns.sysctl().set("net.ipv4.ipfrag_time", "5");
        receive(11, 0, 1480, true, false);
        receive(11, 1480, 1480, true, false);
        for (int i = 0; i < 7_000; i += 10) {
            clock[0] += 10_000_000L;
            stack.run();
        }
        assertEquals(1L, mib("ReasmTimeout"));
        assertEquals(1L, mib("ReasmFails"));
        assertEquals(0L, mib("ReasmOKs"));
        assertTrue(sent.isEmpty(), "no time exceeded from a router (RFC 792), nothing forwarded");
        assertEquals(0, conntrack.net(ns).table().entries().size());
    }

    @Test
    void aDfDatagramWhosePiecesExceedTheNextLinkGetsFragNeededWithItsMtu() throws Exception {
        eth1.setMtu(1400);
        receive(13, 0, 1480, true, true);
        receive(13, 1480, 1480, true, true);
        receive(13, 2960, 1040, false, true);
        assertEquals(1, sent.size(), "only the ICMP error left");
        assertEquals(eth0, sentOn.get(0));
        assertEquals(1, sent.get(0)[2], "ICMP");
        assertEquals(3 << 8 | 4, sent.get(0)[3], "destination unreachable, fragmentation needed");
        assertEquals(1400, sent.get(0)[4], "the next link's MTU");
        assertEquals(1L, mib("FragFails"));
    }

    @Test
    void aNamespaceConntrackDoesNotTrackLetsFragmentsPassAsTheyCame() throws Exception {
        stack.removePernet(conntrack); // the hooks stay registered, the namespace is not conntrack's
        receive(15, 0, 1480, true, false);
        receive(15, 1480, 1480, true, false);
        assertEquals(2, raw.size(), "the fragments passed -400 as they are");
        assertEquals(List.of(1500, 1500), sent.stream().map(s -> s[0]).toList());
        assertEquals(0L, mib("ReasmReqds"));
    }

    /** A neighbour layer that records what IPv4 sends. */
    private class Recording implements NeighbourTable {
        @Override
        public void output(SkBuff skb, NetDevice dev, int nextHop) {
            int h = skb.data();
            int ihl = (skb.getU8(h) & 0xf) << 2;
            int proto = skb.getU8(h + 9);
            sent.add(new int[] { skb.getU16(h + 2), skb.getU16(h + 6), proto,
                    proto == 1 ? skb.getU16(h + ihl) : 0, proto == 1 ? skb.getU16(h + ihl + 6) : 0 });
            sentOn.add(dev);
            skb.free();
        }

        @Override
        public void setUnreachable(Unreachable handler) {
        }

        @Override
        public List<Neighbour> entries(NetNamespace n) {
            return List.of();
        }

        @Override
        public void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) {
        }

        @Override
        public void delete(NetDevice dev, int address) {
        }

        @Override
        public int flush(NetNamespace n, NetDevice devOrNull) {
            return 0;
        }

        @Override
        public Map<String, Long> stats(NetNamespace n) {
            return Map.of();
        }
    }
}

package org.modnet.ethernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * ARP's keys of {@code net.ipv4.conf.*}: a host with eth0 10.0.0.2/24 and eth1 10.0.5.1/24 gets ARP
 * frames on eth0 from 10.0.0.1; what it sends back is recorded. Routes and forwarding, which proxy_arp
 * and arp_filter ask IPv4 for, are given by the test.
 */
class ArpConfTest {
    private static final int ASKER = 0x0a000001; // 10.0.0.1
    private static final int ETH0 = 0x0a000002; // 10.0.0.2
    private static final int ETH1 = 0x0a000501; // 10.0.5.1
    private static final long ASKER_MAC = 0x02000000000aL;

    private StandaloneCore stack;
    private ArpProtocol arp;
    private NetNamespace ns;
    private NetDevice eth0;
    private NetDevice eth1;
    /** ARP frames sent: {op, spa, tpa} each. */
    private final List<int[]> out = new ArrayList<>();
    private final List<RouteEntry> routes = new ArrayList<>();
    private boolean forwarding;

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 1024, () -> 0L);
        arp = new ArpProtocol(stack.core());
        stack.addPernet(arp, 5);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        arp.inet(new Routes(), ipv4());
        ns = stack.core().addNamespace("h");
        eth0 = device("eth0", "10.0.0.2");
        eth1 = device("eth1", "10.0.5.1");
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private NetDevice device(String name, String address) throws Exception {
        NetDevice dev = ns.register(DeviceSetup.ether(name, "test"), (skb, d) -> {
            int a = skb.data() + Eth.ETH_HLEN;
            if (skb.getU16(skb.data() + 12) == Eth.ETH_P_ARP) {
                out.add(new int[] { skb.getU16(a + ArpHeader.OPER), skb.getU32(a + ArpHeader.SPA), skb.getU32(a + ArpHeader.TPA) });
            }
            skb.free();
            return TxResult.OK;
        });
        dev.open();
        dev.addAddress(new IfAddress(InetAddress.getByName(address), 24, null, "global", name));
        return dev;
    }

    private void set(String name, String value) throws Exception {
        ns.sysctl().set(name, value);
    }

    /** An ARP frame on eth0, broadcast. */
    private void arrive(int op, int sip, int tip) {
        SkBuff skb = stack.core().allocSkb(14 + ArpHeader.LEN, 64);
        int off = skb.put(14 + ArpHeader.LEN);
        skb.setU16(off, 0xffff);
        skb.setU32(off + 2, -1);
        skb.setU16(off + 6, (int) (ASKER_MAC >>> 32));
        skb.setU32(off + 8, (int) ASKER_MAC);
        skb.setU16(off + 12, Eth.ETH_P_ARP);
        int a = off + 14;
        skb.setU16(a + ArpHeader.HTYPE, ArpHeader.ARPHRD_ETHER);
        skb.setU16(a + ArpHeader.PTYPE, Eth.ETH_P_IP);
        skb.setU8(a + ArpHeader.HLEN, 6);
        skb.setU8(a + ArpHeader.PLEN, 4);
        skb.setU16(a + ArpHeader.OPER, op);
        skb.setU16(a + ArpHeader.SHA, (int) (ASKER_MAC >>> 32));
        skb.setU32(a + ArpHeader.SHA + 2, (int) ASKER_MAC);
        skb.setU32(a + ArpHeader.SPA, sip);
        skb.setU16(a + ArpHeader.THA, 0);
        skb.setU32(a + ArpHeader.THA + 2, 0);
        skb.setU32(a + ArpHeader.TPA, tip);
        eth0.rxQueue(0).receive(skb);
        stack.run();
    }

    private int replies() {
        return (int) out.stream().filter(f -> f[0] == ArpHeader.ARPOP_REPLY).count();
    }

    @Test
    void eachDeviceHasArpKeysAndAllCombinesAsLinux() throws Exception {
        assertEquals("0", ns.sysctl().get("net.ipv4.conf.eth1.arp_ignore"));
        assertEquals("0", ns.sysctl().get("net.ipv4.conf.default.proxy_arp"));
        set("net.ipv4.conf.all.arp_ignore", "1");
        set("net.ipv4.conf.eth0.arp_ignore", "2");
        assertEquals(2, arp.netFor(ns).conf.get(eth0, ArpConf.Key.arp_ignore), "arp_ignore: the larger");
        assertEquals(1, arp.netFor(ns).conf.get(eth1, ArpConf.Key.arp_ignore));
        set("net.ipv4.conf.all.arp_filter", "1");
        assertEquals(1, arp.netFor(ns).conf.get(eth1, ArpConf.Key.arp_filter), "arp_filter: either");
        ns.unregister(eth1);
        assertFalse(ns.sysctl().all().containsKey("net.ipv4.conf.eth1.arp_ignore"));
    }

    @Test
    void aDeviceMadeBeforeArpsInitOfANamespaceGetsItsKeysToo() throws Exception {
        stack.addPernet(new org.modnet.api.net.PernetOperations() { // as lo is made, first of all
            @Override
            public void init(NetNamespace n) throws org.modnet.api.net.NetException {
                n.register(DeviceSetup.ether("early0", "test"), (skb, d) -> {
                    skb.free();
                    return TxResult.OK;
                });
            }

            @Override
            public void exit(NetNamespace n) {
            }
        }, 0);
        NetNamespace other = stack.core().addNamespace("o");
        assertEquals("0", other.sysctl().get("net.ipv4.conf.early0.arp_ignore"));
    }

    @Test
    void arpIgnoreZeroAnswersForAnyOfOurAddressesOneOnlyForTheDevicesOwn() throws Exception {
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH1);
        assertEquals(1, replies(), "arp_ignore 0: eth1's address answered on eth0");
        set("net.ipv4.conf.eth0.arp_ignore", "1");
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH1);
        assertEquals(1, replies(), "arp_ignore 1: not eth0's address");
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH0);
        assertEquals(2, replies());
    }

    @Test
    void arpIgnoreTwoAnswersOnlyAnAskerOnTheTargetsSubnet() throws Exception {
        set("net.ipv4.conf.all.arp_ignore", "2");
        arrive(ArpHeader.ARPOP_REQUEST, 0x0a090909, ETH0);
        assertEquals(0, replies(), "10.9.9.9 is not on 10.0.0.0/24");
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH0);
        assertEquals(1, replies());
    }

    @Test
    void arpAnnounceChoosesTheRequestsSource() throws Exception {
        int[] spa = new int[3];
        for (int level = 0; level <= 2; level++) {
            set("net.ipv4.conf.eth0.arp_announce", String.valueOf(level));
            out.clear();
            SkBuff skb = stack.core().pool().alloc(40);
            int h = skb.put(40);
            skb.setU8(h, 0x45);
            skb.setU32(h + 12, ETH1); // the waiting packet's source: eth1's address
            skb.protocol(Eth.ETH_P_IP);
            arp.output(skb, eth0, 0x0a000009 + level);
            stack.run();
            spa[level] = out.get(0)[1];
            arp.flush(ns, null);
        }
        assertEquals(ETH1, spa[0], "0: the packet's source, one of ours");
        assertEquals(ETH0, spa[1], "1: eth1's address is not on the target's subnet");
        assertEquals(ETH0, spa[2], "2: the device's own address for the target");
    }

    @Test
    void proxyArpAnswersForAnAddressRoutedOutOfAnotherDeviceWhenForwarding() throws Exception {
        routes.add(new RouteEntry("unicast", 0x0a000700, 24, 0, eth1, 0, 0, "boot", "link"));
        forwarding = true;
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, 0x0a000705);
        assertEquals(0, replies(), "proxy_arp is off");
        set("net.ipv4.conf.eth0.proxy_arp", "1");
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, 0x0a000705);
        assertEquals(1, replies());
        assertEquals(0x0a000705, out.get(out.size() - 1)[1], "the reply speaks for the routed address");
        forwarding = false;
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, 0x0a000705);
        assertEquals(1, replies(), "no forwarding on eth0: no proxy");
    }

    @Test
    void arpFilterAnswersOnlyWhereTheRouteBackLeaves() throws Exception {
        set("net.ipv4.conf.all.arp_filter", "1");
        routes.add(new RouteEntry("unicast", 0x0a000000, 24, 0, eth1, 0, 0, "boot", "link"));
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH0);
        assertEquals(0, replies());
        assertEquals(1L, arp.stats(ns).get("arp_filter"));
        routes.clear();
        routes.add(new RouteEntry("unicast", 0x0a000000, 24, 0, eth0, 0, 0, "boot", "link"));
        arrive(ArpHeader.ARPOP_REQUEST, ASKER, ETH0);
        assertEquals(1, replies());
    }

    @Test
    void arpAcceptLetsAGratuitousArpCreateAnEntry() throws Exception {
        int other = 0x0a000007;
        arrive(ArpHeader.ARPOP_REQUEST, other, other);
        assertNull(arp.lookup(eth0, other), "arp_accept 0: unsolicited ARP makes no entry");
        set("net.ipv4.conf.eth0.arp_accept", "1");
        arrive(ArpHeader.ARPOP_REQUEST, other, other);
        assertNotNull(arp.lookup(eth0, other));
    }

    @Test
    void dropGratuitousArpDropsItAndCountsIt() throws Exception {
        set("net.ipv4.conf.eth0.arp_accept", "1");
        set("net.ipv4.conf.eth0.drop_gratuitous_arp", "1");
        arrive(ArpHeader.ARPOP_REQUEST, 0x0a000007, 0x0a000007);
        assertNull(arp.lookup(eth0, 0x0a000007));
        assertEquals(1L, arp.stats(ns).get("rcv_garp_dropped"));
        assertTrue(out.isEmpty());
    }

    @Test
    void arpNotifyAnnouncesTheAddressesOfADeviceThatComesUp() throws Exception {
        eth0.close();
        eth0.open();
        stack.run();
        assertTrue(out.isEmpty(), "arp_notify 0: nothing");
        set("net.ipv4.conf.eth0.arp_notify", "1");
        eth0.close();
        eth0.open();
        stack.run();
        assertEquals(1, out.size());
        assertEquals(List.of(ArpHeader.ARPOP_REQUEST, ETH0, ETH0), List.of(out.get(0)[0], out.get(0)[1], out.get(0)[2]),
                "a gratuitous request for eth0's address");
    }

    private org.modnet.api.inet.Ipv4 ipv4() {
        return (org.modnet.api.inet.Ipv4) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] { org.modnet.api.inet.Ipv4.class }, (p, m, args) -> {
                    if (m.getName().equals("forwarding")) {
                        return forwarding;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private final class Routes implements org.modnet.api.inet.RouteTable {
        @Override
        public List<RouteEntry> routes(NetNamespace n) {
            return routes;
        }

        @Override
        public void add(NetNamespace n, RouteEntry route, boolean replace) {
        }

        @Override
        public void delete(NetNamespace n, int prefix, int len, int metric) {
        }

        @Override
        public Decision get(NetNamespace n, int address) {
            return null;
        }
    }
}

package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;

/**
 * {@code net.ipv4.conf.{all,default,DEV}.*} and the IPv4 sysctls beside them: the directories' life with
 * their devices, how all, default and a device combine, and what each key changes on the receive path.
 * A router with eth0 10.0.1.1/24 and eth1 10.0.2.1/24; frames arrive on either.
 */
class Ipv4DevConfTest {
    private static final int ETH_P_IP = 0x0800;
    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private NetDevice eth1;
    private Ipv4Protocol ipv4;
    private Ipv4Net net;
    /** Destinations the neighbour layer was asked to send to (forwarded or answered packets). */
    private final List<Integer> sent = new ArrayList<>();
    /** ICMP messages sent: {type, code, the second word} each. */
    private final List<int[]> icmpSent = new ArrayList<>();
    private final long[] clock = { 1_000_000_000L };
    /** UDP datagrams delivered locally, by source address. */
    private final List<Integer> delivered = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 256, () -> clock[0]);
        ns = stack.core().addNamespace("r");
        ipv4 = new Ipv4Protocol(stack.core(), new Recording());
        stack.addPernet(ipv4, 10);
        stack.addHandler(ETH_P_IP, ipv4);
        eth0 = device("eth0", "10.0.1.1");
        eth1 = device("eth1", "10.0.2.1");
        ipv4.addProtocol(new InetProtocol() {
            @Override
            public void receive(SkBuff skb) {
                delivered.add(Ipv4Header.saddr(skb, skb.networkHeader()));
                skb.free();
            }
        }, Map.of(InetProtocol.PROTOCOL, 17));
        net = ipv4.net(ns);
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
        return org.modnet.api.inet.Ipv4Addresses.toInt((java.net.Inet4Address) InetAddress.getByName(a));
    }

    private String get(String name) throws NetException {
        return ns.sysctl().get(name);
    }

    private void set(String name, String value) throws NetException {
        ns.sysctl().set(name, value);
    }

    /** A UDP-numbered IPv4 packet from {@code saddr} to {@code daddr} arriving on {@code dev}. */
    private void receive(NetDevice dev, String saddr, String daddr) throws Exception {
        receive(dev, saddr, daddr, 17, new byte[8]);
    }

    /** Where the next frames are sent at layer 2: this device's address, or all ones. */
    private boolean l2Broadcast;

    /** An IPv4 packet of {@code protocol} carrying {@code payload}, arriving on {@code dev}. */
    private void receive(NetDevice dev, String saddr, String daddr, int protocol, byte[] payload) throws Exception {
        int len = 20 + payload.length;
        SkBuff skb = stack.core().allocSkb(14 + len, 64);
        int off = skb.put(14 + len);
        long mac = l2Broadcast ? 0xffffffffffffL : dev.address().bits();
        skb.setU16(off, (int) (mac >>> 32));
        skb.setU32(off + 2, (int) mac);
        skb.setU16(off + 6, 0x0200);
        skb.setU32(off + 8, 2);
        skb.setU16(off + 12, ETH_P_IP);
        int h = off + 14;
        for (int i = 0; i < 20; i += 4) {
            skb.setU32(h + i, 0);
        }
        for (int i = 0; i < payload.length; i++) {
            skb.setU8(h + 20 + i, payload[i] & 0xff);
        }
        skb.setU8(h + Ipv4Header.VERSION_IHL, 0x45);
        skb.setU16(h + Ipv4Header.TOT_LEN, len);
        skb.setU8(h + Ipv4Header.TTL, 64);
        skb.setU8(h + Ipv4Header.PROTOCOL, protocol);
        skb.setU32(h + Ipv4Header.SADDR, ip(saddr));
        skb.setU32(h + Ipv4Header.DADDR, ip(daddr));
        skb.setU16(h + Ipv4Header.CHECK, InetChecksum.checksum(skb, h, 20));
        dev.rxQueue(0).receive(skb);
        stack.run();
    }

    /** An ICMP redirect (host) to {@code gateway} quoting a UDP packet from {@code src} to {@code dst}. */
    private byte[] redirect(String gateway, String src, String dst) throws Exception {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 28);
        b.put((byte) 5).put((byte) 1).putShort((short) 0).putInt(ip(gateway));
        b.put((byte) 0x45).put((byte) 0).putShort((short) 28).putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0);
        b.putInt(ip(src)).putInt(ip(dst)).putLong(0);
        byte[] a = b.array();
        long sum = 0;
        for (int i = 0; i < a.length; i += 2) {
            sum += ((a[i] & 0xff) << 8) | (a[i + 1] & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        int c = (int) (~sum & 0xffff);
        a[2] = (byte) (c >>> 8);
        a[3] = (byte) c;
        return a;
    }

    private long counter(String name) {
        return ipv4.counters(ns).get(name);
    }

    // --- the directories ---

    @Test
    void everyDeviceGetsItsDirectoryWithLinuxDefaults() throws Exception {
        Map<String, String> all = ns.sysctl().all();
        for (String dir : List.of("all", "default", "eth0", "eth1")) {
            for (String key : List.of("forwarding", "rp_filter", "accept_local", "route_localnet", "log_martians")) {
                assertEquals("0", all.get("net.ipv4.conf." + dir + "." + key), dir + "." + key);
            }
        }
        assertEquals("1", get("net.ipv4.icmp_echo_ignore_broadcasts"));
        assertEquals("1", get("net.ipv4.icmp_ignore_bogus_error_responses"));
        assertEquals("0", get("net.ipv4.ip_nonlocal_bind"));
        assertEquals("", get("net.ipv4.ip_local_reserved_ports"));
    }

    @Test
    void aDeviceDirectoryGoesWithItsDeviceAndMovesWithARename() throws Exception {
        set("net.ipv4.conf.eth1.rp_filter", "2");
        eth1.close();
        eth1.setName("wan0");
        assertEquals("2", get("net.ipv4.conf.wan0.rp_filter"), "the written value moves with the name");
        assertThrows(NetException.class, () -> get("net.ipv4.conf.eth1.rp_filter"));
        ns.unregister(eth1);
        assertFalse(ns.sysctl().all().keySet().stream().anyMatch(n -> n.startsWith("net.ipv4.conf.wan0.")));
    }

    @Test
    void aDeviceMadeBeforeIpv4sInitOfANamespaceGetsItsDirectoryToo() throws Exception {
        stack.addPernet(new org.modnet.api.net.PernetOperations() { // as lo is made, first of all
            @Override
            public void init(NetNamespace n) throws NetException {
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
        assertEquals("0", other.sysctl().get("net.ipv4.conf.early0.rp_filter"));
    }

    @Test
    void defaultReachesDevicesUntilTheirOwnValueIsWrittenAndNewDevicesStartFromIt() throws Exception {
        set("net.ipv4.conf.eth0.log_martians", "0"); // written: eth0 keeps its own from now on
        set("net.ipv4.conf.default.log_martians", "1");
        assertEquals("1", get("net.ipv4.conf.eth1.log_martians"), "devinet_copy_dflt_conf");
        assertEquals("0", get("net.ipv4.conf.eth0.log_martians"));
        set("net.ipv4.conf.default.forwarding", "1");
        assertEquals("0", get("net.ipv4.conf.eth1.forwarding"), "default.forwarding reaches only new devices");
        NetDevice eth2 = device("eth2", "10.0.3.1");
        assertEquals("1", get("net.ipv4.conf.eth2.forwarding"));
        assertEquals("1", get("net.ipv4.conf.eth2.log_martians"));
    }

    @Test
    void writingAllForwardingOrIpForwardCopiesItIntoDefaultAndEveryDevice() throws Exception {
        set("net.ipv4.ip_forward", "1");
        assertEquals("1", get("net.ipv4.conf.all.forwarding"));
        assertEquals("1", get("net.ipv4.conf.default.forwarding"));
        assertEquals("1", get("net.ipv4.conf.eth0.forwarding"));
        assertEquals("1", get("net.ipv4.conf.eth1.forwarding"));
        set("net.ipv4.conf.eth1.forwarding", "0");
        assertEquals("1", get("net.ipv4.conf.all.forwarding"), "a device's own write leaves all alone");
        set("net.ipv4.conf.all.forwarding", "0");
        assertEquals("0", get("net.ipv4.conf.eth0.forwarding"));
        assertEquals("0", get("net.ipv4.ip_forward"));
    }

    @Test
    void allAndDeviceCombineAsLinuxDoesForEachKey() throws Exception {
        set("net.ipv4.conf.all.rp_filter", "1");
        set("net.ipv4.conf.eth0.rp_filter", "2");
        assertEquals(2, net.devconf.get(eth0, Ipv4DevConf.Key.rp_filter), "rp_filter: the larger");
        assertEquals(1, net.devconf.get(eth1, Ipv4DevConf.Key.rp_filter));
        set("net.ipv4.conf.all.accept_local", "1");
        assertEquals(1, net.devconf.get(eth1, Ipv4DevConf.Key.accept_local), "accept_local: either");
        set("net.ipv4.conf.eth0.forwarding", "1");
        assertEquals(1, net.devconf.get(eth0, Ipv4DevConf.Key.forwarding), "forwarding: the device's own");
        assertEquals(0, net.devconf.get(eth1, Ipv4DevConf.Key.forwarding));
    }

    // --- what the keys change ---

    @Test
    void forwardingIsDecidedByTheDeviceThePacketCameIn() throws Exception {
        set("net.ipv4.conf.eth0.forwarding", "1");
        receive(eth0, "10.0.1.2", "10.0.2.7");
        assertEquals(List.of(ip("10.0.2.7")), sent, "forwarded: eth0 forwards");
        receive(eth1, "10.0.2.7", "10.0.1.2");
        assertEquals(1, sent.size(), "not forwarded: eth1 does not");
        assertEquals(1L, counter("IpInAddrErrors"));
        assertEquals(1L, counter("IpForwDatagrams"));
    }

    @Test
    void strictReversePathFilterDropsASourceRoutedByAnotherDeviceAndCountsIt() throws Exception {
        new RouteService(ipv4).add(ns, new RouteEntry("unicast", ip("10.9.0.0"), 16, ip("10.0.2.2"), eth1, 0, 0, "boot", "global"), false);
        set("net.ipv4.conf.all.rp_filter", "1");
        receive(eth0, "10.9.0.5", "10.0.1.1");
        assertEquals(List.of(), delivered);
        assertEquals(1L, counter("TcpExtIPReversePathFilter"));
        receive(eth1, "10.9.0.5", "10.0.1.1");
        assertEquals(List.of(ip("10.9.0.5")), delivered, "the route back leaves by eth1: accepted there");
    }

    @Test
    void looseReversePathFilterTakesAnySourceWithARouteBackAndDropsOneWithout() throws Exception {
        new RouteService(ipv4).add(ns, new RouteEntry("unicast", ip("10.9.0.0"), 16, ip("10.0.2.2"), eth1, 0, 0, "boot", "global"), false);
        set("net.ipv4.conf.eth0.rp_filter", "2");
        receive(eth0, "10.9.0.5", "10.0.1.1");
        assertEquals(List.of(ip("10.9.0.5")), delivered);
        receive(eth0, "192.168.7.7", "10.0.1.1");
        assertEquals(1, delivered.size(), "no route back to 192.168.7.7");
        assertEquals(1L, counter("TcpExtIPReversePathFilter"));
    }

    @Test
    void oneOfOurOwnAddressesAsSourceIsMartianUnlessAcceptLocal() throws Exception {
        receive(eth0, "10.0.2.1", "10.0.1.1");
        assertEquals(List.of(), delivered);
        assertEquals(1L, net.martianSrc.get());
        // where a user sees it: /proc/net/stat/rt_cache's in_martian_src column, as Linux shows it
        List<String> rt = net.rtCache();
        assertEquals("in_martian_src", rt.get(0).split("\\s+")[7]);
        assertEquals("00000001", rt.get(1).split("\\s+")[7]);
        set("net.ipv4.conf.eth0.accept_local", "1");
        receive(eth0, "10.0.2.1", "10.0.1.1");
        assertEquals(List.of(ip("10.0.2.1")), delivered);
    }

    @Test
    void loopbackAddressesOnAnotherDeviceAreMartianUnlessRouteLocalnet() throws Exception {
        receive(eth0, "127.0.0.5", "10.0.1.1");
        assertEquals(1L, net.martianSrc.get());
        set("net.ipv4.conf.eth0.log_martians", "1"); // the kernel's words go to the log; the drop is the same
        receive(eth0, "10.0.1.2", "127.0.0.1");
        assertEquals(1L, net.martianDst.get());
        assertEquals(List.of(), delivered);
        set("net.ipv4.conf.all.route_localnet", "1");
        receive(eth0, "127.0.0.5", "10.0.1.1");
        assertEquals(List.of(ip("127.0.0.5")), delivered);
    }

    @Test
    void reservedPortsParseAndPrintAsLinuxDoes() throws Exception {
        set("net.ipv4.ip_local_reserved_ports", "9000-9002, 8080,9003");
        assertEquals("8080,9000-9003", get("net.ipv4.ip_local_reserved_ports"));
        assertTrue(ipv4.reservedPort(ns, 9001));
        assertFalse(ipv4.reservedPort(ns, 9004));
        assertThrows(NetException.class, () -> set("net.ipv4.ip_local_reserved_ports", "70000"));
        assertThrows(NetException.class, () -> set("net.ipv4.ip_local_reserved_ports", "9-3"));
        set("net.ipv4.ip_local_reserved_ports", "");
        assertFalse(ipv4.reservedPort(ns, 8080));
    }

    @Test
    void nonlocalBindIsTheNamespacesSysctl() throws Exception {
        assertFalse(ipv4.nonlocalBind(ns));
        set("net.ipv4.ip_nonlocal_bind", "1");
        assertTrue(ipv4.nonlocalBind(ns));
    }

    @Test
    void aUnicastDatagramInALinkLayerBroadcastIsDroppedWhenAsked() throws Exception {
        l2Broadcast = true;
        receive(eth0, "10.0.1.2", "10.0.1.1");
        assertEquals(1, delivered.size(), "taken by default");
        set("net.ipv4.conf.eth0.drop_unicast_in_l2_multicast", "1");
        receive(eth0, "10.0.1.2", "10.0.1.1");
        assertEquals(1, delivered.size());
        assertEquals(1L, net.unicastInL2Multicast.get());
        receive(eth0, "10.0.1.2", "10.0.1.255");
        assertEquals(2, delivered.size(), "a broadcast datagram is not concerned");
    }

    // --- ICMP redirects ---

    private void routeVia(String prefix, int len, String gateway, NetDevice dev) throws Exception {
        new RouteService(ipv4).add(ns, new RouteEntry("unicast", ip(prefix), len, ip(gateway), dev, 0, 0, "boot", "global"), false);
    }

    @Test
    void aRouterRedirectsAnOnLinkSenderWhosePacketLeavesTheWayItCameAndStillForwardsIt() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.1.254", eth0);
        set("net.ipv4.ip_forward", "1");
        receive(eth0, "10.0.1.2", "10.9.0.5");
        assertEquals(List.of(ip("10.0.1.2"), ip("10.9.0.5")), sent, "the redirect, then the packet");
        int[] r = icmpSent.get(0);
        assertEquals(List.of(5, 1, ip("10.0.1.254")), List.of(r[0], r[1], r[2]), "redirect host, to the next hop");
        assertEquals(1L, counter("IcmpOutRedirects"));
    }

    @Test
    void redirectsBackOffPerSenderAndSendRedirectsZeroSendsNone() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.1.254", eth0);
        set("net.ipv4.ip_forward", "1");
        for (int i = 0; i < 5; i++) {
            receive(eth0, "10.0.1.2", "10.9.0.5");
        }
        assertEquals(1, icmpSent.size(), "the second one only after 20 ms << 1");
        clock[0] += 30_000_000L;
        receive(eth0, "10.0.1.2", "10.9.0.5");
        assertEquals(1, icmpSent.size());
        clock[0] += 11_000_000L;
        receive(eth0, "10.0.1.2", "10.9.0.5");
        assertEquals(2, icmpSent.size());
        set("net.ipv4.conf.all.send_redirects", "0");
        set("net.ipv4.conf.eth0.send_redirects", "0");
        clock[0] += 1_000_000_000L;
        receive(eth0, "10.0.1.3", "10.9.0.5");
        assertEquals(2, icmpSent.size());
        assertEquals(8, sent.size() - icmpSent.size(), "every packet forwarded");
    }

    @Test
    void aHostTakesARedirectFromItsGatewayAndSendsByTheNewOne() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.1.254", eth0);
        receive(eth0, "10.0.1.99", "10.0.1.1", 1, redirect("10.0.1.7", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.254"), net.output.route(ip("10.9.0.5")).nextHop(), "not from our gateway: ignored");
        receive(eth0, "10.0.1.254", "10.0.1.1", 1, redirect("10.0.1.7", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.7"), net.output.route(ip("10.9.0.5")).nextHop());
        assertEquals(ip("10.0.1.254"), net.output.route(ip("10.9.0.6")).nextHop(), "for that destination only");
        assertEquals(2L, counter("IcmpInRedirects"));
        clock[0] += 301_000_000_000L;
        assertEquals(ip("10.0.1.254"), net.output.route(ip("10.9.0.5")).nextHop(), "gone after 300 s");
    }

    @Test
    void acceptRedirectsOffOnAHostIsBothOffAndOnARouterEitherOff() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.1.254", eth0);
        set("net.ipv4.conf.all.accept_redirects", "0");
        receive(eth0, "10.0.1.254", "10.0.1.1", 1, redirect("10.0.1.7", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.7"), net.output.route(ip("10.9.0.5")).nextHop(), "a host: eth0 still accepts");
        new RouteService(ipv4).flushCache(ns);
        set("net.ipv4.conf.eth0.forwarding", "1");
        receive(eth0, "10.0.1.254", "10.0.1.1", 1, redirect("10.0.1.7", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.254"), net.output.route(ip("10.9.0.5")).nextHop(), "a router: all must accept too");
    }

    @Test
    void withoutSharedMediaSecureRedirectsTakesOnlyADefaultGateway() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.1.254", eth0);
        routeVia("0.0.0.0", 0, "10.0.1.8", eth0);
        set("net.ipv4.conf.all.shared_media", "0");
        set("net.ipv4.conf.eth0.shared_media", "0");
        receive(eth0, "10.0.1.254", "10.0.1.1", 1, redirect("10.0.1.7", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.254"), net.output.route(ip("10.9.0.5")).nextHop(), "10.0.1.7 is no default gateway");
        receive(eth0, "10.0.1.254", "10.0.1.1", 1, redirect("10.0.1.8", "10.0.1.1", "10.9.0.5"));
        assertEquals(ip("10.0.1.8"), net.output.route(ip("10.9.0.5")).nextHop());
    }

    @Test
    void icmpErrorsUseInboundIfaddrAnswersFromTheDeviceThePacketCameIn() throws Exception {
        routeVia("10.9.0.0", 16, "10.0.2.2", eth1); // the sender is reached by eth1, its packet came in on eth0
        set("net.ipv4.ip_forward", "1");
        receive(eth0, "10.9.0.5", "10.0.7.7"); // no route: network unreachable
        assertEquals(ip("10.0.2.1"), icmpSent.get(0)[4], "the route's source toward the sender");
        set("net.ipv4.icmp_errors_use_inbound_ifaddr", "1");
        clock[0] += 2_000_000_000L; // past the ICMP rate limit toward that host
        receive(eth0, "10.9.0.5", "10.0.7.7");
        assertEquals(ip("10.0.1.1"), icmpSent.get(1)[4], "eth0's address");
    }

    @Test
    void anEchoToABroadcastIsIgnoredUnlessIcmpEchoIgnoreBroadcastsIsOff() throws Exception {
        byte[] echo = { 8, 0, (byte) 0xf7, (byte) 0xfe, 0, 1, 0, 0 }; // id 1 seq 0, checksum over these 8 bytes
        receive(eth0, "10.0.1.2", "10.0.1.255", 1, echo);
        assertEquals(List.of(), icmpSent);
        assertEquals(1L, counter("IcmpInErrors"));
        set("net.ipv4.icmp_echo_ignore_broadcasts", "0");
        receive(eth0, "10.0.1.2", "10.0.1.255", 1, echo);
        assertEquals(1, icmpSent.size());
        assertEquals(0, icmpSent.get(0)[0], "an echo reply");
    }

    private class Recording implements NeighbourTable {
        @Override
        public void output(SkBuff skb, NetDevice dev, int nextHop) {
            int h = skb.data();
            sent.add(Ipv4Header.daddr(skb, h));
            if (Ipv4Header.protocol(skb, h) == 1) {
                int i = h + Ipv4Header.headerLen(skb, h);
                icmpSent.add(new int[] { skb.getU8(i), skb.getU8(i + 1), skb.getU32(i + 4), nextHop, Ipv4Header.saddr(skb, h) });
            }
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

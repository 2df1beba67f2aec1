package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertTrue;
import static org.hamcrest.CoreMatchers.not;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.fail;

import java.net.InetAddress;
import java.util.List;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/** IPv4 on a real Felix: ping over lo and between two namespaces joined by veth, with ARP. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class Ipv4IT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void installHost() throws Exception {
        features.install("host");
        core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, null); // IPv4 is up
    }

    @Test
    public void pingOverLoopbackGetsEveryReply() throws Exception {
        String out = ModnetRuntime.run(processor, "ping -c 3 -i 0.05 127.0.0.1");
        assertThat(out, containsString("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."));
        assertThat(out, containsString("64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time="));
        assertThat(out, containsString("3 packets transmitted, 3 received, 0% packet loss"));
        assertThat(out, containsString("rtt min/avg/max/mdev = "));
        String netstat = ModnetRuntime.run(processor, "netstat -s");
        assertThat(netstat, containsString("Ip:\n    Forwarding: 2\n    6 total packets received"));
        assertThat(netstat, containsString("    ICMP input histogram:\n        echo replies: 3\n        echo requests: 3"));
    }

    @Test
    public void twoNamespacesJoinedByVethPingEachOtherAndLearnEachOthersAddress() throws Exception {
        NetDevice[] pair = ModnetRuntime.vethPair(context, core);
        NetDevice a = pair[0];
        NetDevice b = pair[1];
        NetNamespace ns1 = a.namespace();
        NetNamespace ns2 = b.namespace();

        String out = ModnetRuntime.run(processor, "ns1", "ping -c 3 -i 0.05 10.0.0.2");

        assertThat(out, containsString("64 bytes from 10.0.0.2: icmp_seq=3 ttl=64"));
        assertThat(out, containsString("3 packets transmitted, 3 received, 0% packet loss"));
        NeighbourTable arp = ModnetRuntime.service(context, NeighbourTable.class, null);
        Neighbour n = arp.entries(ns1).stream().filter(e -> e.address() == 0x0a000002).findFirst().orElse(null);
        assertNotNull("ns1 resolved 10.0.0.2", n);
        assertEquals(NudState.REACHABLE, n.state());
        assertEquals(b.address(), n.lladdr());
        assertThat(ModnetRuntime.run(processor, "ns1", "cat /proc/net/arp"), containsString(
                String.format("10.0.0.2         0x1         0x2         %-17s     *        %s", b.address(), a.name())));
        assertThat(ModnetRuntime.run(processor, "ns1", "cat /proc/net/route"),
                containsString(a.name() + "\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0"));
        assertThat(ModnetRuntime.run(processor, "ns2", "nstat -az 'Icmp*'"), containsString("IcmpInEchos"));
        String snmp = ModnetRuntime.run(processor, "ns1", "cat /proc/net/snmp");
        assertThat(snmp, containsString("Ip: Forwarding DefaultTTL InReceives InHdrErrors"));
        String ipValues = snmp.lines().filter(l -> l.startsWith("Ip: ") && Character.isDigit(l.charAt(4))).findFirst().orElseThrow();
        assertTrue(ipValues, ipValues.startsWith("Ip: 2 64 "));
        assertTrue("OutTransmits counts what went to the device: " + ipValues, !ipValues.endsWith(" 0"));
        String netstat = ModnetRuntime.run(processor, "ns1", "cat /proc/net/netstat");
        assertThat(netstat, containsString("IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets"));
        assertThat(ModnetRuntime.run(processor, "ns1", "nstat -az IpExtInOctets IpExtInNoECTPkts"), containsString("IpExtInNoECTPkts"));
    }

    @Test
    public void stoppingTheIpv4BundleStopsPingAndStartingItRestoresIt() throws Exception {
        org.osgi.framework.Bundle ipv4 = null;
        for (org.osgi.framework.Bundle b : context.getBundles()) {
            if ("org.modnet.ipv4".equals(b.getSymbolicName())) {
                ipv4 = b;
            }
        }
        assertNotNull(ipv4);
        assertThat(ModnetRuntime.run(processor, "ping -c 1 127.0.0.1"), containsString("1 received"));
        NetDevice lo = core.initNet().device("lo");
        long dropped = lo.stats().get(org.modnet.api.net.DeviceStats.Field.RX_DROPPED);

        ipv4.stop();
        try {
            ModnetRuntime.run(processor, "ping -c 1 127.0.0.1");
            fail("ping is gone with IPv4");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("Command not found: ping"));
        }
        ModnetRuntime.run(processor, "pktgen lo count 5 proto 0x0800");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (lo.stats().get(org.modnet.api.net.DeviceStats.Field.RX_DROPPED) < dropped + 5 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals("IPv4 frames are dropped and counted while IPv4 is away", dropped + 5,
                lo.stats().get(org.modnet.api.net.DeviceStats.Field.RX_DROPPED));

        ipv4.start();
        ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
        assertThat(ModnetRuntime.run(processor, "ping -c 1 127.0.0.1"), containsString("1 received"));
    }

    @Test
    public void pingWithoutARouteSaysTheNetworkIsUnreachable() throws Exception {
        core.addNamespace("empty");
        try {
            ModnetRuntime.run(processor, "empty", "ping -c 1 10.9.9.9");
            fail("ping must fail");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("ping: connect: Network is unreachable"));
        }
    }

    @Test
    public void noReplyFromAnAbsentNeighbourMeansFullLossAndFailure() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "veth0"));
        a.open();
        ns1.device("veth1").open(); // up, but without 10.0.0.9: nobody answers ARP
        ns1.device("lo").open(); // the error to ourselves comes back through lo, as on Linux
        String out = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -W 6 10.0.0.9");
        // three ARP requests a second apart, then the waiting packet comes back as host unreachable
        assertThat(out, containsString("From 10.0.0.1 icmp_seq=1 Destination Host Unreachable"));
        assertThat(out, containsString("1 packets transmitted, 0 received, +1 errors, 100% packet loss"));
        assertThat(out, containsString("(failed: "));
    }

    /**
     * iputils' options a user reaches for, with its words: -q (summary only), -D (a timestamp on each
     * line), -I ADDR (the source, in the header), -w DEADLINE (keeps sending until the deadline when no
     * reply comes, whatever -c says; an empty line where the rtt line goes), -O (no answer yet), grouped
     * flags (-qc2), and -b before a broadcast (refused without it).
     */
    @Test
    public void pingTakesIputilsOptions() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "veth0"));
        a.open();
        ns1.device("veth1").open(); // nobody at 10.0.0.9
        ns1.device("lo").open();

        String quiet = ModnetRuntime.run(processor, "ns1", "ping -qc2 -i 0.05 10.0.0.1");
        assertThat(quiet, not(containsString("bytes from")));
        assertThat(quiet, containsString("2 packets transmitted, 2 received, 0% packet loss"));
        assertThat(quiet, containsString("rtt min/avg/max/mdev = "));

        String stamped = ModnetRuntime.run(processor, "ns1", "ping -D -c 1 10.0.0.1");
        assertTrue(stamped, stamped.matches("(?s).*\\n\\[\\d+\\.\\d{6}\\] 64 bytes from 10\\.0\\.0\\.1: icmp_seq=1 .*"));

        String from = ModnetRuntime.run(processor, "ns1", "ping -c 1 -I 10.0.0.1 127.0.0.1");
        assertThat(from, containsString("PING 127.0.0.1 (127.0.0.1) from 10.0.0.1 : 56(84) bytes of data."));
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -I 10.9.9.9 127.0.0.1"),
                containsString("ping: bind: Cannot assign requested address"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -I nosuch 127.0.0.1"),
                containsString("ping: SO_BINDTODEVICE nosuch: No such device"));

        String deadline = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -w 1 -i 0.2 10.0.0.9");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) packets transmitted, 0 received").matcher(deadline);
        assertTrue(deadline, m.find());
        assertTrue("-w sends on past -c while nothing answers:\n" + deadline, Integer.parseInt(m.group(1)) >= 4);
        assertThat(deadline, containsString("100% packet loss, time "));
        assertTrue("an empty line where the rtt line goes:\n" + deadline, deadline.matches("(?s).*packet loss, time \\d+ms\\n\\n.*"));

        String outstanding = ModnetRuntime.runCapturing(processor, "ns1", "ping -O -c 2 -i 0.3 -W 0.2 10.0.0.9");
        assertThat(outstanding, containsString("no answer yet for icmp_seq=1"));

        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 10.0.0.255"),
                containsString("ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -x 10.0.0.1"), containsString("ping: invalid option -- 'x'"));
    }

    /** A —veth— R —veth— B: A 10.0.1.2/24, R 10.0.1.1/24 and 10.0.2.1/24, B 10.0.2.2/24, default routes via R. */
    private NetNamespace chain() throws Exception {
        NetNamespace nsA = core.addNamespace("A");
        NetNamespace nsR = core.addNamespace("R");
        NetNamespace nsB = core.addNamespace("B");
        LinkFactory veth = ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a0 = veth.create(nsA, "eth0", List.of("peer", "name", "r0"));
        NetDevice r0 = nsA.device("r0");
        r0.setNamespace(nsR);
        NetDevice b0 = veth.create(nsB, "eth0", List.of("peer", "name", "r1"));
        NetDevice r1 = nsB.device("r1");
        r1.setNamespace(nsR);
        address(a0, "10.0.1.2");
        address(r0, "10.0.1.1");
        address(r1, "10.0.2.1");
        address(b0, "10.0.2.2");
        org.modnet.api.inet.RouteTable routes = ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
        routes.add(nsA, new org.modnet.api.inet.RouteEntry("unicast", 0, 0, 0x0a000101, a0, 0, 0, "boot", "global"), false);
        routes.add(nsB, new org.modnet.api.inet.RouteEntry("unicast", 0, 0, 0x0a000201, b0, 0, 0, "boot", "global"), false);
        nsR.sysctl().set("net.ipv4.ip_forward", "1");
        return nsR;
    }

    private static void address(NetDevice dev, String a) throws Exception {
        dev.addAddress(new IfAddress(InetAddress.getByName(a), 24, null, "global", dev.name()));
        dev.open();
    }

    @Test
    public void aHostPingsAnotherThroughARouterThatForwards() throws Exception {
        NetNamespace r = chain();
        String out = ModnetRuntime.run(processor, "A", "ping -c 3 -i 0.05 10.0.2.2");
        assertThat(out, containsString("64 bytes from 10.0.2.2: icmp_seq=1 ttl=63"));
        assertThat(out, containsString("3 packets transmitted, 3 received, 0% packet loss"));
        assertThat(ModnetRuntime.run(processor, "R", "nstat -az IpForwDatagrams"), containsString("IpForwDatagrams                 6"));
    }

    @Test
    public void aPingLargerThanTheMtuIsFragmentedAndReassembledBothWaysThroughTheRouter() throws Exception {
        chain();
        String out = ModnetRuntime.run(processor, "A", "ping -c 2 -i 0.05 -s 4000 10.0.2.2");
        assertThat(out, containsString("PING 10.0.2.2 (10.0.2.2) 4000(4028) bytes of data."));
        assertThat(out, containsString("4008 bytes from 10.0.2.2: icmp_seq=1 ttl=63"));
        assertThat(out, containsString("2 packets transmitted, 2 received, 0% packet loss"));
        String a = ModnetRuntime.run(processor, "A", "nstat -az 'Ip*'");
        assertThat(a, containsString("IpFragOKs                       2"));
        assertThat(a, containsString("IpFragCreates                   6"));
        assertThat(a, containsString("IpReasmOKs                      2"));
        assertThat(ModnetRuntime.run(processor, "B", "nstat -az IpReasmOKs"), containsString("IpReasmOKs                      2"));
        assertThat(ModnetRuntime.run(processor, "R", "nstat -az IpForwDatagrams"), containsString("IpForwDatagrams                 12"));
    }

    @Test
    public void aTtlTooSmallGetsTimeExceededFromTheRouter() throws Exception {
        chain();
        String out = runIgnoringStatus("A", "ping -c 2 -i 0.05 -W 1 -t 1 10.0.2.2");
        assertThat(out, containsString("From 10.0.1.1 icmp_seq=1 Time to live exceeded"));
        assertThat(out, containsString("0 received, +2 errors, 100% packet loss"));
    }

    @Test
    public void aDestinationTheRouterHasNoRouteForIsNetUnreachable() throws Exception {
        chain();
        String out = runIgnoringStatus("A", "ping -c 1 -W 1 10.0.3.2");
        assertThat(out, containsString("From 10.0.1.1 icmp_seq=1 Destination Net Unreachable"));
    }

    @Test
    public void withForwardingOffTheRouterDropsAndCountsSilentlyAsLinuxDoes() throws Exception {
        NetNamespace r = chain();
        r.sysctl().set("net.ipv4.ip_forward", "0");
        String out = runIgnoringStatus("A", "ping -c 2 -i 0.05 -W 1 10.0.2.2");
        assertThat(out, containsString("2 packets transmitted, 0 received, 100% packet loss"));
        assertThat(ModnetRuntime.run(processor, "R", "nstat -az IpInAddrErrors"), containsString("IpInAddrErrors                  2"));
    }

    @Test
    public void aNetfilterHookServiceSeesPacketsAtPreRoutingAndCanDropThem() throws Exception {
        chain();
        int[] seen = new int[1];
        java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
        props.put(org.modnet.api.netfilter.NfHookFunction.HOOK, "PRE_ROUTING");
        props.put(org.modnet.api.netfilter.NfHookFunction.PRIORITY, 0);
        org.osgi.framework.ServiceRegistration<?> reg = context.registerService(org.modnet.api.netfilter.NfHookFunction.class,
                (skb, hook, ns, in, out) -> {
                    if (ns.name().equals("B")) {
                        seen[0]++;
                        return org.modnet.api.netfilter.Verdict.DROP;
                    }
                    return org.modnet.api.netfilter.Verdict.ACCEPT;
                }, props);
        String out = runIgnoringStatus("A", "ping -c 2 -i 0.05 -W 1 10.0.2.2");
        assertThat(out, containsString("2 packets transmitted, 0 received, 100% packet loss"));
        assertEquals("B's PRE_ROUTING saw both echo requests", 2, seen[0]);

        reg.unregister();
        assertThat(ModnetRuntime.run(processor, "A", "ping -c 1 10.0.2.2"), containsString("1 received"));
    }

    @Test
    public void arpEntriesGoFromReachableToStaleAndBackAsTimePasses() throws Exception {
        NetNamespace r = chain();
        NetNamespace a = core.namespace("A");
        a.sysctl().set("net.ipv4.neigh.default.base_reachable_time_ms", "100");
        a.sysctl().set("net.ipv4.neigh.default.delay_first_probe_time", "0");
        NeighbourTable arp = ModnetRuntime.service(context, NeighbourTable.class, null);
        ModnetRuntime.run(processor, "A", "ping -c 1 10.0.2.2");
        assertEquals(NudState.REACHABLE, state(arp, a, 0x0a000101));

        awaitState(arp, a, 0x0a000101, NudState.STALE);
        ModnetRuntime.run(processor, "A", "ping -c 1 10.0.2.2"); // use while stale: DELAY, PROBE, answered
        awaitState(arp, a, 0x0a000101, NudState.REACHABLE);
    }

    private static NudState state(NeighbourTable arp, NetNamespace ns, int address) {
        return arp.entries(ns).stream().filter(n -> n.address() == address).map(Neighbour::state).findFirst().orElse(null);
    }

    private static void awaitState(NeighbourTable arp, NetNamespace ns, int address, NudState wanted) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (state(arp, ns, address) != wanted && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(wanted, state(arp, ns, address));
    }

    /** Runs a command whose failure status is expected, returning what it printed. */
    private String runIgnoringStatus(String ns, String line) throws Exception {
        return ModnetRuntime.runCapturing(processor, ns, line);
    }

}

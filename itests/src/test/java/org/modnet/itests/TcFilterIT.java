package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/** tc filters and actions on a real Felix through the shell, between two namespaces (issue 16). */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcFilterIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;
    private NetDevice a;
    private NetDevice b;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void setUp() throws Exception {
        features.install("host");
        core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=netem)");
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, null);
        NetDevice[] pair = ModnetRuntime.vethPair(context, core);
        a = pair[0];
        b = pair[1];
        ModnetRuntime.run(processor, "ns1", "ping -c 1 10.0.0.2"); // ARP resolved before any filter
    }

    private static int received(String pingOutput) {
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(pingOutput);
        assertTrue(pingOutput, m.find());
        return Integer.parseInt(m.group(2));
    }

    /** Sent bytes, packets, dropped, overlimits of the first "Sent" line after {@code action order}. */
    private static long[] actionStats(String show) {
        Matcher m = Pattern.compile("Sent (\\d+) bytes (\\d+) pkt \\(dropped (\\d+), overlimits (\\d+)").matcher(
                show.substring(show.indexOf("Action statistics:")));
        assertTrue(show, m.find());
        return new long[] { Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)) };
    }

    @Test
    public void u32DropAtIngressLosesExactlyTheMatchedPings() throws Exception {
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        // IPv4 total length 84: the default ping (56 bytes of data); a 100-byte ping is 128
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress protocol ip u32 match ip protocol 1 0xff match u16 84 0xffff at 2 action drop");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 5 -i 0.05 -W 1 10.0.0.2")));
        assertEquals(4, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 4 -i 0.05 -W 1 -s 100 10.0.0.2")));
        String show = ModnetRuntime.run(processor, "ns2", "tc -s filter show dev veth1 ingress");
        assertThat(show, containsString("filter protocol ip pref 49152 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 terminal flowid not_in_hw"));
        assertThat(show, containsString("  match 00010000/00ff0000 at 8"));
        assertThat(show, containsString("  match 00000054/0000ffff at 0"));
        assertThat(show, containsString("\taction order 1: gact action drop"));
        assertThat(show, containsString("\tSent 420 bytes 5 pkt (dropped 5, overlimits 0 requeues 0) "));
        assertThat(ModnetRuntime.run(processor, "ns2", "tc qdisc show dev veth1"), containsString("qdisc clsact ffff: parent ffff:fff1"));
        ModnetRuntime.run(processor, "ns2", "tc filter del dev veth1 ingress pref 49152");
        assertEquals(3, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
    }

    @Test
    public void aGotoChainDropsWhatTheOtherChainMatches() throws Exception {
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress chain 0 protocol ip matchall action goto chain 3");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress chain 3 protocol ip u32 match u16 84 0xffff at 2 action drop");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
        assertEquals(2, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.05 -W 1 -s 100 10.0.0.2")));
        assertEquals("chain parent ffff: chain 0 \nchain parent ffff: chain 3 \n", ModnetRuntime.run(processor, "ns2", "tc chain show dev veth1 ingress"));
        String three = ModnetRuntime.run(processor, "ns2", "tc -s filter show dev veth1 ingress chain 3");
        assertThat(three, containsString("filter protocol ip pref 49152 u32 fh 800::800 order 2048 key ht 800 bkt 0 terminal flowid not_in_hw"));
        assertThat(three, containsString("\tSent 252 bytes 3 pkt (dropped 3, overlimits 0 requeues 0) "));
        assertThat(ModnetRuntime.run(processor, "ns2", "tc filter show dev veth1 ingress"), containsString("\taction order 1: gact action goto chain 3"));
        ModnetRuntime.run(processor, "ns2", "tc chain del dev veth1 ingress chain 3");
        assertEquals(2, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.05 -W 1 10.0.0.2")));
    }

    @Test
    public void aSharedPolicerCountsForEveryFilterBoundToIt() throws Exception {
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc actions add action police rate 1mbit burst 10k index 1");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress prio 1 protocol ip u32 match u16 84 0xffff at 2 action police index 1");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress prio 2 protocol ip u32 match u16 128 0xffff at 2 action police index 1");
        assertEquals(3, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
        assertEquals(2, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.05 -W 1 -s 100 10.0.0.2")));
        String get = ModnetRuntime.run(processor, "ns2", "tc -s actions get action police index 1");
        assertThat(get, containsString("total acts 0\n\n\taction order 1:  police 0x1 rate 1Mbit burst 10Kb mtu 2Kb action reclassify overhead 0b \n\tref 3 bind 2\n"));
        assertThat(get, containsString("\tSent " + (3 * 84 + 2 * 128) + " bytes 5 pkt (dropped 0, overlimits 0 requeues 0) "));
        assertThat(ModnetRuntime.run(processor, "ns2", "tc actions ls action police"), containsString("total acts 1"));
    }

    @Test
    public void flowerDropAtEgressLosesIcmpButNotArp() throws Exception {
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 clsact");
        ModnetRuntime.run(processor, "ns1", "tc filter add dev veth0 egress protocol ip flower ip_proto icmp dst_ip 10.0.0.2 action drop");
        String ping = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2");
        assertEquals(ping, 0, received(ping));
        ModnetRuntime.run(processor, "ns1", "ip neigh flush dev veth0");
        ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -W 1 10.0.0.2");
        assertThat("ARP still passes the filter", ModnetRuntime.run(processor, "ns1", "ip neigh show 10.0.0.2"), containsString("lladdr"));
        String show = ModnetRuntime.run(processor, "ns1", "tc -s filter show dev veth0 egress");
        assertThat(show, containsString("  ip_proto icmp\n  dst_ip 10.0.0.2\n  not_in_hw\n"));
        long[] s = actionStats(show);
        assertEquals(show, 4, s[1]);
        assertEquals(show, 4, s[2]);
    }

    @Test
    public void mirredRedirectMovesTrafficToAnotherDevice() throws Exception {
        org.modnet.api.net.LinkFactory veth = ModnetRuntime.service(context, org.modnet.api.net.LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice c = veth.create(a.namespace(), "veth2", java.util.List.of("peer", "name", "veth3"));
        NetDevice d = a.namespace().device("veth3");
        d.setNamespace(b.namespace());
        c.open();
        d.open();
        long rxD = d.stats().get(DeviceStats.Field.RX_PACKETS);
        long rxB = b.stats().get(DeviceStats.Field.RX_PACKETS);
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 clsact");
        ModnetRuntime.run(processor, "ns1", "tc filter add dev veth0 egress protocol ip u32 match ip dst 10.0.0.2/32 action mirred egress redirect dev veth2");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 4 -i 0.05 -W 1 10.0.0.2")));
        assertEquals("the echo requests came out of veth2", rxD + 4, d.stats().get(DeviceStats.Field.RX_PACKETS));
        assertEquals("and none out of veth0", rxB, b.stats().get(DeviceStats.Field.RX_PACKETS));
        String show = ModnetRuntime.run(processor, "ns1", "tc -s filter show dev veth0 egress");
        assertThat(show, containsString("\taction order 1: mirred (Egress Redirect to device veth2) stolen"));
        assertEquals(show, 4, actionStats(show)[1]);
        ModnetRuntime.run(processor, "ns1", "tc qdisc del dev veth0 clsact");
        assertEquals(2, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.05 -W 1 10.0.0.2")));
    }

    @Test
    public void policeLimitsAFloodToItsBucketAndRate() throws Exception {
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress matchall action police rate 1mbit burst 20k conform-exceed drop/ok");
        long rx0 = b.stats().get(DeviceStats.Field.RX_PACKETS);
        long start = System.nanoTime();
        ModnetRuntime.run(processor, "ns1", "pktgen veth0 count 2000 pkt_size 1000 path tx dst_mac " + b.address());
        long[] s = null;
        long last = -1;
        for (int i = 0; i < 100; i++) { // until the counters stand still
            Thread.sleep(50);
            s = actionStats(ModnetRuntime.run(processor, "ns2", "tc -s filter show dev veth1 ingress"));
            if (s[1] == last) {
                break;
            }
            last = s[1];
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long passed = s[1] - s[2];
        // on a loaded machine veth1's ring may refuse some of the flood (rx_missed_errors): what it took met the policer
        assertEquals("every frame veth1 received met the policer", b.stats().get(DeviceStats.Field.RX_PACKETS) - rx0, s[1]);
        assertTrue("the flood outran the bucket: " + s[1], s[1] > 200 && s[2] > 0);
        assertEquals("every drop is an overlimit", s[3], s[2]);
        assertTrue("the bucket lets its burst through: " + passed, passed >= 20);
        double allowed = (20 * 1024 + 125_000 * seconds) / 986 + 1; // pktgen's 1000 bytes less the Ethernet header at ingress
        assertTrue("passed " + passed + " of " + s[1] + " in " + seconds + " s, at most " + allowed, passed <= allowed);
    }

    // --- SEC("tc") programs built by clang ---

    /** bundles/sched's test program NAME.c built by clang with {@code defines} into itests/target, or the test skips without clang. */
    private static String object(String name, String... defines) throws Exception {
        boolean clang = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        assumeTrue("needs clang and libbpf-dev (.ci/run installs them)", clang);
        Path src = ModnetRuntime.root().resolve("bundles/sched/src/test/resources/bpf/" + name + ".c");
        Path out = ModnetRuntime.root().resolve("itests/target/" + name + String.join("", defines).replaceAll("[^A-Za-z0-9]", "_") + ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("clang", "-O2", "-g", "-target", "bpf",
                "-I/usr/include/" + arch + "-linux-gnu"));
        cmd.addAll(java.util.List.of(defines));
        cmd.addAll(java.util.List.of("-c", src.toString(), "-o", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals("clang: " + log, 0, p.waitFor());
        return out.toString();
    }

    @Test
    public void aTcProgramDropsIcmpAtIngress() throws Exception {
        String obj = object("tc_drop_icmp");
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress bpf da obj " + obj + " sec tc");
        assertThat(ModnetRuntime.run(processor, "ns2", "tc filter show dev veth1 ingress"),
                containsString("direct-action not_in_hw id "));
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
        ModnetRuntime.run(processor, "ns1", "ip neigh flush dev veth0");
        ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -W 1 10.0.0.2");
        assertThat("ARP passes the program", ModnetRuntime.run(processor, "ns1", "ip neigh show 10.0.0.2"), containsString("lladdr"));
        assertThat(ModnetRuntime.run(processor, "ns2", "tc -s qdisc show dev veth1"), containsString("(dropped 4, overlimits 0 requeues 0)"));
        ModnetRuntime.run(processor, "ns2", "tc filter del dev veth1 ingress");
        assertEquals(2, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.05 -W 1 10.0.0.2")));
    }

    @Test
    public void aTcProgramRewritesAtEgressAndTheReceiverSeesACorrectChecksum() throws Exception {
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 clsact");
        ModnetRuntime.run(processor, "ns1", "tc filter add dev veth0 egress bpf da obj " + object("tc_set_tos") + " sec tc");
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress protocol ip u32 match ip tos 0x20 0xff action pass");
        assertEquals("Ipv4Input checks the header checksum: every ping got through", 5,
                received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 5 -i 0.05 -W 1 10.0.0.2")));
        String show = ModnetRuntime.run(processor, "ns2", "tc -s filter show dev veth1 ingress");
        assertEquals("every echo request arrived with TOS 0x20: " + show, 5, actionStats(show)[1]);

        // the same rewrite without bpf_l3_csum_replace: the receiver drops every request for its checksum
        ModnetRuntime.run(processor, "ns1", "tc filter replace dev veth0 egress pref 49152 handle 1 bpf da obj "
                + object("tc_set_tos", "-DNO_CSUM_FIX") + " sec tc");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
    }

    @Test
    public void tcProgramsRedirectAtIngressAndAtEgress() throws Exception {
        org.modnet.api.net.LinkFactory veth = ModnetRuntime.service(context, org.modnet.api.net.LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice c = veth.create(a.namespace(), "veth2", java.util.List.of("peer", "name", "veth3"));
        NetDevice d = a.namespace().device("veth3");
        d.setNamespace(b.namespace());
        c.open();
        d.open();
        // at egress of veth0: out of veth2, so the requests arrive on veth3 instead of veth1
        long rxD = d.stats().get(DeviceStats.Field.RX_PACKETS);
        ModnetRuntime.run(processor, "ns1", "tc qdisc add dev veth0 clsact");
        ModnetRuntime.run(processor, "ns1", "tc filter add dev veth0 egress bpf da obj "
                + object("tc_redirect", "-DTARGET_IFINDEX=" + c.ifindex()) + " sec tc");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 3 -i 0.05 -W 1 10.0.0.2")));
        assertEquals(rxD + 3, d.stats().get(DeviceStats.Field.RX_PACKETS));
        ModnetRuntime.run(processor, "ns1", "tc qdisc del dev veth0 clsact");

        // at ingress of veth1: back out of veth3, so they arrive on veth2 in ns1
        long rxC = c.stats().get(DeviceStats.Field.RX_PACKETS);
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        ModnetRuntime.run(processor, "ns2", "tc filter add dev veth1 ingress bpf da obj "
                + object("tc_redirect", "-DTARGET_IFINDEX=" + d.ifindex()) + " sec tc");
        assertEquals(0, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 4 -i 0.05 -W 1 10.0.0.2")));
        assertEquals(rxC + 4, c.stats().get(DeviceStats.Field.RX_PACKETS));
    }

    @Test
    public void aProgramTheVerifierRefusesAttachesNothing() throws Exception {
        ModnetRuntime.run(processor, "ns2", "tc qdisc add dev veth1 clsact");
        String out = ModnetRuntime.runCapturing(processor, "ns2", "tc filter add dev veth1 ingress bpf da obj " + object("tc_unchecked")
                + " sec tc");
        assertThat(out, containsString("Verifier analysis:"));
        assertThat(out, containsString("invalid access to packet"));
        assertEquals("", ModnetRuntime.run(processor, "ns2", "tc filter show dev veth1 ingress"));
        assertEquals(1, received(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 1 -W 1 10.0.0.2")));
    }
}
